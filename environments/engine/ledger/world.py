"""The ledger's seeded books: a small company, its customers and vendors, six months of
invoices, bills and bank-feed lines, and a recent stretch of the feed not yet reconciled.

Everything derives from the seed, "today" included. Records, in the state:

    accounts   {id, name, type}: the chart of accounts (id is the account code)
    customers  {id, name, email}
    vendors    {id, name, email, account}: account is the vendor's usual expense account
    invoices   {id, number, customer, issued, due, lines: [{desc, qty, unit, tax}],
                subtotal, tax, total, status: draft|sent|paid, paid_on, payment}
    bills      {id, number, vendor, account, amount, issued, due, memo,
                status: open|paid, paid_on, payment}
    feed       bank-feed lines {id, date, description, payee, amount (+ in, - out),
                status: unreconciled|matched|categorised, doc, account}

Distractors are planted on purpose: two open invoices with the same total for different
customers (one of them paid in the feed), a partial payment that matches no invoice, two vendors
with near-identical names holding open bills, and merchants whose names overlap ("Uber" /
"Uber Eats").
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache

_FIRST_TODAY = date(2024, 1, 20)
_TODAY_SPAN_DAYS = 330
HISTORY_MONTHS = 6  # full months of books before the current one

ACCOUNTS = (
    ("1000", "Business checking", "asset"),
    ("1100", "Accounts receivable", "asset"),
    ("2000", "Accounts payable", "liability"),
    ("2100", "Sales tax payable", "liability"),
    ("3000", "Owner's equity", "equity"),
    ("4000", "Sales", "income"),
    ("4100", "Interest income", "income"),
    ("6000", "Advertising & marketing", "expense"),
    ("6050", "Bank fees", "expense"),
    ("6100", "Contractors", "expense"),
    ("6150", "Equipment", "expense"),
    ("6200", "Insurance", "expense"),
    ("6250", "Meals", "expense"),
    ("6300", "Office supplies", "expense"),
    ("6350", "Postage & shipping", "expense"),
    ("6400", "Professional fees", "expense"),
    ("6450", "Rent", "expense"),
    ("6500", "Software subscriptions", "expense"),
    ("6550", "Travel", "expense"),
    ("6600", "Utilities", "expense"),
)
SALES_ACCOUNT = "4000"
TAX_RATES = (0, 500, 825, 1000)  # basis points

COMPANY_WORDS = [
    "Bluebird",
    "Cedar",
    "Northstar",
    "Copperleaf",
    "Harborview",
    "Juniper",
    "Foxglove",
    "Ironwood",
    "Lumen",
    "Saltmarsh",
    "Kestrel",
    "Quarry Lane",
]
COMPANY_KINDS = ["Design Studio", "Consulting", "Creative Co.", "Web Works", "Media Lab"]
CUSTOMERS = [
    "Harbor Point Dental", "Greenleaf Cafe", "Pinecrest Realty", "Atlas Fitness",
    "Moonrise Bakery", "Redwood Legal Group", "Sunnyside Pediatrics", "Blue Fern Yoga",
    "Ridgeline Outfitters", "Maple & Main Books", "Orchard Hill Winery", "Crescent Auto Repair",
    "Lighthouse Tutoring", "Silver Oak Dental", "Riverstone Brewing", "Tidewater Marine",
    "Golden Gate Florist", "Elm Street Pharmacy", "Northfield Veterinary",
    "Beacon Hill Architects", "Parkside Physio", "Willow Creek Farms", "Starlight Cinema",
    "Granite Peak Builders",
]  # fmt: skip
# (description, unit price range in dollars, quantity range, price step in cents)
SERVICES = [
    ("Website design", 800, 2400, 1, 1, 5000),
    ("Logo design", 300, 900, 1, 1, 2500),
    ("Consulting (hourly)", 90, 180, 2, 20, 500),
    ("Monthly maintenance retainer", 250, 600, 1, 3, 2500),
    ("Photography session", 200, 650, 1, 3, 2500),
    ("Copywriting (per page)", 60, 150, 1, 12, 500),
    ("Social media management", 400, 1200, 1, 1, 5000),
    ("Web hosting (annual)", 120, 360, 1, 1, 100),
    ("SEO audit", 350, 950, 1, 1, 2500),
    ("Brochure printing (per 100)", 45, 110, 1, 10, 50),
]
# Near-identical vendor names: a bill task names one, the other is the distractor.
VENDOR_PAIRS = [
    ("Summit Office Supply", "Summit Office Supplies", "6300", 40, 600),
    ("Brightline Software", "Brightline Softworks", "6500", 49, 320),
    ("Metro Power & Light", "Metro Power & Gas", "6600", 120, 380),
    ("Keystone Print Shop", "Keystone Printing Co.", "6000", 150, 900),
    ("Clearwater IT Services", "Clearwater IT Solutions", "6400", 200, 1200),
    ("Pioneer Courier", "Pioneer Couriers", "6350", 30, 220),
]
# (names, account, dollars range, kind)
OTHER_VENDORS = [
    (["Parkview Commercial Properties", "Elmwood Office Park", "Riverside Business Center"],
     "6450", 1200, 3200, "rent"),
    (["Hartwell Business Insurance", "Bluecrest Mutual"], "6200", 150, 400, "monthly"),
    (["Dunmore & Price CPAs", "Lakeview Bookkeeping"], "6400", 300, 900, "quarterly"),
    (["Jamie Ortiz Freelance", "Priya Raman Design", "Sam Becker Dev"], "6100", 400, 2200,
     "monthly"),
]  # fmt: skip
# Card merchants paid straight from the account: (payee, feed text, accounts, dollars range).
# The first account is the usual one; later ones are what a bookkeeper may also have used.
MERCHANTS = [
    ("Staples", "STAPLES #{n}", ["6300", "6150"], 12, 180),
    ("Amazon", "AMZN MKTP US*{ref}", ["6300", "6150"], 15, 400),
    ("Zoom", "ZOOM.US 888-799-9666", ["6500"], 15, 65),
    ("Adobe", "ADOBE *CREATIVE CLOUD", ["6500"], 55, 90),
    ("Delta Air Lines", "DELTA AIR {ref}", ["6550"], 180, 650),
    ("Uber", "UBER *TRIP {ref}", ["6550"], 12, 65),
    ("Uber Eats", "UBER *EATS {ref}", ["6250"], 18, 90),
    ("Marriott", "MARRIOTT {city}", ["6550"], 150, 420),
    ("Chipotle", "CHIPOTLE {n}", ["6250"], 9, 60),
    ("Starbucks", "STARBUCKS STORE {n}", ["6250"], 5, 40),
    ("Google Ads", "GOOGLE *ADS{ref}", ["6000"], 50, 600),
    ("FedEx", "FEDEX {n}", ["6350", "6300"], 12, 140),
]
CITIES = ["DENVER", "AUSTIN", "SEATTLE", "CHICAGO", "BOSTON", "ATLANTA"]
DEPOSIT_TEXT = ["ACH CREDIT {name}", "MOBILE DEPOSIT {name}", "WIRE IN {name}"]
PAYMENT_TEXT = ["BILL PAY {name}", "ACH DEBIT {name}"]


def vendor_range(name: str) -> tuple[int, int]:
    """A vendor's usual bill amounts, in dollars."""
    for a, b, _, lo, hi in VENDOR_PAIRS:
        if name in (a, b):
            return lo, hi
    for names, _, lo, hi, _ in OTHER_VENDORS:
        if name in names:
            return lo, hi
    raise KeyError(name)


