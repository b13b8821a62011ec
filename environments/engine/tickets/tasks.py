"""The ticket shop's task families.

Every family draws its parameters from the world `reset(seed)` builds, so each task is solvable,
and prefers targets that have distractors (the same artist in another city or on another date,
tribute shows with the artist's name, a second refundable order for the same artist).
Verifiers judge the final state: the one order that had to appear (or the one that had to be
cancelled), its contents, and that nothing else changed.
"""

from __future__ import annotations

import random

from ..base import Check, Outcome
from ..tasks import TaskFamily, check_amount, check_no_collateral, diff_records
from .formats import long_date, money, month_label
from .world import (
    FIRST_NAMES,
    LAST_NAMES,
    MAIL_DOMAINS,
    TRIBUTE_ACTS,
    build_world,
    by_id,
    discount_for,
    refund_deadline,
    section_by_id,
    set_seats,
)

ENV = "tickets-v1"
RECORDS = ["events", "orders", "refunds", "promos", "cards", "venues"]


def _venue_name(world: dict, event: dict) -> str:
    return by_id(world["venues"], event["venue"])["name"]


def _upcoming(world: dict) -> list[dict]:
    return [e for e in world["events"] if e["date"] > world["today"]]


def _card(world: dict, rng: random.Random) -> dict:
    usable = [c for c in world["cards"] if c["exp"] >= world["today"][:7]]
    card = rng.choice(usable)
    return {"card": card["id"], "card_label": f"{card['brand']} ending in {card['last4']}"}


def _attendee(world: dict, rng: random.Random) -> dict:
    """A friend the tickets are for: never the account holder, so the prefilled name fails."""
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if f"{first} {last}" != world["user"]["name"]:
            break
    handle = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}"])
    email = handle.lower().replace("'", "") + "@" + rng.choice(MAIL_DOMAINS)
    return {"name": f"{first} {last}", "email": email}


def _event_params(world: dict, event: dict) -> dict:
    return {
        "event": event["id"],
        "artist": event["artist"],
        "city": event["city"],
        "venue": _venue_name(world, event),
        "date": event["date"],
        "date_label": long_date(event["date"]),
    }


