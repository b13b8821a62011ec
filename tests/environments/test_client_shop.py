"""The shop (`shop-v1`) through the gymnasium client against a live server, with no special
case: the solver's long checkout, and the return task's return (even seed) and refusal (odd
seed), are judged as in process."""

import json

import gymnasium
import pytest

import environments.client  # noqa: F401  (registers the ids)
from environments.engine import get_environment
from environments.engine.page import page_from_json
from environments.models import Episode

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("family", "seed"), [("gift_order", 4), ("return_if_eligible", 6), ("return_if_eligible", 7)]
)
def test_the_solver_completes_a_shop_task_through_the_client(asgi_server, agent_key, family, seed):
    env = gymnasium.make(
        "rlplatform/shop-v1",
        base_url=asgi_server.url,
        api_key=agent_key,
        family=family,
        observation_mode="json",
    )
    observation, info = env.reset(seed=seed)
    engine = get_environment("shop-v1")
    task = engine.make_task(family, seed)
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
    episode = Episode.objects.get(pk=env.unwrapped.episode_id)
    assert episode.success is True and episode.seed == seed
    if family == "gift_order":
        assert steps >= 25
    else:
        assert task.params["eligible"] == (seed % 2 == 0)
    env.close()
