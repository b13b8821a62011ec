"""The chat policy: prompts, action extraction, retries; policies resume where they stopped."""

import pytest

from environments.engine import get_environment
from environments.engine.observe import observe, page_diff, page_to_pruned
from environments.engine.prompts import REASONING_RULES, STEP_RULES
from environments.policies import ChatPolicy, PolicyUnavailable, Turn, build_policy, extract_action
from tests.conftest import signed_in
from tests.environments.fake_llm import FakeChatServer


@pytest.mark.parametrize(
    ("reply", "action"),
    [
        ("click('12')", "click('12')"),
        ("I should sign in first.\nAction: fill('3', 'mchen42')", "fill('3', 'mchen42')"),
        ("```\nselect_option('9', 'Savings')\n```", "select_option('9', 'Savings')"),
        ("First click('1'), then click('2').", "click('2')"),
        ("I am not sure what to do.", None),
    ],
)
def test_the_action_is_the_last_call_in_the_reply(reply, action):
    assert extract_action(reply) == action


def test_the_prompt_has_the_goal_the_page_and_the_history():
    env = get_environment("bank-v1")
    task = env.make_task("pay_bill", 3)
    page = env.render(env.reset(3, task))
    with FakeChatServer(["fill('1', 'x')", "click('3')"]) as server:
        policy = ChatPolicy(base_url=server.url, model="tiny", api_key="secret")
        policy.reset(task)
        assert policy.act(task, page, "") == "fill('1', 'x')"
        assert policy.act(task, page, "unknown_bid: bid '1' does not exist") == "click('3')"
    first, second = (request["body"] for request in server.requests)
    assert first["model"] == "tiny"
    system, user = first["messages"]
    assert system["content"] == f"{STEP_RULES}\n\nTask: {task.goal}"
    assert "Previous steps: none" in user["content"]
    assert f"Current page:\n{observe(page, 'pruned', max_chars=1800)}" in user["content"]
    assert "1. fill('1', 'x') -> refused: unknown_bid" in second["messages"][1]["content"]
    assert server.requests[0]["auth"] == "Bearer secret"
    assert server.requests[0]["path"] == "/v1/chat/completions"


def test_the_reasoning_prompt_changes_the_rules_only():
    env = get_environment("bank-v1")
    task = env.make_task("pay_bill", 3)
    state = env.reset(3, task)
    pages = [env.render(state), env.render(env.step(state, "fill('1', 'x')"))]
    asked = {}
    for prompt in ("step", "reasoning"):
        with FakeChatServer(["fill('1', 'x')", "Now the password.\nfill('2', 'y')"]) as server:
            policy = ChatPolicy(base_url=server.url, model="m", prompt=prompt)
            policy.reset(task)
            actions = [policy.act(task, page, "") for page in pages]
            assert actions == ["fill('1', 'x')", "fill('2', 'y')"]
        asked[prompt] = [request["body"]["messages"] for request in server.requests]
    for step, reasoning in zip(asked["step"], asked["reasoning"], strict=True):
        assert reasoning[0]["content"] == f"{REASONING_RULES}\n\nTask: {task.goal}"
        assert reasoning[1] == step[1]


def test_server_errors_are_retried_with_backoff_then_give_up():
    env = get_environment("bank-v1")
    task = env.make_task("pay_bill", 3)
    page = env.render(env.reset(3, task))
    with FakeChatServer([503, 429, "noop()"]) as server:
        policy = ChatPolicy(base_url=server.url, model="m", backoff=0.01)
        assert policy.act(task, page, "") == "noop()"
    assert len(server.requests) == 3
    with FakeChatServer([500]) as server:
        policy = ChatPolicy(base_url=server.url, model="m", backoff=0.01, retries=2)
        with pytest.raises(PolicyUnavailable, match="no answer after 2 tries"):
            policy.act(task, page, "")


def test_a_resumed_scripted_solver_continues_with_the_same_actions():
    env = get_environment("bank-v1")
    task = env.make_task("transfer_funds", 5)
    whole = build_policy({"kind": "scripted"}, env_id="bank-v1")
    whole.reset(task)
    state, pages, actions = env.reset(5, task), [], []
    for _ in range(6):
        page = env.render(state)
        pages.append(page)
        actions.append(whole.act(task, page, ""))
        state = env.step(state, actions[-1])
    resumed = build_policy({"kind": "scripted"}, env_id="bank-v1")
    resumed.reset(task)
    resumed.resume(task, [Turn(p, a, "") for p, a in zip(pages[:4], actions[:4], strict=True)])
    assert [resumed.act(task, page, "") for page in pages[4:]] == actions[4:]


def test_the_platforms_model_key_goes_only_to_the_platforms_model_server(settings):
    from environments.rollouts import server_key_for

    settings.CHAT_POLICY_BASE_URL = "http://models.internal:8000/v1"
    settings.CHAT_POLICY_API_KEY = "platform-secret"
    assert server_key_for({"base_url": "http://models.internal:8000/v1/"}) == "platform-secret"
    assert server_key_for({"base_url": "http://attacker.example/v1"}) == ""
    settings.CHAT_POLICY_BASE_URL = ""
    assert server_key_for({"base_url": "http://models.internal:8000/v1"}) == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("base_url", "allowed"),
    [
        ("https://models.internal/v1", True),
        ("http://gpu-3.cluster.example.com:8000/v1", True),
        ("http://169.254.169.254/latest/meta-data", False),
        ("http://localhost:5432", False),
        ("https://example.com.attacker.net/v1", False),
        ("file:///etc/passwd", False),
        ("models.internal/v1", False),
    ],
)
def test_chat_rollouts_call_only_the_hosts_the_platform_allows(
    settings, manager, base_url, allowed
):
    settings.CHAT_POLICY_ALLOWED_HOSTS = ["models.internal", "*.example.com"]
    response = signed_in(manager).post(
        "/api/v1/rollouts/",
        {
            "environments": ["bank-v1"],
            "families": ["pay_bill"],
            "count": 1,
            "policy": {"kind": "chat", "base_url": base_url, "model": "m"},
        },
        format="json",
    )
    if allowed:
        assert response.status_code == 202, response.json()
    else:
        assert response.status_code == 400
        assert "policy.base_url" in response.json()["error"]["fields"]


def test_a_chat_policy_sees_pages_in_its_observation_mode():
    env = get_environment("bank-v1")
    task = env.make_task("pay_bill", 3)
    state = env.reset(3, task)
    first = env.render(state)
    typed = env.render(env.step(state, "fill('1', 'x')"))
    with FakeChatServer(["fill('1', 'x')"]) as server:
        policy = ChatPolicy(
            base_url=server.url, model="tiny", observation_mode="diff", max_observation_chars=400
        )
        policy.reset(task)
        policy.act(task, first, "")
        policy.act(task, typed, "")
        resumed = ChatPolicy(
            base_url=server.url, model="tiny", observation_mode="diff", max_observation_chars=400
        )
        resumed.reset(task)
        resumed.resume(task, [Turn(first, "fill('1', 'x')", "")])
        resumed.act(task, typed, "")
    prompts = [request["body"]["messages"][1]["content"] for request in server.requests]
    assert page_to_pruned(first)[:300] in prompts[0]
    assert (
        page_diff(first, typed) in prompts[1] and "~ [1] textbox 'Username' value='x'" in prompts[1]
    )
    # A policy resumed after a restart asks what the uninterrupted one asked.
    assert server.requests[2]["body"]["messages"] == server.requests[1]["body"]["messages"]
