"""The service desk's pages, written with the authoring kit: the ticket queue (filters by
number, subject, status, group, assignee and SLA; sorting; paging), a ticket page (properties,
reply, macros, merge), customer records, the knowledge base (faceted search and articles),
the agents on call and the desk's rules.

The desk refuses what a real one does: solving a ticket without a resolution note, assigning
an agent outside the ticket's group, merging tickets of different customers or into a closed
ticket, and changing a customer's plan (agents have no permission)."""

from __future__ import annotations

from functools import lru_cache

from environments.engine.kit import (
    Column,
    ConfirmDialog,
    DataTable,
    Facet,
    FacetedSearch,
    Field,
    Filter,
    Form,
    FormError,
    KitSite,
    NavMenu,
    Notifications,
    RowAction,
    by_id,
    error,
    short_date,
    success,
)
from environments.engine.page import Element, Page
from environments.engine.registry import register

from .solver import HelpdeskSolver
from .tasks import FAMILIES
from .world import GROUPS, MACROS, PLANS, PRIORITIES, SLA_HOURS, STATUSES, build_world, is_open

NOTICES = Notifications()
QUEUE = DataTable(
    "queue",
    "Tickets",
    (
        Column("number", "Ticket"),
        Column("subject", "Subject"),
        Column("customer", "Customer"),
        Column("category", "Category"),
        Column("priority", "Priority"),
        Column("group", "Group"),
        Column("assignee", "Assignee"),
        Column("status", "Status"),
        Column("sla", "SLA"),
    ),
    filters=(
        Filter("id", "Number", "text"),
        Filter("subject", "Subject contains", "text"),
        Filter("status", "Status"),
        Filter("group", "Group"),
        Filter("assignee", "Assignee"),
        Filter("sla", "SLA"),
    ),
    actions=(RowAction("Take", "take_ticket"),),
    open="open_ticket",
    sort=("id", False),
    noun="tickets",
)
CUSTOMERS = DataTable(
    "customers",
    "Customers",
    (
        Column("name", "Organisation"),
        Column("plan", "Plan"),
        Column("region", "Region"),
        Column("open_tickets", "Open tickets"),
    ),
    filters=(Filter("plan", "Plan"), Filter("region", "Region")),
    open="open_customer",
    sort=("name", False),
    noun="customers",
)
AGENTS = DataTable(
    "agents",
    "Agents",
    (
        Column("name", "Name"),
        Column("group", "Group"),
        Column("on_call", "On call"),
        Column("open_tickets", "Open tickets"),
    ),
    filters=(Filter("group", "Group"),),
    sort=("name", False),
    noun="agents",
)
KB = FacetedSearch(
    "kb",
    "Articles",
    text_keys=("title", "body"),
    facets=(Facet("section", "Section"),),
    result=lambda a: a["title"],
    open="open_article",
    noun="articles",
)
REPLY = Form(
    "reply",
    "Reply to the customer",
    (Field("message", "Message", required=True, max_length=1000),),
    "Send reply",
    on_submit="send_reply",
)
MACRO = Form(
    "macro",
    "Apply a macro",
    (Field("macro", "Macro", "select", required=True, options=tuple(MACROS)),),
    "Apply macro",
    on_submit="apply_macro",
)
MERGE = Form(
    "merge",
    "Merge into another ticket",
    (Field("target", "Target ticket number", "number", required=True, minimum=1),),
    "Merge",
    on_submit="ask_merge",
)
CONFIRM_MERGE = ConfirmDialog(
    "confirm_merge", "Merge these tickets?", on_confirm="merge", confirm="Merge tickets"
)
PLAN = Form(
    "plan",
    "Change plan",
    (Field("plan", "New plan", "select", required=True, options=PLANS),),
    "Change plan",
    on_submit="change_plan",
)
PROPERTY_NAMES = ("priority", "group", "assignee", "status", "resolution")
TITLES = {
    "queue": "Ticket queue",
    "customers": "Customers",
    "kb": "Knowledge base",
    "agents": "Agents",
    "rules": "Desk rules",
}
RULES = (
    "Triage: every new ticket gets a priority, a group and an assignee.",
    "Group by category: Billing tickets go to Billing; every other category goes to Tier 1.",
    "Priority by category: Outage is P1; Access is P2; Bug is P2 for Enterprise customers and "
    "P3 for the others; Billing is P3; How-to is P4.",
    "Assignee: the agent on call in the ticket's group (see Agents).",
    "Escalation: a Tier 1 ticket may go to Tier 2 only when the customer is on the Enterprise "
    "plan and the ticket's priority is P1 or P2; it then goes to the agent on call in Tier 2.",
    "Any other escalation request is declined, and the customer is told why.",
    "SLA: the first response is due 4 hours after creation for Enterprise, 8 for Pro and 24 "
    "for Free customers.",
    "A ticket is solved with a resolution note. Only tickets of the same customer are merged.",
)


