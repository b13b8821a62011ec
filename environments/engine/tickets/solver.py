"""The ticket shop's scripted solver: reads the task's params and the rendered pages only,
finding every bid by role and name as an agent would."""

from __future__ import annotations

import re
from collections.abc import Generator

from ..page import Element, Page, quote
from ..policies import ScriptedSolver, click, fill, need, option_starting, select, send
from ..tasks import Task
from .formats import month_label, short_date

_PRICE = re.compile(r"\$([\d,]+)\.(\d\d)")
_SEAT = re.compile(r"^Row (\w+), Seat (\d+)")
Script = Generator[str, Page, Page]


def check(el: Element) -> str:
    return f"check({quote(el.bid)})"


def cents(text: str) -> int:
    """The first "$1,234.50" in a text, in cents."""
    match = _PRICE.search(text)
    if match is None:
        raise LookupError(f"no price in {text!r}")
    return int(match.group(1).replace(",", "")) * 100 + int(match.group(2))


def table_rows(page: Page, name: str) -> list[list[Element]]:
    """The body rows of a table, each as its list of cells."""
    table = need(page.find("table", name), f"table {name!r}")
    return [row.children for row in table.children[1:]]


class TicketsSolver(ScriptedSolver):
    """Solves every ticket-shop family from its params and the pages it is shown."""

    def script(self, task: Task, page: Page) -> Generator[str, Page, None]:
        p = task.params
        family = task.family
        if family == "cancel_order":
            yield from self._cancel(p, page)
        elif family == "order_total":
            page = yield click(need(page.find("link", "My orders"), "the My orders link"))
            cells = self._order_row(p, page)
            yield send(f"I paid {cells[5].name} in total.")
        elif family == "cheapest_ticket":
            yield from self._cheapest(p, page)
        else:
            yield from self._buy(family, p, page)

    # --- search ---------------------------------------------------------------------------

    def _search(self, page: Page, artist: str, city: str, month: str) -> Script:
        page = yield click(need(page.find("link", "Find events"), "the Find events link"))
        page = yield fill(need(page.find("textbox", "Artist, event or venue"), "search"), artist)
        page = yield select(need(page.find("select", "City"), "the City select"), city)
        page = yield select(need(page.find("select", "Month"), "the Month select"), month)
        page = yield click(need(page.find("button", "Search"), "the Search button"))
        return page

    def _open_event(self, p: dict, page: Page) -> Script:
        page = yield from self._search(page, p["artist"], p["city"], month_label(p["date"][:7]))
        when = short_date(p["date"])
        while True:
            for cells in table_rows(page, "Events"):
                if (
                    cells[0].name.startswith(when)
                    and cells[2].name == p["artist"]
                    and cells[4].name == p["city"]
                ):
                    page = yield click(need(cells[1].find("link"), "the event link"))
                    return page
            nxt = need(page.find("button", "Next page"), "the Next page button")
            if nxt.disabled:
                raise LookupError(f"no event for {p['artist']} in {p['city']} on {when}")
            page = yield click(nxt)

    def _cheapest(self, p: dict, page: Page) -> Generator[str, Page, None]:
        page = yield from self._search(page, p["artist"], p["city"], p["month_label"])
        prices = []
        while True:
            for cells in table_rows(page, "Events"):
                if cells[2].name == p["artist"] and cells[5].name.startswith("From"):
                    prices.append(cents(cells[5].name))
            nxt = need(page.find("button", "Next page"), "the Next page button")
            if nxt.disabled:
                break
            page = yield click(nxt)
        low = min(prices)
        yield send(f"${low // 100:,}.{low % 100:02d}")

    # --- buying ---------------------------------------------------------------------------

    def _sections(self, family: str, p: dict, page: Page) -> list[str]:
        """Sections worth opening, in the order to try them."""
        if p.get("section"):
            return [p["section"]]
        rows = table_rows(page, "Seating")
        if family == "buy_accessible":
            return [
                c[0].name
                for c in rows
                if c[3].name.endswith("available") and int(c[3].name.split()[0]) >= p["qty"]
            ]
        open_rows = [c for c in rows if c[2].name != "Sold out"]
        return [c[0].name for c in sorted(open_rows, key=lambda c: cents(c[1].name))]

    def _seats(self, family: str, p: dict, page: Page) -> list[str] | None:
        """Names of the seat checkboxes to tick on this seat map, or None if none fit."""
        qty = p["qty"]
        rows = need(page.find("list", "Rows (front to back)"), "the seat map")
        if family == "buy_accessible":
            boxes = [b.name for b in rows.find_all("checkbox")]
            return boxes[:qty] if len(boxes) >= qty else None
        limit = p.get("max_price")
        picked: list[str] = []
        for item in rows.children:
            if limit is not None and cents(item.name) > limit:
                continue
            boxes = [b.name for b in item.children]
            if family == "buy_adjacent":
                nums = [int(_SEAT.match(b).group(2)) for b in boxes]
                for i in range(len(nums) - qty + 1):
                    if nums[i + qty - 1] - nums[i] == qty - 1:
                        return boxes[i : i + qty]
            else:
                picked += boxes[: qty - len(picked)]
                if len(picked) == qty:
                    return picked
        return None

    def _buy(self, family: str, p: dict, page: Page) -> Generator[str, Page, None]:
        page = yield from self._open_event(p, page)
        chosen = None
        for section in self._sections(family, p, page):
            page = yield select(need(page.find("select", "Quantity"), "Quantity"), str(p["qty"]))
            page = yield select(need(page.find("select", "Section"), "Section"), section)
            if family == "buy_accessible":
                page = yield check(need(page.find("checkbox", "Accessible seating only"), "acc"))
            page = yield click(need(page.find("button", "Choose seats"), "Choose seats"))
            chosen = self._seats(family, p, page)
            if chosen:
                break
            page = yield click(need(page.find("link", "Back to event"), "Back to event"))
        if not chosen:
            raise LookupError("no section has the seats this task asks for")
        for name in chosen:
            page = yield check(need(page.find("checkbox", name), name))
        page = yield click(need(page.find("button", "Add to cart"), "Add to cart"))
        if p.get("code"):
            page = yield fill(need(page.find("textbox", "Promo code"), "Promo code"), p["code"])
            page = yield click(need(page.find("button", "Apply"), "Apply"))
        page = yield click(need(page.find("button", "Checkout"), "Checkout"))
        page = yield fill(need(page.find("textbox", "Full name"), "Full name"), p["name"])
        page = yield fill(need(page.find("textbox", "Email"), "Email"), p["email"])
        page = yield fill(need(page.find("textbox", "Confirm email"), "Confirm email"), p["email"])
        cards = need(page.find("select", "Payment method"), "Payment method")
        page = yield select(cards, option_starting(cards, p["card_label"]))
        terms = need(page.find("checkbox", contains="I agree"), "the terms checkbox")
        page = yield check(terms)
        page = yield click(need(page.find("button", "Place order"), "Place order"))
        confirmed = need(page.find("text", contains="is confirmed"), "the confirmation")
        yield send(confirmed.name)

    # --- orders ---------------------------------------------------------------------------

    def _order_row(self, p: dict, page: Page) -> list[Element]:
        when = short_date(p["date"])
        where = f"{p['venue']}, {p['city']}"
        for cells in table_rows(page, "Your orders"):
            if (
                cells[2].name.startswith(when)
                and cells[3].name == where
                and cells[1].name.startswith(p["artist"])
            ):
                return cells
        raise LookupError(f"no order for {p['artist']} at {where} on {when}")

    def _cancel(self, p: dict, page: Page) -> Generator[str, Page, None]:
        page = yield click(need(page.find("link", "My orders"), "the My orders link"))
        cells = self._order_row(p, page)
        page = yield click(need(cells[0].find("link"), "the order link"))
        page = yield click(need(page.find("button", "Cancel order"), "Cancel order"))
        page = yield click(need(page.find("button", "Confirm cancellation"), "Confirm"))
        yield send(need(page.find("alert"), "the confirmation alert").name)
