"""Reward modes on real episodes: sparse, partial and progress, in every environment."""

import math
from dataclasses import replace

import pytest

from environments.engine import Outcome, RandomPolicy, get_environment, run_episode
from environments.engine.page import quote
from environments.engine.rewards import (
    PROGRESS_SHARE,
    REWARD_MODES,
    final_reward,
    partial_credit,
    reward_rubric,
    step_reward,
)
from tests.environments.engine.bank_steps import BANK
from tests.environments.engine.episodes import ENV_IDS, solver_episodes


def replay(mode: str, env_id: str, task, states: list[dict], stop: int | None = None):
    """Step rewards of the episode through `states` as the platform counts them: it ends at the
    first successful or finished state, at the task's step limit, or after `stop` steps.
    Returns (rewards, paid, the last outcome)."""
    env = get_environment(env_id)
    rubric = reward_rubric(env_id, task.family)
    limit = min(task.max_steps, stop or task.max_steps, len(states) - 1)
    rewards, paid = [], []
    for index, state in enumerate(states[1 : limit + 1]):
        outcome = env.evaluate(state, task)
        done = outcome.success or state["finished"] or index + 1 == limit
        reward, paid = step_reward(mode, rubric=rubric, outcome=outcome, paid=paid, done=done)
        rewards.append(reward)
        if done:
            break
    return rewards, paid, outcome


def episode_return(mode, env_id, task, states, stop=None):
    rewards, paid, outcome = replay(mode, env_id, task, states, stop)
    rubric = reward_rubric(env_id, task.family)
    assert all(reward >= 0 for reward in rewards)
    assert final_reward(mode, rubric=rubric, outcome=outcome, paid=paid) == sum(rewards)
    return sum(rewards), rewards, outcome


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_rubric_sorts_every_check_into_progress_and_guards(env_id):
    env = get_environment(env_id)
    for family, seed, states, _ in solver_episodes(env_id):
        rubric = reward_rubric(env_id, family)
        names = [
            check.name for check in env.evaluate(states[-1], env.make_task(family, seed)).checks
        ]
        assert set(names) == set(rubric.progress_checks) | set(rubric.guard_checks)
        assert rubric.guard_checks == ("no_collateral_damage",)
        assert sum(rubric.progress_amounts.values()) <= PROGRESS_SHARE
        assert all(amount > 0 for amount in rubric.progress_amounts.values())


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_solved_episode_returns_exactly_one_in_every_mode(env_id):
    env = get_environment(env_id)
    for family, seed, states, _ in solver_episodes(env_id):
        task = env.make_task(family, seed)
        for mode in REWARD_MODES:
            total, rewards, outcome = episode_return(mode, env_id, task, states)
            assert outcome.success
            assert total == 1.0, (family, seed, mode, rewards)
            if mode != "progress":
                assert rewards[:-1] == [0.0] * (len(rewards) - 1)


# (environment, family, seed, params the solver acts on instead, the checks that then fail)
MISTAKES = [
    ("bank-v1", "pay_bill", 5, lambda p: {"amount_cents": 1, "full_due": False}, {"amount"}),
    ("ledger-v1", "record_bill", 3, lambda p: {"amount": p["amount"] + 1}, {"amount"}),
    ("tickets-v1", "buy_tickets", 1, lambda p: {"name": "Someone Else"}, {"attendee"}),
]  # fmt: skip


@pytest.mark.parametrize(("env_id", "family", "seed", "mistake", "failing"), MISTAKES)
def test_an_episode_with_one_mistake_earns_partial_credit(env_id, family, seed, mistake, failing):
    env = get_environment(env_id)
    task = env.make_task(family, seed)
    mistaken = replace(task, params={**task.params, **mistake(task.params)})
    states, _, _ = run_episode(env, mistaken, env.solver())
    sparse, _, outcome = episode_return("sparse", env_id, task, states)
    partial, _, _ = episode_return("partial", env_id, task, states)
    progress, rewards, _ = episode_return("progress", env_id, task, states)
    assert {check.name for check in outcome.failed()} == failing
    rubric = reward_rubric(env_id, family)
    assert sparse == 0.0
    assert partial == (len(rubric.progress_checks) - 1) / len(rubric.progress_checks)
    earned = [name for name in rubric.progress_checks if name not in failing]
    assert progress == sum(rubric.progress_amounts[name] for name in earned) < PROGRESS_SHARE
    assert sum(1 for reward in rewards if reward > 0) >= 1


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_random_episodes(env_id):
    env = get_environment(env_id)
    for family in env.families:
        for seed in range(4):
            task = env.make_task(family, seed)
            states, _, _ = run_episode(env, task, RandomPolicy(seed))
            sparse, _, outcome = episode_return("sparse", env_id, task, states)
            partial, _, _ = episode_return("partial", env_id, task, states)
            progress, _, _ = episode_return("progress", env_id, task, states)
            assert sparse == outcome.reward
            assert 0.0 <= partial <= 1.0
            assert progress == 1.0 if outcome.success else progress <= PROGRESS_SHARE


