"""The authoring kit's components, driven through the engine's actions as an agent would: each
validation message, server-side errors, wizards, dialogs, tabs, sorting, filters, paging,
faceted search, notifications and menus; the seeded world helpers; the solver helpers."""

from __future__ import annotations

import json

import pytest

from environments.engine import ActionError, page_to_axtree, page_to_html, page_to_json
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
    WorldRandom,
    by_id,
    money,
    replace_record,
    success,
)
from environments.engine.kit.solve import fill_form, need, seek_row
from environments.engine.page import Element, Page, quote
from environments.engine.policies import ScriptedSolver, send
from environments.engine.tasks import Task

CITIES = ("Austin", "Boulder", "Madison")
NOTICES = Notifications()
ORDER = Form(
    "order",
    "Place an order",
    (
        Field("name", "Name", required=True, max_length=20),
        Field("email", "Email", "email", required=True),
        Field("phone", "Phone", "phone"),
        Field("qty", "Quantity", "number", minimum=1, maximum=9),
        Field("budget", "Budget", "money", minimum=5_00),
        Field("when", "Delivery date", "date", minimum="2024-03-01", maximum="2024-03-31"),
        Field("code", "Code", pattern=r"[A-Z]{3}-\d{2}", pattern_message="Code looks like ABC-12."),
        Field("city", "City", "select", required=True, options=CITIES, placeholder="Pick a city"),
        Field("terms", "I accept the terms", "checkbox", required=True),
    ),
    "Place order",
    on_submit="place_order",
)
SIGNUP = Wizard(
    "signup",
    "Sign up",
    (
        Step("You", (Field("name", "Name", required=True),)),
        Step("Contact", (Field("email", "Email", "email", required=True),)),
    ),
    on_finish="sign_up",
    finish="Create account",
)
PEOPLE = DataTable(
    "people",
    "People",
    (
        Column("name", "Name"),
        Column("city", "City"),
        Column("balance", "Balance", money),
    ),
    page_size=5,
    filters=(Filter("city", "City"), Filter("name", "Name contains", "text")),
    actions=(RowAction("Remove", "ask_remove"),),
    open="open_person",
    noun="people",
)
REMOVE = ConfirmDialog("remove", "Remove this person?", on_confirm="remove", confirm="Remove")
FIND = FacetedSearch(
    "find",
    "People",
    text_keys=("name",),
    facets=(Facet("city", "City"), Facet("tier", "Tier")),
    result=lambda r: f"{r['name']} ({r['city']})",
    open="open_person",
    page_size=4,
)
TABS = Tabs("tabs", "Sections", ("Overview", "History"))


class Shop(KitSite):
    env_id = "kitshop"
    version = 1
    title = "Kit Shop"
    start_page = "people"
    navigation = ("people", "order", "signup", "find", "person")
    menu = NavMenu(
        (
            ("People", "people"),
            ("Order", "order"),
            ("More", (("Sign up", "signup"), ("Find", "find"))),
        )
    )
    parts = (ORDER, SIGNUP, PEOPLE, REMOVE, FIND, TABS, NOTICES)

    def build_world(self, seed: int) -> dict:
        w = WorldRandom(seed, "kitshop")
        people = [
            {
                "id": f"p{i}",
                "name": person["name"],
                "city": w.choice(CITIES),
                "tier": w.choice(("Gold", "Silver")),
                "balance": w.amount(0, 900_00),
            }
            for i, person in enumerate(w.people(12), start=1)
        ]
        return {"people": people, "orders": [], "accounts": [], "opened": None}

    def build_page(self, state: dict) -> Page:
        name = state["page"]
        if name == "people":
            body = PEOPLE.render(state, state["people"])
        elif name == "order":
            body = [ORDER.render(state)]
        elif name == "signup":
            body = [SIGNUP.render(state)]
        elif name == "find":
            body = FIND.render(state, state["people"])
        else:
            body = [TABS.render(state), Element("text", f"Tab: {TABS.selected(state)}")]
        return self.layout(state, name.capitalize(), body)

    def place_order(self, state: dict, values: dict) -> dict:
        if values["name"] == "Blocked":
            raise FormError("This customer cannot order.", field="name")
        if values["qty"] == 7:
            raise FormError("We are out of stock.")
        order = {"id": f"o{len(state['orders']) + 1}", **values}
        return NOTICES.push(
            success({**state, "orders": [*state["orders"], order]}, "Ordered."), "Order received"
        )

    def sign_up(self, state: dict, values: dict) -> dict:
        account = {"id": f"a{len(state['accounts']) + 1}", **values}
        return success({**state, "accounts": [*state["accounts"], account]}, "Welcome!")

    def ask_remove(self, state: dict, rid: str) -> dict:
        person = by_id(state["people"], rid)
        return REMOVE.open(state, f"Remove {person['name']}? This cannot be undone.", {"id": rid})

    def remove(self, state: dict, payload: dict) -> dict:
        people = [p for p in state["people"] if p["id"] != payload["id"]]
        return success({**state, "people": people}, "Removed.")

    def open_person(self, state: dict, rid: str) -> dict:
        return {**state, "opened": rid, "people": replace_record(state["people"], rid)}


