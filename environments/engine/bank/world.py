"""The bank's seeded data: a customer, accounts with six months of history, statements, billers,
payees, scheduled payments and cards. Everything derives from the seed, "today" included."""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache

# The reference "today" falls in this window, so there are always five full months of history.
_FIRST_TODAY = date(2024, 6, 1)
_TODAY_SPAN_DAYS = 200
HISTORY_MONTHS = 5  # full months before the current one

FIRST_NAMES = [
    "Alex",
    "Jordan",
    "Maria",
    "Wei",
    "Priya",
    "Samuel",
    "Fatima",
    "Lucas",
    "Hannah",
    "Diego",
    "Aisha",
    "Noah",
    "Mei",
    "Omar",
    "Grace",
    "Ivan",
    "Chloe",
    "Kwame",
    "Sofia",
    "Daniel",
]
LAST_NAMES = [
    "Chen",
    "Okafor",
    "Garcia",
    "Nguyen",
    "Patel",
    "Kim",
    "Rossi",
    "Müller",
    "O'Brien",
    "Haddad",
    "Johnson",
    "Silva",
    "Kowalski",
    "Tanaka",
    "Andersen",
    "Mensah",
    "Dubois",
    "Levy",
    "Reyes",
]
PASSWORD_WORDS = ["maple", "harbor", "tulip", "cobalt", "meadow", "falcon", "copper", "willow"]
EMPLOYERS = ["Acme Logistics", "Brightside Health", "Northwind Traders", "Orbital Software"]
LANDLORDS = ["Parkview Apartments", "Elm Street Properties", "Riverside Lofts", "Oak Hill Homes"]
CHECKING_NAMES = ["Everyday Checking", "Premier Checking", "Smart Checking"]
SAVINGS_NAMES = ["High-Yield Savings", "Everyday Savings", "Goal Saver"]
CREDIT_NAMES = ["Cashback Visa", "Travel Rewards Mastercard", "Platinum Visa"]
CITIES = ["Springfield", "Riverton", "Fairview", "Lakewood", "Greenville", "Madison"]

DISPUTE_REASONS = [
    "Unrecognized charge",
    "Duplicate charge",
    "Wrong amount",
    "Item not received",
    "Cancelled subscription",
]
# Only card purchases can be disputed: not bills, rent, cash, or money moving between accounts.
NOT_DISPUTABLE = frozenset({"Income", "Transfers", "Interest", "Housing", "Utilities", "Cash"})

# category -> (merchants, min dollars, max dollars)
PURCHASES = {
    "Groceries": (
        ["Whole Foods Market", "Trader Joe's", "Safeway", "Kroger", "Aldi", "Wegmans"],
        18,
        240,
    ),
    "Dining": (["Chipotle", "Starbucks", "Olive Garden", "Panera Bread", "Sweetgreen"], 7, 95),
    "Gas & fuel": (["Shell", "Chevron", "BP", "ExxonMobil"], 28, 80),
    "Shopping": (["Amazon", "Target", "Best Buy", "IKEA", "Walmart"], 15, 250),
    "Travel": (["Delta Air Lines", "Marriott", "Uber", "Amtrak"], 20, 650),
    "Health": (["CVS Pharmacy", "Walgreens"], 8, 60),
}
CHECKING_CATEGORIES = {
    "Groceries": (5, 8),
    "Dining": (3, 6),
    "Gas & fuel": (2, 4),
    "Health": (0, 2),
}
CREDIT_CATEGORIES = {"Groceries": (2, 5), "Dining": (3, 6), "Shopping": (2, 5), "Travel": (0, 1)}
SUBSCRIPTIONS = [("Netflix", 1549), ("Spotify", 1199), ("NYT Digital", 1700)]

