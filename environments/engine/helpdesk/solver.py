"""The scripted solver of every service-desk family: it reads the task's params and the pages
only (the customer records, the agents on call, the knowledge base, the ticket's facts),
finding elements by role and name with the kit's helpers, and applies the desk's rules as the
Rules page states them."""

from __future__ import annotations

import re

from environments.engine.kit.solve import (
    cell_text,
    expect_success,
    fill_form,
    need,
    press,
    rows,
    seek_row,
)
from environments.engine.page import Page
from environments.engine.policies import Script, ScriptedSolver, click, fill, send
from environments.engine.tasks import Task

from .world import escalation_refusal, triage

DONE = "Done."


def facts(page: Page) -> dict[str, str]:
    """The page's "Label: value" texts."""
    out = {}
    for el in page.iter():
        if el.role == "text" and ": " in el.name:
            label, value = el.name.split(": ", 1)
            out.setdefault(label, value)
    return out


class HelpdeskSolver(ScriptedSolver):
    def script(self, task: Task, page: Page) -> Script:
        yield from getattr(self, task.family)(page, task.params)

    # Reading -------------------------------------------------------------------------------

    def _plans(self, page: Page) -> Script:
        """{organisation: plan} from the customers table (one page)."""
        page = yield "goto('customers')"
        return page, {
            cell_text(r["Organisation"]): cell_text(r["Plan"]) for r in rows(page, "Customers")
        }

    def _on_call(self, page: Page) -> Script:
        """{group: the name of its agent on call}, and {agent name: group}."""
        page = yield "goto('agents')"
        on_call, groups = {}, {}
        for r in rows(page, "Agents"):
            groups[cell_text(r["Name"])] = cell_text(r["Group"])
            if cell_text(r["On call"]) == "Yes":
                on_call[cell_text(r["Group"])] = cell_text(r["Name"])
        return page, on_call, groups

    def _open_number(self, page: Page, number: str) -> Script:
        """The ticket's page, found with the queue's Number filter."""
        page = yield "goto('queue')"
        page = yield from press(page, "Clear filters")
        page = yield from fill_form(page, "Filter tickets", {"Number": number})
        page = yield from press(page, "Apply filters")
        return (yield click(need(page, "link", f"#{number}")))

    def _open_named(self, page: Page, subject: str, customer: str) -> Script:
        """The ticket's page, found by subject and customer."""
        page = yield "goto('queue')"
        page = yield from fill_form(page, "Filter tickets", {"Subject contains": subject})
        page = yield from press(page, "Apply filters")
        page, row = yield from seek_row(page, "Tickets", Subject=subject, Customer=customer)
        return (yield click(need(row["Ticket"], "link")))

    def _customer_plan(self, page: Page) -> Script:
        """From a ticket's page: its customer's plan, read on the customer record."""
        section = need(page, "section", "Customer")
        page = yield click(need(section, "link"))
        return page, facts(page)["Plan"]

    def _save(self, page: Page, values: dict) -> Script:
        page = yield from fill_form(page, "Ticket properties", values, submit="Save changes")
        expect_success(page)
        return page

    # Families ------------------------------------------------------------------------------

    def triage_queue(self, page: Page, p: dict) -> Script:
        page, plans = yield from self._plans(page)
        page, on_call, _ = yield from self._on_call(page)
        page = yield "goto('queue')"
        page = yield from fill_form(page, "Filter tickets", {"Assignee": "Unassigned"})
        page = yield from press(page, "Apply filters")
        waiting = rows(page, "Tickets")
        page = yield click(need(waiting[0]["Ticket"], "link"))
        # "Next ticket" walks the filtered queue: each saved ticket has left it.
        for index in range(len(waiting)):
            if index:
                page = yield from press(page, "Next ticket")
            ticket = facts(page)
            customer = need(need(page, "section", "Customer"), "link").name
            priority, group = triage(ticket["Category"], plans[customer])
            values = {"Priority": priority, "Group": group, "Assignee": on_call[group]}
            page = yield from self._save(page, values)
        yield send(DONE)

    def apply_macro(self, page: Page, p: dict) -> Script:
        page = yield from self._open_named(page, p["subject"], p["customer"])
        page = yield from fill_form(
            page, "Apply a macro", {"Macro": p["macro"]}, submit="Apply macro"
        )
        expect_success(page)
        yield send(DONE)

    def merge_duplicate(self, page: Page, p: dict) -> Script:
        source = p["source"]
        page = yield from self._open_number(page, source)
        ticket = facts(page)
        customer = need(need(page, "section", "Customer"), "link").name
        page = yield "goto('queue')"
        page = yield from press(page, "Clear filters")
        page = yield from fill_form(page, "Filter tickets", {"Subject contains": ticket["Subject"]})
        page = yield from press(page, "Apply filters")
        candidates = [
            cell_text(r["Ticket"])
            for r in rows(page, "Tickets")
            if cell_text(r["Customer"]) == customer
            and cell_text(r["Subject"]) == ticket["Subject"]
            and int(cell_text(r["Ticket"])[1:]) < int(source)
        ]
        target = None
        for number in candidates:
            page = yield click(need(page, "link", number))
            if facts(page)["Requester"] == ticket["Requester"]:
                target = number[1:]
                break
            page = yield "goto('queue')"
        if target is None:
            raise LookupError(f"no earlier ticket like #{source}")
        page = yield "goto('queue')"
        page = yield click(need(page, "link", f"#{source}"))
        values = {"Target ticket number": target}
        page = yield from fill_form(page, "Merge into another ticket", values, submit="Merge")
        page = yield from press(page, "Merge tickets")
        expect_success(page)
        yield send(DONE)

    def answer_from_kb(self, page: Page, p: dict) -> Script:
        page = yield from self._open_number(page, p["id"])
        conversation = need(page, "list", "Conversation").text()
        title = re.search(r'"([^"]+)"', conversation).group(1)
        page, plan = yield from self._customer_plan(page)
        page = yield "goto('kb')"
        page = yield fill(need(page, "textbox", "Search articles"), title)
        page = yield from press(page, "Search")
        page = yield click(need(page, "link", title))
        figure = facts(page)[f"{plan} plan"]
        page = yield "goto('queue')"
        page = yield click(need(page, "link", f"#{p['id']}"))
        message = {"Message": f"Your {plan} plan includes {figure}."}
        page = yield from fill_form(page, "Reply to the customer", message, submit="Send reply")
        expect_success(page)
        page = yield from self._save(page, {"Status": "Solved", "Resolution note": p["note"]})
        yield send(DONE)

    def count_breached(self, page: Page, p: dict) -> Script:
        page = yield "goto('queue')"
        filters = need(page, "form", "Filter tickets")
        # A filter offers the values present: none missing means no ticket to count.
        if p["group"] not in need(filters, "select", "Group").options or (
            "Breached" not in need(filters, "select", "SLA").options
        ):
            yield send("0")
            return
        values = {"Group": p["group"], "SLA": "Breached"}
        page = yield from fill_form(page, "Filter tickets", values, submit="Apply filters")
        shown = need(page, "text", contains=" tickets)").name
        yield send(re.search(r"\((\d+) tickets\)", shown).group(1))

    def escalation_request(self, page: Page, p: dict) -> Script:
        page = yield from self._open_number(page, p["id"])
        priority = facts(page)["Priority"]
        page, plan = yield from self._customer_plan(page)
        reason = escalation_refusal(plan, priority)
        if reason == plan:
            yield send(
                f"I cannot escalate ticket #{p['id']}: the customer is on the {plan} plan, and "
                "only Enterprise customers' tickets go to Tier 2."
            )
            return
        if reason is not None:
            yield send(
                f"I cannot escalate ticket #{p['id']}: it is {priority}, and only P1 and P2 "
                "tickets go to Tier 2."
            )
            return
        page, on_call, _ = yield from self._on_call(page)
        page = yield "goto('queue')"
        page = yield click(need(page, "link", f"#{p['id']}"))
        page = yield from self._save(page, {"Group": "Tier 2", "Assignee": on_call["Tier 2"]})
        yield send(DONE)

    def assign_ticket(self, page: Page, p: dict) -> Script:
        page, _, groups = yield from self._on_call(page)
        page = yield from self._open_named(page, p["subject"], p["customer"])
        values = {"Group": groups[p["agent"]], "Assignee": p["agent"]}
        page = yield from self._save(page, values)
        yield send(DONE)
