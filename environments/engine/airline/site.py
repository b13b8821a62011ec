"""Skyway Airlines' pages, written with the authoring kit: a flight search with connections, a
booking wizard (passengers, seats and bags, payment), My trips, a booking page where seats and
bags are edited and the trip is changed or cancelled by its fare's rules, a wallet (cards,
travel credits, payment history) and the fare rules."""

from __future__ import annotations

from environments.engine.kit import (
    Column,
    ConfirmDialog,
    DataTable,
    Field,
    Filter,
    Form,
    FormError,
    KitSite,
    NavMenu,
    RowAction,
    Step,
    Tabs,
    Wizard,
    WorldRandom,
    by_id,
    error,
    long_date,
    money,
    replace_record,
    success,
    with_ui,
)
from environments.engine.page import Element, Page
from environments.engine.registry import register

from .solver import AirlineSolver
from .tasks import FAMILIES
from .world import (
    AIRPORT_LABELS,
    AIRPORTS,
    BAG_FEES,
    CANCEL_FEE,
    CARDS,
    CHANGE_FEE,
    FARES,
    FREE_BAGS,
    LETTERS,
    MAX_BAGS,
    MAX_PASSENGERS,
    ROWS,
    airport_label,
    bag_fees,
    build_world,
    day_after,
    itineraries,
    label_code,
    sale_window,
    taken_seats,
)

REFUND_TO = ("Original payment", "Travel credit")
SEAT_PATTERN = r"[0-9]{1,2}[A-Fa-f]"
SEAT_MESSAGE = "must be a row number and a seat letter, like 14C."


def _fare_cell(value: list | None) -> str:
    return "Sold out" if value is None else f"{money(value[0])} ({value[1]} left)"


SEARCH = Form(
    "search",
    "Search flights",
    (
        Field("origin", "From", "select", True, AIRPORT_LABELS, "Choose an airport"),
        Field("dest", "To", "select", True, AIRPORT_LABELS, "Choose an airport"),
        Field("date", "Departure date (YYYY-MM-DD)", "date", required=True),
        Field("passengers", "Passengers", "number", required=True, minimum=1, maximum=4),
    ),
    "Search flights",
    on_submit="search",
)
RESULTS = DataTable(
    "results",
    "Flights",
    (
        Column("flights", "Flights", sortable=False),
        Column("dep", "Departs"),
        Column("arr", "Arrives"),
        Column("stops", "Stops"),
        *(Column(fare.lower(), fare, _fare_cell) for fare in FARES),
    ),
    filters=(Filter("stops", "Stops"),),
    actions=tuple(RowAction(f"Select {fare}", f"select_{fare.lower()}") for fare in FARES),
    sort=("dep", False),
    noun="itineraries",
)


def _book_steps(n: int) -> tuple[Step, ...]:
    people, seats, pay = [], [], []
    for i in range(1, n + 1):
        people.append(Field(f"name{i}", f"Passenger {i} full name", required=True, max_length=80))
        people.append(Field(f"birth{i}", f"Passenger {i} date of birth (YYYY-MM-DD)", "date", True))
        seats.append(
            Field(
                f"seat{i}",
                f"Passenger {i} seat (optional)",
                max_length=3,
                pattern=SEAT_PATTERN,
                pattern_message=f"Passenger {i} seat {SEAT_MESSAGE}",
            )
        )
        seats.append(
            Field(f"bags{i}", f"Passenger {i} checked bags", "number", minimum=0, maximum=MAX_BAGS)
        )
    pay.append(Field("card", "Payment method", "select", True, CARDS, "Choose a card"))
    pay.append(Field("accept", "I accept the fare rules", "checkbox", required=True))
    return (
        Step("Passengers", tuple(people)),
        Step("Seats and bags", tuple(seats)),
        Step("Payment", tuple(pay)),
    )


