"""The gymnasium clients drive a live server from an agent's side of the wire."""

import copy
import json
import multiprocessing as mp
import warnings

import gymnasium
import httpx
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv
from gymnasium.vector.utils import (
    create_shared_memory,
    read_from_shared_memory,
    write_to_shared_memory,
)

from environments.client import (
    MAX_PAGE_CHARS,
    ActionText,
    PlatformVectorEnv,
    UnicodeText,
    register_environments,
)
from environments.engine import get_environment, list_environments, parse_action
from environments.engine.actions import MAX_ACTION_CHARS
from environments.engine.page import page_from_json
from environments.engine.splits import split_families, split_seed_range
from environments.models import Episode, EpisodeStatus, Step
from tests.openenv.live import solver_actions

pytestmark = pytest.mark.django_db(transaction=True)
INFO_KEYS = {"task_id", "family", "seed", "steps", "last_action_error", "outcome"}
# Text no alphanumeric character set can hold: accents, CJK, an emoji, a lone surrogate, NUL.
UNICODE = "Zürich 東京 \U0001f600 \ud800 \x00 'quoted' \"double\""


def make(server, key, env_id="bank-v1", **kwargs):
    return gymnasium.make(f"rlplatform/{env_id}", base_url=server.url, api_key=key, **kwargs)


def make_vec(server, key, num_envs, **kwargs):
    return gymnasium.make_vec(
        "rlplatform/bank-v1", num_envs=num_envs, base_url=server.url, api_key=key, **kwargs
    )


def running_episodes() -> list[int]:
    return list(Episode.objects.filter(status=EpisodeStatus.RUNNING).values_list("pk", flat=True))


def test_every_environment_is_registered_with_a_vector_entry_point():
    ids = register_environments()
    assert ids == [f"rlplatform/{env.id}" for env in list_environments()]
    for gym_id in ids:
        spec = gymnasium.spec(gym_id)
        assert spec.entry_point == "environments.client:PlatformEnv"
        assert spec.vector_entry_point == "environments.client:PlatformVectorEnv"


@pytest.mark.parametrize("env_id", [env.id for env in list_environments()])
def test_the_client_passes_gymnasiums_env_checker_without_warnings(asgi_server, agent_key, env_id):
    env = make(asgi_server, agent_key, env_id, render_mode="ansi")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(warning.message) for warning in caught] == [], "\n".join(
        str(w.message) for w in caught
    )
    env.close()
    # The checker's own environments (made from the spec to try render modes and close) too.
    assert running_episodes() == []


def test_reset_with_a_seed_starts_the_platforms_task_seed(asgi_server, agent_key):
    env = make(asgi_server, agent_key)
    observation, info = env.reset(seed=7, options={"family": "pay_bill"})
    episode = Episode.objects.get(pk=env.unwrapped.episode_id)
    assert (episode.task.family, episode.seed) == ("pay_bill", 7)
    assert (info["family"], info["seed"], info["task_id"]) == ("pay_bill", 7, episode.task_id)
    assert observation["goal"] == episode.task.goal
    again, _ = env.reset(seed=7, options={"family": "pay_bill"})
    assert again == observation
    env.close()


def test_a_reset_without_a_seed_draws_one_from_the_split_reproducibly(asgi_server, agent_key):
    first, second = make(asgi_server, agent_key), make(asgi_server, agent_key)
    first.reset(seed=5)
    second.reset(seed=5)
    drawn = [first.reset()[1] for _ in range(3)]
    assert drawn == [second.reset()[1] for _ in range(3)]
    train = split_seed_range("train", env_id="bank-v1")
    assert all(info["seed"] in train for info in drawn)
    assert len({(info["family"], info["seed"]) for info in drawn}) == 3
    _, info = first.reset(options={"split": "validation", "family": "pay_bill"})
    assert info["seed"] in split_seed_range("validation", env_id="bank-v1")
    assert info["family"] == "pay_bill"
    first.close()
    second.close()


def test_reset_and_close_end_the_episode_they_leave(asgi_server, agent_key):
    env = make(asgi_server, agent_key)
    env.reset(seed=1)
    first = env.unwrapped.episode_id
    env.step("noop()")
    env.reset(seed=2)
    assert Episode.objects.get(pk=first).status == EpisodeStatus.ABANDONED
    assert running_episodes() == [env.unwrapped.episode_id]
    env.close()
    assert running_episodes() == []
    env.close()  # a second close is allowed and sends nothing


