"""The scripted solver of every Skyway Airlines family: it reads the task's params and the
pages only, finding elements by role and name with the kit's helpers. On a change or a
cancellation it reads the booking's fare on the page and refuses what the fare forbids, as an
agent must."""

from __future__ import annotations

import re

from environments.engine.kit import long_date, money, parse_money
from environments.engine.kit.solve import (
    alert_text,
    cell_text,
    expect_success,
    fill_form,
    need,
    press,
    rows,
    seek_row,
)
from environments.engine.page import Page
from environments.engine.policies import Script, ScriptedSolver, click, send
from environments.engine.tasks import Task

from .world import AIRPORTS, airport_label

_PRICE = re.compile(r"^\$([0-9,]+\.[0-9]{2}) \(([0-9]+) left\)$")


class AirlineSolver(ScriptedSolver):
    def script(self, task: Task, page: Page) -> Script:
        yield from getattr(self, task.family)(page, task.params)

    # --- shared steps --------------------------------------------------------------------

    def _search(self, page: Page, p: dict, day: str, passengers: int) -> Script:
        page = yield "goto('search')"
        values = {
            "From": airport_label(p["origin"]),
            "To": airport_label(p["dest"]),
            "Departure date (YYYY-MM-DD)": day,
            "Passengers": str(passengers),
        }
        return (yield from fill_form(page, "Search flights", values, submit="Search flights"))

    def _pay(self, page: Page, card: str) -> Script:
        values = {"Payment method": card, "I accept the fare rules": True}
        page = yield from fill_form(page, "Book your trip", values, submit="Pay and book")
        expect_success(page)
        return page

    def _open_trip(self, page: Page, p: dict) -> Script:
        """The booking page of the trip named by its route and date; returns (page, fare)."""
        page = yield "goto('trips')"
        route = f"{AIRPORTS[p['origin']]} to {AIRPORTS[p['dest']]}"
        page, row = yield from seek_row(page, "My trips", Route=route, Departs=long_date(p["date"]))
        page = yield click(need(row["Booking"], "link"))
        fare = need(page, "text", contains="Fare: ").name.split()[1]
        return page, fare

    def _refuse(self, what: str) -> Script:
        yield send(
            f"I'm sorry, I can't {what} this trip: it is booked on a Basic fare, and the Basic "
            f"fare rules do not allow it."
        )

    # --- families ------------------------------------------------------------------------

    def book_flight(self, page: Page, p: dict) -> Script:
        page = yield from self._search(page, p, p["date"], 1)
        page = yield from press(page, f"Sort by {p['fare']}")
        first = rows(page, "Flights")[0]
        page = yield click(need(first["Actions"], "button", f"Select {p['fare']}"))
        values = {
            "Passenger 1 full name": p["name"],
            "Passenger 1 date of birth (YYYY-MM-DD)": p["birth"],
        }
        page = yield from fill_form(page, "Book your trip", values, submit="Continue")
        page = yield from press(page, "Continue")
        page = yield from self._pay(page, p["card"])
        yield send("Booked.")

    def book_group(self, page: Page, p: dict) -> Script:
        page = yield from self._search(page, p, p["date"], 3)
        page, row = yield from seek_row(page, "Flights", Flights=p["flights"])
        page = yield click(need(row["Actions"], "button", f"Select {p['fare']}"))
        people, seats = {}, {}
        for i, person in enumerate(p["passengers"], start=1):
            people[f"Passenger {i} full name"] = person["name"]
            people[f"Passenger {i} date of birth (YYYY-MM-DD)"] = person["birth"]
            seats[f"Passenger {i} seat (optional)"] = person["seat"]
            seats[f"Passenger {i} checked bags"] = str(person["bags"])
        page = yield from fill_form(page, "Book your trip", people, submit="Continue")
        page = yield from fill_form(page, "Book your trip", seats, submit="Continue")
        page = yield from self._pay(page, p["card"])
        yield send("Booked for all three.")

    def change_flight(self, page: Page, p: dict) -> Script:
        page, fare = yield from self._open_trip(page, p)
        if fare == "Basic":
            yield from self._refuse("change")
            return
        page = yield from press(page, "Change flight")
        values = {"New date (YYYY-MM-DD)": p["new_date"]}
        page = yield from fill_form(page, "Find a new flight", values, submit="Find new flights")
        page, row = yield from seek_row(page, "New flights", Flights=p["new_flights"])
        page = yield click(need(row["Actions"], "button", "Change to this flight"))
        page = yield from press(page, "Confirm change")
        expect_success(page)
        yield send(f"Done: {alert_text(page).removeprefix('Success: ')}")

    change_refused = change_flight

    def cancel_booking(self, page: Page, p: dict) -> Script:
        page, fare = yield from self._open_trip(page, p)
        if fare == "Basic":
            yield from self._refuse("cancel")
            return
        page = yield from press(page, "Cancellation")
        where = "Original payment" if fare == "Flexible" else "Travel credit"
        page = yield from fill_form(page, "Cancel this trip", {"Refund to": where}, "Cancel trip")
        page = yield from press(page, "Yes, cancel the trip")
        expect_success(page)
        amount = re.search(r"\$[0-9,]+\.[0-9]{2}", alert_text(page)).group()
        yield send(f"Your trip is cancelled; you get {amount} back.")

    cancel_refused = cancel_booking

    def add_bags(self, page: Page, p: dict) -> Script:
        page, _ = yield from self._open_trip(page, p)
        page, row = yield from seek_row(page, "Passengers", Name=p["passenger"])
        page = yield click(need(row["Actions"], "button", "Edit seat and bags"))
        values = {"Checked bags": str(p["bags"])}
        page = yield from fill_form(page, "Seat and bags", values, submit="Save seat and bags")
        expect_success(page)
        yield send("The bags are added.")

    def cheapest_fare(self, page: Page, p: dict) -> Script:
        best = None
        for day in (p["date"], p["other"]):
            page = yield from self._search(page, p, day, p["count"])
            for row in rows(page, "Flights"):
                match = _PRICE.match(cell_text(row[p["fare"]]))
                if match and int(match.group(2)) >= p["count"]:
                    total = parse_money(match.group(1)) * p["count"]
                    best = total if best is None else min(best, total)
        yield send(f"The lowest total is {money(best)}.")
