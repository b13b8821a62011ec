"""The HR portal's task families. Each draws from the world its seed builds and verifies the
final state: what must have changed, and that nothing else did."""

from __future__ import annotations

from environments.engine.base import Check, Outcome
from environments.engine.kit import WorldRandom, by_id, long_date, money
from environments.engine.tasks import (
    TaskFamily,
    check_amount,
    check_field,
    check_no_collateral,
    diff_records,
    shown,
    whole_numbers_in,
)

from .world import (
    CAPS,
    CATEGORIES,
    LOCATIONS,
    PER_DIEM,
    RECEIPT_OVER,
    add_days,
    build_world,
    business_days,
    end_after,
    months_left,
    overlaps,
    review_kind,
    weekday_on_or_after,
)

ENV = "hr-v1"
RECORDS = ["employees", "time_off", "expense_reports", "expense_items", "corrections"]
PERIOD_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _collateral(initial: dict, final: dict, allowed: list[tuple[str, str, str]]) -> Check:
    return check_no_collateral(diff_records(initial, final, RECORDS), allowed)


def _reason(text: str) -> str:
    return f"“{text}”" if text else "empty"


def _rng(seed: int, family: str) -> WorldRandom:
    return WorldRandom(seed, f"{ENV}/{family}")


def _added(initial: dict, final: dict, key: str) -> list[dict]:
    old = {r["id"] for r in initial[key]}
    return [r for r in final[key] if r["id"] not in old]


def _whole_number_check(answer: str | None, expected: int) -> Check:
    # Whole numbers only: "3.5" is not a count of days, and an answer naming two numbers fails.
    numbers = whole_numbers_in(answer)
    ok = numbers == [str(expected)]
    named = ", ".join(numbers) if numbers else "no whole number"
    return Check("answer", ok, f"the answer names {named}, expected {expected}")


def _employee_name(world: dict, eid: object) -> str:
    return next((e["name"] for e in world["employees"] if e["id"] == eid), shown(eid))


def _show_date(iso: object) -> str:
    return long_date(iso) if isinstance(iso, str) and iso else shown(iso)


def _period_name(period: str) -> str:
    return f"{PERIOD_MONTHS[int(period[5:7]) - 1]} {period[:4]}"


