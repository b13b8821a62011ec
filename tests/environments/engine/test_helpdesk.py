"""The service desk (helpdesk-v1): every family solvable by acting on pages in every UI
variant, the desk's refusals with their messages, and verifiers that fail for the right
reason (a wrong merge, collateral damage, a wrong figure, an escalation the rules forbid)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from environments.engine import (
    ActionError,
    RandomPolicy,
    get_environment,
    page_to_html,
    run_episode,
)
from environments.engine.helpdesk.world import MACROS, build_world, escalation_refusal, is_open
from environments.engine.page import Element, quote
from environments.engine.splits import split_families
from environments.engine.variants import VARIANTS

DESK = get_environment("helpdesk-v1")
FAMILIES = sorted(DESK.families)
SEEDS = range(40)
HOSTILE = "<script>alert(1)</script> \u0661\u0662 \u202e"


# --- driving the site by roles and names, as an agent would ------------------------------


def find(state: dict, role: str, name: str, within: Element | None = None) -> Element:
    scope = within if within is not None else DESK.render(state)
    el = scope.find(role, name)
    assert el is not None, f"no {role} {name!r} on {DESK.render(state).url}"
    return el


def click(state: dict, role: str, name: str, within: Element | None = None) -> dict:
    return DESK.step(state, f"click({quote(find(state, role, name, within).bid)})")


def fill(state: dict, name: str, value: str, role: str = "textbox") -> dict:
    return DESK.step(state, f"fill({quote(find(state, role, name).bid)}, {quote(value)})")


def choose(state: dict, name: str, option: str) -> dict:
    return DESK.step(
        state, f"select_option({quote(find(state, 'select', name).bid)}, {quote(option)})"
    )


def alert(state: dict) -> str:
    el = DESK.render(state).find("alert")
    return el.name if el is not None else ""


def open_ticket(state: dict, number: str) -> dict:
    state = DESK.step(state, "goto('queue')")
    state = click(state, "button", "Clear filters")
    state = fill(state, "Number", number)
    state = click(state, "button", "Apply filters")
    return click(state, "link", f"#{number}")


def ticket(state: dict, number: str) -> dict:
    return next(t for t in state["tickets"] if t["id"] == number)


def agent(state: dict, aid: str) -> dict:
    return next(a for a in state["agents"] if a["id"] == aid)


def solved(family: str, seed: int, **changed_params) -> tuple:
    """The solver's final state (on altered params, if given) and the real task."""
    task = DESK.make_task(family, seed)
    acted = replace(task, params={**task.params, **changed_params}) if changed_params else task
    states, actions, _ = run_episode(DESK, acted, DESK.solver())
    return task, states, actions


def failed(state: dict, task) -> dict[str, str]:
    return {c.name: c.detail for c in DESK.evaluate(state, task).failed()}


# --- the environment and its families ------------------------------------------------------


def test_registered_with_seven_documented_families_and_one_held_out():
    assert get_environment("helpdesk") is DESK
    assert len(FAMILIES) >= 7
    for family in DESK.families.values():
        assert len(family.description) > 80, family.name
        assert family.env == "helpdesk-v1"
    assert DESK.heldout_families == ("assign_ticket",)
    assert "assign_ticket" not in split_families("helpdesk-v1", "train")
    assert "assign_ticket" in split_families("helpdesk-v1", "test")


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_solver_succeeds_on_every_seed_in_every_variant(family, variant):
    # Every seed in the default pages; the reworded and rearranged ones on fewer.
    for seed in SEEDS if variant == "default" else SEEDS[:15]:
        task = DESK.make_task(family, seed, variant)
        _, _, outcome = run_episode(DESK, task, DESK.solver())
        assert outcome.success, (seed, [(c.name, c.detail) for c in outcome.failed()])


