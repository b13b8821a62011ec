"""The ticket shop (`tickets-v1`): solvable families, a random floor, determinism, the errors a
real shop shows, verifiers that refuse wrong or collateral-damaging trajectories, and escaping."""

from __future__ import annotations

import contextlib
import json
import random
from dataclasses import replace

import pytest

from environments.engine import (
    ActionError,
    RandomPolicy,
    Task,
    get_environment,
    page_to_html,
    page_to_json,
    run_episode,
)
from environments.engine.page import Element, quote
from environments.engine.tickets.site import TicketShop
from environments.engine.tickets.solver import TicketsSolver
from environments.engine.tickets.world import _generate, by_id, refund_deadline

TICKETS = get_environment("tickets")
FAMILIES = sorted(TICKETS.families)
HOSTILE = "<script>alert(1)</script>"


# --- driving the shop by roles and names, as an agent would ---------------------------------


def dump(obj: object) -> str:
    return json.dumps(obj, sort_keys=True)


def find(state: dict, role: str, name: str | None = None, contains: str | None = None) -> Element:
    page = TICKETS.render(state)
    el = page.find(role, name, contains)
    assert el is not None, f"no {role} {name or contains!r} on {page.url}"
    return el


def click(state: dict, role: str, name: str) -> dict:
    return TICKETS.step(state, f"click({quote(find(state, role, name).bid)})")


def fill(state: dict, name: str, value: str) -> dict:
    return TICKETS.step(state, f"fill({quote(find(state, 'textbox', name).bid)}, {quote(value)})")


def choose(state: dict, name: str, option: str) -> dict:
    el = find(state, "select", name)
    label = next(o for o in el.options if o.startswith(option))
    return TICKETS.step(state, f"select_option({quote(el.bid)}, {quote(label)})")


def tick(state: dict, name: str) -> dict:
    return TICKETS.step(state, f"check({quote(find(state, 'checkbox', name).bid)})")


def answer(state: dict, text: str) -> dict:
    return TICKETS.step(state, f"send_msg_to_user({quote(text)})")


def alert(state: dict) -> str | None:
    el = TICKETS.render(state).find("alert")
    return el.name if el else None


def without(state: dict, *keys: str) -> str:
    return dump({k: v for k, v in state.items() if k not in keys})


def drive(state: dict, task: Task, *, message: bool = True) -> dict:
    """Run the scripted solver from any state; stop before its closing message if asked."""
    solver = TicketsSolver()
    solver.reset(task)
    for step in range(task.max_steps):
        action = solver.act(task, TICKETS.render(state), {"step": step, "error": None})
        if not message and action.startswith("send_msg_to_user"):
            return state
        state = TICKETS.step(state, action)
        if state["finished"]:
            return state
    raise AssertionError(f"the solver did not finish {task.family} seed {task.seed}")


def solve(task: Task, *, message: bool = True, **changed: object) -> dict:
    """The final state the solver reaches, for the task's params altered by `changed`."""
    run = replace(task, params={**task.params, **changed})
    return drive(TICKETS.reset(task.seed, task), run, message=message)


def open_event(state: dict, event: dict) -> dict:
    """Search for an event by artist, city and month, and open it from the results."""
    venue = by_id(state["venues"], event["venue"])["name"]
    params = {"artist": event["artist"], "city": event["city"], "date": event["date"],
              "venue": venue}  # fmt: skip
    script = TicketsSolver()._open_event(params, TICKETS.render(state))
    action = next(script)
    while True:
        state = TICKETS.step(state, action)
        try:
            action = script.send(TICKETS.render(state))
        except StopIteration:
            return state


def to_seat_map(state: dict, event: dict, section: dict, qty: int) -> dict:
    state = open_event(state, event)
    state = choose(state, "Quantity", str(qty))
    state = choose(state, "Section", section["name"])
    return click(state, "button", "Choose seats")


def open_seat_names(section: dict, price: int | None = None) -> list[str]:
    names = []
    for row, cost, taken in zip(section["rows"], section["prices"], section["taken"], strict=True):
        for n, mark in enumerate(taken, 1):
            if mark == "0" and (price is None or cost == price):
                acc = f"{row}-{n}" in section["accessible"]
                names.append(f"Row {row}, Seat {n}" + (" (wheelchair accessible)" if acc else ""))
    return names


