"""One airline task and seed through the four interfaces agents and trainers use (the agent API,
the gymnasium client, an OpenEnv session, the TRL factory): each starts the same episode, and
the scripted solver's actions earn the full reward through the trainers' seams."""

import json

import gymnasium
import httpx
import pytest

import environments.client  # noqa: F401  (registers the gymnasium ids)
from environments.engine import get_environment, parse_action
from environments.models import Episode, EpisodeStatus
from environments.services import episode_state
from environments.trainers import environment_factory
from tests.openenv.live import solver_actions, websocket

pytestmark = pytest.mark.django_db(transaction=True)

ROW = {"environment": "airline-v1", "family": "change_flight", "seed": 7}


def ask(ws, message: dict) -> dict:
    ws.send(json.dumps(message))
    return json.loads(ws.recv(timeout=30))


def test_an_airline_task_and_seed_start_the_same_episode_through_every_interface(
    asgi_server, agent_key
):
    engine = get_environment("airline-v1")
    task = engine.make_task(ROW["family"], ROW["seed"])
    expected = engine.reset(task.seed, task)

    started = httpx.post(
        f"{asgi_server.url}/api/v1/episodes/",
        json=ROW,
        headers={"Authorization": f"Bearer {agent_key}"},
    )
    assert started.status_code == 201, started.text
    assert started.json()["task"]["goal"] == task.goal

    gym = gymnasium.make("rlplatform/airline-v1", base_url=asgi_server.url, api_key=agent_key)
    _, info = gym.reset(seed=ROW["seed"], options={"family": ROW["family"]})
    assert info["family"] == ROW["family"]
    gym.close()

    url = f"{asgi_server.ws_url}/openenv/airline-v1/ws"
    with websocket(url, {"Authorization": f"Bearer {agent_key}"}) as ws:
        reply = ask(ws, {"type": "reset", "data": {"task_name": ROW["family"], "seed": 7}})
        assert reply["type"] == "observation", reply
        assert reply["data"]["observation"]["goal"] == task.goal
        actions = solver_actions("airline-v1", ROW["family"], ROW["seed"])
        for action in actions:
            reply = ask(ws, {"type": "step", "data": {"action_str": action}})
        assert reply["data"]["done"] is True and reply["data"]["reward"] == 1.0

    trl = environment_factory(asgi_server.url, agent_key)()
    first = trl.reset(prompt=[{"role": "user", "content": "go"}], **ROW)
    assert task.goal in first
    for action in actions:
        parsed = parse_action(action)
        getattr(trl, parsed.name)(**parsed.args)
    assert trl.get_reward() == 1.0

    episodes = Episode.objects.filter(task__env_id="airline-v1", seed=ROW["seed"])
    assert episodes.count() == 4
    finished = episodes.filter(status=EpisodeStatus.TERMINATED, reward=1.0)
    assert finished.count() == 2
    for episode in episodes.exclude(pk__in=finished):  # the API's and gymnasium's, not stepped
        assert json.dumps(episode_state(episode), sort_keys=True) == json.dumps(
            expected, sort_keys=True
        )