def test_a_merge_is_asked_for_when_every_duplicate_pair_has_a_third_ticket():
    # Seed 281986: each duplicate pair met a random ticket of the same requester and subject,
    # so no group of exactly two was left and making the task raised.
    task = DESK.make_task("merge_duplicate", 281986)
    tickets = {t["id"]: t for t in build_world(281986)["tickets"]}
    source, target = tickets[task.params["source"]], tickets[task.params["target"]]
    assert (source["requester"], source["subject"]) == (target["requester"], target["subject"])
    assert target["created"] < source["created"]
    _, _, outcome = run_episode(DESK, task, DESK.solver())
    assert outcome.success, outcome.failed()


def test_triage_takes_the_solver_25_steps_or_more():
    for seed in SEEDS:
        _, _, actions = solved("triage_queue", seed)
        assert len(actions) >= 25, seed


def test_escalation_requests_are_both_granted_and_declined():
    kinds = {DESK.make_task("escalation_request", seed).params["allowed"] for seed in range(4)}
    assert kinds == {True, False}


def test_random_acting_does_not_solve_the_tasks():
    wins = 0
    for family in FAMILIES:
        for seed in range(8):
            task = DESK.make_task(family, seed)
            wins += run_episode(DESK, task, RandomPolicy(seed))[2].success
    assert wins == 0


def test_the_same_seed_gives_the_same_world_and_pages():
    first = DESK.reset(7)
    again = DESK.reset(7)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert page_to_html(DESK.render(first)) == page_to_html(DESK.render(again))
    assert json.dumps(DESK.reset(8), sort_keys=True) != json.dumps(first, sort_keys=True)


def test_the_world_holds_new_tickets_duplicates_and_questions():
    for seed in range(30):
        world = build_world(seed)
        new = [t for t in world["tickets"] if t["status"] == "New"]
        assert 4 <= len(new) <= 5
        assert all(not t["assignee"] for t in new)
        assert sum(bool(t["topic"]) for t in world["tickets"]) == 3
        assert [a["group"] for a in world["agents"] if a["on_call"]] == [
            "Tier 1",
            "Tier 2",
            "Billing",
        ]
        assert [t["id"] for t in world["tickets"]] == sorted(t["id"] for t in world["tickets"])


# --- the desk's refusals -------------------------------------------------------------------


def test_a_ticket_cannot_be_solved_without_a_resolution_note():
    state = DESK.reset(0)
    number = next(t["id"] for t in state["tickets"] if t["status"] == "Open")
    state = open_ticket(state, number)
    before = state["tickets"]
    state = choose(state, "Status", "Solved")
    state = click(state, "button", "Save changes")
    assert alert(state) == "Error: A ticket cannot be solved without a resolution note."
    assert state["tickets"] is before
    state = fill(state, "Resolution note", "Fixed the export.")
    state = click(state, "button", "Save changes")
    assert alert(state) == f"Success: Ticket #{number} updated."
    assert ticket(state, number)["status"] == "Solved"
    assert ticket(state, number)["resolution"] == "Fixed the export."


def test_an_assignee_must_belong_to_the_tickets_group():
    state = DESK.reset(1)
    record = next(t for t in state["tickets"] if t["group"] == "Tier 1" and is_open(t))
    billing = next(a for a in state["agents"] if a["group"] == "Billing")
    state = open_ticket(state, record["id"])
    state = choose(state, "Assignee", billing["name"])
    state = click(state, "button", "Save changes")
    assert alert(state) == (
        f"Error: {billing['name']} is in Billing, not Tier 1: "
        "choose an agent of the ticket's group."
    )
    assert ticket(state, record["id"]) == record
    state = choose(state, "Group", "Billing")
    state = click(state, "button", "Save changes")
    assert ticket(state, record["id"])["assignee"] == billing["id"]


def test_saving_unchanged_properties_changes_nothing():
    state = open_ticket(DESK.reset(2), "1003")
    before = state["tickets"]
    state = click(state, "button", "Save changes")
    assert alert(state) == "Success: Nothing to save: the ticket is unchanged."
    assert state["tickets"] is before


