"""The bank's task families. Each draws its parameters from the same seeded data the bank builds
for that seed, and verifies the final state: what must have changed, that nothing else did."""

from __future__ import annotations

from datetime import date, timedelta

from ..base import Check, Outcome
from ..tasks import TaskFamily, check_amount, check_field, check_no_collateral, diff_records
from .formats import long_date, money, month_label
from .world import DISPUTE_REASONS, NOT_DISPUTABLE, build_world, make_routing

ENV = "bank-v1"
# Record lists a task may change; the rest of the state is data that no action touches.
RECORDS = ["accounts", "billers", "payees", "payments", "transfers", "cards", "disputes"]
SIGN_IN = "Sign in as {username} (password: {password}). "
# Payee surnames and the near-homonyms a new payee gets, so the old one is a distractor.
FULL_DUE = "the full amount due shown on the Bill pay page"
SOUNDALIKE = {"Lee": "Leigh", "Lopez": "Lopes", "Brown": "Browne", "Shah": "Shaw"}


def _credentials(w: dict) -> dict:
    return {"username": w["user"]["username"], "password": w["user"]["password"]}


def _funding_account(w: dict) -> dict:
    """The account a payment comes from when the one drawn cannot cover it: savings, which
    only ever grows from thousands, while checking can run low or overdrawn (a few seeds in
    a thousand), and the site refuses a payment beyond the balance."""
    return w["accounts"][1]


def _by_id(records: list[dict], rid: str) -> dict:
    return next(r for r in records if r["id"] == rid)


def _new(initial: dict, final: dict, key: str) -> list[dict]:
    """Records of `final[key]` that were not in `initial[key]`."""
    old = {r["id"] for r in initial[key]}
    return [r for r in final[key] if r["id"] not in old]


def _one_new(initial: dict, final: dict, key: str, what: str) -> tuple[dict | None, Check]:
    """The single new record the task asks for, and the check that there is exactly one."""
    new = _new(initial, final, key)
    name = f"one_{what.replace(' ', '_')}"
    if not new:
        return None, Check(name, False, f"no {what} was made")
    if len(new) > 1:
        return new[0], Check(name, False, f"{len(new)} {what}s were made; the task asks for one")
    return new[0], Check(name, True, f"one {what} was made")


def _field(name: str, record: dict | None, what: str, got: object, want: object, shown) -> Check:
    missing = f"no {what} to check" if record is None else None
    return check_field(name, got, want, shown, missing=missing)


def _collateral(initial: dict, final: dict, allowed: list[tuple[str, str, str]]) -> Check:
    return check_no_collateral(diff_records(initial, final, RECORDS), allowed)


