"""The HR portal (hr-v1): every task family solvable in every UI variant, random acting not
enough, the portal's policy errors, and verifiers that fail for the right reason (an
out-of-policy approval, collateral damage, a wrong approver, a wrong answer)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from environments.engine import RandomPolicy, get_environment, run_episode
from environments.engine.hr import world as hr_world
from environments.engine.kit import by_id, long_date
from environments.engine.page import Element, quote
from environments.engine.policies import send
from environments.engine.variants import VARIANTS

HR = get_environment("hr-v1")
FAMILIES = sorted(HR.families)


# --- driving the portal by roles and names, as an agent would -----------------------------


def find(state: dict, role: str, name: str, within: Element | None = None) -> Element:
    scope = within if within is not None else HR.render(state)
    el = scope.find(role, name)
    assert el is not None, f"no {role} {name!r} on {HR.render(state).url}"
    return el


def click(state: dict, role: str, name: str, within: Element | None = None) -> dict:
    return HR.step(state, f"click({quote(find(state, role, name, within).bid)})")


def fill(state: dict, name: str, value: str, role: str = "textbox") -> dict:
    return HR.step(state, f"fill({quote(find(state, role, name).bid)}, {quote(value)})")


def choose(state: dict, name: str, option: str) -> dict:
    el = find(state, "select", name)
    return HR.step(state, f"select_option({quote(el.bid)}, {quote(option)})")


def goto(state: dict, page: str) -> dict:
    return HR.step(state, f"goto({quote(page)})")


def alert(state: dict) -> str:
    el = HR.render(state).find("alert")
    return el.name if el is not None else ""


def solve(family: str, seed: int, **changed_params) -> tuple:
    """Run the solver, optionally on altered params, and judge with the real task."""
    task = HR.make_task(family, seed)
    acted = replace(task, params={**task.params, **changed_params}) if changed_params else task
    states, actions, _ = run_episode(HR, acted, HR.solver())
    return task, states, actions, HR.evaluate(states[-1], task)


def failed(outcome) -> set[str]:
    return {c.name for c in outcome.failed()}


def request_leave(state: dict, kind: str, start: str, end: str) -> dict:
    state = goto(state, "timeoff")
    state = choose(state, "Type", kind)
    state = fill(state, "First day (YYYY-MM-DD)", start)
    state = fill(state, "Last day (YYYY-MM-DD)", end)
    return click(state, "button", "Submit request")


def add_item(state: dict, category: str, day: str, amount: str, receipt: bool) -> dict:
    state = choose(state, "Category", category)
    state = fill(state, "Date (YYYY-MM-DD)", day)
    state = fill(state, "Amount", amount, role="number")
    state = fill(state, "Description", "client lunch")
    if receipt:
        state = click(state, "checkbox", "Receipt attached")
    return click(state, "button", "Add item", within=find(state, "form", "Add item"))


def new_report(seed: int) -> dict:
    state = goto(HR.reset(seed), "expenses")
    state = fill(state, "Report title", "Denver offsite")
    return click(state, "button", "Create report")


def press_on_request(seed: int, button: str) -> tuple[dict, dict]:
    """The review task's request on the approvals page, `button` pressed on its row (and
    the approval dialog confirmed); returns (task, state)."""
    task = HR.make_task("review_time_off", seed)
    request = by_id(HR.reset(seed)["time_off"], task.params["id"])
    state = goto(HR.reset(seed, task), "approvals")
    table = find(state, "table", "Pending requests")
    row = next(
        r
        for r in table.children[1:]
        if task.params["employee_name"] in r.text() and long_date(request["start"]) in r.text()
    )
    state = click(state, "button", button, within=row)
    if HR.render(state).find("section", "Approve this request?") is not None:
        state = click(state, "button", "Approve")
    return task, state


def seed_with_review(kind: str) -> int:
    return next(s for s in range(200) if HR.make_task("review_time_off", s).params["kind"] == kind)


# --- registration and solvability ---------------------------------------------------------


def test_hr_is_registered_with_documented_families():
    assert get_environment("hr") is HR
    assert HR.id == "hr-v1"
    assert len(FAMILIES) >= 7
    assert set(HR.heldout_families) <= set(FAMILIES) and len(HR.heldout_families) == 1
    for family in HR.families.values():
        assert family.env == "hr-v1"
        assert "verifier" in family.description, family.name


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("family", FAMILIES)
def test_scripted_solver_succeeds_in_every_variant(family, variant):
    for seed in range(40 if variant == "default" else 10):
        task = HR.make_task(family, seed, variant)
        states, actions, outcome = run_episode(HR, task, HR.solver())
        assert outcome.success, (seed, outcome.failed())
        assert states[-1]["finished"]
        assert len(actions) <= task.max_steps


def test_the_expense_report_takes_the_solver_25_steps_or_more():
    for seed in range(10):
        _, _, actions, outcome = solve("file_expense_report", seed)
        assert outcome.success and len(actions) >= 25


def test_random_policy_rarely_succeeds():
    episodes = wins = 0
    for family in FAMILIES:
        for seed in range(20):
            task = HR.make_task(family, seed)
            _, _, outcome = run_episode(HR, task, RandomPolicy(seed), max_steps=40)
            episodes += 1
            wins += outcome.success
    assert wins / episodes <= 0.05


def test_doing_nothing_never_succeeds():
    for family in FAMILIES:
        for seed in range(10):
            task = HR.make_task(family, seed)
            assert not HR.evaluate(HR.reset(seed, task), task).success


def test_review_outcomes_vary_over_seeds():
    kinds = {HR.make_task("review_time_off", s).params["kind"] for s in range(60)}
    assert kinds == set(hr_world.REVIEW_KINDS)


def test_episodes_never_modify_the_cached_world():
    before = json.dumps(hr_world.build_world(3), sort_keys=True)
    for family in FAMILIES:
        run_episode(HR, HR.make_task(family, 3), HR.solver())
        run_episode(HR, HR.make_task(family, 3), RandomPolicy(1), max_steps=40)
    assert json.dumps(hr_world.build_world(3), sort_keys=True) == before


# --- the portal's errors ------------------------------------------------------------------


def test_a_request_in_the_blackout_is_refused():
    state = HR.reset(4)
    start = state["policy"]["blackout"][0]
    state = request_leave(state, "Vacation", start, start)
    assert "blackout period" in alert(state)
    assert state["time_off"] == HR.reset(4)["time_off"]


def test_a_request_without_notice_is_refused():
    state = HR.reset(5)
    day = hr_world.weekday_on_or_after(hr_world.add_days(state["today"], 1))
    state = request_leave(state, "Vacation", day, day)
    assert f"at least {state['policy']['notice_days']} days' notice" in alert(state)


def test_an_overlapping_request_is_refused():
    state = HR.reset(6)
    mine = next(r for r in state["time_off"] if r["employee"] == state["me"])
    state = request_leave(state, "Vacation", mine["start"], mine["start"])
    assert f"overlaps your {mine['type'].lower()} request from {long_date(mine['start'])}" in (
        alert(state)
    )


def test_a_request_over_the_balance_is_refused():
    state = HR.reset(7)
    me = by_id(state["employees"], state["me"])
    start = hr_world.weekday_on_or_after(hr_world.add_days(state["policy"]["blackout"][1], 80))
    end = hr_world.end_after(start, me["sick"] + 1)
    state = request_leave(state, "Sick", start, end)
    assert f"Insufficient balance: you have {me['sick']} sick days" in alert(state)


def test_a_last_day_before_the_first_is_refused():
    state = HR.reset(8)
    start = hr_world.add_days(state["today"], 60)
    state = request_leave(state, "Vacation", start, hr_world.add_days(start, -1))
    assert "The last day cannot be before the first day." in alert(state)


def test_an_expense_over_its_cap_is_refused():
    state = add_item(
        new_report(1), "Meals", hr_world.add_days(HR.reset(1)["today"], -2), "80.00", True
    )
    assert "Over policy limit: Meals items is capped at $75.00." in alert(state)


def test_an_expense_without_its_receipt_is_refused():
    state = add_item(
        new_report(2), "Travel", hr_world.add_days(HR.reset(2)["today"], -2), "40.00", False
    )
    assert "Missing receipt: items over $25.00 need one attached." in alert(state)
    state = add_item(state, "Travel", hr_world.add_days(HR.reset(2)["today"], -2), "20.00", False)
    assert alert(state).startswith("Success:")


def test_a_future_expense_and_an_empty_report_are_refused():
    state = new_report(3)
    future = hr_world.add_days(state["today"], 2)
    assert "cannot be dated in the future" in alert(add_item(state, "Meals", future, "10", True))
    state = click(state, "button", "Submit report")
    assert "Add at least one item before submitting." in alert(state)


def test_approving_over_the_managers_limit_or_the_balance_is_refused():
    for kind, message in (("long", "need HR approval"), ("balance", "Insufficient balance")):
        task, state = press_on_request(seed_with_review(kind), "Approve")
        assert message in alert(state)
        assert by_id(state["time_off"], task.params["id"])["status"] == "pending"
        assert not HR.evaluate(state, task).success


def test_forwarding_a_short_request_to_hr_is_refused():
    task, state = press_on_request(seed_with_review("ok"), "Forward to HR")
    assert "are yours to decide: approve or reject it." in alert(state)
    assert "decision" in failed(HR.evaluate(state, task))


def test_a_payroll_approver_outside_the_chain_is_refused():
    task = HR.make_task("payroll_correction", 9)
    state = HR.reset(9)
    outsider = next(
        e
        for e in state["employees"]
        if not e["manager"] and e["id"] != task.params["approver"] and e["department"] != "People"
    )
    state = goto(state, "payroll")
    state = choose(
        state, "Employee", f"{task.params['employee_name']} ({task.params['department']})"
    )
    state = choose(state, "Pay period", task.params["period"])
    state = fill(state, "Amount", "100.00", role="number")
    state = fill(state, "Reason", "Missed overtime")
    state = choose(state, "Approver", f"{outsider['name']} ({outsider['department']})")
    state = click(state, "button", "File correction")
    assert f"The approver must be {task.params['employee_name']}'s manager or an HR partner." in (
        alert(state)
    )
    assert state["corrections"] == HR.reset(9)["corrections"]


def test_only_ones_own_reports_can_be_transferred():
    state = HR.reset(10)
    other = next(e for e in state["employees"] if e["manager"] not in ("", state["me"]))
    state = HR.on_click(state, Element("link", other["name"], key=f"directory:open:{other['id']}"))
    assert HR.render(state).find("form", "Transfer") is None


# --- verifiers ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["blackout", "notice"])
def test_approving_an_out_of_policy_request_fails(kind):
    task, state = press_on_request(seed_with_review(kind), "Approve")
    assert by_id(state["time_off"], task.params["id"])["status"] == "approved"
    assert failed(HR.evaluate(state, task)) == {"decision", "reason", "no_collateral_damage"}


def test_rejecting_with_the_wrong_reason_fails():
    task, state = press_on_request(seed_with_review("blackout"), "Reject")
    state = choose(state, "Policy reason", "Less notice than policy requires")
    state = click(state, "button", "Reject request", within=find(state, "form", "Reject request"))
    assert alert(state).startswith("Success:")
    assert failed(HR.evaluate(state, task)) == {"reason"}


def test_transferring_another_report_too_is_collateral_damage():
    task, states, _, outcome = solve("transfer_employee", 11)
    assert outcome.success
    state = states[-2]  # before the closing message, which ends the episode
    other = next(
        e
        for e in state["employees"]
        if e["manager"] == state["me"] and e["id"] != task.params["employee"]
    )
    state = HR.on_click(state, Element("link", other["name"], key=f"directory:open:{other['id']}"))
    state = choose(
        state, "New office", next(c for c in hr_world.LOCATIONS if c != other["location"])
    )
    state = fill(state, "Reason", "Team move")
    state = click(state, "button", "Save transfer")
    assert failed(HR.evaluate(state, task)) == {"no_collateral_damage"}


def test_a_miscategorised_expense_item_fails():
    task = HR.make_task("file_expense_report", 12)
    items = [dict(i) for i in task.params["items"]]
    items[0]["description"] = "something else"
    _, _, _, outcome = solve("file_expense_report", 12, items=items)
    assert failed(outcome) == {"items"}


def test_the_wrong_payroll_approver_fails():
    task = HR.make_task("payroll_correction", 13)
    hr_partner = next(
        e
        for e in HR.reset(13)["employees"]
        if e["department"] == "People" and e["id"] != task.params["employee"]
    )
    state = HR.reset(13)
    state = goto(state, "payroll")
    state = choose(
        state, "Employee", f"{task.params['employee_name']} ({task.params['department']})"
    )
    state = choose(state, "Pay period", task.params["period"])
    state = fill(state, "Amount", task.params["amount_shown"].lstrip("$"), role="number")
    state = fill(state, "Reason", task.params["reason"])
    state = choose(state, "Approver", f"{hr_partner['name']} (People)")
    state = click(state, "button", "File correction")
    assert alert(state).startswith("Success:")
    assert failed(HR.evaluate(state, task)) == {"approver"}


def test_a_carry_over_answer_one_day_off_fails():
    task = HR.make_task("carry_over", 14)
    days = task.params["days"]
    state = HR.step(HR.reset(14, task), send(f"{days + 1} days"))
    assert failed(HR.evaluate(state, task)) == {"answer"}
    state = HR.step(HR.reset(14, task), send(f"{days} days"))
    assert HR.evaluate(state, task).success


def test_cancelling_an_approved_request_restores_the_balance():
    for seed in range(40):
        task = HR.make_task("cancel_time_off", seed)
        initial = HR.reset(seed)
        if by_id(initial["time_off"], task.params["id"])["status"] == "approved":
            break
    _, states, _, outcome = solve("cancel_time_off", seed)
    assert outcome.success
    days = by_id(initial["time_off"], task.params["id"])["days"]
    me = states[-1]["me"]
    assert (
        by_id(states[-1]["employees"], me)["vacation"]
        == by_id(initial["employees"], me)["vacation"] + days
    )
