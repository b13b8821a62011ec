"""The scripted solver of every HR portal family: it reads the task's params and the pages
only, finding elements by role and name with the kit's helpers."""

from __future__ import annotations

import re

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


def _number_in(page: Page, prefix: str) -> int:
    """The first whole number of the text element starting with `prefix`."""
    for el in page.iter():
        if el.name.startswith(prefix):
            return int(re.search(r"\d+", el.name[len(prefix) :]).group())
    raise LookupError(f"no text starting {prefix!r} in {page.url}")


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
        page = yield "goto('approvals')"
        page, row = yield from seek_row(
            page, "Pending requests", Employee=p["employee_name"], From=p["start_long"]
        )
        if p["status"] == "approved":
            page = yield click(need(row["Actions"], "button", "Approve"))
            page = yield from press(page, "Approve")  # the dialog's button
        elif p["status"] == "with HR":
            page = yield click(need(row["Actions"], "button", "Forward to HR"))
        else:
            page = yield click(need(row["Actions"], "button", "Reject"))
            values = {"Policy reason": p["reason"]}
            page = yield from fill_form(page, "Reject request", values, submit="Reject request")
        expect_success(page)
        yield send(f"The request is {p['status']}.")

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