class PayBill(TaskFamily):
    """Schedule one bill payment: a named biller, amount, source account and date.

    Half the tasks give the amount; the other half say "the full amount due", which the actor
    reads from the billers table. The biller's sibling company (same name stem) is the
    distractor. The verifier requires exactly one new scheduled payment with the right biller,
    amount, account and date, and no other change (existing payments untouched).
    """

    name = "pay_bill"
    env = ENV
    title = "Pay a bill"
    max_steps = 30
    goal = (
        SIGN_IN + "Schedule a payment to {biller} (your {kind} company) from your {account} "
        "account for {date_long}. Pay {amount_text}."
    )

    def params(self, seed: int) -> dict:
        w, rng = build_world(seed), self.rng(seed)
        kinds = ("electricity", "gas", "water", "internet")
        biller = rng.choice([b for b in w["billers"] if b["kind"] in kinds])
        acct = w["accounts"][0] if rng.random() < 0.7 else w["accounts"][1]
        full = rng.random() < 0.5
        amount = biller["due"] if full else rng.randint(2000, 25000)
        if amount > acct["balance"]:
            acct = _funding_account(w)
        # A day of the month people pick (the 1st, 15th, ...), inside the scheduling window.
        today = date.fromisoformat(w["today"])
        days = (today + timedelta(days=n) for n in range(1, 86))
        when = rng.choice([d for d in days if d.day in (1, 5, 15, 20, 28)])
        return {
            **_credentials(w),
            "biller": biller["name"],
            "biller_id": biller["id"],
            "kind": biller["kind"],
            "account": acct["name"],
            "account_id": acct["id"],
            "amount_cents": amount,
            "full_due": full,
            "amount_text": FULL_DUE if full else money(amount),
            "date": when.isoformat(),
            "date_long": long_date(when.isoformat()),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        pay, one = _one_new(initial, final, "payments", "payment")
        get = (lambda k: pay[k]) if pay else (lambda k: None)
        billers = {b["id"]: b["name"] for b in final["billers"]}
        accounts = {a["id"]: a["name"] for a in final["accounts"]}
        checks = [
            one,
            _field(
                "biller",
                pay,
                "payment",
                get("biller"),
                params["biller_id"],
                lambda v: f"paid {billers.get(v, v)}",
            ),
            _field(
                "amount",
                pay,
                "payment",
                get("amount"),
                params["amount_cents"],
                lambda v: money(v) if v is not None else "no amount",
            ),
            _field(
                "from_account",
                pay,
                "payment",
                get("account"),
                params["account_id"],
                lambda v: f"from {accounts.get(v, v)}",
            ),
            _field("date", pay, "payment", get("date"), params["date"], lambda v: f"on {v}"),
            _collateral(initial, final, [("payments", pay["id"], "+")] if pay else []),
        ]
        return Outcome.from_checks(checks)


class LargestPurchase(TaskFamily):
    """Report the largest purchase of a category on one account in one month.

    The actor filters the activity (account, month, category) or pages through it; the month
    and category have at least three purchases and a unique largest one. The verifier compares
    the answer as an amount (sign ignored, "$84.12" or "84.12") and fails any change to the
    bank's records.
    """

    name = "largest_purchase"
    env = ENV
    title = "Find the largest purchase"
    max_steps = 25
    goal = (
        SIGN_IN + "What was your largest {category} purchase on your {account} account in "
        "{month_label}? Reply with the amount."
    )

    def params(self, seed: int) -> dict:
        w, rng = build_world(seed), self.rng(seed)
        full_months = sorted({s["month"] for s in w["statements"]})
        groups: dict[tuple[str, str, str], list[int]] = {}
        for _, acct, d, _, cat, amount in w["txns"]:
            if amount < 0 and cat in ("Groceries", "Dining", "Shopping", "Gas & fuel"):
                groups.setdefault((acct, cat, d[:7]), []).append(-amount)
        candidates = sorted(
            key
            for key, amounts in groups.items()
            if key[2] in full_months
            and len(amounts) >= 3
            and sorted(amounts)[-1] != sorted(amounts)[-2]
        )
        acct_id, category, month = rng.choice(candidates)
        return {
            **_credentials(w),
            "account": _by_id(w["accounts"], acct_id)["name"],
            "category": category,
            "month": month,
            "month_label": month_label(month),
            "amount_cents": max(groups[acct_id, category, month]),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        return Outcome.from_checks(
            [
                check_amount(final["answer"], params["amount_cents"], absolute=True),
                _collateral(initial, final, []),
            ]
        )


class CardControls(TaskFamily):
    """Freeze or unfreeze one card and change one of its limits.

    Variants: freeze the customer's debit card and raise its ATM limit; unfreeze the
    household member's debit card (its number ends like the other's) and set its daily
    purchase limit; freeze the credit card and lower its daily limit. The verifier checks the
    card's frozen flag and the limit, and that no other card or field changed.
    """

    name = "card_controls"
    env = ENV
    title = "Freeze a card and change a limit"
    max_steps = 20
    goal = SIGN_IN + "On the Cards page, {instruction}."

    def params(self, seed: int) -> dict:
        w, rng = build_world(seed), self.rng(seed)
        k1, k2, k3 = w["cards"]
        variant = rng.choice(["freeze_atm", "unfreeze_daily", "freeze_credit_daily"])
        if variant == "freeze_atm":
            card, frozen, fld = k1, True, "atm_limit"
            limit = rng.choice(range(k1["atm_limit"] + 10000, 100001, 10000))
            text = (
                f"freeze your debit card ending in {k1['last4']} and raise its ATM "
                f"withdrawal limit to {money(limit)} a day"
            )
        elif variant == "unfreeze_daily":
            card, frozen, fld = k2, False, "daily_limit"
            limit = rng.choice([x for x in range(50000, 500001, 25000) if x != k2["daily_limit"]])
            text = (
                f"unfreeze {k2['holder']}'s debit card ending in {k2['last4']} and set its "
                f"daily purchase limit to {money(limit)}"
            )
        else:
            card, frozen, fld = k3, True, "daily_limit"
            limit = rng.choice(range(50000, k3["daily_limit"], 50000))
            text = (
                f"freeze your credit card ending in {k3['last4']} and lower its daily "
                f"purchase limit to {money(limit)}"
            )
        return {
            **_credentials(w),
            "card_id": card["id"],
            "kind": card["kind"],
            "last4": card["last4"],
            "frozen": frozen,
            "limit_field": fld,
            "limit_cents": limit,
            "instruction": text,
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        cid, fld = params["card_id"], params["limit_field"]
        card = _by_id(final["cards"], cid)
        state = "frozen" if params["frozen"] else "active"
        label = "ATM limit" if fld == "atm_limit" else "daily purchase limit"
        checks = [
            Check(
                "card_status",
                card["frozen"] == params["frozen"],
                f"card ••{card['last4']} is {'frozen' if card['frozen'] else 'active'}"
                + ("" if card["frozen"] == params["frozen"] else f"; it should be {state}"),
            ),
            _field(
                "card_limit",
                card,
                "card",
                card[fld],
                params["limit_cents"],
                lambda v: f"{label} {money(v)}",
            ),
            _collateral(initial, final, [("cards", cid, "frozen"), ("cards", cid, fld)]),
        ]
        return Outcome.from_checks(checks)


class TransferFunds(TaskFamily):
    """Move an amount between two of the customer's own accounts (savings to checking,
    checking to savings, or a credit-card payment from checking).

    The verifier requires exactly one new transfer with the right source, destination and
    amount, both balances moved by exactly that amount, and no other change.
    """

    name = "transfer_funds"
    env = ENV
    title = "Transfer between accounts"
    max_steps = 20
    goal = SIGN_IN + "Transfer {amount_text} from your {source} account to your {target} account."

    def params(self, seed: int) -> dict:
        w, rng = build_world(seed), self.rng(seed)
        chk, sav, cc = w["accounts"]
        src, dst = rng.choice([(sav, chk), (chk, sav), (chk, cc)])
        if src["balance"] < 50_00:
            src, dst = _funding_account(w), chk
        amount = rng.randint(50, min(3000, src["balance"] // 100)) * 100
        if rng.random() < 0.4:
            amount = min(amount + rng.randint(1, 99), src["balance"])
        return {
            **_credentials(w),
            "source": src["name"],
            "source_id": src["id"],
            "target": dst["name"],
            "target_id": dst["id"],
            "amount_cents": amount,
            "amount_text": money(amount),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        tr, one = _one_new(initial, final, "transfers", "transfer")
        src, dst, amount = params["source_id"], params["target_id"], params["amount_cents"]
        get = (lambda k: tr[k]) if tr else (lambda k: None)
        names = {a["id"]: a["name"] for a in final["accounts"]}
        before = {a["id"]: a["balance"] for a in initial["accounts"]}
        after = {a["id"]: a["balance"] for a in final["accounts"]}
        moved = after[src] == before[src] - amount and after[dst] == before[dst] + amount
        checks = [
            one,
            _field(
                "from_account",
                tr,
                "transfer",
                get("from"),
                src,
                lambda v: f"from {names.get(v, v)}",
            ),
            _field("to_account", tr, "transfer", get("to"), dst, lambda v: f"to {names.get(v, v)}"),
            _field(
                "amount",
                tr,
                "transfer",
                get("amount"),
                amount,
                lambda v: money(v) if v is not None else "no amount",
            ),
            Check(
                "balances",
                moved,
                f"{names[src]} {money(before[src])} -> {money(after[src])}, "
                f"{names[dst]} {money(before[dst])} -> {money(after[dst])}",
            ),
            _collateral(
                initial,
                final,
                [
                    ("transfers", tr["id"] if tr else "", "+"),
                    ("accounts", src, "balance"),
                    ("accounts", dst, "balance"),
                ],
            ),
        ]
        return Outcome.from_checks(checks)


class AddPayeeAndSend(TaskFamily):
    """Add a new payee (name, account number, routing number), then send them money.

    An existing payee has the same first name and a near-identical surname, so the actor must
    not pay the old one. The verifier requires exactly one new payee with exactly the given
    details, exactly one new transfer to that payee from the right account for the right amount,
    and no other change.
    """

    name = "add_payee_and_send"
    env = ENV
    title = "Add a payee and send money"
    max_steps = 30
    goal = (
        SIGN_IN + "Add {payee} as a new payee (account number {payee_account}, routing number "
        "{routing}), then send them {amount_text} from your {source} account."
    )

    def params(self, seed: int) -> dict:
        w, rng = build_world(seed), self.rng(seed)
        known = rng.choice(w["payees"])
        first, surname = known["name"].split(" ", 1)
        name = f"{first} {SOUNDALIKE[surname]}"
        src = w["accounts"][0]
        amount = rng.randint(20, 500) * 100 + (rng.randint(1, 99) if rng.random() < 0.5 else 0)
        if amount > src["balance"]:
            src = _funding_account(w)
        return {
            **_credentials(w),
            "payee": name,
            "payee_account": "".join(rng.choice("0123456789") for _ in range(rng.randint(8, 12))),
            "routing": make_routing(rng),
            "source": src["name"],
            "source_id": src["id"],
            "amount_cents": amount,
            "amount_text": money(amount),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        payee, one_payee = _one_new(initial, final, "payees", "payee")
        tr, one_tr = _one_new(initial, final, "transfers", "transfer")
        want = (
            " ".join(params["payee"].split()).casefold(),
            params["payee_account"],
            params["routing"],
        )
        got = (payee["name"].casefold(), payee["account"], payee["routing"]) if payee else None
        names = {r["id"]: r["name"] for r in [*final["accounts"], *final["payees"]]}
        src = params["source_id"]
        get = (lambda k: tr[k]) if tr else (lambda k: None)
        checks = [
            one_payee,
            _field(
                "payee_details",
                payee,
                "payee",
                got,
                want,
                lambda v: "name, account, routing = " + ", ".join(v) if v else "nothing",
            ),
            one_tr,
            _field(
                "recipient",
                tr,
                "transfer",
                get("to"),
                payee["id"] if payee else "",
                lambda v: f"sent to {names.get(v, v or 'nobody')}",
            ),
            _field(
                "from_account",
                tr,
                "transfer",
                get("from"),
                src,
                lambda v: f"from {names.get(v, v)}",
            ),
            _field(
                "amount",
                tr,
                "transfer",
                get("amount"),
                params["amount_cents"],
                lambda v: money(v) if v is not None else "no amount",
            ),
            _collateral(
                initial,
                final,
                [
                    ("payees", payee["id"] if payee else "", "+"),
                    ("transfers", tr["id"] if tr else "", "+"),
                    ("accounts", src, "balance"),
                ],
            ),
        ]
        return Outcome.from_checks(checks)


class StatementBalance(TaskFamily):
    """Report the closing balance of one account's statement for one month.

    Five monthly statements per account are listed; neighbouring months are the distractors.
    The verifier compares the answer as a signed amount and fails any change to the records.
    """

    name = "statement_balance"
    env = ENV
    title = "Read a statement"
    max_steps = 15
    goal = (
        SIGN_IN + "What was the closing balance on your {account} statement for {month_label}? "
        "Reply with the amount."
    )

    def params(self, seed: int) -> dict:
        w, rng = build_world(seed), self.rng(seed)
        stmt = rng.choice([s for s in w["statements"] if s["account"] in ("chk", "sav")])
        return {
            **_credentials(w),
            "account": _by_id(w["accounts"], stmt["account"])["name"],
            "month": stmt["month"],
            "month_label": month_label(stmt["month"]),
            "amount_cents": stmt["closing"],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        return Outcome.from_checks(
            [check_amount(final["answer"], params["amount_cents"]), _collateral(initial, final, [])]
        )


class DisputeCharge(TaskFamily):
    """Dispute one card charge with a given reason.

    The merchant has other charges on the same account, so date and amount pick the one. The
    verifier requires exactly one new dispute, on that transaction, with that reason, and no
    other change.
    """

    name = "dispute_charge"
    env = ENV
    title = "Dispute a charge"
    max_steps = 30
    goal = (
        SIGN_IN + "On {date_long}, your {account} account was charged {amount_text} by "
        "{merchant}. Dispute that charge with the reason '{reason}'."
    )

    def params(self, seed: int) -> dict:
        w, rng = build_world(seed), self.rng(seed)
        counts: dict[tuple[str, str], int] = {}
        seen: dict[tuple[str, str, str, int], int] = {}
        for _, acct, d, desc, _, amount in w["txns"]:
            counts[acct, desc] = counts.get((acct, desc), 0) + 1
            seen[acct, d, desc, amount] = seen.get((acct, d, desc, amount), 0) + 1
        candidates = [
            t
            for t in w["txns"]
            if t[5] < 0
            and t[4] not in NOT_DISPUTABLE
            and counts[t[1], t[3]] >= 2
            and seen[t[1], t[2], t[3], t[5]] == 1
        ]
        tid, acct_id, d, desc, _, amount = rng.choice(candidates)
        return {
            **_credentials(w),
            "txn_id": tid,
            "account": _by_id(w["accounts"], acct_id)["name"],
            "merchant": desc,
            "date": d,
            "date_long": long_date(d),
            "amount_cents": -amount,
            "amount_text": money(-amount),
            "reason": rng.choice(DISPUTE_REASONS),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        dispute, one = _one_new(initial, final, "disputes", "dispute")
        get = (lambda k: dispute[k]) if dispute else (lambda k: None)
        txns = {t[0]: t for t in final["txns"]}

        def describe(tid: str | None) -> str:
            if tid not in txns:
                return "no transaction"
            t = txns[tid]
            return f"the {money(-t[5])} charge from {t[3]} on {t[2]}"

        checks = [
            one,
            _field(
                "transaction",
                dispute,
                "dispute",
                get("txn"),
                params["txn_id"],
                lambda v: f"disputed {describe(v)}",
            ),
            _field(
                "reason",
                dispute,
                "dispute",
                get("reason"),
                params["reason"],
                lambda v: f"reason {v!r}",
            ),
            _collateral(initial, final, [("disputes", dispute["id"] if dispute else "", "+")]),
        ]
        return Outcome.from_checks(checks)


class CancelPayment(TaskFamily):
    """Cancel one scheduled bill payment.

    Two payments to the same phone company are scheduled a month apart (plus an insurance
    one), so the amount and date pick the payment. The verifier requires that payment to be
    cancelled and every other payment and record unchanged.
    """

    name = "cancel_payment"
    env = ENV
    title = "Cancel a scheduled payment"
    max_steps = 15
    goal = SIGN_IN + "Cancel the {amount_text} payment to {biller} scheduled for {date_long}."

    def params(self, seed: int) -> dict:
        w, rng = build_world(seed), self.rng(seed)
        pay = rng.choice(w["payments"])
        return {
            **_credentials(w),
            "payment_id": pay["id"],
            "biller": _by_id(w["billers"], pay["biller"])["name"],
            "amount_cents": pay["amount"],
            "amount_text": money(pay["amount"]),
            "date": pay["date"],
            "date_long": long_date(pay["date"]),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        pid = params["payment_id"]
        status = _by_id(final["payments"], pid)["status"]
        checks = [
            Check("cancelled", status == "cancelled", f"the payment is {status}"),
            _collateral(initial, final, [("payments", pid, "status")]),
        ]
        return Outcome.from_checks(checks)


FAMILIES: dict[str, TaskFamily] = {
    f.name: f
    for f in (
        PayBill(),
        LargestPurchase(),
        CardControls(),
        TransferFunds(),
        AddPayeeAndSend(),
        StatementBalance(),
        DisputeCharge(),
        CancelPayment(),
    )
}
