"""Writes of the environments app: tasks, episodes and their steps.

Every actor steps through `episode_step`: the agent API, the browser, rollouts and trainer
sessions alike, so every trajectory is recorded the same way.
"""

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from environments.engine import ActionError, Outcome, Page, get_environment, parse_action
from environments.engine import Task as EngineTask
from environments.engine.base import Environment
from environments.engine.check import check_environment, format_reports
from environments.engine.page import page_from_json, page_to_json
from environments.engine.rewards import final_reward, reward_rubric, step_reward
from environments.engine.text import storable_escaped
from environments.engine.variants import DEFAULT as DEFAULT_VARIANT
from environments.engine.variants import VARIANTS
from environments.models import ActorKind, CheckReport, Episode, EpisodeStatus, Step, Task
from environments.observations import EpisodeSettings
from rlplatform import rawsql
from rlplatform.models import ApiKey, User
from rlplatform.services import ServiceError

MAX_SEED = 2**31 - 1


class EpisodeNotFound(ServiceError):
    def __init__(self, episode_id: int):
        super().__init__(f"episode {episode_id} not found", field="episode", code="not_found")


class ActionRefused(ServiceError):
    """The environment refused an action; the episode is unchanged."""

    def __init__(self, error: ActionError):
        super().__init__(error.message, field="action", code=error.code)


def environment_get(env_id: str) -> Environment:
    try:
        return get_environment(env_id)
    except KeyError as error:
        raise ServiceError(str(error.args[0]), field="environment", code="not_found") from None


def engine_task(task: Task) -> EngineTask:
    return EngineTask(
        env=task.env_id,
        family=task.family,
        seed=task.seed,
        params=task.params,
        goal=task.goal,
        max_steps=task.max_steps,
    )


# Seeds a family when the platform checks an environment: enough for every probe (they use
# the first five), a few seconds an environment.
CHECK_SEEDS = 5
MAX_CHECK_SEEDS = 200


def environment_check(*, env_id: str, seeds: int = CHECK_SEEDS) -> CheckReport:
    """Run the environment checker (engine/check.py) on one environment and store its report;
    the Environments page shows the latest of each."""
    env = environment_get(env_id)
    if not 1 <= seeds <= MAX_CHECK_SEEDS:
        raise ServiceError(f"seeds must be between 1 and {MAX_CHECK_SEEDS}", field="seeds")
    reports = check_environment(env, seeds)
    return CheckReport.objects.create(
        env_id=env.id,
        seeds=seeds,
        passed=all(report.passed for report in reports),
        families=[report.summary() for report in reports],
        text=format_reports(reports),
    )


def task_get_or_create(*, env_id: str, family: str, seed: int) -> Task:
    """The stored task of a family for a seed, made by the engine the first time."""
    env = environment_get(env_id)
    if not 0 <= seed <= MAX_SEED:
        raise ServiceError(f"seed must be between 0 and {MAX_SEED}", field="seed")
    if family not in env.families:
        raise ServiceError(
            f"{env.id} has no task family '{family}'; families: {', '.join(env.families)}",
            field="family",
            code="not_found",
        )
    existing = Task.objects.filter(env_id=env.id, family=family, seed=seed).first()
    if existing is not None:
        return existing
    made = env.make_task(family, seed)
    try:
        with transaction.atomic():
            return Task.objects.create(
                env_id=env.id,
                family=family,
                seed=seed,
                params=made.params,
                goal=made.goal,
                max_steps=made.max_steps,
            )
    except IntegrityError:
        # Another request created it a moment ago.
        return Task.objects.get(env_id=env.id, family=family, seed=seed)


def episode_state(episode: Episode) -> dict:
    """The episode's full current state: its initial state with the stored changes applied."""
    return _states_of(episode)[1]


def state_changes(initial: dict, state: dict) -> dict:
    """The keys of `state` that differ from `initial`. An episode stores only these: the rest
    (the seeded world: accounts, transactions, events) is rebuilt from the seed in
    microseconds, and a step then writes a few hundred bytes instead of the whole world."""
    return {
        key: value
        for key, value in state.items()
        if key not in initial or (value is not initial[key] and value != initial[key])
    }


def episode_create(
    *,
    task: Task,
    user: User,
    api_key: ApiKey | None = None,
    actor_kind: str | None = None,
    source: str = "api",
    metadata: dict | None = None,
    settings: EpisodeSettings | None = None,
    variant: str = DEFAULT_VARIANT,
) -> Episode:
    """Start an episode of `task`: the environment's initial state for the task's seed, its
    pages in `variant` (engine.variants.VARIANTS), rewarded and shown as `settings` say
    (checked ones: see observations.episode_settings)."""
    episode = _new_episode(
        task, user, api_key, actor_kind, source, metadata, settings, variant_checked(variant)
    )
    episode.save(force_insert=True)
    return episode