def _dollars_up(cents: int, step: int = 500) -> int:
    """Round up to a whole multiple of `step` cents ($5 by default)."""
    return -(-cents // step) * step


def _pick_event(world: dict, rng: random.Random, ok) -> tuple[dict, object]:
    """A random upcoming event for which `ok(event)` returns something truthy, preferring
    artists with more than one show (so the other shows are distractors)."""
    events = _upcoming(world)
    counts: dict[str, int] = {}
    for e in events:
        counts[e["artist"]] = counts.get(e["artist"], 0) + 1
    rng.shuffle(events)
    events.sort(key=lambda e: counts[e["artist"]] < 2)  # stable: shuffled within each group
    for e in events:
        found = ok(e)
        if found:
            return e, found
    raise LookupError("no event fits this task")


def _failing(names: list[str], why: str) -> list[Check]:
    return [Check(n, False, why) for n in names]


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _describe(world: dict, event: dict) -> str:
    return (
        f"{event['name']} at {_venue_name(world, event)}, {event['city']} on "
        f"{long_date(event['date'])}"
    )


def purchase_checks(
    initial: dict,
    final: dict,
    params: dict,
    *,
    section: str | None = None,
    max_price: int | None = None,
    adjacent: bool = False,
    accessible: bool = False,
    promo: str | None = None,
) -> list[Check]:
    """Checks for "buy tickets" tasks: one new order, for the right event, with the asked-for
    tickets, attendee and card, the seats sold on the seat map, and nothing else changed."""
    before = {o["id"] for o in initial["orders"]}
    new = [o for o in final["orders"] if o["id"] not in before]
    names = ["right_event", "ticket_count"]
    if section:
        names.append("section")
    if max_price is not None:
        names.append("price_limit")
    if adjacent:
        names.append("adjacent_seats")
    if accessible:
        names.append("accessible_seats")
    if promo:
        names.append("promo_applied")
    names += ["attendee", "payment_card", "seats_sold"]
    diffs = diff_records(initial, final, RECORDS)
    allowed = [("events", params["event"], "sections")]
    if len(new) == 1:
        allowed.append(("orders", new[0]["id"], "+"))
    collateral = check_no_collateral(diffs, allowed)
    if len(new) != 1:
        why = "no order was placed" if not new else f"{len(new)} orders were placed, not one"
        return [Check("one_new_order", False, why), *_failing(names, why), collateral]

    order = new[0]
    tickets = order["tickets"]
    target = by_id(initial["events"], params["event"])
    bought = by_id(initial["events"], order["event"])
    checks = [Check("one_new_order", True, f"order {order['id']} was placed")]
    if order["event"] == target["id"]:
        checks.append(Check("right_event", True, f"the order is for {_describe(initial, target)}"))
    else:
        checks.append(
            Check(
                "right_event",
                False,
                f"the order is for {_describe(initial, bought)}; the task asked for "
                f"{_describe(initial, target)}",
            )
        )
    n = len(tickets)
    checks.append(
        Check("ticket_count", n == params["qty"], f"{n} ticket(s) bought, {params['qty']} asked")
    )
    sec_names = {s["id"]: s["name"] for s in bought["sections"]}
    if section:
        got = sorted({sec_names[t["section"]] for t in tickets})
        ok = got == [section]
        checks.append(Check("section", ok, f"tickets in {', '.join(got)}; asked for {section}"))
    if max_price is not None:
        dear = [t for t in tickets if t["price"] > max_price]
        detail = (
            f"every ticket costs at most {money(max_price)}"
            if not dear
            else f"{len(dear)} ticket(s) cost more than {money(max_price)} (up to "
            f"{money(max(t['price'] for t in dear))})"
        )
        checks.append(Check("price_limit", not dear, detail))
    if adjacent:
        spots = {(t["section"], t["row"]) for t in tickets}
        seats = sorted(t["seat"] for t in tickets)
        together = len(spots) == 1 and seats == list(range(seats[0], seats[0] + len(seats)))
        detail = "the seats are side by side in one row" if together else (
            "the seats are not side by side in one row: "
            + "; ".join(f"{sec_names[t['section']]} Row {t['row']} Seat {t['seat']}"
                        for t in tickets)
        )  # fmt: skip
        checks.append(Check("adjacent_seats", together, detail))
    if accessible:
        plain = [
            t
            for t in tickets
            if f"{t['row']}-{t['seat']}" not in section_by_id(bought, t["section"])["accessible"]
        ]
        detail = (
            "every seat is wheelchair accessible"
            if not plain
            else f"{len(plain)} seat(s) are not wheelchair accessible"
        )
        checks.append(Check("accessible_seats", not plain, detail))
    if promo:
        checks.append(_promo_check(initial, order, bought, promo))
    ok = _same_name(order["name"], params["name"]) and (
        order["email"].strip().casefold() == params["email"].casefold()
    )
    checks.append(
        Check(
            "attendee",
            ok,
            f"attendee {order['name']} <{order['email']}>; asked for {params['name']} "
            f"<{params['email']}>",
        )
    )
    card = by_id(initial["cards"], order["card"])
    checks.append(
        Check(
            "payment_card",
            order["card"] == params["card"],
            f"paid with the {card['brand']} ending in {card['last4']}; asked for the "
            f"{params['card_label']}",
        )
    )
    after = by_id(final["events"], order["event"])
    expected = set_seats(bought, tickets, sold=True)["sections"]
    checks.append(
        Check(
            "seats_sold",
            after["sections"] == expected,
            "the seat map shows exactly the order's seats as sold"
            if after["sections"] == expected
            else "the seat map does not match the order's seats",
        )
    )
    checks.append(collateral)
    return checks


def _promo_check(initial: dict, order: dict, event: dict, code: str) -> Check:
    if order["promo"] != code:
        used = order["promo"] or "no promo code"
        return Check("promo_applied", False, f"the order used {used}, not {code}")
    promo = by_id(initial["promos"], code)
    subtotal = sum(t["price"] for t in order["tickets"])
    discount = discount_for(promo, subtotal)
    total = subtotal + event["fee"] * len(order["tickets"]) - discount
    if order["discount"] != discount or order["total"] != total:
        return Check(
            "promo_applied",
            False,
            f"discount {money(order['discount'])} and total {money(order['total'])}; expected "
            f"{money(discount)} off and {money(total)} charged",
        )
    return Check(
        "promo_applied", True, f"{code} took {money(discount)} off; {money(total)} charged"
    )


def _buyer(world: dict, rng: random.Random) -> dict:
    return {**_attendee(world, rng), **_card(world, rng)}


# --- families ------------------------------------------------------------------------------


class BuyTickets(TaskFamily):
    """Buy a number of tickets for one show (artist, city, date) in a named section, at most a
    given price each before fees, for a named attendee, paying with a named card.

    The verifier checks: exactly one new order; for that show (not the same artist's other
    dates or cities, nor a tribute show); the ticket count; every ticket in the section; every
    ticket at or under the price limit (the front rows cost more, so "best available" fails);
    the attendee's name and email; the card; the seat map shows exactly those seats sold; and
    nothing else changed.
    """

    name = "buy_tickets"
    env = ENV
    title = "Buy tickets in a section under a price limit"
    max_steps = 45
    goal = (
        "Buy {qty} tickets for {artist} at {venue} in {city} on {date_label}, in section "
        "{section}, paying at most {max_price_label} per ticket before fees. The tickets are for "
        "{name} ({email}). Pay with the {card_label}."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        qty = rng.randint(2, 4)

        def ok(event: dict) -> dict | None:
            secs = list(event["sections"])
            rng.shuffle(secs)
            for sec in secs:
                limit = _dollars_up(min(sec["prices"]))
                cheap = sum(
                    t.count("0")
                    for t, p in zip(sec["taken"], sec["prices"], strict=True)
                    if p <= limit
                )
                if cheap >= qty:
                    return {"section": sec["name"], "max_price": limit}
            return None

        event, found = _pick_event(world, rng, ok)
        return {
            **_event_params(world, event),
            **found,
            "max_price_label": money(found["max_price"]),
            "qty": qty,
            **_buyer(world, rng),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        return Outcome.from_checks(
            purchase_checks(
                initial, final, params, section=params["section"], max_price=params["max_price"]
            )
        )


class BuyAdjacentSeats(TaskFamily):
    """Buy a group of seats side by side in one row (any section) for one show, at most a
    given price each, for a named attendee, paying with a named card.

    The verifier checks: exactly one new order for that show; the ticket count; all seats in
    one section and row with consecutive numbers (best available splits groups, so it fails);
    every ticket at or under the price limit; attendee, card, seat map, and no other change.
    """

    name = "buy_adjacent"
    env = ENV
    title = "Buy seats together"
    max_steps = 50
    goal = (
        "Buy {qty} seats next to each other in the same row for {artist} in {city} on "
        "{date_label}. Any section is fine, but pay at most {max_price_label} per ticket before "
        "fees. Put the tickets in the name of {name}, email {email}, and pay with the "
        "{card_label}."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        qty = rng.randint(3, 5)

        def ok(event: dict) -> int | None:
            prices = [
                p
                for sec in event["sections"]
                for t, p in zip(sec["taken"], sec["prices"], strict=True)
                if "0" * qty in t
            ]
            return _dollars_up(min(prices)) + rng.choice([0, 0, 500, 1000]) if prices else None

        event, limit = _pick_event(world, rng, ok)
        return {
            **_event_params(world, event),
            "max_price": limit,
            "max_price_label": money(limit),
            "qty": qty,
            **_buyer(world, rng),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        return Outcome.from_checks(
            purchase_checks(initial, final, params, max_price=params["max_price"], adjacent=True)
        )


class BuyAccessibleSeats(TaskFamily):
    """Buy wheelchair-accessible seats for one show, for a named attendee, paying with a named
    card.

    The verifier checks: exactly one new order for that show; the ticket count; every seat is
    one of the section's wheelchair-accessible seats; attendee, card, seat map, and no other
    change.
    """

    name = "buy_accessible"
    env = ENV
    title = "Buy accessible seats"
    max_steps = 45
    goal = (
        "Buy {qty} wheelchair-accessible {seats} for {artist} in {city} on {date_label}, in "
        "any section. The tickets are for {name} ({email}); pay with the {card_label}."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        qty = rng.randint(1, 2)

        def ok(event: dict) -> bool:
            for sec in event["sections"]:
                free = 0
                for key in sec["accessible"]:
                    row, _, seat = key.partition("-")
                    free += sec["taken"][sec["rows"].index(row)][int(seat) - 1] == "0"
                if free >= qty:
                    return True
            return False

        event, _ = _pick_event(world, rng, ok)
        return {
            **_event_params(world, event),
            "qty": qty,
            "seats": "seat" if qty == 1 else "seats",
            **_buyer(world, rng),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        return Outcome.from_checks(purchase_checks(initial, final, params, accessible=True))


class BuyWithPromo(TaskFamily):
    """Buy tickets for one show in a named section and use a named promo code (a percentage
    off, a fixed amount off, one that needs a minimum spend, or one only valid for one
    artist's shows).

    The verifier checks: exactly one new order for that show; the ticket count; the section;
    the order used that code, with the discount the code gives on the order's ticket subtotal
    and the total charged equal to tickets plus fees minus that discount; attendee, card, seat
    map, and no other change.
    """

    name = "buy_with_promo"
    env = ENV
    title = "Buy tickets with a promo code"
    max_steps = 50
    goal = (
        "Buy {qty} tickets for {artist} in {city} on {date_label} in section {section}, and use "
        "the promo code {code}. The tickets are for {name} ({email}); pay with the {card_label}."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        today = world["today"]
        codes = [p for p in world["promos"] if p["expires"] >= today]
        rng.shuffle(codes)
        for promo in codes:
            qty = rng.randint(2, 4)

            def ok(event: dict, promo: dict = promo, qty: int = qty) -> str | None:
                if promo["artist"] and event["artist"] != promo["artist"]:
                    return None
                for sec in event["sections"]:
                    free = sum(t.count("0") for t in sec["taken"])
                    if free >= qty and qty * min(sec["prices"]) >= promo["min"]:
                        return sec["name"]
                return None

            try:
                event, section = _pick_event(world, rng, ok)
            except LookupError:
                continue
            return {
                **_event_params(world, event),
                "section": section,
                "code": promo["id"],
                "qty": qty,
                **_buyer(world, rng),
            }
        raise LookupError("no promo code fits")  # pragma: no cover - the world always has one

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        return Outcome.from_checks(
            purchase_checks(initial, final, params, section=params["section"], promo=params["code"])
        )


class CancelOrder(TaskFamily):
    """Cancel an upcoming order, named by artist, venue, city and date, and get it refunded.

    The history holds another refundable order for the same artist in another city, a
    non-refundable order and one past its refund deadline. The verifier checks: that order is
    cancelled; exactly one refund, for that order, of its total, to the card it was paid
    with; its seats are back on sale; no other order, refund or seat changed.
    """

    name = "cancel_order"
    env = ENV
    title = "Cancel an order for a refund"
    max_steps = 25
    goal = "Cancel my order for {artist} at {venue} in {city} on {date_label} and get a refund."

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        today = world["today"]
        ok = []
        for o in world["orders"]:
            e = by_id(world["events"], o["event"])
            deadline = refund_deadline(e)
            if o["status"] == "confirmed" and deadline is not None and deadline >= today:
                ok.append(o)
        order = rng.choice(ok)
        event = by_id(world["events"], order["event"])
        return {**_event_params(world, event), "order": order["id"]}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        oid = params["order"]
        order = by_id(initial["orders"], oid)
        after = next((o for o in final["orders"] if o["id"] == oid), None)
        checks = []
        cancelled = after is not None and after["status"] == "cancelled"
        checks.append(
            Check(
                "order_cancelled",
                cancelled,
                f"order {oid} is {after['status'] if after else 'missing'}",
            )
        )
        old = {r["id"] for r in initial["refunds"]}
        new = [r for r in final["refunds"] if r["id"] not in old]
        mine = [r for r in new if r["order"] == oid]
        if (
            len(mine) == 1
            and mine[0]["amount"] == order["total"]
            and mine[0]["card"] == order["card"]
        ):
            checks.append(
                Check("refund_issued", True, f"{money(order['total'])} refunded for {oid}")
            )
        elif not mine:
            checks.append(Check("refund_issued", False, f"no refund was issued for {oid}"))
        else:
            amounts = ", ".join(money(r["amount"]) for r in mine)
            checks.append(
                Check(
                    "refund_issued",
                    False,
                    f"refunds for {oid}: {amounts}; expected one of {money(order['total'])} "
                    "to the card it was paid with",
                )
            )
        event = by_id(initial["events"], order["event"])
        released = set_seats(event, order["tickets"], sold=False)["sections"]
        ok = by_id(final["events"], event["id"])["sections"] == released
        checks.append(
            Check(
                "seats_released",
                ok,
                "the order's seats are back on sale" if ok else "the seat map is not as expected",
            )
        )
        diffs = diff_records(initial, final, RECORDS)
        allowed = [
            ("orders", oid, "status"),
            ("orders", oid, "refund"),
            ("events", order["event"], "sections"),
        ]
        if len(mine) == 1 and len(new) == 1:
            allowed.append(("refunds", mine[0]["id"], "+"))
        checks.append(check_no_collateral(diffs, allowed))
        return Outcome.from_checks(checks)


class CheapestTicket(TaskFamily):
    """Answer: the lowest price of a ticket still on sale for an artist in a city in a month.

    Tribute shows name the artist but are other acts, the artist plays other cities, and sold
    seats and sold-out sections do not count. The verifier checks the answer names exactly
    that amount (as a number) and that nothing in the shop changed.
    """

    name = "cheapest_ticket"
    env = ENV
    title = "Find the cheapest ticket"
    max_steps = 25
    goal = (
        "What is the lowest price of a single ticket still available for {artist} in {city} in "
        "{month_label}? Give the listed ticket price, before fees."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        best: dict[tuple[str, str, str], int] = {}
        for e in _upcoming(world):
            if e["artist"] in TRIBUTE_ACTS:
                continue
            for sec in e["sections"]:
                for price, taken in zip(sec["prices"], sec["taken"], strict=True):
                    if "0" in taken:
                        key = (e["artist"], e["city"], e["date"][:7])
                        best[key] = min(best.get(key, price), price)
        keys = sorted(best)
        # Prefer a month and city where the artist plays twice, or where a tribute plays too.
        busy = [
            k
            for k in keys
            if sum(
                1
                for e in _upcoming(world)
                if e["city"] == k[1] and e["date"][:7] == k[2] and k[0] in e["name"]
            )
            > 1
        ]
        artist, city, month = rng.choice(busy if busy and rng.random() < 0.7 else keys)
        return {
            "artist": artist,
            "city": city,
            "month": month,
            "month_label": month_label(month),
            "answer": best[(artist, city, month)],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        checks = [check_amount(final["answer"], params["answer"])]
        checks.append(check_no_collateral(diff_records(initial, final, RECORDS)))
        return Outcome.from_checks(checks)


class OrderTotal(TaskFamily):
    """Answer: the total charged for one past order (tickets plus fees minus any promo),
    named by artist, venue and date.

    The history has two orders for the same artist. The verifier checks the answer names
    exactly that order's total and that nothing in the shop changed.
    """

    name = "order_total"
    env = ENV
    title = "Report an order's total"
    max_steps = 15
    goal = (
        "How much did I pay in total, fees included, for my {artist} tickets for the show at "
        "{venue} on {date_label}?"
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        order = rng.choice(world["orders"])
        event = by_id(world["events"], order["event"])
        return {
            **_event_params(world, event),
            "order": order["id"],
            "answer": order["total"],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        checks = [check_amount(final["answer"], params["answer"])]
        checks.append(check_no_collateral(diff_records(initial, final, RECORDS)))
        return Outcome.from_checks(checks)


FAMILIES = [
    BuyTickets(),
    BuyAdjacentSeats(),
    BuyAccessibleSeats(),
    BuyWithPromo(),
    CancelOrder(),
    CheapestTicket(),
    OrderTotal(),
]