def test_a_refused_action_comes_back_as_last_action_error(asgi_server, agent_key):
    env = make(asgi_server, agent_key)
    observation, _ = env.reset(seed=1)
    after, reward, terminated, truncated, info = env.step("click('99999')")
    assert after == observation
    assert reward == 0.0 and not terminated and not truncated
    assert info["last_action_error"] == "bid '99999' does not exist on this page"
    env.close()


def test_refused_actions_count_towards_the_step_limit(asgi_server, agent_key):
    env = make(asgi_server, agent_key)
    _, info = env.reset(seed=4, options={"family": "pay_bill"})
    limit = Episode.objects.get(pk=env.unwrapped.episode_id).task.max_steps
    for _ in range(limit - 1):
        assert env.step("click('99999')")[3] is False
    _, reward, terminated, truncated, info = env.step("click('99999')")
    assert truncated and not terminated and reward == 0.0
    assert info["outcome"]["success"] is False
    # Each refused action is on the platform as a failed step, as OpenEnv records them.
    episode = Episode.objects.get(pk=env.unwrapped.episode_id)
    assert (episode.status, episode.step_count) == (EpisodeStatus.TRUNCATED, limit)
    assert [(step.action, step.error) for step in episode.steps.all()] == [
        ("click('99999')", "unknown_bid: bid '99999' does not exist on this page")
    ] * limit
    env.close()


def solve(env, family: str, seed: int) -> list[tuple]:
    """Reset to a task and play the scripted solver's actions; return every step's result."""
    env.reset(seed=seed, options={"family": family})
    return [env.step(action) for action in solver_actions("bank-v1", family, seed)]


def test_the_scripted_solver_completes_a_task_through_the_client(asgi_server, agent_key):
    env = make(asgi_server, agent_key, family="transfer_funds", observation_mode="json")
    observation, info = env.reset(seed=9)
    engine = get_environment("bank-v1")
    solver = engine.solver()
    task = engine.make_task("transfer_funds", 9)
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


