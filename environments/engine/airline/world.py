"""Skyway Airlines' seeded data: a timetable between seven airports, fare classes with their
rules, the customer's cards, bookings, payments and travel credits.

Everything derives from the seed ("today" included), so every process builds the same world.
The timetable is not stored in the state: `flights_between(seed, origin, dest, day)` draws a
day's flights on one route from the seed alone (cached), so a reset stays cheap however many
days are on sale. Worlds are cached and shared, so nothing may modify them.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from environments.engine.kit import WorldRandom

AIRPORTS = {
    "ATL": "Atlanta",
    "BOS": "Boston",
    "DEN": "Denver",
    "ORD": "Chicago",
    "SEA": "Seattle",
    "SFO": "San Francisco",
    "AUS": "Austin",
}
HUBS = ("ATL", "DEN", "ORD")
AIRPORT_LABELS = tuple(f"{city} ({code})" for code, city in sorted(AIRPORTS.items()))
FARES = ("Basic", "Standard", "Flexible")
CARDS = ("Visa", "Mastercard", "Amex")
# The fare rules, as the site states and enforces them.
CHANGE_FEE = {"Standard": 75_00, "Flexible": 0}  # Basic: no changes
CANCEL_FEE = {"Standard": 100_00, "Flexible": 0}  # Basic: no cancellation, no refund
BAG_FEES = (35_00, 45_00, 60_00)  # the 1st, 2nd and 3rd checked bag of a passenger
FREE_BAGS = {"Basic": 0, "Standard": 0, "Flexible": 1}
MAX_BAGS = 3
ROWS, LETTERS = 24, "ABCDEF"
SALE_DAYS = 30  # flights are on sale from tomorrow to today + SALE_DAYS
CONNECTION_MINUTES = 45
MAX_PASSENGERS = 4
BOOKINGS = 8


def airport_label(code: str) -> str:
    return f"{AIRPORTS[code]} ({code})"


def label_code(label: str) -> str:
    return label.rsplit("(", 1)[1].rstrip(")")


def bag_fees(fare: str, before: int, after: int) -> int:
    """What a passenger with `before` checked bags pays to have `after`."""
    free = FREE_BAGS[fare]
    return sum(BAG_FEES[i] for i in range(before, after) if i >= free)


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def served(origin: str, dest: str) -> bool:
    """Nonstop routes: every route that touches a hub."""
    return origin != dest and (origin in HUBS or dest in HUBS)


@lru_cache(maxsize=8192)
def flights_between(seed: int, origin: str, dest: str, day: str) -> tuple[dict, ...]:
    """The day's nonstop flights on a route, by departure (none where no nonstop flies)."""
    if not served(origin, dest):
        return ()
    route = WorldRandom(seed, f"route/{min(origin, dest)}{max(origin, dest)}")
    duration = route.randint(70, 290) // 5 * 5
    base = route.amount(69_00, 189_00, 100)
    w = WorldRandom(seed, f"flights/{origin}{dest}/{day}")
    departures = sorted(w.sample(range(6 * 12, 18 * 12), 3))  # 5-minute slots, 06:00-18:00
    numbers = w.sample(range(100, 1000), len(departures))  # distinct on a route and day
    flights = []
    for slot, digits in zip(departures, numbers, strict=True):
        dep = slot * 5
        number = f"SK {digits}"
        basic = base + w.amount(0, 60_00, 100)
        standard = basic + w.amount(35_00, 80_00, 100)
        flexible = standard + w.amount(90_00, 160_00, 100)
        left = {
            "Basic": w.choice((0, 1, 2, 4, 6, 9)),
            "Standard": w.choice((2, 3, 5, 8, 9)),
            "Flexible": w.choice((4, 6, 9)),
        }
        flights.append(
            {
                "id": f"{number.replace(' ', '')}-{day}",
                "number": number,
                "origin": origin,
                "dest": dest,
                "date": day,
                "dep": _hhmm(dep),
                "arr": _hhmm(dep + duration),
                "prices": {"Basic": basic, "Standard": standard, "Flexible": flexible},
                "left": left,
            }
        )
    return tuple(flights)


@lru_cache(maxsize=4096)
def itineraries(seed: int, origin: str, dest: str, day: str) -> tuple[dict, ...]:
    """Nonstops and one-stop connections (through a hub, at least 45 minutes to connect; each
    first flight with its earliest connection). Each: id, legs, dep, arr, stops, prices and
    seats left per fare (the tightest leg's)."""
    options = [[f] for f in flights_between(seed, origin, dest, day)]
    for hub in HUBS:
        if hub in (origin, dest):
            continue
        onward = flights_between(seed, hub, dest, day)
        for first in flights_between(seed, origin, hub, day):
            ready = _minutes(first["arr"]) + CONNECTION_MINUTES
            second = next((f for f in onward if _minutes(f["dep"]) >= ready), None)
            if second is not None:
                options.append([first, second])
    out = []
    for legs in options:
        out.append(
            {
                "id": "+".join(leg["id"] for leg in legs),
                "legs": [leg_of(leg) for leg in legs],
                "flights": " + ".join(leg["number"] for leg in legs),
                "dep": legs[0]["dep"],
                "arr": legs[-1]["arr"],
                "stops": "Nonstop" if len(legs) == 1 else f"1 stop ({legs[0]['dest']})",
                "prices": {fare: sum(leg["prices"][fare] for leg in legs) for fare in FARES},
                "left": {fare: min(leg["left"][fare] for leg in legs) for fare in FARES},
                "leg_left": [leg["left"] for leg in legs],
            }
        )
    return tuple(sorted(out, key=lambda i: (i["dep"], i["id"])))