def add_months(d: date, months: int) -> date:
    """The first day of the month `months` after d's month."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def line_totals(lines: list[dict]) -> tuple[int, int, int]:
    """An invoice's (subtotal, tax, total) in cents; each line's tax rounds half up."""
    subtotal = tax = 0
    for ln in lines:
        amount = ln["qty"] * ln["unit"]
        subtotal += amount
        tax += (amount * ln["tax"] + 5000) // 10000
    return subtotal, tax, subtotal + tax


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())[:30]


class _Books:
    """Collects records while the world is built; ids are assigned at the end, by date."""

    def __init__(self, rng: random.Random, today: date, cutoff: date) -> None:
        self.rng, self.today, self.cutoff = rng, today, cutoff
        self.invoices: list[dict] = []
        self.bills: list[dict] = []
        self.lines: list[dict] = []

    def feed(
        self,
        d: date,
        description: str,
        payee: str,
        amount: int,
        *,
        doc: dict | None = None,
        account: str | None = None,
    ) -> dict:
        """A bank-feed line; lines on or before the cutoff are already reconciled."""
        done = d <= self.cutoff
        line = {
            "date": d.isoformat(),
            "description": description,
            "payee": payee,
            "amount": amount,
            "status": ("matched" if doc else "categorised") if done else "unreconciled",
            "doc": doc if done else None,
            "account": account if done and not doc else None,
        }
        if doc is not None and done:
            doc["status"], doc["paid_on"], doc["payment"] = "paid", d.isoformat(), line
        self.lines.append(line)
        return line

    def invoice(
        self, customer: dict, issued: date, lines: list[dict], terms: int, status: str = "sent"
    ) -> dict:
        subtotal, tax, total = line_totals(lines)
        inv = {
            "customer": customer["id"],
            "issued": issued.isoformat(),
            "due": (issued + timedelta(days=terms)).isoformat(),
            "lines": lines,
            "subtotal": subtotal,
            "tax": tax,
            "total": total,
            "status": status,
            "paid_on": None,
            "payment": None,
        }
        self.invoices.append(inv)
        return inv

    def pay_invoice(self, inv: dict, customer: dict, d: date, amount: int | None = None) -> None:
        text = self.rng.choice(DEPOSIT_TEXT).format(name=customer["name"].upper())
        full = amount is None
        self.feed(
            d, text, customer["name"], inv["total"] if full else amount, doc=inv if full else None
        )

    def bill(self, vendor: dict, issued: date, amount: int, terms: int) -> dict:
        bill = {
            "number": self._bill_number(vendor),
            "vendor": vendor["id"],
            "account": vendor["account"],
            "amount": amount,
            "issued": issued.isoformat(),
            "due": (issued + timedelta(days=terms)).isoformat(),
            "memo": "",
            "status": "open",
            "paid_on": None,
            "payment": None,
        }
        self.bills.append(bill)
        return bill

    def _bill_number(self, vendor: dict) -> str:
        taken = {b["number"] for b in self.bills if b["vendor"] == vendor["id"]}
        while True:
            number = f"{vendor['prefix']}-{self.rng.randint(10000, 99999)}"
            if number not in taken:
                return number

    def pay_bill(self, bill: dict, vendor: dict, d: date) -> None:
        text = self.rng.choice(PAYMENT_TEXT).format(name=vendor["name"].upper())
        self.feed(d, text, vendor["name"], -bill["amount"], doc=bill)

    def service_lines(self, n: int, tax: int) -> list[dict]:
        out = []
        for desc, lo, hi, qlo, qhi, step in self.rng.sample(SERVICES, n):
            unit = self.rng.randint(lo * 100 // step, hi * 100 // step) * step
            out.append({"desc": desc, "qty": self.rng.randint(qlo, qhi), "unit": unit, "tax": tax})
        return out


def build_world(seed: int) -> dict:
    """The ledger's initial data and view for a seed (the environment's own state keys).

    Generating takes about a millisecond, so worlds are cached and their records shared between
    episodes (and with task params); that is safe because states are never modified in place.
    """
    return dict(_generate(seed))


@lru_cache(maxsize=512)
def _generate(seed: int) -> dict:
    rng = random.Random(f"ledger/{seed}")
    today = _FIRST_TODAY + timedelta(days=rng.randrange(_TODAY_SPAN_DAYS))
    start = add_months(today, -HISTORY_MONTHS)
    cutoff = today - timedelta(days=rng.randint(16, 24))
    books = _Books(rng, today, cutoff)

    company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
    customers = [
        {"id": f"c{i}", "name": name, "email": f"accounts@{_slug(name)}.example"}
        for i, name in enumerate(sorted(rng.sample(CUSTOMERS, 9)), 1)
    ]
    vendors = _vendors(rng)

    def day_in(month: date, lo: int = 1, hi: int = 28) -> date:
        return month + timedelta(days=rng.randint(lo, hi) - 1)

    # Invoices, and their payments as they arrived in the bank.
    for m in range(HISTORY_MONTHS + 1):
        month = add_months(start, m)
        for _ in range(rng.randint(5, 8)):
            issued = day_in(month)
            if issued > today - timedelta(days=3):
                continue
            customer = rng.choice(customers)
            tax = rng.choice(TAX_RATES)
            inv = books.invoice(
                customer, issued, books.service_lines(rng.randint(1, 3), tax), rng.choice([15, 30])
            )
            paid = issued + timedelta(days=rng.randint(4, 45))
            if rng.random() < 0.88 and paid <= today:
                books.pay_invoice(inv, customer, paid)
    for _ in range(rng.randint(1, 2)):  # drafts, not sent yet
        customer = rng.choice(customers)
        books.invoice(
            customer,
            today - timedelta(days=rng.randint(0, 6)),
            books.service_lines(rng.randint(1, 2), rng.choice(TAX_RATES)),
            30,
            status="draft",
        )

    # Two open invoices with the same total for different customers; the first is paid in
    # the part of the feed not yet reconciled.
    c1, c2, c3 = rng.sample(customers, 3)
    tax = rng.choice(TAX_RATES)
    twin_lines = books.service_lines(rng.randint(1, 2), tax)
    first = books.invoice(c1, today - timedelta(days=rng.randint(25, 45)), twin_lines, 30)
    books.invoice(
        c2, today - timedelta(days=rng.randint(10, 50)), [dict(x) for x in twin_lines], 30
    )
    books.pay_invoice(first, c1, cutoff + timedelta(days=rng.randint(1, (today - cutoff).days)))
    # A partial payment that matches no invoice.
    part = books.invoice(
        c3,
        today - timedelta(days=rng.randint(20, 40)),
        books.service_lines(2, rng.choice(TAX_RATES)),
        15,
    )
    share = rng.choice([25, 40, 50])
    books.pay_invoice(
        part,
        c3,
        cutoff + timedelta(days=rng.randint(1, (today - cutoff).days)),
        amount=part["total"] * share // 100,
    )

    # Bills, and their payments.
    for vendor in vendors:
        for m in range(HISTORY_MONTHS + 1):
            month = add_months(start, m)
            kind = vendor["kind"]
            if kind == "rent":
                issued, terms, amount = month, 5, vendor["fixed"]
            elif kind == "quarterly":
                if month.month % 3 != 1:
                    continue
                issued, terms, amount = day_in(month, 5, 15), 30, _cents(rng, *vendor["range"])
            elif kind == "monthly":
                issued, terms, amount = day_in(month, 1, 12), 15, vendor["fixed"]
            elif rng.random() < 0.5:  # occasional
                issued, terms, amount = day_in(month), 30, _cents(rng, *vendor["range"])
            else:
                continue
            if issued > today or issued < start:
                continue
            bill = books.bill(vendor, issued, amount, terms)
            paid = date.fromisoformat(bill["due"]) - timedelta(days=rng.randint(0, 4))
            if paid <= today and rng.random() < 0.9:
                books.pay_bill(bill, vendor, max(paid, issued))
    # Near-identical vendors both hold open bills; the first one's is paid in the new feed,
    # and the second's has the same amount half of the time.
    pair = [v for v in vendors if v["kind"] == "pair"]
    va, vb = rng.sample(pair[:2], 2) if rng.random() < 0.5 else rng.sample(pair[2:], 2)
    amount = _cents(rng, *va["range"])
    target = books.bill(va, today - timedelta(days=rng.randint(15, 30)), amount, 30)
    books.bill(
        vb,
        today - timedelta(days=rng.randint(5, 30)),
        amount if rng.random() < 0.5 else _cents(rng, *vb["range"]),
        30,
    )
    books.pay_bill(target, va, cutoff + timedelta(days=rng.randint(1, (today - cutoff).days)))

    # Card purchases, bank fees and interest, straight from the feed.
    merchants = rng.sample(MERCHANTS, 9)
    for m in range(HISTORY_MONTHS + 1):
        month = add_months(start, m)
        for payee, text, accounts, lo, hi in rng.choices(merchants, k=rng.randint(7, 11)):
            d = day_in(month, 1, 28)
            if d > today:
                continue
            desc = text.format(n=rng.randint(100, 9999), ref=_ref(rng), city=rng.choice(CITIES))
            account = accounts[0] if rng.random() < 0.6 else accounts[-1]
            books.feed(d, desc, payee, -_cents(rng, lo, hi), account=account)
        month_end = add_months(month, 1) - timedelta(days=1)
        if month_end <= today:
            books.feed(
                month_end,
                "MONTHLY SERVICE FEE",
                "Northwind Bank",
                -rng.choice([1200, 1500, 2500]),
                account="6050",
            )
            books.feed(
                month_end,
                "INTEREST PAYMENT",
                "Northwind Bank",
                rng.randint(150, 2800),
                account="4100",
            )
    # New purchases from two merchants whose names overlap, so a categorise task by payee
    # has look-alikes: "Uber" and "Uber Eats".
    for payee, text, _, lo, hi in (m for m in MERCHANTS if m[0] in ("Uber", "Uber Eats")):
        for _ in range(rng.randint(1, 2)):
            d = cutoff + timedelta(days=rng.randint(1, (today - cutoff).days))
            books.feed(d, text.format(ref=_ref(rng)), payee, -_cents(rng, lo, hi))

    return {
        "today": today.isoformat(),
        "books_start": start.isoformat(),
        "company": company,
        "opening_balance": _cents(rng, 20000, 60000),
        "view": {},
        **_finish(books, customers, vendors, rng),
    }


def _finish(books: _Books, customers: list[dict], vendors: list[dict], rng: random.Random) -> dict:
    """Order the records by date, assign ids and numbers, and link payments to documents."""
    books.invoices.sort(key=lambda r: r["issued"])
    books.bills.sort(key=lambda r: r["issued"])
    books.lines.sort(key=lambda r: r["date"])
    base = rng.randint(1001, 1400)
    for i, inv in enumerate(books.invoices, 1):
        inv["id"], inv["number"] = f"i{i}", f"INV-{base + i}"
    for i, bill in enumerate(books.bills, 1):
        bill["id"] = f"b{i}"
    for i, line in enumerate(books.lines, 1):
        line["id"] = f"s{i:03d}"
    for line in books.lines:
        doc = line["doc"]
        if doc is not None:
            line["doc"] = doc["id"]
            doc["payment"] = line["id"]
    return {
        "accounts": [{"id": code, "name": name, "type": kind} for code, name, kind in ACCOUNTS],
        "customers": customers,
        "vendors": [
            {"id": v["id"], "name": v["name"], "email": v["email"], "account": v["account"]}
            for v in vendors
        ],
        "invoices": books.invoices,
        "bills": books.bills,
        "feed": books.lines,
    }


def _vendors(rng: random.Random) -> list[dict]:
    pairs = rng.sample(VENDOR_PAIRS, 2)
    raw = []
    for a, b, account, lo, hi in pairs:
        for name in (a, b):
            raw.append((name, account, "pair", lo, hi))
    for names, account, lo, hi, kind in OTHER_VENDORS:
        raw.append((rng.choice(names), account, kind, lo, hi))
    vendors = []
    for i, (name, account, kind, lo, hi) in enumerate(raw, 1):
        vendors.append(
            {
                "id": f"v{i}",
                "name": name,
                "email": f"billing@{_slug(name)}.example",
                "account": account,
                "kind": kind,
                "range": [lo, hi],
                "fixed": _cents(rng, lo, hi) // 100 * 100,
                "prefix": "".join(w[0] for w in name.split() if w[0].isalpha()).upper()[:3],
            }
        )
    return vendors


def _cents(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low * 100, high * 100)


def _ref(rng: random.Random) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
