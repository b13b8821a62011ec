"""The agent API: environments, tasks, episodes and steps.

Agents authenticate with a key of scope `agent`; people with their session (the browser's play
page steps through this same API). A principal reads and steps only the episodes it may see.
"""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from environments import imports, observations, policies, rollouts, selectors, services
from environments.engine.prompts import HISTORY_HELP, PROMPTS
from environments.engine.rewards import REWARD_MODES
from environments.engine.splits import environment_splits
from environments.engine.variants import DEFAULT as DEFAULT_VARIANT
from environments.engine.variants import VARIANTS
from environments.models import ActorKind, Episode, EpisodeStatus, RolloutItem, Step, Task
from rlplatform.apis import JobOutput, paginated
from rlplatform.authentication import request_key
from rlplatform.errors import service_error_body
from rlplatform.fields import FloatField, IntegerField
from rlplatform.jobs import rollout_item_kinds
from rlplatform.models import ApiKeyScope, Role
from rlplatform.permissions import allow
from rlplatform.selectors import job_list_for

AgentsAndPeople = allow(
    roles=(Role.MANAGER, Role.REVIEWER, Role.CONTRACTOR), scopes=(ApiKeyScope.AGENT,)
)
AgentsAndManagers = allow(roles=(Role.MANAGER,), scopes=(ApiKeyScope.AGENT,))
MAX_BATCH = 256


def visible_episodes(request):
    return selectors.episode_list_for(user=request.user, api_key=request_key(request))


class FamilyOutput(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    goal_template = serializers.CharField(source="goal")
    max_steps = IntegerField()


class EnvironmentOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField(source="env_id")
    version = IntegerField()
    title = serializers.CharField()
    navigation = serializers.ListField(child=serializers.CharField())
    families = serializers.SerializerMethodField()
    splits = serializers.SerializerMethodField(
        help_text="train/validation/test seed ranges (inclusive) and families; held-out "
        "families (test only) and UI variants"
    )

    def get_families(self, env) -> list[dict]:
        return FamilyOutput(env.families.values(), many=True).data

    def get_splits(self, env) -> dict:
        return environment_splits(env.id)


class EnvironmentListApi(APIView):
    permission_classes = [AgentsAndPeople]

    @extend_schema(responses=EnvironmentOutput(many=True))
    def get(self, request):
        return paginated(self, request, selectors.environment_list(), EnvironmentOutput)


class EnvironmentDetailApi(APIView):
    permission_classes = [AgentsAndPeople]

    @extend_schema(responses=EnvironmentOutput)
    def get(self, request, env_id: str):
        return Response(EnvironmentOutput(services.environment_get(env_id)).data)


class TaskOutput(serializers.ModelSerializer):
    environment = serializers.CharField(source="env_id")

    class Meta:
        model = Task
        # No params: they hold what the verifier expects (answers included).
        fields = ["id", "environment", "family", "seed", "goal", "max_steps"]


class TaskListApi(APIView):
    permission_classes = [AgentsAndPeople]

    class TaskCreateInput(serializers.Serializer):
        environment = serializers.CharField(max_length=64)
        family = serializers.CharField(max_length=64)
        seed = IntegerField(min_value=0, max_value=services.MAX_SEED)

    @extend_schema(
        parameters=[
            OpenApiParameter("environment", str, description="e.g. bank-v1"),
            OpenApiParameter("family", str),
        ],
        responses=TaskOutput(many=True),
    )
    def get(self, request):
        tasks = selectors.task_list(
            env_id=request.query_params.get("environment"),
            family=request.query_params.get("family"),
        )
        return paginated(self, request, tasks, TaskOutput)

    @extend_schema(request=TaskCreateInput, responses={200: TaskOutput})
    def post(self, request):
        data = self.TaskCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.task_get_or_create(
            env_id=data.validated_data["environment"],
            family=data.validated_data["family"],
            seed=data.validated_data["seed"],
        )
        return Response(TaskOutput(task).data)


class TaskDetailApi(APIView):
    permission_classes = [AgentsAndPeople]

    @extend_schema(responses=TaskOutput)
    def get(self, request, task_id: int):
        return Response(TaskOutput(get_object_or_404(Task, pk=task_id)).data)


class ObservationOutput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=observations.MODES)
    goal = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    content = serializers.JSONField(help_text="axtree text, page JSON, or an HTML fragment")


class EpisodeOutput(serializers.ModelSerializer):
    task = TaskOutput()
    environment = serializers.CharField(source="env_id")
    actor = serializers.CharField(source="user.username")

    class Meta:
        model = Episode
        fields = [
            "id",
            "task",
            "environment",
            "seed",
            "actor_kind",
            "actor",
            "source",
            "status",
            "step_count",
            "reward",
            "success",
            "outcome",
            "reward_mode",
            "observation_mode",
            "max_observation_chars",
            "variant",
            "created_at",
            "finished_at",
        ]


