"""Skyway Airlines (`airline-v1`): solvable families in every UI variant, a random floor,
determinism, the errors a real airline site shows, fare rules enforced, and verifiers that
refuse wrong, collateral-damaging or unexplained outcomes."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from environments.engine import RandomPolicy, Task, get_environment, page_to_html, run_episode
from environments.engine.airline.site import AirlineSite
from environments.engine.airline.solver import AirlineSolver
from environments.engine.airline.world import (
    AIRPORTS,
    _generate,
    airport_label,
    day_after,
    itineraries,
    taken_seats,
)
from environments.engine.check import check_environment
from environments.engine.kit import long_date
from environments.engine.page import Element, quote
from environments.engine.splits import split_families
from environments.engine.variants import VARIANTS

AIRLINE = get_environment("airline")
FAMILIES = sorted(AIRLINE.families)


# --- driving the site by roles and names, as an agent would ----------------------------------


def dump(obj: object) -> str:
    return json.dumps(obj, sort_keys=True)


def find(state: dict, role: str, name: str | None = None, contains: str | None = None) -> Element:
    page = AIRLINE.render(state)
    el = page.find(role, name, contains)
    assert el is not None, f"no {role} {name or contains!r} on {page.url}"
    return el


def click(state: dict, role: str, name: str) -> dict:
    return AIRLINE.step(state, f"click({quote(find(state, role, name).bid)})")


def fill(state: dict, name: str, value: str) -> dict:
    page = AIRLINE.render(state)
    el = page.find("textbox", name) or page.find("number", name)
    assert el is not None, f"no input {name!r} on {page.url}"
    return AIRLINE.step(state, f"fill({quote(el.bid)}, {quote(value)})")


def choose(state: dict, name: str, option: str) -> dict:
    return AIRLINE.step(
        state, f"select_option({quote(find(state, 'select', name).bid)}, {quote(option)})"
    )


def answer(state: dict, text: str) -> dict:
    return AIRLINE.step(state, f"send_msg_to_user({quote(text)})")


def alert(state: dict) -> str | None:
    el = AIRLINE.render(state).find("alert")
    return el.name if el else None


def shows(state: dict, message: str) -> bool:
    """The page shows the message, as its alert or beside a field."""
    return any(
        el.role == "alert" and el.name in (message, f"Error: {message}")
        for el in AIRLINE.render(state).iter()
    )


def failed(outcome) -> dict[str, str]:
    return {c.name: c.detail for c in outcome.failed()}


def drive(state: dict, task: Task, *, message: bool = True) -> dict:
    """Run the scripted solver from a state; stop before its closing message if asked."""
    solver = AirlineSolver()
    solver.reset(task)
    for step in range(task.max_steps):
        action = solver.act(task, AIRLINE.render(state), {"step": step, "error": None})
        if not message and action.startswith("send_msg_to_user"):
            return state
        state = AIRLINE.step(state, action)
        if state["finished"]:
            return state
    raise AssertionError(f"the solver did not finish {task.family} seed {task.seed}")


def solve(task: Task, *, message: bool = True, **changed: object) -> dict:
    """The final state the solver reaches for the task's params altered by `changed`."""
    run = replace(task, params={**task.params, **changed})
    return drive(AIRLINE.reset(task.seed, task), run, message=message)


def evaluate(task: Task, state: dict):
    return AIRLINE.evaluate(state, task)


def search(state: dict, origin: str, dest: str, day: str, passengers: int = 1) -> dict:
    state = AIRLINE.step(state, "goto('search')")
    state = choose(state, "From", airport_label(origin))
    state = choose(state, "To", airport_label(dest))
    state = fill(state, "Departure date (YYYY-MM-DD)", day)
    state = fill(state, "Passengers", str(passengers))
    return click(state, "button", "Search flights")


def open_booking(state: dict, booking: dict) -> dict:
    return AIRLINE.open_booking(state, booking["id"])


def booking_of(state: dict, fare: str) -> dict:
    return next(b for b in state["bookings"] if b["fare"] == fare)


# --- solvable in every variant, and not by chance --------------------------------------------