def leg_of(flight: dict) -> dict:
    """What a booking keeps of a flight."""
    keys = ("id", "number", "origin", "dest", "date", "dep", "arr")
    return {k: flight[k] for k in keys}


@lru_cache(maxsize=8192)
def taken_seats(seed: int, flight_id: str) -> frozenset[str]:
    """Seats other travellers hold on a flight (the customer's own bookings come on top)."""
    w = WorldRandom(seed, f"seats/{flight_id}")
    every = [f"{row}{letter}" for row in range(1, ROWS + 1) for letter in LETTERS]
    return frozenset(w.sample(every, w.randint(40, 90)))


def sale_window(today: str) -> tuple[str, str]:
    first = date.fromisoformat(today)
    return (
        (first + timedelta(days=1)).isoformat(),
        (first + timedelta(days=SALE_DAYS)).isoformat(),
    )


def day_after(today: str, days: int) -> str:
    return (date.fromisoformat(today) + timedelta(days=days)).isoformat()


def build_world(seed: int) -> dict:
    return _generate(seed)


@lru_cache(maxsize=256)
def _generate(seed: int) -> dict:
    w = WorldRandom(seed, "airline")
    today = w.today()
    holder = w.person()
    cards = [{"id": brand, "label": f"{brand} ••{w.randint(1000, 9999)}"} for brand in CARDS]
    people = [p for p in w.people(12) if p["name"] != holder["name"]]
    bookings, payments = [], []
    used: set[tuple[str, str, str]] = set()
    codes: set[str] = set()
    while len(bookings) < BOOKINGS:
        origin, dest = w.sample(sorted(AIRPORTS), 2)
        day = day_after(today, w.randint(3, SALE_DAYS - 3))
        options = [i for i in itineraries(seed, origin, dest, day) if i["left"]["Flexible"]]
        if (origin, dest, day) in used or not options:
            continue  # a trip is named by its route and date, so those stay unique
        used.add((origin, dest, day))
        trip = w.choice(options)
        fare = FARES[len(bookings) % 3] if len(bookings) < 6 else w.choice(FARES)
        travellers = [holder, *w.sample(people, w.randint(0, 2))]
        free = sorted(
            set(f"{r}{c}" for r in range(1, ROWS + 1) for c in LETTERS)
            - set().union(*(taken_seats(seed, leg["id"]) for leg in trip["legs"])),
            key=lambda s: (int(s[:-1]), s[-1]),
        )
        seats = w.sample(free, len(travellers)) if fare != "Basic" and w.chance(0.6) else []
        passengers = [
            {
                "name": p["name"],
                "birth": w.date_between("1950-01-01", "2012-12-31"),
                "seat": seats[i] if seats else None,
                "bags": w.choice((0, 0, 1, 1, 2)),
            }
            for i, p in enumerate(travellers)
        ]
        code = "".join(w.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
        if code in codes:
            continue
        codes.add(code)
        card = w.choice(CARDS)
        price = trip["prices"][fare]
        bid = f"b{len(bookings) + 1}"
        bookings.append(
            {
                "id": bid,
                "code": code,
                "origin": origin,
                "dest": dest,
                "date": day,
                "legs": trip["legs"],
                "fare": fare,
                "price": price,
                "passengers": passengers,
                "card": card,
                "status": "Confirmed",
                "booked": day_after(today, -w.randint(5, 60)),
            }
        )
        payments.append(_payment(len(payments), code, "Fare", price * len(passengers), card))
        bags = sum(bag_fees(fare, 0, p["bags"]) for p in passengers)
        if bags:
            payments.append(_payment(len(payments), code, "Checked bags", bags, card))
    credits = [
        {
            "id": "tc1",
            "code": f"TC-{w.randint(10000, 99999)}",
            "amount": w.amount(40_00, 180_00, 100),
            "booking": "",
            "expires": day_after(today, w.randint(60, 300)),
        }
    ]
    return {
        "today": today,
        "holder": holder["name"],
        "cards": cards,
        "bookings": bookings,
        "payments": payments,
        "credits": credits,
    }


def _payment(index: int, code: str, what: str, amount: int, card: str) -> dict:
    return {
        "id": f"p{index + 1}",
        "booking": code,
        "kind": "Charge",
        "what": what,
        "amount": amount,
        "card": card,
    }
