"""The ticket shop's pages and what each click does.

Besides the base keys, the state holds the data from `world.build_world` and the session:
`search` (the event search's filters and page), `view` (the open event, section or order) and
`cart` (`{"event", "seats": [{"section", "row", "seat"}], "promo"}`: one event at a time).
Seats are sold when an order is placed, not while they sit in the cart.
"""

from __future__ import annotations

from ..base import Environment
from ..page import Element, Page
from ..registry import register
from .formats import (
    card_expiry,
    clock,
    long_date,
    money,
    month_label,
    parse_date,
    seat_ranges,
    short_date,
    valid_email,
)
from .solver import TicketsSolver
from .tasks import FAMILIES
from .world import (
    MAX_TICKETS,
    build_world,
    by_id,
    lowest_price,
    open_seats,
    price_order,
    refund_deadline,
    seat_key,
    section_by_id,
    set_seats,
)

SHOP = "Encore Tickets"
PAGE_SIZE = 8
MONTHS_AHEAD = 6
NAV = {"home": "Find events", "cart": "Cart", "orders": "My orders", "account": "Account"}
TITLES = {
    "home": "Find events",
    "seats": "Choose seats",
    "cart": "Your cart",
    "checkout": "Checkout",
    "confirmation": "Order confirmed",
    "orders": "My orders",
    "order": "Order details",
    "cancel": "Cancel order",
    "account": "Account",
}
ALL_CITIES = "All cities"
ANY_MONTH = "Any month"
CHOOSE_SECTION = "Choose a section"
CHOOSE_CARD = "Choose a payment method"
CHOOSE_REASON = "Choose a reason (optional)"
QUANTITIES = [str(n) for n in range(1, MAX_TICKETS + 1)]
CANCEL_REASONS = [
    "I can no longer attend",
    "I bought the wrong tickets",
    "The event was rescheduled",
    "Other",
]
SEARCH_DEFAULTS = {"q": "", "city": "", "month": "", "from": "", "to": "", "pg": 1}
MAX_NAME = 80
TERMS = "I agree to the Terms of Use and the purchase policy"


def card_label(card: dict) -> str:
    return f"{card['brand']} ending in {card['last4']}, expires {card_expiry(card['exp'])}"


def card_short(card: dict) -> str:
    return f"{card['brand']} ending in {card['last4']}"


def event_when(event: dict) -> str:
    return f"{short_date(event['date'])} · {clock(event['time'])}"


def promo_terms(promo: dict) -> str:
    off = f"{promo['value']}%" if promo["kind"] == "percent" else money(promo["value"])
    return f"{off} off tickets"


def _error(state: dict, text: str, **changes: object) -> dict:
    return {**state, "alert": ["error", text], **changes}


def _success(state: dict, text: str, **changes: object) -> dict:
    return {**state, "alert": ["success", text], **changes}


def _text(name: str) -> Element:
    return Element("text", name)


def _row(*cells: str) -> Element:
    return Element("row", children=[Element("cell", c) for c in cells])


def _table(name: str, header: list[str], rows: list[Element]) -> Element:
    return Element("table", name, children=[_row(*header), *rows])


