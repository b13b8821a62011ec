"""The evaluations API: start an evaluation of a policy over a split, list and read them.
Managers and agent keys start them, as rollouts; each sees its own, admins every one."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from environments import observations, rollouts
from environments.apis import POLICY_HELP, AgentsAndManagers, RolloutListApi
from environments.engine.rewards import REWARD_MODES
from evaluations import selectors, services
from evaluations.models import Evaluation
from rlplatform.apis import paginated
from rlplatform.authentication import request_key
from rlplatform.fields import IntegerField


class EvaluationOutput(serializers.ModelSerializer):
    environment = serializers.CharField(source="env_id")
    policy_label = serializers.CharField()
    status = serializers.CharField(source="job.status")
    status_words = serializers.CharField()
    progress_done = IntegerField(source="job.progress_done")
    progress_total = IntegerField(source="job.progress_total")
    created_by = serializers.CharField(source="created_by.username")
    variants = serializers.ListField(
        child=serializers.CharField(), help_text="the UI variants each task is played in"
    )
    report = serializers.JSONField(
        help_text="Set when the evaluation has finished: `overall` and per-family figures "
        "(success_rate, success_interval, pass_at_k, pass_hat_k, mean_reward, mean_steps; "
        "`seen` and `unseen`: the same over the UI variants training sees and the held-out "
        "ones), and per UI variant (`variants`, each `heldout` or not)."
    )

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "name",
            "policy_label",
            "environment",
            "split",
            "families",
            "seeds",
            "variants",
            "tasks_per_family",
            "attempts",
            "policy",
            "reward_mode",
            "observation_mode",
            "max_observation_chars",
            "status",
            "status_words",
            "progress_done",
            "progress_total",
            "job",
            "report",
            "created_by",
            "created_at",
            "finished_at",
        ]


def visible_evaluations(request):
    return selectors.evaluation_list_for(user=request.user, api_key=request_key(request))


class EvaluationListApi(APIView):
    """Start an evaluation: a policy plays `tasks_per_family` tasks of each family of an
    environment's split, `attempts` times each, on the rollouts queue. Its progress is its
    job's (`/api/v1/jobs/<job>/`), its episodes its job's items
    (`/api/v1/rollouts/<job>/items/`)."""

    permission_classes = [AgentsAndManagers]

    class EvaluationStartInput(serializers.Serializer):
        environment = serializers.CharField(max_length=64)
        split = serializers.CharField(max_length=32)
        families = serializers.ListField(
            child=serializers.CharField(max_length=64), required=False, max_length=100
        )
        tasks_per_family = IntegerField(
            min_value=1, max_value=services.MAX_TASKS_PER_FAMILY, default=10
        )
        attempts = IntegerField(
            min_value=1, max_value=rollouts.MAX_ATTEMPTS, default=1, help_text="k"
        )
        policy = serializers.JSONField(help_text=POLICY_HELP)
        concurrency = IntegerField(min_value=1, max_value=rollouts.MAX_CONCURRENCY, default=8)
        reward_mode = serializers.ChoiceField(choices=REWARD_MODES, required=False)
        observation_mode = serializers.ChoiceField(
            choices=observations.TEXT_MODES,
            required=False,
            help_text="how a chat policy is shown pages (the episodes record it); for a chat "
            "policy, by default as step rows: pruned, within 1,800 characters",
        )
        max_observation_chars = IntegerField(
            required=False,
            allow_null=True,
            min_value=observations.MIN_OBSERVATION_CHARS,
            max_value=observations.MAX_OBSERVATION_CHARS,
        )
        name = serializers.CharField(max_length=200, required=False, default="")
        variants = serializers.ListField(
            child=serializers.CharField(max_length=16),
            required=False,
            max_length=10,
            help_text="the UI variants to play each task in (default: every variant the split "
            "renders; test renders the held-out ones too)",
        )

        def validate_policy(self, value):
            policy = RolloutListApi.RolloutPolicyInput(data=value)
            policy.is_valid(raise_exception=True)
            return policy.validated_data

    @extend_schema(
        parameters=[
            OpenApiParameter("environment", str, description="e.g. bank-v1"),
            OpenApiParameter("split", str, description="train, validation or test"),
        ],
        responses=EvaluationOutput(many=True),
    )
    def get(self, request):
        evaluations = visible_evaluations(request)
        if env_id := request.query_params.get("environment"):
            evaluations = evaluations.filter(env_id=env_id)
        if split := request.query_params.get("split"):
            evaluations = evaluations.filter(split=split)
        return paginated(self, request, evaluations, EvaluationOutput)

    @extend_schema(request=EvaluationStartInput, responses={202: EvaluationOutput})
    def post(self, request):
        data = self.EvaluationStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        evaluation = services.evaluation_start(
            **data.validated_data, user=request.user, api_key=request_key(request)
        )
        return Response(EvaluationOutput(evaluation).data, status=status.HTTP_202_ACCEPTED)


class EvaluationDetailApi(APIView):
    permission_classes = [AgentsAndManagers]

    @extend_schema(responses=EvaluationOutput)
    def get(self, request, evaluation_id: int):
        evaluation = get_object_or_404(visible_evaluations(request), pk=evaluation_id)
        return Response(EvaluationOutput(evaluation).data)
