"""Policies that act on pages: the `Policy` protocol, a random baseline, scripted solvers, and
`run_episode` to drive any of them.

A policy sees what an agent sees (the task and the rendered page) and never the hidden state.
"""

from __future__ import annotations

import random
import re
from collections.abc import Generator
from typing import TYPE_CHECKING, Protocol

from .actions import ActionError
from .page import INPUT_ROLES, Element, Page, quote
from .variants import canonical_page

if TYPE_CHECKING:
    from .base import Environment, Outcome
    from .tasks import Task

# A solver script yields action strings and receives the page each one led to.
Script = Generator[str, Page, None]


class Policy(Protocol):
    def reset(self, task: Task) -> None:
        """Start a new episode of `task`."""

    def act(self, task: Task, page: Page, state_view: dict | None = None) -> str:
        """The next action string. `state_view` holds what an agent may know besides the
        page: `{"step": n, "error": message of the last rejected action or None}`."""


class RandomPolicy:
    """Clicks, fills and selects at random, with values from the goal text and plausible
    amounts and dates. A floor for success rates: a verifier that it satisfies often is too
    lenient."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.values: list[str] = []

    def reset(self, task: Task) -> None:
        self.rng = random.Random(f"{self.seed}/{task.family}/{task.seed}")
        quoted = re.findall(r"'([^']+)'|\"([^\"]+)\"", task.goal)
        words = [w.strip(".,:;()") for w in task.goal.split()]
        self.values = [a or b for a, b in quoted] + [w for w in words if w]

    def _value(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5 and self.values:
            return rng.choice(self.values)
        if roll < 0.8:
            return f"{rng.randint(1, 2000)}.{rng.randint(0, 99):02d}"
        return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"

    def act(self, task: Task, page: Page, state_view: dict | None = None) -> str:
        rng = self.rng
        elements = [el for el in page.interactive() if not el.disabled]
        if rng.random() < 0.03 or not elements:
            return f"send_msg_to_user({quote(self._value())})"
        el = rng.choice(elements)
        if el.role in INPUT_ROLES:
            return f"fill({quote(el.bid)}, {quote(self._value())})"
        if el.role == "select":
            return f"select_option({quote(el.bid)}, {quote(rng.choice(el.options))})"
        if el.role == "checkbox":
            return f"{rng.choice(['check', 'uncheck', 'click'])}({quote(el.bid)})"
        return f"click({quote(el.bid)})"


class ScriptedSolver:
    """Base for an environment's solver. A subclass implements `script(task, page)`, a
    generator that yields action strings and receives each next page; it may use the task's
    params and what pages show, nothing else (bids are found by reading the page). Pages
    reach the script with reworded labels read back (`variants.canonical_page`), so a script
    written against the default wording works in every UI variant."""

    def __init__(self) -> None:
        self._script: Script | None = None

    def reset(self, task: Task) -> None:
        self._script = None

    def act(self, task: Task, page: Page, state_view: dict | None = None) -> str:
        if state_view and state_view.get("error"):
            raise RuntimeError(f"{type(self).__name__} made an invalid action: {state_view}")
        page = canonical_page(page)
        if self._script is None:
            self._script = self.script(task, page)
            return next(self._script)
        try:
            return self._script.send(page)
        except StopIteration:
            return "noop()"  # the script is done but the episode was not ended

    def script(self, task: Task, page: Page) -> Script:
        raise NotImplementedError


# --- page-reading helpers for scripts ----------------------------------------------------


def need(found: Element | None, what: str) -> Element:
    """The element a script expected on the page; fail loudly if the page lacks it."""
    if found is None:
        raise LookupError(f"the page has no {what}")
    return found


def option_starting(select: Element, prefix: str) -> str:
    """The option of a select whose label starts with `prefix`."""
    for option in select.options:
        if option.startswith(prefix):
            return option
    raise LookupError(f"select {select.name!r} has no option starting {prefix!r}")


def fill(el: Element, value: str) -> str:
    return f"fill({quote(el.bid)}, {quote(value)})"


def select(el: Element, option: str) -> str:
    return f"select_option({quote(el.bid)}, {quote(option)})"


def click(el: Element) -> str:
    return f"click({quote(el.bid)})"


def send(text: str) -> str:
    return f"send_msg_to_user({quote(text)})"


# --- running -----------------------------------------------------------------------------


def run_episode(
    env: Environment, task: Task, policy: Policy, max_steps: int | None = None
) -> tuple[list[dict], list[str], Outcome]:
    """Reset, then let the policy act until it sends its message or `max_steps` (default: the
    task's) run out. Returns the states (initial first), the actions, and the verdict.

    A rejected action leaves the state as it was (appended again) and is reported to the
    policy as `state_view["error"]` on the next step.
    """
    limit = task.max_steps if max_steps is None else max_steps
    state = env.reset(task.seed, task)
    policy.reset(task)
    states, actions = [state], []
    error: str | None = None
    for step in range(limit):
        action = policy.act(task, env.render(state), {"step": step, "error": error})
        actions.append(action)
        try:
            state = env.step(state, action)
            error = None
        except ActionError as exc:
            error = f"{exc.code}: {exc.message}"
        states.append(state)
        if state["finished"]:
            break
    return states, actions, env.evaluate(state, task)
