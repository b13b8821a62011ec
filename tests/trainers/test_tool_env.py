"""The environment_factory class TRL's GRPOTrainer takes, driven by hand against a live server:
its tools are the actions, reset(**row) starts the row's task, get_reward() is the verifier's."""

import inspect

import pytest
from transformers.utils import get_json_schema

from environments.engine.actions import SIGNATURES, parse_action
from environments.models import Episode, EpisodeStatus, Step
from environments.trainers import PlatformToolEnv, environment_factory, tasks_dataset
from environments.trainers.grpo import (
    DEFAULT_MAX_OBSERVATION_CHARS,
    DEFAULT_OBSERVATION_MODE,
    PlatformError,
)
from tests.openenv.live import solver_actions

pytestmark = pytest.mark.django_db(transaction=True)


def trl_tools(env) -> list:
    """The methods GRPOTrainer exposes as tools (as it finds them: on the class)."""
    return [
        getattr(env, name)
        for name, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
        if name not in ("reset", "get_reward") and not name.startswith("_")
    ]


def call(env, action: str) -> str:
    parsed = parse_action(action)
    return getattr(env, parsed.name)(**parsed.args)


def test_the_tools_are_the_action_grammar_with_schemas_transformers_can_build():
    env = PlatformToolEnv(base_url="http://127.0.0.1:9", api_key="unused")
    tools = trl_tools(env)
    assert sorted(tool.__name__ for tool in tools) == sorted(SIGNATURES)
    for tool in tools:
        schema = get_json_schema(tool)["function"]
        assert schema["name"] == tool.__name__
        assert schema["description"]
        assert list(schema["parameters"]["properties"]) == list(SIGNATURES[tool.__name__])
        for parameter in schema["parameters"]["properties"].values():
            assert parameter["type"] == "string" and parameter["description"]


def test_the_scripted_solvers_actions_through_the_tools_earn_reward_1(asgi_server, agent_key):
    row = {"environment": "bank-v1", "family": "add_payee_and_send", "seed": 9}
    actions = solver_actions("bank-v1", "add_payee_and_send", 9)
    env = environment_factory(asgi_server.url, agent_key)()
    first = env.reset(prompt=[{"role": "user", "content": "go"}], **row)
    assert first.startswith("\n\nGoal: Sign in as")
    assert "Page:\npage 'Sign in" in first
    for action in actions[:-1]:
        assert call(env, action).startswith("Page:\n")
    last = call(env, actions[-1])
    assert "The episode has ended" in last and "reward 1" in last
    assert env.get_reward() == 1.0
    with pytest.raises(ValueError, match="the episode has ended"):
        env.noop()
    episode = Episode.objects.get(source="openenv", task__family="add_payee_and_send", seed=9)
    assert episode.status == EpisodeStatus.TERMINATED and episode.reward == 1.0
    assert episode.step_count == len(actions)


def test_a_bad_action_raises_value_error_with_the_platforms_message(asgi_server, agent_key):
    env = PlatformToolEnv(asgi_server.url, agent_key, environment="bank-v1")
    env.reset(family="pay_bill", seed=3)
    with pytest.raises(ValueError, match="bid '77' does not exist on this page"):
        env.click("77")
    with pytest.raises(ValueError, match="which cannot be filled"):
        env.fill("3", "x")  # [3] is the Sign in button
    # Refused actions are part of the trajectory, as failed steps.
    episode = Episode.objects.get(source="openenv", task__family="pay_bill", seed=3)
    assert list(Step.objects.filter(episode=episode).values_list("error", flat=True)) == [
        "unknown_bid: bid '77' does not exist on this page",
        "not_interactive: element [3] is a button, which cannot be filled "
        "(fill works on textbox and number)",
    ]


def test_an_unfinished_rollout_is_ended_by_get_reward_and_reset(asgi_server, agent_key):
    env = PlatformToolEnv(asgi_server.url, agent_key)
    env.reset(environment="bank-v1", family="largest_purchase", seed=1)
    env.fill("1", "someone")
    assert env.get_reward() == 0.0
    env.reset(environment="bank-v1", family="largest_purchase", seed=2)
    env.reset(environment="bank-v1", family="largest_purchase", seed=3)
    statuses = dict(
        Episode.objects.filter(task__family="largest_purchase").values_list("seed", "status")
    )
    assert statuses == {1: "abandoned", 2: "abandoned", 3: "running"}


