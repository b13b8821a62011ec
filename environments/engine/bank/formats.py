"""How the bank shows and reads money and dates (integer cents, ISO dates inside the state)."""

from __future__ import annotations

import re
from datetime import date

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONEY_INPUT = re.compile(r"^\$?\s?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?$")
_ISO = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_US = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")


def money(amount: int) -> str:
    """12345 -> "$123.45"; -8412 -> "-$84.12"."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 100)
    return f"{sign}${whole:,}.{frac:02d}"


def plain(amount: int) -> str:
    """12345 -> "123.45", the way an amount input shows its value."""
    whole, frac = divmod(amount, 100)
    return f"{whole}.{frac:02d}"


def parse_money(text: str) -> int | None:
    """What a person types in an amount box, in cents: "250", "$1,234.5", "84.12".

    Negative amounts, more than two decimals and anything else are None.
    """
    match = _MONEY_INPUT.match(text.strip())
    if match is None:
        return None
    whole, frac = match.groups()
    return int(whole.replace(",", "")) * 100 + int((frac or "0").ljust(2, "0"))


def parse_date(text: str) -> date | None:
    """A date typed as YYYY-MM-DD (or MM/DD/YYYY); None when it is not a real date."""
    text = text.strip()
    if match := _ISO.match(text):
        y, m, d = match.groups()
    elif match := _US.match(text):
        m, d, y = match.groups()
    else:
        return None
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def long_date(iso: str) -> str:
    """ISO date to "June 3, 2024"."""
    return f"{MONTHS[int(iso[5:7]) - 1]} {int(iso[8:10])}, {iso[:4]}"


def short_date(iso: str) -> str:
    """ISO date to "Jun 3, 2024"."""
    return f"{MONTHS[int(iso[5:7]) - 1][:3]} {int(iso[8:10])}, {iso[:4]}"


def month_label(key: str) -> str:
    """Month key "2024-03" to "March 2024"."""
    return f"{MONTHS[int(key[5:7]) - 1]} {key[:4]}"