SHOP = Shop()


def el(state: dict, role: str, name: str) -> Element:
    found = SHOP.render(state).find(role, name)
    assert found is not None, f"no {role} {name!r}:\n{page_to_axtree(SHOP.render(state))}"
    return found


def click(state: dict, role: str, name: str) -> dict:
    return SHOP.step(state, f"click({quote(el(state, role, name).bid)})")


def fill(state: dict, name: str, value: str) -> dict:
    target = SHOP.render(state).find("textbox", name) or SHOP.render(state).find("number", name)
    assert target is not None, name
    return SHOP.step(state, f"fill({quote(target.bid)}, {quote(value)})")


def alerts(state: dict) -> list[str]:
    return [a.name for a in SHOP.render(state).find_all("alert")]


def body_rows(state: dict, table: str = "People") -> list[list[str]]:
    rows = el(state, "table", table).children[1:]
    return [[c.name or c.text() for c in row.children[:3]] for row in rows]


@pytest.fixture
def start() -> dict:
    return SHOP.reset(3)


@pytest.fixture
def order_page(start) -> dict:
    return SHOP.step(start, "goto('order')")


def valid_order(state: dict) -> dict:
    state = fill(state, "Name", "Ada")
    state = fill(state, "Email", "Ada@Example.com")
    state = SHOP.step(state, f"select_option({quote(el(state, 'select', 'City').bid)}, 'Boulder')")
    return SHOP.step(state, f"check({quote(el(state, 'checkbox', 'I accept the terms').bid)})")


# --- forms ---------------------------------------------------------------------------------


def test_an_empty_form_names_every_required_field(order_page):
    state = click(order_page, "button", "Place order")
    assert alerts(state) == [
        "Error: 4 fields need attention.",
        "Name is required. Enter a value.",
        "Email is required. Enter a value.",
        "City is required. Choose a value.",
        "I accept the terms must be ticked.",
    ]
    assert state["orders"] == []


@pytest.mark.parametrize(
    ("label", "typed", "message"),
    [
        ("Name", "x" * 21, "Name must be at most 20 characters."),
        ("Email", "ada@", "Email must be an email address like name@example.com."),
        ("Phone", "call me", "Phone must be a phone number like 555-123-4567."),
        ("Quantity", "two", "Quantity must be a whole number."),
        ("Quantity", "\u0661\u0662", "Quantity must be a whole number."),
        ("Quantity", "0", "Quantity cannot be less than 1."),
        ("Quantity", "10", "Quantity cannot be more than 9."),
        ("Budget", "12.345", "Budget must be an amount like 25.00."),
        ("Budget", "4.99", "Budget cannot be less than $5.00."),
        ("Delivery date", "03/05/2024", "Delivery date must be a date as YYYY-MM-DD."),
        ("Delivery date", "2024-02-30", "Delivery date must be a date as YYYY-MM-DD."),
        ("Delivery date", "2024-02-29", "Delivery date cannot be before March 1, 2024."),
        ("Delivery date", "2024-04-01", "Delivery date cannot be after March 31, 2024."),
        ("Code", "abc-12", "Code looks like ABC-12."),
    ],
)
def test_each_format_error_shows_beside_its_field(order_page, label, typed, message):
    state = fill(valid_order(order_page), label, typed)
    state = click(state, "button", "Place order")
    assert alerts(state) == ["Error: 1 field needs attention.", message]
    form = el(state, "form", "Place an order").children
    field_at = next(i for i, c in enumerate(form) if c.name == label)
    assert form[field_at + 1].role == "alert"
    assert state["orders"] == []


