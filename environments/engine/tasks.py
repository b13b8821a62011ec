"""Task families (goal template + parameter generator + verifier) and the tasks they make.

Also the verifier helpers every environment shares: comparing answers as amounts, and diffing
two states' records to find collateral damage.
"""

from __future__ import annotations

import inspect
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from .base import Check, Outcome
from .variants import check_variant


@dataclass(frozen=True, slots=True)
class Task:
    """One task: a family's goal for one seed. JSON-serialisable with to_dict/from_dict."""

    env: str
    family: str
    seed: int
    params: dict
    goal: str
    max_steps: int
    # The UI variant its episodes render (see variants.py); "default" is left out of to_dict.
    variant: str = "default"

    def to_dict(self) -> dict:
        out = {
            "env": self.env,
            "family": self.family,
            "seed": self.seed,
            "params": dict(self.params),
            "goal": self.goal,
            "max_steps": self.max_steps,
        }
        if self.variant != "default":
            out["variant"] = self.variant
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Task:
        return cls(
            env=data["env"],
            family=data["family"],
            seed=int(data["seed"]),
            params=dict(data["params"]),
            goal=data["goal"],
            max_steps=int(data["max_steps"]),
            variant=str(data.get("variant", "default")),
        )


class TaskFamily:
    """A parametrised task. Subclass it, write a docstring saying what the task is and what
    the verifier checks, set the class attributes, and implement `params` and `verify`.

    `goal` is a `str.format` template filled from the params. `params(seed)` must draw from
    the same seeded data the environment builds in `reset(seed)`, so every task is solvable.
    """

    name: ClassVar[str]
    env: ClassVar[str]  # environment id, e.g. "bank-v1"
    title: ClassVar[str]
    goal: ClassVar[str]
    max_steps: ClassVar[int] = 30
    # The reward rubric (see rewards.py): the checks that only guard (they zero partial and
    # progress credit when they fail, and earn none), None meaning those that already pass on
    # the initial state; and weights of the other checks by name (default 1.0 each).
    guard_checks: ClassVar[tuple[str, ...] | None] = None
    check_weights: ClassVar[dict[str, float]] = {}

    @property
    def description(self) -> str:
        return inspect.cleandoc(type(self).__doc__ or "")

    def rng(self, seed: int) -> random.Random:
        """A generator for this family and seed; independent of other families' draws."""
        return random.Random(f"{self.env}/{self.name}/{seed}")

    def params(self, seed: int) -> dict:
        """JSON-serialisable parameters for a seed (deterministic)."""
        raise NotImplementedError

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        """Judge the final state against the initial one."""
        raise NotImplementedError

    def make_task(self, seed: int, variant: str = "default") -> Task:
        params = self.params(seed)
        return Task(
            env=self.env,
            family=self.name,
            seed=seed,
            params=params,
            goal=self.goal.format(**params),
            max_steps=self.max_steps,
            variant=check_variant(variant),
        )


# --- answers -----------------------------------------------------------------------------

# "$1,234.50", "-84.12", "1234.5", "84": a sign (ASCII or Unicode minus), an optional $, and
# grouped or plain digits. Digits are [0-9], not \d: the sites read only ASCII digits in their
# forms, and an answer is held to the same rule ("٣" names no number).
_NUMBER = re.compile(
    r"(?<![\w.])([-\u2212]?)\s?(\$?)\s?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?(?![\w])"
)
_WHOLE_NUMBER = re.compile(r"(?<![0-9.,])[0-9]+(?![0-9.,]*[0-9])")


def amounts_in(text: str) -> list[Decimal]:
    """The amounts a free-text answer names.

    Numbers written as money (with `$` or decimals) win; plain integers count only when there is
    no such number, so "On March 12 I paid $84.12" names 84.12 and not 12.
    """
    money, plain = [], []
    for sign, dollar, digits, decimals in _NUMBER.findall(text):
        try:
            value = Decimal(digits.replace(",", "") + (decimals or ""))
        except InvalidOperation:
            continue
        if sign:
            value = -value
        (money if dollar or decimals else plain).append(value)
    return money or plain


def whole_numbers_in(text: str | None) -> list[str]:
    """The whole numbers a free-text answer names, as written: "3 days" names ["3"]; "3.5",
    "1,200" and "٣" name none."""
    return _WHOLE_NUMBER.findall(text or "")


