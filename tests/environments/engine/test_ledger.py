"""The ledger environment (ledger-v1): every task family solvable by acting on pages, random
acting not enough, deterministic, the app's validation errors, verifiers that fail for the
right reason, and hostile text escaped."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

import environments.engine.ledger  # noqa: F401  registers ledger-v1
from environments.engine import (
    RandomPolicy,
    get_environment,
    page_to_axtree,
    page_to_html,
    page_to_json,
    run_episode,
)
from environments.engine.ledger import world as ledger_world
from environments.engine.ledger.books import periods, profit_and_loss
from environments.engine.ledger.formats import money, short_date
from environments.engine.page import Element, quote
from environments.engine.tasks import diff_records

LEDGER = get_environment("ledger-v1")
FAMILIES = sorted(LEDGER.families)
SEEDS = range(50)
DATA_KEYS = ("invoices", "bills", "feed", "customers", "vendors", "accounts")
HOSTILE = "<img src=x onerror=alert(1)>"


# --- driving the site by roles and names, as an agent would ------------------------------


def dump(state: dict) -> str:
    return json.dumps(state, sort_keys=True)


def find(state: dict, role: str, name: str, within: Element | None = None) -> Element:
    scope = within if within is not None else LEDGER.render(state)
    el = scope.find(role, name)
    assert el is not None, f"no {role} {name!r} on {LEDGER.render(state).url}"
    return el


def click(state: dict, role: str, name: str, within: Element | None = None) -> dict:
    return LEDGER.step(state, f"click({quote(find(state, role, name, within).bid)})")


def fill(state: dict, name: str, value: str, role: str = "textbox") -> dict:
    return LEDGER.step(state, f"fill({quote(find(state, role, name).bid)}, {quote(value)})")


def choose(state: dict, name: str, option: str) -> dict:
    el = find(state, "select", name)
    return LEDGER.step(state, f"select_option({quote(el.bid)}, {quote(option)})")


def goto(state: dict, page: str) -> dict:
    return LEDGER.step(state, f"goto({quote(page)})")


def alert(state: dict) -> str:
    el = LEDGER.render(state).find("alert")
    return el.name if el is not None else ""


def table_rows(state: dict, table: str) -> list[Element]:
    return find(state, "table", table).children[1:]


def open_line(state: dict, line: dict) -> dict:
    """Open a bank line's page from the bank feed (all lines, paging as needed)."""
    state = goto(state, "reconcile")
    state = choose(state, "Show", "All lines")
    state = click(state, "button", "Show lines")
    want = [short_date(line["date"]), line["description"], line["payee"], money(line["amount"])]
    while True:
        for row in table_rows(state, "Bank feed"):
            if [c.name for c in row.children[:4]] == want:
                return click(state, "button", row.find("button").name, within=row)
        state = click(state, "button", "Next page")


def match_to(state: dict, line: dict, option_prefix: str) -> dict:
    state = open_line(state, line)
    sel = find(state, "select", "Invoice" if line["amount"] > 0 else "Bill")
    option = next(o for o in sel.options if o.startswith(option_prefix))
    state = choose(state, sel.name, option)
    return click(state, "button", "Match")


def new_invoice(state: dict, customer: str, due: str, lines: list[tuple], number: str = "") -> dict:
    state = goto(state, "invoices")
    state = click(state, "button", "New invoice")
    state = choose(state, "Customer", customer)
    if number:
        state = fill(state, "Invoice number", number)
    state = fill(state, "Due date (YYYY-MM-DD)", due)
    for i, (desc, qty, unit) in enumerate(lines, 1):
        state = fill(state, f"Description {i}", desc)
        state = fill(state, f"Quantity {i}", qty, role="number")
        state = fill(state, f"Unit price {i}", unit, role="number")
    return state


def solve(family: str, seed: int, **changed_params) -> tuple:
    """Run the solver, optionally on altered params, and judge with the real task."""
    task = LEDGER.make_task(family, seed)
    acted = replace(task, params={**task.params, **changed_params}) if changed_params else task
    states, actions, _ = run_episode(LEDGER, acted, LEDGER.solver())
    return task, states, actions, LEDGER.evaluate(states[-1], task)


def failed(outcome) -> dict[str, str]:
    return {c.name: c.detail for c in outcome.failed()}


def same_data(a: dict, b: dict) -> bool:
    return not diff_records(a, b, DATA_KEYS)