def cart_with(state: dict, event: dict, section: dict, seats: list[str]) -> dict:
    """Put these seats (checkbox names) of one section in the cart; ends on the cart page."""
    state = to_seat_map(state, event, section, len(seats))
    for name in seats:
        state = tick(state, name)
    state = click(state, "button", "Add to cart")
    assert state["page"] == "cart", alert(state)
    return state


def upcoming(state: dict) -> list[dict]:
    return [e for e in state["events"] if e["date"] > state["today"]]


def failed(outcome) -> dict[str, str]:
    return {c.name: c.detail for c in outcome.failed()}


# --- solvable, and not by chance ------------------------------------------------------------


def test_registered_under_every_id_form_with_documented_families():
    assert TICKETS is get_environment("tickets-v1") is get_environment("rlplatform/tickets-v1")
    assert isinstance(TICKETS, TicketShop) and TICKETS.solver is TicketsSolver
    assert len(FAMILIES) >= 5
    for family in TICKETS.families.values():
        assert family.env == "tickets-v1"
        assert "verifier checks" in family.description, family.name
        task = family.make_task(3)
        assert "{" not in task.goal and json.loads(json.dumps(task.to_dict())) == task.to_dict()


@pytest.mark.parametrize("family", FAMILIES)
def test_scripted_solver_succeeds_on_50_seeds(family):
    for seed in range(50):
        task = TICKETS.make_task(family, seed)
        states, actions, outcome = run_episode(TICKETS, task, TICKETS.solver())
        assert states[-1]["finished"] and len(actions) <= task.max_steps, (seed, actions)
        assert outcome.reward == 1.0, (seed, task.goal, failed(outcome))


def test_random_policy_rarely_succeeds():
    runs = wins = 0
    for family in FAMILIES:
        for seed in range(20):
            task = TICKETS.make_task(family, seed)
            _, _, outcome = run_episode(TICKETS, task, RandomPolicy(seed))
            runs += 1
            wins += outcome.success
    rate = wins / runs
    print(f"RandomPolicy success rate on tickets-v1: {wins}/{runs} = {rate:.1%}")
    assert rate <= 0.02


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_and_actions_give_identical_states_and_pages():
    task = TICKETS.make_task("buy_with_promo", 7)
    _, actions, _ = run_episode(TICKETS, task, TICKETS.solver())
    actions = ["fill('5', 'Luna')", "click('10')", *actions[:-1], "goto('orders')"]

    def replay() -> list[tuple[str, str]]:
        env = TicketShop()  # a fresh instance: no render cache shared with the other run
        state = env.reset(task.seed, task)
        seen = [(dump(state), dump(page_to_json(env.render(state))))]
        for action in actions:
            with contextlib.suppress(ActionError):  # a refused action leaves the state as is
                state = env.step(state, action)
            seen.append((dump(state), dump(page_to_json(env.render(state)))))
        return seen

    first = replay()
    assert first == replay()
    assert json.loads(first[-1][0])["orders"] != json.loads(first[0][0])["orders"]


def test_reset_ignores_global_random_and_is_not_changed_by_episodes():
    initial = dump(TICKETS.reset(11))
    solve(TICKETS.make_task("buy_tickets", 11))
    solve(TICKETS.make_task("cancel_order", 11))
    assert dump(TICKETS.reset(11)) == initial  # cached worlds are shared, never mutated
    _generate.cache_clear()
    random.seed(1)
    assert dump(TICKETS.reset(11)) == initial
    assert dump(TICKETS.reset(12)) != initial


# --- what a real shop says ------------------------------------------------------------------


def _event_with_sold_out_section(state: dict) -> tuple[dict, dict]:
    for event in upcoming(state):
        for sec in event["sections"]:
            if "0" not in "".join(sec["taken"]):
                return event, sec
    raise LookupError


def test_sold_out_section_is_refused_with_an_alert():
    state = TICKETS.reset(2)
    event, sec = _event_with_sold_out_section(state)
    state = open_event(state, event)
    state = choose(state, "Section", sec["name"])
    table = find(state, "table", "Seating")
    row = next(r for r in table.children if r.children[0].name == sec["name"])
    assert row.children[2].name == "Sold out"
    for button in ("Choose seats", "Best available"):
        after = click(state, "button", button)
        assert alert(after) == f"Error: Sorry, {sec['name']} is sold out. Choose another section."
        assert without(after, "alert", "steps") == without(state, "alert", "steps")