def test_a_step_after_the_end_returns_the_final_observation_with_reward_0(asgi_server, agent_key):
    env = make(asgi_server, agent_key)
    *_, (final, reward, terminated, truncated, info) = solve(env, "pay_bill", 3)
    assert terminated and not truncated and reward == 1.0
    steps = Step.objects.count()
    with pytest.warns(UserWarning, match="after the episode ended"):
        after = env.step("noop()")
    assert after[:4] == (final, 0.0, True, False)
    assert after[4]["outcome"] == info["outcome"]
    assert "call reset()" in after[4]["last_action_error"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, as gymnasium's own environments do
        env.step("noop()")
    assert Step.objects.count() == steps
    env.close()


def test_info_has_the_same_keys_on_every_call(asgi_server, agent_key):
    env = make(asgi_server, agent_key)
    _, reset_info = env.reset(seed=3, options={"family": "pay_bill"})
    infos = [reset_info, env.step("click('99999')")[4]]
    infos += [result[4] for result in solve(env, "pay_bill", 3)]
    with pytest.warns(UserWarning):
        infos.append(env.step("noop()")[4])
    assert [set(info) for info in infos] == [INFO_KEYS] * len(infos)
    assert infos[0]["outcome"] == {} and infos[-1]["outcome"]["success"] is True
    env.close()


def test_options_reach_the_api_and_reset_overrides_the_constructor(asgi_server, agent_key):
    env = make(asgi_server, agent_key, observation_mode="json")
    observation, _ = env.reset(seed=2)
    assert json.loads(observation["page"])["url"] == observation["url"]
    observation, _ = env.reset(seed=2, options={"observation_mode": "axtree"})
    assert observation["page"].startswith("page '")
    observation, _ = env.step("noop()")[:2]
    assert observation["page"].startswith("page '")
    with pytest.raises(ValueError, match="unknown reset option 'famly'"):
        env.reset(options={"famly": "pay_bill"})
    with pytest.raises(ValueError, match="observation_mode must be one of"):
        env.reset(options={"observation_mode": "pixels"})
    with pytest.raises(ValueError, match="bank-v1 has no task family 'pay_bills'; families: "):
        env.reset(options={"family": "pay_bills"})
    with pytest.raises(ValueError, match="no task family 'pay_bills'"):
        make(asgi_server, agent_key, family="pay_bills")
    with pytest.raises(ValueError, match=f"between 100 and {MAX_PAGE_CHARS}"):
        env.reset(options={"max_observation_chars": MAX_PAGE_CHARS + 1})
    with pytest.raises(ValueError, match="applies to the text modes"):
        env.reset(options={"observation_mode": "html", "max_observation_chars": 500})
    env.close()


@pytest.mark.parametrize("reward_mode", ["sparse", "partial", "progress"])
def test_step_rewards_sum_to_the_episodes_return_in_every_reward_mode(
    asgi_server, agent_key, reward_mode
):
    env = make(asgi_server, agent_key, reward_mode=reward_mode)
    solved = sum(result[1] for result in solve(env, "pay_bill", 3))
    episode = Episode.objects.get(pk=env.unwrapped.episode_id)
    assert (episode.reward_mode, episode.status) == (reward_mode, EpisodeStatus.TERMINATED)
    assert solved == episode.reward == 1.0
    # Half the solution, then refused actions up to the step limit, which the last one reaches.
    actions = solver_actions("bank-v1", "pay_bill", 3)
    env.reset(seed=3, options={"family": "pay_bill"})
    rewards = [env.step(action)[1] for action in actions[: len(actions) // 2]]
    truncated = False
    while not truncated:
        _, reward, _, truncated, _ = env.step("click('99999')")
        rewards.append(reward)
    episode = Episode.objects.get(pk=env.unwrapped.episode_id)
    assert episode.status == EpisodeStatus.TRUNCATED
    assert sum(rewards) == episode.reward
    env.close()


def test_observation_settings_are_recorded_and_pages_kept_within_the_budget(asgi_server, agent_key):
    env = make(asgi_server, agent_key, observation_mode="pruned", max_observation_chars=300)
    assert env.observation_space["page"].max_length == 300
    pages = [result[0]["page"] for result in solve(env, "pay_bill", 3)]
    assert max(len(page) for page in pages) <= 300
    assert any("[" in page for page in pages)
    episode = Episode.objects.get(pk=env.unwrapped.episode_id)
    assert (episode.observation_mode, episode.max_observation_chars) == ("pruned", 300)
    env.close()


def test_the_action_space_holds_any_text_up_to_the_servers_limit_and_samples_parse(
    asgi_server, agent_key
):
    env = make(asgi_server, agent_key)
    space = env.action_space
    assert UNICODE in space and "x" * MAX_ACTION_CHARS in space
    assert "" not in space and "x" * (MAX_ACTION_CHARS + 1) not in space and 3 not in space
    space.seed(11)
    samples = [space.sample() for _ in range(300)]
    space.seed(11)
    assert samples == [space.sample() for _ in range(300)]
    assert {parse_action(sample).name for sample in samples} == set(
        ["click", "fill", "select_option", "check", "uncheck", "goto", "send_msg_to_user", "noop"]
    )
    env.reset(seed=6)
    for sample in samples[:40]:
        info = env.step(sample)[4]
        # Refused or not, never for its grammar.
        assert not info["last_action_error"].startswith(("malformed", "unknown action"))
        if info["outcome"]:
            env.reset()
    env.close()


def test_hostile_text_comes_back_as_an_observation_or_a_refusal(asgi_server, agent_key):
    env = make(asgi_server, agent_key)
    observation, _ = env.reset(seed=8, options={"family": "pay_bill"})
    arabic_indic_one = "\u0661"
    hostile = (UNICODE, "\x00", "click('\ud800')", f"click({arabic_indic_one})", "(" * 5000)
    for action in hostile:
        after, reward, *_, info = env.step(action)
        assert info["last_action_error"] and after == observation and reward == 0.0
    text = "Zürich 東京 \U0001f600 'quoted'"
    after, *_, info = env.step(f"fill('1', {text!r})")
    assert info["last_action_error"] == ""
    assert after in env.observation_space and "Zürich 東京 \U0001f600" in after["page"]
    env.close()
    # In a batch, one hostile action is refused alone.
    envs = make_vec(asgi_server, agent_key, 2)
    envs.reset(seed=8)
    *_, infos = envs.step(("click('\x00')", "noop()"))
    assert "contains a NUL character" in infos["last_action_error"][0]
    assert list(infos["last_action_error"][1:]) == [""] and list(infos["steps"]) == [1, 1]
    envs.close()


def test_the_observation_space_holds_any_unicode_and_flattens_losslessly():
    space = UnicodeText(64, min_length=0)
    assert UNICODE in space and "" in space and "x" * 65 not in space
    flat = gymnasium.spaces.flatten(space, UNICODE)
    assert flat in gymnasium.spaces.flatten_space(space)
    assert gymnasium.spaces.unflatten(space, flat) == UNICODE
    memory = create_shared_memory(space, n=2, ctx=mp)
    write_to_shared_memory(space, 1, UNICODE, memory)
    write_to_shared_memory(space, 0, "plain", memory)
    # A view: what is written later shows, and a copy is the strings of that moment.
    view = read_from_shared_memory(space, memory, n=2)
    assert copy.deepcopy(view) == ("plain", UNICODE)
    write_to_shared_memory(space, 0, "later", memory)
    assert tuple(view) == ("later", UNICODE)
    assert ActionText(("transfers",)) != ActionText(("payees",))


def counted_client(server, key, requests: list) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1/",
        headers={"Authorization": f"Bearer {key}"},
        event_hooks={"request": [lambda request: requests.append(request.url.path)]},
    )


def test_make_vec_steps_sixteen_episodes_in_one_request(asgi_server, agent_key):
    requests: list[str] = []
    envs = make_vec(
        asgi_server, agent_key, 16, http_client=counted_client(asgi_server, agent_key, requests)
    )
    assert isinstance(envs, PlatformVectorEnv)
    assert envs.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.NEXT_STEP
    observations, infos = envs.reset(seed=100)
    assert list(infos["seed"]) == list(range(100, 116))
    assert observations in envs.observation_space
    requests.clear()
    observations, rewards, terminated, truncated, infos = envs.step(["noop()"] * 16)
    assert requests == ["/api/v1/episodes/batch-step/"]
    assert observations in envs.observation_space
    assert rewards.shape == terminated.shape == truncated.shape == (16,)
    stepped = Episode.objects.filter(pk__in=envs.episode_ids)
    assert sorted(stepped.values_list("step_count", flat=True)) == [1] * 16
    envs.action_space.seed(0)
    observations = envs.step(envs.action_space.sample())[0]
    assert observations in envs.observation_space
    envs.close()
    assert running_episodes() == []


def test_every_vectorization_mode_starts_and_steps_the_same_episodes(asgi_server, agent_key):
    results = {}
    for mode in ("vector_entry_point", "sync", "async"):
        envs = make_vec(asgi_server, agent_key, 3, vectorization_mode=mode, family="pay_bill")
        assert not isinstance(envs, AsyncVectorEnv) or envs.shared_memory
        first = envs.reset(seed=20)
        steps = [envs.step(("click('1')", "fill('1', 'x')", "noop()")) for _ in range(2)]
        unseeded = envs.reset()
        envs.close()
        results[mode] = (first, steps, unseeded)
        assert running_episodes() == []
    reference = results.pop("vector_entry_point")
    for mode, result in results.items():
        (observations, infos), steps, (unseeded, unseeded_infos) = result
        assert observations == reference[0][0], mode
        assert list(infos["seed"]) == [20, 21, 22]
        for step, expected in zip(steps, reference[1], strict=True):
            assert step[0] == expected[0]
            for got, want in zip(step[1:4], expected[1:4], strict=True):
                np.testing.assert_array_equal(got, want)
        assert unseeded == reference[2][0], mode
        np.testing.assert_array_equal(unseeded_infos["seed"], reference[2][1]["seed"])


def test_the_vector_env_autoresets_an_ended_episode_on_the_next_step(asgi_server, agent_key):
    envs = make_vec(asgi_server, agent_key, 2)
    envs.reset(seed=30)
    ended = envs.episode_ids[0]
    _, rewards, terminated, _, infos = envs.step(("send_msg_to_user('done')", "noop()"))
    assert list(terminated) == [True, False]
    assert infos["outcome"]["_success"].tolist() == [True, False]
    _, rewards, terminated, truncated, infos = envs.step(("noop()", "noop()"))
    assert envs.episode_ids[0] != ended
    assert rewards[0] == 0.0 and not terminated[0] and not truncated[0]
    assert list(infos["steps"]) == [0, 2]
    assert Episode.objects.get(pk=ended).status == EpisodeStatus.TERMINATED
    envs.close()
    assert running_episodes() == []


def test_same_step_autoreset_returns_the_final_observation_in_info(asgi_server, agent_key):
    envs = make_vec(asgi_server, agent_key, 2, autoreset_mode="SameStep")
    observations, _ = envs.reset(seed=40)
    _, _, terminated, _, infos = envs.step(("send_msg_to_user('done')", "noop()"))
    assert list(terminated) == [True, False]
    assert infos["_final_obs"].tolist() == [True, False]
    assert infos["final_obs"][0]["url"] == observations["url"][0]
    assert list(infos["steps"]) == [0, 1]
    envs.close()


def test_a_vector_reset_of_some_environments_ends_only_theirs(asgi_server, agent_key):
    envs = make_vec(asgi_server, agent_key, 3, autoreset_mode="Disabled")
    envs.reset(seed=50)
    before = envs.episode_ids
    envs.step(("send_msg_to_user('done')", "noop()", "noop()"))
    with pytest.raises(RuntimeError, match=r"environments \[0\] have ended"):
        envs.step(("noop()", "noop()", "noop()"))
    _, infos = envs.reset(options={"reset_mask": np.array([True, True, False])})
    assert infos["_seed"].tolist() == [True, True, False]
    assert envs.episode_ids[2] == before[2] and envs.episode_ids[:2] != before[:2]
    statuses = dict(Episode.objects.filter(pk__in=before).values_list("pk", "status"))
    assert [statuses[pk] for pk in before] == [
        EpisodeStatus.TERMINATED,
        EpisodeStatus.ABANDONED,
        EpisodeStatus.RUNNING,
    ]
    envs.close()
    assert running_episodes() == []


def test_reset_options_apply_to_that_reset_and_autoresets_use_the_constructors(
    asgi_server, agent_key
):
    envs = make_vec(asgi_server, agent_key, 2, reward_mode="partial")
    envs.reset(seed=70, options={"observation_mode": "pruned", "family": "pay_bill"})
    envs.step(("send_msg_to_user('done')", "noop()"))
    envs.step(("noop()", "noop()"))  # the first autoresets
    settings = {
        pk: (family, mode, reward)
        for pk, family, mode, reward in Episode.objects.filter(pk__in=envs.episode_ids).values_list(
            "pk", "task__family", "observation_mode", "reward_mode"
        )
    }
    first, second = (settings[pk] for pk in envs.episode_ids)
    assert first[1:] == ("axtree", "partial") and first[0] in split_families("bank-v1", "train")
    assert second == ("pay_bill", "pruned", "partial")
    envs.close()


def test_the_vector_env_starts_its_episodes_in_the_variant_asked_for(asgi_server, agent_key):
    envs = make_vec(asgi_server, agent_key, 2, variant="layout", family="pay_bill")
    envs.reset(seed=80, options={"variant": "distractors"})
    reset = list(envs.episode_ids)
    envs.step(("send_msg_to_user('done')", "noop()"))
    envs.step(("noop()", "noop()"))  # the first autoresets, in the constructor's variant
    variants = dict(
        Episode.objects.filter(pk__in=[*reset, *envs.episode_ids]).values_list("pk", "variant")
    )
    assert [variants[pk] for pk in reset] == ["distractors", "distractors"]
    assert variants[envs.episode_ids[0]] == "layout"
    with pytest.raises(ValueError, match="variant must be one of"):
        envs.reset(options={"variant": "Mixed"})
    envs.close()


def test_sync_vector_env_of_clients_leaves_nothing_running(asgi_server, agent_key):
    envs = make_vec(asgi_server, agent_key, 2, vectorization_mode="sync")
    assert isinstance(envs, SyncVectorEnv)
    envs.reset(seed=60)
    envs.reset(seed=61)
    envs.close()
    assert running_episodes() == []