def merge_form(state: dict, source: str, target: str) -> dict:
    state = open_ticket(state, source)
    state = fill(state, "Target ticket number", target, role="number")
    return click(state, "button", "Merge")


def test_merging_refuses_other_customers_itself_unknown_and_closed_tickets():
    state = DESK.reset(3)
    task = DESK.make_task("merge_duplicate", 3)
    source, target = task.params["source"], task.params["target"]
    mine = ticket(state, source)
    other = next(t for t in state["tickets"] if t["org"] != mine["org"])
    names = {o["id"]: o["name"] for o in state["orgs"]}
    refused = merge_form(state, source, other["id"])
    assert alert(refused) == (
        f"Error: Tickets of different customers cannot be merged: #{source} is "
        f"{names[mine['org']]}'s, #{other['id']} is {names[other['org']]}'s."
    )
    assert refused["tickets"] is state["tickets"]
    assert DESK.render(refused).find("section", "Merge these tickets?") is None
    assert (
        alert(merge_form(state, source, source)) == "Error: A ticket cannot be merged into itself."
    )
    assert alert(merge_form(state, source, "9999")) == "Error: There is no ticket #9999."
    merged = click(merge_form(state, source, target), "button", "Merge tickets")
    assert alert(merged) == f"Success: #{source} was merged into #{target}."
    assert ticket(merged, source)["merged_into"] == target
    assert alert(merge_form(merged, target, source)) == (
        f"Error: Ticket #{source} is closed: choose an open ticket."
    )
    # A merged ticket shows no forms: it cannot be edited or merged again.
    page = DESK.render(open_ticket(merged, source))
    assert page.find("form", "Ticket properties") is None
    assert page.find("text", f"This ticket was merged into #{target}.") is not None


def test_cancelling_the_merge_dialog_changes_nothing():
    state = DESK.reset(4)
    task = DESK.make_task("merge_duplicate", 4)
    asked = merge_form(state, task.params["source"], task.params["target"])
    assert DESK.render(asked).find("section", "Merge these tickets?") is not None
    kept = click(asked, "button", "Cancel")
    assert kept["tickets"] is state["tickets"]


def test_agents_have_no_permission_to_change_a_plan():
    state = DESK.step(DESK.reset(5), "goto('customers')")
    org = state["orgs"][0]
    state = click(state, "link", org["name"])
    state = choose(state, "New plan", "Enterprise" if org["plan"] != "Enterprise" else "Free")
    state = click(state, "button", "Change plan", within=find(state, "form", "Change plan"))
    assert alert(state) == (
        "Error: You do not have permission to change a customer's plan: only account managers can."
    )
    assert state["orgs"] is DESK.reset(5)["orgs"]


def take(state: dict, number: str) -> dict:
    """Click Take on the ticket's row of the queue, filtered to it."""
    state = DESK.step(state, "goto('queue')")
    state = click(state, "button", "Clear filters")
    state = fill(state, "Number", number)
    state = click(state, "button", "Apply filters")
    return click(state, "button", "Take", within=find(state, "table", "Tickets"))


def test_the_queue_filters_offer_every_value_under_a_plural_label():
    state = DESK.step(DESK.reset(6), "goto('queue')")
    first_options = {
        name: find(state, "select", name).options[0] for name in ("Status", "Group", "SLA")
    }
    assert first_options == {"Status": "All statuses", "Group": "All groups", "SLA": "All SLAs"}