def _seat_groups(seats: list[dict]) -> list[tuple[str, str, str]]:
    """Seats grouped by section and row: [(section id, row, "5-7, 9")], in cart order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for s in seats:
        groups.setdefault((s["section"], s["row"]), []).append(s["seat"])
    return [(sid, row, seat_ranges(nums)) for (sid, row), nums in groups.items()]


def describe_seats(event: dict, seats: list[dict]) -> str:
    """ "Lower Bowl 104, Row C, Seats 5-6; Floor, Row A, Seat 2"."""
    names = {s["id"]: s["name"] for s in event["sections"]}
    parts = []
    for sid, row, nums in _seat_groups(seats):
        word = "Seats" if ("," in nums or "-" in nums) else "Seat"
        parts.append(f"{names[sid]}, Row {row}, {word} {nums}")
    return "; ".join(parts)


@register
class TicketShop(Environment):
    """A concert ticket shop: event search, seat maps with price tiers, sold-out sections and
    accessible seats, a one-event cart with promo codes, checkout with attendee details and
    saved cards, order history, and cancellation with refunds under each event's policy."""

    env_id = "tickets"
    version = 1
    title = SHOP
    start_page = "home"
    navigation = tuple(NAV)
    families = {f.name: f for f in FAMILIES}
    solver = TicketsSolver
    # A near neighbour of buy_tickets and buy_adjacent: seat filters used a new way.
    heldout_families = ("buy_accessible",)
    heldout_variants = ("mixed",)

    def build_world(self, seed: int) -> dict:
        return build_world(seed)

    # --- pages ----------------------------------------------------------------------------

    def build_page(self, state: dict) -> Page:
        name = state["page"]
        heading, url, body = getattr(self, f"_page_{name}")(state, state["form"])
        elements = [self._nav(state), Element("heading", heading)]
        if state["alert"]:
            kind, text = state["alert"]
            elements.append(
                Element("alert", f"{'Error' if kind == 'error' else 'Success'}: {text}")
            )
        elements.extend(body)
        return Page(f"{heading} - {SHOP}", url, elements)

    def _nav(self, state: dict) -> Element:
        count = len(state["cart"]["seats"])
        links = []
        for page, label in NAV.items():
            if page == "cart" and count:
                label = f"Cart ({count})"
            links.append(Element("link", label, key=f"nav:{page}"))
        return Element("navigation", "Main menu", children=links)

    def _venue(self, state: dict, vid: str) -> dict:
        return by_id(state["venues"], vid)

    def _where(self, state: dict, event: dict) -> str:
        return f"{self._venue(state, event['venue'])['name']}, {event['city']}"

    def _summary(self, state: dict, event: dict) -> Element:
        return _text(f"{event['name']} · {self._where(state, event)} · {event_when(event)}")

    # Search -----------------------------------------------------------------------------

    def _months(self, state: dict) -> list[str]:
        y, m = int(state["today"][:4]), int(state["today"][5:7])
        keys = []
        for i in range(MONTHS_AHEAD):
            n = y * 12 + m - 1 + i
            keys.append(f"{n // 12:04d}-{n % 12 + 1:02d}")
        return keys

    def _results(self, state: dict, search: dict) -> list[dict]:
        today = state["today"]
        q = search["q"].casefold()
        city, month, start, end = search["city"], search["month"], search["from"], search["to"]
        venues = {v["id"]: v["name"] for v in state["venues"]}
        out = []
        for e in state["events"]:
            d = e["date"]
            if d < today or (city and e["city"] != city) or (month and d[:7] != month):
                continue
            if (start and d < start) or (end and d > end):
                continue
            if q and not (
                q in e["artist"].casefold()
                or q in e["name"].casefold()
                or q in venues[e["venue"]].casefold()
            ):
                continue
            out.append(e)
        return out  # events are stored in date order

    def _page_home(self, state: dict, form: dict) -> tuple[str, str, list[Element]]:
        search = {**SEARCH_DEFAULTS, **state["search"]}
        results = self._results(state, search)
        pages = max(1, -(-len(results) // PAGE_SIZE))
        pg = min(search["pg"], pages)
        shown = results[(pg - 1) * PAGE_SIZE : pg * PAGE_SIZE]
        venues = {v["id"]: v["name"] for v in state["venues"]}
        rows = []
        for e in shown:
            low = lowest_price(e)
            rows.append(
                Element(
                    "row",
                    children=[
                        Element("cell", event_when(e)),
                        Element("cell", children=[Element("link", e["name"], key=f"ev:{e['id']}")]),
                        Element("cell", e["artist"]),
                        Element("cell", venues[e["venue"]]),
                        Element("cell", e["city"]),
                        Element("cell", f"From {money(low)}" if low is not None else "Sold out"),
                    ],
                )
            )  # fmt: skip
        cities = sorted({v["city"] for v in state["venues"]})
        month = search["month"]
        if results:
            found = f"{len(results)} event{'s' if len(results) != 1 else ''} found"
        else:
            found = "No events match your search. Try fewer filters."
        first = state["user"]["name"].split()[0]
        body = [
            _text(f"Hi, {first}. Today is {long_date(state['today'])}."),
            Element(
                "form",
                "Search events",
                children=[
                    Element("textbox", "Artist, event or venue", form.get("s.q", search["q"]),
                            key="s.q"),
                    Element("select", "City", form.get("s.city", search["city"] or ALL_CITIES),
                            options=[ALL_CITIES, *cities], key="s.city"),
                    Element("select", "Month",
                            form.get("s.month", month_label(month) if month else ANY_MONTH),
                            options=[ANY_MONTH, *(month_label(m) for m in self._months(state))],
                            key="s.month"),
                    Element("textbox", "From date (YYYY-MM-DD)", form.get("s.from", search["from"]),
                            key="s.from"),
                    Element("textbox", "To date (YYYY-MM-DD)", form.get("s.to", search["to"]),
                            key="s.to"),
                    Element("button", "Search", key="s.go"),
                    Element("button", "Clear filters", key="s.clear"),
                ],
            ),
            _text(found),
        ]  # fmt: skip
        if rows:
            body.append(
                _table("Events", ["Date", "Event", "Artist", "Venue", "City", "Tickets"], rows)
            )
            body += [
                Element("button", "Previous page", key="s.prev", disabled=pg <= 1),
                _text(f"Page {pg} of {pages}"),
                Element("button", "Next page", key="s.next", disabled=pg >= pages),
            ]
        return TITLES["home"], self.page_url("home"), body

    # Event and seats -------------------------------------------------------------------

    def _page_event(self, state: dict, form: dict) -> tuple[str, str, list[Element]]:
        e = by_id(state["events"], state["view"]["event"])
        rows = []
        for sec in e["sections"]:
            left = open_seats(sec)
            low, high = min(sec["prices"]), max(sec["prices"])
            price = money(low) if low == high else f"{money(low)} to {money(high)}"
            acc = sum(1 for k in sec["accessible"] if self._is_open(sec, k))
            rows.append(
                _row(
                    sec["name"],
                    price,
                    str(left) if left else "Sold out",
                    f"{acc} available" if acc else ("Sold out" if sec["accessible"] else "None"),
                )
            )
        deadline = refund_deadline(e)
        if deadline is None:
            policy = "All sales final: tickets for this event can't be refunded."
        else:
            policy = (
                f"Refundable until {long_date(deadline)} "
                f"({e['refund_days']} days before the event)."
            )
        body = [
            _text(f"Artist: {e['artist']}"),
            _text(f"Venue: {self._where(state, e)}"),
            _text(f"Date: {long_date(e['date'])} at {clock(e['time'])}"),
            _text(f"Refund policy: {policy}"),
            _text(f"Service fee: {money(e['fee'])} per ticket"),
            _table("Seating", ["Section", "Price per ticket", "Seats left", "Accessible seats"],
                   rows),
            Element(
                "form",
                "Get tickets",
                children=[
                    Element("select", "Quantity", form.get("e.qty", "2"), options=QUANTITIES,
                            key="e.qty"),
                    Element("select", "Section", form.get("e.sec", CHOOSE_SECTION),
                            options=[CHOOSE_SECTION, *(s["name"] for s in e["sections"])],
                            key="e.sec"),
                    Element("checkbox", "Accessible seating only", key="e.acc",
                            checked=form.get("e.acc", False)),
                    Element("button", "Choose seats", key="e.seats"),
                    Element("button", "Best available", key="e.best"),
                ],
            ),
            Element("link", "Back to results", key="back"),
        ]  # fmt: skip
        return e["name"], f"/tickets/events/{e['id']}", body

    @staticmethod
    def _is_open(sec: dict, key: str) -> bool:
        row, _, seat = key.partition("-")
        return sec["taken"][sec["rows"].index(row)][int(seat) - 1] == "0"

    def _cart_keys(self, state: dict, event_id: str, section_id: str) -> set[str]:
        cart = state["cart"]
        if cart["event"] != event_id:
            return set()
        return {seat_key(s["row"], s["seat"]) for s in cart["seats"] if s["section"] == section_id}

    def _page_seats(self, state: dict, form: dict) -> tuple[str, str, list[Element]]:
        view = state["view"]
        e = by_id(state["events"], view["event"])
        sec = section_by_id(e, view["section"])
        acc_only = form.get("m.acc", view["acc"])
        accessible = set(sec["accessible"])
        in_cart = self._cart_keys(state, e["id"], sec["id"])
        items = []
        selected: list[dict] = []
        for row, price, taken in zip(sec["rows"], sec["prices"], sec["taken"], strict=True):
            boxes = []
            for n, mark in enumerate(taken, 1):
                key = f"{row}-{n}"
                if mark != "0" or key in in_cart:
                    continue
                is_acc = key in accessible
                checked = form.get("seat:" + key, False)
                if checked:
                    selected.append({"row": row, "seat": n, "price": price})
                if acc_only and not is_acc:
                    continue
                label = f"Row {row}, Seat {n}" + (" (wheelchair accessible)" if is_acc else "")
                boxes.append(Element("checkbox", label, key="seat:" + key, checked=checked))
            if boxes:
                items.append(
                    Element("listitem", f"Row {row} · {money(price)} each · {len(boxes)} open",
                            children=boxes)
                )  # fmt: skip
            elif not acc_only:
                items.append(Element("listitem", f"Row {row} · {money(price)} each · sold out"))
        qty = form.get("m.qty", view["qty"])
        if selected:
            picked = describe_seats(e, [{**s, "section": sec["id"]} for s in selected])
            chosen = f"Selected {len(selected)} of {qty} seats: {picked}"
        else:
            chosen = f"Selected 0 of {qty} seats."
        body = [
            self._summary(state, e),
            _text(self._tiers(sec) + f" Plus a {money(e['fee'])} service fee per ticket."),
        ]
        if in_cart:
            body.append(_text(f"Already in your cart: {len(in_cart)} seat(s) in this section."))
        map_children = [
            Element("select", "Quantity", qty, options=QUANTITIES, key="m.qty"),
            Element("checkbox", "Accessible seats only", key="m.acc", checked=acc_only),
        ]
        if items:
            map_children.append(Element("list", "Rows (front to back)", children=items))
        else:
            map_children.append(_text("No accessible seats are open in this section."))
        map_children += [_text(chosen), Element("button", "Add to cart", key="m.add")]
        body += [
            Element("form", "Seat map", children=map_children),
            Element("link", "Back to event", key="m.back"),
        ]
        url = f"/tickets/events/{e['id']}/seats/{sec['id']}"
        return f"Choose seats: {sec['name']}", url, body

    @staticmethod
    def _tiers(sec: dict) -> str:
        parts = []
        rows, prices = sec["rows"], sec["prices"]
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or prices[i] != prices[start]:
                span = (
                    f"Row {rows[start]}"
                    if i - 1 == start
                    else f"Rows {rows[start]} to {rows[i - 1]}"
                )
                parts.append(f"{span}: {money(prices[start])} each")
                start = i
        return "Prices: " + "; ".join(parts) + "."

    # Cart and checkout -----------------------------------------------------------------

    def _cart_tickets(self, state: dict) -> tuple[dict | None, list[dict]]:
        """The cart's event and its seats with their prices."""
        cart = state["cart"]
        if cart["event"] is None:
            return None, []
        e = by_id(state["events"], cart["event"])
        secs = {s["id"]: s for s in e["sections"]}
        tickets = []
        for s in cart["seats"]:
            sec = secs[s["section"]]
            tickets.append({**s, "price": sec["prices"][sec["rows"].index(s["row"])]})
        return e, tickets

    def _promo(self, state: dict) -> dict | None:
        code = state["cart"]["promo"]
        return by_id(state["promos"], code) if code else None

    def _totals_table(self, event: dict, tickets: list[dict], promo: dict | None) -> Element:
        p = price_order(event, tickets, promo)
        n = len(tickets)
        rows = [
            _row(f"Tickets ({n})", money(p["subtotal"])),
            _row(f"Service fees ({n} x {money(event['fee'])})", money(p["fees"])),
        ]
        if promo:
            rows.append(_row(f"Promo code {promo['id']}", money(-p["discount"])))
        rows.append(_row("Total", money(p["total"])))
        return _table("Order summary", ["Item", "Amount"], rows)

    def _page_cart(self, state: dict, form: dict) -> tuple[str, str, list[Element]]:
        e, tickets = self._cart_tickets(state)
        url = self.page_url("cart")
        if e is None:
            body = [_text("Your cart is empty."), Element("link", "Find events", key="nav:home")]
            return TITLES["cart"], url, body
        names = {s["id"]: s["name"] for s in e["sections"]}
        prices = {(t["section"], t["row"]): t["price"] for t in tickets}
        lines = []
        for sid, row, nums in _seat_groups(state["cart"]["seats"]):
            count = sum(1 for t in tickets if t["section"] == sid and t["row"] == row)
            price = prices[(sid, row)]
            lines.append(
                Element(
                    "row",
                    children=[
                        Element("cell", names[sid]),
                        Element("cell", row),
                        Element("cell", nums),
                        Element("cell", money(price)),
                        Element("cell", str(count)),
                        Element("cell", money(price * count)),
                        Element("cell", children=[
                            Element("button", f"Remove {names[sid]} Row {row}",
                                    key=f"rm:{sid}:{row}")
                        ]),
                    ],
                )
            )  # fmt: skip
        promo = self._promo(state)
        promo_form = [
            Element("textbox", "Promo code", form.get("c.code", ""), key="c.code"),
            Element("button", "Apply", key="c.apply"),
        ]
        if promo:
            promo_form.append(_text(f"Promo code {promo['id']} applied: {promo_terms(promo)}."))
            promo_form.append(Element("button", "Remove promo code", key="c.unpromo"))
        body = [
            self._summary(state, e),
            _table("Tickets", ["Section", "Row", "Seats", "Price each", "Quantity", "Amount", ""],
                   lines),
            self._totals_table(e, tickets, promo),
            Element("form", "Promo code", children=promo_form),
            Element("button", "Checkout", key="c.checkout"),
            Element("button", "Empty cart", key="c.empty"),
            Element("link", "Continue shopping", key=f"ev:{e['id']}"),
        ]  # fmt: skip
        return TITLES["cart"], url, body

    def _page_checkout(self, state: dict, form: dict) -> tuple[str, str, list[Element]]:
        e, tickets = self._cart_tickets(state)
        url = self.page_url("checkout")
        if e is None:
            body = [_text("Your cart is empty."), Element("link", "Find events", key="nav:home")]
            return TITLES["checkout"], url, body
        user = state["user"]
        default = next((c for c in state["cards"] if c["default"]), None)
        card = form.get("k.card", card_label(default) if default else CHOOSE_CARD)
        body = [
            self._summary(state, e),
            _text(f"Seats: {describe_seats(e, state['cart']['seats'])}"),
            self._totals_table(e, tickets, self._promo(state)),
            Element(
                "form",
                "Attendee details",
                children=[
                    Element("textbox", "Full name", form.get("k.name", user["name"]),
                            key="k.name", required=True),
                    Element("textbox", "Email", form.get("k.email", user["email"]),
                            key="k.email", required=True),
                    Element("textbox", "Confirm email", form.get("k.email2", user["email"]),
                            key="k.email2", required=True),
                ],
            ),
            Element(
                "form",
                "Payment",
                children=[
                    Element("select", "Payment method", card,
                            options=[CHOOSE_CARD, *(card_label(c) for c in state["cards"])],
                            key="k.card", required=True),
                    Element("checkbox", TERMS, key="k.terms", checked=form.get("k.terms", False),
                            required=True),
                    Element("button", "Place order", key="k.place"),
                ],
            ),
            Element("link", "Back to cart", key="nav:cart"),
        ]  # fmt: skip
        return TITLES["checkout"], url, body

    # Orders ----------------------------------------------------------------------------

    def _order_status(self, state: dict, order: dict, event: dict) -> str:
        if order["status"] == "cancelled":
            return f"Cancelled, refunded {money(order['total'])}"
        if event["date"] < state["today"]:
            return "Attended"
        return "Confirmed"

    def _page_confirmation(self, state: dict, form: dict) -> tuple[str, str, list[Element]]:
        o = by_id(state["orders"], state["view"]["order"])
        e = by_id(state["events"], o["event"])
        card = by_id(state["cards"], o["card"])
        n = len(o["tickets"])
        body = [
            _text(f"Thank you! Your order {o['id']} is confirmed."),
            self._summary(state, e),
            _text(f"{n} ticket{'s' if n != 1 else ''}: {describe_seats(e, o['tickets'])}"),
            _text(f"Attendee: {o['name']} ({o['email']})"),
            _text(f"Charged {money(o['total'])} to {card_short(card)}."),
            _text(f"We sent your tickets to {o['email']}."),
            Element("link", "View order", key=f"order:{o['id']}"),
            Element("link", "Find more events", key="nav:home"),
        ]
        return TITLES["confirmation"], f"/tickets/orders/{o['id']}/confirmation", body

    def _page_orders(self, state: dict, form: dict) -> tuple[str, str, list[Element]]:
        rows = []
        for o in reversed(state["orders"]):
            e = by_id(state["events"], o["event"])
            rows.append(
                Element(
                    "row",
                    children=[
                        Element("cell", children=[
                            Element("link", o["id"], key=f"order:{o['id']}"),
                        ]),
                        Element("cell", e["name"]),
                        Element("cell", event_when(e)),
                        Element("cell", self._where(state, e)),
                        Element("cell", str(len(o["tickets"]))),
                        Element("cell", money(o["total"])),
                        Element("cell", self._order_status(state, o, e)),
                    ],
                )
            )  # fmt: skip
        header = ["Order", "Event", "Date", "Venue", "Tickets", "Total", "Status"]
        body = [_table("Your orders", header, rows)] if rows else [_text("You have no orders yet.")]
        return TITLES["orders"], self.page_url("orders"), body

    def _page_order(self, state: dict, form: dict) -> tuple[str, str, list[Element]]:
        o = by_id(state["orders"], state["view"]["order"])
        e = by_id(state["events"], o["event"])
        card = by_id(state["cards"], o["card"])
        names = {s["id"]: s["name"] for s in e["sections"]}
        tickets = [
            _row(names[t["section"]], t["row"], str(t["seat"]), money(t["price"]))
            for t in o["tickets"]
        ]
        pay = [
            _row("Tickets", money(o["subtotal"])),
            _row("Service fees", money(o["fees"])),
        ]
        if o["promo"]:
            pay.append(_row(f"Promo code {o['promo']}", money(-o["discount"])))
        pay.append(_row("Total charged", money(o["total"])))
        deadline = refund_deadline(e)
        upcoming = e["date"] >= state["today"]
        if o["status"] == "cancelled":
            refund = by_id(state["refunds"], o["refund"])
            policy = (
                f"Cancelled on {long_date(refund['date'])}. Refund {refund['id']} of "
                f"{money(refund['amount'])} issued to {card_short(card)}."
            )
        elif not upcoming:
            policy = "This event has taken place."
        elif deadline is None:
            policy = "All sales final: this order can't be refunded."
        elif deadline < state["today"]:
            policy = f"The refund deadline for this order was {long_date(deadline)}."
        else:
            policy = f"Refundable until {long_date(deadline)}."
        body = [
            _text(f"Order {o['id']}, placed {long_date(o['placed'])}"),
            _text(f"Event: {e['name']}"),
            _text(f"Artist: {e['artist']}"),
            _text(f"Venue: {self._where(state, e)}"),
            _text(f"Date: {long_date(e['date'])} at {clock(e['time'])}"),
            _text(f"Status: {self._order_status(state, o, e)}"),
            _text(f"Attendee: {o['name']} ({o['email']})"),
            _table("Tickets", ["Section", "Row", "Seat", "Price"], tickets),
            _table("Payment", ["Item", "Amount"], pay),
            _text(f"Paid with {card_short(card)}."),
            _text(f"Refunds: {policy}"),
        ]
        if o["status"] == "confirmed" and upcoming:
            body.append(Element("button", "Cancel order", key=f"o.cancel:{o['id']}"))
        body.append(Element("link", "Back to orders", key="nav:orders"))
        return f"Order {o['id']}", f"/tickets/orders/{o['id']}", body

    def _page_cancel(self, state: dict, form: dict) -> tuple[str, str, list[Element]]:
        o = by_id(state["orders"], state["view"]["order"])
        e = by_id(state["events"], o["event"])
        card = by_id(state["cards"], o["card"])
        body = [
            _text(
                f"You are about to cancel order {o['id']}: {len(o['tickets'])} ticket(s) for "
                f"{e['name']} on {long_date(e['date'])} at {self._where(state, e)}."
            ),
            _text(
                f"Refund: {money(o['total'])} to {card_short(card)}. Refunds take 5 to 10 "
                "business days to appear. Cancelled tickets can't be restored."
            ),
            Element(
                "form",
                "Cancel this order",
                children=[
                    Element("select", "Reason", form.get("x.reason", CHOOSE_REASON),
                            options=[CHOOSE_REASON, *CANCEL_REASONS], key="x.reason"),
                    Element("button", "Confirm cancellation", key="x.confirm"),
                    Element("button", "Keep my order", key="x.keep"),
                ],
            ),
        ]  # fmt: skip
        return f"Cancel order {o['id']}", f"/tickets/orders/{o['id']}/cancel", body

    def _page_account(self, state: dict, form: dict) -> tuple[str, str, list[Element]]:
        user, today = state["user"], state["today"][:7]
        rows = []
        for c in state["cards"]:
            status = "Expired" if c["exp"] < today else ("Default" if c["default"] else "")
            rows.append(_row(card_short(c), card_expiry(c["exp"]), status))
        body = [
            _text(f"Name: {user['name']}"),
            _text(f"Email: {user['email']}"),
            _table("Payment methods", ["Card", "Expires", "Status"], rows),
            _text("To add or change a card, call us at 1-800-555-0142."),
        ]
        return TITLES["account"], self.page_url("account"), body

    # --- actions --------------------------------------------------------------------------

    def on_goto(self, state: dict, page: str) -> dict:
        search = {} if page == "home" else state["search"]
        return {**state, "page": page, "form": {}, "alert": None, "view": {}, "search": search}

    def on_fill(self, state: dict, element: Element, value: str) -> dict:
        return {**state, "form": {**state["form"], element.key: value}, "alert": None}

    def on_select(self, state: dict, element: Element, option: str) -> dict:
        return {**state, "form": {**state["form"], element.key: option}, "alert": None}

    def on_check(self, state: dict, element: Element, checked: bool) -> dict:
        return {**state, "form": {**state["form"], element.key: checked}, "alert": None}

    def on_click(self, state: dict, element: Element) -> dict:
        verb, _, arg = element.key.partition(":")
        return getattr(self, "_do_" + verb.replace(".", "_"))(state, arg)

    def _open(self, state: dict, page: str, **view: object) -> dict:
        return {**state, "page": page, "form": {}, "alert": None, "view": view}

    def _do_nav(self, state: dict, page: str) -> dict:
        return self.on_goto(state, page)

    # Search -----------------------------------------------------------------------------

    def _do_s_go(self, state: dict, _: str) -> dict:
        form = state["form"]
        search = {**SEARCH_DEFAULTS, **state["search"]}
        q = " ".join(form.get("s.q", search["q"]).split())
        city = form.get("s.city", search["city"] or ALL_CITIES)
        city = "" if city == ALL_CITIES else city
        month = search["month"]
        if "s.month" in form:
            labels = {month_label(m): m for m in self._months(state)}
            month = labels.get(form["s.month"], "")
        dates = []
        for key, label in (("from", "From date"), ("to", "To date")):
            raw = form.get(f"s.{key}", search[key]).strip()
            value = parse_date(raw) if raw else ""
            if value is None:
                return _error(state, f"{label}: enter a date as YYYY-MM-DD, for example "
                                     f"{state['today']}.")  # fmt: skip
            dates.append(value)
        start, end = dates
        if start and end and end < start:
            return _error(state, "The To date is before the From date.")
        new = {"q": q, "city": city, "month": month, "from": start, "to": end, "pg": 1}
        return {**state, "search": new, "form": {}, "alert": None}

    def _do_s_clear(self, state: dict, _: str) -> dict:
        return {**state, "search": {}, "form": {}, "alert": None}

    def _do_s_prev(self, state: dict, _: str) -> dict:
        search = {**SEARCH_DEFAULTS, **state["search"]}
        return {**state, "search": {**search, "pg": max(1, search["pg"] - 1)}, "alert": None}

    def _do_s_next(self, state: dict, _: str) -> dict:
        search = {**SEARCH_DEFAULTS, **state["search"]}
        return {**state, "search": {**search, "pg": search["pg"] + 1}, "alert": None}

    def _do_ev(self, state: dict, eid: str) -> dict:
        return self._open(state, "event", event=eid)

    def _do_back(self, state: dict, _: str) -> dict:
        return self._open(state, "home")

    # Event and seats -------------------------------------------------------------------

    def _chosen_section(self, state: dict, event: dict) -> tuple[dict | None, str | None]:
        """The section chosen on the event page, or the error to show."""
        name = state["form"].get("e.sec", CHOOSE_SECTION)
        sec = next((s for s in event["sections"] if s["name"] == name), None)
        if sec is None:
            return None, "Choose a section."
        if not open_seats(sec):
            return None, f"Sorry, {sec['name']} is sold out. Choose another section."
        return sec, None

    def _do_e_seats(self, state: dict, _: str) -> dict:
        e = by_id(state["events"], state["view"]["event"])
        sec, problem = self._chosen_section(state, e)
        if problem:
            return _error(state, problem)
        form = state["form"]
        return self._open(state, "seats", event=e["id"], section=sec["id"],
                          qty=form.get("e.qty", "2"), acc=form.get("e.acc", False))  # fmt: skip

    def _do_e_best(self, state: dict, _: str) -> dict:
        e = by_id(state["events"], state["view"]["event"])
        sec, problem = self._chosen_section(state, e)
        if problem:
            return _error(state, problem)
        form = state["form"]
        qty = int(form.get("e.qty", "2"))
        acc_only = form.get("e.acc", False)
        accessible = set(sec["accessible"])
        in_cart = self._cart_keys(state, e["id"], sec["id"])
        # Best available means the best seats first: front rows, then the aisle inwards.
        picks = []
        for row, taken in zip(sec["rows"], sec["taken"], strict=True):
            for n, mark in enumerate(taken, 1):
                key = f"{row}-{n}"
                if mark == "0" and key not in in_cart and (not acc_only or key in accessible):
                    picks.append({"section": sec["id"], "row": row, "seat": n})
        if len(picks) < qty:
            what = "accessible seats are" if acc_only else "seats are"
            return _error(
                state, f"Only {len(picks)} {what} left in {sec['name']}. Choose fewer tickets "
                "or another section."
            )  # fmt: skip
        return self._add_to_cart(state, e, picks[:qty])

    def _do_m_back(self, state: dict, _: str) -> dict:
        return self._open(state, "event", event=state["view"]["event"])

    def _do_m_add(self, state: dict, _: str) -> dict:
        view, form = state["view"], state["form"]
        e = by_id(state["events"], view["event"])
        sec = section_by_id(e, view["section"])
        qty = int(form.get("m.qty", view["qty"]))
        picks = []
        for key, on in form.items():
            if on is True and key.startswith("seat:"):
                row, _, seat = key[5:].partition("-")
                picks.append({"section": sec["id"], "row": row, "seat": int(seat)})
        if not picks:
            return _error(state, f"Select {qty} seat{'s' if qty != 1 else ''} on the seat map.")
        if len(picks) != qty:
            return _error(
                state,
                f"You chose {qty} ticket{'s' if qty != 1 else ''} but selected {len(picks)} "
                f"seat{'s' if len(picks) != 1 else ''}. Select exactly {qty}, or change the "
                "quantity.",
            )
        picks.sort(key=lambda p: (sec["rows"].index(p["row"]), p["seat"]))
        return self._add_to_cart(state, e, picks)

    def _add_to_cart(self, state: dict, event: dict, picks: list[dict]) -> dict:
        cart = state["cart"]
        if cart["event"] not in (None, event["id"]):
            other = by_id(state["events"], cart["event"])
            return _error(
                state,
                f"Your cart has tickets for {other['name']} on {long_date(other['date'])}. "
                "Check out or empty your cart before adding tickets for another event.",
            )
        total = len(cart["seats"]) + len(picks)
        if total > MAX_TICKETS:
            return _error(
                state,
                f"You can buy at most {MAX_TICKETS} tickets per order; your cart already has "
                f"{len(cart['seats'])}.",
            )
        for p in picks:  # the seat map only offers open seats; this guards stale forms
            sec = section_by_id(event, p["section"])
            if not self._is_open(sec, seat_key(p["row"], p["seat"])):
                return _error(state, f"Row {p['row']}, Seat {p['seat']} is no longer available.")
        new_cart = {**cart, "event": event["id"], "seats": [*cart["seats"], *picks]}
        n = len(picks)
        what = f"{n} ticket{'s' if n != 1 else ''}"
        return _success(
            state,
            f"Added {what} to your cart: {describe_seats(event, picks)}.",
            cart=new_cart, page="cart", form={}, view={},
        )  # fmt: skip

    # Cart ------------------------------------------------------------------------------

    def _promo_problem(self, state: dict, code: str, event: dict, subtotal: int) -> str | None:
        promo = next((p for p in state["promos"] if p["id"] == code), None)
        if promo is None:
            return f"Sorry, {code} is not a valid promo code. Check the code and try again."
        if promo["expires"] < state["today"]:
            return f"Promo code {code} expired on {long_date(promo['expires'])}."
        if promo["artist"] and promo["artist"] != event["artist"]:
            return f"Promo code {code} is only valid for {promo['artist']} events."
        if subtotal < promo["min"]:
            return (
                f"Promo code {code} needs a ticket subtotal of at least {money(promo['min'])}; "
                f"your subtotal is {money(subtotal)}."
            )
        return None

    def _do_c_apply(self, state: dict, _: str) -> dict:
        code = state["form"].get("c.code", "").strip().upper()
        e, tickets = self._cart_tickets(state)
        if not code:
            return _error(state, "Enter a promo code.")
        if e is None:
            return _error(state, "Your cart is empty. Add tickets before applying a promo code.")
        problem = self._promo_problem(state, code, e, sum(t["price"] for t in tickets))
        if problem:
            return _error(state, problem)
        promo = by_id(state["promos"], code)
        return _success(
            state,
            f"Promo code {code} applied: {promo_terms(promo)}.",
            cart={**state["cart"], "promo": code}, form={},
        )  # fmt: skip

    def _do_c_unpromo(self, state: dict, _: str) -> dict:
        code = state["cart"]["promo"]
        return _success(state, f"Promo code {code} removed.",
                        cart={**state["cart"], "promo": None})  # fmt: skip

    def _do_rm(self, state: dict, arg: str) -> dict:
        sid, _, row = arg.partition(":")
        cart = state["cart"]
        seats = [s for s in cart["seats"] if not (s["section"] == sid and s["row"] == row)]
        if not seats:
            return _success(state, "Your cart is empty.",
                            cart={"event": None, "seats": [], "promo": None})  # fmt: skip
        new = {**state, "cart": {**cart, "seats": seats}}
        section = section_by_id(by_id(state["events"], cart["event"]), sid)["name"]
        text = f"Removed {section}, Row {row} from your cart."
        if cart["promo"]:
            e, tickets = self._cart_tickets(new)
            problem = self._promo_problem(new, cart["promo"], e, sum(t["price"] for t in tickets))
            if problem:
                new["cart"] = {**new["cart"], "promo": None}
                text += f" Promo code {cart['promo']} was removed: {problem}"
        return _success(new, text)

    def _do_c_empty(self, state: dict, _: str) -> dict:
        return _success(state, "Your cart is empty.",
                        cart={"event": None, "seats": [], "promo": None})  # fmt: skip

    def _do_c_checkout(self, state: dict, _: str) -> dict:
        return self._open(state, "checkout")

    # Checkout --------------------------------------------------------------------------

    def _do_k_place(self, state: dict, _: str) -> dict:
        form, user = state["form"], state["user"]
        e, tickets = self._cart_tickets(state)
        if e is None:
            return _error(state, "Your cart is empty.")
        name = " ".join(form.get("k.name", user["name"]).split())
        email = form.get("k.email", user["email"]).strip()
        email2 = form.get("k.email2", user["email"]).strip()
        if not name:
            return _error(state, "Enter the attendee's full name.")
        if len(name) > MAX_NAME:
            return _error(state, f"The attendee's name can be at most {MAX_NAME} characters.")
        if not valid_email(email):
            return _error(state, "Enter a valid email address, like name@example.com.")
        if email.casefold() != email2.casefold():
            return _error(state, "The email addresses don't match.")
        default = next((c for c in state["cards"] if c["default"]), None)
        label = form.get("k.card", card_label(default) if default else CHOOSE_CARD)
        card = next((c for c in state["cards"] if card_label(c) == label), None)
        if card is None:
            return _error(state, "Choose a payment method.")
        if card["exp"] < state["today"][:7]:
            return _error(
                state,
                f"Your {card_short(card)} expired in {card_expiry(card['exp'])}. Choose another "
                "payment method.",
            )
        if not form.get("k.terms", False):
            return _error(state, "Please agree to the Terms of Use to place your order.")
        for t in tickets:
            sec = section_by_id(e, t["section"])
            if not self._is_open(sec, seat_key(t["row"], t["seat"])):
                return _error(state, f"Row {t['row']}, Seat {t['seat']} is no longer available.")
        promo = self._promo(state)
        if promo:
            problem = self._promo_problem(state, promo["id"], e, sum(t["price"] for t in tickets))
            if problem:
                return _error(state, problem, cart={**state["cart"], "promo": None})
        oid = f"TK-{state['order_base'] + len(state['orders']) + 1}"
        order = {
            "id": oid,
            "event": e["id"],
            "tickets": tickets,
            **price_order(e, tickets, promo),
            "promo": promo["id"] if promo else None,
            "name": name,
            "email": email,
            "card": card["id"],
            "placed": state["today"],
            "status": "confirmed",
            "refund": None,
        }
        events = [set_seats(x, tickets, sold=True) if x["id"] == e["id"] else x
                  for x in state["events"]]  # fmt: skip
        return _success(
            state,
            f"Order {oid} placed: {money(order['total'])} charged to {card_short(card)}.",
            orders=[*state["orders"], order], events=events, page="confirmation", form={},
            view={"order": oid}, cart={"event": None, "seats": [], "promo": None},
        )  # fmt: skip

    # Orders ----------------------------------------------------------------------------

    def _do_order(self, state: dict, oid: str) -> dict:
        return self._open(state, "order", order=oid)

    def _do_o_cancel(self, state: dict, oid: str) -> dict:
        o = by_id(state["orders"], oid)
        e = by_id(state["events"], o["event"])
        deadline = refund_deadline(e)
        if deadline is None:
            return _error(
                state,
                f"This order can't be cancelled: tickets for {e['name']} are non-refundable "
                "(all sales final).",
            )
        if deadline < state["today"]:
            return _error(
                state,
                f"This order can't be cancelled: the refund deadline was {long_date(deadline)} "
                f"({e['refund_days']} days before the event).",
            )
        return self._open(state, "cancel", order=oid)

    def _do_x_keep(self, state: dict, _: str) -> dict:
        return self._open(state, "order", order=state["view"]["order"])

    def _do_x_confirm(self, state: dict, _: str) -> dict:
        oid = state["view"]["order"]
        o = by_id(state["orders"], oid)
        e = by_id(state["events"], o["event"])
        reason = state["form"].get("x.reason", CHOOSE_REASON)
        rid = f"RF-{state['refund_base'] + len(state['refunds']) + 1}"
        refund = {
            "id": rid,
            "order": oid,
            "amount": o["total"],
            "card": o["card"],
            "date": state["today"],
            "reason": "" if reason == CHOOSE_REASON else reason,
        }
        orders = [{**x, "status": "cancelled", "refund": rid} if x["id"] == oid else x
                  for x in state["orders"]]  # fmt: skip
        events = [set_seats(x, o["tickets"], sold=False) if x["id"] == e["id"] else x
                  for x in state["events"]]  # fmt: skip
        card = by_id(state["cards"], o["card"])
        return _success(
            state,
            f"Order {oid} is cancelled. A refund of {money(o['total'])} to {card_short(card)} "
            "is on its way.",
            orders=orders, events=events, refunds=[*state["refunds"], refund], page="order",
            form={}, view={"order": oid},
        )  # fmt: skip
