"""Writes of the environments app: tasks, episodes and their steps.

Every actor steps through `episode_step`: the agent API, the browser, rollouts and trainer
sessions alike, so every trajectory is recorded the same way.
"""

import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from environments.engine import ActionError, Outcome, Page, get_environment, parse_action
from environments.engine import Task as EngineTask
from environments.engine.base import Environment
from environments.engine.page import page_to_json
from environments.models import ActorKind, Episode, EpisodeStatus, Step, Task
from rlplatform.models import ApiKey, User
from rlplatform.services import ServiceError

MAX_SEED = 2**31 - 1


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


def episode_create(
    *,
    task: Task,
    user: User,
    api_key: ApiKey | None = None,
    actor_kind: str | None = None,
    source: str = "api",
    metadata: dict | None = None,
) -> Episode:
    """Start an episode of `task`: the environment's initial state for the task's seed."""
    env = environment_get(task.env_id)
    state = env.reset(task.seed, engine_task(task))
    return Episode.objects.create(
        task=task,
        env_id=task.env_id,
        seed=task.seed,
        actor_kind=actor_kind or (ActorKind.AGENT if api_key else ActorKind.CONTRACTOR),
        user=user,
        api_key=api_key,
        source=source,
        state=state,
        metadata=metadata or {},
    )


@dataclass
class StepResult:
    episode: Episode
    step: Step
    # The page the actor sees now, after the step.
    page: Page
    replayed: bool = False


def episode_step(
    *,
    episode_id: int,
    action: str | dict,
    idempotency_key: str | None = None,
    think_ms: int | None = None,
) -> StepResult:
    """Apply one action to a running episode, in one transaction with the episode row locked.

    A step whose idempotency key was already applied returns the recorded result instead of
    stepping again. A refused action raises ActionRefused and changes nothing.
    """
    started = time.perf_counter()
    with transaction.atomic():
        episode = Episode.objects.select_for_update().select_related("task").get(pk=episode_id)
        if idempotency_key:
            recorded = episode.steps.filter(idempotency_key=idempotency_key).first()
            if recorded is not None:
                return StepResult(
                    episode=episode,
                    step=recorded,
                    page=page_after(episode, recorded),
                    replayed=True,
                )
        if episode.is_finished:
            raise ServiceError(
                f"episode {episode.pk} has ended ({episode.status}); start a new episode",
                field="episode",
                code="conflict",
            )
        env = environment_get(episode.env_id)
        task = engine_task(episode.task)
        state = episode.state
        observation = page_to_json(env.render(state))
        try:
            parsed = parse_action(action)
            state = env.step(state, parsed)
        except ActionError as error:
            raise ActionRefused(error) from None
        outcome = env.evaluate(state, task)
        terminated = outcome.success or state["finished"]
        truncated = not terminated and state["steps"] >= task.max_steps
        step = Step.objects.create(
            episode=episode,
            index=episode.step_count,
            action=parsed.to_string(),
            observation=observation,
            reward=outcome.reward if terminated or truncated else 0.0,
            terminated=terminated,
            truncated=truncated,
            think_ms=think_ms,
            apply_ms=round((time.perf_counter() - started) * 1000, 3),
            idempotency_key=idempotency_key or None,
        )
        episode.state = state
        episode.step_count += 1
        fields = ["state", "step_count", "updated_at"]
        if terminated or truncated:
            _finish(
                episode,
                EpisodeStatus.TERMINATED if terminated else EpisodeStatus.TRUNCATED,
                outcome,
            )
            fields += ["status", "reward", "success", "outcome", "finished_at"]
        episode.save(update_fields=fields)
    return StepResult(episode=episode, step=step, page=env.render(state))


def episode_abandon(*, episode: Episode) -> Episode:
    """End a running episode without finishing the task; the verifier still records why."""
    with transaction.atomic():
        episode = Episode.objects.select_for_update().select_related("task").get(pk=episode.pk)
        if episode.is_finished:
            return episode
        env = environment_get(episode.env_id)
        _finish(
            episode, EpisodeStatus.ABANDONED, env.evaluate(episode.state, engine_task(episode.task))
        )
        episode.save(update_fields=["status", "reward", "success", "outcome", "finished_at"])
    return episode


def _finish(episode: Episode, status: str, outcome: Outcome) -> None:
    episode.status = status
    episode.reward = outcome.reward
    episode.success = outcome.success
    episode.outcome = outcome.to_dict()
    episode.finished_at = timezone.now()


def page_after(episode: Episode, step: Step) -> Page:
    """The page the actor saw right after `step`: the next step's observation, or the
    episode's current page when it was the last step."""
    from environments.engine.page import page_from_json

    following = episode.steps.filter(index=step.index + 1).only("observation").first()
    if following is not None:
        return page_from_json(following.observation)
    return environment_get(episode.env_id).render(episode.state)
