"""How the ledger shows and reads money, quantities, tax rates and dates.

Inside the state, money is integer cents, tax rates are integer basis points (825 = 8.25%) and
dates are ISO strings (`YYYY-MM-DD`), which compare correctly as strings.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from ..text import ascii_digits

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_AMOUNT = re.compile(r"^\$?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_US_DATE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")


@lru_cache(maxsize=16384)  # pages show the same amounts and dates over and over
def money(cents: int) -> str:
    """123450 -> "$1,234.50"; -8412 -> "-$84.12"."""
    whole, frac = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}${whole:,}.{frac:02d}"


def plain_amount(cents: int) -> str:
    """123450 -> "1234.50", the way an amount box holds it."""
    whole, frac = divmod(cents, 100)
    return f"{whole}.{frac:02d}"


def parse_amount(text: str) -> int | None:
    """An amount typed into a box, in cents ("1,234.5", "$84", "84.12"); None if it is not
    a non-negative amount with at most two decimals."""
    match = _AMOUNT.match(text.strip().replace(" ", ""))
    if match is None:
        return None
    whole, frac = match.groups()
    return int(whole.replace(",", "")) * 100 + int((frac or "0").ljust(2, "0"))


def parse_quantity(text: str) -> int | None:
    """A whole-number quantity ("3", " 12 "); None for anything else."""
    text = text.strip()
    if not ascii_digits(text) or len(text) > 6:
        return None
    return int(text)


def rate_label(basis_points: int) -> str:
    """825 -> "8.25%", 500 -> "5%", 0 -> "0%"."""
    whole, frac = divmod(basis_points, 100)
    return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


def parse_date(text: str) -> str | None:
    """A date typed as YYYY-MM-DD or MM/DD/YYYY, as ISO; None when it is not a real date."""
    text = text.strip()
    if match := _ISO_DATE.match(text):
        y, m, d = match.groups()
    elif match := _US_DATE.match(text):
        m, d, y = match.groups()
    else:
        return None
    try:
        return date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def long_date(iso: str) -> str:
    """ "2024-06-03" -> "June 3, 2024"."""
    return f"{MONTHS[int(iso[5:7]) - 1]} {int(iso[8:10])}, {iso[:4]}"


@lru_cache(maxsize=4096)
def short_date(iso: str) -> str:
    """ "2024-06-03" -> "Jun 3, 2024"."""
    return f"{MONTHS[int(iso[5:7]) - 1][:3]} {int(iso[8:10])}, {iso[:4]}"


def month_label(key: str) -> str:
    """ "2024-03" -> "March 2024"."""
    return f"{MONTHS[int(key[5:7]) - 1]} {key[:4]}"


def norm_text(text: str) -> str:
    """Case- and space-insensitive form of a name or description, for comparisons."""
    return " ".join(text.split()).casefold()
