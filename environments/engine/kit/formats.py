"""How kit sites show and read money, numbers and dates (integer cents and ISO dates inside the
state, what a person types on the page), and the plural of a label's noun."""

from __future__ import annotations

import re
from datetime import date

MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip
# [0-9], not \d: \d matches every script's digits, and int() would read them.
_MONEY_INPUT = re.compile(r"^\$?\s?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?$")
_INTEGER = re.compile(r"^[+-]?[0-9]{1,15}$")
_ISO = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


def money(cents: int) -> str:
    """12345 -> "$123.45"; -8412 -> "-$84.12"."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{frac:02d}"


def plain_money(cents: int) -> str:
    """12345 -> "123.45", the way an amount box shows its value."""
    whole, frac = divmod(cents, 100)
    return f"{whole}.{frac:02d}"


def parse_money(text: str) -> int | None:
    """What a person types in an amount box, in cents ("250", "$1,234.5"); else None."""
    match = _MONEY_INPUT.match(text.strip())
    if match is None:
        return None
    whole, frac = match.groups()
    return int(whole.replace(",", "")) * 100 + int((frac or "0").ljust(2, "0"))


def parse_int(text: str) -> int | None:
    """ASCII digits only: Unicode digits ("١٢") are refused, as a server's int() would not be."""
    text = text.strip()
    return int(text) if _INTEGER.match(text) else None


def parse_date(text: str) -> str | None:
    """A real date typed as YYYY-MM-DD, as ISO text; else None."""
    match = _ISO.match(text.strip())
    if match is None:
        return None
    try:
        return date(*map(int, match.groups())).isoformat()
    except ValueError:
        return None


def long_date(iso: str) -> str:
    """ "2024-06-03" -> "June 3, 2024"."""
    return f"{MONTHS[int(iso[5:7]) - 1]} {int(iso[8:10])}, {iso[:4]}"


def short_date(iso: str) -> str:
    """ "2024-06-03" -> "Jun 3, 2024"."""
    return f"{MONTHS[int(iso[5:7]) - 1][:3]} {int(iso[8:10])}, {iso[:4]}"


def plural(label: str) -> str:
    """A field label's noun in the plural, as a sentence shows it: "Group" -> "groups",
    "SLA" -> "SLAs" (an acronym keeps its capitals), "Status" -> "statuses", "Category" ->
    "categories"; a label already plural ("Stops") is kept."""
    if label.isupper():
        return label + "s"
    noun = label.lower()
    if noun.endswith(("us", "ss", "sh", "ch", "x")):
        return noun + "es"
    if noun.endswith("s"):
        return noun
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        return noun[:-1] + "ies"
    return noun + "s"
