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