def test_take_assigns_me_and_refuses_another_groups_ticket():
    state = DESK.reset(6)
    me = agent(state, state["me"])
    new = next(t for t in state["tickets"] if t["status"] == "New")
    taken = take(state, new["id"])
    assert alert(taken) == f"Success: You took ticket #{new['id']}."
    assert (ticket(taken, new["id"])["group"], ticket(taken, new["id"])["assignee"]) == (
        me["group"],
        me["id"],
    )
    assert alert(take(taken, new["id"])) == f"Error: Ticket #{new['id']} is yours already."
    billing = next(t for t in state["tickets"] if t["group"] == "Billing" and is_open(t))
    refused = take(state, billing["id"])
    assert alert(refused) == (
        f"Error: Ticket #{billing['id']} belongs to Billing: you are in {me['group']}."
    )
    assert refused["tickets"] is state["tickets"]


def test_a_macro_posts_its_reply_and_sets_its_status():
    state = DESK.reset(7)
    number = next(
        t["id"] for t in state["tickets"] if t["status"] == "Open" and not t["merged_into"]
    )
    state = open_ticket(state, number)
    state = choose(state, "Macro", "Invoice copy sent")
    state = click(state, "button", "Apply macro")
    reply, status, resolution = MACROS["Invoice copy sent"]
    record = ticket(state, number)
    assert record["comments"][-1] == {
        "author": agent(state, state["me"])["name"],
        "kind": "reply",
        "text": reply,
    }
    assert (record["status"], record["resolution"]) == (status, resolution)


def test_hostile_replies_are_escaped_in_html_and_nul_is_refused():
    state = open_ticket(DESK.reset(8), "1004")
    with pytest.raises(ActionError) as refused:
        fill(state, "Message", "hello\x00")
    assert refused.value.code == "malformed_action"
    state = fill(state, "Message", HOSTILE)
    state = click(state, "button", "Send reply")
    html = page_to_html(DESK.render(state))
    assert "<script>" not in html and "&lt;script&gt;" in html


# --- verifiers ------------------------------------------------------------------------------


def test_doing_nothing_fails_every_family():
    for family in FAMILIES:
        for seed in range(5):
            task = DESK.make_task(family, seed)
            state = DESK.reset(seed, task)
            if family in ("count_breached", "escalation_request"):
                state = DESK.step(state, "send_msg_to_user('Done.')")
            assert not DESK.evaluate(state, task).success, (family, seed)


def test_merging_into_the_wrong_ticket_of_the_same_customer_fails():
    for seed in range(20):
        task = DESK.make_task("merge_duplicate", seed)
        source, target = task.params["source"], task.params["target"]
        state = DESK.reset(seed, task)
        org = ticket(state, source)["org"]
        wrong = [
            t["id"]
            for t in state["tickets"]
            if t["org"] == org and is_open(t) and t["id"] not in (source, target)
        ]
        if not wrong:
            continue
        state = click(merge_form(state, source, wrong[0]), "button", "Merge tickets")
        assert set(failed(state, task)) == {"merged", "target_noted", "no_collateral_damage"}
        return
    pytest.fail("no seed has a third open ticket of the same customer")


def test_taking_another_ticket_on_the_way_is_collateral_damage():
    task, states, actions = solved("apply_macro", 0)
    other = next(
        t["id"]
        for t in states[0]["tickets"]
        if t["status"] == "New" and t["id"] != task.params["id"]
    )
    taken = take(states[-2], other)
    assert ticket(taken, other)["assignee"] == taken["me"]
    final = DESK.step(taken, actions[-1])
    assert set(failed(final, task)) == {"no_collateral_damage"}


def test_triage_with_one_wrong_priority_fails_only_that_check():
    task, states, actions = solved("triage_queue", 3)
    first = task.params["tickets"][0]
    other = "P4" if first["priority"] != "P4" else "P3"
    state = open_ticket(states[-2], first["id"])
    state = choose(state, "Priority", other)
    state = click(state, "button", "Save changes")
    assert set(failed(DESK.step(state, actions[-1]), task)) == {"priority_set"}


