"""The shop (`shop-v1`) through the gymnasium client against a live server, with no special
case: the solver's long checkout and its refusal-or-return answer are judged as in process."""

import json

import gymnasium
import pytest

import environments.client  # noqa: F401  (registers the ids)
from environments.engine import get_environment
from environments.engine.page import page_from_json
from environments.models import Episode
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("family", "seed"), [("gift_order", 4), ("return_if_eligible", 7)])
def test_the_solver_completes_a_shop_task_through_the_client(live_server, admin_user, family, seed):
    key = make_api_key(scopes=["agent"])[1]
    env = gymnasium.make(
        "rlplatform/shop-v1",
        base_url=live_server.url,
        api_key=key,
        family=family,
        observation_mode="json",
    )
    observation, info = env.reset(seed=seed)
    episode = Episode.objects.get(pk=info["episode_id"])
    engine = get_environment("shop-v1")
    task = engine.make_task(family, episode.seed)
    solver = engine.solver()
    solver.reset(task)
    terminated = truncated = False
    steps = 0
    while not (terminated or truncated):
        page = page_from_json(json.loads(observation["page"]))
        observation, reward, terminated, truncated, info = env.step(solver.act(task, page))
        assert info["last_action_error"] == ""
        steps += 1
    assert terminated and reward == 1.0, info["outcome"]
    assert Episode.objects.get(pk=env.unwrapped.episode_id).success is True
    if family == "gift_order":
        assert steps >= 25
    env.close()
