"""openenv-core's own client, unmodified, completes a task on the platform through a session
URL: the no-glue path a stock OpenEnv trainer takes."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from openenv import GenericEnvClient

from environments.models import Episode, EpisodeStatus
from tests.conftest import key_client
from tests.openenv.live import solver_actions

pytestmark = pytest.mark.django_db(transaction=True)


def session_url(asgi_server, environment: str) -> str:
    minted = key_client(scopes=["agent"]).post(
        "/api/v1/openenv/sessions/", {"environment": environment}, format="json"
    )
    assert minted.status_code == 201
    return minted.json()["url"].replace("http://testserver", asgi_server.url)


def test_generic_env_client_completes_a_task(asgi_server, admin_user):
    actions = solver_actions("tickets-v1", "buy_tickets", 6)
    with GenericEnvClient(base_url=session_url(asgi_server, "tickets-v1")).sync() as env:
        result = env.reset(task_name="buy_tickets", seed=6)
        assert result.done is False and result.observation["goal"]
        for action in actions:
            result = env.step({"action_str": action})
        state = env.state()
    assert result.done is True and result.reward == 1.0
    assert set(result.observation["reward_components"].values()) == {1.0}
    assert state["status"] == "terminated" and state["step_count"] == len(actions)
    episode = Episode.objects.get(pk=result.observation["platform_episode_id"])
    assert episode.status == EpisodeStatus.TERMINATED and episode.source == "openenv"


def test_the_async_client_runs_many_sessions_at_once(asgi_server, admin_user):
    url = session_url(asgi_server, "bank-v1")
    actions = solver_actions("bank-v1", "cancel_payment", 1)

    async def rollout(index: int) -> float:
        async with GenericEnvClient(base_url=url) as env:
            await env.reset(task_name="cancel_payment", seed=1, episode_id=f"group-1/{index}")
            for action in actions:
                result = await env.step({"action_str": action})
            return result.reward

    async def group() -> list[float]:
        return await asyncio.gather(*(rollout(i) for i in range(8)))

    # In a thread of its own: Playwright's tests may leave an event loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        assert thread.submit(asyncio.run, group()).result() == [1.0] * 8
    episodes = Episode.objects.filter(source="openenv", task__family="cancel_payment", seed=1)
    assert sorted(e.metadata["openenv"]["episode_id"] for e in episodes) == [
        f"group-1/{i}" for i in range(8)
    ]