# --- registration and solvability ---------------------------------------------------------


def test_ledger_is_registered_with_documented_families():
    assert get_environment("rlplatform/ledger-v1") is LEDGER
    assert get_environment("ledger") is LEDGER
    assert LEDGER.id == "ledger-v1"
    assert len(FAMILIES) >= 5
    for family in LEDGER.families.values():
        assert family.env == "ledger-v1"
        assert "verifier" in family.description, family.name


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_scripted_solver_succeeds(family, seed):
    task = LEDGER.make_task(family, seed)
    states, actions, outcome = run_episode(LEDGER, task, LEDGER.solver())
    assert outcome.success, outcome.failed()
    assert outcome.reward == 1.0
    assert states[-1]["finished"]
    assert len(actions) <= task.max_steps


def test_random_policy_rarely_succeeds(capsys):
    episodes = wins = 0
    for family in FAMILIES:
        for seed in range(20):
            task = LEDGER.make_task(family, seed)
            _, _, outcome = run_episode(LEDGER, task, RandomPolicy(seed), max_steps=40)
            episodes += 1
            wins += outcome.success
    with capsys.disabled():
        print(f"\nledger random policy: {wins}/{episodes} episodes succeeded")
    assert wins / episodes <= 0.02


def test_doing_nothing_never_succeeds():
    for family in FAMILIES:
        for seed in range(10):
            task = LEDGER.make_task(family, seed)
            assert not LEDGER.evaluate(LEDGER.reset(seed, task), task).success


def test_tasks_vary_with_the_seed():
    for family in FAMILIES:
        tasks = [LEDGER.make_task(family, seed) for seed in range(20)]
        # Questions vary in their answers (a month's net profit, the top customer).
        variants = {t.goal + json.dumps(t.params, sort_keys=True) for t in tasks}
        assert len(variants) >= 18, family
        goals = {t.goal for t in tasks}
        least = {"top_overdue_customer": 1, "categorise_payee": 8, "net_profit_month": 6}
        assert len(goals) >= least.get(family, 15), family


# --- determinism ---------------------------------------------------------------------------