def test_a_valid_form_calls_the_handler_with_cleaned_values_and_empties(order_page):
    state = valid_order(order_page)
    for label, typed in [
        ("Quantity", " 3 "),
        ("Budget", "$1,250.5"),
        ("Delivery date", "2024-03-09"),
        ("Code", "ABC-12"),
        ("Phone", "+1 (555) 123-4567"),
    ]:
        state = fill(state, label, typed)
    state = click(state, "button", "Place order")
    assert alerts(state) == ["Success: Ordered."]
    (order,) = state["orders"]
    assert order == {
        "id": "o1",
        "name": "Ada",
        "email": "ada@example.com",
        "phone": "+1 (555) 123-4567",
        "qty": 3,
        "budget": 125050,
        "when": "2024-03-09",
        "code": "ABC-12",
        "city": "Boulder",
        "terms": True,
    }
    assert el(state, "textbox", "Name").value == ""
    assert not [k for k in state["form"] if k.startswith("order.")]


def test_server_side_errors_show_on_the_field_or_the_page(order_page):
    state = click(fill(valid_order(order_page), "Name", "Blocked"), "button", "Place order")
    assert alerts(state) == ["Error: This customer cannot order.", "This customer cannot order."]
    assert el(state, "textbox", "Name").value == "Blocked"  # what was typed is kept
    state = click(fill(valid_order(order_page), "Quantity", "7"), "button", "Place order")
    assert alerts(state) == ["Error: We are out of stock."]
    assert state["orders"] == []


# --- wizard --------------------------------------------------------------------------------


def test_a_wizard_validates_each_step_keeps_values_going_back_and_finishes(start):
    state = SHOP.step(start, "goto('signup')")
    assert el(state, "form", "Sign up").children[0].name == "Step 1 of 2: You"
    state = click(state, "button", "Continue")
    assert alerts(state) == ["Error: 1 field needs attention.", "Name is required. Enter a value."]
    state = click(fill(state, "Name", "Ada"), "button", "Continue")
    assert el(state, "form", "Sign up").children[0].name == "Step 2 of 2: Contact"
    assert alerts(state) == []
    state = click(state, "button", "Back")
    assert el(state, "textbox", "Name").value == "Ada"
    state = click(state, "button", "Continue")
    state = click(fill(state, "Email", "nope"), "button", "Create account")
    assert "Email must be an email address like name@example.com." in alerts(state)
    state = click(fill(state, "Email", "ada@example.com"), "button", "Create account")
    assert state["accounts"] == [{"id": "a1", "name": "Ada", "email": "ada@example.com"}]
    assert el(state, "form", "Sign up").children[0].name == "Step 1 of 2: You"


def test_leaving_the_page_abandons_a_wizard(start):
    state = SHOP.step(start, "goto('signup')")
    state = click(fill(state, "Name", "Ada"), "button", "Continue")
    state = SHOP.step(SHOP.step(state, "goto('people')"), "goto('signup')")
    assert el(state, "form", "Sign up").children[0].name == "Step 1 of 2: You"


# --- tables and dialogs --------------------------------------------------------------------


def test_a_table_pages_five_rows_at_a_time(start):
    assert el(start, "text", "Page 1 of 3 (12 people)")
    assert el(start, "button", "Previous page").disabled
    state = click(click(start, "button", "Next page"), "button", "Next page")
    assert el(state, "text", "Page 3 of 3 (12 people)")
    assert len(body_rows(state)) == 2 and el(state, "button", "Next page").disabled
    with pytest.raises(ActionError, match="disabled"):
        click(state, "button", "Next page")
    names = [r[0] for r in body_rows(start)]
    assert names == [p["name"] for p in start["people"][:5]]


