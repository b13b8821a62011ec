"""OpenEnv's WebSocket protocol against a live ASGI server: sessions, episodes, and every error
answered with an `error` message while the session goes on."""

import json

import pytest
from websockets.exceptions import ConnectionClosed

from environments.engine import get_environment, page_to_axtree
from environments.engine.observe import page_to_pruned
from environments.models import ActorKind, Episode, EpisodeStatus, Step
from tests.conftest import wait_for
from tests.openenv.live import solver_actions, websocket

pytestmark = pytest.mark.django_db(transaction=True)


def open_session(asgi_server, agent_key, env_id="bank-v1"):
    return websocket(
        f"{asgi_server.ws_url}/openenv/{env_id}/ws", {"Authorization": f"Bearer {agent_key}"}
    )


def ask(ws, message) -> dict:
    ws.send(message if isinstance(message, str) else json.dumps(message))
    return json.loads(ws.recv(timeout=30))


def reset(ws, **data) -> dict:
    reply = ask(ws, {"type": "reset", "data": data})
    assert reply["type"] == "observation", reply
    return reply["data"]


def step(ws, action: str) -> dict:
    reply = ask(ws, {"type": "step", "data": {"action_str": action}})
    assert reply["type"] == "observation", reply
    return reply["data"]


def test_a_session_completes_a_task_and_is_recorded_as_an_agent_episode(asgi_server, agent_key):
    actions = solver_actions("bank-v1", "transfer_funds", 4)
    with open_session(asgi_server, agent_key) as ws:
        first = reset(ws, task_name="transfer_funds", seed=4)
        assert first["reward"] == 0.0 and first["done"] is False
        observation = first["observation"]
        assert observation["goal"].startswith("Sign in as")
        assert observation["axtree_txt"] == observation["text"]
        assert observation["axtree_txt"].startswith("page 'Sign in")
        assert 'data-bid="1"' in observation["pruned_html"]
        assert observation["url"] == "/bank/signin"
        assert observation["last_action_error"] is False and observation["error"] == ""
        assert observation["reward_components"] == {} and observation["truncated"] is False
        results = [step(ws, action) for action in actions]
    assert [r["done"] for r in results] == [False] * (len(actions) - 1) + [True]
    last = results[-1]
    assert last["reward"] == 1.0
    assert last["observation"]["truncated"] is False
    assert set(last["observation"]["reward_components"].values()) == {1.0}
    assert "no_collateral_damage" in last["observation"]["reward_components"]

    episode = Episode.objects.get(pk=observation["platform_episode_id"])
    assert episode.source == "openenv"
    assert episode.actor_kind == ActorKind.AGENT
    assert episode.task.pk == observation["task_id"]
    assert (episode.task.family, episode.seed) == ("transfer_funds", 4)
    assert episode.status == EpisodeStatus.TERMINATED and episode.reward == 1.0
    assert list(episode.steps.values_list("action", flat=True)) == actions


