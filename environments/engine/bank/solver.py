"""A scripted solver for every bank task family. It reads only the task's params and the pages,
finding each bid by role and name as an agent would."""

from __future__ import annotations

from ..page import Element, Page
from ..policies import Script, ScriptedSolver, click, fill, need, option_starting, select, send
from ..tasks import Task
from .formats import money, month_label, short_date

Step = Script  # each helper yields actions and returns the last page it got


def _cells(row: Element) -> list[str]:
    return [cell.name for cell in row.children]


def _rows(page: Page, table: str) -> list[Element]:
    """The body rows of a table (the header row left out)."""
    return need(page.find("table", table), f"table {table!r}").children[1:]


def _expect_success(page: Page) -> None:
    alert = page.find("alert")
    if alert is None or not alert.name.startswith("Success:"):
        raise RuntimeError(f"expected a confirmation, the page shows: {alert and alert.name!r}")


def _set(page: Page, form: str, role: str, name: str, value: str) -> Step:
    """Fill or select one field of a form, then return the new page."""
    el = need(need(page.find("form", form), f"form {form!r}").find(role, name), f"{role} {name!r}")
    if role == "select":
        return (yield select(el, value))
    return (yield fill(el, value))


def _select_prefix(page: Page, form: str, name: str, prefix: str) -> Step:
    el = need(need(page.find("form", form), f"form {form!r}").find("select", name), name)
    return (yield select(el, option_starting(el, prefix)))


def _press(page: Page, name: str, within: Element | None = None) -> Step:
    return (yield click(need((within or page).find("button", name), f"button {name!r}")))


def _sign_in(page: Page, p: dict) -> Step:
    page = yield from _set(page, "Sign in", "textbox", "Username", p["username"])
    page = yield from _set(page, "Sign in", "textbox", "Password", p["password"])
    return (yield from _press(page, "Sign in"))


def _filter_activity(page: Page, account: str, month: str, category: str, search: str) -> Step:
    form = "Filter activity"
    page = yield from _select_prefix(page, form, "Account", f"{account} ••")
    page = yield from _set(page, form, "select", "Month", month)
    page = yield from _set(page, form, "select", "Category", category)
    page = yield from _set(page, form, "textbox", "Search description", search)
    return (yield from _press(page, "Apply filters"))