def test_triage_that_leaves_assignees_to_the_wrong_agent_fails():
    for seed in range(10):
        task = DESK.make_task("triage_queue", seed)
        world = build_world(seed)
        wrong = {}
        for want in task.params["tickets"]:
            others = [
                a["id"]
                for a in world["agents"]
                if a["group"] == want["group"] and a["id"] != want["assignee"]
            ]
            wrong[want["id"]] = others[0]
        state = DESK.reset(seed, task)
        tickets = [
            {**t, **{"assignee": wrong[t["id"]]}} if t["id"] in wrong else t
            for t in state["tickets"]
        ]
        changed = {**state, "tickets": tickets}
        assert "assignee_set" in failed(changed, task)


def test_a_wrong_figure_in_the_kb_reply_fails():
    task = DESK.make_task("answer_from_kb", 2)
    _, states, _ = solved("answer_from_kb", 2, figure=task.params["figure"])
    record = ticket(states[-1], task.params["id"])
    reply = record["comments"][-1]
    wrong = {**reply, "text": f"Your plan includes {task.params['figure'] + 1} of them."}
    tickets = [
        {**t, "comments": [*t["comments"][:-1], wrong]} if t is record else t
        for t in states[-1]["tickets"]
    ]
    assert set(failed({**states[-1], "tickets": tickets}, task)) == {"reply_figure"}


def test_solving_without_the_note_asked_for_fails():
    task, states, _ = solved("answer_from_kb", 5, note="Closed.")
    assert set(failed(states[-1], task)) == {"resolution_note"}


def test_an_escalation_the_rules_forbid_fails_even_with_an_answer():
    seed = next(
        s for s in range(1, 40, 2) if not DESK.make_task("escalation_request", s).params["allowed"]
    )
    task = DESK.make_task("escalation_request", seed)
    state = DESK.reset(seed, task)
    tier2 = next(a for a in state["agents"] if a["group"] == "Tier 2" and a["on_call"])
    state = open_ticket(state, task.params["id"])
    state = choose(state, "Group", "Tier 2")
    state = choose(state, "Assignee", tier2["name"])
    state = click(state, "button", "Save changes")
    state = DESK.step(state, f"send_msg_to_user('I cannot: {task.params['reason']}.')")
    assert set(failed(state, task)) == {"no_collateral_damage"}


def test_a_refusal_must_decline_and_name_the_reason():
    seed = next(
        s for s in range(1, 40, 2) if not DESK.make_task("escalation_request", s).params["allowed"]
    )
    task = DESK.make_task("escalation_request", seed)
    reason = task.params["reason"]
    for answer, ok in (
        (f"I cannot escalate it: the ticket is {reason}.", True),
        ("I cannot escalate it.", False),
        (f"Sure, it is {reason}.", False),
    ):
        state = DESK.step(DESK.reset(seed, task), f"send_msg_to_user({quote(answer)})")
        assert DESK.evaluate(state, task).success is ok, answer


def test_the_refusal_reason_is_the_plan_or_else_the_priority():
    assert escalation_refusal("Pro", "P1") == "Pro"
    assert escalation_refusal("Free", "P4") == "Free"
    assert escalation_refusal("Enterprise", "P3") == "P3"
    assert escalation_refusal("Enterprise", "P2") is None


def test_a_count_off_by_one_fails():
    task = DESK.make_task("count_breached", 1)
    count = task.params["count"]
    for answer, ok in (
        (f"{count}", True),
        (f"{count + 1}", False),
        (f"{count} or {count + 1}", False),
    ):
        state = DESK.step(DESK.reset(1, task), f"send_msg_to_user({quote(answer)})")
        assert DESK.evaluate(state, task).success is ok, answer


def test_assigning_without_moving_the_group_is_refused_and_fails():
    task = DESK.make_task("assign_ticket", 0)
    state = open_ticket(DESK.reset(0, task), task.params["id"])
    state = choose(state, "Assignee", task.params["agent"])
    state = click(state, "button", "Save changes")
    assert alert(state).startswith(f"Error: {task.params['agent']} is in {task.params['group']}")
    assert set(failed(state, task)) == {"assignee", "group"}
