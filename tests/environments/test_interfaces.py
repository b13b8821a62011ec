"""One seed everywhere: the agent API, gymnasium, OpenEnv and the TRL factory start the same
task for the same seed, and the same actions show byte-identical pages in each."""

import random

import gymnasium
import httpx
import pytest
from openenv import GenericEnvClient

import environments.client  # noqa: F401  (registers the ids)
from environments.engine import get_environment, parse_action
from environments.models import Episode
from environments.trainers import PlatformToolEnv
from tests.openenv.live import solver_actions

pytestmark = pytest.mark.django_db(transaction=True)
ENV_ID, FAMILY, SEED = "bank-v1", "pay_bill", 7


def api(server, key) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1/", headers={"Authorization": f"Bearer {key}"}
    )


def through_the_api(server, key, actions: list[str]) -> list[str]:
    with api(server, key) as http:
        created = http.post(
            "episodes/", json={"environment": ENV_ID, "family": FAMILY, "seed": SEED}
        ).json()
        pages = [created["observation"]["content"]]
        for action in actions:
            stepped = http.post(f"episodes/{created['id']}/step/", json={"action": action})
            pages.append(stepped.json()["observation"]["content"])
    return pages


def through_gymnasium(server, key, actions: list[str]) -> list[str]:
    env = gymnasium.make(f"rlplatform/{ENV_ID}", base_url=server.url, api_key=key)
    observation, _ = env.reset(seed=SEED, options={"family": FAMILY})
    pages = [observation["page"]] + [env.step(action)[0]["page"] for action in actions]
    env.close()
    return pages


def session_url(server, key) -> str:
    with api(server, key) as http:
        minted = http.post("openenv/sessions/", json={"environment": ENV_ID})
    assert minted.status_code == 201, minted.text
    return minted.json()["url"]


def through_openenv(server, key, actions: list[str]) -> list[str]:
    with GenericEnvClient(base_url=session_url(server, key)).sync() as env:
        pages = [env.reset(task_name=FAMILY, seed=SEED).observation["axtree_txt"]]
        for action in actions:
            pages.append(env.step({"action_str": action}).observation["axtree_txt"])
    return pages


def tool_page(text: str) -> str:
    """The page in a tool's answer (`Page:\\n...`, and how the episode ended after the last)."""
    return text.split("Page:\n", 1)[1].split("\n\nThe episode has ended", 1)[0]


def through_trl(server, key, actions: list[str]) -> list[str]:
    env = PlatformToolEnv(server.url, key, environment=ENV_ID)
    pages = [tool_page(env.reset(family=FAMILY, seed=SEED))]
    for action in actions:
        parsed = parse_action(action)
        pages.append(tool_page(getattr(env, parsed.name)(**parsed.args)))
    env.get_reward()
    return pages


def test_the_same_task_seed_and_actions_show_byte_identical_pages_everywhere(
    asgi_server, agent_key
):
    actions = solver_actions(ENV_ID, FAMILY, SEED)
    pages = {
        "api": through_the_api(asgi_server, agent_key, actions),
        "gymnasium": through_gymnasium(asgi_server, agent_key, actions),
        "openenv": through_openenv(asgi_server, agent_key, actions),
        "trl": through_trl(asgi_server, agent_key, actions),
    }
    assert len(pages["api"]) == len(actions) + 1
    assert len({page for run in pages.values() for page in run}) > 1  # the pages change
    for interface, run in pages.items():
        assert run == pages["api"], interface
    episodes = Episode.objects.select_related("task")
    assert [(e.task.family, e.seed, e.success) for e in episodes] == [(FAMILY, SEED, True)] * 4


def test_a_seed_alone_starts_the_same_task_everywhere(asgi_server, agent_key):
    env = gymnasium.make(f"rlplatform/{ENV_ID}", base_url=asgi_server.url, api_key=agent_key)
    _, info = env.reset(seed=SEED)
    env.close()
    with GenericEnvClient(base_url=session_url(asgi_server, agent_key)).sync() as session:
        observation = session.reset(seed=SEED).observation
    trainer = PlatformToolEnv(asgi_server.url, agent_key, environment=ENV_ID)
    trainer.reset(seed=SEED)
    trainer.get_reward()
    assert int(observation["task_id"]) == info["task_id"]
    tasks = set(Episode.objects.values_list("task__family", "seed"))
    assert tasks == {(info["family"], SEED)}
    # The rule each interface applies: the seed picks the family.
    families = sorted(get_environment(ENV_ID).families)
    assert info["family"] == random.Random(SEED).choice(families)
