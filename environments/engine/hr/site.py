"""Enterprise HR portal's pages, written with the authoring kit: a contacts table (filters, sorting,
paging, an Archive button that asks first), a contact page with tabs and an edit form, a
two-step wizard to add a contact, and a faceted search."""

from __future__ import annotations

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
    Step,
    Tabs,
    Wizard,
    by_id,
    long_date,
    replace_record,
    success,
)
from environments.engine.page import Element, Page
from environments.engine.registry import register

from .solver import HrSolver
from .tasks import FAMILIES
from .world import CITIES, TIERS, build_world

NOTICES = Notifications()
CONTACTS = DataTable(
    "contacts",
    "Contacts",
    (
        Column("name", "Name"),
        Column("company", "Company"),
        Column("city", "City"),
        Column("tier", "Tier"),
        Column("since", "Customer since", long_date),
    ),
    filters=(
        Filter("name", "Name contains", "text"),
        Filter("city", "City"),
        Filter("tier", "Tier"),
    ),
    actions=(RowAction("Archive", "ask_archive"),),
    open="open_contact",
    sort=("name", False),
    noun="contacts",
)
ARCHIVE = ConfirmDialog("archive", "Archive this contact?", on_confirm="archive", confirm="Archive")
DETAIL_TABS = Tabs("detail", "Contact sections", ("Details", "Account"))
TIER_FORM = Form(
    "tier",
    "Change tier",
    (
        Field("tier", "New tier", "select", required=True, options=TIERS),
        Field("reason", "Reason", required=True, max_length=200),
    ),
    "Save tier",
    on_submit="change_tier",
)
NEW_CONTACT = Wizard(
    "new",
    "New contact",
    (
        Step(
            "Person",
            (
                Field("name", "Full name", required=True, max_length=80),
                Field("email", "Email", "email", required=True),
                Field("phone", "Phone", "phone"),
            ),
        ),
        Step(
            "Account",
            (
                Field("city", "City", "select", required=True, options=CITIES),
                Field("tier", "Tier", "select", required=True, options=TIERS),
                Field("since", "Customer since (YYYY-MM-DD)", "date", required=True),
            ),
        ),
    ),
    on_finish="add_contact",
    finish="Add contact",
)
SEARCH = FacetedSearch(
    "search",
    "Contacts",
    text_keys=("name", "company"),
    facets=(Facet("city", "City"), Facet("tier", "Tier")),
    result=lambda c: f"{c['name']}, {c['company']}",
    open="open_contact",
)
TITLES = {"contacts": "Contacts", "new": "New contact", "search": "Search", "contact": "Contact"}


def active(state: dict) -> list[dict]:
    return [c for c in state["contacts"] if c["status"] == "active"]


@register
class HrSite(KitSite):
    """Enterprise HR portal: one contact list per seed."""

    env_id = "hr"
    version = 1
    title = "Enterprise HR portal"
    start_page = "contacts"
    navigation = ("contacts", "new", "search")
    menu = NavMenu((("Contacts", "contacts"), ("New contact", "new"), ("Search", "search")))
    parts = (CONTACTS, ARCHIVE, DETAIL_TABS, TIER_FORM, NEW_CONTACT, SEARCH, NOTICES)
    families = FAMILIES
    # Test-split only (see splits.py): an evaluation reports these beside the trained ones.
    heldout_families = ("change_tier",)
    heldout_variants = ("mixed",)
    solver = HrSolver

    def build_world(self, seed: int) -> dict:
        return {**build_world(seed), "open": None}

    def build_page(self, state: dict) -> Page:
        name = state["page"]
        if name == "contacts":
            body = CONTACTS.render(state, active(state))
        elif name == "new":
            body = [NEW_CONTACT.render(state)]
        elif name == "search":
            body = SEARCH.render(state, active(state))
        else:
            body = self._contact(state)
        return self.layout(state, TITLES[name], body)

    def _contact(self, state: dict) -> list[Element]:
        contact = by_id(state["contacts"], state["open"])
        out = [Element("heading", contact["name"]), DETAIL_TABS.render(state)]
        if DETAIL_TABS.selected(state) == "Details":
            for label, key in (("Email", "email"), ("Phone", "phone"), ("Company", "company")):
                out.append(Element("text", f"{label}: {contact[key]}"))
            out.append(Element("text", f"City: {contact['city']}"))
        else:
            out.append(Element("text", f"Tier: {contact['tier']}"))
            out.append(Element("text", f"Customer since {long_date(contact['since'])}"))
            out.append(TIER_FORM.render(state))
        return out

    # Handlers the components call ----------------------------------------------------------

    def open_contact(self, state: dict, cid: str) -> dict:
        return {**state, "page": "contact", "open": cid, "form": {}, "alert": None}

    def ask_archive(self, state: dict, cid: str) -> dict:
        name = by_id(state["contacts"], cid)["name"]
        return ARCHIVE.open(state, f"Archive {name}? They leave the contact list.", {"id": cid})

    def archive(self, state: dict, payload: dict) -> dict:
        contact = by_id(state["contacts"], payload["id"])
        contacts = replace_record(state["contacts"], contact["id"], status="archived")
        return success({**state, "contacts": contacts}, f"{contact['name']} is archived.")

    def change_tier(self, state: dict, values: dict) -> dict:
        contact = by_id(state["contacts"], state["open"])
        if values["tier"] == contact["tier"]:
            raise FormError(f"{contact['name']} is already {contact['tier']}.", field="tier")
        contacts = replace_record(state["contacts"], contact["id"], tier=values["tier"])
        text = f"{contact['name']} is now {values['tier']}."
        return success({**state, "contacts": contacts}, text)

    def add_contact(self, state: dict, values: dict) -> dict:
        if values["since"] > state["today"]:
            raise FormError("Customer since cannot be in the future.", field="since")
        if any(c["email"] == values["email"] for c in state["contacts"]):
            raise FormError("A contact with this email exists already.", field="email")
        contact = {
            "id": f"c{len(state['contacts']) + 1}",
            **values,
            "company": "",
            "phone": values["phone"] or "",
            "status": "active",
        }
        state = success({**state, "contacts": [*state["contacts"], contact]}, "Contact added.")
        return NOTICES.push(state, f"{contact['name']} was added to your contacts.")
