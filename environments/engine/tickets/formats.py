"""How the ticket shop shows money and dates (integer cents and ISO dates inside the state)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_ISO = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
# A deliberately plain address check, like the ones shops run before sending a confirmation.
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def money(amount: int) -> str:
    """12345 -> "$123.45"; -1000 -> "-$10.00"."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 100)
    return f"{sign}${whole:,}.{frac:02d}"


def long_date(iso: str) -> str:
    """ "2024-06-03" -> "June 3, 2024"."""
    return f"{MONTHS[int(iso[5:7]) - 1]} {int(iso[8:10])}, {iso[:4]}"


@lru_cache(maxsize=4096)
def short_date(iso: str) -> str:
    """ "2024-06-03" -> "Mon, Jun 3, 2024" (a pure function of the string, hence cached)."""
    weekday = WEEKDAYS[date.fromisoformat(iso).weekday()]
    return f"{weekday}, {MONTHS[int(iso[5:7]) - 1][:3]} {int(iso[8:10])}, {iso[:4]}"


def clock(hhmm: str) -> str:
    """ "19:30" -> "7:30 PM"."""
    hour, minute = int(hhmm[:2]), hhmm[3:5]
    suffix = "PM" if hour >= 12 else "AM"
    return f"{(hour - 1) % 12 + 1}:{minute} {suffix}"


def month_label(key: str) -> str:
    """ "2024-03" -> "March 2024"."""
    return f"{MONTHS[int(key[5:7]) - 1]} {key[:4]}"


def card_expiry(yyyymm: str) -> str:
    """ "2027-08" -> "08/2027"."""
    return f"{yyyymm[5:7]}/{yyyymm[:4]}"


def parse_date(text: str) -> str | None:
    """A date typed as YYYY-MM-DD, as an ISO string; None when it is not a real date."""
    match = _ISO.match(text.strip())
    if match is None:
        return None
    y, m, d = (int(g) for g in match.groups())
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def valid_email(text: str) -> bool:
    return len(text) <= 254 and _EMAIL.match(text) is not None


def seat_ranges(numbers: list[int]) -> str:
    """[3, 4, 5, 9] -> "3-5, 9" (numbers sorted)."""
    out: list[str] = []
    nums = sorted(numbers)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)