@dataclass(frozen=True)
class EpisodeSpec:
    """What one episode of `episodes_create` starts: a stored task, or a family and seed."""

    task_id: int | None = None
    env_id: str | None = None
    family: str | None = None
    seed: int | None = None
    metadata: dict | None = None
    variant: str = DEFAULT_VARIANT


def variant_checked(variant: str) -> str:
    """`variant` if the engine has it, else a 400 naming the field and the choices."""
    if variant not in VARIANTS:
        raise ServiceError(
            f"unknown variant {variant!r}; variants: {', '.join(VARIANTS)}", field="variant"
        )
    return variant


def episodes_create(
    *,
    specs: list[EpisodeSpec],
    user: User,
    api_key: ApiKey | None = None,
    settings: EpisodeSettings | None = None,
) -> list[Episode]:
    """Start many episodes at once, in order (a vectorised rollout's resets), all with the
    same settings. A spec that cannot start refuses them all, naming its index, and none is
    started."""
    tasks = _tasks_of(specs)
    for index, spec in enumerate(specs):
        try:
            variant_checked(spec.variant)
        except ServiceError as error:
            raise ServiceError(
                f"episode {index + 1}: {error.message}", field=f"episodes.{index}.variant"
            ) from None
    with transaction.atomic():
        return Episode.objects.bulk_create(
            [
                _new_episode(
                    task, user, api_key, None, "api", spec.metadata, settings, spec.variant
                )
                for spec, task in zip(specs, tasks, strict=True)
            ]
        )


def _tasks_of(specs: list[EpisodeSpec]) -> list[Task]:
    by_id = Task.objects.in_bulk([spec.task_id for spec in specs if spec.task_id is not None])
    named = [spec for spec in specs if spec.task_id is None]
    by_name = {
        (task.env_id, task.family, task.seed): task
        for task in Task.objects.filter(
            env_id__in={spec.env_id for spec in named},
            family__in={spec.family for spec in named},
            seed__in={spec.seed for spec in named},
        )
    }
    tasks = []
    for index, spec in enumerate(specs):
        try:
            if spec.task_id is not None:
                if spec.task_id not in by_id:
                    raise ServiceError(f"task {spec.task_id} not found", field="task")
                tasks.append(by_id[spec.task_id])
                continue
            name = (spec.env_id, spec.family, spec.seed)
            if name not in by_name:
                # Committed at once, outside any batch: see openenv_resets.
                by_name[name] = task_get_or_create(
                    env_id=spec.env_id, family=spec.family, seed=spec.seed
                )
            tasks.append(by_name[name])
        except ServiceError as error:
            raise ServiceError(
                f"episode {index + 1}: {error.message}",
                field=f"episodes.{index}.{error.field}",
                code="invalid" if error.code == "not_found" else error.code,
            ) from None
    return tasks


def _new_episode(
    task: Task,
    user: User,
    api_key: ApiKey | None,
    actor_kind: str | None,
    source: str,
    metadata: dict | None,
    settings: EpisodeSettings | None,
    variant: str = DEFAULT_VARIANT,
) -> Episode:
    settings = settings or EpisodeSettings()
    return Episode(
        task=task,
        env_id=task.env_id,
        seed=task.seed,
        actor_kind=actor_kind or (ActorKind.AGENT if api_key else ActorKind.CONTRACTOR),
        user=user,
        api_key=api_key,
        source=source,
        state={},
        metadata=metadata or {},
        reward_mode=settings.reward_mode,
        observation_mode=settings.observation_mode,
        max_observation_chars=settings.max_observation_chars,
        variant=variant,
    )


@dataclass(frozen=True)
class ShownPage:
    """The page an episode showed after its `step_count`-th step, kept by a caller that steps
    one episode at a time (an OpenEnv session). Stepping with it saves rendering that page
    again; it is used only while the episode is still at that step."""

    episode_id: int
    step_count: int
    page: Page

    def shows(self, episode: Episode) -> bool:
        """Whether this is still the episode's current page."""
        return (self.episode_id, self.step_count) == (episode.pk, episode.step_count)