def test_seat_map_wants_as_many_seats_as_tickets_and_one_event_per_cart():
    state = TICKETS.reset(5)
    event, other = upcoming(state)[:2]
    sec = max(event["sections"], key=lambda s: "".join(s["taken"]).count("0"))
    state = to_seat_map(state, event, sec, 3)
    seats = open_seat_names(sec)
    state = tick(tick(state, seats[0]), seats[1])
    refused = click(state, "button", "Add to cart")
    assert alert(refused) == (
        "Error: You chose 3 tickets but selected 2 seats. Select exactly 3, or change the quantity."
    )
    assert refused["cart"] == state["cart"]
    state = click(choose(state, "Quantity", "2"), "button", "Add to cart")
    assert alert(state).startswith("Success: Added 2 tickets to your cart")
    other_sec = max(other["sections"], key=lambda s: "".join(s["taken"]).count("0"))
    state = to_seat_map(state, other, other_sec, 1)
    state = click(tick(state, open_seat_names(other_sec)[0]), "button", "Add to cart")
    assert alert(state).startswith(f"Error: Your cart has tickets for {event['name']}")
    assert len(state["cart"]["seats"]) == 2


def _cart_of_one_cheap_ticket(seed: int) -> tuple[dict, dict]:
    state = TICKETS.reset(seed)
    fan = next(p for p in state["promos"] if p["artist"])
    event = next(e for e in upcoming(state) if e["artist"] != fan["artist"])
    sec = min(
        (s for s in event["sections"] if "0" in "".join(s["taken"])),
        key=lambda s: min(s["prices"]),
    )
    price = min(p for p, t in zip(sec["prices"], sec["taken"], strict=True) if "0" in t)
    return cart_with(state, event, sec, open_seat_names(sec, price)[:1]), event


def test_promo_codes_show_the_errors_a_shop_shows():
    cart, _ = _cart_of_one_cheap_ticket(4)
    promos = cart["promos"]
    expired = next(p for p in promos if p["expires"] < cart["today"])
    minimum = next(p for p in promos if p["min"])
    fan = next(p for p in promos if p["artist"])
    subtotal = find(cart, "table", "Order summary").children[1].children[1].name
    cases = [
        ("", "Error: Enter a promo code."),
        ("NOTACODE1", "Error: Sorry, NOTACODE1 is not a valid promo code. Check the code and "
                      "try again."),
        (expired["id"].lower(), f"Error: Promo code {expired['id']} expired on "),
        (minimum["id"], f"Error: Promo code {minimum['id']} needs a ticket subtotal of at least "
                        f"${minimum['min'] // 100}.00; your subtotal is {subtotal}."),
        (fan["id"], f"Error: Promo code {fan['id']} is only valid for {fan['artist']} events."),
    ]  # fmt: skip
    for code, message in cases:
        state = click(fill(cart, "Promo code", code), "button", "Apply")
        assert alert(state).startswith(message), alert(state)
        assert state["cart"] == cart["cart"] and state["orders"] is cart["orders"]
    good = next(p for p in promos if p["expires"] >= cart["today"] and not p["min"]
                and not p["artist"])  # fmt: skip
    state = click(fill(cart, "Promo code", f" {good['id'].lower()} "), "button", "Apply")
    assert alert(state).startswith(f"Success: Promo code {good['id']} applied")
    assert state["cart"]["promo"] == good["id"]
    rows = [r.text() for r in find(state, "table", "Order summary").children]
    assert any(r.startswith(f"Promo code {good['id']} -$") for r in rows), rows


def test_removing_tickets_below_a_minimum_spend_drops_the_promo_code():
    state = TICKETS.reset(12)
    minimum = next(p for p in state["promos"] if p["min"])
    for event in upcoming(state):
        for sec in event["sections"]:
            rows = [(r, p, t) for r, p, t in zip(sec["rows"], sec["prices"], sec["taken"],
                                                 strict=True) if "0" in t]  # fmt: skip
            if len(rows) < 2:
                continue
            (r1, p1, t1), (r2, p2, t2) = rows[-2:]
            first = [f"Row {r1}, Seat {n}" for n, m in enumerate(t1, 1) if m == "0"][:3]
            second = [f"Row {r2}, Seat {n}" for n, m in enumerate(t2, 1) if m == "0"][:4]
            if len(first) * p1 < minimum["min"] <= len(first) * p1 + len(second) * p2:
                break
        else:
            continue
        break
    else:
        raise AssertionError("no cart fits")
    names = [n for n in open_seat_names(sec) if n.split(" (")[0] in first + second]
    state = cart_with(state, event, sec, names)
    state = click(fill(state, "Promo code", minimum["id"]), "button", "Apply")
    assert state["cart"]["promo"] == minimum["id"], alert(state)
    state = click(state, "button", f"Remove {sec['name']} Row {r2}")
    assert state["cart"]["promo"] is None and len(state["cart"]["seats"]) == len(first)
    assert alert(state).startswith(
        f"Success: Removed {sec['name']}, Row {r2} from your cart. Promo code {minimum['id']} "
        "was removed: "
    )
    state = click(state, "button", f"Remove {sec['name']} Row {r1}")
    assert state["cart"] == {"event": None, "seats": [], "promo": None}
    assert find(state, "text", "Your cart is empty.") and find(state, "link", "Cart")


