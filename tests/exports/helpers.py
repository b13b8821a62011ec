"""Episodes made through the services, as the platform makes them."""

from environments.models import ActorKind, Episode
from tests.factories import play_episode


def demonstrations(user) -> list[Episode]:
    return [
        play_episode(
            user=user,
            env_id="bank-v1",
            family="transfer_funds",
            seed=seed,
            actor_kind=ActorKind.CONTRACTOR,
            source="browser",
        )
        for seed in (1, 2)
    ]


def solver_actions(env_id: str, family: str, seed: int) -> list[str]:
    """The actions the environment's scripted solver takes on a task."""
    from environments.engine import get_environment, run_episode

    env = get_environment(env_id)
    return run_episode(env, env.make_task(family, seed), env.solver())[1]


def play_actions(
    *, user, env_id: str, family: str, seed: int, actions: list[str], actor_kind: str = "agent"
) -> Episode:
    """An episode that takes exactly these actions through the services (a refused one is
    recorded as a failed step), abandoned if they do not end it."""
    from environments.services import (
        StepRequest,
        episode_abandon,
        episode_create,
        episodes_step,
        task_get_or_create,
    )

    task = task_get_or_create(env_id=env_id, family=family, seed=seed)
    episode = episode_create(task=task, user=user, actor_kind=actor_kind, source="test")
    for action in actions:
        (result,) = episodes_step(requests=[StepRequest(episode.pk, action, record_refusal=True)])
        episode = result.episode
        if episode.is_finished:
            return episode
    return episode_abandon(episode=episode)