class StepOutput(serializers.ModelSerializer):
    class Meta:
        model = Step
        fields = [
            "index",
            "action",
            "reward",
            "terminated",
            "truncated",
            "error",
            "think_ms",
            "apply_ms",
            "created_at",
        ]


class StepResultOutput(serializers.Serializer):
    episode = IntegerField()
    step = IntegerField()
    action = serializers.CharField()
    reward = FloatField()
    terminated = serializers.BooleanField()
    truncated = serializers.BooleanField()
    action_error = serializers.CharField(
        help_text="why the action was refused, for a refusal recorded as a failed step "
        "(`record_refusals`); empty when it applied"
    )
    action_error_code = serializers.CharField(help_text="the refusal's code, e.g. unknown_bid")
    status = serializers.ChoiceField(choices=EpisodeStatus.choices)
    replayed = serializers.BooleanField(
        help_text="True when this idempotency key was applied before: the recorded result"
    )
    observation = ObservationOutput()
    outcome = serializers.JSONField(allow_null=True)


def step_result_body(
    result: services.StepResult, mode: str | None = None, max_chars: int | None = None
) -> dict:
    """A step's result, its observation rendered in `mode` within `max_chars` (by default as
    the episode was started with)."""
    episode, step = result.episode, result.step
    mode, max_chars = shown_as(episode, mode, max_chars)
    error_code, error = services.step_refusal(step.error)
    return {
        "episode": episode.pk,
        "step": step.index,
        "action": step.action,
        "action_error": error,
        "action_error_code": error_code,
        "reward": step.reward,
        "terminated": step.terminated,
        "truncated": step.truncated,
        "status": episode.status,
        "replayed": result.replayed,
        "observation": observations.observation(
            page=result.page,
            goal=episode.task.goal,
            mode=mode,
            previous=result.page_before() if mode == "diff" else None,
            max_chars=max_chars,
        ),
        "outcome": episode.outcome if step.terminated or step.truncated else None,
    }


def shown_as(episode: Episode, mode: str | None, max_chars: int | None) -> tuple[str, int | None]:
    """The rendering a request asked for, else the episode's own; the episode's budget only
    for a text mode."""
    if mode is None:
        mode = episode.observation_mode
    if max_chars is None and mode in observations.TEXT_MODES:
        max_chars = episode.max_observation_chars
    return mode, max_chars


class ObservationModeInput(serializers.Serializer):
    """How to show this response's pages; when left out, as the episode was started with."""

    observation_mode = serializers.ChoiceField(choices=observations.MODES, required=False)
    max_observation_chars = IntegerField(
        required=False,
        allow_null=True,
        min_value=observations.MIN_OBSERVATION_CHARS,
        max_value=observations.MAX_OBSERVATION_CHARS,
        help_text="a character budget for a text observation (axtree, pruned, diff)",
    )

    def validate(self, data):
        data = super().validate(data)
        if data.get("max_observation_chars") is not None:
            observations.check_budget(
                data.get("observation_mode") or observations.DEFAULT_MODE,
                data["max_observation_chars"],
            )
        return data


class EpisodeSettingsInput(ObservationModeInput):
    """How a new episode rewards and shows; recorded on the episode."""

    reward_mode = serializers.ChoiceField(
        choices=REWARD_MODES,
        default=observations.DEFAULT_REWARD_MODE,
        help_text="sparse (1 on success), partial (the rubric's weighted share of checks) or "
        "progress (shaped, each check paying once, 1 in all on success)",
    )

    def settings(self) -> observations.EpisodeSettings:
        values = self.validated_data
        return observations.episode_settings(
            reward_mode=values["reward_mode"],
            observation_mode=values.get("observation_mode"),
            max_observation_chars=values.get("max_observation_chars"),
        )


class StepModeInput(ObservationModeInput):
    reward_mode = serializers.ChoiceField(
        choices=REWARD_MODES,
        required=False,
        help_text="the episode's reward mode, if the caller wants it checked",
    )
    record_refusals = serializers.BooleanField(
        default=False,
        help_text="record a refused action as a failed step (the result's `action_error` says "
        "why; it counts towards the step limit) instead of a 400 that records nothing",
    )


def at_most_a_batch(items: list, what: str) -> list:
    if len(items) > MAX_BATCH:
        raise serializers.ValidationError(f"at most {MAX_BATCH} {what} in one batch")
    return items