def check_amount(
    answer: str | None, expected_cents: int, *, name: str = "answer", absolute: bool = False
) -> Check:
    """Pass when the answer names exactly one amount and it equals the expected one.

    "$1,234.50" and "1234.5" match 1234.50; "1234" does not. With `absolute`, the sign is
    ignored (a purchase of $84.12 may be reported as "-84.12").
    """
    expected = Decimal(expected_cents) / 100
    shown = f"${abs(expected):,.2f}" if absolute else _money(expected)
    if answer is None:
        return Check(name, False, f"no answer was sent (expected {shown})")
    values = set(amounts_in(answer))
    if absolute:
        values = {abs(v) for v in values}
        expected = abs(expected)
    if not values:
        return Check(name, False, f"the answer names no amount (expected {shown})")
    if len(values) > 1:
        listed = ", ".join(_money(v) for v in sorted(values))
        return Check(name, False, f"the answer names {len(values)} amounts ({listed}); give one")
    (value,) = values
    if value != expected:
        return Check(name, False, f"the answer says {_money(value)}, expected {shown}")
    return Check(name, True, f"the answer is {shown}")


def _money(value: Decimal) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def shown(value: object) -> str:
    """A value as a person would write it in a check's detail: text without quotes, lists as
    "a, b", a record as its values, and "nothing" for None, "" and empty lists."""
    if value is None or value == "" or value == [] or value == {}:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(shown(v) for v in value.values() if v not in (None, ""))
    return str(value)


def check_field(
    name: str,
    got: object,
    want: object,
    show: Callable[[object], str] = shown,
    *,
    missing: str | None = None,
) -> Check:
    """Pass when `got` equals `want`. The detail shows the value the way the site does:
    "show(got) instead of show(want)" on a failure, "show(want)" on a pass, and `missing`
    (failing) when there is no record to check."""
    if missing is not None:
        return Check(name, False, missing)
    if got != want:
        return Check(name, False, f"{show(got)} instead of {show(want)}")
    return Check(name, True, show(want))


# --- collateral damage -------------------------------------------------------------------


def diff_records(
    initial: dict, final: dict, keys: Iterable[str]
) -> list[tuple[str, str, str, object, object]]:
    """Differences between two states' record lists, as (key, record id, field, before, after).

    Each `state[key]` is a list of dicts with an "id". A record added has field "+", one
    removed "-" (with the record as after/before). Lists are compared by id, in any order.
    """
    out: list[tuple[str, str, str, object, object]] = []
    for key in keys:
        before, after = initial[key], final[key]
        if before is after:
            continue  # shared, untouched by every step since reset
        old = {r["id"]: r for r in before}
        new = {r["id"]: r for r in after}
        for rid, rec in new.items():
            if rid not in old:
                out.append((key, rid, "+", None, rec))
                continue
            prev = old[rid]
            if prev == rec:
                continue
            for fld in sorted(set(prev) | set(rec)):
                if prev.get(fld) != rec.get(fld):
                    out.append((key, rid, fld, prev.get(fld), rec.get(fld)))
        for rid, rec in old.items():
            if rid not in new:
                out.append((key, rid, "-", rec, None))
    return out


def check_no_collateral(
    diffs: list[tuple[str, str, str, object, object]],
    allowed: Iterable[tuple[str, str, str]] = (),
    *,
    name: str = "no_collateral_damage",
) -> Check:
    """Fail on any difference the task did not ask for.

    `allowed` holds (key, record id, field) triples; "*" matches any id or field, so
    ("transfers", "*", "+") allows added transfers (their content is checked elsewhere).
    """
    allowed = list(allowed)

    def ok(key: str, rid: str, fld: str) -> bool:
        return any(a[0] == key and a[1] in ("*", rid) and a[2] in ("*", fld) for a in allowed)

    unasked = [d for d in diffs if not ok(d[0], d[1], d[2])]
    if not unasked:
        return Check(name, True, "nothing else changed")
    parts = []
    for key, rid, fld, before, after in unasked[:5]:
        if fld == "+":
            parts.append(f"{key} {rid} was added")
        elif fld == "-":
            parts.append(f"{key} {rid} was removed")
        else:
            parts.append(f"{key} {rid} {fld} changed from {shown(before)} to {shown(after)}")
    more = f" (and {len(unasked) - 5} more)" if len(unasked) > 5 else ""
    return Check(name, False, "unrequested changes: " + "; ".join(parts) + more)