@dataclass
class StepResult:
    episode: Episode
    step: Step
    # The page the actor sees now, after the step.
    page: Page
    replayed: bool = False
    # The page the action was taken on (what a `diff` observation compares with); None means
    # the step's stored observation.
    before: Page | None = None

    def page_before(self) -> Page:
        return self.before if self.before is not None else page_from_json(self.step.observation)

    def shown(self) -> ShownPage:
        """The page after this step, to step the episode with next."""
        return ShownPage(self.episode.pk, self.step.index + 1, self.page)


def step_refusal(error: str) -> tuple[str, str]:
    """(code, message) of a recorded step's `error` ("unknown_bid: bid '9' does not exist on
    this page"); both empty when the action applied."""
    code, _, message = error.partition(": ")
    return (code, message) if message else ("", code)


@dataclass(frozen=True)
class StepRequest:
    episode_id: int
    action: str | dict
    idempotency_key: str | None = None
    think_ms: int | None = None
    # The page the actor was shown, when the caller kept it (see ShownPage).
    shown: ShownPage | None = None
    # Record a refused action as a failed step (for policies, whose mistakes are part of
    # their trajectory) instead of refusing the request and recording nothing.
    record_refusal: bool = False
    # The reward mode the caller expects; a step refuses one the episode was not started with.
    reward_mode: str | None = None


def episode_step(
    *,
    episode_id: int,
    action: str | dict,
    user: User | None = None,
    idempotency_key: str | None = None,
    think_ms: int | None = None,
    reward_mode: str | None = None,
    record_refusal: bool = False,
) -> StepResult:
    """Apply one action to a running episode (see `episodes_step`); raise what refused it."""
    request = StepRequest(
        episode_id,
        action,
        idempotency_key or None,
        think_ms,
        record_refusal=record_refusal,
        reward_mode=reward_mode,
    )
    (result,) = episodes_step(requests=[request], user=user)
    if isinstance(result, ServiceError):
        raise result
    return result


_STEPPED_FIELDS = [
    Episode._meta.get_field(name)
    for name in (
        "state",
        "step_count",
        "updated_at",
        "status",
        "reward",
        "success",
        "outcome",
        "finished_at",
        "paid_checks",
    )
]


def _lock_episodes(ids: list[int], user: User | None) -> dict[int, Episode]:
    """The episodes with these ids (only `user`'s, when given) with their tasks, rows locked
    in id order so that concurrent batches cannot deadlock."""
    params = [*ids, user.pk] if user is not None else ids
    width = len(Episode._meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(len(ids), user is not None), params)
        rows = cursor.fetchall()
    locked = {}
    for row in rows:
        episode = rawsql.from_row(Episode, row[:width])
        episode.task = rawsql.from_row(Task, row[width:])
        locked[episode.pk] = episode
    return locked


@lru_cache(maxsize=512)
def _lock_sql(count: int, by_user: bool) -> str:
    # Tasks are only read, so their rows (which many episodes share) are not locked.
    lock = " FOR UPDATE OF e" if connection.features.has_select_for_update else ""
    return (
        f"SELECT {rawsql.columns(Episode, 'e')}, {rawsql.columns(Task, 't')} "  # noqa: S608
        f"FROM {rawsql.table(Episode)} e JOIN {rawsql.table(Task)} t ON t.id = e.task_id "
        f"WHERE e.id IN ({rawsql.placeholders(count)})"
        f"{' AND e.user_id = %s' if by_user else ''} ORDER BY e.id{lock}"
    )


def _recorded_steps(requests: list["StepRequest"]) -> dict[tuple[int, str], Step]:
    """The steps already recorded under the requests' idempotency keys."""
    keyed = [request for request in requests if request.idempotency_key]
    if not keyed:
        return {}
    episode_ids = sorted({request.episode_id for request in keyed})
    keys = sorted({request.idempotency_key for request in keyed})
    with connection.cursor() as cursor:
        cursor.execute(_recorded_sql(len(episode_ids), len(keys)), [*episode_ids, *keys])
        steps = [rawsql.from_row(Step, row) for row in cursor.fetchall()]
    return {(step.episode_id, step.idempotency_key): step for step in steps}


@lru_cache(maxsize=512)
def _recorded_sql(episodes: int, keys: int) -> str:
    return (
        f"SELECT {rawsql.columns(Step, 's')} FROM {rawsql.table(Step)} s "  # noqa: S608
        f"WHERE s.episode_id IN ({rawsql.placeholders(episodes)}) "
        f"AND s.idempotency_key IN ({rawsql.placeholders(keys)})"
    )