class EpisodeSpecInput(serializers.Serializer):
    task = IntegerField(required=False, help_text="a task id")
    environment = serializers.CharField(required=False, max_length=64)
    family = serializers.CharField(required=False, max_length=64)
    seed = IntegerField(required=False, min_value=0, max_value=services.MAX_SEED)
    metadata = serializers.DictField(required=False, default=dict)
    variant = serializers.ChoiceField(
        choices=VARIANTS,
        default=DEFAULT_VARIANT,
        help_text="how the pages look: the environment's own (default), reworded labels, "
        "another layout, distractors, or all three (mixed); the task is the same",
    )

    def validate(self, data):
        if "task" in data:
            return data
        missing = [name for name in ("environment", "family", "seed") if name not in data]
        if missing:
            raise serializers.ValidationError(
                {name: "required unless task is given" for name in missing}
            )
        return data


class EpisodeCreatedOutput(EpisodeOutput):
    observation = ObservationOutput()

    class Meta(EpisodeOutput.Meta):
        fields = [*EpisodeOutput.Meta.fields, "observation"]


def episodes_created_body(episodes: list[Episode]) -> list[dict]:
    # One serializer for all of them: a ModelSerializer builds its fields on every instance.
    bodies = EpisodeOutput(episodes, many=True).data
    for body, episode in zip(bodies, episodes, strict=True):
        body["observation"] = observations.observation(
            page=services.episode_page(episode),
            goal=episode.task.goal,
            mode=episode.observation_mode,
            max_chars=episode.max_observation_chars,
        )
    return bodies


class EpisodeListApi(APIView):
    def get_permissions(self):
        # Anyone reads their own episodes; agents and managers start them (contractors start
        # theirs from an assignment, in the browser).
        allowed = AgentsAndManagers if self.request.method == "POST" else AgentsAndPeople
        return [allowed()]

    class EpisodeCreateInput(EpisodeSpecInput, EpisodeSettingsInput):
        pass

    class EpisodeListQuery(serializers.Serializer):
        environment = serializers.CharField(required=False, allow_blank=True)
        status = serializers.ChoiceField(
            choices=EpisodeStatus.choices, required=False, allow_blank=True
        )
        actor_kind = serializers.ChoiceField(
            choices=ActorKind.choices, required=False, allow_blank=True
        )
        source = serializers.CharField(required=False, allow_blank=True, max_length=32)

    @extend_schema(
        parameters=[
            OpenApiParameter("environment", str),
            OpenApiParameter("status", str, enum=EpisodeStatus.values),
            OpenApiParameter("actor_kind", str, enum=ActorKind.values),
            OpenApiParameter(
                "source",
                str,
                description="where the episodes came from: api (the agent API and the gymnasium "
                "client), openenv (OpenEnv and the TRL factory), rollout, evaluation, browser, "
                "import, ...",
            ),
        ],
        responses=EpisodeOutput(many=True),
    )
    def get(self, request):
        query = self.EpisodeListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        episodes = visible_episodes(request)
        for field, param in (
            ("env_id", "environment"),
            ("status", "status"),
            ("actor_kind", "actor_kind"),
            ("source", "source"),
        ):
            if value := query.validated_data.get(param):
                episodes = episodes.filter(**{field: value})
        return paginated(self, request, episodes, EpisodeOutput)

    @extend_schema(request=EpisodeCreateInput, responses={201: EpisodeCreatedOutput})
    def post(self, request):
        data = self.EpisodeCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        settings = data.settings()
        with transaction.atomic():
            if "task" in values:
                task = get_object_or_404(Task, pk=values["task"])
            else:
                task = services.task_get_or_create(
                    env_id=values["environment"], family=values["family"], seed=values["seed"]
                )
            episode = services.episode_create(
                task=task,
                user=request.user,
                api_key=request_key(request),
                metadata=values["metadata"],
                settings=settings,
                variant=values["variant"],
            )
        (body,) = episodes_created_body([episode])
        return Response(body, status=status.HTTP_201_CREATED)


class EpisodeBatchCreateApi(APIView):
    """Start many episodes in one request, for vectorised rollouts: all of them, or (when one
    cannot start) none, with an error naming it."""

    permission_classes = [AgentsAndManagers]

    class BatchCreateInput(EpisodeSettingsInput):
        episodes = EpisodeSpecInput(many=True, allow_empty=False)

        def validate_episodes(self, episodes):
            return at_most_a_batch(episodes, "episodes")

    @extend_schema(
        request=BatchCreateInput,
        responses={
            201: inline_serializer("BatchCreated", {"results": EpisodeCreatedOutput(many=True)})
        },
    )
    def post(self, request):
        data = self.BatchCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        episodes = services.episodes_create(
            specs=[
                services.EpisodeSpec(
                    task_id=item.get("task"),
                    env_id=item.get("environment"),
                    family=item.get("family"),
                    seed=item.get("seed"),
                    metadata=item["metadata"],
                    variant=item["variant"],
                )
                for item in data.validated_data["episodes"]
            ],
            user=request.user,
            api_key=request_key(request),
            settings=data.settings(),
        )
        return Response(
            {"results": episodes_created_body(episodes)},
            status=status.HTTP_201_CREATED,
        )


