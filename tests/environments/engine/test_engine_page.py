import json
import re

from environments.engine.page import (
    ROLES,
    Element,
    Page,
    page_to_axtree,
    page_to_html,
    page_to_json,
)
from tests.environments.engine.bank_steps import BANK, click, fill, signed_in

HOSTILE = "<script>alert(1)</script>"


def sample_page() -> Page:
    return Page(
        "Transfers",
        "/bank/transfers",
        [
            Element("navigation", "Main", children=[Element("link", "Accounts")]),
            Element("heading", "Make a transfer"),
            Element(
                "form",
                "Transfer",
                children=[
                    Element("select", "From", "Savings", options=["Checking", "Savings"]),
                    Element("number", "Amount", "", required=True),
                    Element("textbox", "Memo", "it's\nfine"),
                    Element("checkbox", "Recurring", checked=True),
                    Element("button", "Send", disabled=True),
                ],
            ),
            Element("table", "T", children=[Element("row", children=[Element("cell", "A")])]),
        ],
    )


def test_bids_go_to_interactive_elements_in_render_order():
    page = sample_page()
    assert [(el.bid, el.role) for el in page.interactive()] == [
        ("1", "link"),
        ("2", "select"),
        ("3", "number"),
        ("4", "textbox"),
        ("5", "checkbox"),
        ("6", "button"),
    ]
    assert all(el.bid is None for el in page.iter() if not el.interactive)
    assert page.get("3").name == "Amount"
    assert page.get("99") is None


def test_axtree_has_one_element_a_line_indented_by_depth():
    assert page_to_axtree(sample_page()) == "\n".join(
        [
            "page 'Transfers' url='/bank/transfers'",
            "  navigation 'Main'",
            "    [1] link 'Accounts'",
            "  heading 'Make a transfer'",
            "  form 'Transfer'",
            "    [2] select 'From' value='Savings' options=['Checking', 'Savings']",
            "    [3] number 'Amount' value='' required",
            "    [4] textbox 'Memo' value='it\\'s\\nfine'",
            "    [5] checkbox 'Recurring' checked=true",
            "    [6] button 'Send' disabled",
            "  table 'T'",
            "    row",
            "      cell 'A'",
        ]
    )


def test_json_keeps_what_the_actor_sees_and_is_serialisable():
    data = page_to_json(sample_page())
    assert json.loads(json.dumps(data)) == data
    form = data["elements"][2]
    assert form["children"][0] == {
        "role": "select",
        "bid": "2",
        "name": "From",
        "value": "Savings",
        "options": ["Checking", "Savings"],
    }
    assert form["children"][3]["checked"] is True
    assert form["children"][4]["disabled"] is True
    assert "key" not in json.dumps(data)


def test_html_escapes_every_text_and_marks_bids():
    page = Page(
        HOSTILE,
        "/x?a=<b>",
        [
            Element("heading", HOSTILE),
            Element("select", HOSTILE, HOSTILE, options=[HOSTILE, "ok"]),
            Element("textbox", HOSTILE, '"><img src=x onerror=alert(1)>'),
            Element("alert", HOSTILE),
            Element("section", HOSTILE, children=[Element("button", HOSTILE)]),
        ],
    )
    html = page_to_html(page)
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert re.findall(r'data-bid="(\d+)"', html) == ["1", "2", "3"]


def test_all_bank_pages_use_known_roles_and_render_the_same_twice():
    task = BANK.make_task("pay_bill", 1)
    state = signed_in(task)
    for page_name in BANK.navigation:
        s = BANK.step(state, f"goto('{page_name}')")
        first = BANK.render(s)
        again = BANK.build_page(json.loads(json.dumps(s)))
        assert {el.role for el in first.iter()} <= ROLES
        assert page_to_axtree(first) == page_to_axtree(again)
        assert page_to_html(first) == page_to_html(again)
        assert page_to_json(first) == page_to_json(again)


def test_a_hostile_payee_name_is_escaped_in_html_and_quoted_in_the_axtree():
    state = BANK.step(signed_in(BANK.make_task("transfer_funds", 3)), "goto('payees')")
    state = fill(state, "Payee name", HOSTILE)
    state = fill(state, "Account number", "12345678")
    state = fill(state, "Routing number", "021000021")
    state = click(state, "button", "Add payee")
    assert state["payees"][-1]["name"] == HOSTILE
    for page_name in ("payees", "transfers"):
        page = BANK.render(BANK.step(state, f"goto('{page_name}')"))
        html = page_to_html(page)
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert HOSTILE in page_to_axtree(page)


def test_find_helpers_search_by_role_name_and_substring():
    page = sample_page()
    form = page.find("form", "Transfer")
    assert form.find("button").name == "Send"
    assert page.find(role="textbox", contains="Mem").value == "it's\nfine"
    assert [el.role for el in page.find_all(contains="ransfer")] == ["heading", "form"]
    assert page.find("link", "Nope") is None
    assert form.text().startswith("Transfer From Amount")
