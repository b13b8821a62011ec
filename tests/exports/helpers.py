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


# Data made through the API, as a lab's pipeline makes it.


def api_episode(
    client, *, env_id: str, family: str, seed: int, actions: list[str], variant: str = "default"
) -> int:
    """An episode an agent plays through the API with these actions (a refused one changes
    nothing) in this UI variant, abandoned if they do not end it; its id."""
    body = {"environment": env_id, "family": family, "seed": seed, "variant": variant}
    created = client.post("/api/v1/episodes/", body, format="json")
    assert created.status_code == 201, created.json()
    episode = created.json()["id"]
    for action in actions:
        stepped = client.post(
            f"/api/v1/episodes/{episode}/step/", {"action": action}, format="json"
        )
        if stepped.status_code == 200 and stepped.json()["status"] != "running":
            return episode
    client.post(f"/api/v1/episodes/{episode}/abandon/", {}, format="json")
    return episode


def api_campaign(manager_client, *, kind: str, schema: list, items: list[dict]) -> int:
    """An active campaign with these items, made through the API; its id."""
    created = manager_client.post(
        "/api/v1/campaigns/",
        {"name": f"{kind} for training", "kind": kind, "schema": schema, "overlap": 2},
        format="json",
    )
    assert created.status_code == 201, created.json()
    campaign = created.json()["id"]
    added = manager_client.post(
        f"/api/v1/campaigns/{campaign}/items/", {"items": items}, format="json"
    )
    assert added.status_code == 201, added.json()
    activated = manager_client.post(
        f"/api/v1/campaigns/{campaign}/status/", {"status": "active"}, format="json"
    )
    assert activated.status_code == 200, activated.json()
    return campaign


def api_work_queue(contractor_client, campaign: int, answers_for) -> int:
    """The contractor judges every item of the campaign waiting for them, through the API:
    `answers_for(assignment body)` gives the answers. How many were submitted."""
    done = 0
    while True:
        leased = contractor_client.post(
            "/api/v1/queue/next/", {"campaign": campaign}, format="json"
        )
        if leased.status_code == 204:
            return done
        assignment = leased.json()
        submitted = contractor_client.post(
            f"/api/v1/assignments/{assignment['id']}/submit/",
            {"answers": answers_for(assignment), "time_spent_ms": 3000},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"submit-{assignment['id']}",
        )
        assert submitted.status_code == 201, submitted.json()
        done += 1


def api_demonstrate(contractor_client, campaign: int) -> int:
    """The contractor demonstrates every task waiting for them, playing the scripted solver's
    actions on the assignment's episode through the API."""
    from environments.models import Episode

    def demonstrate(assignment: dict) -> dict:
        episode = Episode.objects.select_related("task").get(pk=assignment["episode"])
        task = episode.task
        for action in solver_actions(task.env_id, task.family, task.seed):
            stepped = contractor_client.post(
                f"/api/v1/episodes/{episode.pk}/step/", {"action": action}, format="json"
            )
            assert stepped.status_code == 200, stepped.json()
            if stepped.json()["status"] != "running":
                break
        return {}

    return api_work_queue(contractor_client, campaign, demonstrate)