class EpisodeDetailApi(APIView):
    permission_classes = [AgentsAndPeople]

    class EpisodeWithStepsOutput(EpisodeOutput):
        steps = StepOutput(many=True)

        class Meta(EpisodeOutput.Meta):
            fields = [*EpisodeOutput.Meta.fields, "steps"]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "observations",
                str,
                enum=observations.MODES,
                description="include each step's observation (the page the step acted on), "
                "rendered in this mode within the episode's character budget",
            )
        ],
        responses=EpisodeWithStepsOutput,
    )
    def get(self, request, episode_id: int):
        from environments.engine.page import page_from_json

        episode = get_object_or_404(visible_episodes(request), pk=episode_id)
        steps = list(selectors.episode_steps(episode=episode))
        body = EpisodeOutput(episode).data
        body["steps"] = StepOutput(steps, many=True).data
        if mode := request.query_params.get("observations"):
            mode = observations.parse_mode(mode)
            _, max_chars = shown_as(episode, mode, None)
            previous = None
            for rendered, step in zip(body["steps"], steps, strict=True):
                page = page_from_json(step.observation)
                rendered["observation"] = observations.render_page(
                    page, mode, previous=previous, max_chars=max_chars
                )
                previous = page
        return Response(body)


class StepInput(serializers.Serializer):
    action = serializers.JSONField(
        help_text='`click(\'12\')`, or {"name": "click", "args": {"bid": "12"}}'
    )
    idempotency_key = serializers.CharField(required=False, max_length=100, allow_blank=False)
    think_ms = IntegerField(required=False, min_value=0, max_value=86_400_000)

    def validate_action(self, value):
        if not isinstance(value, str | dict):
            raise serializers.ValidationError("give an action string or an action object")
        return value


class EpisodeStepApi(APIView):
    permission_classes = [AgentsAndPeople]

    class EpisodeStepInput(StepInput, StepModeInput):
        pass

    @extend_schema(
        request=EpisodeStepInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, location="header")],
        responses=StepResultOutput,
    )
    def post(self, request, episode_id: int):
        data = self.EpisodeStepInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = services.episode_step(
            episode_id=episode_id,
            user=request.user,
            action=values["action"],
            idempotency_key=values.get("idempotency_key") or request.headers.get("Idempotency-Key"),
            think_ms=values.get("think_ms"),
            reward_mode=values.get("reward_mode"),
            record_refusal=values["record_refusals"],
        )
        return Response(
            step_result_body(
                result, values.get("observation_mode"), values.get("max_observation_chars")
            )
        )


class EpisodeBatchStepApi(APIView):
    """Step many episodes in one request, for vectorised rollouts. Each step is applied on its
    own: one refused action does not stop the others."""

    permission_classes = [AgentsAndPeople]

    class BatchStepInput(StepModeInput):
        class BatchItem(StepInput):
            episode = IntegerField()

        steps = BatchItem(many=True, allow_empty=False)

        def validate_steps(self, steps):
            return at_most_a_batch(steps, "steps")

    @extend_schema(request=BatchStepInput, responses={200: dict})
    def post(self, request):
        data = self.BatchStepInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        mode, max_chars = values.get("observation_mode"), values.get("max_observation_chars")
        items = values["steps"]
        outcomes = services.episodes_step(
            requests=[
                services.StepRequest(
                    episode_id=item["episode"],
                    action=item["action"],
                    idempotency_key=item.get("idempotency_key") or None,
                    think_ms=item.get("think_ms"),
                    record_refusal=values["record_refusals"],
                    reward_mode=values.get("reward_mode"),
                )
                for item in items
            ],
            user=request.user,
        )
        results = []
        for item, outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, services.StepResult):
                results.append(step_result_body(outcome, mode, max_chars))
                continue
            results.append({"episode": item["episode"], **service_error_body(outcome)[1]})
        return Response({"results": results})


