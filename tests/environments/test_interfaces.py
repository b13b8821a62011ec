"""One seed everywhere: the agent API, gymnasium, OpenEnv and the TRL factory start the same
task for the same seed and UI variant, and the same actions show byte-identical pages in each,
in every text observation mode and within the same budget."""

import itertools

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
SEED = 7
# One family of each environment the seed test runs on.
TASKS = [
    ("bank-v1", "pay_bill", SEED),
    ("hr-v1", "request_time_off", SEED),
    ("shop-v1", "exchange_item", SEED),
    ("helpdesk-v1", "assign_ticket", SEED),
]
# Less than the longest pages of these tasks (2,691 characters of axtree in pay_bill, 1,854 in
# exchange_item, 4,431 in assign_ticket), so that some are cut.
BUDGET = 1000


def api(server, key) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1/", headers={"Authorization": f"Bearer {key}"}
    )


def through_the_api(
    server, key, task: tuple, actions: list[str], mode: str, variant: str = "default"
) -> list[str]:
    env_id, family, seed = task
    with api(server, key) as http:
        created = http.post(
            "episodes/",
            json={
                "environment": env_id,
                "family": family,
                "seed": seed,
                "observation_mode": mode,
                "max_observation_chars": BUDGET,
                "variant": variant,
            },
        ).json()
        pages = [created["observation"]["content"]]
        for action in actions:
            stepped = http.post(f"episodes/{created['id']}/step/", json={"action": action})
            pages.append(stepped.json()["observation"]["content"])
    return pages


def through_gymnasium(
    server, key, task: tuple, actions: list[str], mode: str, variant: str = "default"
) -> list[str]:
    env_id, family, seed = task
    env = gymnasium.make(
        f"rlplatform/{env_id}",
        base_url=server.url,
        api_key=key,
        observation_mode=mode,
        max_observation_chars=BUDGET,
    )
    observation, _ = env.reset(seed=seed, options={"family": family, "variant": variant})
    pages = [observation["page"]] + [env.step(action)[0]["page"] for action in actions]
    env.close()
    return pages


def session_url(server, key, env_id: str) -> str:
    with api(server, key) as http:
        minted = http.post("openenv/sessions/", json={"environment": env_id})
    assert minted.status_code == 201, minted.text
    return minted.json()["url"]


def through_openenv(
    server, key, task: tuple, actions: list[str], mode: str, variant: str = "default"
) -> list[str]:
    env_id, family, seed = task
    with GenericEnvClient(base_url=session_url(server, key, env_id)).sync() as env:
        reset = env.reset(
            task_name=family,
            seed=seed,
            observation_mode=mode,
            max_observation_chars=BUDGET,
            variant=variant,
        )
        pages = [reset.observation["text"]]
        for action in actions:
            pages.append(env.step({"action_str": action}).observation["text"])
    return pages


def tool_page(text: str) -> str:
    """The page in a tool's answer (`Page:\\n...`, and how the episode ended after the last)."""
    return text.split("Page:\n", 1)[1].split("\n\nThe episode has ended", 1)[0]


def through_trl(
    server, key, task: tuple, actions: list[str], mode: str, variant: str = "default"
) -> list[str]:
    env_id, family, seed = task
    env = PlatformToolEnv(
        server.url, key, environment=env_id, observation_mode=mode, max_observation_chars=BUDGET
    )
    pages = [tool_page(env.reset(family=family, seed=seed, variant=variant))]
    for action in actions:
        parsed = parse_action(action)
        pages.append(tool_page(getattr(env, parsed.name)(**parsed.args)))
    env.get_reward()
    return pages


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task[0])
@pytest.mark.parametrize("mode", ["axtree", "pruned", "diff"])
def test_the_same_task_seed_and_actions_show_byte_identical_pages_everywhere(
    asgi_server, agent_key, mode, task
):
    actions = solver_actions(*task)
    pages = {
        "api": through_the_api(asgi_server, agent_key, task, actions, mode),
        "gymnasium": through_gymnasium(asgi_server, agent_key, task, actions, mode),
        "openenv": through_openenv(asgi_server, agent_key, task, actions, mode),
        "trl": through_trl(asgi_server, agent_key, task, actions, mode),
    }
    assert len(pages["api"]) == len(actions) + 1
    # Every step changed the page. A page may come back later (assign_ticket looks at the agents
    # and returns to the queue it started on), so only neighbours must differ.
    assert all(before != after for before, after in itertools.pairwise(pages["api"]))
    assert max(len(page) for page in pages["api"]) <= BUDGET
    for interface, run in pages.items():
        assert run == pages["api"], interface
    episodes = Episode.objects.select_related("task")
    _, family, seed = task
    assert [(e.task.family, e.seed, e.success) for e in episodes] == [(family, seed, True)] * 4