BILLER_STEMS = ["Metro", "Pacific", "Summit", "Riverbend", "Lakeshore", "Northgate", "Cedar Valley"]
INTERNET = ["Comcast Xfinity", "Spectrum Internet", "Sonic Fiber", "Verizon Fios"]
PHONE = ["Verizon Wireless", "T-Mobile", "AT&T Wireless"]
INSURANCE = ["State Farm Insurance", "Geico Auto Insurance", "Allstate Insurance"]
# kind -> typical monthly bill in dollars
BILL_RANGES = {
    "electricity": (55, 190),
    "gas": (25, 120),
    "water": (30, 85),
    "internet": (55, 95),
    "phone": (40, 130),
    "insurance": (90, 210),
}


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def add_months(d: date, months: int) -> date:
    """The first day of the month `months` after d's month."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def routing_checksum_ok(routing: str) -> bool:
    """The ABA routing-number checksum: 3-7-1 weights, sum divisible by ten."""
    d = [int(c) for c in routing]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


def make_routing(rng: random.Random) -> str:
    d = [int(c) for c in "0" + digits(rng, 7)]
    partial = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5]
    return "".join(map(str, d)) + str(-partial % 10)


def cents(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low * 100, high * 100)


def build_world(seed: int) -> dict:
    """The bank's initial data and session for a seed (the environment's own state keys).

    Generating takes most of a millisecond, so worlds are cached and their parts shared between
    episodes; that is safe because states are never modified in place.
    """
    return dict(_generate(seed))


@lru_cache(maxsize=512)
def _generate(seed: int) -> dict:
    rng = random.Random(f"bank/{seed}")
    today = _FIRST_TODAY + timedelta(days=rng.randrange(_TODAY_SPAN_DAYS))
    start = add_months(today, -HISTORY_MONTHS)

    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    username = (first[0] + last).lower().replace("'", "").replace("ü", "u") + str(
        rng.randint(10, 99)
    )
    password = f"{rng.choice(PASSWORD_WORDS)}-{rng.randint(1000, 9999)}"

    last4s = rng.sample(range(1000, 10000), 3)
    accounts = [
        {"id": "chk", "kind": "checking", "name": rng.choice(CHECKING_NAMES)},
        {"id": "sav", "kind": "savings", "name": rng.choice(SAVINGS_NAMES)},
        {"id": "cc", "kind": "credit", "name": rng.choice(CREDIT_NAMES)},
    ]
    for acct, l4 in zip(accounts, last4s, strict=True):
        acct["number"] = digits(rng, 6) + str(l4)
    opening = {
        "chk": cents(rng, 2500, 6000),
        "sav": cents(rng, 4000, 30000),
        "cc": -cents(rng, 200, 1500),
    }
    chk_name, sav_name, cc_name = (a["name"] for a in accounts)

    billers = _billers(rng, today)
    events: list[tuple[str, str, str, str, int]] = []  # date, account, description, category

    def add(acct: str, d: date, desc: str, category: str, amount: int) -> None:
        if start <= d <= today:
            events.append((d.isoformat(), acct, desc, category, amount))

    salary = cents(rng, 2600, 4200)
    employer = rng.choice(EMPLOYERS)
    payday = start + timedelta(days=rng.randrange(14))
    while payday <= today:
        add("chk", payday, f"Payroll deposit {employer}", "Income", salary)
        payday += timedelta(days=14)
    rent, landlord = cents(rng, 1300, 2300), rng.choice(LANDLORDS)
    subs = rng.sample(SUBSCRIPTIONS, 2)
    city = rng.choice(CITIES)
    for m in range(HISTORY_MONTHS + 1):
        month = add_months(start, m)
        days = (add_months(month, 1) - month).days

        def day(lo: int = 1, hi: int = days, month: date = month) -> date:
            return month + timedelta(days=rng.randint(lo, hi) - 1)

        add("chk", month, f"Rent {landlord}", "Housing", -rent)
        for biller in billers:
            if biller["kind"] != "insurance":
                lo, hi = BILL_RANGES[biller["kind"]]
                add(
                    "chk",
                    day(8, 25),
                    f"Bill payment {biller['name']}",
                    "Utilities",
                    -cents(rng, lo, hi),
                )
        saved = cents(rng, 150, 600) // 100 * 100
        add("chk", month + timedelta(days=2), f"Transfer to {sav_name}", "Transfers", -saved)
        add("sav", month + timedelta(days=2), f"Transfer from {chk_name}", "Transfers", saved)
        card_payment = cents(rng, 900, 1700)
        add("chk", month + timedelta(days=19), f"Payment to {cc_name}", "Transfers", -card_payment)
        add(
            "cc",
            month + timedelta(days=19),
            "Payment received, thank you",
            "Transfers",
            card_payment,
        )
        add("sav", month + timedelta(days=days - 1), "Interest paid", "Interest", cents(rng, 4, 40))
        for acct, plan in (("chk", CHECKING_CATEGORIES), ("cc", CREDIT_CATEGORIES)):
            for category, (lo_n, hi_n) in plan.items():
                merchants, lo, hi = PURCHASES[category]
                for _ in range(rng.randint(lo_n, hi_n)):
                    add(acct, day(), rng.choice(merchants), category, -cents(rng, lo, hi))
        for _ in range(rng.randint(1, 2)):
            add("chk", day(), f"ATM withdrawal {city}", "Cash", -rng.randint(2, 15) * 2000)
        for name, price in subs:
            add("cc", month + timedelta(days=rng.randint(0, 4)), name, "Entertainment", -price)

    # Ordered by date; ids follow that order, so the newest transaction has the highest id.
    events.sort(key=lambda e: (e[0], e[1], e[2], e[4]))
    balances = dict(opening)
    txns = []
    statements = []
    month_totals: dict[tuple[str, str], list[int]] = {}
    for i, (d, acct, desc, category, amount) in enumerate(events, 1):
        txns.append([f"t{i:04d}", acct, d, desc, category, amount])
        balances[acct] += amount
        totals = month_totals.setdefault((acct, d[:7]), [0, 0])
        totals[0 if amount > 0 else 1] += amount
    for acct in accounts:
        running = opening[acct["id"]]
        for m in range(HISTORY_MONTHS):
            month = add_months(start, m)
            key = month_key(month)
            credits, debits = month_totals.get((acct["id"], key), [0, 0])
            closing = running + credits + debits
            statements.append(
                {
                    "id": f"{acct['id']}-{key}",
                    "account": acct["id"],
                    "month": key,
                    "opening": running,
                    "credits": credits,
                    "debits": debits,
                    "closing": closing,
                }
            )
            running = closing
    for acct in accounts:
        acct["balance"] = balances[acct["id"]]

    return {
        "today": today.isoformat(),
        "signed_in": False,
        "user": {"name": f"{first} {last}", "username": username, "password": password},
        "view": {},
        "pending": None,
        "accounts": accounts,
        "txns": txns,
        "statements": statements,
        "billers": billers,
        "payees": _payees(rng),
        "payments": _scheduled(rng, today, billers),
        "transfers": [],
        "cards": _cards(rng, f"{first} {last}", last),
        "disputes": [],
    }


def _billers(rng: random.Random, today: date) -> list[dict]:
    # Electricity and gas share a name stem ("Summit Electric" / "Summit Gas & Heating"):
    # a bill-pay task names one, and the other is the distractor.
    stem = rng.choice(BILLER_STEMS)
    named = [
        ("electricity", f"{stem} Electric"),
        ("gas", f"{stem} Gas & Heating"),
        ("water", f"City of {rng.choice(CITIES)} Water"),
        ("internet", rng.choice(INTERNET)),
        ("phone", rng.choice(PHONE)),
        ("insurance", rng.choice(INSURANCE)),
    ]
    billers = []
    for i, (kind, name) in enumerate(named, 1):
        lo, hi = BILL_RANGES[kind]
        billers.append(
            {
                "id": f"b{i}",
                "kind": kind,
                "name": name,
                "number": digits(rng, 8),
                "due": cents(rng, lo, hi),
                "due_date": (today + timedelta(days=rng.randint(5, 25))).isoformat(),
            }
        )
    return billers


def _payees(rng: random.Random) -> list[dict]:
    names = rng.sample(
        [f"{f} {ln}" for f in FIRST_NAMES[:10] for ln in ("Lee", "Lopez", "Brown", "Shah")], 3
    )
    return [
        {"id": f"y{i}", "name": n, "account": digits(rng, 10), "routing": make_routing(rng)}
        for i, n in enumerate(names, 1)
    ]


def _scheduled(rng: random.Random, today: date, billers: list[dict]) -> list[dict]:
    # Two payments to the same phone company a month apart, so a cancel task has a distractor.
    by_kind = {b["kind"]: b for b in billers}
    phone, insurance = by_kind["phone"], by_kind["insurance"]
    first = today + timedelta(days=rng.randint(3, 20))
    plan = [
        (phone, first, phone["due"]),
        (phone, first + timedelta(days=30), cents(rng, *BILL_RANGES["phone"])),
        (insurance, today + timedelta(days=rng.randint(5, 40)), insurance["due"]),
    ]
    return [
        {
            "id": f"p{i}",
            "biller": biller["id"],
            "account": "chk",
            "amount": amount,
            "date": d.isoformat(),
            "status": "scheduled",
        }
        for i, (biller, d, amount) in enumerate(plan, 1)
    ]


def _cards(rng: random.Random, holder: str, last_name: str) -> list[dict]:
    # Two debit cards whose numbers end alike (the customer's and a household member's).
    prefix = rng.randint(10, 99)
    ends = rng.sample(range(100), 2)
    other = f"{rng.choice([n for n in FIRST_NAMES if n not in holder])} {last_name}"
    credit_last4 = rng.randint(1000, 9999)
    while credit_last4 // 100 == prefix:
        credit_last4 = rng.randint(1000, 9999)
    return [
        {
            "id": "k1",
            "kind": "debit",
            "last4": f"{prefix}{ends[0]:02d}",
            "holder": holder,
            "account": "chk",
            "frozen": False,
            "atm_limit": rng.choice([300, 400, 500]) * 100,
            "daily_limit": rng.choice([2000, 2500, 3000]) * 100,
        },
        {
            "id": "k2",
            "kind": "debit",
            "last4": f"{prefix}{ends[1]:02d}",
            "holder": other,
            "account": "chk",
            "frozen": True,
            "atm_limit": rng.choice([200, 300]) * 100,
            "daily_limit": rng.choice([1000, 1500]) * 100,
        },
        {
            "id": "k3",
            "kind": "credit",
            "last4": str(credit_last4),
            "holder": holder,
            "account": "cc",
            "frozen": False,
            "atm_limit": None,
            "daily_limit": rng.choice([4000, 5000, 6000]) * 100,
        },
    ]