def _trajectory(family: str, seed: int) -> tuple:
    task = LEDGER.make_task(family, seed)
    states, actions, outcome = run_episode(LEDGER, task, LEDGER.solver())
    pages = [LEDGER.render(s) for s in states]
    return (
        [dump(s) for s in states],
        actions,
        [page_to_axtree(p) for p in pages],
        [page_to_html(p) for p in pages],
        [json.dumps(page_to_json(p), sort_keys=True) for p in pages],
        outcome.to_dict(),
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_and_actions_give_identical_states_and_pages(family):
    for seed in (0, 13):
        first = _trajectory(family, seed)
        ledger_world._generate.cache_clear()  # rebuilt from the seed alone
        assert _trajectory(family, seed) == first


def test_random_actions_replay_identically():
    task = LEDGER.make_task("categorise_payee", 4)
    runs = []
    for _ in range(2):
        states, actions, _ = run_episode(LEDGER, task, RandomPolicy(9), max_steps=60)
        runs.append(([dump(s) for s in states], actions))
    assert runs[0] == runs[1]
    replayed = LEDGER.reset(4, task)
    for action in runs[0][1]:
        try:
            replayed = LEDGER.step(replayed, action)
        except ValueError:
            continue
    assert dump(replayed) == runs[0][0][-1]


def test_episodes_never_modify_the_cached_world():
    for family in FAMILIES:
        run_episode(LEDGER, LEDGER.make_task(family, 3), LEDGER.solver())
        run_episode(LEDGER, LEDGER.make_task(family, 3), RandomPolicy(1), max_steps=40)
    assert dump(ledger_world.build_world(3)) == dump(ledger_world._generate.__wrapped__(3))


def test_the_state_is_plain_json():
    state = LEDGER.reset(2)
    assert json.loads(json.dumps(state)) == state


# --- the app's validation errors ----------------------------------------------------------


def test_matching_a_different_amount_is_an_amount_mismatch():
    task = LEDGER.make_task("match_deposit", 5)
    start = LEDGER.reset(5, task)
    line = next(ln for ln in start["feed"] if ln["id"] == task.params["line_id"])
    wrong = next(
        i for i in start["invoices"] if i["status"] == "sent" and i["total"] != line["amount"]
    )
    state = match_to(start, line, wrong["number"])
    assert alert(state).startswith("Error: Amount mismatch")
    assert money(wrong["total"]) in alert(state)
    assert same_data(start, state)
    assert state["feed"] is start["feed"] and state["invoices"] is start["invoices"]


def test_a_partial_payment_matches_no_invoice():
    for seed in range(5):
        start = LEDGER.reset(seed)
        names = {c["id"]: c["name"] for c in start["customers"]}
        open_totals = {i["total"] for i in start["invoices"] if i["status"] == "sent"}
        partial = [
            ln
            for ln in start["feed"]
            if ln["status"] == "unreconciled" and ln["amount"] > 0 and ln["payee"] in names.values()
            if ln["amount"] not in open_totals
        ]
        assert partial, seed
        line = partial[0]
        own = next(
            i
            for i in start["invoices"]
            if i["status"] == "sent" and names[i["customer"]] == line["payee"]
        )
        state = match_to(start, line, own["number"])
        assert "Amount mismatch" in alert(state)
        assert same_data(start, state)


def test_duplicate_invoice_number_is_refused():
    start = LEDGER.reset(1)
    existing = start["invoices"][0]["number"]
    customer = start["customers"][0]["name"]
    state = new_invoice(start, customer, "2030-01-31", [("Logo design", "1", "400")], existing)
    state = click(state, "button", "Save and send")
    assert alert(state).startswith("Error: Invoice number " + existing + " is already used")
    assert state["invoices"] is start["invoices"]
    assert state["page"] == "invoice_new"
    # Case does not make a number new.
    state = fill(state, "Invoice number", existing.lower())
    state = click(state, "button", "Save and send")
    assert "already used" in alert(state)
    assert state["invoices"] is start["invoices"]


def test_an_invoice_needs_line_items():
    start = LEDGER.reset(2)
    state = new_invoice(start, start["customers"][1]["name"], "2030-01-31", [])
    state = click(state, "button", "Save as draft")
    assert "at least one line item" in alert(state)
    assert state["invoices"] is start["invoices"]
    # A half-typed line is named.
    state = fill(state, "Description 2", "SEO audit")
    state = click(state, "button", "Save as draft")
    assert alert(state) == "Error: Line 2: the quantity must be a whole number from 1 to 10,000."
    state = fill(state, "Quantity 2", "1.5", role="number")
    state = click(state, "button", "Save as draft")
    assert "Line 2: the quantity" in alert(state)
    assert state["invoices"] is start["invoices"]


@pytest.mark.parametrize(
    ("issued", "due", "message"),
    [
        (None, "2024-02-30", "Error: Enter the due date as YYYY-MM-DD"),
        (None, "next week", "Error: Enter the due date as YYYY-MM-DD"),
        ("13/45/2024", "2030-01-01", "Error: Enter the issue date as YYYY-MM-DD"),
        ("2030-02-01", "2030-01-01", "Error: The due date cannot be before the issue date."),
    ],
)
def test_invalid_invoice_dates_are_refused(issued, due, message):
    start = LEDGER.reset(3)
    state = new_invoice(start, start["customers"][0]["name"], due, [("SEO audit", "1", "500")])
    if issued is not None:
        state = fill(state, "Issue date (YYYY-MM-DD)", issued)
    state = click(state, "button", "Save and send")
    assert alert(state).startswith(message)
    assert state["invoices"] is start["invoices"]


def test_a_valid_invoice_is_saved_with_its_totals():
    start = LEDGER.reset(3)
    customer = start["customers"][2]
    state = new_invoice(
        start, customer["name"], "2030-01-31", [("Logo design", "2", "450.00"), ("SEO", "1", "99")]
    )
    state = choose(state, "Tax rate 1", "8.25%")
    assert "Subtotal $999.00, tax $74.25, total $1,073.25" in page_to_axtree(LEDGER.render(state))
    state = click(state, "button", "Save and send")
    assert alert(state).startswith("Success: Invoice")
    inv = state["invoices"][-1]
    assert (inv["customer"], inv["status"], inv["due"], inv["issued"]) == (
        customer["id"],
        "sent",
        "2030-01-31",
        start["today"],
    )
    assert (inv["subtotal"], inv["tax"], inv["total"]) == (99900, 7425, 107325)
    assert state["bills"] is start["bills"] and state["feed"] is start["feed"]


def test_duplicate_bill_from_the_same_vendor_is_refused():
    start = LEDGER.reset(6)
    bill = start["bills"][0]
    vendor = next(v for v in start["vendors"] if v["id"] == bill["vendor"])
    state = goto(start, "bills")
    state = click(state, "button", "New bill")
    state = choose(state, "Vendor", vendor["name"])
    state = fill(state, "Bill number", bill["number"])
    state = fill(state, "Due date (YYYY-MM-DD)", "2030-01-01")
    state = fill(state, "Amount", "120.00", role="number")
    state = click(state, "button", "Save bill")
    assert alert(state).startswith(f"Error: Bill {bill['number']} from {vendor['name']} is already")
    assert state["bills"] is start["bills"]


def _matched_state(seed: int) -> tuple[dict, dict]:
    """A state where the match_deposit task's line has just been matched (page still open)."""
    task, states, _, outcome = solve("match_deposit", seed)
    assert outcome.success
    return task.params, states[-2]


def test_categorising_a_matched_line_is_refused():
    params, state = _matched_state(7)
    assert state["page"] == "bank_line"
    state = choose(state, "Category", "Office supplies")
    state = click(state, "button", "Categorise")
    assert alert(state).startswith("Error: This line is already matched to invoice")
    line = next(ln for ln in state["feed"] if ln["id"] == params["line_id"])
    assert (line["status"], line["doc"], line["account"]) == ("matched", params["doc_id"], None)


def test_bulk_categorising_a_matched_bill_payment_is_refused():
    start = LEDGER.reset(8)
    state = goto(start, "expenses")
    state = choose(state, "Show", "All spending")
    state = click(state, "button", "Apply filter")
    row = next(
        r for r in table_rows(state, "Spending") if r.children[5].name.startswith("Matched to bill")
    )
    state = LEDGER.step(state, f"check({quote(row.find('checkbox').bid)})")
    state = choose(state, "Category", "Rent")
    state = click(state, "button", "Categorise selected")
    assert "is already matched to bill" in alert(state)
    assert "Nothing was categorised" in alert(state)
    assert state["feed"] is start["feed"]


def test_match_then_unmatch_restores_the_books():
    _, state = _matched_state(9)
    start = LEDGER.reset(9)
    assert not same_data(start, state)
    state = click(state, "button", "Unmatch")
    assert alert(state).startswith("Success: Unmatched")
    assert same_data(start, state)


# --- verifiers fail for the right reason --------------------------------------------------


def _twin_case(seed: int) -> tuple | None:
    """A deposit task whose line has a same-amount open invoice of another customer."""
    task = LEDGER.make_task("match_deposit", seed)
    start = LEDGER.reset(seed, task)
    line = next(ln for ln in start["feed"] if ln["id"] == task.params["line_id"])
    twins = [
        i
        for i in start["invoices"]
        if i["status"] == "sent"
        and i["total"] == line["amount"]
        and i["id"] != task.params["doc_id"]
    ]
    return (task, start, line, twins[0]) if twins else None


def test_matching_the_look_alike_invoice_fails():
    cases = [c for c in (_twin_case(s) for s in range(30)) if c is not None]
    assert len(cases) >= 5
    for task, start, line, twin in cases[:5]:
        state = match_to(start, line, twin["number"])
        assert alert(state).startswith("Success: Matched")  # the app cannot know
        outcome = LEDGER.evaluate(state, task)
        assert not outcome.success
        why = failed(outcome)
        assert twin["number"] in why["line_matched"]
        assert "document_paid" in why
        assert f"invoices {twin['id']} status changed" in why["no_collateral_damage"]


def test_matching_the_look_alike_vendors_bill_fails():
    checked = 0
    for seed in range(40):
        task = LEDGER.make_task("match_bill_payment", seed)
        start = LEDGER.reset(seed, task)
        line = next(ln for ln in start["feed"] if ln["id"] == task.params["line_id"])
        others = [
            b
            for b in start["bills"]
            if b["status"] == "open"
            and b["amount"] == -line["amount"]
            and b["id"] != task.params["doc_id"]
        ]
        if not others:
            continue
        vendor = next(v["name"] for v in start["vendors"] if v["id"] == others[0]["vendor"])
        state = match_to(start, line, f"{vendor} · {others[0]['number']}")
        outcome = LEDGER.evaluate(state, task)
        assert not outcome.success
        assert others[0]["number"] in failed(outcome)["line_matched"]
        checked += 1
    assert checked >= 3


def test_invoice_with_a_wrong_amount_fails():
    task = LEDGER.make_task("create_invoice", 11)
    lines = [dict(ln) for ln in task.params["lines"]]
    lines[0]["unit"] += 100
    _, _, _, outcome = solve("create_invoice", 11, lines=lines)
    why = failed(outcome)
    assert "line_items" in why and "missing" in why["line_items"]
    assert "total" in why
    assert "no_collateral_damage" not in why


def test_invoice_with_the_wrong_status_or_due_date_fails():
    task = LEDGER.make_task("create_invoice", 12)
    flipped = "draft" if task.params["status"] == "sent" else "sent"
    _, _, _, outcome = solve("create_invoice", 12, status=flipped)
    assert set(failed(outcome)) == {"status"}
    _, _, _, outcome = solve("create_invoice", 12, due="2031-01-01")
    assert set(failed(outcome)) == {"due_date"}


def test_an_extra_invoice_is_collateral_damage():
    task, states, actions, outcome = solve("create_invoice", 14)
    assert outcome.success
    state = states[-2]  # saved, not yet answered
    for action in actions[:-1]:  # the same invoice again: the form suggests a fresh number
        state = LEDGER.step(state, action)
    outcome = LEDGER.evaluate(state, task)
    why = failed(outcome)
    assert why["one_new_invoice"] == "2 invoices were added, expected 1"


def test_bill_from_the_look_alike_vendor_or_for_a_wrong_amount_fails():
    for seed in range(30):
        task = LEDGER.make_task("record_bill", seed)
        stem = task.params["vendor"].split()[0]
        vendors = LEDGER.reset(seed)["vendors"]
        twins = [v for v in vendors if v["name"].startswith(stem + " ")]
        if len(twins) == 2:
            break
    twin = next(v for v in twins if v["id"] != task.params["vendor_id"])
    _, _, _, outcome = solve("record_bill", seed, vendor=twin["name"])
    assert set(failed(outcome)) == {"vendor"}
    assert task.params["vendor"] in failed(outcome)["vendor"]
    _, _, _, outcome = solve("record_bill", seed, amount=task.params["amount"] + 1)
    assert set(failed(outcome)) == {"amount"}


def test_a_bill_plus_an_unasked_categorisation_fails():
    task, states, _, outcome = solve("record_bill", 15)
    assert outcome.success
    state = goto(states[-2], "expenses")
    row = table_rows(state, "Spending")[0]
    state = LEDGER.step(state, f"check({quote(row.find('checkbox').bid)})")
    state = choose(state, "Category", "Travel")
    state = click(state, "button", "Categorise selected")
    assert alert(state).startswith("Success: Categorised 1 line")
    why = failed(LEDGER.evaluate(state, task))
    assert set(why) == {"no_collateral_damage"}
    assert "feed" in why["no_collateral_damage"]


def test_recategorising_older_lines_of_the_payee_fails():
    for seed in range(200):
        task = LEDGER.make_task("categorise_payee", seed)
        start = LEDGER.reset(seed, task)
        older = [
            ln
            for ln in start["feed"]
            if ln["payee"] == task.params["payee"]
            and ln["status"] == "categorised"
            and ln["account"] != task.params["account_id"]
        ]
        if older:
            break
    _, states, _, outcome = solve("categorise_payee", seed)
    assert outcome.success
    state = goto(states[-2], "expenses")
    state = fill(state, "Payee contains", task.params["payee"])
    state = choose(state, "Show", "All spending")
    state = click(state, "button", "Apply filter")
    for row in table_rows(state, "Spending"):
        if row.children[3].name == task.params["payee"]:
            state = LEDGER.step(state, f"check({quote(row.find('checkbox').bid)})")
    state = choose(state, "Category", task.params["category"])
    state = click(state, "button", "Categorise selected")
    why = failed(LEDGER.evaluate(state, task))
    assert set(why) == {"no_collateral_damage"}
    assert older[0]["id"] in why["no_collateral_damage"]


def test_categorising_only_some_lines_fails():
    for seed in range(40):
        task = LEDGER.make_task("categorise_payee", seed)
        if len(task.params["line_ids"]) > 1:
            break
    start = LEDGER.reset(seed, task)
    line = next(ln for ln in start["feed"] if ln["id"] == task.params["line_ids"][0])
    state = open_line(start, line)
    state = choose(state, "Category", task.params["category"])
    state = click(state, "button", "Categorise")
    assert alert(state).startswith("Success: Categorised")
    why = failed(LEDGER.evaluate(state, task))
    assert set(why) == {"lines_categorised"}
    assert task.params["line_ids"][1] in why["lines_categorised"]


def _answer(family: str, seed: int, text: str):
    task = LEDGER.make_task(family, seed)
    state = LEDGER.reset(seed, task)
    state = LEDGER.step(state, f"send_msg_to_user({quote(text)})")
    return task, LEDGER.evaluate(state, task)


def test_wrong_amount_answers_fail():
    task = LEDGER.make_task("net_profit_month", 16)
    net = task.params["net"]
    assert _answer("net_profit_month", 16, money(net))[1].success
    _, outcome = _answer("net_profit_month", 16, money(net + 1))
    assert "expected" in failed(outcome)["answer"]
    _, outcome = _answer("net_profit_month", 16, f"{money(net)} or maybe {money(net + 500)}")
    assert "give one" in failed(outcome)["answer"]
    task = LEDGER.make_task("category_spend_quarter", 16)
    spent = task.params["amount"]
    assert _answer("category_spend_quarter", 16, f"about {money(spent)}")[1].success
    _, outcome = _answer("category_spend_quarter", 16, money(spent + 100))
    assert not outcome.success


def test_wrong_customer_answer_fails():
    task = LEDGER.make_task("top_overdue_customer", 17)
    top = task.params["customers"][0]
    assert _answer("top_overdue_customer", 17, f"  {top.upper()}. ")[1].success
    other = next(c["name"] for c in LEDGER.reset(17)["customers"] if c["name"] != top)
    _, outcome = _answer("top_overdue_customer", 17, other)
    assert top in failed(outcome)["answer"]
    _, outcome = _answer("top_overdue_customer", 17, f"{top} or {other}")
    assert not outcome.success


def test_changing_the_books_spoils_a_question():
    task, states, _, outcome = solve("net_profit_month", 18)
    assert outcome.success
    start = LEDGER.reset(18, task)
    state = LEDGER.step(start, "goto('expenses')")
    row = table_rows(state, "Spending")[0]
    state = LEDGER.step(state, f"check({quote(row.find('checkbox').bid)})")
    state = choose(state, "Category", "Meals")
    state = click(state, "button", "Categorise selected")
    state = LEDGER.step(state, f"send_msg_to_user({quote(states[-1]['answer'])})")
    assert set(failed(LEDGER.evaluate(state, task))) == {"no_collateral_damage"}


# --- reports agree with themselves ---------------------------------------------------------


def test_quarter_profit_is_the_sum_of_its_months():
    for seed in range(10):
        books = LEDGER.reset(seed)
        months = {p[1][:7]: p for p in periods(books) if not p[0].startswith("Q")}
        for label, start, end in periods(books):
            if not label.startswith("Q"):
                continue
            parts = [months[k] for k in sorted(months) if start <= months[k][1] <= end]
            total = sum(profit_and_loss(books, p[1], p[2])["net"] for p in parts)
            assert profit_and_loss(books, start, end)["net"] == total


# --- hostile text ------------------------------------------------------------------------


def test_hostile_text_is_escaped_in_html():
    start = LEDGER.reset(19)
    number = '"><b>x</b>'
    state = new_invoice(
        start, start["customers"][0]["name"], "2030-01-31", [(HOSTILE, "1", "10")], number
    )
    state = click(state, "button", "Save and send")
    assert state["page"] == "invoice", alert(state)
    html = page_to_html(LEDGER.render(state))
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&quot;&gt;&lt;b&gt;x&lt;/b&gt;" in html
    assert f"cell {quote(HOSTILE)}" in page_to_axtree(LEDGER.render(state))
    state = goto(state, "invoices")
    assert "<b>" not in page_to_html(LEDGER.render(state))


def test_a_line_marked_matched_to_no_document_fails_without_an_error():
    # A state the site never makes; the checker's one-change probes do.
    task = LEDGER.make_task("match_deposit", 3)
    state = LEDGER.reset(3, task)
    feed = [
        {**ln, "status": "matched", "doc": None} if ln["id"] == task.params["line_id"] else ln
        for ln in state["feed"]
    ]
    outcome = LEDGER.evaluate({**state, "feed": feed}, task)
    assert not outcome.success
    assert failed(outcome)["line_matched"] == (
        f"the line is matched to no document, not invoice {task.params['doc_number']}"
    )