def test_a_failed_guard_withholds_partial_and_progress_credit():
    task = BANK.make_task("pay_bill", 5)
    mistaken = replace(task, params={**task.params, "amount_cents": 1, "full_due": False})
    states, _, _ = run_episode(BANK, mistaken, BANK.solver())
    rubric = reward_rubric("bank-v1", "pay_bill")
    last = states[-2]  # before the solver's closing message
    assert partial_credit(rubric, BANK.evaluate(last, task)) == 4 / 5

    # Then cancel a payment nobody asked to cancel: a guard fails, partial credit is gone and
    # that step earns nothing.
    page = BANK.render(BANK.step(last, "goto('billpay')"))
    cancel = page.find("table", "Scheduled payments").find("button", "Cancel payment")
    damaged = BANK.step(BANK.step(last, "goto('billpay')"), f"click({quote(cancel.bid)})")
    outcome = BANK.evaluate(damaged, task)
    assert [c.name for c in outcome.failed()] == ["amount", "no_collateral_damage"]
    assert partial_credit(rubric, outcome) == 0.0
    reward, paid = step_reward("progress", rubric=rubric, outcome=outcome, paid=[], done=False)
    assert (reward, paid) == (0.0, [])


def test_undoing_and_redoing_earns_nothing_more():
    task, before, toggle = next(card_toggle())
    undo = "un" + toggle if toggle.startswith("check(") else toggle.removeprefix("un")
    rubric = reward_rubric("bank-v1", "card_controls")
    state, paid, rewards = before, [], []
    for action in (toggle, undo, toggle, undo, toggle):
        state = BANK.step(state, action)
        reward, paid = step_reward(
            "progress", rubric=rubric, outcome=BANK.evaluate(state, task), paid=paid, done=False
        )
        rewards.append(reward)
    assert rewards == [rubric.progress_amounts["card_status"], 0.0, 0.0, 0.0, 0.0]
    assert paid == ["card_status"]


def card_toggle():
    """(task, state, action) where the solver's check/uncheck makes card_status pass."""
    for family, seed, states, actions in solver_episodes("bank-v1"):
        if family != "card_controls":
            continue
        for state, action in zip(states, actions, strict=False):
            if action.startswith(("check(", "uncheck(")):
                yield BANK.make_task(family, seed), state, action


def test_the_last_step_of_a_success_pays_the_rest_exactly():
    rubric = reward_rubric("ledger-v1", "create_invoice")
    checks = list(rubric.progress_checks)
    paid: list[str] = []
    total = 0.0
    for count in range(1, len(checks)):
        outcome = fake_outcome(rubric, passed=checks[:count])
        reward, paid = step_reward(
            "progress", rubric=rubric, outcome=outcome, paid=paid, done=False
        )
        total += reward
    reward, paid = step_reward(
        "progress", rubric=rubric, outcome=fake_outcome(rubric, passed=checks), paid=paid, done=True
    )
    assert total + reward == 1.0
    assert math.isclose(
        reward, 1.0 - PROGRESS_SHARE * (len(checks) - 1) / len(checks), abs_tol=0.01
    )
    assert sorted(paid) == sorted(checks)


def fake_outcome(rubric, passed) -> Outcome:
    from environments.engine import Check

    checks = [Check(name, name in passed) for name in rubric.progress_checks]
    checks += [Check(name, True) for name in rubric.guard_checks]
    return Outcome.from_checks(checks)


def test_unknown_modes_are_refused():
    rubric = reward_rubric("bank-v1", "pay_bill")
    outcome = fake_outcome(rubric, passed=[])
    with pytest.raises(ValueError, match="'dense'"):
        step_reward("dense", rubric=rubric, outcome=outcome, paid=[], done=True)
    with pytest.raises(ValueError, match="'dense'"):
        final_reward("dense", rubric=rubric, outcome=outcome)


def test_a_family_may_name_its_guards_and_weights(monkeypatch):
    family = BANK.families["pay_bill"]
    monkeypatch.setattr(type(family), "guard_checks", ("no_collateral_damage", "date"))
    monkeypatch.setattr(type(family), "check_weights", {"amount": 3.0})
    reward_rubric.cache_clear()
    try:
        rubric = reward_rubric("bank-v1", "pay_bill")
        assert rubric.guard_checks == ("no_collateral_damage", "date")
        assert "date" not in rubric.progress_checks
        assert rubric.weights == {
            "one_payment": 1.0,
            "biller": 1.0,
            "amount": 3.0,
            "from_account": 1.0,
        }
        outcome = fake_outcome(rubric, passed=["amount"])
        assert partial_credit(rubric, outcome) == 3 / 6
        monkeypatch.setattr(type(family), "check_weights", {"nope": 1.0})
        reward_rubric.cache_clear()
        with pytest.raises(ValueError, match="'nope'"):
            reward_rubric("bank-v1", "pay_bill")
    finally:
        reward_rubric.cache_clear()