class RequestTimeOff(TaskFamily):
    """Request vacation for oneself (the actor) between two days that the policy allows. The
    verifier wants exactly one new pending request of the actor's with that type, first and
    last day, and nothing else changed (a request does not touch the balance until approved)."""

    name = "request_time_off"
    env = ENV
    title = "Request time off"
    max_steps = 20
    goal = "Request vacation from {start_long} to {end_long}."

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        mine = [r for r in world["time_off"] if r["employee"] == world["me"]]
        blackout_end = world["policy"]["blackout"][1]
        while True:
            start = weekday_on_or_after(add_days(blackout_end, w.randint(2, 60)))
            end = end_after(start, w.randint(1, 4))
            if not any(overlaps(start, end, r["start"], r["end"]) for r in mine):
                break
        return {
            "start": start,
            "end": end,
            "start_long": long_date(start),
            "end_long": long_date(end),
            "days": business_days(start, end),
            "me": world["me"],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        new = _added(initial, final, "time_off")
        checks = [Check("one_request", len(new) == 1, f"{len(new)} request(s) added")]
        got = new[0] if new else {}

        missing = None if got else "no request was added"

        def employee(eid: object) -> str:
            return _employee_name(final, eid)

        def days(n: object) -> str:
            return f"{n} day(s)" if isinstance(n, int) else shown(n)

        for key, want, show in (
            ("employee", params["me"], employee),
            ("type", "Vacation", shown),
            ("start", params["start"], _show_date),
            ("end", params["end"], _show_date),
            ("days", params["days"], days),
            ("status", "pending", shown),
        ):
            checks.append(check_field(key, got.get(key), want, show, missing=missing))
        allowed = [("time_off", r["id"], "+") for r in new[:1]]
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class CancelTimeOff(TaskFamily):
    """Cancel one of the actor's own leave requests, named by its first day. The verifier wants
    it cancelled, its days back in the balance when it had been approved, and nothing else
    changed."""

    name = "cancel_time_off"
    env = ENV
    title = "Cancel a time-off request"
    max_steps = 15
    goal = "Cancel my {type_lower} request that starts on {start_long}."

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        mine = [r for r in world["time_off"] if r["employee"] == world["me"]]
        r = _rng(seed, self.name).choice(mine)
        me = by_id(world["employees"], world["me"])
        key = "vacation" if r["type"] == "Vacation" else "sick"
        restored = me[key] + (r["days"] if r["status"] == "approved" else 0)
        return {
            "id": r["id"],
            "type": r["type"],
            "type_lower": r["type"].lower(),
            "start": r["start"],
            "start_long": long_date(r["start"]),
            "me": world["me"],
            "balance_key": key,
            "balance": restored,
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        status = by_id(final["time_off"], params["id"])["status"]
        balance = by_id(final["employees"], params["me"])[params["balance_key"]]
        checks = [
            Check("cancelled", status == "cancelled", f"the request is {status}"),
            Check(
                "balance",
                balance == params["balance"],
                f"the balance is {balance} days, expected {params['balance']}",
            ),
        ]
        allowed = [
            ("time_off", params["id"], "status"),
            ("employees", params["me"], params["balance_key"]),
        ]
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class ReviewTimeOff(TaskFamily):
    """Decide a report's pending vacation request by the policy: approve it when it is within
    policy, reject it with the policy reason it breaks (balance, blackout, notice), or forward
    it to HR when it is longer than a manager may approve. The right outcome is often a
    refusal, and the portal lets a manager approve a blackout or short-notice request: the
    verifier wants the request's status and reason the policy calls for, the balance changed
    only by a right approval, and nothing else changed."""

    name = "review_time_off"
    env = ENV
    title = "Review a leave request by the policy"
    max_steps = 20
    goal = (
        "Review {employee_name}'s vacation request starting {start_long}: approve it if it is "
        "within the leave policy; otherwise reject it with the policy reason, or forward it "
        "to HR if it is longer than you may approve."
    )
    OUTCOMES = {
        "ok": ("approved", ""),
        "balance": ("rejected", "Insufficient balance"),
        "blackout": ("rejected", "Blackout period"),
        "notice": ("rejected", "Less notice than policy requires"),
        "long": ("with HR", ""),
    }

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        reports = {e["id"] for e in world["employees"] if e["manager"] == world["me"]}
        pending = [
            r for r in world["time_off"] if r["employee"] in reports and r["status"] == "pending"
        ]
        r = _rng(seed, self.name).choice(pending)
        employee = by_id(world["employees"], r["employee"])
        kind = review_kind(world, r)
        status, reason = self.OUTCOMES[kind]
        return {
            "id": r["id"],
            "employee": employee["id"],
            "employee_name": employee["name"],
            "start_long": long_date(r["start"]),
            "kind": kind,
            "status": status,
            "reason": reason,
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        r = by_id(final["time_off"], params["id"])
        checks = [
            Check(
                "decision",
                r["status"] == params["status"],
                f"the request is {r['status']}; the policy calls for {params['status']}",
            ),
            Check(
                "reason",
                r["reason"] == params["reason"],
                f"the reason is {_reason(r['reason'])}, expected {_reason(params['reason'])}",
            ),
        ]
        allowed = [("time_off", params["id"], "status"), ("time_off", params["id"], "reason")]
        if params["status"] == "approved":  # an approval takes the days off the balance
            allowed.append(("employees", params["employee"], "vacation"))
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class FileExpenseReport(TaskFamily):
    """File an expense report of five items, each with its category, date, amount, description
    and whether a receipt is attached (the solver's longest task: about 30 steps), then submit
    it. Every item is within the policy, so the portal accepts each one typed as asked. The
    verifier wants exactly one new report, submitted, with that title and exactly those five
    items, and nothing else changed."""

    name = "file_expense_report"
    env = ENV
    title = "File an expense report"
    max_steps = 60
    goal = "File and submit an expense report titled '{title}' with these items: {listing}."
    ITEMS = 5

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        location = by_id(world["employees"], world["me"])["location"]
        items = []
        for _ in range(self.ITEMS):
            category = w.choice(CATEGORIES)
            cap = PER_DIEM[location] if category == "Per diem" else CAPS[category]
            amount = w.amount(800, cap, 1)
            items.append(
                {
                    "category": category,
                    "date": add_days(world["today"], -w.randint(1, 20)),
                    "amount": amount,
                    "receipt": amount > RECEIPT_OVER or w.chance(0.5),
                    "description": w.words(2),
                }
            )
        listing = "; ".join(
            f"{i['category']} on {long_date(i['date'])}, {money(i['amount'])}, "
            f"'{i['description']}', {'with' if i['receipt'] else 'no'} receipt"
            for i in items
        )
        return {"title": f"{w.words(2).title()} visit", "items": items, "listing": listing}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        new = _added(initial, final, "expense_reports")
        checks = [Check("one_report", len(new) == 1, f"{len(new)} report(s) added")]
        report = new[0] if new else {"id": None, "title": None, "status": None}
        missing = None if new else "no report was added"
        checks.append(check_field("title", report["title"], params["title"], missing=missing))
        checks.append(
            Check(
                "submitted",
                report["status"] == "submitted",
                f"the report is {report['status']}" if new else missing,
            )
        )
        fields = ("category", "date", "amount", "receipt", "description")
        got = sorted(
            tuple(i[f] for f in fields)
            for i in final["expense_items"]
            if i["report"] == report["id"]
        )
        want = sorted(tuple(i[f] for f in fields) for i in params["items"])
        missing = [w for w in want if w not in got]
        extra = [g for g in got if g not in want]
        checks.append(
            Check(
                "items",
                got == want,
                f"{len(got)} item(s); {len(missing)} asked for missing, {len(extra)} not asked for",
            )
        )
        allowed = [("expense_reports", r["id"], "+") for r in new[:1]]
        allowed += [
            ("expense_items", i["id"], "+")
            for i in _added(initial, final, "expense_items")
            if i["report"] == report["id"]
        ]
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class PayrollCorrection(TaskFamily):
    """File a payroll correction for an employee named with their department, approved by that
    employee's manager (found in the directory: the goal does not name them). The verifier
    wants exactly one new correction with that employee, pay period, amount, reason and
    approver, and nothing else changed."""

    name = "payroll_correction"
    env = ENV
    title = "File a payroll correction"
    max_steps = 25
    goal = (
        "{employee_name} ({department}) was underpaid by {amount_shown} in the {period_long} "
        "pay period. File a payroll correction with the reason '{reason}', approved by their "
        "manager."
    )

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        employee = w.choice([e for e in world["employees"] if e["manager"]])
        period = w.choice(world["periods"])
        amount = w.amount(1500, 150000, 1)
        return {
            "employee": employee["id"],
            "employee_name": employee["name"],
            "department": employee["department"],
            "period": period,
            "period_long": _period_name(period),
            "amount": amount,
            "amount_shown": money(amount),
            "reason": w.sentence(3, 6),
            "approver": employee["manager"],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        new = _added(initial, final, "corrections")
        checks = [Check("one_correction", len(new) == 1, f"{len(new)} correction(s) added")]
        got = new[0] if new else {}

        def employee(eid: object) -> str:
            return _employee_name(final, eid)

        missing = None if got else "no correction was added"

        def period(value: object) -> str:
            return _period_name(value) if isinstance(value, str) and value else shown(value)

        def amount(cents: object) -> str:
            return money(cents) if isinstance(cents, int) else shown(cents)

        for key, show in (
            ("employee", employee),
            ("period", period),
            ("amount", amount),
            ("reason", shown),
            ("approver", employee),
        ):
            checks.append(check_field(key, got.get(key), params[key], show, missing=missing))
        allowed = [("corrections", c["id"], "+") for c in new[:1]]
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class CarryOver(TaskFamily):
    """Answer how many vacation days an employee's manager will carry into next year if they
    take no more leave: their balance (the manager's page) plus this year's remaining accruals
    (the policy page), capped by the carry-over limit (the policy page); the manager is found
    through the employee in the directory. The verifier wants that number alone and nothing
    changed."""

    name = "carry_over"
    env = ENV
    title = "Work out a manager's vacation carry-over"
    max_steps = 25
    goal = (
        "How many vacation days will the manager of {employee_name} ({department}) carry over "
        "into next year if they take no more time off? Answer with the number."
    )

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        employee = w.choice([e for e in world["employees"] if e["manager"]])
        manager = by_id(world["employees"], employee["manager"])
        policy = world["policy"]
        accrued = manager["vacation"] + policy["accrual"] * months_left(world["today"])
        return {
            "employee_name": employee["name"],
            "department": employee["department"],
            "days": min(accrued, policy["carry_limit"]),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        checks = [_whole_number_check(final["answer"], params["days"])]
        checks.append(_collateral(initial, final, []))
        return Outcome.from_checks(checks)


class ExpenseTotal(TaskFamily):
    """Answer the total of one of the actor's submitted expense reports, named by its title
    (the report's page shows it). The verifier wants that amount alone and nothing changed."""

    name = "expense_total"
    env = ENV
    title = "Read an expense report's total"
    max_steps = 12
    goal = "What is the total of my expense report '{title}'? Answer with the amount."

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        report = _rng(seed, self.name).choice(world["expense_reports"])
        total = sum(i["amount"] for i in world["expense_items"] if i["report"] == report["id"])
        return {"title": report["title"], "total": total}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        checks = [check_amount(final["answer"], params["total"])]
        checks.append(_collateral(initial, final, []))
        return Outcome.from_checks(checks)


class TransferEmployee(TaskFamily):
    """Transfer one of the actor's reports to another office, giving a reason (only a report's
    own manager sees the transfer form). The verifier wants that employee's new location and
    nothing else changed."""

    name = "transfer_employee"
    env = ENV
    title = "Transfer a report to another office"
    max_steps = 20
    goal = "Transfer {employee_name} to the {location} office (reason: {reason})."

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        employee = w.choice([e for e in world["employees"] if e["manager"] == world["me"]])
        return {
            "employee": employee["id"],
            "employee_name": employee["name"],
            "department": employee["department"],
            "location": w.choice([c for c in LOCATIONS if c != employee["location"]]),
            "reason": w.sentence(3, 6),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        location = by_id(final["employees"], params["employee"])["location"]
        checks = [
            Check("location", location == params["location"], f"the employee is in {location}")
        ]
        checks.append(_collateral(initial, final, [("employees", params["employee"], "location")]))
        return Outcome.from_checks(checks)


FAMILIES = {
    f.name: f
    for f in (
        RequestTimeOff(),
        CancelTimeOff(),
        ReviewTimeOff(),
        FileExpenseReport(),
        PayrollCorrection(),
        CarryOver(),
        ExpenseTotal(),
        TransferEmployee(),
    )
}