BOOK = {
    n: Wizard(f"book{n}", "Book your trip", _book_steps(n), on_finish="book", finish="Pay and book")
    for n in range(1, MAX_PASSENGERS + 1)
}
TRIPS = DataTable(
    "trips",
    "My trips",
    (
        Column("code", "Booking"),
        Column("route", "Route"),
        Column("date", "Departs", long_date),
        Column("fare", "Fare"),
        Column("travellers", "Passengers"),
        Column("status", "Status"),
    ),
    filters=(Filter("status", "Status"), Filter("route", "Route contains", "text")),
    open="open_booking",
    sort=("date", False),
    noun="trips",
)
MANAGE = Tabs("manage", "Manage booking", ("Passengers", "Change flight", "Cancellation"))
PASSENGERS = DataTable(
    "pax",
    "Passengers",
    (
        Column("name", "Name", sortable=False),
        Column("birth", "Date of birth", long_date, sortable=False),
        Column("seat", "Seat", lambda v: v or "Not chosen", sortable=False),
        Column("bags", "Checked bags", sortable=False),
    ),
    actions=(RowAction("Edit seat and bags", "edit_passenger"),),
    noun="passengers",
)
PASSENGER_FORM = Form(
    "passenger",
    "Seat and bags",
    (
        Field(
            "seat",
            "Seat (optional)",
            max_length=3,
            pattern=SEAT_PATTERN,
            pattern_message=f"Seat {SEAT_MESSAGE}",
        ),
        Field("bags", "Checked bags", "number", required=True, minimum=0, maximum=MAX_BAGS),
    ),
    "Save seat and bags",
    on_submit="save_passenger",
)
CHANGE = Form(
    "change",
    "Find a new flight",
    (Field("date", "New date (YYYY-MM-DD)", "date", required=True),),
    "Find new flights",
    on_submit="find_change",
)
NEW_FLIGHTS = DataTable(
    "newflights",
    "New flights",
    (
        Column("flights", "Flights", sortable=False),
        Column("dep", "Departs"),
        Column("arr", "Arrives"),
        Column("stops", "Stops"),
        Column("fare", "Fare per passenger", _fare_cell),
    ),
    actions=(RowAction("Change to this flight", "ask_change"),),
    sort=("dep", False),
    noun="itineraries",
)
CONFIRM_CHANGE = ConfirmDialog(
    "confirmchange",
    "Confirm the change",
    on_confirm="change_flight",
    confirm="Confirm change",
    cancel="Keep my flight",
)
CANCEL = Form(
    "cancel",
    "Cancel this trip",
    (Field("refund_to", "Refund to", "select", True, REFUND_TO, "Choose where the money goes"),),
    "Cancel trip",
    on_submit="ask_cancel",
)
CONFIRM_CANCEL = ConfirmDialog(
    "confirmcancel",
    "Cancel this trip?",
    on_confirm="cancel_trip",
    confirm="Yes, cancel the trip",
    cancel="Keep the trip",
)
PAYMENTS = DataTable(
    "payments",
    "Payment history",
    (
        Column("booking", "Booking"),
        Column("kind", "Type"),
        Column("what", "For"),
        Column("card", "Card"),
        Column("amount", "Amount", money),
    ),
    filters=(Filter("booking", "Booking"),),
    noun="payments",
)
TITLES = {
    "search": "Find flights",
    "checkout": "Checkout",
    "trips": "My trips",
    "wallet": "Wallet",
    "rules": "Fare rules",
}


def change_rule(fare: str) -> str:
    if fare == "Basic":
        return "Basic fares cannot be changed."
    fee = CHANGE_FEE[fare]
    fee_text = f"a {money(fee)} change fee" if fee else "no change fee"
    return (
        f"{fare} fares can be changed for {fee_text}, plus any higher fare; "
        "a lower fare is not refunded."
    )


def cancel_rule(fare: str) -> str:
    if fare == "Basic":
        return "Basic fares are non-refundable and cannot be cancelled."
    if fare == "Standard":
        return (
            f"Standard fares can be cancelled for travel credit, less a {money(CANCEL_FEE[fare])} "
            "cancellation fee; no refund to the original payment."
        )
    return (
        "Flexible fares can be cancelled for a full refund to the original payment, "
        "or for travel credit."
    )


