"""The ticket shop's seeded data: a customer with cards on file, venues in five cities, events
with seat maps, promo codes and an order history. Everything derives from the seed, "today"
included.

Distractors are built in: every headline artist plays two dates in one city and more in other
cities, tribute acts put the headliner's name in their event names, arenas have near-identical
section names ("Lower Bowl 104" / "Lower Bowl 114"), an expired promo code shares its word with
a valid one, and the order history holds two refundable orders for the same artist.

Seat maps: a section has `rows` (labels), `prices` (cents, one per row: the front rows cost
more), `taken` (one string per row, "1" for a sold seat, "0" for an open one) and `accessible`
(seat keys such as "E-1" that are wheelchair accessible).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache

_FIRST_TODAY = date(2024, 2, 1)
_TODAY_SPAN_DAYS = 240
HORIZON_DAYS = 150  # events on sale up to this many days ahead
MAX_TICKETS = 8  # per order

FIRST_NAMES = [
    "Alex", "Jordan", "Maria", "Wei", "Priya", "Samuel", "Fatima", "Lucas", "Hannah", "Diego",
    "Aisha", "Noah", "Mei", "Omar", "Grace", "Ivan", "Chloe", "Kwame", "Sofia", "Daniel",
]  # fmt: skip
LAST_NAMES = [
    "Chen", "Okafor", "Garcia", "Nguyen", "Patel", "Kim", "Rossi", "Novak", "O'Brien", "Haddad",
    "Johnson", "Silva", "Kowalski", "Tanaka", "Andersen", "Mensah", "Dubois", "Levy", "Reyes",
]  # fmt: skip
MAIL_DOMAINS = ["example.com", "mailbox.org", "inbox.net", "post.example"]
CITIES = [
    "Chicago", "Denver", "Austin", "Seattle", "Boston", "Atlanta", "Portland", "Nashville",
    "Minneapolis", "Philadelphia",
]  # fmt: skip
VENUE_WORDS = [
    "Riverside", "Union", "Lakeshore", "Summit", "Grand", "Pinecrest", "Harbor", "Liberty",
    "Meridian", "Copperline", "Northgate", "Crescent",
]  # fmt: skip
VENUE_KINDS = {"arena": "Arena", "amphitheater": "Amphitheater", "theater": "Theater"}
# kind -> sections: (name, rows, seats a row, price factor in %, has accessible seats)
LAYOUTS = {
    "arena": [
        ("Floor", 5, 12, 180, False),
        ("Lower Bowl 104", 5, 10, 130, True),
        ("Lower Bowl 114", 5, 10, 125, False),
        ("Upper 210", 5, 12, 80, True),
        ("Upper 224", 5, 12, 75, False),
    ],
    "amphitheater": [
        ("Pit", 4, 12, 170, False),
        ("Reserved 100", 5, 12, 120, True),
        ("Reserved 200", 5, 12, 90, True),
        ("Terrace", 4, 10, 60, False),
    ],
    "theater": [
        ("Orchestra", 5, 12, 150, True),
        ("Mezzanine", 5, 10, 110, False),
        ("Balcony", 5, 12, 70, True),
        ("Box Seats", 2, 4, 220, False),
    ],
}
ARTISTS = [
    "Luna Vega", "The Paper Lanterns", "Marcus Bell", "Neon Harbor", "Kiko Sato",
    "The Midnight Owls", "Ruby & The Tides", "DJ Solstice", "Amara Quinn", "Gold Coast Kids",
    "Silver Pines", "Jonah Reyes Trio", "Velvet Static", "Hollow Oaks", "Sara Lind",
    "The Brass Assembly", "Nova Kane", "Echo Valley", "Mila Santos", "The Lantern Choir",
]  # fmt: skip
TOURS = [
    "The Midnight Tour", "Northern Lights Tour", "Live in Concert", "Golden Hour Tour",
    "Electric Dreams Tour", "The Homecoming Tour", "Wildflower Tour", "After Dark",
]  # fmt: skip
TRIBUTE_ACTS = ["Second Encore", "The Copycats", "Replay Collective", "Mirror Image"]
TRIBUTE_TITLES = ["A Tribute to {artist}", "The Music of {artist}", "{artist} Tribute Night"]
SHOW_TIMES = ["19:00", "19:30", "20:00", "20:30"]
PROMO_WORDS = [
    "ENCORE", "STAGE", "FRONTROW", "SOUNDCHECK", "BACKSTAGE", "HEADLINER", "AMPLIFY", "UPBEAT",
]  # fmt: skip
CARD_BRANDS = [("Visa", "4"), ("Mastercard", "5"), ("Amex", "3")]


def seat_key(row: str, seat: int) -> str:
    return f"{row}-{seat}"


def section_by_id(event: dict, sid: str) -> dict:
    for sec in event["sections"]:
        if sec["id"] == sid:
            return sec
    raise KeyError(sid)


def by_id(records: list[dict], rid: str) -> dict:
    for rec in records:
        if rec["id"] == rid:
            return rec
    raise KeyError(rid)


def open_seats(section: dict) -> int:
    return sum(t.count("0") for t in section["taken"])


def lowest_price(event: dict) -> int | None:
    """The cheapest open seat of an event, in cents; None when it is sold out."""
    best = None
    for sec in event["sections"]:
        for price, taken in zip(sec["prices"], sec["taken"], strict=True):
            if "0" in taken and (best is None or price < best):
                best = price
    return best


def set_seats(event: dict, tickets: list[dict], sold: bool) -> dict:
    """A copy of the event with these seats sold (or released); other sections are shared."""
    mark = "1" if sold else "0"
    by_sec: dict[str, list[dict]] = {}
    for t in tickets:
        by_sec.setdefault(t["section"], []).append(t)
    sections = []
    for sec in event["sections"]:
        todo = by_sec.get(sec["id"])
        if not todo:
            sections.append(sec)
            continue
        taken = list(sec["taken"])
        for t in todo:
            r = sec["rows"].index(t["row"])
            row = taken[r]
            taken[r] = row[: t["seat"] - 1] + mark + row[t["seat"] :]
        sections.append({**sec, "taken": taken})
    return {**event, "sections": sections}


def discount_for(promo: dict, subtotal: int) -> int:
    """What a promo takes off a ticket subtotal, in cents (percentages round half up)."""
    if promo["kind"] == "percent":
        return (subtotal * promo["value"] + 50) // 100
    return min(promo["value"], subtotal)


def price_order(event: dict, tickets: list[dict], promo: dict | None) -> dict:
    """Subtotal, fees, discount and total of tickets (each with a "price") for an event."""
    subtotal = sum(t["price"] for t in tickets)
    fees = event["fee"] * len(tickets)
    discount = discount_for(promo, subtotal) if promo else 0
    return {
        "subtotal": subtotal,
        "fees": fees,
        "discount": discount,
        "total": subtotal + fees - discount,
    }


def refund_deadline(event: dict) -> str | None:
    """The last day an order for the event may be cancelled for a refund (None: final sale)."""
    if event["refund_days"] is None:
        return None
    return (date.fromisoformat(event["date"]) - timedelta(days=event["refund_days"])).isoformat()


# --- generation ----------------------------------------------------------------------------


def build_world(seed: int) -> dict:
    """The shop's initial data and session for a seed (the environment's own state keys).

    Generating takes about a millisecond, so worlds are cached and their parts shared between
    episodes; that is safe because states are never modified in place.
    """
    return dict(_generate(seed))


@lru_cache(maxsize=512)
def _generate(seed: int) -> dict:
    rng = random.Random(f"tickets/{seed}")
    today = _FIRST_TODAY + timedelta(days=rng.randrange(_TODAY_SPAN_DAYS))

    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}".lower().replace("'", "") + "@" + rng.choice(MAIL_DOMAINS)
    cards = _cards(rng, today)
    venues = _venues(rng)
    artists = rng.sample(ARTISTS, 8)
    events = _events(rng, today, venues, artists)
    promos = _promos(rng, today, artists[1])
    order_base = rng.randint(300_000, 899_999)
    orders, events = _orders(rng, today, events, cards, promos, f"{first} {last}", email,
                             order_base, artists[0])  # fmt: skip
    return {
        "today": today.isoformat(),
        "user": {"name": f"{first} {last}", "email": email},
        "cards": cards,
        "venues": venues,
        "events": events,
        "promos": promos,
        "orders": orders,
        "refunds": [],
        "order_base": order_base,
        "refund_base": rng.randint(10_000, 89_999),
        "cart": {"event": None, "seats": [], "promo": None},
        "search": {},
        "view": {},
    }


def _cards(rng: random.Random, today: date) -> list[dict]:
    last4s = rng.sample(range(1000, 10000), 3)
    cards = []
    for i, ((brand, _), l4) in enumerate(zip(CARD_BRANDS, last4s, strict=True), 1):
        if i == 3:  # the expired card a careless checkout picks
            months = today.year * 12 + today.month - 1 - rng.randint(1, 10)
        else:
            months = (today.year + rng.randint(1, 4)) * 12 + rng.randint(0, 11)
        cards.append(
            {
                "id": f"c{i}",
                "brand": brand,
                "last4": str(l4),
                "exp": f"{months // 12:04d}-{months % 12 + 1:02d}",
                "default": i == 1,
            }
        )
    return cards


def _venues(rng: random.Random) -> list[dict]:
    cities = rng.sample(CITIES, 5)
    words = rng.sample(VENUE_WORDS, 10)
    venues = []
    for i, city in enumerate(cities):
        big = rng.choice(["arena", "amphitheater"])
        for j, kind in enumerate((big, "theater")):
            n = 2 * i + j + 1
            venues.append(
                {
                    "id": f"v{n}",
                    "name": f"{words[n - 1]} {VENUE_KINDS[kind]}",
                    "city": city,
                    "kind": kind,
                }
            )
    return venues


def _sections(rng: random.Random, kind: str, base: int, density: float) -> list[dict]:
    sections = []
    rand = rng.random
    layout = LAYOUTS[kind]
    sold_out = rng.randrange(len(layout)) if rng.random() < 0.45 else None
    for i, (name, n_rows, n_seats, factor, accessible) in enumerate(layout):
        price = max(1500, base * factor // 100 // 50 * 50)
        premium = round(price * rng.choice([125, 135, 150]) / 100 / 500) * 500
        n_premium = rng.choice([1, 2]) if n_rows > 2 else 1
        rows = [chr(ord("A") + r) for r in range(n_rows)]
        acc = []
        if accessible:
            back = rows[-1]
            acc = [seat_key(back, s) for s in (1, 2, n_seats - 1, n_seats)]
        if i == sold_out:
            taken = ["1" * n_seats] * n_rows
        else:
            taken = []
            for r in range(n_rows):
                d = min(0.95, density + 0.15) if r < n_premium else density
                taken.append("".join(["1" if rand() < d else "0" for _ in range(n_seats)]))
            if accessible:  # accessible seats sell slower
                d = density / 3
                row = ["1" if rand() < d else "0" for _ in range(4)]
                last = taken[-1]
                taken[-1] = row[0] + row[1] + last[2 : n_seats - 2] + row[2] + row[3]
        sections.append(
            {
                "id": f"s{i + 1}",
                "name": name,
                "rows": rows,
                "prices": [premium if r < n_premium else price for r in range(n_rows)],
                "taken": taken,
                "accessible": acc,
            }
        )
    return sections


def _events(rng: random.Random, today: date, venues: list[dict], artists: list[str]) -> list[dict]:
    headliners, others = artists[:3], artists[3:]
    cities = sorted({v["city"] for v in venues})
    big = {v["city"]: v for v in venues if v["kind"] != "theater"}
    small = {v["city"]: v for v in venues if v["kind"] == "theater"}
    plan: list[tuple[str, str, dict, date, int | None]] = []  # artist, title, venue, day, refund
    used: set[tuple[str, str, str]] = set()

    def add(artist: str, title: str, venue: dict, day: date, refund: int | None) -> None:
        while (artist, venue["city"], day.isoformat()) in used:
            day += timedelta(days=1)
        used.add((artist, venue["city"], day.isoformat()))
        plan.append((artist, title, venue, day, refund))

    home_days = {}
    for artist in headliners:
        tour = f"{artist}: {rng.choice(TOURS)}"
        home = rng.choice(cities)
        first = today + timedelta(days=rng.randint(20, 110))
        second = first + timedelta(days=rng.randint(1, 12))
        refund = rng.choice([7, 14])
        home_days[artist] = (home, first)
        add(artist, tour, big[home], first, refund)
        add(artist, tour, rng.choice([big[home], small[home]]), second, refund)
        for city in rng.sample([c for c in cities if c != home], 2):
            add(artist, tour, big[city], today + timedelta(days=rng.randint(20, HORIZON_DAYS)),
                refund)  # fmt: skip
    for n, artist in enumerate(others):
        tour = f"{artist}: {rng.choice(TOURS)}" if rng.random() < 0.6 else artist
        refund = None if n == 1 else rng.choice([None, 7, 14])
        for _ in range(rng.randint(1, 2)):
            venue = rng.choice(venues)
            add(artist, tour, venue, today + timedelta(days=rng.randint(7, HORIZON_DAYS)), refund)
    # Tribute acts play the headliner's home city in the same weeks, and name the headliner.
    for artist, act in zip(headliners[:2], rng.sample(TRIBUTE_ACTS, 2), strict=True):
        home, first = home_days[artist]
        title = rng.choice(TRIBUTE_TITLES).format(artist=artist)
        add(act, title, small[home], first + timedelta(days=rng.choice([-3, -2, 2, 3])), None)
    # A show within the week: refundable in principle, but its deadline has passed.
    soon = others[2]
    add(soon, soon, rng.choice(venues), today + timedelta(days=rng.randint(1, 5)), 7)
    # Shows already played, for the order history.
    for artist in (others[3], headliners[2]):
        add(artist, artist, rng.choice(venues), today - timedelta(days=rng.randint(10, 60)), None)

    plan.sort(key=lambda p: (p[3], p[0], p[2]["id"]))
    events = []
    for i, (artist, title, venue, day, refund) in enumerate(plan, 1):
        base = rng.randint(70, 190) * 50
        density = rng.uniform(0.3, 0.75)
        events.append(
            {
                "id": f"e{i:02d}",
                "artist": artist,
                "name": title,
                "venue": venue["id"],
                "city": venue["city"],
                "date": day.isoformat(),
                "time": rng.choice(SHOW_TIMES),
                "fee": rng.randint(26, 58) * 25,
                "refund_days": refund,
                "sections": _sections(rng, venue["kind"], base, density),
            }
        )
    return events


def _promos(rng: random.Random, today: date, fan_artist: str) -> list[dict]:
    words = rng.sample(PROMO_WORDS, 4)
    pct = rng.choice([10, 15, 20])
    fixed = rng.choice([10, 15, 20])
    spend_off, spend_min = rng.choice([(25, 200), (30, 250), (40, 300)])
    slug = "".join(ch for ch in fan_artist.split()[-1].upper() if ch.isalpha())

    def later(lo: int, hi: int) -> str:
        return (today + timedelta(days=rng.randint(lo, hi))).isoformat()

    return [
        {"id": f"{words[0]}{pct}", "kind": "percent", "value": pct, "min": 0,
         "expires": later(30, 120), "artist": None},
        {"id": f"{words[1]}{fixed}", "kind": "fixed", "value": fixed * 100, "min": 0,
         "expires": later(30, 120), "artist": None},
        {"id": f"{words[2]}{spend_off}", "kind": "fixed", "value": spend_off * 100,
         "min": spend_min * 100, "expires": later(30, 120), "artist": None},
        {"id": f"{words[0]}{pct + 5}", "kind": "percent", "value": pct + 5, "min": 0,
         "expires": later(-60, -1), "artist": None},
        {"id": f"{slug}FAN", "kind": "percent", "value": 10, "min": 0,
         "expires": later(60, 150), "artist": fan_artist},
        {"id": f"{words[3]}{fixed + 5}", "kind": "fixed", "value": (fixed + 5) * 100, "min": 0,
         "expires": later(-90, -10), "artist": None},
    ]  # fmt: skip


def _pick_seats(rng: random.Random, event: dict, wanted: int) -> list[dict]:
    """Open seats side by side in one row of one section, for a seeded order (fewer when no
    row has `count` together)."""
    sections = list(event["sections"])
    rng.shuffle(sections)
    for count in range(wanted, 0, -1):
        for sec in sections:
            for r, row in enumerate(sec["taken"]):
                start = row.find("0" * count)
                if start >= 0:
                    return [
                        {"section": sec["id"], "row": sec["rows"][r], "seat": start + s + 1,
                         "price": sec["prices"][r]}
                        for s in range(count)
                    ]  # fmt: skip
    raise LookupError(f"no open seat at {event['id']}")


def _orders(
    rng: random.Random,
    today: date,
    events: list[dict],
    cards: list[dict],
    promos: list[dict],
    name: str,
    email: str,
    base: int,
    headliner: str,
) -> tuple[list[dict], list[dict]]:
    t = today.isoformat()
    upcoming = [e for e in events if e["date"] > t]
    # Two refundable orders for the first headliner, in different cities.
    mine = [e for e in upcoming if e["artist"] == headliner]
    first = mine[0]
    second = next(e for e in mine if e["city"] != first["city"])
    final = next(
        e for e in upcoming if e["refund_days"] is None and e["artist"] not in TRIBUTE_ACTS
    )
    soon = upcoming[0]  # within the week: its refund deadline has passed
    past = [e for e in events if e["date"] < t]
    chosen = [past[0], soon, final, first, second]
    fixed_promo = promos[1]
    orders, by_event = [], {}
    for n, event in enumerate(chosen, 1):
        event = by_event.get(event["id"], event)
        tickets = _pick_seats(rng, event, rng.randint(1, 4))
        promo = fixed_promo if n == 3 else None
        placed = (
            min(today, date.fromisoformat(event["date"])) - timedelta(days=rng.randint(5, 40))
        ).isoformat()
        orders.append(
            {
                "id": f"TK-{base + n}",
                "event": event["id"],
                "tickets": tickets,
                **price_order(event, tickets, promo),
                "promo": promo["id"] if promo else None,
                "name": name,
                "email": email,
                "card": rng.choice(["c1", "c2"]),
                "placed": placed,
                "status": "confirmed",
                "refund": None,
            }
        )
        by_event[event["id"]] = set_seats(event, tickets, sold=True)
    events = [by_event.get(e["id"], e) for e in events]
    orders.sort(key=lambda o: o["placed"])
    for n, order in enumerate(orders, 1):
        order["id"] = f"TK-{base + n}"
    return orders, events
