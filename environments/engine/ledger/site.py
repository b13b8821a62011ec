"""The ledger's pages and what each click does.

Besides the base keys, the state holds the books from `world.build_world` and `view`: what the
current page shows (the open invoice or bank line, list filters and page, the report period,
the number of line-item rows on a new invoice). `goto` and the menu reset the view.
"""

from __future__ import annotations

from ..base import Environment
from ..page import Element, Page
from ..registry import register
from ..text import ascii_digits
from .books import (
    AGING_BUCKETS,
    aging,
    bank_balance,
    bill_status,
    by_id,
    category_accounts,
    invoice_status,
    names,
    open_bills,
    open_invoices,
    periods,
    profit_and_loss,
)
from .formats import (
    long_date,
    money,
    parse_amount,
    parse_date,
    parse_quantity,
    rate_label,
    short_date,
)
from .solver import LedgerSolver
from .tasks import FAMILIES
from .world import TAX_RATES, build_world, line_totals

PAGE_SIZE = 15
FEED_PAGE_SIZE = 15
SPEND_PAGE_SIZE = 20
MAX_LINE_ROWS = 10
MAX_NUMBER_CHARS = 20
MAX_TEXT_CHARS = 200
MAX_QUANTITY = 10_000
MAX_AMOUNT = 1_000_000_00

NAV = {
    "dashboard": "Dashboard",
    "invoices": "Invoices",
    "bills": "Bills",
    "reconcile": "Bank feed",
    "expenses": "Categorise spending",
    "reports": "Profit and loss",
    "aging": "AR aging",
    "contacts": "Customers & vendors",
    "accounts": "Chart of accounts",
}
TITLES = {
    "dashboard": "Dashboard",
    "invoices": "Invoices",
    "invoice_new": "New invoice",
    "invoice": "Invoice",
    "bills": "Bills",
    "bill_new": "New bill",
    "reconcile": "Bank reconciliation",
    "bank_line": "Bank line",
    "expenses": "Categorise spending",
    "reports": "Profit and loss",
    "aging": "Accounts receivable aging",
    "contacts": "Customers & vendors",
    "accounts": "Chart of accounts",
}
URLS = {
    "invoice_new": "/ledger/invoices/new",
    "bill_new": "/ledger/bills/new",
}
CHOOSE_CUSTOMER = "Choose a customer"
CHOOSE_VENDOR = "Choose a vendor"
CHOOSE_CATEGORY = "Choose a category"
CHOOSE_INVOICE = "Choose an invoice"
CHOOSE_BILL = "Choose a bill"
ALL_CUSTOMERS = "All customers"
INVOICE_FILTERS = ("All", "Draft", "Sent", "Overdue", "Paid")
FEED_SHOW = ("Lines to reconcile", "All lines")
SPEND_SHOW = ("Uncategorised", "All spending")
TAX_OPTIONS = [rate_label(r) for r in TAX_RATES]
TAX_BY_LABEL = {rate_label(r): r for r in TAX_RATES}
DEFAULT_LINE_ROWS = 3
SEP = " · "


# --- small builders ----------------------------------------------------------------------


def _text(name: str) -> Element:
    return Element("text", name)


def _row(*cells: str) -> Element:
    return Element("row", children=[Element("cell", c) for c in cells])


def _table(name: str, header: list[str], rows: list[Element]) -> Element:
    return Element("table", name, children=[_row(*header), *rows])


def _cell(*children: Element, name: str = "") -> Element:
    return Element("cell", name, children=list(children))


def _error(state: dict, text: str, **changes: object) -> dict:
    return {**state, "alert": ["error", text], **changes}


def _success(state: dict, text: str, **changes: object) -> dict:
    return {**state, "alert": ["success", text], **changes}


def _replace(records: list[dict], rid: str, **changes: object) -> list[dict]:
    """A new list with one record replaced by an updated copy; the others are shared."""
    return [{**r, **changes} if r["id"] == rid else r for r in records]


def _pager(prefix: str, pg: int, pages: int) -> list[Element]:
    if pages <= 1:
        return []
    return [
        Element("button", "Previous page", key=f"{prefix}.prev", disabled=pg <= 1),
        _text(f"Page {pg} of {pages}"),
        Element("button", "Next page", key=f"{prefix}.next", disabled=pg >= pages),
    ]