def test_sorting_a_column_then_reversing_it(start):
    state = click(start, "button", "Sort by Balance")
    balances = [p["balance"] for p in start["people"]]
    assert [r[2] for r in body_rows(state)] == [money(b) for b in sorted(balances)[:5]]
    assert el(state, "cell", "Balance (ascending)")
    state = click(state, "button", "Sort by Balance")
    assert [r[2] for r in body_rows(state)] == [money(b) for b in sorted(balances)[::-1][:5]]
    assert el(state, "cell", "Balance (descending)")


def test_filters_apply_together_and_clear(start):
    city = start["people"][0]["city"]
    state = SHOP.step(
        start, f"select_option({quote(el(start, 'select', 'City').bid)}, {quote(city)})"
    )
    state = click(state, "button", "Apply filters")
    expected = [p["name"] for p in start["people"] if p["city"] == city]
    assert [r[0] for r in body_rows(state)] == expected[:5]
    assert el(state, "text", f"Page 1 of {-(-len(expected) // 5)} ({len(expected)} people)")
    assert el(state, "select", "City").value == city
    fragment = start["people"][0]["name"].split()[1][:3].lower()
    state = click(fill(state, "Name contains", fragment), "button", "Apply filters")
    both = [
        p["name"] for p in start["people"] if p["city"] == city and fragment in p["name"].lower()
    ]
    assert [r[0] for r in body_rows(state)] == both[:5]
    state = click(state, "button", "Clear filters")
    assert el(state, "text", "Page 1 of 3 (12 people)")


def test_a_select_filter_first_offers_every_value_named_in_the_plural(start):
    assert el(start, "select", "City").options[0] == "All cities"
    city = start["people"][0]["city"]
    state = SHOP.step(
        start, f"select_option({quote(el(start, 'select', 'City').bid)}, {quote(city)})"
    )
    state = click(state, "button", "Apply filters")
    assert all(row[1] == city for row in body_rows(state))
    state = SHOP.step(
        state, f"select_option({quote(el(state, 'select', 'City').bid)}, 'All cities')"
    )
    state = click(state, "button", "Apply filters")
    assert el(state, "text", "Page 1 of 3 (12 people)")
    assert el(state, "select", "City").value == "All cities"


def test_a_row_action_asks_first_and_the_dialog_is_modal(start):
    target = start["people"][1]
    row = el(start, "table", "People").children[2]
    state = SHOP.step(start, f"click({quote(row.find('button', 'Remove').bid)})")
    page = SHOP.render(state)
    assert page.find("section", "Remove this person?") is not None
    assert page.find("text", f"Remove {target['name']}? This cannot be undone.") is not None
    assert page.find("table") is None and page.find("navigation") is not None
    cancelled = click(state, "button", "Cancel")
    assert cancelled["people"] is start["people"] and el(cancelled, "table", "People")
    state = click(state, "button", "Remove")
    assert alerts(state) == ["Success: Removed."]
    assert target["id"] not in {p["id"] for p in state["people"]}
    assert len(state["people"]) == 11


def test_leaving_the_page_closes_a_dialog(start):
    row = el(start, "table", "People").children[1]
    state = SHOP.step(start, f"click({quote(row.find('button', 'Remove').bid)})")
    state = SHOP.step(state, "goto('people')")
    assert SHOP.render(state).find("section", "Remove this person?") is None
    assert len(state["people"]) == 12


def test_the_first_column_links_to_the_record(start):
    first = start["people"][0]
    state = click(start, "link", first["name"])
    assert state["opened"] == first["id"]


# --- search, tabs, notifications, menu -----------------------------------------------------


def test_faceted_search_counts_and_filters_at_once(start):
    state = SHOP.step(start, "goto('find')")
    people = start["people"]
    for city in CITIES:
        count = sum(p["city"] == city for p in people)
        assert el(state, "checkbox", f"{city} ({count})")
    city = people[0]["city"]
    box = next(b for b in SHOP.render(state).find_all("checkbox") if b.name.startswith(city))
    state = SHOP.step(state, f"check({quote(box.bid)})")
    in_city = [p for p in people if p["city"] == city]
    assert el(state, "text", f"{len(in_city)} results; page 1 of {-(-len(in_city) // 4)}")
    gold = sum(p["tier"] == "Gold" for p in in_city)
    assert el(state, "checkbox", f"Gold ({gold})")  # counts follow the other facets
    assert el(state, "checkbox", f"{city} ({len(in_city)})").checked
    query = people[0]["name"].split()[0]
    state = click(fill(state, "Search people", query), "button", "Search")
    wanted = [p for p in in_city if query.casefold() in p["name"].casefold()]
    links = [item.children[0].name for item in el(state, "list", "People").children]
    assert links == [f"{p['name']} ({p['city']})" for p in wanted][:4]
    state = click(state, "link", links[0])
    assert state["opened"] == wanted[0]["id"]


