"""Seeded world-building: people, companies, addresses, amounts, dates and free text that are
the same for the same seed, on every machine and in every process (no global `random`, no
wall clock).

    w = WorldRandom(seed, "clinic")  # the salt keeps two uses of one seed independent
    people = w.people(12)            # distinct names, emails and phones
    w.amount(20_00, 500_00)          # cents
    w.date_between("2024-01-01", "2024-06-30")
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import TypeVar

T = TypeVar("T")

FIRST_NAMES = [
    "Alex", "Jordan", "Maria", "Wei", "Priya", "Samuel", "Fatima", "Lucas", "Hannah", "Diego",
    "Aisha", "Noah", "Mei", "Omar", "Grace", "Ivan", "Chloe", "Kwame", "Sofia", "Daniel",
    "Elena", "Tariq", "Ines", "Yusuf", "Freya", "Mateo", "Leila", "Oscar", "Nadia", "Ravi",
]  # fmt: skip
LAST_NAMES = [
    "Chen", "Okafor", "Garcia", "Nguyen", "Patel", "Kim", "Rossi", "Novak", "O'Brien",
    "Haddad", "Johnson", "Silva", "Kowalski", "Tanaka", "Andersen", "Mensah", "Dubois", "Levy",
    "Reyes", "Moreau", "Schmidt", "Costa", "Ibrahim", "Larsen", "Walsh", "Singh",
]  # fmt: skip
MAIL_DOMAINS = ("example.com", "mailbox.example", "inbox.example", "post.example")
COMPANY_STEMS = [
    "Acme", "Northwind", "Bluebird", "Granite", "Summit", "Harbor", "Juniper", "Keystone",
    "Lumen", "Meridian", "Orchard", "Pioneer", "Quartz", "Redwood", "Sterling", "Tidewater",
    "Vantage", "Willow",
]  # fmt: skip
COMPANY_KINDS = (
    "Supply",
    "Logistics",
    "Foods",
    "Analytics",
    "Builders",
    "Design",
    "Health",
    "Energy",
    "Labs",
    "Partners",
)
COMPANY_SUFFIXES = ("Inc.", "LLC", "Co.", "Ltd.", "Group")
STREETS = [
    "Maple", "Oak", "Cedar", "Elm", "Pine", "Lake", "Hill", "Park", "River", "Sunset",
    "Washington", "Lincoln", "Mill", "Church",
]  # fmt: skip
STREET_KINDS = ("St", "Ave", "Rd", "Blvd", "Ln", "Way", "Dr")
# (city, state, zip prefix)
CITIES = (
    ("Springfield", "IL", "627"),
    ("Portland", "OR", "972"),
    ("Austin", "TX", "787"),
    ("Madison", "WI", "537"),
    ("Raleigh", "NC", "276"),
    ("Boulder", "CO", "803"),
    ("Savannah", "GA", "314"),
    ("Burlington", "VT", "054"),
)
WORDS = [
    "account", "order", "delivery", "request", "update", "invoice", "schedule", "review",
    "team", "customer", "project", "service", "support", "report", "budget", "meeting",
    "payment", "office", "supply", "contract", "quality", "follow", "issue", "change", "note",
    "detail", "plan", "visit", "record", "reminder", "question", "estimate",
]  # fmt: skip


class WorldRandom:
    """A seeded generator of plausible records; two instances with the same seed and salt
    produce the same sequence."""

    def __init__(self, seed: int, salt: str = "") -> None:
        self.rng = random.Random(f"{salt}/{seed}")

    # plain draws
    def randint(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def choice(self, items: Sequence[T]) -> T:
        return self.rng.choice(items)

    def sample(self, items: Iterable[T], k: int) -> list[T]:
        return self.rng.sample(list(items), k)

    def shuffled(self, items: Iterable[T]) -> list[T]:
        out = list(items)
        self.rng.shuffle(out)
        return out

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    # records
    def person(self) -> dict:
        """{"first", "last", "name", "email", "phone"}."""
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        handle = f"{first}.{last}".lower().replace("'", "")
        return {
            "first": first,
            "last": last,
            "name": f"{first} {last}",
            "email": f"{handle}@{self.rng.choice(MAIL_DOMAINS)}",
            "phone": f"555-{self.rng.randint(100, 999)}-{self.rng.randint(1000, 9999)}",
        }

    def people(self, n: int) -> list[dict]:
        """`n` people with distinct names (at most len(FIRST_NAMES) * len(LAST_NAMES))."""
        out, seen = [], set()
        while len(out) < n:
            person = self.person()
            if person["name"] not in seen:
                seen.add(person["name"])
                out.append(person)
        return out

    def company(self) -> str:
        stem, kind = self.rng.choice(COMPANY_STEMS), self.rng.choice(COMPANY_KINDS)
        return f"{stem} {kind} {self.rng.choice(COMPANY_SUFFIXES)}"

    def companies(self, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            name = self.company()
            if name.rsplit(" ", 1)[0] not in {o.rsplit(" ", 1)[0] for o in out}:
                out.append(name)
        return out

    def address(self) -> dict:
        """{"street", "city", "state", "zip", "line"}."""
        city, state, prefix = self.rng.choice(CITIES)
        number = self.rng.randint(1, 9899)
        street = f"{number} {self.rng.choice(STREETS)} {self.rng.choice(STREET_KINDS)}"
        zip_code = f"{prefix}{self.rng.randint(0, 99):02d}"
        return {
            "street": street,
            "city": city,
            "state": state,
            "zip": zip_code,
            "line": f"{street}, {city}, {state} {zip_code}",
        }

    def amount(self, low: int, high: int, step: int = 1) -> int:
        """Cents between `low` and `high`, a multiple of `step` (100 for whole dollars)."""
        return self.rng.randrange(low - low % step + (step if low % step else 0), high + 1, step)

    def today(self, first: str = "2024-01-01", span_days: int = 300) -> str:
        """The world's "today": a seeded day, never the wall clock."""
        return (
            date.fromisoformat(first) + timedelta(days=self.rng.randrange(span_days))
        ).isoformat()

    def date_between(self, start: str, end: str) -> str:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        return (first + timedelta(days=self.rng.randint(0, (last - first).days))).isoformat()

    def ident(self, prefix: str, digits: int = 5) -> str:
        return f"{prefix}{self.rng.randrange(10 ** (digits - 1), 10**digits)}"

    def words(self, n: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(n))

    def sentence(self, low: int = 5, high: int = 10) -> str:
        text = self.words(self.rng.randint(low, high))
        return text[0].upper() + text[1:] + "."
