"""The ledger's task families: what to ask, drawn from a seed's books, and how to judge it.

Every verifier judges the final state against the seed's initial one: what must have changed
(exactly once), that nothing else changed, and for questions the answer, computed here from the
initial books with the same functions the reports use.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..base import Check, Outcome
from ..tasks import TaskFamily, check_amount, check_no_collateral, diff_records, shown
from .books import by_id, open_bills, open_invoices, overdue_by_customer, periods, profit_and_loss
from .books import quarter_months as _quarter_months
from .formats import long_date, money, norm_text, rate_label
from .world import MERCHANTS, SERVICES, TAX_RATES, build_world, line_totals, vendor_range

ENV = "ledger-v1"
# Every list of records a task could touch; a verifier diffs them all.
DATA_KEYS = ("invoices", "bills", "feed", "customers", "vendors", "accounts")
MERCHANT_ACCOUNTS = {m[0]: m[2] for m in MERCHANTS}


def _account_name(world: dict, account_id: str) -> str:
    return by_id(world["accounts"], account_id)["name"]


def _added(diffs: list, key: str) -> list[dict]:
    return [d[4] for d in diffs if d[0] == key and d[2] == "+"]


# Fields of a new record holding another record's id, and where that record's name is.
NAMED_FIELDS = {"customer": "customers", "vendor": "vendors", "account": "accounts"}
MONEY_FIELDS = ("subtotal", "tax", "total", "amount")


def _shown_field(world: dict, fld: str, value: object) -> str:
    """A field's value as the site shows it: a name for an id, money for cents."""
    if fld in NAMED_FIELDS:
        names = {r["id"]: r["name"] for r in world[NAMED_FIELDS[fld]]}
        return names.get(value, shown(value))  # type: ignore[arg-type]
    if fld in MONEY_FIELDS and isinstance(value, int):
        return money(value)
    return shown(value)


def _field_checks(world: dict, record: dict | None, expected: dict, what: str) -> list[Check]:
    """One check per expected field of a new record ({field: (check name, value, shown)});
    all fail, naming why, when there is no single new record to check. `world` (the final
    state) names the records a field points to."""
    checks = []
    for fld, (name, value, want) in expected.items():
        if record is None:
            checks.append(Check(name, False, f"no single new {what} to check"))
            continue
        got = record.get(fld)
        ok = norm_text(got) == norm_text(value) if isinstance(value, str) else got == value
        detail = (
            f"{fld} is {want}"
            if ok
            else f"{fld} should be {want}, got {_shown_field(world, fld, got)}"
        )
        checks.append(Check(name, ok, detail))
    return checks


def _one_new(diffs: list, key: str, what: str) -> tuple[dict | None, Check]:
    added = _added(diffs, key)
    if len(added) == 1:
        return added[0], Check(f"one_new_{what}", True, f"exactly one {what} was added")
    return None, Check(f"one_new_{what}", False, f"{len(added)} {what}s were added, expected 1")


def _answer_outcome(initial: dict, final: dict, answer_check: Check) -> Outcome:
    diffs = diff_records(initial, final, DATA_KEYS)
    return Outcome.from_checks([answer_check, check_no_collateral(diffs)])


# --- invoices and bills ------------------------------------------------------------------