def test_tabs_switch_and_the_selected_one_is_disabled(start):
    state = SHOP.step(start, "goto('person')")
    assert el(state, "button", "Overview").disabled and el(state, "text", "Tab: Overview")
    state = click(state, "button", "History")
    assert el(state, "text", "Tab: History") and el(state, "button", "History").disabled


def test_notifications_stay_until_dismissed(order_page):
    state = click(valid_order(order_page), "button", "Place order")
    state = SHOP.step(state, "goto('people')")
    notes = el(state, "section", "Notifications")
    assert [item.name for item in notes.find_all("listitem")] == ["Order received"]
    state = click(state, "button", "Dismiss")
    assert SHOP.render(state).find("section", "Notifications") is None


def test_the_menu_links_go_to_pages_and_submenus_nest(start):
    state = click(start, "link", "Find")
    assert state["page"] == "find"
    menu = el(state, "navigation", "Main menu")
    assert [c.name for c in menu.children] == ["People", "Order", "More"]
    assert menu.children[2].find("list", "More").find("link", "Sign up")


def test_every_renderer_shows_a_kit_page(start):
    page = SHOP.render(click(start, "button", "Sort by Name"))
    html = page_to_html(page)
    assert 'data-bid="1"' in html and "<table>" in html and "Name (ascending)" in html
    assert json.loads(json.dumps(page_to_json(page)))["elements"][0]["role"] == "navigation"
    assert "[1] link 'People'" in page_to_axtree(page)


# --- world and solver helpers --------------------------------------------------------------


def test_world_helpers_are_deterministic_per_seed_and_salt():
    def draw(seed: int, salt: str) -> list:
        w = WorldRandom(seed, salt)
        return [
            w.people(5),
            w.companies(3),
            w.address(),
            w.amount(1_00, 50_00, step=100),
            w.today(),
            w.date_between("2024-01-01", "2024-02-01"),
            w.ident("INV-", 4),
            w.sentence(),
        ]

    assert draw(1, "a") == draw(1, "a")
    assert draw(1, "a") != draw(2, "a") and draw(1, "a") != draw(1, "b")
    people = WorldRandom(4).people(60)
    assert len({p["name"] for p in people}) == 60
    assert all(p["email"].endswith(".example") or "@example.com" in p["email"] for p in people)
    amount = WorldRandom(5).amount(1_50, 9_00, step=100)
    assert amount % 100 == 0 and 2_00 <= amount <= 9_00


def test_solver_helpers_find_rows_across_pages_and_fill_forms_by_label(start):
    last = start["people"][-1]["name"]  # on the third page

    class Solver(ScriptedSolver):
        def script(self, task, page):
            page, row = yield from seek_row(page, "People", Name=last)
            assert row["City"].name in CITIES
            page = yield "goto('order')"
            values = {
                "Name": "Ada",
                "Email": "a@b.co",
                "City": "Austin",
                "I accept the terms": True,
            }
            page = yield from fill_form(page, "Place an order", values, submit="Place order")
            need(page, "alert", "Success: Ordered.")
            yield send("done")

    solver, state = Solver(), start
    task = Task("kitshop-v1", "none", 3, {}, "", 20)
    solver.reset(task)
    while not state["finished"]:
        state = SHOP.step(state, solver.act(task, SHOP.render(state)))
    assert state["ui"]["people"]["page"] == 3  # it paged to the row
    assert state["orders"][0]["city"] == "Austin"


def test_leaving_the_page_clears_a_forms_error_messages(order_page):
    state = click(order_page, "button", "Place order")
    assert len(alerts(state)) == 5
    state = SHOP.step(SHOP.step(state, "goto('people')"), "goto('order')")
    assert alerts(state) == []