def _at_checkout(seed: int) -> dict:
    cart, _ = _cart_of_one_cheap_ticket(seed)
    return click(cart, "button", "Checkout")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("Email", "jo@@example", "Error: Enter a valid email address, like name@example.com."),
        ("Email", "", "Error: Enter a valid email address, like name@example.com."),
        ("Confirm email", "someone.else@example.com", "Error: The email addresses don't match."),
        ("Full name", "   ", "Error: Enter the attendee's full name."),
    ],
)
def test_checkout_validates_attendee_details(field, value, message):
    state = tick(_at_checkout(6), "I agree to the Terms of Use and the purchase policy")
    state = fill(state, field, value)
    after = click(state, "button", "Place order")
    assert alert(after) == message
    assert after["page"] == "checkout" and after["orders"] is state["orders"]
    assert after["events"] is state["events"] and after["cart"] == state["cart"]


def test_checkout_refuses_an_expired_card_and_unticked_terms():
    state = _at_checkout(6)
    after = click(state, "button", "Place order")
    assert alert(after) == "Error: Please agree to the Terms of Use to place your order."
    state = tick(state, "I agree to the Terms of Use and the purchase policy")
    expired = next(c for c in state["cards"] if c["exp"] < state["today"][:7])
    state = choose(state, "Payment method", f"{expired['brand']} ending in {expired['last4']}")
    after = click(state, "button", "Place order")
    assert alert(after).startswith(
        f"Error: Your {expired['brand']} ending in {expired['last4']} expired in "
    )
    assert after["orders"] is state["orders"]
    state = choose(state, "Payment method", "Visa")
    after = click(state, "button", "Place order")
    assert alert(after).startswith("Success: Order TK-") and after["page"] == "confirmation"
    assert len(after["orders"]) == len(state["orders"]) + 1 and after["cart"]["seats"] == []


def test_cancellation_is_refused_when_final_sale_or_past_the_deadline():
    state = TICKETS.reset(8)
    today = state["today"]
    refusals = {}
    for order in state["orders"]:
        event = by_id(state["events"], order["event"])
        deadline = refund_deadline(event)
        if event["date"] > today and (deadline is None or deadline < today):
            refusals[order["id"]] = deadline
    assert len(refusals) == 2 and None in refusals.values()
    orders = click(state, "link", "My orders")
    for oid, deadline in refusals.items():
        page = click(orders, "link", oid)
        after = click(page, "button", "Cancel order")
        if deadline is None:
            assert alert(after).startswith("Error: This order can't be cancelled: tickets for ")
            assert alert(after).endswith("are non-refundable (all sales final).")
        else:
            assert alert(after).startswith("Error: This order can't be cancelled: the refund "
                                           "deadline was ")  # fmt: skip
        assert after["page"] == "order"
        assert after["orders"] is state["orders"] and after["refunds"] is state["refunds"]


def test_search_checks_dates_and_filters_by_city_month_and_text():
    state = TICKETS.reset(9)
    bad = click(fill(state, "From date (YYYY-MM-DD)", "2024-02-30"), "button", "Search")
    assert alert(bad).startswith("Error: From date: enter a date as YYYY-MM-DD")
    backwards = fill(fill(state, "From date (YYYY-MM-DD)", "2024-12-01"),
                     "To date (YYYY-MM-DD)", "2024-11-01")  # fmt: skip
    assert alert(click(backwards, "button", "Search")) == (
        "Error: The To date is before the From date."
    )
    event = upcoming(state)[3]
    state = fill(state, "Artist, event or venue", event["artist"].upper())
    state = choose(state, "City", event["city"])
    state = fill(state, "From date (YYYY-MM-DD)", event["date"])
    state = fill(state, "To date (YYYY-MM-DD)", event["date"])
    state = click(state, "button", "Search")
    rows = find(state, "table", "Events").children[1:]
    assert rows and all(r.children[4].name == event["city"] for r in rows)
    assert event["name"] in [r.children[1].children[0].name for r in rows]


