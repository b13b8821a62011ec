"""What the books say: document statuses, open documents, the profit and loss for a period,
receivables aging and the bank balance. Pure functions of a state, shared by the pages and the
verifiers so that a report and the answer it is checked against are one computation."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from .formats import MONTHS, month_label
from .world import add_months

AGING_BUCKETS = ("Current", "1-30 days", "31-60 days", "61-90 days", "Over 90 days")


def by_id(records: list[dict], rid: str) -> dict:
    for rec in records:
        if rec["id"] == rid:
            return rec
    raise KeyError(rid)


def names(records: list[dict]) -> dict[str, str]:
    """id -> name for customers, vendors or accounts."""
    return {r["id"]: r["name"] for r in records}


def invoice_status(inv: dict, today: str) -> str:
    """Draft, Sent, Overdue (sent and past due) or Paid."""
    status = inv["status"]
    if status == "sent":
        return "Overdue" if inv["due"] < today else "Sent"
    return status.capitalize()


def bill_status(bill: dict, today: str) -> str:
    """Open, Overdue or Paid."""
    if bill["status"] == "paid":
        return "Paid"
    return "Overdue" if bill["due"] < today else "Open"


def open_invoices(state: dict) -> list[dict]:
    """Invoices sent and not yet paid: what a deposit can be matched to."""
    return [inv for inv in state["invoices"] if inv["status"] == "sent"]


def open_bills(state: dict) -> list[dict]:
    return [b for b in state["bills"] if b["status"] == "open"]


def category_accounts(state: dict, kinds: tuple[str, ...] = ("income", "expense")) -> list[dict]:
    """Accounts a bank line or a bill can be categorised to."""
    return [a for a in state["accounts"] if a["type"] in kinds]


def bank_balance(state: dict) -> int:
    return state["opening_balance"] + sum(line["amount"] for line in state["feed"])


# --- profit and loss ---------------------------------------------------------------------


def periods(state: dict) -> tuple[tuple[str, str, str], ...]:
    """Report periods as (label, first day, last day), ISO: months newest first, then
    quarters newest first, from the month the books start to the current one."""
    return _periods(state["books_start"], state["today"])


@lru_cache(maxsize=1024)
def _periods(books_start: str, today_iso: str) -> tuple[tuple[str, str, str], ...]:
    start, today = date.fromisoformat(books_start), date.fromisoformat(today_iso)
    out = []
    month = date(today.year, today.month, 1)
    while month >= start:
        end = add_months(month, 1) - timedelta(days=1)
        out.append((month_label(month.isoformat()[:7]), month.isoformat(), end.isoformat()))
        month = add_months(month, -1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    while add_months(quarter, 3) > start:
        end = add_months(quarter, 3) - timedelta(days=1)
        label = f"Q{(quarter.month - 1) // 3 + 1} {quarter.year}"
        out.append((label, quarter.isoformat(), end.isoformat()))
        quarter = add_months(quarter, -3)
    return tuple(out)


def quarter_months(label: str) -> str:
    """ "Q2 2024" -> "April to June 2024"."""
    q, year = int(label[1]), label[3:]
    return f"{MONTHS[q * 3 - 3]} to {MONTHS[q * 3 - 1]} {year}"


def profit_and_loss(state: dict, start: str, end: str) -> dict:
    """Accrual-basis P&L for [start, end]: invoices (sent or paid, before tax) by issue date,
    bills by bill date, and bank lines categorised straight to an income or expense account.

    Returns {"income": {account id: cents}, "expenses": {...}, "total_income",
    "total_expenses", "net"}.
    """
    kinds = {a["id"]: a["type"] for a in state["accounts"]}
    income: dict[str, int] = {}
    expenses: dict[str, int] = {}
    for inv in state["invoices"]:
        if inv["status"] != "draft" and start <= inv["issued"] <= end:
            income["4000"] = income.get("4000", 0) + inv["subtotal"]
    for bill in state["bills"]:
        if start <= bill["issued"] <= end:
            expenses[bill["account"]] = expenses.get(bill["account"], 0) + bill["amount"]
    for line in state["feed"]:
        if line["status"] == "categorised" and start <= line["date"] <= end:
            acct = line["account"]
            if kinds[acct] == "income":
                income[acct] = income.get(acct, 0) + line["amount"]
            else:
                expenses[acct] = expenses.get(acct, 0) - line["amount"]
    total_income, total_expenses = sum(income.values()), sum(expenses.values())
    return {
        "income": income,
        "expenses": expenses,
        "total_income": total_income,
        "total_expenses": total_expenses,
        "net": total_income - total_expenses,
    }


# --- receivables -------------------------------------------------------------------------


def aging(state: dict) -> list[tuple[str, list[int]]]:
    """Open invoices by customer and by days past due, as (customer id, [five buckets]),
    customers with nothing open left out, in customer order."""
    today = date.fromisoformat(state["today"])
    table: dict[str, list[int]] = {}
    for inv in open_invoices(state):
        late = (today - date.fromisoformat(inv["due"])).days
        bucket = 0 if late <= 0 else min(4, (late - 1) // 30 + 1)
        table.setdefault(inv["customer"], [0, 0, 0, 0, 0])[bucket] += inv["total"]
    return [(c["id"], table[c["id"]]) for c in state["customers"] if c["id"] in table]


def overdue_by_customer(state: dict) -> dict[str, int]:
    """Customer id -> total of their overdue invoices (past due, not paid)."""
    return {cid: sum(buckets[1:]) for cid, buckets in aging(state)}
