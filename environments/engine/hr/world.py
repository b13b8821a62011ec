"""Enterprise HR portal's seeded data. Everything derives from the seed ("today" included), so every
process builds the same world; worlds are cached and shared, so nothing may modify them."""

from __future__ import annotations

from functools import lru_cache

from environments.engine.kit import WorldRandom

CITIES = ("Austin", "Boulder", "Madison", "Portland", "Raleigh")
TIERS = ("Standard", "Plus", "Premium")
CONTACTS = 30


def build_world(seed: int) -> dict:
    return _generate(seed)


@lru_cache(maxsize=256)
def _generate(seed: int) -> dict:
    w = WorldRandom(seed, "hr")
    people = w.people(CONTACTS)
    # Near-homonyms make the tasks read carefully: a few contacts share a surname.
    for i in range(0, CONTACTS - 1, 7):
        people[i + 1] = {**people[i + 1], "name": f"{people[i + 1]['first']} {people[i]['last']}"}
    contacts = [
        {
            "id": f"c{i}",
            "name": person["name"],
            "email": person["email"],
            "phone": person["phone"],
            "company": w.company(),
            "city": w.choice(CITIES),
            "tier": w.choice(TIERS),
            "since": w.date_between("2019-01-01", "2023-12-31"),
            "status": "active",
        }
        for i, person in enumerate(people, start=1)
    ]
    return {"today": w.today(), "contacts": contacts}