def test_registered_with_documented_families_and_one_held_out():
    assert AIRLINE is get_environment("airline-v1") is get_environment("rlplatform/airline-v1")
    assert isinstance(AIRLINE, AirlineSite) and AIRLINE.solver is AirlineSolver
    assert len(FAMILIES) >= 7
    for family in AIRLINE.families.values():
        assert family.env == "airline-v1"
        assert "verifier" in family.description, family.name
        task = family.make_task(3)
        assert "{" not in task.goal and json.loads(json.dumps(task.to_dict())) == task.to_dict()
    assert AIRLINE.heldout_families == ("cancel_refused",)
    assert "cancel_refused" not in split_families("airline-v1", "train")
    assert "cancel_refused" in split_families("airline-v1", "test")


@pytest.mark.parametrize("family", FAMILIES)
def test_the_solver_succeeds_on_many_seeds_in_every_variant(family):
    for variant in VARIANTS:
        for seed in range(40 if variant == "default" else 12):
            task = AIRLINE.make_task(family, seed, variant)
            states, actions, outcome = run_episode(AIRLINE, task, AIRLINE.solver())
            assert states[-1]["finished"] and len(actions) <= task.max_steps, (seed, actions)
            assert outcome.success, (variant, seed, task.goal, failed(outcome))


def test_booking_three_passengers_with_seats_and_bags_takes_25_steps_or_more():
    for seed in range(10):
        _, actions, outcome = run_episode(
            AIRLINE, AIRLINE.make_task("book_group", seed), AIRLINE.solver()
        )
        assert outcome.success and len(actions) >= 25


def test_the_refusals_and_the_changes_share_their_goals():
    change, refused = AIRLINE.families["change_flight"], AIRLINE.families["change_refused"]
    assert change.goal == refused.goal
    assert AIRLINE.families["cancel_booking"].goal == AIRLINE.families["cancel_refused"].goal
    for seed in range(20):
        assert refused.params(seed)["fare"] == "Basic"
        assert change.params(seed)["fare"] in ("Standard", "Flexible")
        assert "basic" not in change.make_task(seed).goal.lower()


def test_random_policy_rarely_succeeds():
    runs = wins = 0
    for family in FAMILIES:
        for seed in range(15):
            _, _, outcome = run_episode(
                AIRLINE, AIRLINE.make_task(family, seed), RandomPolicy(seed)
            )
            runs += 1
            wins += outcome.success
    assert wins / runs <= 0.02, f"{wins}/{runs}"


def test_the_checker_passes_on_airline():
    reports = check_environment(AIRLINE, seeds=8)
    assert all(r.passed for r in reports), [r.failures for r in reports]


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_and_actions_give_identical_states_and_pages():
    task = AIRLINE.make_task("book_group", 5)
    _, actions, _ = run_episode(AIRLINE, task, AIRLINE.solver())

    def replay() -> list[tuple[str, str]]:
        env = AirlineSite()  # a fresh instance: no render cache shared with the other run
        state = env.reset(task.seed, task)
        seen = [(dump(state), page_to_html(env.render(state)))]
        for action in actions:
            state = env.step(state, action)
            seen.append((dump(state), page_to_html(env.render(state))))
        return seen

    first = replay()
    assert first == replay()
    assert json.loads(first[-1][0])["bookings"] != json.loads(first[0][0])["bookings"]


def test_reset_ignores_global_random_and_is_not_changed_by_episodes():
    initial = dump(AIRLINE.reset(11))
    solve(AIRLINE.make_task("cancel_booking", 11))
    solve(AIRLINE.make_task("book_group", 11))
    assert dump(AIRLINE.reset(11)) == initial
    _generate.cache_clear()
    random.seed(1)
    assert dump(AIRLINE.reset(11)) == initial
    assert dump(AIRLINE.reset(12)) != initial


def test_trips_are_named_by_route_and_date_unambiguously():
    for seed in range(30):
        trips = [(b["origin"], b["dest"], b["date"]) for b in AIRLINE.reset(seed)["bookings"]]
        assert len(set(trips)) == len(trips)


# --- what a real airline site says -----------------------------------------------------------


def test_search_refuses_same_airports_and_dates_off_sale():
    state = AIRLINE.reset(1)
    today = state["today"]
    same = search(state, "BOS", "BOS", day_after(today, 3))
    assert alert(same) == "Error: From and To must be different airports."
    past = search(state, "BOS", "DEN", today)
    assert (
        alert(past) == f"Error: Departure date cannot be before {long_date(day_after(today, 1))}."
    )
    late = search(state, "BOS", "DEN", day_after(today, 31))
    assert (
        alert(late) == f"Error: Flights are on sale up to {long_date(day_after(today, 30))} only."
    )
    many = search(state, "BOS", "DEN", day_after(today, 3), passengers=5)
    assert alert(many) == "Error: 1 field needs attention."
    assert shows(many, "Passengers cannot be more than 4.")
    for refused in (same, past, late, many):
        assert refused["search"] is None