class BankSolver(ScriptedSolver):
    """Signs in with the goal's credentials, then runs the family's script."""

    def script(self, task: Task, page: Page) -> Script:
        p = task.params
        page = yield from _sign_in(page, p)
        yield from getattr(self, task.family)(page, p)

    def pay_bill(self, page: Page, p: dict) -> Script:
        page = yield "goto('billpay')"
        amount = money(p["amount_cents"])
        if p["full_due"]:
            row = next(r for r in _rows(page, "Your billers") if _cells(r)[0] == p["biller"])
            amount = _cells(row)[2]
        form = "Schedule a payment"
        page = yield from _select_prefix(page, form, "Pay to", f"{p['biller']} ••")
        page = yield from _select_prefix(page, form, "Pay from", f"{p['account']} ••")
        page = yield from _set(page, form, "number", "Amount", amount.lstrip("$"))
        page = yield from _set(page, form, "textbox", "Payment date (YYYY-MM-DD)", p["date"])
        page = yield from _press(page, "Schedule payment")
        _expect_success(page)
        yield send("Done: the payment is scheduled.")

    def largest_purchase(self, page: Page, p: dict) -> Script:
        page = yield "goto('history')"
        page = yield from _filter_activity(page, p["account"], p["month_label"], p["category"], "")
        largest = 0
        while True:
            for row in _rows(page, "Transactions"):
                amount = _cells(row)[3]
                if amount.startswith("-$"):
                    largest = max(largest, int(amount[2:].replace(",", "").replace(".", "")))
            nxt = need(page.find("button", "Next page"), "Next page")
            if nxt.disabled:
                break
            page = yield click(nxt)
        yield send(f"The largest purchase was {money(largest)}.")

    def card_controls(self, page: Page, p: dict) -> Script:
        page = yield "goto('cards')"
        title = f"{p['kind'].capitalize()} card ••{p['last4']}"

        def section(page: Page) -> Element:
            return need(page.find("section", title), f"section {title!r}")

        box = need(section(page).find("checkbox", "Freeze card"), "Freeze card")
        if box.checked != p["frozen"]:
            page = yield f"{'check' if p['frozen'] else 'uncheck'}('{box.bid}')"
            _expect_success(page)
        field = (
            "ATM withdrawal limit (per day)"
            if p["limit_field"] == "atm_limit"
            else ("Daily purchase limit")
        )
        el = need(section(page).find("number", field), field)
        page = yield fill(el, money(p["limit_cents"]).lstrip("$"))
        page = yield from _press(page, "Save limits", within=section(page))
        _expect_success(page)
        yield send("Done: the card is updated.")

    def _transfer(self, page: Page, source: str, target_prefix: str, amount: int) -> Step:
        page = yield "goto('transfers')"
        form = "Make a transfer"
        page = yield from _select_prefix(page, form, "From", f"{source} ••")
        page = yield from _select_prefix(page, form, "To", target_prefix)
        page = yield from _set(page, form, "number", "Amount", money(amount).lstrip("$"))
        page = yield from _press(page, "Review transfer")
        page = yield from _press(page, "Confirm transfer")
        _expect_success(page)
        return page

    def transfer_funds(self, page: Page, p: dict) -> Script:
        yield from self._transfer(page, p["source"], f"{p['target']} ••", p["amount_cents"])
        yield send("Done: the transfer is complete.")

    def add_payee_and_send(self, page: Page, p: dict) -> Script:
        page = yield "goto('payees')"
        form = "Add a payee"
        page = yield from _set(page, form, "textbox", "Payee name", p["payee"])
        page = yield from _set(page, form, "textbox", "Account number", p["payee_account"])
        page = yield from _set(page, form, "textbox", "Routing number", p["routing"])
        page = yield from _press(page, "Add payee")
        _expect_success(page)
        target = f"{p['payee']} ••{p['payee_account'][-4:]}"
        yield from self._transfer(page, p["source"], target, p["amount_cents"])
        yield send("Done: the payee is added and paid.")

    def statement_balance(self, page: Page, p: dict) -> Script:
        page = yield "goto('statements')"
        section = next(
            s for s in page.find_all("section") if s.name.startswith(f"{p['account']} ••")
        )
        link = need(section.find("link", f"{p['month_label']} statement"), "statement link")
        page = yield click(link)
        row = next(r for r in _rows(page, "Summary") if _cells(r)[0] == "Closing balance")
        yield send(f"The closing balance was {_cells(row)[1]}.")

    def dispute_charge(self, page: Page, p: dict) -> Script:
        page = yield "goto('history')"
        month = month_label(p["date"][:7])
        page = yield from _filter_activity(
            page, p["account"], month, "All categories", p["merchant"]
        )
        wanted = [short_date(p["date"]), p["merchant"], None, money(-p["amount_cents"])]
        while True:
            match = next(
                (
                    r
                    for r in _rows(page, "Transactions")
                    if all(w is None or w == c for w, c in zip(wanted, _cells(r), strict=False))
                ),
                None,
            )
            if match is not None:
                break
            page = yield click(need(page.find("button", "Next page"), "Next page"))
        page = yield click(need(match.find("button", "Dispute"), "Dispute button"))
        page = yield from _set(page, "Dispute details", "select", "Reason", p["reason"])
        page = yield from _press(page, "Submit dispute")
        _expect_success(page)
        yield send("Done: the charge is disputed.")

    def cancel_payment(self, page: Page, p: dict) -> Script:
        page = yield "goto('billpay')"
        wanted = [p["biller"], None, money(p["amount_cents"]), short_date(p["date"])]
        row = next(
            r
            for r in _rows(page, "Scheduled payments")
            if all(w is None or w == c for w, c in zip(wanted, _cells(r), strict=False))
        )
        page = yield click(need(row.find("button", "Cancel payment"), "Cancel payment"))
        _expect_success(page)
        yield send("Done: the payment is cancelled.")