def test_reset_from_a_task_id_alone(asgi_server, agent_key):
    from environments.services import task_get_or_create

    task = task_get_or_create(env_id="ledger-v1", family="create_invoice", seed=4)
    env = PlatformToolEnv(asgi_server.url, agent_key)
    text = env.reset(task_id=task.pk)
    assert task.goal in text


def test_tasks_dataset_builds_a_datasets_dataset(asgi_server, agent_key):
    dataset = tasks_dataset(asgi_server.url, agent_key, environment="bank-v1")
    # The train split's first 100 seeds of its six families: more than one page of the API.
    assert len(dataset) == 6 * 100
    assert set(dataset.column_names) == {
        "prompt",
        "task_id",
        "seed",
        "environment",
        "family",
        "split",
    }
    assert set(dataset["split"]) == {"train"}
    assert dataset[0]["prompt"][0]["role"] == "system"
    assert len(set(dataset["task_id"])) == len(dataset)


def test_the_defaults_show_each_tool_what_changed_within_a_budget(asgi_server, agent_key):
    env = PlatformToolEnv(asgi_server.url, agent_key, environment="bank-v1")
    first = env.reset(family="pay_bill", seed=3)
    assert "Page:\npage 'Sign in" in first
    assert env.fill("1", "someone").startswith("Page:\ndiff of page 'Sign in")
    episode = Episode.objects.get(source="openenv", task__family="pay_bill", seed=3)
    assert (episode.reward_mode, episode.observation_mode, episode.max_observation_chars) == (
        "sparse",
        DEFAULT_OBSERVATION_MODE,
        DEFAULT_MAX_OBSERVATION_CHARS,
    )


def test_options_come_from_arguments_variables_and_the_row(asgi_server, agent_key, monkeypatch):
    monkeypatch.setenv("RLPLATFORM_REWARD_MODE", "partial")
    monkeypatch.setenv("RLPLATFORM_OBSERVATION_MODE", "pruned")
    monkeypatch.setenv("RLPLATFORM_MAX_OBSERVATION_CHARS", "0")
    from_variables = PlatformToolEnv(asgi_server.url, agent_key, environment="bank-v1")
    from_variables.reset(family="pay_bill", seed=1)
    from_arguments = environment_factory(
        asgi_server.url, agent_key, "bank-v1", reward_mode="progress", max_observation_chars=900
    )()
    from_arguments.reset(family="pay_bill", seed=2)
    from_arguments.reset(family="pay_bill", seed=3, reward_mode="sparse", observation_mode="axtree")
    settings = {
        e.seed: (e.reward_mode, e.observation_mode, e.max_observation_chars)
        for e in Episode.objects.filter(task__family="pay_bill")
    }
    assert settings == {
        1: ("partial", "pruned", None),
        2: ("progress", "pruned", 900),
        3: ("sparse", "axtree", 900),
    }
    with pytest.raises(PlatformError, match="observation_mode"):
        from_arguments.reset(family="pay_bill", seed=4, observation_mode="json")


def test_progress_rewards_add_up_to_the_episodes_return(asgi_server, agent_key):
    actions = solver_actions("bank-v1", "card_controls", 3)
    env = PlatformToolEnv(asgi_server.url, agent_key, environment="bank-v1", reward_mode="progress")
    env.reset(family="card_controls", seed=3)
    for action in actions:
        call(env, action)
    assert env.get_reward() == 1.0
    env.reset(family="card_controls", seed=3)
    for action in actions[:-1]:
        call(env, action)
    # Left unfinished, the episode is abandoned: its return is what its checks paid so far.
    unfinished = Episode.objects.filter(task__family="card_controls").order_by("-id").first()
    paid = sum(unfinished.steps.values_list("reward", flat=True))
    assert 0 < paid < 1.0
    assert env.get_reward() == paid


def test_a_row_with_a_family_and_no_seed_gets_a_train_seed(asgi_server, agent_key):
    env = PlatformToolEnv(asgi_server.url, agent_key, environment="bank-v1")
    env.reset(family="transfer_funds")
    env.reset(family="transfer_funds")
    seeds = list(
        Episode.objects.filter(task__family="transfer_funds").values_list("seed", flat=True)
    )
    assert len(seeds) == 2 and all(0 <= seed < 1_000_000 for seed in seeds)
