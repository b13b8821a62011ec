"""One seed everywhere: the agent API, gymnasium, OpenEnv and the TRL factory start the same
task for the same seed, and the same actions show byte-identical pages in each, in every text
observation mode and within the same budget."""

import gymnasium
import httpx
import pytest
from openenv import GenericEnvClient

import environments.client  # noqa: F401  (registers the ids)
from environments.engine import parse_action
from environments.engine.splits import split_families
from environments.models import Episode
from environments.trainers import PlatformToolEnv
from tests.openenv.live import solver_actions

pytestmark = pytest.mark.django_db(transaction=True)
ENV_ID, FAMILY, SEED = "bank-v1", "pay_bill", 7
# Less than the longest pages of this task (2,691 characters of axtree), so that some are cut.
BUDGET = 1000


def api(server, key) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1/", headers={"Authorization": f"Bearer {key}"}
    )


def through_the_api(server, key, actions: list[str], mode: str) -> list[str]:
    with api(server, key) as http:
        created = http.post(
            "episodes/",
            json={
                "environment": ENV_ID,
                "family": FAMILY,
                "seed": SEED,
                "observation_mode": mode,
                "max_observation_chars": BUDGET,
            },
        ).json()
        pages = [created["observation"]["content"]]
        for action in actions:
            stepped = http.post(f"episodes/{created['id']}/step/", json={"action": action})
            pages.append(stepped.json()["observation"]["content"])
    return pages


def through_gymnasium(server, key, actions: list[str], mode: str) -> list[str]:
    env = gymnasium.make(
        f"rlplatform/{ENV_ID}",
        base_url=server.url,
        api_key=key,
        observation_mode=mode,
        max_observation_chars=BUDGET,
    )
    observation, _ = env.reset(seed=SEED, options={"family": FAMILY})
    pages = [observation["page"]] + [env.step(action)[0]["page"] for action in actions]
    env.close()
    return pages


def session_url(server, key) -> str:
    with api(server, key) as http:
        minted = http.post("openenv/sessions/", json={"environment": ENV_ID})
    assert minted.status_code == 201, minted.text
    return minted.json()["url"]


def through_openenv(server, key, actions: list[str], mode: str) -> list[str]:
    with GenericEnvClient(base_url=session_url(server, key)).sync() as env:
        reset = env.reset(
            task_name=FAMILY, seed=SEED, observation_mode=mode, max_observation_chars=BUDGET
        )
        pages = [reset.observation["text"]]
        for action in actions:
            pages.append(env.step({"action_str": action}).observation["text"])
    return pages


def tool_page(text: str) -> str:
    """The page in a tool's answer (`Page:\\n...`, and how the episode ended after the last)."""
    return text.split("Page:\n", 1)[1].split("\n\nThe episode has ended", 1)[0]


def through_trl(server, key, actions: list[str], mode: str) -> list[str]:
    env = PlatformToolEnv(
        server.url, key, environment=ENV_ID, observation_mode=mode, max_observation_chars=BUDGET
    )
    pages = [tool_page(env.reset(family=FAMILY, seed=SEED))]
    for action in actions:
        parsed = parse_action(action)
        pages.append(tool_page(getattr(env, parsed.name)(**parsed.args)))
    env.get_reward()
    return pages


@pytest.mark.parametrize("mode", ["axtree", "pruned", "diff"])
def test_the_same_task_seed_and_actions_show_byte_identical_pages_everywhere(
    asgi_server, agent_key, mode
):
    actions = solver_actions(ENV_ID, FAMILY, SEED)
    pages = {
        "api": through_the_api(asgi_server, agent_key, actions, mode),
        "gymnasium": through_gymnasium(asgi_server, agent_key, actions, mode),
        "openenv": through_openenv(asgi_server, agent_key, actions, mode),
        "trl": through_trl(asgi_server, agent_key, actions, mode),
    }
    assert len(pages["api"]) == len(actions) + 1
    assert len(set(pages["api"])) == len(pages["api"])  # every step changed the page
    assert max(len(page) for page in pages["api"]) <= BUDGET
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
    # A train seed picks among the families trained on.
    assert info["family"] in split_families(ENV_ID, "train")