def _page_slice(rows: list, pg: int, size: int) -> tuple[list, int, int]:
    pages = max(1, -(-len(rows) // size))
    pg = max(1, min(pg, pages))
    return rows[(pg - 1) * size : pg * size], pg, pages


def invoice_option(inv: dict, customer: str) -> str:
    """How an invoice is offered as a match candidate."""
    return SEP.join((inv["number"], customer, money(inv["total"]), "due " + short_date(inv["due"])))


def bill_option(bill: dict, vendor: str) -> str:
    return SEP.join(
        (vendor, bill["number"], money(bill["amount"]), "due " + short_date(bill["due"]))
    )


@register
class LedgerSite(Environment):
    """Small-business books: invoices, bills, a bank feed to reconcile and categorise, a
    profit and loss report and receivables aging. One company per seed."""

    env_id = "ledger"
    version = 1
    title = "Ledger"
    start_page = "dashboard"
    navigation = tuple(NAV)
    families = {f.name: f for f in FAMILIES}
    solver = LedgerSolver
    # Near neighbours of trained families (match_deposit, net_profit_month).
    heldout_families = ("match_bill_payment", "category_spend_quarter")
    heldout_variants = ("mixed",)

    def build_world(self, seed: int) -> dict:
        return build_world(seed)

    # --- pages ----------------------------------------------------------------------------

    def build_page(self, state: dict) -> Page:
        name = state["page"]
        body = [self._nav(), Element("heading", self._heading(state))]
        if state["alert"]:
            kind, text = state["alert"]
            body.append(Element("alert", f"{'Error' if kind == 'error' else 'Success'}: {text}"))
        body.extend(getattr(self, f"_page_{name}")(state, state["form"], state["view"]))
        return Page(f"{TITLES[name]} - {state['company']}", self._url(state), body)

    def _heading(self, state: dict) -> str:
        name = state["page"]
        if name == "invoice":
            return "Invoice " + by_id(state["invoices"], state["view"]["inv"])["number"]
        return TITLES[name]

    def _url(self, state: dict) -> str:
        name, view = state["page"], state["view"]
        if name == "invoice":
            return "/ledger/invoices/" + view["inv"]
        if name == "bank_line":
            return "/ledger/reconcile/" + view["line"]
        return URLS.get(name) or self.page_url(name)

    def _nav(self) -> Element:
        return Element(
            "navigation",
            "Main menu",
            children=[Element("link", label, key=f"nav:{page}") for page, label in NAV.items()],
        )

    # Dashboard ------------------------------------------------------------------------

    def _page_dashboard(self, state: dict, form: dict, view: dict) -> list[Element]:
        today = state["today"]
        sent = open_invoices(state)
        overdue = [i for i in sent if i["due"] < today]
        drafts = [i for i in state["invoices"] if i["status"] == "draft"]
        bills = open_bills(state)
        late_bills = [b for b in bills if b["due"] < today]
        todo = sum(1 for ln in state["feed"] if ln["status"] == "unreconciled")
        rows = [
            _row("Open invoices", str(len(sent)), money(sum(i["total"] for i in sent))),
            _row("Overdue invoices", str(len(overdue)), money(sum(i["total"] for i in overdue))),
            _row("Draft invoices", str(len(drafts)), money(sum(i["total"] for i in drafts))),
            _row("Open bills", str(len(bills)), money(sum(b["amount"] for b in bills))),
            _row(
                "Overdue bills", str(len(late_bills)), money(sum(b["amount"] for b in late_bills))
            ),
            _row("Bank lines to reconcile", str(todo), ""),
        ]
        return [
            _text(f"{state['company']}. Today is {long_date(today)}."),
            _text(f"Business checking balance (bank feed): {money(bank_balance(state))}"),
            _table("Summary", ["Item", "Count", "Amount"], rows),
            Element("link", "Create an invoice", key="invoice_new"),
            Element("link", "Record a bill", key="bill_new"),
            Element("link", "Reconcile the bank feed", key="nav:reconcile"),
        ]

    # Invoices -------------------------------------------------------------------------

    def _page_invoices(self, state: dict, form: dict, view: dict) -> list[Element]:
        today, customers = state["today"], names(state["customers"])
        status = view.get("status", "All")
        cust = view.get("customer", "")
        matching = [
            inv
            for inv in reversed(state["invoices"])
            if (status == "All" or invoice_status(inv, today) == status)
            and (not cust or inv["customer"] == cust)
        ]
        shown, pg, pages = _page_slice(matching, view.get("pg", 1), PAGE_SIZE)
        rows = [
            Element(
                "row",
                children=[
                    _cell(Element("link", inv["number"], key=f"inv:{inv['id']}")),
                    Element("cell", customers[inv["customer"]]),
                    Element("cell", short_date(inv["issued"])),
                    Element("cell", short_date(inv["due"])),
                    Element("cell", money(inv["total"])),
                    Element("cell", invoice_status(inv, today)),
                ],
            )
            for inv in shown
        ]
        cust_label = customers[cust] if cust else ALL_CUSTOMERS
        return [
            Element("button", "New invoice", key="invoice_new"),
            Element(
                "form",
                "Filter invoices",
                children=[
                    Element(
                        "select",
                        "Status",
                        form.get("il.status", status),
                        options=list(INVOICE_FILTERS),
                        key="il.status",
                    ),
                    Element(
                        "select",
                        "Customer",
                        form.get("il.customer", cust_label),
                        options=[ALL_CUSTOMERS, *customers.values()],
                        key="il.customer",
                    ),
                    Element("button", "Apply", key="il.apply"),
                ],
            ),
            _text(f"{len(matching)} invoices" if matching else "No invoices match."),
            _table("Invoices", ["Number", "Customer", "Issued", "Due", "Total", "Status"], rows),
            *_pager("il", pg, pages),
        ]

    def _page_invoice(self, state: dict, form: dict, view: dict) -> list[Element]:
        inv = by_id(state["invoices"], view["inv"])
        customer = by_id(state["customers"], inv["customer"])
        status = invoice_status(inv, state["today"])
        items = [
            _row(
                ln["desc"],
                str(ln["qty"]),
                money(ln["unit"]),
                rate_label(ln["tax"]),
                money(ln["qty"] * ln["unit"]),
            )
            for ln in inv["lines"]
        ]
        out = [
            _text(f"Customer: {customer['name']} ({customer['email']})"),
            _text(f"Issued: {long_date(inv['issued'])}"),
            _text(f"Due: {long_date(inv['due'])}"),
            _text(f"Status: {status}"),
            _table("Line items", ["Description", "Qty", "Unit price", "Tax", "Amount"], items),
            _table(
                "Totals",
                ["Item", "Amount"],
                [
                    _row("Subtotal", money(inv["subtotal"])),
                    _row("Tax", money(inv["tax"])),
                    _row("Total", money(inv["total"])),
                ],
            ),
        ]
        if inv["status"] == "paid":
            line = by_id(state["feed"], inv["payment"])
            out.append(
                _text(f"Paid on {long_date(inv['paid_on'])}: bank line {line['description']}")
            )
        if inv["status"] == "draft":
            out.append(Element("button", "Mark as sent", key="inv_send"))
        out.append(Element("link", "Back to invoices", key="nav:invoices"))
        return out

    def _suggested_number(self, state: dict) -> str:
        best = 0
        for inv in state["invoices"]:
            head, _, tail = inv["number"].rpartition("-")
            if head == "INV" and ascii_digits(tail):
                best = max(best, int(tail))
        return f"INV-{best + 1}"

    def _new_lines(self, form: dict, rows: int) -> tuple[list[dict], str | None]:
        """The line items typed on the new-invoice form, or the first error in them.
        A row with nothing typed in it is skipped."""
        lines = []
        for i in range(1, rows + 1):
            desc = " ".join(form.get(f"in.desc.{i}", "").split())
            qty_text = form.get(f"in.qty.{i}", "").strip()
            unit_text = form.get(f"in.unit.{i}", "").strip()
            if not (desc or qty_text or unit_text):
                continue
            if not desc:
                return [], f"Line {i}: enter a description."
            if len(desc) > MAX_TEXT_CHARS:
                return [], f"Line {i}: descriptions are at most {MAX_TEXT_CHARS} characters."
            qty = parse_quantity(qty_text)
            if qty is None or not 1 <= qty <= MAX_QUANTITY:
                return [], f"Line {i}: the quantity must be a whole number from 1 to 10,000."
            unit = parse_amount(unit_text)
            if not unit or unit > MAX_AMOUNT:
                return [], f"Line {i}: enter a unit price greater than zero, such as 125.00."
            tax = TAX_BY_LABEL[form.get(f"in.tax.{i}", TAX_OPTIONS[0])]
            lines.append({"desc": desc, "qty": qty, "unit": unit, "tax": tax})
        return lines, None

    def _page_invoice_new(self, state: dict, form: dict, view: dict) -> list[Element]:
        rows = view.get("rows", DEFAULT_LINE_ROWS)
        customers = [c["name"] for c in state["customers"]]
        item_rows = []
        for i in range(1, rows + 1):
            qty, unit = (
                parse_quantity(form.get(f"in.qty.{i}", "")),
                parse_amount(form.get(f"in.unit.{i}", "")),
            )
            amount = money(qty * unit) if qty and unit else ""
            item_rows.append(
                Element(
                    "row",
                    children=[
                        _cell(
                            Element(
                                "textbox",
                                f"Description {i}",
                                form.get(f"in.desc.{i}", ""),
                                key=f"in.desc.{i}",
                            )
                        ),
                        _cell(
                            Element(
                                "number",
                                f"Quantity {i}",
                                form.get(f"in.qty.{i}", ""),
                                key=f"in.qty.{i}",
                            )
                        ),
                        _cell(
                            Element(
                                "number",
                                f"Unit price {i}",
                                form.get(f"in.unit.{i}", ""),
                                key=f"in.unit.{i}",
                            )
                        ),
                        _cell(
                            Element(
                                "select",
                                f"Tax rate {i}",
                                form.get(f"in.tax.{i}", TAX_OPTIONS[0]),
                                options=TAX_OPTIONS,
                                key=f"in.tax.{i}",
                            )
                        ),
                        Element("cell", amount),
                    ],
                )
            )
        lines, problem = self._new_lines(form, rows)
        if lines and problem is None:
            subtotal, tax, total = line_totals(lines)
            summary = f"Subtotal {money(subtotal)}, tax {money(tax)}, total {money(total)}"
        else:
            summary = "Subtotal $0.00, tax $0.00, total $0.00"
        return [
            Element(
                "form",
                "Invoice details",
                children=[
                    Element(
                        "select",
                        "Customer",
                        form.get("in.customer", CHOOSE_CUSTOMER),
                        options=[CHOOSE_CUSTOMER, *customers],
                        key="in.customer",
                        required=True,
                    ),
                    Element(
                        "textbox",
                        "Invoice number",
                        form.get("in.number", self._suggested_number(state)),
                        key="in.number",
                        required=True,
                    ),
                    Element(
                        "textbox",
                        "Issue date (YYYY-MM-DD)",
                        form.get("in.issued", state["today"]),
                        key="in.issued",
                        required=True,
                    ),
                    Element(
                        "textbox",
                        "Due date (YYYY-MM-DD)",
                        form.get("in.due", ""),
                        key="in.due",
                        required=True,
                    ),
                ],
            ),
            _table(
                "Line items",
                ["Description", "Quantity", "Unit price", "Tax rate", "Amount"],
                item_rows,
            ),
            Element("button", "Add line", key="in.add", disabled=rows >= MAX_LINE_ROWS),
            _text(summary),
            Element("button", "Save as draft", key="in.save:draft"),
            Element("button", "Save and send", key="in.save:sent"),
            Element("link", "Cancel", key="nav:invoices"),
        ]

    # Bills ----------------------------------------------------------------------------

    def _page_bills(self, state: dict, form: dict, view: dict) -> list[Element]:
        today = state["today"]
        vendors, accounts = names(state["vendors"]), names(state["accounts"])
        shown, pg, pages = _page_slice(state["bills"][::-1], view.get("pg", 1), PAGE_SIZE)
        rows = [
            _row(
                vendors[b["vendor"]],
                b["number"],
                short_date(b["issued"]),
                short_date(b["due"]),
                accounts[b["account"]],
                money(b["amount"]),
                bill_status(b, today),
            )
            for b in shown
        ]
        return [
            Element("button", "New bill", key="bill_new"),
            _table(
                "Bills",
                ["Vendor", "Bill no.", "Bill date", "Due", "Category", "Amount", "Status"],
                rows,
            ),
            *_pager("bl", pg, pages),
        ]

    def _bill_category(self, state: dict, form: dict) -> str:
        """The category the new-bill form shows: the one chosen, else the vendor's usual."""
        if "bn.account" in form:
            return form["bn.account"]
        for v in state["vendors"]:
            if v["name"] == form.get("bn.vendor"):
                return by_id(state["accounts"], v["account"])["name"]
        return CHOOSE_CATEGORY

    def _page_bill_new(self, state: dict, form: dict, view: dict) -> list[Element]:
        expense = [a["name"] for a in category_accounts(state, ("expense",))]
        return [
            _text(
                "Record a bill you have received from a vendor. Pay it from the bank; match "
                "the payment on the Bank feed page."
            ),
            Element(
                "form",
                "Bill details",
                children=[
                    Element(
                        "select",
                        "Vendor",
                        form.get("bn.vendor", CHOOSE_VENDOR),
                        options=[CHOOSE_VENDOR, *(v["name"] for v in state["vendors"])],
                        key="bn.vendor",
                        required=True,
                    ),
                    Element(
                        "textbox",
                        "Bill number",
                        form.get("bn.number", ""),
                        key="bn.number",
                        required=True,
                    ),
                    Element(
                        "textbox",
                        "Bill date (YYYY-MM-DD)",
                        form.get("bn.issued", state["today"]),
                        key="bn.issued",
                        required=True,
                    ),
                    Element(
                        "textbox",
                        "Due date (YYYY-MM-DD)",
                        form.get("bn.due", ""),
                        key="bn.due",
                        required=True,
                    ),
                    Element(
                        "number",
                        "Amount",
                        form.get("bn.amount", ""),
                        key="bn.amount",
                        required=True,
                    ),
                    Element(
                        "select",
                        "Category",
                        self._bill_category(state, form),
                        options=[CHOOSE_CATEGORY, *expense],
                        key="bn.account",
                        required=True,
                    ),
                    Element("textbox", "Memo (optional)", form.get("bn.memo", ""), key="bn.memo"),
                    Element("button", "Save bill", key="bn.save"),
                    Element("link", "Cancel", key="nav:bills"),
                ],
            ),
        ]

    # Bank feed ------------------------------------------------------------------------

    def _matched_doc(self, state: dict, line: dict) -> str:
        """ "invoice INV-1043" or "bill SOS-48213": what a matched line is matched to."""
        doc_id = line["doc"]
        if doc_id[0] == "i":
            return "invoice " + by_id(state["invoices"], doc_id)["number"]
        return "bill " + by_id(state["bills"], doc_id)["number"]

    def _line_status(self, state: dict, line: dict) -> str:
        if line["status"] == "matched":
            return "Matched to " + self._matched_doc(state, line)
        if line["status"] == "categorised":
            return by_id(state["accounts"], line["account"])["name"]
        return "Unreconciled"

    def _page_reconcile(self, state: dict, form: dict, view: dict) -> list[Element]:
        show = view.get("show", FEED_SHOW[0])
        if show == FEED_SHOW[0]:
            lines = [ln for ln in state["feed"] if ln["status"] == "unreconciled"]
        else:
            lines = state["feed"][::-1]
        shown, pg, pages = _page_slice(lines, view.get("pg", 1), FEED_PAGE_SIZE)
        todo = sum(1 for ln in state["feed"] if ln["status"] == "unreconciled")
        rows = []
        for ln in shown:
            open_line = ln["status"] == "unreconciled"
            rows.append(
                Element(
                    "row",
                    children=[
                        Element("cell", short_date(ln["date"])),
                        Element("cell", ln["description"]),
                        Element("cell", ln["payee"]),
                        Element("cell", money(ln["amount"])),
                        Element("cell", self._line_status(state, ln)),
                        _cell(
                            Element(
                                "button",
                                "Reconcile" if open_line else "View",
                                key=f"line:{ln['id']}",
                            )
                        ),
                    ],
                )
            )
        return [
            _text(
                f"Business checking: balance {money(bank_balance(state))}; "
                f"{todo} lines to reconcile."
            ),
            _text(
                "Match each deposit to the invoice it pays and each payment to its bill; "
                "categorise other spending and income."
            ),
            Element(
                "form",
                "Show",
                children=[
                    Element(
                        "select",
                        "Show",
                        form.get("rc.show", show),
                        options=list(FEED_SHOW),
                        key="rc.show",
                    ),
                    Element("button", "Show lines", key="rc.apply"),
                ],
            ),
            _table("Bank feed", ["Date", "Description", "Payee", "Amount", "Status", ""], rows),
            *_pager("rc", pg, pages),
        ]

    def _candidates(self, state: dict, line: dict) -> dict[str, str]:
        """Match candidates for a bank line, label -> document id: open invoices for a
        deposit, open bills for a payment."""
        if line["amount"] > 0:
            customers = names(state["customers"])
            return {
                invoice_option(i, customers[i["customer"]]): i["id"] for i in open_invoices(state)
            }
        vendors = names(state["vendors"])
        return {bill_option(b, vendors[b["vendor"]]): b["id"] for b in open_bills(state)}

    def _page_bank_line(self, state: dict, form: dict, view: dict) -> list[Element]:
        line = by_id(state["feed"], view["line"])
        deposit = line["amount"] > 0
        out = [
            Element(
                "list",
                children=[
                    Element("listitem", f"Date: {long_date(line['date'])}"),
                    Element("listitem", f"Description: {line['description']}"),
                    Element("listitem", f"Payee: {line['payee']}"),
                    Element(
                        "listitem",
                        f"{'Deposit' if deposit else 'Payment'}: {money(abs(line['amount']))}",
                    ),
                    Element("listitem", f"Status: {self._line_status(state, line)}"),
                ],
            ),
        ]
        if line["status"] == "matched":
            out.append(Element("button", "Unmatch", key="bk.unmatch"))
        else:
            choose = CHOOSE_INVOICE if deposit else CHOOSE_BILL
            out.append(
                Element(
                    "form",
                    "Match to an invoice" if deposit else "Match to a bill",
                    children=[
                        Element(
                            "select",
                            "Invoice" if deposit else "Bill",
                            form.get("bk.doc", choose),
                            options=[choose, *self._candidates(state, line)],
                            key="bk.doc",
                        ),
                        Element("button", "Match", key="bk.match"),
                    ],
                )
            )
        current = self._line_status(state, line) if line["status"] == "categorised" else None
        out.append(
            Element(
                "form",
                "Categorise",
                children=[
                    Element(
                        "select",
                        "Category",
                        form.get("bk.account", current or CHOOSE_CATEGORY),
                        options=[CHOOSE_CATEGORY, *(a["name"] for a in category_accounts(state))],
                        key="bk.account",
                    ),
                    Element("button", "Categorise", key="bk.categorise"),
                ],
            )
        )
        if line["status"] == "categorised":
            out.append(Element("button", "Uncategorise", key="bk.uncategorise"))
        out.append(Element("link", "Back to bank feed", key="nav:reconcile"))
        return out

    # Categorise spending --------------------------------------------------------------

    def _page_expenses(self, state: dict, form: dict, view: dict) -> list[Element]:
        show, q = view.get("show", SPEND_SHOW[0]), view.get("q", "")
        folded = q.casefold()
        lines = [
            ln
            for ln in reversed(state["feed"])
            if ln["amount"] < 0
            and (show != SPEND_SHOW[0] or ln["status"] == "unreconciled")
            and (not folded or folded in ln["payee"].casefold())
        ]
        shown, pg, pages = _page_slice(lines, view.get("pg", 1), SPEND_PAGE_SIZE)
        rows = []
        for ln in shown:
            key = "sel:" + ln["id"]
            status = "Uncategorised" if ln["status"] == "unreconciled" else None
            rows.append(
                Element(
                    "row",
                    children=[
                        _cell(Element("checkbox", "Select", checked=form.get(key, False), key=key)),
                        Element("cell", short_date(ln["date"])),
                        Element("cell", ln["description"]),
                        Element("cell", ln["payee"]),
                        Element("cell", money(-ln["amount"])),
                        Element("cell", status or self._line_status(state, ln)),
                    ],
                )
            )
        ticked = sum(1 for k, v in form.items() if v is True and k.startswith("sel:"))
        expense = [a["name"] for a in category_accounts(state, ("expense",))]
        return [
            _text(
                "Spending from the bank feed. Tick lines, choose a category and click "
                "Categorise selected. Match bill payments on the Bank feed page instead."
            ),
            Element(
                "form",
                "Filter",
                children=[
                    Element("textbox", "Payee contains", form.get("ex.q", q), key="ex.q"),
                    Element(
                        "select",
                        "Show",
                        form.get("ex.show", show),
                        options=list(SPEND_SHOW),
                        key="ex.show",
                    ),
                    Element("button", "Apply filter", key="ex.apply"),
                    Element("button", "Clear filter", key="ex.clear"),
                ],
            ),
            _text(f"{len(lines)} lines" if lines else "No spending lines match."),
            _table("Spending", ["", "Date", "Description", "Payee", "Amount", "Category"], rows),
            *_pager("ex", pg, pages),
            Element(
                "form",
                "Categorise selected",
                children=[
                    _text(f"{ticked} selected"),
                    Element(
                        "select",
                        "Category",
                        form.get("ex.account", CHOOSE_CATEGORY),
                        options=[CHOOSE_CATEGORY, *expense],
                        key="ex.account",
                    ),
                    Element("button", "Categorise selected", key="ex.categorise"),
                ],
            ),
        ]

    # Reports --------------------------------------------------------------------------

    def _period(self, state: dict, view: dict) -> tuple[str, str, str]:
        options = periods(state)
        label = view.get("period")
        for opt in options:
            if opt[0] == label:
                return opt
        return options[0]

    def _page_reports(self, state: dict, form: dict, view: dict) -> list[Element]:
        options = periods(state)
        label, start, end = self._period(state, view)
        pnl = profit_and_loss(state, start, end)
        accounts = names(state["accounts"])
        rows = [_row("Income", "")]
        rows += [_row(accounts[a], money(v)) for a, v in sorted(pnl["income"].items())]
        rows.append(_row("Total income", money(pnl["total_income"])))
        rows.append(_row("Expenses", ""))
        rows += [_row(accounts[a], money(v)) for a, v in sorted(pnl["expenses"].items()) if v]
        rows.append(_row("Total expenses", money(pnl["total_expenses"])))
        rows.append(_row("Net profit", money(pnl["net"])))
        return [
            Element(
                "form",
                "Report period",
                children=[
                    Element(
                        "select",
                        "Period",
                        form.get("pl.period", label),
                        options=[p[0] for p in options],
                        key="pl.period",
                    ),
                    Element("button", "Run report", key="pl.run"),
                ],
            ),
            _text(
                f"Profit and loss for {label}: {short_date(start)} to {short_date(end)}. "
                "Accrual basis: invoices by issue date before tax, bills by bill date, "
                "categorised bank lines by date."
            ),
            _table("Profit and loss", ["Account", "Amount"], rows),
            Element("link", "Accounts receivable aging", key="nav:aging"),
        ]

    def _page_aging(self, state: dict, form: dict, view: dict) -> list[Element]:
        customers = names(state["customers"])
        table = aging(state)
        rows = [_row(customers[cid], *(money(v) for v in b), money(sum(b))) for cid, b in table]
        totals = [sum(b[i] for _, b in table) for i in range(5)]
        rows.append(_row("Total", *(money(v) for v in totals), money(sum(totals))))
        return [
            _text(f"Unpaid sent invoices as of {long_date(state['today'])}, by days past due."),
            _table("Accounts receivable aging", ["Customer", *AGING_BUCKETS, "Total"], rows),
        ]

    # Contacts and accounts -------------------------------------------------------------

    def _page_contacts(self, state: dict, form: dict, view: dict) -> list[Element]:
        owed: dict[str, list[int]] = {}
        for inv in open_invoices(state):
            entry = owed.setdefault(inv["customer"], [0, 0])
            entry[0] += 1
            entry[1] += inv["total"]
        due: dict[str, list[int]] = {}
        for bill in open_bills(state):
            entry = due.setdefault(bill["vendor"], [0, 0])
            entry[0] += 1
            entry[1] += bill["amount"]
        accounts = names(state["accounts"])
        customers = [
            _row(
                c["name"],
                c["email"],
                str(owed.get(c["id"], [0, 0])[0]),
                money(owed.get(c["id"], [0, 0])[1]),
            )
            for c in state["customers"]
        ]
        vendors = [
            _row(
                v["name"],
                v["email"],
                accounts[v["account"]],
                str(due.get(v["id"], [0, 0])[0]),
                money(due.get(v["id"], [0, 0])[1]),
            )
            for v in state["vendors"]
        ]
        return [
            _table("Customers", ["Name", "Email", "Open invoices", "Balance"], customers),
            _table(
                "Vendors", ["Name", "Email", "Usual category", "Open bills", "Balance"], vendors
            ),
        ]

    def _page_accounts(self, state: dict, form: dict, view: dict) -> list[Element]:
        rows = [_row(a["id"], a["name"], a["type"].capitalize()) for a in state["accounts"]]
        return [_table("Chart of accounts", ["Code", "Name", "Type"], rows)]

    # --- actions --------------------------------------------------------------------------

    def on_goto(self, state: dict, page: str) -> dict:
        return {**state, "page": page, "form": {}, "alert": None, "view": {}}

    # Typing or choosing clears the last message, as the form's own validation would.
    def on_fill(self, state: dict, element: Element, value: str) -> dict:
        return {**state, "form": {**state["form"], element.key: value}, "alert": None}

    def on_select(self, state: dict, element: Element, option: str) -> dict:
        return {**state, "form": {**state["form"], element.key: option}, "alert": None}

    def on_check(self, state: dict, element: Element, checked: bool) -> dict:
        return {**state, "form": {**state["form"], element.key: checked}, "alert": None}

    def on_click(self, state: dict, element: Element) -> dict:
        verb, _, arg = element.key.partition(":")
        return getattr(self, "_do_" + verb.replace(".", "_"))(state, arg)

    def _open(self, state: dict, page: str, **view: object) -> dict:
        return {**state, "page": page, "form": {}, "alert": None, "view": view}

    def _paged(self, state: dict, delta: int) -> dict:
        view = state["view"]
        return {**state, "view": {**view, "pg": view.get("pg", 1) + delta}, "alert": None}

    def _do_nav(self, state: dict, page: str) -> dict:
        return self.on_goto(state, page)

    # Invoices ---------------------------------------------------------------------------

    def _do_invoice_new(self, state: dict, _: str) -> dict:
        return self._open(state, "invoice_new", rows=DEFAULT_LINE_ROWS)

    def _do_inv(self, state: dict, inv_id: str) -> dict:
        return self._open(state, "invoice", inv=inv_id)

    def _do_il_apply(self, state: dict, _: str) -> dict:
        form, view = state["form"], state["view"]
        customer = view.get("customer", "")
        if "il.customer" in form:
            ids = {c["name"]: c["id"] for c in state["customers"]}
            customer = ids.get(form["il.customer"], "")
        status = form.get("il.status", view.get("status", "All"))
        return {
            **state,
            "view": {"status": status, "customer": customer, "pg": 1},
            "form": {},
            "alert": None,
        }

    def _do_il_prev(self, state: dict, _: str) -> dict:
        return self._paged(state, -1)

    def _do_il_next(self, state: dict, _: str) -> dict:
        return self._paged(state, 1)

    def _do_in_add(self, state: dict, _: str) -> dict:
        rows = state["view"].get("rows", DEFAULT_LINE_ROWS)
        return {**state, "view": {**state["view"], "rows": rows + 1}, "alert": None}

    def _do_in_save(self, state: dict, status: str) -> dict:
        form, rows = state["form"], state["view"].get("rows", DEFAULT_LINE_ROWS)
        customers = {c["name"]: c["id"] for c in state["customers"]}
        customer = customers.get(form.get("in.customer", ""))
        if customer is None:
            return _error(state, "Choose the customer to invoice.")
        number = " ".join(form.get("in.number", self._suggested_number(state)).split())
        if not number:
            return _error(state, "Enter an invoice number.")
        if len(number) > MAX_NUMBER_CHARS:
            return _error(state, f"Invoice numbers are at most {MAX_NUMBER_CHARS} characters.")
        folded = number.casefold()
        if any(inv["number"].casefold() == folded for inv in state["invoices"]):
            return _error(
                state,
                f"Invoice number {number} is already used by another invoice. "
                f"Use a new number, such as {self._suggested_number(state)}.",
            )
        issued = parse_date(form.get("in.issued", state["today"]))
        if issued is None:
            return _error(state, "Enter the issue date as YYYY-MM-DD, for example 2024-07-15.")
        due = parse_date(form.get("in.due", ""))
        if due is None:
            return _error(state, "Enter the due date as YYYY-MM-DD, for example 2024-07-15.")
        if due < issued:
            return _error(state, "The due date cannot be before the issue date.")
        lines, problem = self._new_lines(form, rows)
        if problem is not None:
            return _error(state, problem)
        if not lines:
            return _error(
                state,
                "An invoice needs at least one line item: enter a description, a quantity "
                "and a unit price.",
            )
        subtotal, tax, total = line_totals(lines)
        inv = {
            "id": f"i{len(state['invoices']) + 1}",
            "number": number,
            "customer": customer,
            "issued": issued,
            "due": due,
            "lines": lines,
            "subtotal": subtotal,
            "tax": tax,
            "total": total,
            "status": status,
            "paid_on": None,
            "payment": None,
        }
        name = form["in.customer"]
        text = (
            f"Invoice {number} for {money(total)} saved as a draft."
            if status == "draft"
            else f"Invoice {number} for {money(total)} sent to {name}."
        )
        return _success(
            state,
            text,
            invoices=[*state["invoices"], inv],
            page="invoice",
            view={"inv": inv["id"]},
            form={},
        )

    def _do_inv_send(self, state: dict, _: str) -> dict:
        inv = by_id(state["invoices"], state["view"]["inv"])
        customer = by_id(state["customers"], inv["customer"])["name"]
        return _success(
            state,
            f"Invoice {inv['number']} sent to {customer}.",
            invoices=_replace(state["invoices"], inv["id"], status="sent"),
        )

    # Bills ------------------------------------------------------------------------------

    def _do_bill_new(self, state: dict, _: str) -> dict:
        return self._open(state, "bill_new")

    def _do_bl_prev(self, state: dict, _: str) -> dict:
        return self._paged(state, -1)

    def _do_bl_next(self, state: dict, _: str) -> dict:
        return self._paged(state, 1)

    def _do_bn_save(self, state: dict, _: str) -> dict:
        form = state["form"]
        vendor = next((v for v in state["vendors"] if v["name"] == form.get("bn.vendor")), None)
        if vendor is None:
            return _error(state, "Choose the vendor who sent the bill.")
        number = " ".join(form.get("bn.number", "").split())
        if not number:
            return _error(state, "Enter the bill number printed on the vendor's bill.")
        if len(number) > MAX_NUMBER_CHARS:
            return _error(state, f"Bill numbers are at most {MAX_NUMBER_CHARS} characters.")
        folded = number.casefold()
        for b in state["bills"]:
            if b["vendor"] == vendor["id"] and b["number"].casefold() == folded:
                return _error(
                    state,
                    f"Bill {number} from {vendor['name']} is already recorded "
                    f"({money(b['amount'])}, {short_date(b['issued'])}).",
                )
        issued = parse_date(form.get("bn.issued", state["today"]))
        if issued is None:
            return _error(state, "Enter the bill date as YYYY-MM-DD, for example 2024-07-15.")
        due = parse_date(form.get("bn.due", ""))
        if due is None:
            return _error(state, "Enter the due date as YYYY-MM-DD, for example 2024-07-15.")
        if due < issued:
            return _error(state, "The due date cannot be before the bill date.")
        amount = parse_amount(form.get("bn.amount", ""))
        if not amount or amount > MAX_AMOUNT:
            return _error(state, "Enter the bill amount, greater than zero, such as 245.00.")
        category = self._bill_category(state, form)
        account = next(
            (a for a in category_accounts(state, ("expense",)) if a["name"] == category), None
        )
        if account is None:
            return _error(state, "Choose the expense category for this bill.")
        memo = " ".join(form.get("bn.memo", "").split())
        if len(memo) > MAX_TEXT_CHARS:
            return _error(state, f"Memos are at most {MAX_TEXT_CHARS} characters.")
        bill = {
            "id": f"b{len(state['bills']) + 1}",
            "number": number,
            "vendor": vendor["id"],
            "account": account["id"],
            "amount": amount,
            "issued": issued,
            "due": due,
            "memo": memo,
            "status": "open",
            "paid_on": None,
            "payment": None,
        }
        return _success(
            state,
            f"Bill {number} from {vendor['name']} for {money(amount)} recorded, due "
            f"{long_date(due)}.",
            bills=[*state["bills"], bill],
            page="bills",
            view={},
            form={},
        )

    # Bank feed --------------------------------------------------------------------------

    def _do_rc_apply(self, state: dict, _: str) -> dict:
        show = state["form"].get("rc.show", state["view"].get("show", FEED_SHOW[0]))
        return {**state, "view": {"show": show, "pg": 1}, "form": {}, "alert": None}

    def _do_rc_prev(self, state: dict, _: str) -> dict:
        return self._paged(state, -1)

    def _do_rc_next(self, state: dict, _: str) -> dict:
        return self._paged(state, 1)

    def _do_line(self, state: dict, line_id: str) -> dict:
        return self._open(state, "bank_line", line=line_id)

    def _do_bk_match(self, state: dict, _: str) -> dict:
        line = by_id(state["feed"], state["view"]["line"])
        deposit = line["amount"] > 0
        if line["status"] == "categorised":
            return _error(
                state,
                f"This line is already categorised as {self._line_status(state, line)}. "
                "Uncategorise it before matching it to a document.",
            )
        doc_id = self._candidates(state, line).get(state["form"].get("bk.doc", ""))
        if doc_id is None:
            return _error(state, f"Choose the {'invoice' if deposit else 'bill'} to match.")
        amount = abs(line["amount"])
        if deposit:
            doc = by_id(state["invoices"], doc_id)
            label, total = f"invoice {doc['number']}", doc["total"]
        else:
            doc = by_id(state["bills"], doc_id)
            label, total = f"bill {doc['number']}", doc["amount"]
        if total != amount:
            return _error(
                state,
                f"Amount mismatch: this {'deposit' if deposit else 'payment'} is {money(amount)} "
                f"but {label} is {money(total)}. Match it to a document for the same amount.",
            )
        paid = {"status": "paid", "paid_on": line["date"], "payment": line["id"]}
        feed = _replace(state["feed"], line["id"], status="matched", doc=doc_id)
        changes = (
            {"invoices": _replace(state["invoices"], doc_id, **paid)}
            if deposit
            else {"bills": _replace(state["bills"], doc_id, **paid)}
        )
        return _success(
            state,
            f"Matched the {money(amount)} {'deposit' if deposit else 'payment'} of "
            f"{short_date(line['date'])} to {label}; {label} is now paid.",
            feed=feed,
            form={},
            **changes,
        )

    def _do_bk_unmatch(self, state: dict, _: str) -> dict:
        line = by_id(state["feed"], state["view"]["line"])
        doc_id = line["doc"]
        key = "invoices" if doc_id[0] == "i" else "bills"
        status = "sent" if key == "invoices" else "open"
        return _success(
            state,
            "Unmatched. The document is open again and the line is back to reconcile.",
            feed=_replace(state["feed"], line["id"], status="unreconciled", doc=None),
            form={},
            **{key: _replace(state[key], doc_id, status=status, paid_on=None, payment=None)},
        )

    def _account_named(self, state: dict, name: str, kinds: tuple[str, ...]) -> dict | None:
        return next((a for a in category_accounts(state, kinds) if a["name"] == name), None)

    def _do_bk_categorise(self, state: dict, _: str) -> dict:
        line = by_id(state["feed"], state["view"]["line"])
        if line["status"] == "matched":
            return _error(
                state,
                f"This line is already matched to {self._matched_doc(state, line)}. "
                "Unmatch it before categorising it.",
            )
        account = self._account_named(
            state, state["form"].get("bk.account", ""), ("income", "expense")
        )
        if account is None:
            return _error(state, "Choose a category for this line.")
        return _success(
            state,
            f"Categorised {line['description']} ({money(line['amount'])}) as {account['name']}.",
            feed=_replace(state["feed"], line["id"], status="categorised", account=account["id"]),
            form={},
        )

    def _do_bk_uncategorise(self, state: dict, _: str) -> dict:
        line_id = state["view"]["line"]
        return _success(
            state,
            "The line is uncategorised and back to reconcile.",
            feed=_replace(state["feed"], line_id, status="unreconciled", account=None),
            form={},
        )

    # Categorise spending ----------------------------------------------------------------

    def _do_ex_apply(self, state: dict, _: str) -> dict:
        form, view = state["form"], state["view"]
        q = " ".join(form.get("ex.q", view.get("q", "")).split())
        show = form.get("ex.show", view.get("show", SPEND_SHOW[0]))
        kept = {k: v for k, v in form.items() if k.startswith("sel:")}
        return {**state, "view": {"q": q, "show": show, "pg": 1}, "form": kept, "alert": None}

    def _do_ex_clear(self, state: dict, _: str) -> dict:
        return {**state, "view": {}, "form": {}, "alert": None}

    def _do_ex_prev(self, state: dict, _: str) -> dict:
        return self._paged(state, -1)

    def _do_ex_next(self, state: dict, _: str) -> dict:
        return self._paged(state, 1)

    def _do_ex_categorise(self, state: dict, _: str) -> dict:
        form = state["form"]
        chosen = {k[4:] for k, v in form.items() if v is True and k.startswith("sel:")}
        if not chosen:
            return _error(state, "Tick at least one line to categorise.")
        account = self._account_named(state, form.get("ex.account", ""), ("expense",))
        if account is None:
            return _error(state, "Choose the category for the selected lines.")
        for line in state["feed"]:
            if line["id"] in chosen and line["status"] == "matched":
                return _error(
                    state,
                    f"{short_date(line['date'])} {line['description']} is already matched to "
                    f"{self._matched_doc(state, line)}; unmatch it on the Bank feed page "
                    "before categorising it. Nothing was categorised.",
                )
        feed = [
            {**ln, "status": "categorised", "account": account["id"]} if ln["id"] in chosen else ln
            for ln in state["feed"]
        ]
        n = len(chosen)
        return _success(
            state,
            f"Categorised {n} line{'s' if n != 1 else ''} as {account['name']}.",
            feed=feed,
            form={},
        )

    # Reports ----------------------------------------------------------------------------

    def _do_pl_run(self, state: dict, _: str) -> dict:
        label = state["form"].get("pl.period", self._period(state, state["view"])[0])
        return {**state, "view": {"period": label}, "form": {}, "alert": None}
