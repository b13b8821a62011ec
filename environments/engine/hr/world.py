"""The HR portal's seeded data: a company directory (departments, managers, locations), leave
balances and requests, the leave and expense policy, expense reports and payroll corrections.

The actor is signed in as one department's manager ("me"): they file their own leave and
expenses and decide their reports' leave requests. Everything derives from the seed ("today"
included), so every process builds the same world; worlds are cached and shared, so nothing
may modify them.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from environments.engine.kit import WorldRandom

DEPARTMENTS = ("Engineering", "Finance", "Marketing", "Operations", "Sales", "People")
HR_DEPARTMENT = "People"
LOCATIONS = ("Austin", "Boulder", "Madison", "Portland", "Raleigh")
TITLES = ("Analyst", "Specialist", "Coordinator", "Associate", "Senior analyst", "Lead")
LEAVE_TYPES = ("Vacation", "Sick")
CATEGORIES = ("Meals", "Lodging", "Travel", "Supplies", "Per diem")
# Per-item caps in cents; "Per diem" is capped by the employee's location's daily rate.
CAPS = {"Meals": 7500, "Lodging": 25000, "Travel": 60000, "Supplies": 15000}
PER_DIEM = {"Austin": 6400, "Boulder": 7100, "Madison": 5900, "Portland": 7400, "Raleigh": 5900}
RECEIPT_OVER = 2500
# A manager rejects an out-of-policy request with one of these reasons.
REASONS = ("Insufficient balance", "Blackout period", "Less notice than policy requires")
# What makes each seeded pending request of the actor's reports right to approve or not.
REVIEW_KINDS = ("ok", "balance", "blackout", "notice", "long")
PER_DEPARTMENT = 6


def build_world(seed: int) -> dict:
    return _generate(seed)


def add_days(iso: str, days: int) -> str:
    return (date.fromisoformat(iso) + timedelta(days=days)).isoformat()


def weekday_on_or_after(iso: str) -> str:
    day = date.fromisoformat(iso)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.isoformat()


def business_days(start: str, end: str) -> int:
    """Weekdays from start to end, both included (0 when end is before start)."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return sum((first + timedelta(d)).weekday() < 5 for d in range((last - first).days + 1))


def end_after(start: str, days: int) -> str:
    """The day a leave of `days` business days starting on weekday `start` ends."""
    day, left = date.fromisoformat(start), days - 1
    while left:
        day += timedelta(days=1)
        left -= day.weekday() < 5
    return day.isoformat()


def overlaps(a_start: str, a_end: str, b_start: str, b_end: str) -> bool:
    return a_start <= b_end and b_start <= a_end


def months_left(today: str) -> int:
    """Accruals still to come this year: one at the end of each month from this one on."""
    return 13 - int(today[5:7])


