"""Episodes made through the services, as the platform makes them."""

from environments.engine import RandomPolicy, get_environment
from environments.models import ActorKind, Episode
from environments.services import (
    StepRequest,
    episode_abandon,
    episode_create,
    episode_state,
    episodes_step,
    task_get_or_create,
)


def play(*, user, env_id: str, family: str, seed: int, policy: str = "solver", **create) -> Episode:
    """An episode played to its end through episodes_step by the scripted solver or randomly."""
    env = get_environment(env_id)
    task = task_get_or_create(env_id=env_id, family=family, seed=seed)
    episode = episode_create(task=task, user=user, **create)
    engine_task = env.make_task(family, seed)
    actor = env.solver() if policy == "solver" else RandomPolicy(seed)
    actor.reset(engine_task)
    error = None
    while not episode.is_finished:
        action = actor.act(engine_task, env.render(episode_state(episode)), {"error": error})
        (result,) = episodes_step(requests=[StepRequest(episode.pk, action, record_refusal=True)])
        episode = result.episode
        error = result.step.error or None
        if episode.step_count >= 60:
            return episode_abandon(episode=episode)
    return episode


def demonstrations(user) -> list[Episode]:
    return [
        play(
            user=user,
            env_id="bank-v1",
            family="transfer_funds",
            seed=seed,
            actor_kind=ActorKind.CONTRACTOR,
            source="browser",
        )
        for seed in (1, 2)
    ]