def test_the_same_task_and_seed_give_the_same_first_state(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        by_family = reset(ws, task_name="pay_bill", seed=11)["observation"]
        again = reset(ws, task_name="pay_bill", seed=11)["observation"]
        by_task = reset(ws, task_id=by_family["task_id"])["observation"]
        other_seed = reset(ws, task_name="pay_bill", seed=12)["observation"]
    for observation in (again, by_task):
        assert observation["task_id"] == by_family["task_id"]
        assert observation["goal"] == by_family["goal"]
        assert observation["axtree_txt"] == by_family["axtree_txt"]
        assert observation["platform_episode_id"] != by_family["platform_episode_id"]
    assert other_seed["goal"] != by_family["goal"]


def test_a_seed_alone_picks_the_family_from_the_seed(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        first = reset(ws, seed=77)["observation"]
        second = reset(ws, seed=77)["observation"]
        unseeded = reset(ws)["observation"]
    assert first["task_id"] == second["task_id"]
    assert unseeded["goal"]


def test_resetting_ends_the_previous_episode(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        first = reset(ws, task_name="cancel_payment", seed=1)["observation"]
        reset(ws, task_name="cancel_payment", seed=2)
    episode = Episode.objects.get(pk=first["platform_episode_id"])
    assert episode.status == EpisodeStatus.ABANDONED
    assert episode.outcome["reward_components"]


def test_the_episode_id_given_to_reset_names_the_episode(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        observation = reset(ws, seed=3, episode_id="rollout-17/3")["observation"]
        state = ask(ws, {"type": "state"})
    assert observation["episode_id"] == "rollout-17/3"
    assert state["data"]["episode_id"] == "rollout-17/3"


def test_a_refused_action_comes_back_as_an_observation_error_and_is_recorded(
    asgi_server, agent_key
):
    with open_session(asgi_server, agent_key) as ws:
        first = reset(ws, task_name="pay_bill", seed=5)["observation"]
        refused = step(ws, "click('999')")
        malformed = step(ws, "click(")
    observation = refused["observation"]
    assert refused["done"] is False and refused["reward"] == 0.0
    assert observation["last_action_error"] is True
    assert observation["error_code"] == "unknown_bid"
    assert observation["error"] == "bid '999' does not exist on this page"
    assert observation["axtree_txt"] == first["axtree_txt"]
    assert observation["step_count"] == 1
    assert malformed["observation"]["error_code"] == "malformed_action"
    steps = Step.objects.filter(episode_id=first["platform_episode_id"]).order_by("index")
    assert [step.error.split(":")[0] for step in steps] == ["unknown_bid", "malformed_action"]


def test_the_step_limit_truncates_the_episode(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        first = reset(ws, task_name="cancel_payment", seed=3)["observation"]
        episode = Episode.objects.select_related("task").get(pk=first["platform_episode_id"])
        results = [step(ws, "noop()") for _ in range(episode.task.max_steps)]
        after = ask(ws, {"type": "step", "data": {"action_str": "noop()"}})
    assert [r["done"] for r in results][-2:] == [False, True]
    assert results[-1]["observation"]["truncated"] is True
    assert results[-1]["reward"] == 0.0
    assert results[-1]["observation"]["reward_components"]["cancelled"] == 0.0
    assert after["type"] == "error" and after["data"]["code"] == "EXECUTION_ERROR"
    assert "has ended (truncated)" in after["data"]["message"]
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.TRUNCATED


@pytest.mark.parametrize(
    ("message", "code", "error"),
    [
        ("{not json", "INVALID_JSON", None),
        ('{"type": "dance"}', "UNKNOWN_TYPE", None),
        ("[1, 2]", "VALIDATION_ERROR", {"type": "dict_type", "loc": []}),
        ('{"type": "step"}', "VALIDATION_ERROR", {"type": "missing", "loc": ["data"]}),
        (
            '{"type": "step", "data": {"action": "click(\'1\')"}}',
            "VALIDATION_ERROR",
            {"type": "extra_forbidden", "loc": ["action"]},
        ),
        (
            '{"type": "step", "data": {"action_str": 12}}',
            "VALIDATION_ERROR",
            {"type": "string_type", "loc": ["action_str"]},
        ),
        (
            '{"type": "reset", "data": {"seed": -1}}',
            "VALIDATION_ERROR",
            {"type": "greater_than_equal", "loc": ["seed"]},
        ),
        (
            '{"type": "state", "data": {}}',
            "VALIDATION_ERROR",
            {"type": "extra_forbidden", "loc": ["data"]},
        ),
        ('{"type": "reset", "data": {"task_name": "nope"}}', "EXECUTION_ERROR", None),
        ('{"type": "reset", "data": {"task_id": 999999}}', "EXECUTION_ERROR", None),
        # Echoed back in the error: past what orjson writes (64 bits), so json writes it.
        (
            '{"type": "reset", "data": {"seed": 100000000000000000000}}',
            "VALIDATION_ERROR",
            {"type": "less_than_equal", "loc": ["seed"]},
        ),
        (
            '{"type": "reset", "data": {"episode_id": "a\\u0000b"}}',
            "VALIDATION_ERROR",
            {"type": "string_type", "loc": ["episode_id"]},
        ),
    ],
)
def test_a_bad_message_is_answered_with_an_error_and_the_session_goes_on(
    asgi_server, agent_key, message, code, error
):
    with open_session(asgi_server, agent_key) as ws:
        reply = ask(ws, message)
        assert reply["type"] == "error"
        assert reply["data"]["code"] == code
        assert reply["data"]["message"]
        if error is not None:
            assert reply["data"]["message"] == "Invalid message"
            found = [e for e in reply["data"]["errors"] if e["type"] == error["type"]]
            assert found and {key: found[0][key] for key in error} == error
            found = found[0]
            assert set(found) >= {"type", "loc", "msg", "input"}
        assert reset(ws, seed=1)["observation"]["goal"]


def test_a_refused_reset_leaves_the_sessions_episode_as_it_was(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        reset(ws, task_name="pay_bill", seed=3)
        reply = ask(ws, {"type": "reset", "data": {"task_id": 999999}})
        assert reply["type"] == "error"
        stepped = step(ws, "noop()")
        # Read while the session is open: closing it ends the episode.
        episode = Episode.objects.get(
            task__family="pay_bill", task__seed=3, actor_kind=ActorKind.AGENT
        )
    assert stepped["done"] is False
    assert episode.status == EpisodeStatus.RUNNING
    assert episode.step_count == 1


def test_a_step_before_any_reset_is_an_execution_error(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        reply = ask(ws, {"type": "step", "data": {"action_str": "noop()"}})
    assert reply["type"] == "error" and reply["data"]["code"] == "EXECUTION_ERROR"
    assert "send reset first" in reply["data"]["message"]


def test_state_describes_the_sessions_episode(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        empty = ask(ws, {"type": "state"})
        observation = reset(ws, task_name="statement_balance", seed=8)["observation"]
        step(ws, "fill('1', 'someone')")
        state = ask(ws, {"type": "state"})
    assert empty == {
        "type": "state",
        "data": {
            "episode_id": None,
            "step_count": 0,
            "benchmark": "rlplatform",
            "task_name": "",
            "task_id": None,
            "goal": "",
            "current_url": "",
            "max_steps": None,
            "cum_reward": 0.0,
            "environment": "",
            "seed": None,
            "status": "",
            "platform_episode_id": None,
            "reward_components": {},
        },
    }
    data = state["data"]
    assert data["episode_id"] == observation["episode_id"]
    assert data["platform_episode_id"] == observation["platform_episode_id"]
    assert data["step_count"] == 1
    assert (data["task_name"], data["seed"], data["environment"]) == (
        "statement_balance",
        8,
        "bank-v1",
    )
    assert data["task_id"] == str(observation["task_id"])
    assert data["current_url"] == "/bank/signin"
    assert data["status"] == "running" and data["max_steps"] > 0


def test_close_ends_the_episode_and_the_socket(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        observation = reset(ws, seed=9)["observation"]
        ws.send(json.dumps({"type": "close"}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1000
    episode = Episode.objects.get(pk=observation["platform_episode_id"])
    assert episode.status == EpisodeStatus.ABANDONED


def test_a_client_that_goes_away_has_its_episode_abandoned(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        observation = reset(ws, seed=10)["observation"]
    # The client hung up without a close message.
    episode = Episode.objects.filter(pk=observation["platform_episode_id"])
    wait_for(
        lambda: episode.filter(status=EpisodeStatus.ABANDONED).exists(),
        timeout=15,
        message="the episode to be abandoned",
    )


def test_an_mcp_message_is_answered_as_openenv_answers_for_a_non_mcp_environment(
    asgi_server, agent_key
):
    with open_session(asgi_server, agent_key) as ws:
        reply = ask(
            ws, {"type": "mcp", "data": {"jsonrpc": "2.0", "method": "tools/list", "id": 4}}
        )
    assert reply == {
        "type": "mcp",
        "data": {
            "jsonrpc": "2.0",
            "id": 4,
            "error": {"code": -32603, "message": "Environment does not support MCP", "data": None},
        },
    }


def test_every_environment_is_served(asgi_server, agent_key):
    for env_id in ("bank-v1", "tickets-v1", "ledger-v1"):
        with open_session(asgi_server, agent_key, env_id=env_id) as ws:
            assert reset(ws, seed=2)["observation"]["goal"]


def test_an_unknown_environment_is_answered_and_closed(asgi_server, agent_key):
    with open_session(asgi_server, agent_key, env_id="casino-v1") as ws:
        reply = json.loads(ws.recv(timeout=10))
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
    assert reply["type"] == "error"
    assert "casino" in reply["data"]["message"]


def test_reset_chooses_the_reward_and_observation_modes(asgi_server, agent_key):
    actions = solver_actions("bank-v1", "card_controls", 3)
    with open_session(asgi_server, agent_key) as ws:
        first = reset(
            ws,
            task_name="card_controls",
            seed=3,
            reward_mode="progress",
            observation_mode="diff",
            max_observation_chars=1500,
        )
        observation = first["observation"]
        # The first page whole (pruned); axtree_txt stays the full tree.
        env = get_environment("bank")
        page = env.render(env.reset(3, env.make_task("card_controls", 3)))
        assert observation["text"] == page_to_pruned(page)
        assert observation["axtree_txt"] == page_to_axtree(page)
        typed = step(ws, actions[0])["observation"]["text"]
        assert typed.startswith("diff of page 'Sign in") and "~ [1] textbox" in typed
        results = [step(ws, action) for action in actions[1:]]
        state = ask(ws, {"type": "state"})["data"]
    rewards = [result["reward"] for result in results]
    assert sum(rewards) == 1.0 and state["cum_reward"] == 1.0
    assert 0 < rewards[-1] < 1.0  # the card's status paid before the last step did
    episode = Episode.objects.get(pk=observation["platform_episode_id"])
    assert (episode.reward_mode, episode.observation_mode, episode.max_observation_chars) == (
        "progress",
        "diff",
        1500,
    )
    assert episode.reward == 1.0


@pytest.mark.parametrize(
    ("data", "loc", "kind"),
    [
        ({"reward_mode": "dense"}, "reward_mode", "literal_error"),
        ({"observation_mode": "json"}, "observation_mode", "literal_error"),
        ({"max_observation_chars": 10}, "max_observation_chars", "greater_than_equal"),
        ({"max_observation_chars": "many"}, "max_observation_chars", "int_parsing"),
    ],
)
def test_bad_reset_options_are_validation_errors_naming_them(
    asgi_server, agent_key, data, loc, kind
):
    with open_session(asgi_server, agent_key) as ws:
        reply = ask(ws, {"type": "reset", "data": {"seed": 1, **data}})
    assert reply["type"] == "error" and reply["data"]["code"] == "VALIDATION_ERROR"
    (error,) = reply["data"]["errors"]
    assert error["loc"] == [loc] and error["type"] == kind
    assert not Episode.objects.exists()


def test_a_reset_without_a_seed_draws_one_from_the_train_split(asgi_server, agent_key):
    from environments.engine.splits import split_of_seed

    with open_session(asgi_server, agent_key) as ws:
        for _ in range(12):
            reset(ws, task_name="statement_balance")
            reset(ws)
    episodes = Episode.objects.all()
    assert {split_of_seed(episode.seed) for episode in episodes} == {"train"}
    unnamed = [e for e in episodes if e.task.family != "statement_balance"]
    held_out = set(get_environment("bank").heldout_families)
    assert unnamed and not {episode.task.family for episode in unnamed} & held_out