@lru_cache(maxsize=256)
def _generate(seed: int) -> dict:
    w = WorldRandom(seed, "hr")
    today = w.today("2024-01-08", 250)
    policy = {
        "accrual": w.choice((1, 2)),
        "carry_limit": w.choice((5, 10, 15)),
        "notice_days": w.choice((7, 10, 14)),
        "hr_days": w.choice((5, 8)),
    }
    blackout_start = weekday_on_or_after(add_days(today, w.randint(25, 35)))
    policy["blackout"] = [blackout_start, add_days(blackout_start, 6)]
    after_blackout = add_days(blackout_start, 8)

    people = w.people(len(DEPARTMENTS) * PER_DEPARTMENT)
    # Namesakes by surname make the tasks read carefully.
    for i in range(0, len(people) - 1, 5):
        name = f"{people[i + 1]['first']} {people[i]['last']}"
        if all(p["name"] != name for p in people):
            people[i + 1] = {**people[i + 1], "name": name}
    employees, managers = [], {}
    for i, person in enumerate(people):
        department = DEPARTMENTS[i % len(DEPARTMENTS)]
        lead = department not in managers
        eid = f"e{i + 1}"
        if lead:
            managers[department] = eid
        employees.append(
            {
                "id": eid,
                "name": person["name"],
                "email": person["email"].split("@")[0] + "@northwind.example",
                "department": department,
                "title": f"{department} manager" if lead else w.choice(TITLES),
                "location": w.choice(LOCATIONS),
                "manager": "" if lead else managers[department],
                "vacation": w.randint(0, 20),
                "sick": w.randint(2, 10),
            }
        )
    me = managers[w.choice(DEPARTMENTS[:-1])]
    employees = [
        {**e, "vacation": max(e["vacation"], 8)} if e["id"] == me else e for e in employees
    ]

    time_off: list[dict] = []

    def leave(employee: str, kind: str, start: str, days: int, status: str, submitted: str) -> dict:
        record = {
            "id": f"t{len(time_off) + 1}",
            "employee": employee,
            "type": kind,
            "start": start,
            "end": end_after(start, days),
            "days": days,
            "submitted": submitted,
            "status": status,
            "reason": "",
        }
        time_off.append(record)
        return record

    # The actor's own leave: one approved, one pending, both after the blackout.
    own_start = weekday_on_or_after(add_days(after_blackout, w.randint(0, 10)))
    first = leave(me, "Vacation", own_start, w.randint(1, 3), "approved", add_days(today, -20))
    second_start = weekday_on_or_after(add_days(first["end"], w.randint(12, 20)))
    leave(me, w.choice(LEAVE_TYPES), second_start, w.randint(1, 2), "pending", add_days(today, -3))

    # One pending request from each of the actor's reports, each with its policy standing.
    reports = [e for e in employees if e["manager"] == me]
    for report, kind in zip(reports, w.shuffled(REVIEW_KINDS * 2), strict=False):
        days = w.randint(2, 4)
        submitted = add_days(today, -w.randint(0, 4))
        start = weekday_on_or_after(add_days(after_blackout, w.randint(0, 30)))
        if kind == "blackout":
            start = weekday_on_or_after(add_days(blackout_start, w.randint(0, 2)))
        elif kind == "notice":
            start = weekday_on_or_after(add_days(today, w.randint(2, policy["notice_days"] - 5)))
            submitted = add_days(today, -1)
        elif kind == "long":
            days = policy["hr_days"] + w.randint(1, 3)
        balance = w.randint(0, days - 1) if kind == "balance" else max(days, w.randint(0, 20))
        index = employees.index(report)
        employees[index] = {**report, "vacation": balance}
        leave(report["id"], "Vacation", start, days, "pending", submitted)

    # Other departments' leave: requests the actor sees nowhere but must not touch.
    for e in w.sample([e for e in employees if e["manager"] not in ("", me)], 6):
        start = weekday_on_or_after(add_days(today, w.randint(3, 60)))
        status = w.choice(("pending", "approved"))
        leave(e["id"], w.choice(LEAVE_TYPES), start, w.randint(1, 3), status, add_days(today, -5))

    expense_reports, expense_items = [], []
    titles: list[str] = []
    while len(titles) < w.randint(2, 3):
        title = f"{w.words(2).title()} trip"
        titles += [title] if title not in titles else []
    for n, title in enumerate(titles):
        rid = f"r{n + 1}"
        expense_reports.append({"id": rid, "title": title, "status": "submitted"})
        for _ in range(w.randint(1, 3)):
            category = w.choice(CATEGORIES[:4])
            expense_items.append(
                {
                    "id": f"x{len(expense_items) + 1}",
                    "report": rid,
                    "category": category,
                    "date": add_days(today, -w.randint(30, 90)),
                    "amount": w.amount(500, CAPS[category], 1),
                    "receipt": True,
                    "description": w.words(2),
                }
            )

    # The pay periods a correction may name: up to three closed months of this year (in
    # January, last December).
    year, month = today[:4], int(today[5:7])
    periods = [f"{year}-{m:02d}" for m in range(max(1, month - 3), month)] or [
        f"{int(year) - 1}-12"
    ]
    corrections = []
    for n, e in enumerate(w.sample([e for e in employees if e["manager"]], 3)):
        corrections.append(
            {
                "id": f"p{n + 1}",
                "employee": e["id"],
                "period": w.choice(periods),
                "amount": w.amount(2000, 90000, 1),
                "reason": w.sentence(3, 6),
                "approver": e["manager"],
            }
        )
    return {
        "today": today,
        "me": me,
        "policy": policy,
        "periods": periods,
        "employees": employees,
        "time_off": time_off,
        "expense_reports": expense_reports,
        "expense_items": expense_items,
        "corrections": corrections,
    }


def review_kind(world: dict, request: dict) -> str:
    """Where a request stands against the policy: "ok", "balance", "blackout", "notice" or
    "long" (over the days a manager may approve: it goes to HR)."""
    policy = world["policy"]
    employee = next(e for e in world["employees"] if e["id"] == request["employee"])
    balance = employee["vacation" if request["type"] == "Vacation" else "sick"]
    if request["days"] > balance:
        return "balance"
    if overlaps(request["start"], request["end"], *policy["blackout"]):
        return "blackout"
    if (date.fromisoformat(request["start"]) - date.fromisoformat(request["submitted"])).days < (
        policy["notice_days"]
    ):
        return "notice"
    if request["days"] > policy["hr_days"]:
        return "long"
    return "ok"
