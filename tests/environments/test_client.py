"""The gymnasium client drives a live server from an agent's side of the wire."""

import json

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import environments.client  # noqa: F401  (registers the ids)
from environments.engine import get_environment
from environments.engine.page import page_from_json
from environments.models import Episode
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent_key(admin_user) -> str:
    return make_api_key(scopes=["agent"])[1]


def make(live_server, agent_key, **kwargs):
    return gymnasium.make(
        "rlplatform/bank-v1", base_url=live_server.url, api_key=agent_key, **kwargs
    )


def test_every_environment_is_registered_under_rlplatform():
    assert "rlplatform/bank-v1" in gymnasium.registry


def test_the_client_passes_gymnasiums_env_checker(live_server, agent_key):
    env = make(live_server, agent_key, disable_env_checker=True)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_reset_with_a_seed_starts_the_same_task_in_the_same_state(live_server, agent_key):
    env = make(live_server, agent_key)
    first, first_info = env.reset(seed=123)
    second, second_info = env.reset(seed=123)
    assert first == second
    assert first_info["task_id"] == second_info["task_id"]
    assert first_info["episode_id"] != second_info["episode_id"]
    env.close()


def test_a_refused_action_comes_back_as_last_action_error(live_server, agent_key):
    env = make(live_server, agent_key)
    observation, _ = env.reset(seed=1)
    after, reward, terminated, truncated, info = env.step("click('99999')")
    assert after == observation
    assert reward == 0.0 and not terminated and not truncated
    assert "does not exist" in info["last_action_error"]
    env.close()


def test_the_scripted_solver_completes_a_task_through_the_client(live_server, agent_key):
    env = make(live_server, agent_key, family="transfer_funds", observation_mode="json")
    observation, info = env.reset(seed=9)
    episode = Episode.objects.get(pk=info["episode_id"])
    engine = get_environment("bank-v1")
    solver = engine.solver()
    task = engine.make_task("transfer_funds", episode.seed)
    solver.reset(task)
    terminated = truncated = False
    while not (terminated or truncated):
        page = page_from_json(json.loads(observation["page"]))
        observation, reward, terminated, truncated, info = env.step(solver.act(task, page))
        assert info["last_action_error"] == ""
    assert terminated and reward == 1.0
    assert info["outcome"]["success"] is True
    assert Episode.objects.get(pk=env.unwrapped.episode_id).success is True
    env.close()