_STEP_FIELDS = [field for field in Step._meta.concrete_fields if not field.primary_key]


def _write_steps(steps: list[Step], episodes: list[Episode]) -> None:
    """Insert the new steps and update their episodes: plain SQL, as bulk_create and
    bulk_update compile their statement on every call, which cost most of a batch's time. On
    PostgreSQL in one round trip, the rows going as JSON (see rawsql.recordset). The new steps'
    ids are not read back: nothing that follows a step needs them."""
    step_rows = [[field.pre_save(step, True) for field in _STEP_FIELDS] for step in steps]
    episode_rows = [
        [getattr(episode, field.attname) for field in _EPISODE_ROW_FIELDS] for episode in episodes
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                _write_sql(),
                [
                    rawsql.json_rows(_STEP_FIELDS, step_rows),
                    rawsql.json_rows(_EPISODE_ROW_FIELDS, episode_rows),
                ],
            )
            return
        cursor.execute(
            _insert_sql(len(steps)),
            [
                field.get_db_prep_save(value, connection)
                for row in step_rows
                for field, value in zip(_STEP_FIELDS, row, strict=True)
            ],
        )
        cursor.executemany(
            _update_sql(),
            [
                [
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(_EPISODE_ROW_FIELDS, row, strict=True)
                ]
                for row in episode_rows
            ],
        )


_EPISODE_ROW_FIELDS = [*_STEPPED_FIELDS, Episode._meta.pk]


@cache
def _write_sql() -> str:
    """PostgreSQL: both statements in one string (Django binds values on the client)."""
    step_columns = ", ".join(rawsql.quote(field.column) for field in _STEP_FIELDS)
    assignments = ", ".join(
        f"{rawsql.quote(field.column)} = r.{rawsql.quote(field.column)}"
        for field in _STEPPED_FIELDS
    )
    return (
        f"INSERT INTO {rawsql.table(Step)} ({step_columns}) "  # noqa: S608
        f"SELECT {step_columns} FROM {rawsql.recordset(_STEP_FIELDS, 'r')}; "
        f"UPDATE {rawsql.table(Episode)} AS e SET {assignments} "
        f"FROM {rawsql.recordset(_EPISODE_ROW_FIELDS, 'r')} WHERE e.id = r.id"
    )


@lru_cache(maxsize=512)
def _insert_sql(count: int) -> str:
    columns = ", ".join(rawsql.quote(field.column) for field in _STEP_FIELDS)
    row = f"({rawsql.placeholders(len(_STEP_FIELDS))})"
    return (
        f"INSERT INTO {rawsql.table(Step)} ({columns}) "  # noqa: S608
        f"VALUES {', '.join([row] * count)}"
    )


@cache
def _update_sql() -> str:
    assignments = ", ".join(f"{rawsql.quote(field.column)} = %s" for field in _STEPPED_FIELDS)
    return f"UPDATE {rawsql.table(Episode)} SET {assignments} WHERE id = %s"  # noqa: S608


_MAX_IDEMPOTENCY_KEY = Step._meta.get_field("idempotency_key").max_length


def episodes_step(
    *, requests: list[StepRequest], user: User | None = None
) -> list[StepResult | ServiceError]:
    """Apply actions to episodes in one transaction, with their rows locked, and return a
    result or a refusal for each request.

    With `user`, only that user's episodes are stepped (anyone else's are "not found"). A step
    whose idempotency key was already applied returns the recorded result instead of stepping
    again. A refused action changes nothing; the other requests still apply.
    """
    if not requests:
        return []
    with transaction.atomic():
        locked = _lock_episodes(sorted({request.episode_id for request in requests}), user)
        recorded = _recorded_steps(requests)
        states: dict[int, tuple[dict, dict]] = {}
        applied: dict[tuple[int, str], StepResult] = {}
        results: list[StepResult | ServiceError] = []
        new_steps: list[Step] = []
        for request in requests:
            episode = locked.get(request.episode_id)
            if episode is None:
                results.append(EpisodeNotFound(request.episode_id))
                continue
            if len(request.idempotency_key or "") > _MAX_IDEMPOTENCY_KEY:
                # The API's field is bounded; its Idempotency-Key header is not.
                results.append(
                    ServiceError(
                        f"give an idempotency key of 1 to {_MAX_IDEMPOTENCY_KEY} characters",
                        field="idempotency_key",
                    )
                )
                continue
            key = (episode.pk, request.idempotency_key)
            if key in applied:
                results.append(StepResult(**{**applied[key].__dict__, "replayed": True}))
                continue
            if key in recorded:
                step = recorded[key]
                results.append(StepResult(episode, step, page_after(episode, step), True))
                continue
            if episode.pk not in states:
                states[episode.pk] = _states_of(episode)
            result = _apply(episode, states, request)
            if isinstance(result, StepResult):
                new_steps.append(result.step)
                if request.idempotency_key:
                    applied[key] = result
            results.append(result)
        if new_steps:
            stepped = {step.episode_id: locked[step.episode_id] for step in new_steps}
            now = timezone.now()
            for episode in stepped.values():
                initial, state = states[episode.pk]
                episode.state = state_changes(initial, state)
                episode.updated_at = now
            _write_steps(new_steps, list(stepped.values()))
    return results