# --- verifiers refuse wrong and collateral-damaging trajectories -----------------------------


def _distractor(state: dict, params: dict) -> dict:
    """Another show by the same artist (or any other show)."""
    others = [e for e in upcoming(state) if e["id"] != params["event"]]
    same = [e for e in others if e["artist"] == params["artist"]]
    return (same or others)[0]


def _roomy_section(event: dict, qty: int, avoid: str | None = None) -> dict:
    return next(
        s for s in event["sections"] if "".join(s["taken"]).count("0") >= qty and s["name"] != avoid
    )


def _params_for(state: dict, event: dict) -> dict:
    return {"event": event["id"], "artist": event["artist"], "city": event["city"],
            "date": event["date"]}  # fmt: skip


def test_buying_for_the_wrong_show_fails():
    task = TICKETS.make_task("buy_tickets", 3)
    state = TICKETS.reset(3, task)
    wrong = _distractor(state, task.params)
    sec = _roomy_section(wrong, task.params["qty"])
    final = solve(task, **_params_for(state, wrong), section=sec["name"], max_price=10**7)
    outcome = TICKETS.evaluate(final, task)
    assert not outcome.success and outcome.reward == 0.0
    assert failed(outcome)["right_event"].startswith(f"the order is for {wrong['name']}")
    assert "no_collateral_damage" in failed(outcome)


def test_buying_in_the_wrong_section_or_the_wrong_count_fails():
    task = TICKETS.make_task("buy_tickets", 4)
    event = by_id(TICKETS.reset(4)["events"], task.params["event"])
    other = _roomy_section(event, task.params["qty"], avoid=task.params["section"])
    outcome = TICKETS.evaluate(solve(task, section=other["name"], max_price=10**7), task)
    assert failed(outcome)["section"] == (
        f"tickets in {other['name']}; asked for {task.params['section']}"
    )
    more = task.params["qty"] + 1
    outcome = TICKETS.evaluate(solve(task, qty=more, max_price=10**7), task)
    assert failed(outcome)["ticket_count"] == f"{more} ticket(s) bought, {task.params['qty']} asked"


def test_best_available_breaks_the_price_limit_and_splits_groups():
    broke = split = False
    for seed in range(40):
        task = TICKETS.make_task("buy_tickets", seed)
        p = task.params
        state = open_event(TICKETS.reset(seed, task), by_id(TICKETS.reset(seed)["events"],
                                                            p["event"]))  # fmt: skip
        state = choose(choose(state, "Quantity", str(p["qty"])), "Section", p["section"])
        state = click(click(state, "button", "Best available"), "button", "Checkout")
        state = fill(fill(state, "Full name", p["name"]), "Email", p["email"])
        state = fill(state, "Confirm email", p["email"])
        state = choose(state, "Payment method", p["card_label"])
        state = tick(state, "I agree to the Terms of Use and the purchase policy")
        state = click(state, "button", "Place order")
        outcome = TICKETS.evaluate(state, task)
        if not outcome.success:
            assert set(failed(outcome)) == {"price_limit"}, failed(outcome)
            broke = True
        adjacent = TICKETS.families["buy_adjacent"].verify(
            TICKETS.reset(seed), state, {**p, "max_price": 10**7}
        )
        if "adjacent_seats" in failed(adjacent):
            split = True
        if broke and split:
            return
    raise AssertionError(f"best available never broke the limit ({broke}) or split ({split})")


def test_seats_not_accessible_fail_the_accessible_task():
    task = TICKETS.make_task("buy_accessible", 2)
    assert TICKETS.evaluate(solve(task), task).success
    # The same show, but the first open seats of the cheapest section, which are not accessible.
    wrong = solve(replace(task, family="buy_tickets"), max_price=10**7)
    assert failed(TICKETS.evaluate(wrong, task)) == {
        "accessible_seats": f"{task.params['qty']} seat(s) are not wheelchair accessible"
    }


def test_buying_without_the_promo_code_fails():
    task = TICKETS.make_task("buy_with_promo", 5)
    final = solve(replace(task, family="buy_tickets"), code=None, max_price=10**7)
    outcome = TICKETS.evaluate(final, task)
    assert failed(outcome) == {"promo_applied": f"the order used no promo code, not "
                                                f"{task.params['code']}"}  # fmt: skip


