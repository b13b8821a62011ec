"""The scripted solver of every HR portal family: it reads the task's params and the pages
only, finding elements by role and name with the kit's helpers."""

from __future__ import annotations

import re
from datetime import date

from environments.engine.kit import plain_money
from environments.engine.kit.formats import MONTHS
from environments.engine.kit.solve import (
    cell_text,
    expect_success,
    fill_form,
    need,
    press,
    seek_row,
)
from environments.engine.page import Page
from environments.engine.policies import Script, ScriptedSolver, click, send
from environments.engine.tasks import Task


def _text(page: Page, prefix: str) -> str:
    """The first element name starting with `prefix`."""
    for el in page.iter():
        if el.name.startswith(prefix):
            return el.name
    raise LookupError(f"no text starting {prefix!r} in {page.url}")


def _iso(shown: str) -> str:
    """ "June 3, 2024" -> "2024-06-03"."""
    month, day, year = shown.replace(",", "").split()
    return date(int(year), MONTHS.index(month) + 1, int(day)).isoformat()


def _number_in(page: Page, prefix: str) -> int:
    """The first whole number of the text element starting with `prefix`."""
    return int(re.search(r"\d+", _text(page, prefix)[len(prefix) :]).group())


class HrSolver(ScriptedSolver):
    def script(self, task: Task, page: Page) -> Script:
        yield from getattr(self, task.family)(page, task.params)

    def _employee_row(self, page: Page, name: str, department: str) -> Script:
        """The directory filtered to the surname, paged to the employee's row."""
        page = yield "goto('directory')"
        page = yield from fill_form(page, "Filter employees", {"Name contains": name.split()[-1]})
        page = yield from press(page, "Apply filters")
        return (yield from seek_row(page, "Employees", Name=name, Department=department))

    def request_time_off(self, page: Page, p: dict) -> Script:
        page = yield "goto('timeoff')"
        values = {
            "Type": "Vacation",
            "First day (YYYY-MM-DD)": p["start"],
            "Last day (YYYY-MM-DD)": p["end"],
        }
        page = yield from fill_form(page, "Request time off", values, submit="Submit request")
        expect_success(page)
        yield send("Requested.")

    def cancel_time_off(self, page: Page, p: dict) -> Script:
        page = yield "goto('timeoff')"
        page, row = yield from seek_row(page, "My requests", Type=p["type"], From=p["start_long"])
        page = yield click(need(row["Actions"], "button", "Cancel request"))
        page = yield from press(page, "Cancel request")  # the dialog's button
        expect_success(page)
        yield send("Cancelled.")

    def review_time_off(self, page: Page, p: dict) -> Script:
        """Gathers what the policy needs from three pages (the request, the employee's
        balance, the policy), decides, then acts on the request."""
        page = yield "goto('approvals')"
        wanted = {"Employee": p["employee_name"], "From": p["start_long"]}
        page, row = yield from seek_row(page, "Pending requests", **wanted)
        days = int(cell_text(row["Days"]))
        start, end = _iso(cell_text(row["From"])), _iso(cell_text(row["To"]))
        submitted = _iso(cell_text(row["Submitted"]))
        page = yield "goto('directory')"
        surname = p["employee_name"].split()[-1]
        page = yield from fill_form(page, "Filter employees", {"Name contains": surname})
        page = yield from press(page, "Apply filters")
        page, found = yield from seek_row(page, "Employees", Name=p["employee_name"])
        page = yield click(need(found["Name"], "link", p["employee_name"]))
        balance = _number_in(page, "Vacation balance:")
        page = yield "goto('policy')"
        blackout = re.search(r"No leave from (.+) to (.+) \(blackout", _text(page, "No leave from"))
        notice = _number_in(page, "Requests need at least")
        limit = _number_in(page, "Managers approve requests of up to")
        notice_given = (date.fromisoformat(start) - date.fromisoformat(submitted)).days
        reason = ""
        if days > balance:
            reason = "Insufficient balance"
        elif start <= _iso(blackout.group(2)) and _iso(blackout.group(1)) <= end:
            reason = "Blackout period"
        elif notice_given < notice:
            reason = "Less notice than policy requires"
        page = yield "goto('approvals')"
        page, row = yield from seek_row(page, "Pending requests", **wanted)
        if reason:
            page = yield click(need(row["Actions"], "button", "Reject"))
            values = {"Policy reason": reason}
            page = yield from fill_form(page, "Reject request", values, submit="Reject request")
        elif days > limit:
            page = yield click(need(row["Actions"], "button", "Forward to HR"))
        else:
            page = yield click(need(row["Actions"], "button", "Approve"))
            page = yield from press(page, "Approve")  # the dialog's button
        expect_success(page)
        yield send(f"Rejected: {reason}." if reason else "Done.")

    def file_expense_report(self, page: Page, p: dict) -> Script:
        page = yield "goto('expenses')"
        values = {"Report title": p["title"]}
        page = yield from fill_form(page, "New expense report", values, submit="Create report")
        expect_success(page)
        for item in p["items"]:
            values = {
                "Category": item["category"],
                "Date (YYYY-MM-DD)": item["date"],
                "Amount": plain_money(item["amount"]),
                "Description": item["description"],
                "Receipt attached": item["receipt"],
            }
            page = yield from fill_form(page, "Add item", values, submit="Add item")
            expect_success(page)
        page = yield from press(page, "Submit report")
        expect_success(page)
        yield send("Submitted.")

    def payroll_correction(self, page: Page, p: dict) -> Script:
        page, row = yield from self._employee_row(page, p["employee_name"], p["department"])
        manager = cell_text(row["Manager"])
        page = yield "goto('payroll')"
        values = {
            "Employee": f"{p['employee_name']} ({p['department']})",
            "Pay period": p["period"],
            "Amount": plain_money(p["amount"]),
            "Reason": p["reason"],
            "Approver": f"{manager} ({p['department']})",
        }
        page = yield from fill_form(
            page, "New payroll correction", values, submit="File correction"
        )
        expect_success(page)
        yield send("Filed.")

    def carry_over(self, page: Page, p: dict) -> Script:
        page, row = yield from self._employee_row(page, p["employee_name"], p["department"])
        manager = cell_text(row["Manager"])
        page, row = yield from self._employee_row(page, manager, p["department"])
        page = yield click(need(row["Name"], "link", manager))
        balance = _number_in(page, "Vacation balance:")
        page = yield "goto('policy')"
        accrual = _number_in(page, "Vacation accrues at")
        limit = _number_in(page, "At most")
        today = need(page, "text", contains="Today is").name
        month = next(i for i, m in enumerate(MONTHS, start=1) if m in today)
        yield send(str(min(balance + accrual * (13 - month), limit)))

    def expense_total(self, page: Page, p: dict) -> Script:
        page = yield "goto('expenses')"
        page, row = yield from seek_row(page, "My expense reports", Title=p["title"])
        yield send(cell_text(row["Total"]))

    def transfer_employee(self, page: Page, p: dict) -> Script:
        page, row = yield from self._employee_row(page, p["employee_name"], p["department"])
        page = yield click(need(row["Name"], "link", p["employee_name"]))
        values = {"New office": p["location"], "Reason": p["reason"]}
        page = yield from fill_form(page, "Transfer", values, submit="Save transfer")
        expect_success(page)
        yield send("Transferred.")