def test_search_lists_connections_through_hubs():
    state = AIRLINE.reset(4)
    day = day_after(state["today"], 5)
    found = search(state, "BOS", "SEA", day)  # no nonstop between two spokes
    trips = itineraries(4, "BOS", "SEA", day)
    assert trips and all(t["stops"].startswith("1 stop") for t in trips)
    table = AIRLINE.render(found).find("table", "Flights")
    assert len(table.children) == len(trips) + 1
    for trip in trips:
        first, second = trip["legs"]
        assert first["dest"] == second["origin"] and second["dep"] > first["arr"]


def _sold_out(seed: int) -> tuple[str, str, str, dict]:
    state = AIRLINE.reset(seed)
    for origin in sorted(AIRPORTS):
        for dest in ("ATL", "DEN", "ORD"):
            if dest == origin:
                continue
            for days in range(1, 30):
                day = day_after(state["today"], days)
                for trip in itineraries(seed, origin, dest, day):
                    if trip["left"]["Basic"] == 0 and trip["left"]["Standard"] < 4:
                        return origin, dest, day, trip
    raise LookupError


def test_sold_out_fares_and_too_few_seats_are_refused():
    origin, dest, day, trip = _sold_out(2)
    state = search(AIRLINE.reset(2), origin, dest, day, passengers=4)
    row = next(
        r
        for r in AIRLINE.render(state).find("table", "Flights").children[1:]
        if r.children[0].name == trip["flights"]
    )
    assert row.children[4].name == "Sold out"
    basic = AIRLINE.step(state, f"click({quote(row.find('button', 'Select Basic').bid)})")
    assert alert(basic) == f"Error: Basic is sold out on {trip['flights']}."
    standard = AIRLINE.step(state, f"click({quote(row.find('button', 'Select Standard').bid)})")
    left = trip["left"]["Standard"]
    assert alert(standard) == (
        f"Error: Only {left} Standard seats are left on {trip['flights']}; "
        "you are booking 4 passengers."
    )
    assert basic["page"] == standard["page"] == "search"


def _checkout(seed: int, fare: str, passengers: int = 2) -> tuple[dict, dict]:
    state = AIRLINE.reset(seed)
    for days in range(1, 30):
        day = day_after(state["today"], days)
        for trip in itineraries(seed, "BOS", "DEN", day):
            if trip["left"][fare] >= passengers:
                state = search(state, "BOS", "DEN", day, passengers)
                cart = AIRLINE._select(state, trip["id"], fare)
                assert cart["page"] == "checkout"
                return cart, trip
    raise LookupError


def _passengers(state: dict, births: tuple[str, ...] = ("1980-01-02", "1990-03-04")) -> dict:
    for i, birth in enumerate(births, start=1):
        state = fill(state, f"Passenger {i} full name", f"Traveller {i}")
        state = fill(state, f"Passenger {i} date of birth (YYYY-MM-DD)", birth)
    return click(state, "button", "Continue")


def _pay(state: dict) -> dict:
    """Past the seats step (if its fields pass) to the payment, then Pay and book."""
    state = click(state, "button", "Continue")
    if state["alert"]:
        return state
    state = choose(state, "Payment method", "Visa")
    state = AIRLINE.step(
        state, f"check({quote(find(state, 'checkbox', 'I accept the fare rules').bid)})"
    )
    return click(state, "button", "Pay and book")


