"""The bank's pages and what each click does.

Besides the base keys, the state holds the data from `world.build_world` and the session:
`signed_in`, `view` (history filters and page, the open statement or disputed transaction) and
`pending` (a transfer waiting for confirmation).
"""

from __future__ import annotations

from datetime import date, timedelta

from ..base import Environment
from ..page import Element, Page
from ..registry import register
from ..text import ascii_digits
from .families import FAMILIES
from .formats import long_date, money, month_label, parse_date, parse_money, plain, short_date
from .solver import BankSolver
from .world import DISPUTE_REASONS, NOT_DISPUTABLE, build_world, routing_checksum_ok

BANK_NAME = "Northwind Bank"
PAGE_SIZE = 10
SCHEDULE_DAYS = 90
TRANSFER_LIMIT = 25_000_00
ATM_MAX = 1_000_00
DAILY_MAX = 10_000_00
NAV = {
    "accounts": "Accounts",
    "history": "Activity",
    "transfers": "Transfers",
    "payees": "Payees",
    "billpay": "Bill pay",
    "cards": "Cards",
    "statements": "Statements",
}
TITLES = {
    "signin": "Sign in",
    "transfer_review": "Review transfer",
    "statement": "Statement",
    "dispute": "Dispute a charge",
    **{page: label if page != "history" else "Account activity" for page, label in NAV.items()},
}
CHOOSE_ACCOUNT = "Choose an account"
CHOOSE_TARGET = "Choose an account or payee"
CHOOSE_BILLER = "Choose a biller"
CHOOSE_REASON = "Choose a reason"
ALL_MONTHS = "All months"
ALL_CATEGORIES = "All categories"
HISTORY_DEFAULTS = {"acct": "chk", "q": "", "month": "", "cat": "", "pg": 1}


def account_label(acct: dict) -> str:
    return f"{acct['name']} ••{acct['number'][-4:]}"


def payee_label(payee: dict) -> str:
    return f"{payee['name']} ••{payee['account'][-4:]}"


def biller_label(biller: dict) -> str:
    return f"{biller['name']} ••{biller['number'][-4:]}"


def card_label(card: dict) -> str:
    return f"{card['kind'].capitalize()} card ••{card['last4']}"


def _by_id(records: list[dict], rid: str) -> dict:
    for rec in records:
        if rec["id"] == rid:
            return rec
    raise KeyError(rid)


def _replace(records: list[dict], rid: str, **changes: object) -> list[dict]:
    """A new list with one record replaced by an updated copy; the others are shared."""
    return [{**r, **changes} if r["id"] == rid else r for r in records]


def _error(state: dict, text: str, **changes: object) -> dict:
    return {**state, "alert": ["error", text], **changes}


def _success(state: dict, text: str, **changes: object) -> dict:
    return {**state, "alert": ["success", text], **changes}


def _text(name: str) -> Element:
    return Element("text", name)


def _row(*cells: str) -> Element:
    return Element("row", children=[Element("cell", c) for c in cells])


def _table(name: str, header: list[str], rows: list[Element]) -> Element:
    return Element("table", name, children=[_row(*header), *rows])