def _states_of(episode: Episode) -> tuple[dict, dict]:
    """The episode's initial and current full states."""
    initial = environment_get(episode.env_id).reset(
        episode.seed, engine_task(episode.task), variant=episode.variant
    )
    return initial, {**initial, **episode.state}


def _apply(
    episode: Episode, states: dict[int, tuple[dict, dict]], request: StepRequest
) -> StepResult | ServiceError:
    """Step one episode in memory; the caller writes the new Step and the episode."""
    started = time.perf_counter()
    if episode.is_finished:
        return ServiceError(
            f"episode {episode.pk} has ended ({episode.status}); start a new episode",
            field="episode",
            code="conflict",
        )
    if request.reward_mode is not None and request.reward_mode != episode.reward_mode:
        return ServiceError(
            f"episode {episode.pk} was started with reward_mode '{episode.reward_mode}'; "
            "an episode keeps its reward mode (start a new one for another)",
            field="reward_mode",
        )
    env = environment_get(episode.env_id)
    task = engine_task(episode.task)
    initial, state = states[episode.pk]
    shown = request.shown
    page = shown.page if shown is not None and shown.shows(episode) else env.render(state)
    observation = page_to_json(page)
    error = ""
    try:
        parsed = parse_action(request.action)
        state = env.step(state, parsed, page)
        action = parsed.to_string()
    except ActionError as refusal:
        if not request.record_refusal:
            return ActionRefused(refusal)
        error = f"{refusal.code}: {refusal.message}"
        raw = request.action
        action = (raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True))[:2000]
        # Recorded as the agent wrote it, but for what no database stores in text.
        action = storable_escaped(action, nul="\\x00")
    states[episode.pk] = (initial, state)
    outcome = env.evaluate(state, task)
    terminated = outcome.success or state["finished"]
    # Every recorded step counts towards the limit, a refused one included.
    truncated = not terminated and episode.step_count + 1 >= task.max_steps
    reward, episode.paid_checks = step_reward(
        episode.reward_mode,
        rubric=reward_rubric(task.env, task.family),
        outcome=outcome,
        paid=episode.paid_checks,
        done=terminated or truncated,
    )
    step = Step(
        episode=episode,
        index=episode.step_count,
        action=action,
        observation=observation,
        reward=reward,
        terminated=terminated,
        truncated=truncated,
        error=error,
        think_ms=request.think_ms,
        apply_ms=round((time.perf_counter() - started) * 1000, 3),
        idempotency_key=request.idempotency_key,
    )
    episode.step_count += 1
    if terminated or truncated:
        _finish(
            episode, EpisodeStatus.TERMINATED if terminated else EpisodeStatus.TRUNCATED, outcome
        )
    return StepResult(episode=episode, step=step, page=env.render(state), before=page)


def episode_abandon(*, episode: Episode) -> Episode:
    """End a running episode without finishing the task; the verifier still records why."""
    with transaction.atomic():
        episode = (
            Episode.objects.select_for_update(of=("self",))
            .select_related("task")
            .get(pk=episode.pk)
        )
        if not episode.is_finished:
            _abandon_locked(episode)
    return episode


# Episodes of agents' own processes (the agent API and gymnasium, OpenEnv and trainers), which a
# client that dies without closing leaves running. Rollouts recover theirs (rollouts_recover);
# people come back to theirs.
CLIENT_SOURCES = ("api", "openenv")