def test_checkout_validates_passengers_seats_and_the_fare_rules():
    state, trip = _checkout(3, "Standard")
    future = _pay(_passengers(state, ("1980-01-02", day_after(state["today"], 1))))
    assert shows(future, "Passenger 2 date of birth cannot be in the future.")
    ready = _passengers(state)
    leg = trip["legs"][0]
    taken = sorted(taken_seats(3, leg["id"]))[0]
    for seat, message in (
        ("31C", "Seat 31C does not exist: rows 1 to 24, seats A to F."),
        (taken, f"Seat {taken} is taken on {leg['number']}. Choose another seat."),
        ("C3", "Passenger 1 seat must be a row number and a seat letter, like 14C."),
    ):
        refused = _pay(fill(ready, "Passenger 1 seat (optional)", seat))
        assert shows(refused, message), (seat, alert(refused))
        assert refused["bookings"] is ready["bookings"]
    free = next(
        f"{r}{c}"
        for r in range(1, 25)
        for c in "AB"
        if not any(f"{r}{c}" in taken_seats(3, leg["id"]) for leg in trip["legs"])
    )
    both = fill(
        fill(ready, "Passenger 1 seat (optional)", free), "Passenger 2 seat (optional)", free
    )
    assert alert(_pay(both)) == f"Error: Passengers 1 and 2 cannot both sit in {free}."
    booked = _pay(
        fill(
            fill(ready, "Passenger 1 seat (optional)", free.lower()),
            "Passenger 2 checked bags",
            "2",
        )
    )
    assert alert(booked).startswith("Success: Booked!")
    new = booked["bookings"][-1]
    assert [p["seat"] for p in new["passengers"]] == [free, None]
    assert [p["bags"] for p in new["passengers"]] == [0, 2]
    charges = booked["payments"][len(state["payments"]) :]
    assert [(p["what"], p["amount"]) for p in charges] == [
        ("Fare", trip["prices"]["Standard"] * 2),
        ("Checked bags", 35_00 + 45_00),
    ]


def test_basic_fares_get_no_seat_selection():
    state, _ = _checkout(6, "Basic", 1)
    ready = _passengers(state, ("1980-01-02",))
    refused = _pay(fill(ready, "Passenger 1 seat (optional)", "12C"))
    assert alert(refused) == (
        "Error: Basic fares do not include seat selection: seats are assigned at check-in. "
        "Leave the seats empty."
    )


def test_basic_fares_can_be_neither_changed_nor_cancelled():
    state = AIRLINE.reset(0)
    basic = booking_of(state, "Basic")
    page = click(open_booking(state, basic), "button", "Change flight")
    page = fill(page, "New date (YYYY-MM-DD)", day_after(state["today"], 9))
    refused = click(page, "button", "Find new flights")
    assert alert(refused) == (
        "Error: Basic fares cannot be changed. Basic fares allow no changes or refunds after "
        "booking."
    )
    page = click(open_booking(state, basic), "button", "Cancellation")
    page = choose(page, "Refund to", "Travel credit")
    refused = click(page, "button", "Cancel trip")
    assert alert(refused) == "Error: Basic fares are non-refundable and cannot be cancelled."
    assert refused["bookings"] is state["bookings"] and refused["payments"] is state["payments"]


def test_standard_fares_are_cancelled_for_credit_only_less_the_fee():
    state = AIRLINE.reset(0)
    standard = booking_of(state, "Standard")
    page = click(open_booking(state, standard), "button", "Cancellation")
    refused = click(choose(page, "Refund to", "Original payment"), "button", "Cancel trip")
    assert alert(refused) == (
        "Error: Standard fares cannot be refunded to the original payment: they are cancelled "
        "for travel credit, less the $100.00 fee."
    )
    asked = click(choose(page, "Refund to", "Travel credit"), "button", "Cancel trip")
    kept = click(asked, "button", "Keep the trip")
    assert kept["bookings"] is state["bookings"]
    done = click(asked, "button", "Yes, cancel the trip")
    paid = sum(p["amount"] for p in state["payments"] if p["booking"] == standard["code"])
    assert done["credits"][-1]["amount"] == max(0, paid - 100_00)
    assert done["payments"] is state["payments"]


def test_changing_the_date_to_the_same_day_is_refused():
    state = AIRLINE.reset(0)
    flexible = booking_of(state, "Flexible")
    page = click(open_booking(state, flexible), "button", "Change flight")
    refused = click(
        fill(page, "New date (YYYY-MM-DD)", flexible["date"]), "button", "Find new flights"
    )
    assert f"This trip already departs on {long_date(flexible['date'])}" in alert(refused)