class EpisodeAbandonApi(APIView):
    permission_classes = [AgentsAndPeople]

    @extend_schema(request=None, responses=EpisodeOutput)
    def post(self, request, episode_id: int):
        episode = get_object_or_404(
            visible_episodes(request).filter(user=request.user), pk=episode_id
        )
        return Response(EpisodeOutput(services.episode_abandon(episode=episode)).data)


POLICY_HELP = (
    "`kind`: scripted, random (`seed`) or chat: `base_url`, `model`, and optionally `api_key` "
    "(never stored), `temperature`, `max_tokens`, `timeout` and `prompt` (`step`, the default: "
    "exactly the prompt an exported step row has, the action alone as the answer; "
    "`reasoning`: rules that let a general model think first) and `history` (`actions`, the "
    "default, `none` or `last_pages:K`, as exports take it)"
)


class RolloutListApi(APIView):
    """Start a rollout: a policy plays many episodes on the rollouts queue. Its progress is the
    job's (`/api/v1/jobs/<id>/`)."""

    permission_classes = [AgentsAndManagers]

    class RolloutPolicyInput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=policies.POLICY_KINDS)
        seed = IntegerField(required=False, min_value=0)
        base_url = serializers.URLField(required=False)
        model = serializers.CharField(required=False, max_length=200)
        api_key = serializers.CharField(required=False, write_only=True, max_length=500)
        temperature = FloatField(required=False, min_value=0, max_value=2)
        max_tokens = IntegerField(required=False, min_value=1, max_value=8192)
        timeout = FloatField(required=False, min_value=1, max_value=600)
        prompt = serializers.ChoiceField(choices=PROMPTS, required=False)
        history = serializers.CharField(required=False, max_length=20, help_text=HISTORY_HELP)

    class RolloutStartInput(serializers.Serializer):
        environments = serializers.ListField(child=serializers.CharField(), min_length=1)
        families = serializers.ListField(child=serializers.CharField(), required=False)
        seeds = serializers.ListField(
            child=IntegerField(min_value=0, max_value=services.MAX_SEED),
            required=False,
        )
        count = IntegerField(required=False, min_value=1, max_value=rollouts.MAX_ITEMS)
        attempts = IntegerField(
            required=False, min_value=1, max_value=rollouts.MAX_ATTEMPTS, default=1
        )
        seed_start = IntegerField(
            required=False, min_value=0, max_value=services.MAX_SEED, default=0
        )
        variants = serializers.ListField(
            child=serializers.ChoiceField(choices=VARIANTS),
            required=False,
            max_length=len(VARIANTS),
            help_text="the UI variants each task is played in (default: default)",
        )
        policy = serializers.JSONField(help_text=POLICY_HELP)
        concurrency = IntegerField(required=False, min_value=1, default=8)
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

        def validate_policy(self, value):
            policy = RolloutListApi.RolloutPolicyInput(data=value)
            policy.is_valid(raise_exception=True)
            return policy.validated_data

    @extend_schema(request=RolloutStartInput, responses={202: JobOutput})
    def post(self, request):
        data = self.RolloutStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = rollouts.rollout_start(
            spec=data.validated_data, user=request.user, api_key=request_key(request)
        )
        return Response(JobOutput(job).data, status=status.HTTP_202_ACCEPTED)


class RolloutItemOutput(serializers.ModelSerializer):
    environment = serializers.CharField(source="env_id")

    class Meta:
        model = RolloutItem
        fields = [
            "index",
            "environment",
            "family",
            "seed",
            "variant",
            "status",
            "episode",
            "attempts",
            "error",
        ]


class RolloutItemListApi(APIView):
    permission_classes = [AgentsAndManagers]

    @extend_schema(responses=RolloutItemOutput(many=True))
    def get(self, request, job_id: int):
        job = get_object_or_404(
            job_list_for(user=request.user, api_key=request_key(request)).filter(
                kind__in=rollout_item_kinds()
            ),
            pk=job_id,
        )
        return paginated(self, request, job.rollout_items.all(), RolloutItemOutput)


class ImportListApi(APIView):
    """Upload a JSONL file of trajectories (one a line) for grading. The file is checked by
    replaying every line in its environment; a file with any bad line is rejected whole, and
    the job's result lists each bad line and why."""

    permission_classes = [AgentsAndManagers]
    parser_classes = [MultiPartParser]

    class ImportUploadInput(serializers.Serializer):
        file = serializers.FileField()

    @extend_schema(request={"multipart/form-data": ImportUploadInput}, responses={202: JobOutput})
    def post(self, request):
        data = self.ImportUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = imports.import_start(
            file=data.validated_data["file"],
            user=request.user,
            by_program=request_key(request) is not None,
        )
        return Response(JobOutput(job).data, status=status.HTTP_202_ACCEPTED)