def seat_rule(fare: str) -> str:
    if fare == "Basic":
        return "Basic fares do not include seat selection: seats are assigned at check-in."
    return f"{fare} fares include free seat selection."


def bag_rule(fare: str) -> str:
    fees = ", ".join(money(f) for f in BAG_FEES)
    free = "the first bag free, then " if FREE_BAGS[fare] else ""
    return (
        f"Checked bags: {free}{fees} for a passenger's 1st, 2nd and 3rd bag (at most {MAX_BAGS})."
    )


def paid_on(state: dict, code: str) -> int:
    """What the customer has paid on a booking, refunds taken off."""
    total = 0
    for p in state["payments"]:
        if p["booking"] == code:
            total += p["amount"] if p["kind"] == "Charge" else -p["amount"]
    return total


def card_label(state: dict, card: str) -> str:
    return by_id(state["cards"], card)["label"]


def _payment(state: dict, code: str, kind: str, what: str, amount: int, card: str) -> dict:
    return {
        "id": f"p{len(state['payments']) + 1}",
        "booking": code,
        "kind": kind,
        "what": what,
        "amount": amount,
        "card": card,
    }


def _seat_key(seat: str) -> tuple[int, str]:
    return int(seat[:-1]), seat[-1]


def held_seats(state: dict, flight_id: str, skip: tuple[str, int] | None = None) -> set[str]:
    """Seats taken on a flight: other travellers' and the customer's confirmed bookings'
    (except `skip`, a booking id and passenger index being edited)."""
    held = set(taken_seats(state["seed"], flight_id))
    for b in state["bookings"]:
        if b["status"] != "Confirmed" or all(leg["id"] != flight_id for leg in b["legs"]):
            continue
        for i, p in enumerate(b["passengers"]):
            if p["seat"] and (b["id"], i) != skip:
                held.add(p["seat"])
    return held


def check_seat(state: dict, seat: str, legs: list[dict], field: str, skip=None) -> None:
    row, letter = _seat_key(seat)
    if not 1 <= row <= ROWS or letter not in LETTERS:
        raise FormError(f"Seat {seat} does not exist: rows 1 to {ROWS}, seats A to F.", field=field)
    for leg in legs:
        if seat in held_seats(state, leg["id"], skip):
            raise FormError(
                f"Seat {seat} is taken on {leg['number']}. Choose another seat.", field=field
            )


def seat_map(state: dict, legs: list[dict], skip=None) -> list[Element]:
    out = []
    for leg in legs:
        taken = sorted(held_seats(state, leg["id"], skip), key=_seat_key)
        out.append(Element("text", f"Seats taken on {leg['number']}: {', '.join(taken)}"))
    return out


def _travelling(bookings: list[dict], flight_id: str, fare: str) -> int:
    return sum(
        len(b["passengers"])
        for b in bookings
        if b["status"] == "Confirmed"
        and b["fare"] == fare
        and any(leg["id"] == flight_id for leg in b["legs"])
    )


def seats_left(state: dict, it: dict, fare: str) -> int:
    """An itinerary's seats left in a fare: the timetable's count (which already holds the
    world's bookings), less what the customer booked, changed or cancelled since."""
    world = build_world(state["seed"])["bookings"]
    if state["bookings"] is world:
        return it["left"][fare]
    return min(
        left[fare]
        - _travelling(state["bookings"], leg["id"], fare)
        + _travelling(world, leg["id"], fare)
        for leg, left in zip(it["legs"], it["leg_left"], strict=True)
    )


def result_rows(state: dict, origin: str, dest: str, day: str, fares=FARES) -> list[dict]:
    out = []
    for it in itineraries(state["seed"], origin, dest, day):
        row = {k: it[k] for k in ("id", "flights", "dep", "arr", "stops")}
        for fare in fares:
            left = seats_left(state, it, fare)
            row[fare.lower()] = [it["prices"][fare], left] if left else None
        out.append(row)
    return out