def when(stamp: str) -> str:
    """ "2024-06-03T14:00" -> "Jun 3, 2024 14:00"."""
    return f"{short_date(stamp[:10])} {stamp[11:]}"


def sla(ticket: dict, now: str) -> str:
    if not is_open(ticket):
        return "Stopped"
    return "Breached" if ticket["due"] < now else "On time"


def agent_name(state: dict, aid: str) -> str:
    return by_id(state["agents"], aid)["name"] if aid else "Unassigned"


_last_rows: list = [((None, None, None, None), [])]  # [((tickets, agents, orgs, now), rows)]


def queue_rows(tickets: list, agents: list, orgs: list, now: str) -> list[dict]:
    """The queue table's rows. States share their ticket list until a ticket changes, so the
    rows of the last list shown are kept (by identity: lists are never modified)."""
    (shown, agents_shown, orgs_shown, now_shown), rows = _last_rows[0]
    if shown is tickets and agents_shown is agents and orgs_shown is orgs and now_shown == now:
        return rows
    names = {a["id"]: a["name"] for a in agents}
    org_names = {o["id"]: o["name"] for o in orgs}
    rows = [
        {
            "id": t["id"],
            "number": f"#{t['id']}",
            "subject": t["subject"],
            "customer": org_names[t["org"]],
            "category": t["category"],
            "priority": t["priority"] or "-",
            "group": t["group"] or "No group",
            "assignee": names.get(t["assignee"], "Unassigned"),
            "status": "Closed" if t["merged_into"] else t["status"],
            "sla": sla(t, now),
        }
        for t in tickets
    ]
    _last_rows[0] = ((tickets, agents, orgs, now), rows)
    return rows


@lru_cache(maxsize=64)
def properties_form(agents: tuple[str, ...]) -> Form:
    """The ticket's properties form: its assignee options are this world's agents."""
    return Form(
        "props",
        "Ticket properties",
        (
            Field("priority", "Priority", "select", options=PRIORITIES, placeholder="No priority"),
            Field("group", "Group", "select", options=GROUPS, placeholder="No group"),
            Field("assignee", "Assignee", "select", options=agents, placeholder="Unassigned"),
            Field("status", "Status", "select", required=True, options=STATUSES),
            Field("resolution", "Resolution note", max_length=500),
        ),
        "Save changes",
        on_submit="save_properties",
    )


PROPS = properties_form(())  # routes "props" keys and clears the form's errors on leaving


