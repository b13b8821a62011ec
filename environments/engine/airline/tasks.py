"""Skyway Airlines' task families. Each draws from the world its seed builds and verifies the
final state: what must have changed, and that nothing else did. Refusals (a change or a
cancellation the fare rules forbid) succeed only with nothing changed and a message that names
the fare class whose rule forbids it."""

from __future__ import annotations

import re

from environments.engine.base import Check, Outcome
from environments.engine.kit import WorldRandom, by_id, long_date, money
from environments.engine.tasks import (
    TaskFamily,
    check_amount,
    check_field,
    check_no_collateral,
    diff_records,
    shown,
)

from .world import (
    AIRPORTS,
    CANCEL_FEE,
    CARDS,
    CHANGE_FEE,
    FARES,
    LETTERS,
    ROWS,
    bag_fees,
    build_world,
    day_after,
    itineraries,
    taken_seats,
)

ENV = "airline-v1"
RECORDS = ["bookings", "payments", "credits"]
HELPING = "You are helping {holder}, the signed-in customer. "
FOLLOW_RULES = (
    "Follow the fare rules: if the fare {allows}; if it does not, change nothing and tell them why."
)


def _collateral(initial: dict, final: dict, allowed: list[tuple[str, str, str]]) -> Check:
    return check_no_collateral(diff_records(initial, final, RECORDS), allowed)


def _new(initial: dict, final: dict, key: str) -> list[dict]:
    old = {r["id"] for r in initial[key]}
    return [r for r in final[key] if r["id"] not in old]


def _one_booking(initial: dict, final: dict) -> tuple[dict, Check]:
    new = [b for b in _new(initial, final, "bookings") if b["status"] == "Confirmed"]
    if len(new) != 1:
        return {}, Check(
            "one_booking", False, f"{len(new)} confirmed bookings were made; the task asks for one"
        )
    return new[0], Check("one_booking", True, "one confirmed booking was made")


def _charges(initial: dict, final: dict, code: str) -> list[dict]:
    return [p for p in _new(initial, final, "payments") if p["booking"] == code]


def _check_charged(
    name: str, payments: list[dict], expected: int, card: str, kinds: tuple[str, ...]
) -> Check:
    """The new payments are charges to `card` for `kinds` (what the charge is for) adding up
    to `expected` (none when it is 0)."""
    wrong = [
        p for p in payments if p["kind"] != "Charge" or p["card"] != card or p["what"] not in kinds
    ]
    total = sum(p["amount"] for p in payments)
    if wrong:
        return Check(
            name,
            False,
            f"{len(wrong)} payment(s) are not charges to the {card} card for " + " or ".join(kinds),
        )
    if total != expected:
        return Check(name, False, f"{money(total)} was charged, expected {money(expected)}")
    return Check(name, True, f"{money(expected)} charged to the {card} card")


def _paid_booking_checks(
    initial: dict,
    final: dict,
    booking: dict,
    params: dict,
    passengers: Check,
    total: int,
    kinds: tuple[str, ...],
) -> list[Check]:
    """What a new booking's verifier checks after its flights: the fare, the `passengers`
    check, the card, the charges (`total` for `kinds`), and that nothing else changed."""
    b = booking
    allowed = [("bookings", b["id"], "+"), ("payments", "*", "+")] if b else []
    return [
        check_field(
            "fare", (b.get("fare"), b.get("price")), (params["fare"], params["price"]), _fare
        ),
        passengers,
        check_field("card", b.get("card"), params["card"], _paid_with),
        _check_charged(
            "charged", _charges(initial, final, b.get("code")), total, params["card"], kinds
        ),
        _collateral(initial, final, allowed),
    ]


def _flights(ids: list[str]) -> str:
    """Flight ids ("SK379-2024-11-07") as the site numbers them: "SK 379 + SK 997"."""
    numbers = [re.sub(r"^([A-Z]+)(\d+)-", r"\1 \2 ", i).split(" 20")[0] for i in ids]
    return " + ".join(numbers) or "no flights"


def _route(route: object) -> str:
    origin, dest, day = route  # type: ignore[misc]
    if origin is None:
        return "no trip"
    return f"{origin} to {dest} on {long_date(day) if day else shown(day)}"


