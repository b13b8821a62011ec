"""The scripted solver of every Enterprise HR portal family: it reads the task's params and the pages
only, finding elements by role and name with the kit's helpers."""

from __future__ import annotations

from environments.engine.kit.solve import (
    expect_success,
    fill_form,
    need,
    press,
    seek_row,
    starting,
)
from environments.engine.page import Page
from environments.engine.policies import Script, ScriptedSolver, click, send
from environments.engine.tasks import Task


class HrSolver(ScriptedSolver):
    def script(self, task: Task, page: Page) -> Script:
        yield from getattr(self, task.family)(page, task.params)

    def _find(self, page: Page, p: dict) -> Script:
        """The contacts page filtered to the surname, paged to the contact's row."""
        page = yield "goto('contacts')"
        surname = p["full_name"].split()[-1]
        page = yield from fill_form(page, "Filter contacts", {"Name contains": surname})
        page = yield from press(page, "Apply filters")
        return (yield from seek_row(page, "Contacts", Name=p["full_name"], City=p["city"]))

    def add_contact(self, page: Page, p: dict) -> Script:
        page = yield "goto('new')"
        person = {"Full name": p["full_name"], "Email": p["email"], "Phone": p["phone"]}
        page = yield from fill_form(page, "New contact", person, submit="Continue")
        account = {"City": p["city"], "Tier": p["tier"], "Customer since (YYYY-MM-DD)": p["since"]}
        page = yield from fill_form(page, "New contact", account, submit="Add contact")
        expect_success(page)
        yield send("Added.")

    def archive_contact(self, page: Page, p: dict) -> Script:
        page, row = yield from self._find(page, p)
        page = yield click(need(row["Actions"], "button", "Archive"))
        page = yield from press(page, "Archive")
        expect_success(page)
        yield send("Archived.")

    def change_tier(self, page: Page, p: dict) -> Script:
        page, row = yield from self._find(page, p)
        page = yield click(need(row["Name"], "link", p["full_name"]))
        page = yield from press(page, "Account")
        values = {"New tier": p["tier"], "Reason": p["reason"]}
        page = yield from fill_form(page, "Change tier", values, submit="Save tier")
        expect_success(page)
        yield send("Done.")

    def count_contacts(self, page: Page, p: dict) -> Script:
        page = yield "goto('search')"
        page = yield click(starting(need(page, "section", "City"), "checkbox", f"{p['city']} ("))
        box = starting(need(page, "section", "Tier"), "checkbox", f"{p['tier']} (")
        # The facet's count is the answer: how many a tick would show.
        yield send(box.name.rsplit("(", 1)[1].rstrip(")"))