def test_bags_already_paid_cannot_be_removed_and_an_empty_save_is_refused():
    state = AIRLINE.reset(0)
    booking = next(b for b in state["bookings"] if b["passengers"][0]["bags"])
    page = open_booking(state, booking)
    row = AIRLINE.render(page).find("table", "Passengers").children[1]
    page = AIRLINE.step(page, f"click({quote(row.find('button', 'Edit seat and bags').bid)})")
    unchanged = click(page, "button", "Save seat and bags")
    assert alert(unchanged) == "Error: Nothing to save: the seat and bags are as they were."
    fewer = click(fill(page, "Checked bags", "0"), "button", "Save seat and bags")
    assert alert(fewer).startswith("Error: Checked bags already paid for cannot be removed online")
    assert fewer["bookings"] is state["bookings"]


def test_a_hostile_passenger_name_is_escaped():
    state, _ = _checkout(3, "Flexible", 1)
    state = fill(state, "Passenger 1 full name", "<script>alert(1)</script>")
    state = fill(state, "Passenger 1 date of birth (YYYY-MM-DD)", "1980-01-01")
    booked = _pay(click(state, "button", "Continue"))
    html = page_to_html(AIRLINE.render(booked))
    assert "<script>" not in html and "&lt;script&gt;" in html


# --- verifiers ------------------------------------------------------------------------------


def test_a_refusal_needs_nothing_changed_and_the_fare_named():
    for family in ("change_refused", "cancel_refused"):
        task = AIRLINE.make_task(family, 4)
        before = solve(task, message=False)
        assert evaluate(task, answer(before, "Sorry, the Basic fare does not allow that.")).success
        silent = evaluate(task, answer(before, "Sorry, I cannot do that."))
        assert failed(silent) == {"reason": "the message does not say the fare is Basic"}
        assert "reason" in failed(evaluate(task, before))  # no message at all
        assert not evaluate(task, answer(before, "Done, it's a basically fine change.")).success


def test_a_forbidden_change_fails_even_with_the_reason_given():
    task = AIRLINE.make_task("change_refused", 4)
    state = AIRLINE.reset(task.seed, task)
    booking = next(b for b in state["bookings"] if b["id"] == task.params["booking"])
    trip = next(
        t
        for t in itineraries(task.seed, booking["origin"], booking["dest"], task.params["new_date"])
        if [leg["id"] for leg in t["legs"]] == task.params["new_legs"]
    )
    moved = [
        {**b, "legs": trip["legs"], "date": task.params["new_date"]} if b is booking else b
        for b in state["bookings"]
    ]
    outcome = evaluate(task, answer({**state, "bookings": moved}, "Your Basic fare, but done."))
    assert list(failed(outcome)) == ["no_collateral_damage"]


def test_collateral_damage_fails_a_booking():
    task = AIRLINE.make_task("book_flight", 2)
    state = solve(task, message=False)
    assert evaluate(task, answer(state, "Booked.")).success
    other = state["bookings"][0]
    cancelled = [{**b, "status": "Cancelled"} if b is other else b for b in state["bookings"]]
    outcome = evaluate(task, answer({**state, "bookings": cancelled}, "Booked."))
    assert list(failed(outcome)) == ["no_collateral_damage"]


def test_wrong_choices_fail_their_checks():
    book = AIRLINE.make_task("book_flight", 6)
    assert "card" in failed(
        evaluate(book, solve(book, card="Amex" if book.params["card"] != "Amex" else "Visa"))
    )
    group = AIRLINE.make_task("book_group", 6)
    swapped = [dict(p) for p in group.params["passengers"]]
    swapped[0]["bags"] = (swapped[0]["bags"] + 1) % 3
    assert "passengers" in failed(evaluate(group, solve(group, passengers=swapped)))
    bags = next(
        t for t in (AIRLINE.make_task("add_bags", s) for s in range(20)) if t.params["bags"] < 3
    )
    more = evaluate(bags, solve(bags, bags=bags.params["bags"] + 1))
    assert set(failed(more)) == {"bags", "bag_fee"} or set(failed(more)) == {"bags"}