def _fare(pair: object) -> str:
    fare, price = pair  # type: ignore[misc]
    if fare is None:
        return "no fare"
    return f"{fare} fare at {money(price) if isinstance(price, int) else shown(price)}"


def _paid_with(card: object) -> str:
    return f"paid with {card}" if card else "not paid"


def _passengers(people: object) -> str:
    """(name, birth date, seat, bags) tuples as "Mei Johnson (born 1957-07-16), seat 22A,
    1 bag"."""
    out = []
    for name, birth, seat, bags in people:  # type: ignore[attr-defined]
        bag_text = "no bags" if not bags else f"{bags} bag" + ("s" if bags != 1 else "")
        out.append(f"{name} (born {birth}), {f'seat {seat}' if seat else 'no seat'}, {bag_text}")
    return "; ".join(out) or "no passengers"


def _legs(seed: int, params: dict, day: str, ids: list[str]) -> list[dict] | None:
    """The legs of the itinerary made of the flights `ids` on a route and day, as booked."""
    for trip in itineraries(seed, params["origin"], params["dest"], day):
        if [leg["id"] for leg in trip["legs"]] == ids:
            return trip["legs"]
    return None


def _trip_params(w: dict, booking: dict) -> dict:
    return {
        "holder": w["holder"],
        "booking": booking["id"],
        "code": booking["code"],
        "fare": booking["fare"],
        "card": booking["card"],
        "origin": booking["origin"],
        "dest": booking["dest"],
        "origin_city": AIRPORTS[booking["origin"]],
        "dest_city": AIRPORTS[booking["dest"]],
        "date": booking["date"],
        "date_long": long_date(booking["date"]),
    }


def _payments(rows: list[tuple]) -> str:
    return ", ".join(f"{what} {money(amount)} to {card}" for what, amount, card in rows) or "none"


def _credits(rows: list[tuple]) -> str:
    return ", ".join(f"{money(amount)} for booking {code}" for amount, code in rows) or "none"


def _refusal(initial: dict, final: dict) -> Outcome:
    """Nothing changed, and the message names the Basic fare whose rule forbids the request."""
    answer = final["answer"] or ""
    named = re.search(r"\bbasic\b", answer, re.IGNORECASE) is not None
    detail = (
        "the message names the Basic fare"
        if named
        else "the message does not say the fare is Basic"
    )
    if final["answer"] is None:
        detail = "no message was sent to the customer"
    checks = [Check("reason", named, detail), _collateral(initial, final, [])]
    return Outcome.from_checks(checks)


def _free_seats(w: dict, seed: int, legs: list[dict]) -> set[str]:
    held = set().union(*(taken_seats(seed, leg["id"]) for leg in legs))
    ids = {leg["id"] for leg in legs}
    for b in w["bookings"]:
        if any(leg["id"] in ids for leg in b["legs"]):
            held |= {p["seat"] for p in b["passengers"] if p["seat"]}
    every = {f"{r}{c}" for r in range(1, ROWS + 1) for c in LETTERS}
    return every - held


def _route_day(r: WorldRandom, w: dict) -> tuple[str, str, str]:
    origin, dest = r.sample(sorted(AIRPORTS), 2)
    return origin, dest, day_after(w["today"], r.randint(1, 30))


