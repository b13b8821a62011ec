"""The ledger's scripted solver: it acts from the task's params and the pages it is shown,
finding every bid by role and name, as an agent would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..page import Element, Page, quote
from ..policies import Script, ScriptedSolver, click, fill, need, select, send
from .formats import money, parse_amount, plain_amount, rate_label, short_date

if TYPE_CHECKING:
    from ..tasks import Task

SEP = " · "


def _cells(row: Element) -> list[Element]:
    return [c for c in row.children if c.role == "cell"]


def _rows(page: Page, table: str) -> list[Element]:
    """The body rows of a table (the header row left out)."""
    return need(page.find("table", table), f"table {table!r}").children[1:]


def _check(el: Element) -> str:
    return f"check({quote(el.bid or '')})"


def _report_amount(page: Page, label: str) -> str:
    for row in _rows(page, "Profit and loss"):
        cells = _cells(row)
        if cells[0].name == label:
            return cells[1].name
    return "$0.00"


class LedgerSolver(ScriptedSolver):
    """Solves every ledger task family."""

    def script(self, task: Task, page: Page) -> Script:
        yield from getattr(self, "_" + task.family)(task.params, page)

    def _create_invoice(self, p: dict, page: Page) -> Script:
        page = yield "goto('invoices')"
        page = yield click(need(page.find("button", "New invoice"), "New invoice button"))
        page = yield select(need(page.find("select", "Customer"), "customer select"), p["customer"])
        due = need(page.find("textbox", "Due date (YYYY-MM-DD)"), "due date box")
        page = yield fill(due, p["due"])
        for i, ln in enumerate(p["lines"], 1):
            if page.find("textbox", f"Description {i}") is None:
                page = yield click(need(page.find("button", "Add line"), "Add line button"))
            page = yield fill(
                need(page.find("textbox", f"Description {i}"), "description"), ln["desc"]
            )
            page = yield fill(
                need(page.find("number", f"Quantity {i}"), "quantity"), str(ln["qty"])
            )
            page = yield fill(
                need(page.find("number", f"Unit price {i}"), "unit price"), plain_amount(ln["unit"])
            )
            tax = need(page.find("select", f"Tax rate {i}"), "tax select")
            if tax.value != rate_label(ln["tax"]):
                page = yield select(tax, rate_label(ln["tax"]))
        label = "Save and send" if p["status"] == "sent" else "Save as draft"
        page = yield click(need(page.find("button", label), label))
        yield send("Done: the invoice is saved.")

    def _record_bill(self, p: dict, page: Page) -> Script:
        page = yield "goto('bills')"
        page = yield click(need(page.find("button", "New bill"), "New bill button"))
        page = yield select(need(page.find("select", "Vendor"), "vendor select"), p["vendor"])
        page = yield fill(need(page.find("textbox", "Bill number"), "bill number"), p["number"])
        due = need(page.find("textbox", "Due date (YYYY-MM-DD)"), "due date box")
        page = yield fill(due, p["due"])
        page = yield fill(need(page.find("number", "Amount"), "amount"), plain_amount(p["amount"]))
        category = need(page.find("select", "Category"), "category select")
        if category.value != p["category"]:
            page = yield select(category, p["category"])
        page = yield click(need(page.find("button", "Save bill"), "Save bill button"))
        yield send("Done: the bill is recorded.")

    def _match(self, p: dict, page: Page, deposit: bool) -> Script:
        page = yield "goto('reconcile')"
        shown = money(p["amount"] if deposit else -p["amount"])
        day = short_date(p["date"])
        while True:
            found = None
            for row in _rows(page, "Bank feed"):
                cells = _cells(row)
                if cells[0].name == day and cells[3].name == shown:
                    found = row.find("button")
            if found is not None:
                break
            page = yield click(need(page.find("button", "Next page"), "the line in the feed"))
        page = yield click(found)
        payee = need(page.find("listitem", contains="Payee: "), "payee").name[len("Payee: ") :]
        doc = need(page.find("select", "Invoice" if deposit else "Bill"), "document select")
        amount = SEP + money(p["amount"]) + SEP
        if deposit:
            options = [o for o in doc.options if SEP + payee + SEP in o and amount in o]
        else:
            options = [o for o in doc.options if o.startswith(payee + SEP) and amount in o]
        if len(options) != 1:
            raise LookupError(f"{len(options)} candidates fit {payee} {amount}: {options}")
        page = yield select(doc, options[0])
        page = yield click(need(page.find("button", "Match"), "Match button"))
        yield send("Done: the line is matched.")

    def _match_deposit(self, p: dict, page: Page) -> Script:
        yield from self._match(p, page, deposit=True)

    def _match_bill_payment(self, p: dict, page: Page) -> Script:
        yield from self._match(p, page, deposit=False)

    def _categorise_payee(self, p: dict, page: Page) -> Script:
        page = yield "goto('expenses')"
        page = yield fill(need(page.find("textbox", "Payee contains"), "payee filter"), p["payee"])
        page = yield click(need(page.find("button", "Apply filter"), "Apply filter button"))
        while True:
            todo = None
            for row in _rows(page, "Spending"):
                cells = _cells(row)
                box = row.find("checkbox")
                if (
                    cells[3].name == p["payee"]
                    and cells[5].name == "Uncategorised"
                    and box is not None
                    and not box.checked
                ):
                    todo = box
                    break
            if todo is None:
                break
            page = yield _check(todo)
        page = yield select(need(page.find("select", "Category"), "category"), p["category"])
        page = yield click(need(page.find("button", "Categorise selected"), "Categorise button"))
        yield send("Done: the lines are categorised.")

    def _run_report(self, page: Page, period: str) -> Script:
        page = yield "goto('reports')"
        page = yield select(need(page.find("select", "Period"), "period select"), period)
        page = yield click(need(page.find("button", "Run report"), "Run report button"))
        return page

    def _net_profit_month(self, p: dict, page: Page) -> Script:
        page = yield from self._run_report(page, p["period"])
        yield send(f"The net profit for {p['period']} was {_report_amount(page, 'Net profit')}.")

    def _category_spend_quarter(self, p: dict, page: Page) -> Script:
        page = yield from self._run_report(page, p["quarter"])
        yield send(f"{_report_amount(page, p['category'])}")

    def _top_overdue_customer(self, p: dict, page: Page) -> Script:
        page = yield "goto('aging')"
        best, best_name = -1, ""
        for row in _rows(page, "Accounts receivable aging"):
            cells = _cells(row)
            if cells[0].name == "Total":
                continue
            overdue = sum(parse_amount(c.name) or 0 for c in cells[2:6])
            if overdue > best:
                best, best_name = overdue, cells[0].name
        yield send(best_name)
