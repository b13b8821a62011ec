"""The API for trainers: session URLs for OpenEnv clients, the `tasks` dataset for GRPO, rubric
manifests and an episode's reward by criterion."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from environments import selectors
from environments import services as episode_services
from environments.engine.splits import SPLITS
from environments.engine.variants import VARIANTS
from environments.models import Episode
from environments.openenv import datasets, rubrics, services
from environments.openenv.models import SessionUrl
from rlplatform.apis import paginated
from rlplatform.fields import FloatField, IntegerField
from rlplatform.models import ApiKey, ApiKeyScope, Role
from rlplatform.permissions import allow
from rlplatform.requests import client_ip
from rlplatform.services import ServiceError

# Session URLs act as the key that minted them, so only keys hold them; people have none.
AgentKeysOnly = allow(scopes=(ApiKeyScope.AGENT,), people=False)
Readers = allow(
    roles=(Role.MANAGER, Role.REVIEWER, Role.CONTRACTOR),
    scopes=(ApiKeyScope.AGENT, ApiKeyScope.EXPORT),
)


def openenv_base_url(request, env_id: str, token: str | None = None) -> str:
    """The base URL an OpenEnv client takes (it appends /ws, /reset, /health, ...)."""
    path = f"/openenv/{env_id}/s/{token}" if token else f"/openenv/{env_id}"
    return request.build_absolute_uri(path)


class SessionUrlOutput(serializers.ModelSerializer):
    environment = serializers.CharField(source="env_id")
    key = serializers.CharField(source="api_key.prefix")
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = SessionUrl
        fields = [
            "id",
            "environment",
            "name",
            "key",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "is_active",
        ]

    def get_is_active(self, session_url: SessionUrl) -> bool:
        return not session_url.is_revoked and not session_url.is_expired


class SessionUrlListApi(APIView):
    """Session URLs: what OpenEnv clients that send no headers connect to. Minted by an agent
    key, they act as that key until they expire or are revoked."""

    permission_classes = [AgentKeysOnly]

    class SessionUrlCreateInput(serializers.Serializer):
        environment = serializers.CharField(max_length=64, help_text="e.g. bank-v1")
        ttl_seconds = IntegerField(
            required=False,
            help_text="how long the URL works (default: OPENENV_SESSION_URL_TTL_SECONDS)",
        )
        name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")

    class SessionUrlCreatedOutput(SessionUrlOutput):
        url = serializers.CharField(help_text="base_url for an OpenEnv client; shown this once")
        ws_url = serializers.CharField(help_text="the WebSocket endpoint; shown this once")
        token = serializers.CharField(help_text="the token in the URL; shown this once")

        class Meta(SessionUrlOutput.Meta):
            fields = [*SessionUrlOutput.Meta.fields, "url", "ws_url", "token"]

    @extend_schema(responses=SessionUrlOutput(many=True))
    def get(self, request):
        urls = SessionUrl.objects.filter(api_key=request.auth).select_related("api_key")
        return paginated(self, request, urls, SessionUrlOutput)

    @extend_schema(request=SessionUrlCreateInput, responses={201: SessionUrlCreatedOutput})
    def post(self, request):
        data = self.SessionUrlCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        session_url, token = services.session_url_create(
            api_key=request.auth,
            env_id=data.validated_data["environment"],
            ttl_seconds=data.validated_data.get("ttl_seconds"),
            name=data.validated_data["name"],
            ip_address=client_ip(request),
        )
        base = openenv_base_url(request, session_url.env_id, token)
        session_url.url = base
        session_url.ws_url = (
            base.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/ws"
        )
        session_url.token = token
        return Response(
            self.SessionUrlCreatedOutput(session_url).data, status=status.HTTP_201_CREATED
        )


class SessionUrlRevokeApi(APIView):
    permission_classes = [AgentKeysOnly]

    @extend_schema(request=None, responses=SessionUrlOutput)
    def post(self, request, session_url_id: int):
        key: ApiKey = request.auth
        session_url = get_object_or_404(SessionUrl, pk=session_url_id, api_key__owner=key.owner)
        revoked = services.session_url_revoke(
            session_url=session_url, ip_address=client_ip(request)
        )
        return Response(SessionUrlOutput(revoked).data)


class TaskRowOutput(serializers.Serializer):
    prompt = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    task_id = IntegerField()
    seed = IntegerField()
    environment = serializers.CharField()
    family = serializers.CharField()
    variant = serializers.ChoiceField(
        choices=VARIANTS, help_text="the UI variant the row's task is shown in"
    )
    split = serializers.ChoiceField(choices=SPLITS)


class TasksDatasetApi(APIView):
    """The `tasks` dataset: a row per task of one split for GRPO's train_dataset
    (conversational prompt, task_id, seed, environment, family, split).
    `environments.trainers.tasks_dataset` turns it into a `datasets.Dataset`."""

    permission_classes = [Readers]

    class TasksQuery(serializers.Serializer):
        environment = serializers.CharField(max_length=64)
        family = serializers.CharField(max_length=64, required=False)
        split = serializers.ChoiceField(choices=SPLITS, required=False, default="train")
        seed_from = IntegerField(required=False, min_value=0)
        seed_to = IntegerField(required=False, min_value=0)

    @extend_schema(
        parameters=[
            OpenApiParameter("environment", str, required=True, description="e.g. bank-v1"),
            OpenApiParameter(
                "family", str, description="one task family; all of the split's when left out"
            ),
            OpenApiParameter(
                "split",
                str,
                enum=list(SPLITS),
                description="train (default), validation or test: its seeds and families "
                "(held-out families are in test only)",
            ),
            OpenApiParameter(
                "seed_from", int, description="first seed (default: the split's first)"
            ),
            OpenApiParameter(
                "seed_to", int, description="last seed, inclusive (default: 99 after seed_from)"
            ),
        ],
        responses=TaskRowOutput(many=True),
    )
    def get(self, request):
        query = self.TasksQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = datasets.task_rows(
            env_id=query.validated_data["environment"],
            family=query.validated_data.get("family"),
            split=query.validated_data["split"],
            seed_from=query.validated_data.get("seed_from"),
            seed_to=query.validated_data.get("seed_to"),
        )
        return paginated(self, request, rows, TaskRowOutput)


class CriterionOutput(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["programmatic", "human", "judge"])
    role = serializers.ChoiceField(
        choices=rubrics.CRITERION_ROLES,
        help_text="progress: earns its weight's share of partial and progress credit; guard: "
        "earns none and withholds it when it fails; none: not in the online reward",
    )
    weight = FloatField()
    scale = serializers.DictField()
    description = serializers.CharField()


class RubricOutput(serializers.Serializer):
    version = IntegerField()
    environment = serializers.CharField()
    family = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    reward = serializers.DictField()
    criteria = CriterionOutput(many=True)


class FamilyRubricApi(APIView):
    """A task family's rubric manifest: its reward as named criteria, derived from the
    verifier's checks."""

    permission_classes = [Readers]

    @extend_schema(responses=RubricOutput)
    def get(self, request, env_id: str, family: str):
        env = episode_services.environment_get(env_id)
        if family not in env.families:
            raise ServiceError(
                f"{env.id} has no task family '{family}'; families: {', '.join(env.families)}",
                field="family",
                code="not_found",
            )
        return Response(rubrics.family_rubric(env.id, family))


class EpisodeRewardApi(APIView):
    """An episode's reward in [0, 1] and its value on every criterion of its family's rubric
    (None where there is none yet: an unfinished or ungraded episode)."""

    permission_classes = [Readers]

    @extend_schema(responses=dict)
    def get(self, request, episode_id: int):
        key = request.auth if isinstance(request.auth, ApiKey) else None
        visible = selectors.episode_list_for(user=request.user, api_key=key)
        episode: Episode = get_object_or_404(visible, pk=episode_id)
        return Response(
            {
                "episode": episode.pk,
                "environment": episode.env_id,
                "family": episode.task.family,
                "status": episode.status,
                "reward": episode.reward,
                "reward_components": rubrics.reward_components(
                    env_id=episode.env_id, family=episode.task.family, outcome=episode.outcome
                ),
                "rubric_version": rubrics.RUBRIC_VERSION,
            }
        )