class CreateInvoice(TaskFamily):
    """Create an invoice for a named customer with one to three line items (description,
    quantity, unit price, tax rate), a due date, and either send it or save it as a draft.

    The verifier requires exactly one new invoice, for that customer, with exactly those line
    items (descriptions compared ignoring case and spacing), the subtotal, tax and total they
    give, issued today, due on the date asked, with the status asked (sent or draft); and no
    other change to the books (another invoice, an edit, a payment is collateral damage)."""

    name = "create_invoice"
    env = ENV
    title = "Create an invoice"
    max_steps = 45
    goal = "Create an invoice for {customer}: {lines_text}. Make it due on {due_long} and {finish}."

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        customer = rng.choice(world["customers"])
        shared_tax = rng.choice(TAX_RATES) if rng.random() < 0.6 else None
        lines = []
        for desc, lo, hi, qlo, qhi, step in rng.sample(SERVICES, rng.choice([1, 2, 2, 3])):
            unit = rng.randint(lo * 100 // step, hi * 100 // step) * step
            qty = rng.randint(qlo, max(qhi, 4))
            tax = shared_tax if shared_tax is not None else rng.choice(TAX_RATES)
            lines.append({"desc": desc, "qty": qty, "unit": unit, "tax": tax})
        parts = []
        for ln in lines:
            tax_text = f"{rate_label(ln['tax'])} tax" if ln["tax"] else "no tax"
            parts.append(f"{ln['qty']} x {ln['desc']} at {money(ln['unit'])} each, {tax_text}")
        due = date.fromisoformat(world["today"]) + timedelta(days=rng.choice([7, 14, 15, 30, 45]))
        status = rng.choice(["sent", "draft"])
        subtotal, tax, total = line_totals(lines)
        return {
            "customer": customer["name"],
            "customer_id": customer["id"],
            "lines": lines,
            "lines_text": "; ".join(parts),
            "due": due.isoformat(),
            "due_long": long_date(due.isoformat()),
            "today": world["today"],
            "status": status,
            "finish": "send it" if status == "sent" else "save it as a draft (do not send it)",
            "subtotal": subtotal,
            "tax": tax,
            "total": total,
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        diffs = diff_records(initial, final, DATA_KEYS)
        inv, one = _one_new(diffs, "invoices", "invoice")
        checks = [one]
        checks += _field_checks(
            final,
            inv,
            {"customer": ("customer", params["customer_id"], params["customer"])},
            "invoice",
        )
        checks.append(_lines_check(inv, params["lines"]))
        checks += _field_checks(
            final,
            inv,
            {
                "subtotal": ("subtotal", params["subtotal"], money(params["subtotal"])),
                "tax": ("tax", params["tax"], money(params["tax"])),
                "total": ("total", params["total"], money(params["total"])),
                "issued": ("issue_date", params["today"], params["today"]),
                "due": ("due_date", params["due"], params["due"]),
                "status": ("status", params["status"], params["status"]),
            },
            "invoice",
        )
        checks.append(check_no_collateral(diffs, allowed=[("invoices", "*", "+")]))
        return Outcome.from_checks(checks)


def _line_key(ln: dict) -> tuple:
    return (norm_text(str(ln.get("desc", ""))), ln.get("qty"), ln.get("unit"), ln.get("tax"))


def _show_line(ln: dict) -> str:
    return (
        f"{ln.get('qty')} x “{ln.get('desc')}” at {money(ln.get('unit') or 0)}, "
        f"{rate_label(ln.get('tax') or 0)}"
    )


def _lines_check(inv: dict | None, expected: list[dict]) -> Check:
    if inv is None:
        return Check("line_items", False, "no single new invoice to check")
    got = sorted(_line_key(ln) for ln in inv["lines"])
    want = sorted(_line_key(ln) for ln in expected)
    if got == want:
        return Check("line_items", True, f"the {len(want)} line item(s) are as asked")
    missing = [ln for ln in expected if _line_key(ln) not in got]
    extra = [ln for ln in inv["lines"] if _line_key(ln) not in want]
    parts = []
    if missing:
        parts.append("missing " + "; ".join(_show_line(ln) for ln in missing))
    if extra:
        parts.append("unexpected " + "; ".join(_show_line(ln) for ln in extra))
    if not parts:
        parts.append(f"{len(got)} line items, expected {len(want)}")
    return Check("line_items", False, "line items differ: " + ", ".join(parts))


def look_alike_vendors(world: dict) -> list[dict]:
    """Vendors whose name starts like another vendor's ("Summit Office Supply" and "Summit
    Office Supplies")."""
    first = [v["name"].split()[0] for v in world["vendors"]]
    return [v for v, word in zip(world["vendors"], first, strict=True) if first.count(word) > 1]


class RecordBill(TaskFamily):
    """Record a bill received from a named vendor: its bill number, amount, expense category
    and due date, dated today. The vendor list holds a near-identical name (e.g. "Summit Office
    Supply" / "Summit Office Supplies").

    The verifier requires exactly one new bill, from that vendor (not the look-alike), with
    that number, amount, category, bill date today, due date, still open; and no other change
    to the books."""

    name = "record_bill"
    env = ENV
    title = "Record a bill"
    max_steps = 30
    goal = (
        "Record bill {number} from {vendor}, dated today, for {amount_text} under {category}, "
        "due on {due_long}."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        vendor = rng.choice(look_alike_vendors(world) if rng.random() < 0.75 else world["vendors"])
        prefix = "".join(w[0] for w in vendor["name"].split() if w[0].isalpha()).upper()[:3]
        taken = {b["number"] for b in world["bills"] if b["vendor"] == vendor["id"]}
        number = f"{prefix}-{rng.randint(10000, 99999)}"
        while number in taken:
            number = f"{prefix}-{rng.randint(10000, 99999)}"
        expense = [a for a in world["accounts"] if a["type"] == "expense"]
        account = vendor["account"] if rng.random() < 0.7 else rng.choice(expense)["id"]
        lo, hi = vendor_range(vendor["name"])
        amount = rng.randint(lo * 100, hi * 100)
        due = date.fromisoformat(world["today"]) + timedelta(days=rng.choice([10, 14, 21, 30]))
        return {
            "vendor": vendor["name"],
            "vendor_id": vendor["id"],
            "number": number,
            "amount": amount,
            "amount_text": money(amount),
            "account_id": account,
            "category": _account_name(world, account),
            "today": world["today"],
            "due": due.isoformat(),
            "due_long": long_date(due.isoformat()),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        diffs = diff_records(initial, final, DATA_KEYS)
        bill, one = _one_new(diffs, "bills", "bill")
        checks = [one]
        checks += _field_checks(
            final,
            bill,
            {
                "vendor": ("vendor", params["vendor_id"], params["vendor"]),
                "number": ("bill_number", params["number"], params["number"]),
                "amount": ("amount", params["amount"], params["amount_text"]),
                "account": ("category", params["account_id"], params["category"]),
                "issued": ("bill_date", params["today"], params["today"]),
                "due": ("due_date", params["due"], params["due"]),
                "status": ("status", "open", "open"),
            },
            "bill",
        )
        checks.append(check_no_collateral(diffs, allowed=[("bills", "*", "+")]))
        return Outcome.from_checks(checks)


# --- the bank feed -----------------------------------------------------------------------


def match_targets(world: dict, deposit: bool) -> list[tuple[dict, dict]]:
    """Unreconciled feed lines that pay exactly one open document: same amount and the line's
    payee is the document's customer (or vendor). A line whose date and amount another
    unreconciled line shares is left out, so the task's wording names one line."""
    lines = [
        ln
        for ln in world["feed"]
        if ln["status"] == "unreconciled" and (ln["amount"] > 0) == deposit
    ]
    seen: dict[tuple[str, int], int] = {}
    for ln in lines:
        seen[(ln["date"], ln["amount"])] = seen.get((ln["date"], ln["amount"]), 0) + 1
    if deposit:
        party = {c["id"]: c["name"] for c in world["customers"]}
        docs = [(d, party[d["customer"]], d["total"]) for d in open_invoices(world)]
    else:
        party = {v["id"]: v["name"] for v in world["vendors"]}
        docs = [(d, party[d["vendor"]], d["amount"]) for d in open_bills(world)]
    out = []
    for ln in lines:
        if seen[(ln["date"], ln["amount"])] > 1:
            continue
        fits = [d for d, who, total in docs if who == ln["payee"] and total == abs(ln["amount"])]
        if len(fits) == 1:
            out.append((ln, fits[0]))
    return out


class _MatchFamily(TaskFamily):
    deposit: bool
    doc_key: str
    doc_word: str

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        targets = match_targets(world, self.deposit)
        if not targets:
            raise ValueError(f"seed {seed}: no {self.doc_word} payment to match in the feed")
        # Most tasks pick a line with a look-alike: another open document of the same amount.
        tricky = [t for t in targets if _look_alikes(world, *t)]
        line, doc = rng.choice(tricky if tricky and rng.random() < 0.6 else targets)
        amount = abs(line["amount"])
        return {
            "line_id": line["id"],
            "doc_id": doc["id"],
            "doc_number": doc["number"],
            "payee": line["payee"],
            "amount": amount,
            "amount_text": money(amount),
            "date": line["date"],
            "date_long": long_date(line["date"]),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        line_id, doc_id = params["line_id"], params["doc_id"]
        line = by_id(final["feed"], line_id)
        doc = by_id(final[self.doc_key], doc_id)
        word, number = self.doc_word, params["doc_number"]
        if line["status"] == "matched" and line["doc"] == doc_id:
            line_check = Check("line_matched", True, f"the line is matched to {word} {number}")
        elif line["status"] == "matched":
            other = _doc_number(final, line["doc"])
            line_check = Check(
                "line_matched", False, f"the line is matched to {other}, not {word} {number}"
            )
        else:
            line_check = Check(
                "line_matched", False, f"the line is {line['status']}, not matched to {number}"
            )
        paid = (
            doc["status"] == "paid"
            and doc["payment"] == line_id
            and doc["paid_on"] == params["date"]
        )
        doc_check = Check(
            "document_paid",
            paid,
            f"{word} {number} is paid by this line"
            if paid
            else f"{word} {number} is {doc['status']}, "
            + (f"paid by line {doc['payment']}, " if doc["payment"] else "not paid by any line, ")
            + f"expected paid by line {line_id} on {params['date']}",
        )
        diffs = diff_records(initial, final, DATA_KEYS)
        allowed = [("feed", line_id, "status"), ("feed", line_id, "doc")]
        allowed += [(self.doc_key, doc_id, f) for f in ("status", "paid_on", "payment")]
        return Outcome.from_checks([line_check, doc_check, check_no_collateral(diffs, allowed)])


def _look_alikes(world: dict, line: dict, doc: dict) -> list[dict]:
    """Other open documents for the same amount as the line (another customer's invoice, a
    near-identically named vendor's bill)."""
    if line["amount"] > 0:
        return [i for i in open_invoices(world) if i["total"] == line["amount"] and i is not doc]
    return [b for b in open_bills(world) if b["amount"] == -line["amount"] and b is not doc]


def _doc_number(state: dict, doc_id: str | None) -> str:
    # A state the site never makes (a line matched to nothing), which the checker's probes try.
    if not doc_id:
        return "no document"
    if doc_id.startswith("i"):
        return "invoice " + by_id(state["invoices"], doc_id)["number"]
    return "bill " + by_id(state["bills"], doc_id)["number"]


class MatchDeposit(_MatchFamily):
    """Reconcile one deposit in the bank feed (named by amount and date) with the invoice it
    pays. Another customer has an open invoice for the same amount, and a partial payment sits
    in the feed too: the payee on the line decides.

    The verifier requires that line matched to exactly that invoice, the invoice paid by that
    line on the line's date, and nothing else changed (matching the look-alike invoice, or
    any other line, fails)."""

    name = "match_deposit"
    env = ENV
    title = "Match a deposit to its invoice"
    max_steps = 20
    goal = (
        "In the bank feed, match the {amount_text} deposit of {date_long} to the invoice it pays."
    )
    deposit, doc_key, doc_word = True, "invoices", "invoice"


class MatchBillPayment(_MatchFamily):
    """Reconcile one payment in the bank feed (named by amount and date) with the bill it pays.
    Two vendors have near-identical names and may hold open bills for the same amount: the
    payee on the line decides.

    The verifier requires that line matched to exactly that bill, the bill paid by that line on
    the line's date, and nothing else changed."""

    name = "match_bill_payment"
    env = ENV
    title = "Match a payment to its bill"
    max_steps = 20
    goal = "In the bank feed, match the {amount_text} payment of {date_long} to the bill it pays."
    deposit, doc_key, doc_word = False, "bills", "bill"


class CategorisePayee(TaskFamily):
    """Categorise every uncategorised (unreconciled) bank-feed payment to a named merchant as a
    given expense category. Look-alike payees ("Uber" / "Uber Eats") and lines of the same
    merchant categorised earlier (sometimes differently) are in the feed.

    The verifier requires each of the merchant's lines that were unreconciled at the start to
    be categorised to that account, and nothing else changed (re-categorising older lines or
    another payee's lines fails)."""

    name = "categorise_payee"
    env = ENV
    title = "Categorise a merchant's spending"
    max_steps = 25
    goal = "Categorise every uncategorised bank-feed payment to {payee} as {category}."

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        todo: dict[str, list[str]] = {}
        for ln in world["feed"]:
            if ln["status"] == "unreconciled" and ln["payee"] in MERCHANT_ACCOUNTS:
                todo.setdefault(ln["payee"], []).append(ln["id"])
        payee = rng.choice(sorted(todo))
        account = rng.choice(MERCHANT_ACCOUNTS[payee])
        return {
            "payee": payee,
            "account_id": account,
            "category": _account_name(world, account),
            "line_ids": todo[payee],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        account, targets = params["account_id"], params["line_ids"]
        wrong = []
        for lid in targets:
            line = by_id(final["feed"], lid)
            if line["status"] != "categorised" or line["account"] != account:
                state = line["status"] if line["status"] != "categorised" else line["account"]
                wrong.append(f"{lid} ({line['date']}, {money(line['amount'])}) is {shown(state)}")
        done = Check(
            "lines_categorised",
            not wrong,
            f"all {len(targets)} line(s) are categorised as {params['category']}"
            if not wrong
            else "not categorised as " + params["category"] + ": " + "; ".join(wrong),
        )
        diffs = diff_records(initial, final, DATA_KEYS)
        allowed = [("feed", lid, f) for lid in targets for f in ("status", "account")]
        return Outcome.from_checks([done, check_no_collateral(diffs, allowed)])


# --- questions ---------------------------------------------------------------------------


class NetProfitMonth(TaskFamily):
    """Report the net profit for a past month, as the Profit and loss report shows it
    (accrual basis), with send_msg_to_user.

    The verifier computes the net profit from the seed's books and requires the answer to name
    exactly that one amount (a loss as a negative amount); the books must be left unchanged."""

    name = "net_profit_month"
    env = ENV
    title = "Net profit for a month"
    max_steps = 15
    goal = (
        "What was the net profit for {period}? Reply with the amount (a loss as a negative amount)."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        months = [p for p in periods(world) if not p[0].startswith("Q")][1:]  # full months
        label, start, end = rng.choice(months)
        return {
            "period": label,
            "start": start,
            "end": end,
            "net": profit_and_loss(world, start, end)["net"],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        net = profit_and_loss(initial, params["start"], params["end"])["net"]
        return _answer_outcome(initial, final, check_amount(final["answer"], net))


class CategorySpendQuarter(TaskFamily):
    """Report how much was spent on one expense category in a quarter, as the Profit and loss
    report for that quarter shows it, with send_msg_to_user.

    The verifier computes the amount from the seed's books (bills by bill date plus bank lines
    categorised to that account) and requires the answer to name exactly that amount; the
    books must be left unchanged."""

    name = "category_spend_quarter"
    env = ENV
    title = "Spending on a category in a quarter"
    max_steps = 15
    goal = (
        "How much did the company spend on {category} in {quarter} ({months})? "
        "Reply with the amount."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        rng = self.rng(seed)
        options = []
        for label, start, end in periods(world):
            if label.startswith("Q"):
                spent = profit_and_loss(world, start, end)["expenses"]
                options += [(label, start, end, a) for a, v in sorted(spent.items()) if v > 0]
        label, start, end, account = rng.choice(options)
        return {
            "quarter": label,
            "months": _quarter_months(label),
            "start": start,
            "end": end,
            "account_id": account,
            "category": _account_name(world, account),
            "amount": profit_and_loss(world, start, end)["expenses"][account],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        spent = profit_and_loss(initial, params["start"], params["end"])["expenses"]
        expected = spent.get(params["account_id"], 0)
        return _answer_outcome(initial, final, check_amount(final["answer"], expected))


def normalise_name(text: str) -> str:
    """An answer as a name: case, spacing, surrounding quotes and a final period ignored."""
    return norm_text(text.strip().strip("\"'“”").rstrip(".!").strip("\"'“”"))


class TopOverdueCustomer(TaskFamily):
    """Name the customer who owes the most in overdue invoices (sent, unpaid, past due today),
    as the accounts receivable aging shows it, with send_msg_to_user. The customer with the
    largest balance overall is often someone else.

    The verifier computes each customer's overdue total from the seed's books and requires the
    answer to be exactly the top customer's name (ignoring case, spacing, quotes and a final
    period); the books must be left unchanged."""

    name = "top_overdue_customer"
    env = ENV
    title = "Customer with the most overdue"
    max_steps = 15
    goal = "Which customer owes the most in overdue invoices? Reply with the customer's name only."

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        overdue = overdue_by_customer(world)
        top = max(overdue.values(), default=0)
        if top <= 0:
            raise ValueError(f"seed {seed}: no overdue invoices")
        winners = [c["name"] for c in world["customers"] if overdue.get(c["id"]) == top]
        return {"customers": winners, "overdue": top}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        overdue = overdue_by_customer(initial)
        top = max(overdue.values(), default=0)
        winners = [c["name"] for c in initial["customers"] if overdue.get(c["id"]) == top]
        answer = final["answer"]
        if answer is None:
            check = Check("answer", False, f"no answer was sent (expected {winners[0]})")
        elif normalise_name(answer) in {normalise_name(w) for w in winners}:
            check = Check("answer", True, f"the answer is {winners[0]} ({money(top)} overdue)")
        else:
            check = Check(
                "answer",
                False,
                f"the answer {answer[:80]!r} is not {winners[0]} ({money(top)} overdue)",
            )
        return _answer_outcome(initial, final, check)


FAMILIES = (
    CreateInvoice(),
    RecordBill(),
    MatchDeposit(),
    MatchBillPayment(),
    CategorisePayee(),
    NetProfitMonth(),
    CategorySpendQuarter(),
    TopOverdueCustomer(),
)