def find_itinerary(seed: int, origin: str, dest: str, day: str, rid: str) -> dict:
    return next(i for i in itineraries(seed, origin, dest, day) if i["id"] == rid)


@register
class AirlineSite(KitSite):
    """Skyway Airlines: one customer's account per seed."""

    env_id = "airline"
    version = 1
    title = "Skyway Airlines"
    start_page = "search"
    navigation = ("search", "trips", "wallet", "rules")
    menu = NavMenu(
        (
            ("Find flights", "search"),
            ("My trips", "trips"),
            ("Wallet", "wallet"),
            ("Fare rules", "rules"),
        )
    )
    parts = (
        SEARCH,
        RESULTS,
        *BOOK.values(),
        TRIPS,
        MANAGE,
        PASSENGERS,
        PASSENGER_FORM,
        CHANGE,
        NEW_FLIGHTS,
        CONFIRM_CHANGE,
        CANCEL,
        CONFIRM_CANCEL,
        PAYMENTS,
    )
    families = FAMILIES
    # Test-split only (see splits.py): a refusal whose neighbour, change_refused, is trained.
    heldout_families = ("cancel_refused",)
    heldout_variants = ("mixed",)
    solver = AirlineSolver

    def build_world(self, seed: int) -> dict:
        return {
            **build_world(seed),
            "search": None,
            "cart": None,
            "open": None,
            "editing": None,
            "change": None,
        }

    def build_page(self, state: dict) -> Page:
        name = state["page"]
        body = getattr(self, f"_{name}")(state)
        if name == "booking":
            heading = f"Booking {by_id(state['bookings'], state['open'])['code']}"
        else:
            heading = TITLES[name]
        return self.layout(state, heading, body)

    # --- pages ---------------------------------------------------------------------------

    def _search(self, state: dict) -> list[Element]:
        first, last = sale_window(state["today"])
        out = [
            Element("text", f"Flights are on sale from {long_date(first)} to {long_date(last)}."),
            SEARCH.render(state),
        ]
        s = state["search"]
        if s is not None:
            plural = "s" if s["passengers"] > 1 else ""
            out.append(
                Element(
                    "text",
                    f"Flights from {airport_label(s['origin'])} to {airport_label(s['dest'])} "
                    f"on {long_date(s['date'])} for {s['passengers']} passenger{plural}. "
                    "Prices are per passenger.",
                )
            )
            out.extend(RESULTS.render(state, result_rows(state, s["origin"], s["dest"], s["date"])))
        return out

    def _checkout(self, state: dict) -> list[Element]:
        cart = state["cart"]
        n = cart["passengers"]
        out = [
            Element("text", f"Flights: {cart['flights']} on {long_date(cart['date'])}"),
            Element(
                "text",
                f"{cart['fare']} fare: {money(cart['price'])} a passenger, "
                f"{money(cart['price'] * n)} for {n}.",
            ),
            Element("text", seat_rule(cart["fare"])),
            Element("text", bag_rule(cart["fare"])),
        ]
        if (state.get("ui", {}).get(f"book{n}") or {}).get("step") == 1:
            out.extend(seat_map(state, cart["legs"]))
        if (state.get("ui", {}).get(f"book{n}") or {}).get("step") == 2:
            cards = ", ".join(c["label"] for c in state["cards"])
            out.append(Element("text", f"Your cards: {cards}"))
        out.append(BOOK[n].render(state))
        return out

    def _trips(self, state: dict) -> list[Element]:
        records = [
            {
                "id": b["id"],
                "code": b["code"],
                "route": f"{AIRPORTS[b['origin']]} to {AIRPORTS[b['dest']]}",
                "date": b["date"],
                "fare": b["fare"],
                "travellers": len(b["passengers"]),
                "status": b["status"],
            }
            for b in state["bookings"]
        ]
        return [Element("text", f"Signed in as {state['holder']}."), *TRIPS.render(state, records)]

    def _booking(self, state: dict) -> list[Element]:
        b = by_id(state["bookings"], state["open"])
        out = [
            Element("text", f"Status: {b['status']}"),
            Element("text", f"Fare: {b['fare']} ({money(b['price'])} a passenger)"),
            Element(
                "text",
                f"Paid with {card_label(state, b['card'])}; "
                f"paid in total {money(paid_on(state, b['code']))}",
            ),
        ]
        header = Element(
            "row",
            children=[
                Element("cell", c) for c in ("Flight", "From", "To", "Date", "Departs", "Arrives")
            ],
        )
        legs = [
            Element(
                "row",
                children=[
                    Element("cell", text)
                    for text in (
                        leg["number"],
                        airport_label(leg["origin"]),
                        airport_label(leg["dest"]),
                        long_date(leg["date"]),
                        leg["dep"],
                        leg["arr"],
                    )
                ],
            )
            for leg in b["legs"]
        ]
        out.append(Element("table", "Flights", children=[header, *legs]))
        if b["status"] != "Confirmed":
            pax = [{"id": str(i), **p} for i, p in enumerate(b["passengers"])]
            rows = [
                Element(
                    "row", children=[Element("cell", c) for c in ("Name", "Seat", "Checked bags")]
                )
            ]
            rows += [
                Element(
                    "row",
                    children=[
                        Element("cell", p["name"]),
                        Element("cell", p["seat"] or "Not chosen"),
                        Element("cell", str(p["bags"])),
                    ],
                )
                for p in pax
            ]
            return [*out, Element("table", "Passengers", children=rows)]
        out.append(MANAGE.render(state))
        tab = MANAGE.selected(state)
        if tab == "Passengers":
            pax = [{"id": str(i), **p} for i, p in enumerate(b["passengers"])]
            out.extend(PASSENGERS.render(state, pax))
            if state["editing"] is not None:
                who = b["passengers"][state["editing"]]
                out.append(
                    Element(
                        "text",
                        f"Editing {who['name']}. {seat_rule(b['fare'])} {bag_rule(b['fare'])}",
                    )
                )
                out.extend(seat_map(state, b["legs"], (b["id"], state["editing"])))
                out.append(PASSENGER_FORM.render(state))
        elif tab == "Change flight":
            out.append(Element("text", change_rule(b["fare"])))
            out.append(CHANGE.render(state))
            if state["change"] is not None:
                rows = result_rows(state, b["origin"], b["dest"], state["change"], (b["fare"],))
                for row in rows:
                    row["fare"] = row.pop(b["fare"].lower())
                out.append(Element("text", f"Flights on {long_date(state['change'])}:"))
                out.extend(NEW_FLIGHTS.render(state, rows))
        else:
            out.append(Element("text", cancel_rule(b["fare"])))
            out.append(CANCEL.render(state))
        return out

    def _wallet(self, state: dict) -> list[Element]:
        out = [Element("text", f"Card on file: {c['label']}") for c in state["cards"]]
        header = Element(
            "row",
            children=[Element("cell", c) for c in ("Code", "Amount", "From booking", "Expires")],
        )
        rows = [
            Element(
                "row",
                children=[
                    Element("cell", c["code"]),
                    Element("cell", money(c["amount"])),
                    Element("cell", c["booking"] or "-"),
                    Element("cell", long_date(c["expires"])),
                ],
            )
            for c in state["credits"]
        ]
        out.append(Element("table", "Travel credits", children=[header, *rows]))
        records = [{**p, "card": card_label(state, p["card"])} for p in state["payments"]]
        out.extend(PAYMENTS.render(state, records))
        return out

    def _rules(self, state: dict) -> list[Element]:
        header = Element(
            "row",
            children=[
                Element("cell", c) for c in ("Fare", "Changes", "Cancellation", "Seats", "Bags")
            ],
        )
        rows = [
            Element(
                "row",
                children=[
                    Element("cell", text)
                    for text in (
                        fare,
                        change_rule(fare),
                        cancel_rule(fare),
                        seat_rule(fare),
                        bag_rule(fare),
                    )
                ],
            )
            for fare in FARES
        ]
        return [Element("table", "Fare rules", children=[header, *rows])]

    # --- search and booking --------------------------------------------------------------

    def search(self, state: dict, values: dict) -> dict:
        origin, dest = label_code(values["origin"]), label_code(values["dest"])
        if origin == dest:
            raise FormError("From and To must be different airports.", field="dest")
        first, last = sale_window(state["today"])
        if values["date"] < first:
            raise FormError(f"Departure date cannot be before {long_date(first)}.", field="date")
        if values["date"] > last:
            raise FormError(f"Flights are on sale up to {long_date(last)} only.", field="date")
        found = {
            "origin": origin,
            "dest": dest,
            "date": values["date"],
            "passengers": values["passengers"],
        }
        count = len(itineraries(state["seed"], origin, dest, values["date"]))
        state = with_ui({**state, "search": found}, RESULTS.name, None)
        if not count:
            return error(state, "No flights on that day. Try another date.")
        return {**state, "alert": None}

    def select_basic(self, state: dict, rid: str) -> dict:
        return self._select(state, rid, "Basic")

    def select_standard(self, state: dict, rid: str) -> dict:
        return self._select(state, rid, "Standard")

    def select_flexible(self, state: dict, rid: str) -> dict:
        return self._select(state, rid, "Flexible")

    def _select(self, state: dict, rid: str, fare: str) -> dict:
        s = state["search"]
        it = find_itinerary(state["seed"], s["origin"], s["dest"], s["date"], rid)
        left, n = seats_left(state, it, fare), s["passengers"]
        if not left:
            return error(state, f"{fare} is sold out on {it['flights']}.")
        if left < n:
            return error(
                state,
                f"Only {left} {fare} seats are left on {it['flights']}; "
                f"you are booking {n} passengers.",
            )
        cart = {
            "itinerary": rid,
            "origin": s["origin"],
            "dest": s["dest"],
            "date": s["date"],
            "flights": it["flights"],
            "legs": it["legs"],
            "fare": fare,
            "price": it["prices"][fare],
            "passengers": n,
        }
        new = {**state, "page": "checkout", "cart": cart, "form": {}, "alert": None}
        return with_ui(new, BOOK[n].name, None)

    def book(self, state: dict, values: dict) -> dict:
        cart = state["cart"]
        n, fare = cart["passengers"], cart["fare"]
        passengers, seats = [], {}
        for i in range(1, n + 1):
            if values[f"birth{i}"] > state["today"]:
                raise FormError(
                    f"Passenger {i} date of birth cannot be in the future.", field=f"birth{i}"
                )
            seat = (values[f"seat{i}"] or "").upper() or None
            if seat is not None:
                if fare == "Basic":
                    raise FormError(f"{seat_rule(fare)} Leave the seats empty.", field=f"seat{i}")
                check_seat(state, seat, cart["legs"], f"seat{i}")
                if seat in seats:
                    raise FormError(
                        f"Passengers {seats[seat]} and {i} cannot both sit in {seat}.",
                        field=f"seat{i}",
                    )
                seats[seat] = i
            passengers.append(
                {
                    "name": values[f"name{i}"],
                    "birth": values[f"birth{i}"],
                    "seat": seat,
                    "bags": values[f"bags{i}"] or 0,
                }
            )
        codes = {b["code"] for b in state["bookings"]}
        w = WorldRandom(state["seed"], f"airline/code/{len(state['bookings'])}")
        code = next(c for c in iter(lambda: w.ident("SK", 4), None) if c not in codes)
        booking = {
            "id": f"b{len(state['bookings']) + 1}",
            "code": code,
            "origin": cart["origin"],
            "dest": cart["dest"],
            "date": cart["date"],
            "legs": cart["legs"],
            "fare": fare,
            "price": cart["price"],
            "passengers": passengers,
            "card": values["card"],
            "status": "Confirmed",
            "booked": state["today"],
        }
        state = {**state, "bookings": [*state["bookings"], booking]}
        charges = [_payment(state, code, "Charge", "Fare", cart["price"] * n, values["card"])]
        state = {**state, "payments": [*state["payments"], *charges]}
        bags = sum(bag_fees(fare, 0, p["bags"]) for p in passengers)
        if bags:
            fee = _payment(state, code, "Charge", "Checked bags", bags, values["card"])
            state = {**state, "payments": [*state["payments"], fee]}
        total = paid_on(state, code)
        opened = self.open_booking({**state, "cart": None}, booking["id"])
        return success(opened, f"Booked! Your booking code is {code}; {money(total)} charged.")

    # --- a booking -----------------------------------------------------------------------

    def open_booking(self, state: dict, bid: str) -> dict:
        state = {**state, "page": "booking", "open": bid, "editing": None, "change": None}
        for name in (MANAGE.name, PASSENGERS.name, NEW_FLIGHTS.name):
            state = with_ui(state, name, None)
        return {**state, "form": {}, "alert": None}

    def on_action(self, state: dict, key: str) -> dict:
        raise NotImplementedError(key)

    def edit_passenger(self, state: dict, index: str) -> dict:
        b = by_id(state["bookings"], state["open"])
        p = b["passengers"][int(index)]
        form = {"passenger.seat": p["seat"] or "", "passenger.bags": str(p["bags"])}
        return {
            **with_ui(state, PASSENGER_FORM.name, None),
            "editing": int(index),
            "form": form,
            "alert": None,
        }

    def save_passenger(self, state: dict, values: dict) -> dict:
        b = by_id(state["bookings"], state["open"])
        index = state["editing"]
        p = b["passengers"][index]
        seat = (values["seat"] or "").upper() or None
        bags = values["bags"]
        if seat != p["seat"]:
            if b["fare"] == "Basic":
                raise FormError(seat_rule("Basic"), field="seat")
            if seat is None:
                raise FormError("A chosen seat can be changed but not given up.", field="seat")
            check_seat(state, seat, b["legs"], "seat", (b["id"], index))
        if bags < p["bags"]:
            raise FormError(
                "Checked bags already paid for cannot be removed online "
                f"({p['name']} has {p['bags']}).",
                field="bags",
            )
        if seat == p["seat"] and bags == p["bags"]:
            raise FormError("Nothing to save: the seat and bags are as they were.")
        fee = bag_fees(b["fare"], p["bags"], bags)
        passengers = [
            {**q, "seat": seat, "bags": bags} if i == index else q
            for i, q in enumerate(b["passengers"])
        ]
        state = {
            **state,
            "bookings": replace_record(state["bookings"], b["id"], passengers=passengers),
        }
        text = f"Saved for {p['name']}."
        if fee:
            charge = _payment(state, b["code"], "Charge", "Checked bags", fee, b["card"])
            state = {**state, "payments": [*state["payments"], charge]}
            text += f" {money(fee)} charged to {card_label(state, b['card'])}."
        return success({**state, "editing": None}, text)

    def find_change(self, state: dict, values: dict) -> dict:
        b = by_id(state["bookings"], state["open"])
        if b["fare"] == "Basic":
            raise FormError(
                f"{change_rule('Basic')} Basic fares allow no changes or refunds after booking."
            )
        first, last = sale_window(state["today"])
        day = values["date"]
        if day == b["date"]:
            raise FormError(
                f"This trip already departs on {long_date(day)}. Choose another date.", field="date"
            )
        if day < first:
            raise FormError(f"New date cannot be before {long_date(first)}.", field="date")
        if day > last:
            raise FormError(f"Flights are on sale up to {long_date(last)} only.", field="date")
        return with_ui({**state, "change": day, "alert": None}, NEW_FLIGHTS.name, None)

    def _change_terms(self, state: dict, rid: str) -> tuple[dict, dict, int, int]:
        b = by_id(state["bookings"], state["open"])
        it = find_itinerary(state["seed"], b["origin"], b["dest"], state["change"], rid)
        n = len(b["passengers"])
        fee = CHANGE_FEE[b["fare"]]
        difference = max(0, it["prices"][b["fare"]] - b["price"]) * n
        return b, it, fee, difference

    def ask_change(self, state: dict, rid: str) -> dict:
        b, it, fee, difference = self._change_terms(state, rid)
        left, n = seats_left(state, it, b["fare"]), len(b["passengers"])
        if left < n:
            return error(
                state,
                f"Only {left} {b['fare']} seats are left on {it['flights']}; "
                f"this booking has {n} passengers.",
            )
        message = (
            f"Change to {it['flights']} on {long_date(it['legs'][0]['date'])}, "
            f"departing {it['dep']}? Change fee {money(fee)}, fare difference "
            f"{money(difference)}: you pay {money(fee + difference)} with "
            f"{card_label(state, b['card'])}. Chosen seats are released."
        )
        return CONFIRM_CHANGE.open(state, message, {"itinerary": rid})

    def change_flight(self, state: dict, payload: dict) -> dict:
        b, it, fee, difference = self._change_terms(state, payload["itinerary"])
        passengers = [{**p, "seat": None} for p in b["passengers"]]
        bookings = replace_record(
            state["bookings"],
            b["id"],
            date=it["legs"][0]["date"],
            legs=it["legs"],
            price=it["prices"][b["fare"]],
            passengers=passengers,
        )
        state = {**state, "bookings": bookings}
        for what, amount in (("Change fee", fee), ("Fare difference", difference)):
            if amount:
                charge = _payment(state, b["code"], "Charge", what, amount, b["card"])
                state = {**state, "payments": [*state["payments"], charge]}
        state = with_ui({**state, "change": None}, NEW_FLIGHTS.name, None)
        return success(state, f"Changed to {it['flights']}; {money(fee + difference)} charged.")

    def _money_back(self, state: dict, b: dict, refund_to: str) -> int:
        paid = paid_on(state, b["code"])
        if b["fare"] == "Standard":
            return max(0, paid - CANCEL_FEE["Standard"])
        return paid

    def ask_cancel(self, state: dict, values: dict) -> dict:
        b = by_id(state["bookings"], state["open"])
        if b["fare"] == "Basic":
            raise FormError(cancel_rule("Basic"))
        if b["fare"] == "Standard" and values["refund_to"] == "Original payment":
            raise FormError(
                "Standard fares cannot be refunded to the original payment: they are cancelled "
                f"for travel credit, less the {money(CANCEL_FEE['Standard'])} fee.",
                field="refund_to",
            )
        amount = self._money_back(state, b, values["refund_to"])
        where = (
            f"as a refund to {card_label(state, b['card'])}"
            if values["refund_to"] == "Original payment"
            else "as travel credit"
        )
        message = f"Cancel booking {b['code']}? You get {money(amount)} back {where}."
        return CONFIRM_CANCEL.open(state, message, {"refund_to": values["refund_to"]})

    def cancel_trip(self, state: dict, payload: dict) -> dict:
        b = by_id(state["bookings"], state["open"])
        amount = self._money_back(state, b, payload["refund_to"])
        state = {
            **state,
            "bookings": replace_record(state["bookings"], b["id"], status="Cancelled"),
        }
        if payload["refund_to"] == "Original payment":
            refunds = []
            for p in state["payments"]:
                if p["booking"] == b["code"] and p["kind"] == "Charge":
                    refund = _payment(state, b["code"], "Refund", p["what"], p["amount"], p["card"])
                    refunds.append(
                        {**refund, "id": f"p{len(state['payments']) + len(refunds) + 1}"}
                    )
            state = {**state, "payments": [*state["payments"], *refunds]}
            text = f"Cancelled. {money(amount)} is refunded to the original payment."
        else:
            w = WorldRandom(state["seed"], f"airline/credit/{len(state['credits'])}")
            credit = {
                "id": f"tc{len(state['credits']) + 1}",
                "code": f"TC-{w.randint(10000, 99999)}",
                "amount": amount,
                "booking": b["code"],
                "expires": day_after(state["today"], 365),
            }
            state = {**state, "credits": [*state["credits"], credit]}
            text = (
                f"Cancelled. {money(amount)} of travel credit ({credit['code']}) is in your wallet."
            )
        return success(state, text)