def episodes_abandon_idle(*, idle_for: timedelta, now: datetime | None = None) -> int:
    """Abandon the running episodes of agents' own processes that no step has touched for
    `idle_for`, as a client's close would; return how many. Run by celery beat; an episode
    stepped meanwhile, or locked by a step in flight, is left running."""
    cutoff = (now or timezone.now()) - idle_for
    idle = Episode.objects.filter(
        status=EpisodeStatus.RUNNING,
        actor_kind=ActorKind.AGENT,
        source__in=CLIENT_SOURCES,
        updated_at__lte=cutoff,
    )
    abandoned = 0
    for pk in idle.order_by("pk").values_list("pk", flat=True).iterator():
        with transaction.atomic():
            skip_locked = connection.features.has_select_for_update_skip_locked
            episode = (
                idle.filter(pk=pk)
                .select_related("task")
                .select_for_update(skip_locked=skip_locked, of=("self",))
                .first()
            )
            if episode is not None:
                _abandon_locked(episode)
                abandoned += 1
    return abandoned


def _abandon_locked(episode: Episode) -> None:
    env = environment_get(episode.env_id)
    _finish(
        episode,
        EpisodeStatus.ABANDONED,
        env.evaluate(episode_state(episode), engine_task(episode.task)),
    )
    episode.save(update_fields=["status", "reward", "success", "outcome", "finished_at"])


def _finish(episode: Episode, status: str, outcome: Outcome) -> None:
    episode.status = status
    episode.reward = final_reward(
        episode.reward_mode,
        rubric=reward_rubric(episode.env_id, episode.task.family),
        outcome=outcome,
        paid=episode.paid_checks,
    )
    episode.success = outcome.success
    episode.outcome = outcome.to_dict()
    episode.finished_at = timezone.now()


def page_after(episode: Episode, step: Step) -> Page:
    """The page the actor saw right after `step`: the next step's observation, or the
    episode's current page when it was the last step."""
    following = episode.steps.filter(index=step.index + 1).only("observation").first()
    if following is not None:
        return page_from_json(following.observation)
    return episode_page(episode)


def episode_page(episode: Episode) -> Page:
    """The page the episode shows now."""
    return environment_get(episode.env_id).render(episode_state(episode))


@transaction.atomic
def episode_branch(
    *, episode: Episode, at_step: int, user: User, source: str, metadata: dict | None = None
) -> Episode:
    """A new episode of `episode`'s task and seed that has replayed its first `at_step` steps
    through the engine and continues from the state just before step `at_step` (a person
    taking over from an agent's mistake). Every page on the way, and the page it stops on,
    must equal the observation recorded then: the replay is refused (409, naming the step) when
    a page differs, and when the episode was recorded under another version of its
    environment."""
    env = environment_get(episode.env_id.rsplit("-v", 1)[0])
    if env.id != episode.env_id:
        raise ServiceError(
            f"episode {episode.pk} was recorded in {episode.env_id}; the environment is now "
            f"{env.id}, so its steps cannot be replayed",
            field="episode",
            code="conflict",
        )
    if not 0 <= at_step < episode.step_count:
        raise ServiceError(
            f"step {at_step} is out of range; episode {episode.pk} has steps 0 to "
            f"{episode.step_count - 1}",
            field="step",
        )
    recorded = list(episode.steps.order_by("index")[: at_step + 1])
    task = engine_task(episode.task)
    initial = env.reset(episode.seed, task)
    state, paid = initial, []
    rubric = reward_rubric(task.env, task.family)
    replayed: list[Step] = []
    for step in recorded:
        page = env.render(state)
        if page_to_json(page) != step.observation:
            raise ServiceError(
                f"step {step.index} of episode {episode.pk}: the page now differs from the one "
                "recorded, so the episode cannot be replayed",
                field="step",
                code="conflict",
            )
        if step.index == at_step:
            break
        if not step.error:
            state = env.step(state, parse_action(step.action), page)
        outcome = env.evaluate(state, task)
        reward, paid = step_reward(
            episode.reward_mode, rubric=rubric, outcome=outcome, paid=paid, done=False
        )
        replayed.append(
            Step(
                index=step.index,
                action=step.action,
                observation=step.observation,
                reward=reward,
                error=step.error,
            )
        )
    branch = Episode.objects.create(
        task=episode.task,
        env_id=episode.env_id,
        seed=episode.seed,
        actor_kind=ActorKind.CONTRACTOR,
        user=user,
        source=source,
        state=state_changes(initial, state),
        step_count=at_step,
        metadata={**(metadata or {}), "branched_from": episode.pk, "replayed_steps": at_step},
        reward_mode=episode.reward_mode,
        paid_checks=paid,
        observation_mode=episode.observation_mode,
        max_observation_chars=episode.max_observation_chars,
    )
    for step in replayed:
        step.episode = branch
    Step.objects.bulk_create(replayed)
    return branch