@pytest.mark.parametrize("variant", ["wording", "mixed"])
def test_a_variant_shows_byte_identical_pages_everywhere(asgi_server, agent_key, variant):
    task = TASKS[0]
    actions = solver_actions(*task, variant)
    pages = {
        run.__name__: run(asgi_server, agent_key, task, actions, "axtree", variant)
        for run in (through_the_api, through_gymnasium, through_openenv, through_trl)
    }
    for interface, run in pages.items():
        assert run == pages["through_the_api"], interface
    default = through_the_api(asgi_server, agent_key, task, solver_actions(*task), "axtree")
    assert pages["through_the_api"][0] != default[0]  # the variant shows other pages
    episodes = Episode.objects.order_by("pk")
    assert [(e.variant, e.success) for e in episodes] == [(variant, True)] * 4 + [("default", True)]
    with api(asgi_server, agent_key) as http:
        listed = http.get("episodes/").json()["results"]
    assert sorted(e["variant"] for e in listed) == ["default"] + [variant] * 4


def test_an_unknown_variant_is_refused_naming_the_field(asgi_server, agent_key):
    env_id, family, seed = TASKS[0]
    with api(asgi_server, agent_key) as http:
        one = http.post(
            "episodes/",
            json={"environment": env_id, "family": family, "seed": seed, "variant": "nope"},
        )
        batch = http.post(
            "episodes/batch-create/",
            json={
                "episodes": [
                    {"environment": env_id, "family": family, "seed": seed},
                    {"environment": env_id, "family": family, "seed": seed, "variant": "\x00"},
                ]
            },
        )
    assert one.status_code == 400 and "variant" in one.text, one.text
    assert batch.status_code == 400 and "variant" in batch.text, batch.text
    with pytest.raises(ValueError, match="variant must be one of"):
        gymnasium.make(
            f"rlplatform/{env_id}", base_url=asgi_server.url, api_key=agent_key, variant="nope"
        ).reset(seed=seed)
    with httpx.Client(headers={"Authorization": f"Bearer {agent_key}"}) as http:
        reset = http.post(
            f"{asgi_server.url}/openenv/{env_id}/reset", json={"seed": seed, "variant": "nope"}
        )
    assert reset.status_code == 422 and reset.json()["detail"][0]["loc"][-1] == "variant"
    assert not Episode.objects.exists()


@pytest.mark.parametrize("env_id", [task[0] for task in TASKS])
def test_a_seed_alone_starts_the_same_task_everywhere(asgi_server, agent_key, env_id):
    env = gymnasium.make(f"rlplatform/{env_id}", base_url=asgi_server.url, api_key=agent_key)
    _, info = env.reset(seed=SEED)
    env.close()
    with GenericEnvClient(base_url=session_url(asgi_server, agent_key, env_id)).sync() as session:
        observation = session.reset(seed=SEED).observation
    trainer = PlatformToolEnv(asgi_server.url, agent_key, environment=env_id)
    trainer.reset(seed=SEED)
    trainer.get_reward()
    assert int(observation["task_id"]) == info["task_id"]
    tasks = set(Episode.objects.values_list("task__family", "seed"))
    assert tasks == {(info["family"], SEED)}
    # A train seed picks among the families trained on.
    assert info["family"] in split_families(env_id, "train")