def test_a_flexible_cancellation_taken_as_credit_fails_and_the_amount_is_checked():
    task = next(
        t
        for t in (AIRLINE.make_task("cancel_booking", s) for s in range(40))
        if t.params["fare"] == "Flexible"
    )
    state = AIRLINE.reset(task.seed, task)
    booking = next(b for b in state["bookings"] if b["id"] == task.params["booking"])
    page = click(open_booking(state, booking), "button", "Cancellation")
    asked = click(choose(page, "Refund to", "Travel credit"), "button", "Cancel trip")
    credit = click(asked, "button", "Yes, cancel the trip")
    outcome = evaluate(task, answer(credit, f"You get {task.params['back'] / 100:.2f} back."))
    assert list(failed(outcome)) == ["money_back"]
    right = solve(task, message=False)
    refunds = right["payments"][len(state["payments"]) :]
    assert {p["card"] for p in refunds} == {booking["card"]}  # back to the original payment
    assert evaluate(task, answer(right, f"${task.params['back'] / 100:,.2f}")).success
    wrong = evaluate(task, answer(right, f"${task.params['back'] / 100 + 0.01:,.2f}"))
    assert list(failed(wrong)) == ["answer"]


def test_a_cheapest_fare_answer_must_be_the_lowest_total():
    task = AIRLINE.make_task("cheapest_fare", 9)
    state = AIRLINE.reset(task.seed, task)
    total = task.params["total"]
    assert evaluate(task, answer(state, f"${total / 100:,.2f}")).success
    assert not evaluate(task, answer(state, f"${(total + 100) / 100:,.2f}")).success
    assert not evaluate(task, answer(state, f"${total / 100:,.2f} or $1.00")).success


def test_a_change_charges_the_fee_and_the_higher_fare_to_the_original_card():
    for seed in range(10):
        task = AIRLINE.make_task("change_flight", seed)
        initial = AIRLINE.reset(seed, task)
        final = solve(task)
        charges = final["payments"][len(initial["payments"]) :]
        assert sum(p["amount"] for p in charges) == task.params["charge"]
        assert {p["card"] for p in charges} <= {task.params["card"]}
        booking = next(b for b in final["bookings"] if b["id"] == task.params["booking"])
        assert all(p["seat"] is None for p in booking["passengers"])


def test_leaving_a_page_keeps_no_half_done_dialog():
    state = AIRLINE.reset(0)
    standard = booking_of(state, "Standard")
    page = click(open_booking(state, standard), "button", "Cancellation")
    asked = click(choose(page, "Refund to", "Travel credit"), "button", "Cancel trip")
    assert AIRLINE.render(asked).find("button", "Yes, cancel the trip") is not None
    left = AIRLINE.step(asked, "goto('trips')")
    assert "confirmcancel" not in left["ui"]
    back = open_booking(left, standard)
    assert AIRLINE.render(back).find("button", "Yes, cancel the trip") is None
    assert back["bookings"] is state["bookings"]


def test_a_booking_takes_its_seats_from_those_left_and_a_cancellation_gives_them_back():
    state, trip = _checkout(5, "Flexible")
    booked = _pay(_passengers(state))
    assert alert(booked).startswith("Success: Booked!")
    left = trip["left"]["Flexible"]

    def shown(s: dict) -> str:
        again = search(s, "BOS", "DEN", trip["legs"][0]["date"], 2)
        row = next(
            r
            for r in AIRLINE.render(again).find("table", "Flights").children[1:]
            if r.children[0].name == trip["flights"]
        )
        return row.children[6].name

    assert shown(booked).endswith(f"({left - 2} left)")
    page = click(booked, "button", "Cancellation")
    asked = click(choose(page, "Refund to", "Original payment"), "button", "Cancel trip")
    cancelled = click(asked, "button", "Yes, cancel the trip")
    assert alert(cancelled).startswith("Success: Cancelled.")
    assert shown(cancelled).endswith(f"({left} left)")


def test_unicode_digits_are_refused_in_dates_and_counts():
    state, _ = _checkout(3, "Flexible", 1)
    state = fill(state, "Passenger 1 full name", "Zoë O'Brien")
    arabic = click(
        fill(state, "Passenger 1 date of birth (YYYY-MM-DD)", "١٩٨٠-01-01"), "button", "Continue"
    )
    assert shows(arabic, "Passenger 1 date of birth (YYYY-MM-DD) must be a date as YYYY-MM-DD.")
    seats = click(
        fill(state, "Passenger 1 date of birth (YYYY-MM-DD)", "1980-01-01"), "button", "Continue"
    )
    bags = click(fill(seats, "Passenger 1 checked bags", "٢"), "button", "Continue")
    assert shows(bags, "Passenger 1 checked bags must be a whole number.")
    assert bags["bookings"] is state["bookings"]