@register
class BankSite(Environment):
    """An online bank: sign-in, accounts, activity with filters, transfers, payees, bill pay,
    cards and statements. One customer per seed, six months of seeded history."""

    env_id = "bank"
    version = 1
    title = BANK_NAME
    start_page = "signin"
    navigation = tuple(NAV)
    families = FAMILIES
    solver = BankSolver
    # Near neighbours of trained families (a statement read like an activity search; a
    # dispute found like a purchase), so a test score says whether the skill transferred.
    heldout_families = ("statement_balance", "dispute_charge")
    heldout_variants = ("mixed",)

    def build_world(self, seed: int) -> dict:
        return build_world(seed)

    # --- pages ----------------------------------------------------------------------------

    def build_page(self, state: dict) -> Page:
        name = state["page"]
        body: list[Element] = []
        if state["signed_in"]:
            body.append(self._nav())
        body.append(Element("heading", TITLES[name]))
        if state["alert"]:
            kind, text = state["alert"]
            body.append(Element("alert", f"{'Error' if kind == 'error' else 'Success'}: {text}"))
        body.extend(getattr(self, f"_page_{name}")(state, state["form"]))
        return Page(f"{TITLES[name]} - {BANK_NAME}", self._url(state), body)

    def _url(self, state: dict) -> str:
        name, view = state["page"], state["view"]
        if name == "statement":
            return f"/bank/statements/{view['stmt']}"
        if name == "dispute":
            return f"/bank/history/{view['txn']}/dispute"
        if name == "transfer_review":
            return "/bank/transfers/review"
        return self.page_url(name)

    def _nav(self) -> Element:
        links = [Element("link", label, key=f"nav:{page}") for page, label in NAV.items()]
        links.append(Element("button", "Sign out", key="signout"))
        return Element("navigation", "Main menu", children=links)

    def _page_signin(self, state: dict, form: dict) -> list[Element]:
        return [
            _text(f"Welcome to {BANK_NAME}. Sign in to manage your accounts."),
            Element(
                "form",
                "Sign in",
                children=[
                    Element(
                        "textbox", "Username", form.get("si.user", ""), key="si.user", required=True
                    ),
                    Element(
                        "textbox", "Password", form.get("si.pass", ""), key="si.pass", required=True
                    ),
                    Element("button", "Sign in", key="signin"),
                ],
            ),
            Element("link", "Forgot your password?", key="forgot"),
        ]

    def _page_accounts(self, state: dict, form: dict) -> list[Element]:
        user = state["user"]["name"].split()[0]
        rows = [
            Element(
                "row",
                children=[
                    Element(
                        "cell", children=[Element("link", acct["name"], key=f"acct:{acct['id']}")]
                    ),
                    Element("cell", "••" + acct["number"][-4:]),
                    Element("cell", acct["kind"].capitalize()),
                    Element("cell", money(acct["balance"])),
                ],
            )
            for acct in state["accounts"]
        ]
        return [
            _text(f"Welcome back, {user}. Today is {long_date(state['today'])}."),
            _table("Your accounts", ["Account", "Number", "Type", "Balance"], rows),
            _text("Credit card balances below zero are the amount you owe."),
        ]

    # Activity -------------------------------------------------------------------------

    def _activity(self, state: dict, acct_id: str) -> list[list]:
        """An account's transactions, newest first: [id, date, description, category, amount,
        disputable]. Transfers made in this session appear on top, dated today."""
        rows = []
        for tr in reversed(state["transfers"]):
            if tr["from"] == acct_id:
                to = self._target_name(state, tr["to"])
                rows.append(
                    [tr["id"], tr["date"], f"Transfer to {to}", "Transfers", -tr["amount"], False]
                )
            elif tr["to"] == acct_id:
                src = _by_id(state["accounts"], tr["from"])["name"]
                rows.append(
                    [tr["id"], tr["date"], f"Transfer from {src}", "Transfers", tr["amount"], False]
                )
        disputed = {d["txn"] for d in state["disputes"]}
        for tid, acct, d, desc, cat, amount in reversed(state["txns"]):
            if acct == acct_id:
                ok = amount < 0 and cat not in NOT_DISPUTABLE and tid not in disputed
                rows.append([tid, d, desc, cat, amount, ok])
        return rows

    def _months(self, state: dict) -> list[str]:
        """Month keys with history, newest first."""
        return sorted({t[2][:7] for t in state["txns"]}, reverse=True)

    def _categories(self, state: dict) -> list[str]:
        return sorted({t[4] for t in state["txns"]})

    def _page_history(self, state: dict, form: dict) -> list[Element]:
        view = {**HISTORY_DEFAULTS, **state["view"]}
        accounts = state["accounts"]
        acct = _by_id(accounts, view["acct"])
        q, month, cat = view["q"].casefold(), view["month"], view["cat"]
        rows = [
            r
            for r in self._activity(state, acct["id"])
            if (not month or r[1].startswith(month))
            and (not cat or r[3] == cat)
            and (not q or q in r[2].casefold())
        ]
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        pg = min(view["pg"], pages)
        shown = rows[(pg - 1) * PAGE_SIZE : pg * PAGE_SIZE]
        disputed = {d["txn"] for d in state["disputes"]}
        table_rows = []
        for tid, d, desc, category, amount, disputable in shown:
            if disputable:
                action = [Element("button", "Dispute", key=f"dispute:{tid}")]
                status = ""
            else:
                action, status = [], "Disputed" if tid in disputed else ""
            table_rows.append(
                Element(
                    "row",
                    children=[
                        Element("cell", short_date(d)),
                        Element("cell", desc),
                        Element("cell", category),
                        Element("cell", money(amount)),
                        Element("cell", status, children=action),
                    ],
                )
            )
        month_options = [ALL_MONTHS] + [month_label(m) for m in self._months(state)]
        cat_options = [ALL_CATEGORIES, *self._categories(state)]
        if rows:
            summary = (
                f"Showing {(pg - 1) * PAGE_SIZE + 1}-{(pg - 1) * PAGE_SIZE + len(shown)} "
                f"of {len(rows)} transactions"
            )
        else:
            summary = "No transactions match these filters."
        return [
            Element(
                "form",
                "Filter activity",
                children=[
                    Element(
                        "select",
                        "Account",
                        form.get("h.acct", account_label(acct)),
                        options=[account_label(a) for a in accounts],
                        key="h.acct",
                    ),
                    Element("textbox", "Search description", form.get("h.q", view["q"]), key="h.q"),
                    Element(
                        "select",
                        "Month",
                        form.get("h.month", month_label(month) if month else ALL_MONTHS),
                        options=month_options,
                        key="h.month",
                    ),
                    Element(
                        "select",
                        "Category",
                        form.get("h.cat", cat or ALL_CATEGORIES),
                        options=cat_options,
                        key="h.cat",
                    ),
                    Element("button", "Apply filters", key="h.apply"),
                    Element("button", "Clear filters", key="h.clear"),
                ],
            ),
            _text(f"{account_label(acct)}: balance {money(acct['balance'])}"),
            _text(summary),
            _table("Transactions", ["Date", "Description", "Category", "Amount", ""], table_rows),
            Element("button", "Previous page", key="h.prev", disabled=pg <= 1),
            _text(f"Page {pg} of {pages}"),
            Element("button", "Next page", key="h.next", disabled=pg >= pages),
        ]

    def _page_dispute(self, state: dict, form: dict) -> list[Element]:
        tid = state["view"]["txn"]
        _, acct_id, d, desc, _, amount = next(t for t in state["txns"] if t[0] == tid)
        acct = _by_id(state["accounts"], acct_id)
        return [
            _text(f"Date: {short_date(d)}"),
            _text(f"Description: {desc}"),
            _text(f"Amount: {money(amount)}"),
            _text(f"Account: {account_label(acct)}"),
            Element(
                "form",
                "Dispute details",
                children=[
                    Element(
                        "select",
                        "Reason",
                        form.get("d.reason", CHOOSE_REASON),
                        options=[CHOOSE_REASON, *DISPUTE_REASONS],
                        key="d.reason",
                        required=True,
                    ),
                    Element("textbox", "Details (optional)", form.get("d.note", ""), key="d.note"),
                    Element("button", "Submit dispute", key="d.submit"),
                    Element("button", "Cancel", key="d.cancel"),
                ],
            ),
        ]

    # Transfers and payees -------------------------------------------------------------

    def _target_name(self, state: dict, target: str) -> str:
        for acct in state["accounts"]:
            if acct["id"] == target:
                return acct["name"]
        return _by_id(state["payees"], target)["name"]

    def _from_options(self, state: dict) -> dict[str, str]:
        """Label -> account id of the accounts money can leave (not the credit card)."""
        return {account_label(a): a["id"] for a in state["accounts"] if a["kind"] != "credit"}

    def _to_options(self, state: dict) -> dict[str, str]:
        out = {account_label(a): a["id"] for a in state["accounts"]}
        out.update((payee_label(p), p["id"]) for p in state["payees"])
        return out

    def _page_transfers(self, state: dict, form: dict) -> list[Element]:
        rows = [
            _row(
                short_date(t["date"]),
                _by_id(state["accounts"], t["from"])["name"],
                self._target_name(state, t["to"]),
                money(t["amount"]),
                t["id"],
            )
            for t in reversed(state["transfers"])
        ]
        balances = [_row(a["name"], money(a["balance"])) for a in state["accounts"]]
        return [
            _text("Move money between your accounts, or send it to a payee you have added."),
            Element(
                "form",
                "Make a transfer",
                children=[
                    Element(
                        "select",
                        "From",
                        form.get("t.from", CHOOSE_ACCOUNT),
                        options=[CHOOSE_ACCOUNT, *self._from_options(state)],
                        key="t.from",
                        required=True,
                    ),
                    Element(
                        "select",
                        "To",
                        form.get("t.to", CHOOSE_TARGET),
                        options=[CHOOSE_TARGET, *self._to_options(state)],
                        key="t.to",
                        required=True,
                    ),
                    Element(
                        "number", "Amount", form.get("t.amount", ""), key="t.amount", required=True
                    ),
                    Element("textbox", "Memo (optional)", form.get("t.memo", ""), key="t.memo"),
                    Element("button", "Review transfer", key="t.review"),
                ],
            ),
            _table("Balances", ["Account", "Balance"], balances),
            _table("Transfers made today", ["Date", "From", "To", "Amount", "Confirmation"], rows)
            if rows
            else _text("No transfers made today."),
        ]

    def _page_transfer_review(self, state: dict, form: dict) -> list[Element]:
        p = state["pending"]
        src = _by_id(state["accounts"], p["from"])
        items = [
            f"From: {account_label(src)}",
            f"To: {p['to_label']}",
            f"Amount: {money(p['amount'])}",
            f"Date: {long_date(state['today'])} (today)",
        ]
        if p["memo"]:
            items.append(f"Memo: {p['memo']}")
        return [
            _text("Check the details. Money leaves your account as soon as you confirm."),
            Element("list", children=[Element("listitem", i) for i in items]),
            Element("button", "Confirm transfer", key="t.confirm"),
            Element("button", "Edit transfer", key="t.edit"),
        ]

    def _page_payees(self, state: dict, form: dict) -> list[Element]:
        rows = [_row(p["name"], "••" + p["account"][-4:], p["routing"]) for p in state["payees"]]
        return [
            _table("Your payees", ["Name", "Account", "Routing number"], rows),
            Element(
                "form",
                "Add a payee",
                children=[
                    Element(
                        "textbox", "Payee name", form.get("p.name", ""), key="p.name", required=True
                    ),
                    Element(
                        "textbox",
                        "Account number",
                        form.get("p.account", ""),
                        key="p.account",
                        required=True,
                    ),
                    Element(
                        "textbox",
                        "Routing number",
                        form.get("p.routing", ""),
                        key="p.routing",
                        required=True,
                    ),
                    Element("button", "Add payee", key="p.add"),
                ],
            ),
        ]

    # Bill pay ---------------------------------------------------------------------------

    def _biller_options(self, state: dict) -> dict[str, str]:
        return {biller_label(b): b["id"] for b in state["billers"]}

    def _page_billpay(self, state: dict, form: dict) -> list[Element]:
        billers = [
            _row(b["name"], "••" + b["number"][-4:], money(b["due"]), short_date(b["due_date"]))
            for b in state["billers"]
        ]
        scheduled = []
        for p in state["payments"]:
            biller = _by_id(state["billers"], p["biller"])
            active = p["status"] == "scheduled"
            scheduled.append(
                Element(
                    "row",
                    children=[
                        Element("cell", biller["name"]),
                        Element("cell", _by_id(state["accounts"], p["account"])["name"]),
                        Element("cell", money(p["amount"])),
                        Element("cell", short_date(p["date"])),
                        Element("cell", p["status"].capitalize()),
                        Element(
                            "cell",
                            children=[
                                Element("button", "Cancel payment", key=f"b.cancel:{p['id']}")
                            ]
                            if active
                            else [],
                        ),
                    ],
                )
            )
        return [
            _text(
                f"Today is {long_date(state['today'])}. Payments can be scheduled up to "
                f"{SCHEDULE_DAYS} days ahead."
            ),
            _table("Your billers", ["Biller", "Account", "Amount due", "Due date"], billers),
            Element(
                "form",
                "Schedule a payment",
                children=[
                    Element(
                        "select",
                        "Pay to",
                        form.get("b.biller", CHOOSE_BILLER),
                        options=[CHOOSE_BILLER, *self._biller_options(state)],
                        key="b.biller",
                        required=True,
                    ),
                    Element(
                        "select",
                        "Pay from",
                        form.get("b.from", CHOOSE_ACCOUNT),
                        options=[CHOOSE_ACCOUNT, *self._from_options(state)],
                        key="b.from",
                        required=True,
                    ),
                    Element(
                        "number", "Amount", form.get("b.amount", ""), key="b.amount", required=True
                    ),
                    Element(
                        "textbox",
                        "Payment date (YYYY-MM-DD)",
                        form.get("b.date", ""),
                        key="b.date",
                        required=True,
                    ),
                    Element("button", "Schedule payment", key="b.submit"),
                ],
            ),
            _table(
                "Scheduled payments", ["Biller", "From", "Amount", "Date", "Status", ""], scheduled
            ),
        ]

    # Cards ------------------------------------------------------------------------------

    def _page_cards(self, state: dict, form: dict) -> list[Element]:
        out = [
            _text("Freezing a card declines new purchases and withdrawals until you unfreeze it.")
        ]
        for card in state["cards"]:
            cid = card["id"]
            acct = _by_id(state["accounts"], card["account"])
            fields = [
                _text(f"Card holder: {card['holder']}"),
                _text(f"Linked account: {account_label(acct)}"),
                _text("Status: Frozen" if card["frozen"] else "Status: Active"),
                Element("checkbox", "Freeze card", checked=card["frozen"], key=f"c.freeze:{cid}"),
            ]
            if card["atm_limit"] is not None:
                fields.append(
                    Element(
                        "number",
                        "ATM withdrawal limit (per day)",
                        form.get(f"c.atm:{cid}", plain(card["atm_limit"])),
                        key=f"c.atm:{cid}",
                    )
                )
            fields.append(
                Element(
                    "number",
                    "Daily purchase limit",
                    form.get(f"c.daily:{cid}", plain(card["daily_limit"])),
                    key=f"c.daily:{cid}",
                )
            )
            fields.append(Element("button", "Save limits", key=f"c.save:{cid}"))
            out.append(Element("section", card_label(card), children=fields))
        return out

    # Statements -------------------------------------------------------------------------

    def _page_statements(self, state: dict, form: dict) -> list[Element]:
        out = [_text("Monthly statements for your accounts, newest first.")]
        for acct in state["accounts"]:
            links = [
                Element(
                    "listitem",
                    children=[
                        Element(
                            "link", f"{month_label(s['month'])} statement", key=f"stmt:{s['id']}"
                        )
                    ],
                )
                for s in reversed(state["statements"])
                if s["account"] == acct["id"]
            ]
            out.append(
                Element("section", account_label(acct), children=[Element("list", children=links)])
            )
        return out

    def _page_statement(self, state: dict, form: dict) -> list[Element]:
        s = _by_id(state["statements"], state["view"]["stmt"])
        acct = _by_id(state["accounts"], s["account"])
        first = s["month"] + "-01"
        y, m = int(s["month"][:4]), int(s["month"][5:])
        last = (date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)).isoformat()
        return [
            _text(f"{account_label(acct)}: {month_label(s['month'])} statement"),
            _text(f"Statement period: {short_date(first)} to {short_date(last)}"),
            _table(
                "Summary",
                ["Item", "Amount"],
                [
                    _row("Opening balance", money(s["opening"])),
                    _row("Deposits and credits", money(s["credits"])),
                    _row("Withdrawals and debits", money(s["debits"])),
                    _row("Closing balance", money(s["closing"])),
                ],
            ),
            Element("button", "View these transactions", key="stmt.view"),
            Element("link", "Back to statements", key="nav:statements"),
        ]

    # --- actions --------------------------------------------------------------------------

    def on_goto(self, state: dict, page: str) -> dict:
        if not state["signed_in"]:
            return _error(state, "Please sign in to continue.", page="signin", form={})
        return {**state, "page": page, "form": {}, "alert": None, "view": {}, "pending": None}

    def on_fill(self, state: dict, element: Element, value: str) -> dict:
        return {**state, "form": {**state["form"], element.key: value}, "alert": None}

    def on_select(self, state: dict, element: Element, option: str) -> dict:
        return {**state, "form": {**state["form"], element.key: option}, "alert": None}

    def on_check(self, state: dict, element: Element, checked: bool) -> dict:
        # The freeze switch acts at once, like the banking apps it imitates.
        cid = element.key.split(":", 1)[1]
        card = _by_id(state["cards"], cid)
        cards = _replace(state["cards"], cid, frozen=checked)
        if checked:
            text = f"Card ••{card['last4']} is frozen: new purchases and withdrawals are declined."
        else:
            text = f"Card ••{card['last4']} is active again."
        return _success(state, text, cards=cards)

    def on_click(self, state: dict, element: Element) -> dict:
        verb, _, arg = element.key.partition(":")
        return getattr(self, "_do_" + verb.replace(".", "_"))(state, arg)

    # Session and navigation -------------------------------------------------------------

    def _do_nav(self, state: dict, page: str) -> dict:
        return self.on_goto(state, page)

    def _do_signin(self, state: dict, _: str) -> dict:
        form, user = state["form"], state["user"]
        if (
            form.get("si.user", "").strip() == user["username"]
            and form.get("si.pass") == user["password"]
        ):
            return {**state, "signed_in": True, "page": "accounts", "form": {}, "alert": None}
        return _error(
            state,
            "Incorrect username or password. Check them and try again.",
            form={"si.user": form.get("si.user", "")},
        )

    def _do_forgot(self, state: dict, _: str) -> dict:
        return _error(state, "Password reset is not available online. Call us at 1-800-555-0199.")

    def _do_signout(self, state: dict, _: str) -> dict:
        return _success(
            state,
            "You have signed out.",
            signed_in=False,
            page="signin",
            form={},
            view={},
            pending=None,
        )

    def _do_acct(self, state: dict, acct_id: str) -> dict:
        return {
            **state,
            "page": "history",
            "form": {},
            "alert": None,
            "view": {**HISTORY_DEFAULTS, "acct": acct_id},
        }

    # Activity ---------------------------------------------------------------------------

    def _history_view(self, state: dict) -> dict:
        return {**HISTORY_DEFAULTS, **state["view"]}

    def _do_h_apply(self, state: dict, _: str) -> dict:
        form, view = state["form"], self._history_view(state)
        acct = view["acct"]
        if "h.acct" in form:
            acct = next(a["id"] for a in state["accounts"] if account_label(a) == form["h.acct"])
        month = view["month"]
        if "h.month" in form:
            labels = {month_label(m): m for m in self._months(state)}
            month = labels.get(form["h.month"], "")
        cat = view["cat"]
        if "h.cat" in form:
            cat = "" if form["h.cat"] == ALL_CATEGORIES else form["h.cat"]
        new_view = {
            "acct": acct,
            "q": form.get("h.q", view["q"]).strip(),
            "month": month,
            "cat": cat,
            "pg": 1,
        }
        return {**state, "view": new_view, "form": {}, "alert": None}

    def _do_h_clear(self, state: dict, _: str) -> dict:
        acct = self._history_view(state)["acct"]
        return {**state, "view": {**HISTORY_DEFAULTS, "acct": acct}, "form": {}, "alert": None}

    def _do_h_prev(self, state: dict, _: str) -> dict:
        view = self._history_view(state)
        return {**state, "view": {**view, "pg": view["pg"] - 1}, "alert": None}

    def _do_h_next(self, state: dict, _: str) -> dict:
        view = self._history_view(state)
        return {**state, "view": {**view, "pg": view["pg"] + 1}, "alert": None}

    def _do_dispute(self, state: dict, tid: str) -> dict:
        view = {**self._history_view(state), "txn": tid}
        return {**state, "page": "dispute", "view": view, "form": {}, "alert": None}

    def _do_d_cancel(self, state: dict, _: str) -> dict:
        return {**state, "page": "history", "form": {}, "alert": None}

    def _do_d_submit(self, state: dict, _: str) -> dict:
        form, tid = state["form"], state["view"]["txn"]
        reason = form.get("d.reason", CHOOSE_REASON)
        if reason == CHOOSE_REASON:
            return _error(state, "Choose a reason for the dispute.")
        _, _, d, desc, _, amount = next(t for t in state["txns"] if t[0] == tid)
        did = f"d{len(state['disputes']) + 1}"
        dispute = {"id": did, "txn": tid, "reason": reason, "note": form.get("d.note", "").strip()}
        return _success(
            state,
            f"Dispute {did} opened for the {money(-amount)} charge from {desc} on "
            f"{short_date(d)}. We will reply within 10 business days.",
            disputes=[*state["disputes"], dispute],
            page="history",
            form={},
        )

    # Transfers --------------------------------------------------------------------------

    def _do_t_review(self, state: dict, _: str) -> dict:
        form = state["form"]
        sources, targets = self._from_options(state), self._to_options(state)
        src = sources.get(form.get("t.from", ""))
        dst = targets.get(form.get("t.to", ""))
        if src is None:
            return _error(state, "Choose the account to transfer from.")
        if dst is None:
            return _error(state, "Choose where to send the money.")
        if src == dst:
            return _error(state, "The From and To accounts must be different.")
        amount = parse_money(form.get("t.amount", ""))
        if not amount:
            return _error(state, "Enter an amount greater than zero, such as 250.00.")
        if amount > TRANSFER_LIMIT:
            return _error(state, f"Transfers are limited to {money(TRANSFER_LIMIT)} each.")
        acct = _by_id(state["accounts"], src)
        if amount > acct["balance"]:
            return _error(
                state, f"Insufficient funds: {acct['name']} has {money(acct['balance'])} available."
            )
        pending = {
            "from": src,
            "to": dst,
            "to_label": form["t.to"],
            "amount": amount,
            "memo": form.get("t.memo", "").strip(),
        }
        return {**state, "page": "transfer_review", "pending": pending, "form": {}, "alert": None}

    def _do_t_edit(self, state: dict, _: str) -> dict:
        p = state["pending"]
        src = _by_id(state["accounts"], p["from"])
        form = {
            "t.from": account_label(src),
            "t.to": p["to_label"],
            "t.amount": plain(p["amount"]),
            "t.memo": p["memo"],
        }
        return {**state, "page": "transfers", "pending": None, "form": form, "alert": None}

    def _do_t_confirm(self, state: dict, _: str) -> dict:
        p = state["pending"]
        tid = f"T{len(state['transfers']) + 1}"
        transfer = {
            "id": tid,
            "from": p["from"],
            "to": p["to"],
            "amount": p["amount"],
            "memo": p["memo"],
            "date": state["today"],
        }
        accounts = [
            {**a, "balance": a["balance"] - p["amount"]}
            if a["id"] == p["from"]
            else {**a, "balance": a["balance"] + p["amount"]}
            if a["id"] == p["to"]
            else a
            for a in state["accounts"]
        ]
        src = _by_id(state["accounts"], p["from"])
        return _success(
            state,
            f"Transfer {tid} complete: {money(p['amount'])} from {src['name']} to "
            f"{self._target_name(state, p['to'])}.",
            page="transfers",
            pending=None,
            form={},
            transfers=[*state["transfers"], transfer],
            accounts=accounts,
        )

    def _do_p_add(self, state: dict, _: str) -> dict:
        form = state["form"]
        name = " ".join(form.get("p.name", "").split())
        number = form.get("p.account", "").replace(" ", "").replace("-", "")
        routing = form.get("p.routing", "").strip()
        if not name:
            return _error(state, "Enter the payee's name.")
        if len(name) > 60:
            return _error(state, "Payee names are at most 60 characters.")
        if not (ascii_digits(number) and 4 <= len(number) <= 17):
            return _error(state, "Account numbers are 4 to 17 digits.")
        if not (ascii_digits(routing) and len(routing) == 9):
            return _error(state, "Routing numbers are 9 digits.")
        if not routing_checksum_ok(routing):
            return _error(state, f"Routing number {routing} is not valid: check the digits.")
        for p in state["payees"]:
            if p["name"].casefold() == name.casefold() and p["account"] == number:
                return _error(state, f"{name} is already a payee with that account number.")
        payee = {
            "id": f"y{len(state['payees']) + 1}",
            "name": name,
            "account": number,
            "routing": routing,
        }
        return _success(
            state,
            f"Added {name} as a payee. You can send them money from Transfers.",
            payees=[*state["payees"], payee],
            form={},
        )

    # Bill pay ---------------------------------------------------------------------------

    def _do_b_submit(self, state: dict, _: str) -> dict:
        form = state["form"]
        biller = self._biller_options(state).get(form.get("b.biller", ""))
        src = self._from_options(state).get(form.get("b.from", ""))
        if biller is None:
            return _error(state, "Choose a biller to pay.")
        if src is None:
            return _error(state, "Choose the account to pay from.")
        amount = parse_money(form.get("b.amount", ""))
        if not amount:
            return _error(state, "Enter an amount greater than zero, such as 84.50.")
        when = parse_date(form.get("b.date", ""))
        if when is None:
            return _error(state, "Enter the payment date as YYYY-MM-DD, for example 2024-07-15.")
        today = date.fromisoformat(state["today"])
        latest = today + timedelta(days=SCHEDULE_DAYS)
        if not today <= when <= latest:
            return _error(
                state,
                f"Choose a payment date from {long_date(today.isoformat())} to "
                f"{long_date(latest.isoformat())}.",
            )
        acct = _by_id(state["accounts"], src)
        if amount > acct["balance"]:
            return _error(
                state, f"Insufficient funds: {acct['name']} has {money(acct['balance'])} available."
            )
        pid = f"p{len(state['payments']) + 1}"
        payment = {
            "id": pid,
            "biller": biller,
            "account": src,
            "amount": amount,
            "date": when.isoformat(),
            "status": "scheduled",
        }
        name = _by_id(state["billers"], biller)["name"]
        return _success(
            state,
            f"Payment {pid} of {money(amount)} to {name} is scheduled for "
            f"{long_date(payment['date'])}.",
            payments=[*state["payments"], payment],
            form={},
        )

    def _do_b_cancel(self, state: dict, pid: str) -> dict:
        p = _by_id(state["payments"], pid)
        name = _by_id(state["billers"], p["biller"])["name"]
        return _success(
            state,
            f"Cancelled the {money(p['amount'])} payment to {name} on {long_date(p['date'])}.",
            payments=_replace(state["payments"], pid, status="cancelled"),
        )

    # Cards ------------------------------------------------------------------------------

    def _do_c_save(self, state: dict, cid: str) -> dict:
        form, card = state["form"], _by_id(state["cards"], cid)
        changes = {}
        if card["atm_limit"] is not None:
            atm = parse_money(form.get(f"c.atm:{cid}", plain(card["atm_limit"])))
            if atm is None or atm > ATM_MAX or atm % 2000:
                return _error(state, "The ATM limit must be a multiple of $20 from $0 to $1,000.")
            changes["atm_limit"] = atm
        daily = parse_money(form.get(f"c.daily:{cid}", plain(card["daily_limit"])))
        if daily is None or daily > DAILY_MAX or daily % 100:
            return _error(state, "The daily purchase limit must be whole dollars up to $10,000.")
        changes["daily_limit"] = daily
        rest = {k: v for k, v in form.items() if not k.endswith(f":{cid}")}
        return _success(
            state,
            f"Limits saved for card ••{card['last4']}.",
            cards=_replace(state["cards"], cid, **changes),
            form=rest,
        )

    # Statements -------------------------------------------------------------------------

    def _do_stmt(self, state: dict, sid: str) -> dict:
        return {**state, "page": "statement", "view": {"stmt": sid}, "form": {}, "alert": None}

    def _do_stmt_view(self, state: dict, _: str) -> dict:
        s = _by_id(state["statements"], state["view"]["stmt"])
        view = {**HISTORY_DEFAULTS, "acct": s["account"], "month": s["month"]}
        return {**state, "page": "history", "view": view, "form": {}, "alert": None}