@register
class HelpdeskSite(KitSite):
    """Northwind Service Desk: one queue, its customers and knowledge base per seed."""

    env_id = "helpdesk"
    version = 1
    title = "Northwind Service Desk"
    start_page = "queue"
    navigation = ("queue", "customers", "kb", "agents", "rules")
    menu = NavMenu(
        (
            ("Queue", "queue"),
            ("Customers", "customers"),
            ("Knowledge base", "kb"),
            ("Agents", "agents"),
            ("Rules", "rules"),
        )
    )
    parts = (QUEUE, CUSTOMERS, AGENTS, KB, PROPS, REPLY, MACRO, MERGE, CONFIRM_MERGE, PLAN, NOTICES)
    families = FAMILIES
    # Test-split only (see splits.py): an evaluation reports these beside the trained ones.
    heldout_families = ("assign_ticket",)
    heldout_variants = ("mixed",)
    solver = HelpdeskSolver

    def build_world(self, seed: int) -> dict:
        return {**build_world(seed), "open": None}

    # Pages ---------------------------------------------------------------------------------

    def build_page(self, state: dict) -> Page:
        name = state["page"]
        if name == "queue":
            heading, body = TITLES[name], self._queue(state)
        elif name == "customers":
            heading, body = TITLES[name], CUSTOMERS.render(state, self._customer_rows(state))
        elif name == "kb":
            heading, body = TITLES[name], KB.render(state, state["articles"])
        elif name == "agents":
            heading, body = TITLES[name], AGENTS.render(state, self._agent_rows(state))
        elif name == "rules":
            heading, body = TITLES[name], [Element("text", rule) for rule in RULES]
        elif name == "ticket":
            ticket = by_id(state["tickets"], state["open"])
            heading, body = f"Ticket #{ticket['id']}", self._ticket(state, ticket)
        elif name == "customer":
            org = by_id(state["orgs"], state["open"])
            heading, body = org["name"], self._customer(state, org)
        else:
            article = by_id(state["articles"], state["open"])
            heading, body = article["title"], self._article(article)
        return self.layout(state, heading, body)

    def _queue(self, state: dict) -> list[Element]:
        me = by_id(state["agents"], state["me"])
        rows = queue_rows(state["tickets"], state["agents"], state["orgs"], state["now"])
        intro = Element(
            "text", f"Signed in as {me['name']} ({me['group']}). Now: {when(state['now'])}."
        )
        return [intro, *QUEUE.render(state, rows)]

    def _open_count(self, state: dict, key: str, value: str) -> int:
        return sum(t[key] == value and is_open(t) for t in state["tickets"])

    def _customer_rows(self, state: dict) -> list[dict]:
        return [
            {**o, "open_tickets": self._open_count(state, "org", o["id"])} for o in state["orgs"]
        ]

    def _agent_rows(self, state: dict) -> list[dict]:
        return [
            {
                **a,
                "on_call": "Yes" if a["on_call"] else "No",
                "open_tickets": self._open_count(state, "assignee", a["id"]),
            }
            for a in state["agents"]
        ]

    def _ticket(self, state: dict, ticket: dict) -> list[Element]:
        org = by_id(state["orgs"], ticket["org"])
        status = "Closed" if ticket["merged_into"] else ticket["status"]
        facts = [
            ("Subject", ticket["subject"]),
            ("Requester", f"{ticket['requester']} ({ticket['email']})"),
            ("Category", ticket["category"]),
            ("Status", status),
            ("Priority", ticket["priority"] or "none"),
            ("Group", ticket["group"] or "none"),
            ("Assignee", agent_name(state, ticket["assignee"])),
            ("Created", when(ticket["created"])),
            ("Due", when(ticket["due"])),
            ("SLA", sla(ticket, state["now"])),
        ]
        out = [Element("text", f"{label}: {value}") for label, value in facts]
        out.append(Element("button", "Next ticket", key="next"))
        if ticket["resolution"]:
            out.append(Element("text", f"Resolution note: {ticket['resolution']}"))
        out.append(
            Element(
                "section",
                "Customer",
                children=[Element("link", org["name"], key=f"org:{org['id']}")],
            )
        )
        items = [
            Element("listitem", f"{c['author']} ({c['kind']}): {c['text']}")
            for c in ticket["comments"]
        ]
        out.append(Element("list", "Conversation", children=items))
        if ticket["merged_into"]:
            out.append(Element("text", f"This ticket was merged into #{ticket['merged_into']}."))
            return out
        form = self._properties(state)
        shown = {**state, "form": {**self._current(state, ticket), **state["form"]}}
        out.append(form.render(shown))
        out.extend((REPLY.render(state), MACRO.render(state), MERGE.render(state)))
        return out

    def _properties(self, state: dict) -> Form:
        return properties_form(tuple(a["name"] for a in state["agents"]))

    def _current(self, state: dict, ticket: dict) -> dict:
        """The properties form's fields as the ticket has them."""
        values = {
            "priority": ticket["priority"],
            "group": ticket["group"],
            "assignee": agent_name(state, ticket["assignee"]) if ticket["assignee"] else "",
            "status": ticket["status"],
            "resolution": ticket["resolution"],
        }
        return {f"props.{k}": v for k, v in values.items()}

    def _customer(self, state: dict, org: dict) -> list[Element]:
        out = [
            Element("text", f"Plan: {org['plan']}"),
            Element("text", f"Region: {org['region']}"),
            Element("text", f"SLA: first response within {SLA_HOURS[org['plan']]} hours"),
        ]
        contacts = [Element("listitem", f"{c['name']} ({c['email']})") for c in org["contacts"]]
        out.append(Element("list", "Contacts", children=contacts))
        tickets = [
            Element(
                "listitem",
                children=[Element("link", f"#{t['id']} {t['subject']}", key=f"ticket:{t['id']}")],
            )
            for t in state["tickets"]
            if t["org"] == org["id"]
        ]
        out.append(Element("list", "Tickets", children=tickets))
        out.append(PLAN.render(state))
        return out

    def _article(self, article: dict) -> list[Element]:
        out = [Element("text", f"Section: {article['section']}"), Element("text", article["body"])]
        for plan in PLANS:
            if plan in article["figures"]:
                figure = article["figures"][plan]
                out.append(Element("text", f"{plan} plan: {figure} {article['unit']}"))
        return out

    # Clicks --------------------------------------------------------------------------------

    def on_click(self, state: dict, element: Element) -> dict:
        if element.key.startswith("props:"):
            # The form shows the ticket's values; a field left alone keeps its value.
            ticket = by_id(state["tickets"], state["open"])
            state = {**state, "form": {**self._current(state, ticket), **state["form"]}}
            return self._properties(state).click(self, state, element.key.split(":", 1)[1])
        return super().on_click(state, element)

    def on_action(self, state: dict, key: str) -> dict:
        kind, _, rid = key.partition(":")
        if kind == "next":
            return self.next_ticket(state)
        if kind == "org":
            return self.open_customer(state, rid)
        return self.open_ticket(state, rid)

    def next_ticket(self, state: dict) -> dict:
        """The ticket after this one in the queue as filtered and sorted; when this one has
        left the view (a saved change took it out of the filter), the first one after it by
        number, else the view's first."""
        rows = queue_rows(state["tickets"], state["agents"], state["orgs"], state["now"])
        ids = [r["id"] for r in QUEUE.visible(state, rows)]
        current = state["open"]
        if current in ids:
            following = ids[ids.index(current) + 1 :]
        else:
            following = [i for i in ids if int(i) > int(current)] or ids
        if not following:
            return error(state, "There is no next ticket in the queue as filtered.")
        return self.open_ticket(state, following[0])

    def _open(self, state: dict, page: str, rid: str) -> dict:
        return {**state, "page": page, "open": rid, "form": {}, "alert": None}

    def open_ticket(self, state: dict, tid: str) -> dict:
        return self._open(state, "ticket", tid)

    def open_customer(self, state: dict, oid: str) -> dict:
        return self._open(state, "customer", oid)

    def open_article(self, state: dict, aid: str) -> dict:
        return self._open(state, "article", aid)

    # Handlers the components call ----------------------------------------------------------

    def _replace_ticket(self, state: dict, ticket: dict) -> dict:
        tickets = [ticket if t["id"] == ticket["id"] else t for t in state["tickets"]]
        return {**state, "tickets": tickets}

    def save_properties(self, state: dict, values: dict) -> dict:
        ticket = by_id(state["tickets"], state["open"])
        group = values["group"] or ""
        assignee = ""
        if values["assignee"]:
            agent = next(a for a in state["agents"] if a["name"] == values["assignee"])
            if agent["group"] != group:
                raise FormError(
                    f"{agent['name']} is in {agent['group']}, not {group or 'no group'}: "
                    f"choose an agent of the ticket's group.",
                    field="assignee",
                )
            assignee = agent["id"]
        resolution = values["resolution"] or ""
        if values["status"] == "Solved" and not resolution:
            raise FormError(
                "A ticket cannot be solved without a resolution note.", field="resolution"
            )
        changes = {
            "priority": values["priority"] or "",
            "group": group,
            "assignee": assignee,
            "status": values["status"],
            "resolution": resolution,
        }
        if all(ticket[k] == v for k, v in changes.items()):
            return success(state, "Nothing to save: the ticket is unchanged.")
        updated = {**ticket, **changes}
        return success(self._replace_ticket(state, updated), f"Ticket #{ticket['id']} updated.")

    def take_ticket(self, state: dict, tid: str) -> dict:
        """The row's Take button: assign the ticket to the signed-in agent."""
        ticket = by_id(state["tickets"], tid)
        me = by_id(state["agents"], state["me"])
        if not is_open(ticket):
            return error(state, f"Ticket #{tid} is closed or solved: it cannot be taken.")
        if ticket["group"] not in ("", me["group"]):
            return error(
                state, f"Ticket #{tid} belongs to {ticket['group']}: you are in {me['group']}."
            )
        if ticket["assignee"] == me["id"]:
            return error(state, f"Ticket #{tid} is yours already.")
        updated = {**ticket, "group": me["group"], "assignee": me["id"]}
        return success(self._replace_ticket(state, updated), f"You took ticket #{tid}.")

    def send_reply(self, state: dict, values: dict) -> dict:
        ticket = by_id(state["tickets"], state["open"])
        me = by_id(state["agents"], state["me"])["name"]
        comment = {"author": me, "kind": "reply", "text": values["message"]}
        updated = {**ticket, "comments": [*ticket["comments"], comment]}
        return success(self._replace_ticket(state, updated), "Reply sent.")

    def apply_macro(self, state: dict, values: dict) -> dict:
        ticket = by_id(state["tickets"], state["open"])
        reply, status, resolution = MACROS[values["macro"]]
        me = by_id(state["agents"], state["me"])["name"]
        comment = {"author": me, "kind": "reply", "text": reply}
        updated = {
            **ticket,
            "status": status,
            "resolution": resolution or ticket["resolution"],
            "comments": [*ticket["comments"], comment],
        }
        text = f"Macro {values['macro']} applied: reply sent, status {status}."
        return success(self._replace_ticket(state, updated), text)

    def ask_merge(self, state: dict, values: dict) -> dict:
        source = by_id(state["tickets"], state["open"])
        target_id = str(values["target"])
        if target_id == source["id"]:
            raise FormError("A ticket cannot be merged into itself.", field="target")
        target = next((t for t in state["tickets"] if t["id"] == target_id), None)
        if target is None:
            raise FormError(f"There is no ticket #{target_id}.", field="target")
        if target["merged_into"]:
            raise FormError(f"Ticket #{target_id} is closed: choose an open ticket.", "target")
        if target["org"] != source["org"]:
            names = {o["id"]: o["name"] for o in state["orgs"]}
            raise FormError(
                f"Tickets of different customers cannot be merged: #{source['id']} is "
                f"{names[source['org']]}'s, #{target_id} is {names[target['org']]}'s.",
                field="target",
            )
        message = (
            f"Merge #{source['id']} into #{target_id} ({target['subject']})? "
            f"#{source['id']} will be closed."
        )
        return CONFIRM_MERGE.open(state, message, {"source": source["id"], "target": target_id})

    def merge(self, state: dict, payload: dict) -> dict:
        source = by_id(state["tickets"], payload["source"])
        target = by_id(state["tickets"], payload["target"])
        me = by_id(state["agents"], state["me"])["name"]
        note = {"author": me, "kind": "note", "text": f"Merged from #{source['id']}."}
        closed = {
            **source,
            "merged_into": target["id"],
            "comments": [
                *source["comments"],
                {"author": me, "kind": "note", "text": f"Merged into #{target['id']}."},
            ],
        }
        state = self._replace_ticket(state, closed)
        state = self._replace_ticket(state, {**target, "comments": [*target["comments"], note]})
        state = success(state, f"#{source['id']} was merged into #{target['id']}.")
        return NOTICES.push(state, f"Ticket #{source['id']} is closed (merged).")

    def change_plan(self, state: dict, values: dict) -> dict:
        raise FormError(
            "You do not have permission to change a customer's plan: only account managers can."
        )