class BookFlight(TaskFamily):
    """Search a route on a date and book its cheapest itinerary in a fare class for one
    passenger (the cheapest may be a connection, and sold-out fares do not count). The verifier
    wants exactly one new booking on that route and date whose itinerary has the cheapest price
    in that fare, for that passenger (name, date of birth; no seat, no bags), paid with the
    named card and charged exactly the fare; nothing else changed."""

    name = "book_flight"
    env = ENV
    title = "Book the cheapest flight"
    max_steps = 30
    goal = (
        HELPING + "Book the cheapest {fare} fare from {origin_city} to {dest_city} on {date_long} "
        "for one passenger, {name} (date of birth {birth}), without seats or bags. "
        "Pay with the {card} card."
    )

    def params(self, seed: int) -> dict:
        w, r = build_world(seed), WorldRandom(seed, f"{ENV}/{self.name}")
        while True:
            origin, dest, day = _route_day(r, w)
            fare = r.choice(FARES)
            open_ = [i for i in itineraries(seed, origin, dest, day) if i["left"][fare]]
            if len(open_) >= 2:
                break
        return {
            "holder": w["holder"],
            "origin": origin,
            "dest": dest,
            "origin_city": AIRPORTS[origin],
            "dest_city": AIRPORTS[dest],
            "date": day,
            "date_long": long_date(day),
            "fare": fare,
            "price": min(i["prices"][fare] for i in open_),
            "name": w["holder"],
            "birth": r.date_between("1950-01-01", "2004-12-31"),
            "card": r.choice(CARDS),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        b, one = _one_booking(initial, final)
        got = b.get("legs", [])
        route = (b.get("origin"), b.get("dest"), b.get("date"))
        trip = next(
            (
                i
                for i in itineraries(
                    final["seed"], params["origin"], params["dest"], params["date"]
                )
                if [leg["id"] for leg in i["legs"]] == [leg["id"] for leg in got]
            ),
            None,
        )
        want_route = (params["origin"], params["dest"], params["date"])
        cheapest = (
            trip is not None
            and got == trip["legs"]
            and trip["prices"][params["fare"]] == params["price"]
        )
        passengers = [
            (p["name"], p["birth"], p["seat"], p["bags"]) for p in b.get("passengers", [])
        ]
        want_passengers = [(params["name"], params["birth"], None, 0)]
        checks = [
            one,
            check_field("route", route, want_route, _route),
            Check(
                "cheapest",
                cheapest,
                (
                    f"the itinerary costs {money(trip['prices'][params['fare']])}"
                    if trip
                    else "no itinerary on the route was booked"
                )
                + f", the cheapest {money(params['price'])}",
            ),
            *_paid_booking_checks(
                initial,
                final,
                b,
                params,
                check_field("passenger", passengers, want_passengers, _passengers),
                params["price"],
                ("Fare",),
            ),
        ]
        return Outcome.from_checks(checks)


class BookGroup(TaskFamily):
    """Book a named itinerary in a fare class for three passengers, each with a date of birth,
    a chosen seat and a number of checked bags (25 steps or more). The verifier wants exactly one
    new booking on those flights in that fare, the three passengers with their seats and bags,
    paid with the named card and charged the fares plus the bag fees the fare's rules set;
    nothing else changed."""

    name = "book_group"
    env = ENV
    title = "Book a trip for three"
    max_steps = 45
    goal = (
        HELPING + "Book {fare} fares on {flights} from {origin_city} to {dest_city} on "
        "{date_long} for three passengers: {people}. Pay with the {card} card."
    )

    def params(self, seed: int) -> dict:
        w, r = build_world(seed), WorldRandom(seed, f"{ENV}/{self.name}")
        while True:
            origin, dest, day = _route_day(r, w)
            fare = r.choice(("Standard", "Flexible"))
            options = [i for i in itineraries(seed, origin, dest, day) if i["left"][fare] >= 3]
            if not options:
                continue
            trip = r.choice(options)
            free = _free_seats(w, seed, trip["legs"])
            blocks = [
                [f"{row}{c}" for c in block]
                for row in range(1, ROWS + 1)
                for block in ("ABC", "DEF")
                if all(f"{row}{c}" in free for c in block)
            ]
            if blocks:
                break
        seats = r.choice(blocks)
        people = [w["holder"]] + [
            p["name"]
            for p in r.sample(
                [
                    p
                    for p in WorldRandom(seed, f"{ENV}/{self.name}/people").people(6)
                    if p["name"] != w["holder"]
                ],
                2,
            )
        ]
        passengers = [
            {
                "name": name,
                "birth": r.date_between("1950-01-01", "2015-12-31"),
                "seat": seat,
                "bags": r.choice((0, 1, 1, 2)),
            }
            for name, seat in zip(people, seats, strict=True)
        ]
        text = "; ".join(
            f"{p['name']} (date of birth {p['birth']}, seat {p['seat']}, "
            f"{p['bags']} checked bag{'s' if p['bags'] != 1 else ''})"
            for p in passengers
        )
        total = trip["prices"][fare] * 3 + sum(bag_fees(fare, 0, p["bags"]) for p in passengers)
        return {
            "holder": w["holder"],
            "origin": origin,
            "dest": dest,
            "origin_city": AIRPORTS[origin],
            "dest_city": AIRPORTS[dest],
            "date": day,
            "date_long": long_date(day),
            "fare": fare,
            "flights": trip["flights"],
            "legs": [leg["id"] for leg in trip["legs"]],
            "passengers": passengers,
            "people": text,
            "card": r.choice(CARDS),
            "price": trip["prices"][fare],
            "total": total,
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        b, one = _one_booking(initial, final)
        legs = [leg["id"] for leg in b.get("legs", [])]
        got = sorted((p["name"], p["birth"], p["seat"], p["bags"]) for p in b.get("passengers", []))
        want = sorted((p["name"], p["birth"], p["seat"], p["bags"]) for p in params["passengers"])
        checks = [
            one,
            Check(
                "flights",
                b.get("legs") == _legs(final["seed"], params, params["date"], params["legs"])
                and (b.get("origin"), b.get("dest"), b.get("date"))
                == (params["origin"], params["dest"], params["date"]),
                (
                    f"{_flights(legs)}, {_route((b.get('origin'), b.get('dest'), b.get('date')))}"
                    if legs
                    else "no flights booked"
                )
                + f", asked for {_flights(params['legs'])}",
            ),
            *_paid_booking_checks(
                initial,
                final,
                b,
                params,
                check_field("passengers", got, want, _passengers),
                params["total"],
                ("Fare", "Checked bags"),
            ),
        ]
        return Outcome.from_checks(checks)


CHANGE_GOAL = (
    HELPING + "They ask to move their trip from {origin_city} to {dest_city} on {date_long} to "
    "{new_flights} on {new_date_long}. " + FOLLOW_RULES.format(allows="allows the change, make it")
)


def _change_params(family: TaskFamily, seed: int, fares: tuple[str, ...]) -> dict:
    w, r = build_world(seed), WorldRandom(seed, f"{ENV}/{family.name}")
    bookings = [b for b in w["bookings"] if b["fare"] in fares]
    while True:
        b = r.choice(bookings)
        day = day_after(w["today"], r.randint(1, 30))
        n = len(b["passengers"])
        options = [
            i
            for i in itineraries(seed, b["origin"], b["dest"], day)
            if i["left"][b["fare"]] >= n and day != b["date"]
        ]
        if options:
            break
    trip = r.choice(options)
    fee = CHANGE_FEE.get(b["fare"], 0)
    difference = max(0, trip["prices"][b["fare"]] - b["price"]) * n
    return {
        **_trip_params(w, b),
        "new_date": day,
        "new_date_long": long_date(day),
        "new_flights": trip["flights"],
        "new_legs": [leg["id"] for leg in trip["legs"]],
        "new_price": trip["prices"][b["fare"]],
        "charge": fee + difference,
    }


class ChangeFlight(TaskFamily):
    """Move a Standard or Flexible booking, found by its route and date, to a named itinerary
    on another day. The verifier wants the booking on the new flights (its chosen seats
    released, nothing else of it changed) and new charges to the booking's card adding up to
    the fare's change fee plus any higher fare for every passenger; nothing else changed."""

    name = "change_flight"
    env = ENV
    title = "Change a flight"
    max_steps = 30
    goal = CHANGE_GOAL

    def params(self, seed: int) -> dict:
        return _change_params(self, seed, ("Standard", "Flexible"))

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        before = by_id(initial["bookings"], params["booking"])
        after = by_id(final["bookings"], params["booking"])
        legs = [leg["id"] for leg in after["legs"]]
        released = [{**p, "seat": None} for p in before["passengers"]]
        moved = after["legs"] == _legs(
            final["seed"], params, params["new_date"], params["new_legs"]
        )
        checks = [
            Check(
                "new_flights",
                moved
                and after["date"] == params["new_date"]
                and after["price"] == params["new_price"]
                and after["passengers"] == released,
                f"{_flights(legs)} on {long_date(after['date'])}, asked for "
                f"{_flights(params['new_legs'])} on {long_date(params['new_date'])} "
                "(seats released)",
            ),
            _check_charged(
                "charged",
                _charges(initial, final, params["code"]),
                params["charge"],
                params["card"],
                ("Change fee", "Fare difference"),
            ),
        ]
        fields = ("legs", "date", "price", "passengers")
        allowed = [("bookings", params["booking"], f) for f in fields]
        allowed.append(("payments", "*", "+"))
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class ChangeRefused(TaskFamily):
    """The same request as change_flight on a Basic booking, which its fare rules forbid to
    change. The verifier wants nothing changed and a message to the customer that names the
    Basic fare as the reason."""

    name = "change_refused"
    env = ENV
    title = "Refuse a change the fare forbids"
    max_steps = 30
    goal = CHANGE_GOAL

    def params(self, seed: int) -> dict:
        return _change_params(self, seed, ("Basic",))

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        return _refusal(initial, final)


CANCEL_GOAL = (
    HELPING
    + "They want to cancel their trip from {origin_city} to {dest_city} on {date_long}. "
    + FOLLOW_RULES.format(
        allows="allows a refund, refund it to the original payment, else take travel credit"
    )
    + " Tell them how much they get back."
)


def _cancel_params(family: TaskFamily, seed: int, fares: tuple[str, ...]) -> dict:
    w, r = build_world(seed), WorldRandom(seed, f"{ENV}/{family.name}")
    b = r.choice([b for b in w["bookings"] if b["fare"] in fares])
    paid = sum(p["amount"] for p in w["payments"] if p["booking"] == b["code"])
    back = max(0, paid - CANCEL_FEE["Standard"]) if b["fare"] == "Standard" else paid
    return {**_trip_params(w, b), "back": back}


class CancelBooking(TaskFamily):
    """Cancel a Standard or Flexible booking found by its route and date, and tell the customer
    what they get back. Flexible: every charge on the booking refunded to the card it was paid
    with; Standard: travel credit of what was paid less the cancellation fee. The verifier wants
    the booking cancelled, exactly those refunds or that one credit, the amount in the answer,
    and nothing else changed."""

    name = "cancel_booking"
    env = ENV
    title = "Cancel a trip"
    max_steps = 25
    goal = CANCEL_GOAL

    def params(self, seed: int) -> dict:
        return _cancel_params(self, seed, ("Standard", "Flexible"))

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        status = by_id(final["bookings"], params["booking"])["status"]
        refunds = [p for p in _new(initial, final, "payments") if p["booking"] == params["code"]]
        credits = _new(initial, final, "credits")
        charged = sorted(
            (p["what"], p["amount"], p["card"])
            for p in initial["payments"]
            if p["booking"] == params["code"] and p["kind"] == "Charge"
        )
        if params["fare"] == "Flexible":
            got = sorted(
                (p["what"], p["amount"], p["card"]) for p in refunds if p["kind"] == "Refund"
            )
            ok = got == charged and len(refunds) == len(got) and not credits
            detail = f"refunds: {_payments(got)}; expected {_payments(charged)}"
            detail += f"; {len(credits)} credit(s)"
        else:
            got = [(c["amount"], c["booking"]) for c in credits]
            ok = got == [(params["back"], params["code"])] and not refunds
            want = [(params["back"], params["code"])]
            detail = f"credits: {_credits(got)}; expected {_credits(want)}"
            detail += f"; {len(refunds)} refund(s)"
        checks = [
            Check("cancelled", status == "Cancelled", f"the booking is {status}"),
            Check("money_back", ok, detail),
            check_amount(final["answer"], params["back"]),
        ]
        allowed = [
            ("bookings", params["booking"], "status"),
            ("payments", "*", "+"),
            ("credits", "*", "+"),
        ]
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class CancelRefused(TaskFamily):
    """The same request as cancel_booking on a Basic booking, which its fare rules make
    non-refundable and not cancellable. The verifier wants nothing changed and a message to the
    customer that names the Basic fare as the reason."""

    name = "cancel_refused"
    env = ENV
    title = "Refuse a cancellation the fare forbids"
    max_steps = 25
    goal = CANCEL_GOAL

    def params(self, seed: int) -> dict:
        return _cancel_params(self, seed, ("Basic",))

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        return _refusal(initial, final)


class AddBags(TaskFamily):
    """Add checked bags for one passenger of a booking found by its route and date. The bag
    fees depend on how many bags the passenger has and the fare (Flexible's first bag is free).
    The verifier wants that passenger's bags raised by the number asked, a charge of exactly
    the fees to the booking's card (none when they are free), and nothing else changed."""

    name = "add_bags"
    env = ENV
    title = "Add checked bags"
    max_steps = 25
    goal = (
        HELPING + "Add {count} checked bag{plural} for {passenger} on the trip from "
        "{origin_city} to {dest_city} on {date_long}."
    )

    def params(self, seed: int) -> dict:
        w, r = build_world(seed), WorldRandom(seed, f"{ENV}/{self.name}")
        options = [
            (b, i, p) for b in w["bookings"] for i, p in enumerate(b["passengers"]) if p["bags"] < 3
        ]
        b, index, p = r.choice(options)
        count = r.randint(1, min(2, 3 - p["bags"]))
        return {
            **_trip_params(w, b),
            "passenger": p["name"],
            "index": index,
            "count": count,
            "plural": "s" if count > 1 else "",
            "bags": p["bags"] + count,
            "fee": bag_fees(b["fare"], p["bags"], p["bags"] + count),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        before = by_id(initial["bookings"], params["booking"])
        after = by_id(final["bookings"], params["booking"])
        bags = after["passengers"][params["index"]]["bags"]
        checks = [
            Check(
                "bags", bags == params["bags"], f"{bags} checked bags, asked for {params['bags']}"
            ),
            _check_charged(
                "bag_fee",
                _charges(initial, final, params["code"]),
                params["fee"],
                params["card"],
                ("Checked bags",),
            ),
        ]
        expected = [
            {**p, "bags": bags} if i == params["index"] else p
            for i, p in enumerate(before["passengers"])
        ]
        allowed = [("payments", "*", "+")]
        if after["passengers"] == expected:
            allowed.append(("bookings", params["booking"], "passengers"))
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class CheapestFare(TaskFamily):
    """Find the lowest total price of a fare class for several passengers on a route over two
    dates (two searches; itineraries with too few seats left in that fare do not count). The
    verifier wants that amount in the answer and nothing changed."""

    name = "cheapest_fare"
    env = ENV
    title = "Compare fares over two dates"
    max_steps = 25
    goal = (
        HELPING + "What is the lowest total price of {fare} fares for {count} passengers from "
        "{origin_city} to {dest_city}, flying on {date_long} or on {other_long}? "
        "Answer with the amount."
    )

    def params(self, seed: int) -> dict:
        w, r = build_world(seed), WorldRandom(seed, f"{ENV}/{self.name}")
        while True:
            origin, dest, day = _route_day(r, w)
            other = day_after(w["today"], r.randint(1, 30))
            fare, count = r.choice(FARES), r.randint(2, 3)
            totals = [
                i["prices"][fare] * count
                for d in (day, other)
                for i in itineraries(seed, origin, dest, d)
                if i["left"][fare] >= count
            ]
            if other != day and totals:
                break
        return {
            "holder": w["holder"],
            "origin": origin,
            "dest": dest,
            "origin_city": AIRPORTS[origin],
            "dest_city": AIRPORTS[dest],
            "date": day,
            "date_long": long_date(day),
            "other": other,
            "other_long": long_date(other),
            "fare": fare,
            "count": count,
            "total": min(totals),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        checks = [check_amount(final["answer"], params["total"]), _collateral(initial, final, [])]
        return Outcome.from_checks(checks)


FAMILIES = {
    f.name: f
    for f in (
        BookFlight(),
        BookGroup(),
        ChangeFlight(),
        ChangeRefused(),
        CancelBooking(),
        CancelRefused(),
        AddBags(),
        CheapestFare(),
    )
}