def test_an_extra_order_is_collateral_damage():
    task = TICKETS.make_task("buy_tickets", 6)
    state = solve(task, message=False)
    assert TICKETS.evaluate(state, task).success
    extra = _distractor(state, task.params)
    sec = _roomy_section(extra, 1)
    more = replace(task, params={**task.params, **_params_for(state, extra), "section": sec["name"],
                                 "qty": 1, "max_price": 10**7})  # fmt: skip
    state = drive(state, more)
    outcome = TICKETS.evaluate(state, task)
    assert failed(outcome)["one_new_order"] == "2 orders were placed, not one"
    assert "was added" in failed(outcome)["no_collateral_damage"]

    question = TICKETS.make_task("cheapest_ticket", 6)
    state = drive(TICKETS.reset(6, question), more, message=False)
    state = answer(state, f"${question.params['answer'] / 100:.2f}")
    outcome = TICKETS.evaluate(state, question)
    assert set(failed(outcome)) == {"no_collateral_damage"}


def test_cancelling_the_other_order_for_the_same_artist_fails():
    task = TICKETS.make_task("cancel_order", 7)
    state = TICKETS.reset(7, task)
    target = by_id(state["orders"], task.params["order"])
    other = next(
        o for o in state["orders"]
        if o["id"] != target["id"] and by_id(state["events"], o["event"])["artist"]
        == task.params["artist"]
    )  # fmt: skip
    event = by_id(state["events"], other["event"])
    venue = by_id(state["venues"], event["venue"])["name"]
    final = solve(task, **_params_for(state, event), venue=venue)
    outcome = TICKETS.evaluate(final, task)
    assert failed(outcome)["order_cancelled"] == f"order {target['id']} is confirmed"
    assert failed(outcome)["refund_issued"] == f"no refund was issued for {target['id']}"
    assert f"orders {other['id']} status changed" in failed(outcome)["no_collateral_damage"]
    assert TICKETS.evaluate(solve(task), task).success


def test_wrong_answers_fail():
    task = TICKETS.make_task("cheapest_ticket", 8)
    expected = task.params["answer"]
    start = TICKETS.reset(8, task)
    for text, why in [
        (f"${(expected + 100) / 100:.2f}", "the answer says"),
        (f"${expected / 100:.2f} or ${(expected + 500) / 100:.2f}", "the answer names 2 amounts"),
        ("It's cheap", "the answer names no amount"),
    ]:
        outcome = TICKETS.evaluate(answer(start, text), task)
        assert failed(outcome)["answer"].startswith(why), failed(outcome)
    assert TICKETS.evaluate(answer(start, f"{expected / 100:.2f}"), task).success
    assert not TICKETS.evaluate(start, task).success  # no answer at all

    task = TICKETS.make_task("order_total", 8)
    start = TICKETS.reset(8, task)
    other = next(o for o in start["orders"] if o["total"] != task.params["answer"])
    outcome = TICKETS.evaluate(answer(start, f"${other['total'] / 100:,.2f}"), task)
    assert failed(outcome)["answer"].startswith("the answer says")


def test_doing_nothing_fails_every_family():
    for family in FAMILIES:
        task = TICKETS.make_task(family, 1)
        outcome = TICKETS.evaluate(answer(TICKETS.reset(1, task), "done"), task)
        assert not outcome.success, family


# --- hostile text --------------------------------------------------------------------------


def test_hostile_attendee_name_and_promo_code_are_escaped_in_html():
    cart, _ = _cart_of_one_cheap_ticket(10)
    bad_code = click(fill(cart, "Promo code", HOSTILE), "button", "Apply")
    html = page_to_html(TICKETS.render(bad_code))
    assert "<script" not in html.lower() and "&lt;SCRIPT&gt;ALERT(1)&lt;/SCRIPT&gt;" in html
    state = click(cart, "button", "Checkout")
    state = tick(fill(state, "Full name", HOSTILE), "I agree to the Terms of Use and the "
                 "purchase policy")  # fmt: skip
    html = page_to_html(TICKETS.render(state))
    assert "<script>" not in html and 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    state = click(state, "button", "Place order")
    assert state["page"] == "confirmation" and state["orders"][-1]["name"] == HOSTILE
    html = page_to_html(TICKETS.render(state))
    assert "<script>" not in html and "Attendee: &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in page_to_html(TICKETS.render(click(state, "link", "View order")))
