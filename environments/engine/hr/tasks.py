"""Enterprise HR portal's task families. Each draws from the world its seed builds and verifies the final
state: what must have changed, and that nothing else did."""

from __future__ import annotations

import re

from environments.engine.base import Check, Outcome
from environments.engine.kit import WorldRandom, by_id, long_date
from environments.engine.tasks import TaskFamily, check_no_collateral, diff_records

from .world import CITIES, TIERS, build_world

ENV = "hr-v1"
RECORDS = ["contacts"]


def _collateral(initial: dict, final: dict, allowed: list[tuple[str, str, str]]) -> Check:
    return check_no_collateral(diff_records(initial, final, RECORDS), allowed)


class AddContact(TaskFamily):
    """Add a contact through the two-step wizard. The verifier wants exactly one new contact
    with the given name, email, phone, city, tier and start date, and nothing else changed."""

    name = "add_contact"
    env = ENV
    title = "Add a contact"
    max_steps = 25
    goal = (
        "Add {full_name} ({email}, phone {phone}) as a {tier} contact in {city}, "
        "customer since {since_long}."
    )

    def params(self, seed: int) -> dict:
        w = WorldRandom(seed, f"{ENV}/{self.name}")
        taken = {c["email"] for c in build_world(seed)["contacts"]}
        person = next(p for p in iter(w.person, None) if p["email"] not in taken)
        since = w.date_between("2024-01-01", build_world(seed)["today"])
        return {
            "full_name": person["name"],
            "email": person["email"],
            "phone": person["phone"],
            "city": w.choice(CITIES),
            "tier": w.choice(TIERS),
            "since": since,
            "since_long": long_date(since),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        old = {c["id"] for c in initial["contacts"]}
        new = [c for c in final["contacts"] if c["id"] not in old]
        checks = [Check("one_contact", len(new) == 1, f"{len(new)} contact(s) added")]
        added = new[0] if new else {}
        for key, want in (
            ("name", params["full_name"]),
            ("email", params["email"]),
            ("phone", params["phone"]),
            ("city", params["city"]),
            ("tier", params["tier"]),
            ("since", params["since"]),
        ):
            got = added.get(key)
            checks.append(Check(key, got == want, f"{got!r}, asked for {want!r}"))
        allowed = [("contacts", c["id"], "+") for c in new[:1]]
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class ArchiveContact(TaskFamily):
    """Archive one contact, named with their city (a namesake by surname may exist). The
    verifier wants that contact archived and nothing else changed."""

    name = "archive_contact"
    env = ENV
    title = "Archive a contact"
    max_steps = 20
    goal = "Archive the contact {full_name} from {city}."

    def params(self, seed: int) -> dict:
        contact = WorldRandom(seed, f"{ENV}/{self.name}").choice(build_world(seed)["contacts"])
        return {"id": contact["id"], "full_name": contact["name"], "city": contact["city"]}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        status = by_id(final["contacts"], params["id"])["status"]
        checks = [Check("archived", status == "archived", f"the contact is {status}")]
        checks.append(_collateral(initial, final, [("contacts", params["id"], "status")]))
        return Outcome.from_checks(checks)


class ChangeTier(TaskFamily):
    """Move a contact to another tier from their page's Account tab, giving a reason. The
    verifier wants the new tier on that contact and nothing else changed."""

    name = "change_tier"
    env = ENV
    title = "Change a contact's tier"
    max_steps = 20
    goal = "Move {full_name} from {city} to the {tier} tier (reason: {reason})."

    def params(self, seed: int) -> dict:
        w = WorldRandom(seed, f"{ENV}/{self.name}")
        contact = w.choice(build_world(seed)["contacts"])
        tier = w.choice([t for t in TIERS if t != contact["tier"]])
        return {
            "id": contact["id"],
            "full_name": contact["name"],
            "city": contact["city"],
            "tier": tier,
            "reason": w.sentence(3, 6),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        tier = by_id(final["contacts"], params["id"])["tier"]
        checks = [Check("tier", tier == params["tier"], f"the contact is {tier}")]
        checks.append(_collateral(initial, final, [("contacts", params["id"], "tier")]))
        return Outcome.from_checks(checks)


class CountContacts(TaskFamily):
    """Answer how many active contacts of a tier live in a city (the search's facets count
    them). The verifier wants that number, alone, and nothing changed."""

    name = "count_contacts"
    env = ENV
    title = "Count contacts"
    max_steps = 15
    goal = "How many {tier} contacts are there in {city}? Answer with the number."

    def params(self, seed: int) -> dict:
        w = WorldRandom(seed, f"{ENV}/{self.name}")
        city, tier = w.choice(CITIES), w.choice(TIERS)
        contacts = build_world(seed)["contacts"]
        count = sum(c["city"] == city and c["tier"] == tier for c in contacts)
        return {"city": city, "tier": tier, "count": count}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        # Whole numbers only: "3.25" is not a count, and an answer naming two numbers fails.
        numbers = re.findall(r"(?<![\d.,])\d+(?![\d.,]*\d)", final["answer"] or "")
        ok = numbers == [str(params["count"])]
        checks = [Check("answer", ok, f"the answer names {numbers}, expected {params['count']}")]
        checks.append(_collateral(initial, final, []))
        return Outcome.from_checks(checks)


FAMILIES = {f.name: f for f in (AddContact(), ArchiveContact(), ChangeTier(), CountContacts())}
