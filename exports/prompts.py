"""Step-level prompts within a context budget: what a row puts before one decision.

A step row is one decision. Its prompt is the system turn (the rules and the goal) and a user
turn with a compact history of the steps before it (each action and, in a few words, what it
did: the page it led to, a new alert, or why it was refused) and the page the actor saw,
pruned and cut to `max_observation_chars`. Its completion is the action alone: environment text
is only ever in the prompt.

The defaults keep a row (prompt and completion) under about 2,750 characters, so that it fits
TRL's default context of 1,024 tokens even where pages are dense with amounts, codes and times,
which tokenizers cut finer (2.5-2.6 characters a token there, against 3.2 on average). The
system turn (the rules and the goal) takes 500-700 characters; the page up to
`max_observation_chars` (1,800: the pruned page whole on 18-94% of the solvers' steps,
depending on the environment; the element acted on cut off for 0.4-6% of their actions, 14% on
the ledger's long tables); the history what is left of `PROMPT_BUDGET_CHARS`, at most
`HISTORY_CHARS`, showing the most recent steps that fit. The rest is for the action.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from environments.engine.page import Page, page_from_json
from environments.observations import MODES, TEXT_MODES, check_budget, render_page
from environments.policies import SYSTEM_PROMPT
from rlplatform.services import ServiceError

if TYPE_CHECKING:
    from exports.kinds import StepRow

# TRL's default max_length (1,024 tokens) in characters, prompt and completion together.
ROW_BUDGET_CHARS = 3_500
GRANULARITIES = ("step", "trajectory")
DEFAULT_MAX_OBSERVATION_CHARS = 1_800
DEFAULT_HISTORY = "actions"
MAX_LAST_PAGES = 10
# The prompt's share of a row's budget (the rest is for the action), and the most the history of
# one-line steps takes of it.
PROMPT_BUDGET_CHARS = 2_600
HISTORY_CHARS = 600
# An action and its effect as a history line shows them (the completion is never cut).
ACTION_CHARS = 160
EFFECT_CHARS = 120
# Step rows render pages in the text modes; `trajectory` rows in any observation mode.
DEFAULT_STEP_MODE = "pruned"
DEFAULT_TRAJECTORY_MODE = "axtree"

_LAST_PAGES = re.compile(r"last_pages:([0-9]{1,3})")


# The rules a step row's system turn gives: the chat policy's in a third of the characters, and
# without its invitation to think first, since a step row's completion is the action alone.
STEP_RULES = (
    "You operate a web application to complete the user's task. You see the steps taken so far "
    "and the current page as an accessibility tree, one element a line: [bid] role 'name'. "
    "Reply with exactly one action: click('bid'), fill('bid', 'text'), "
    "select_option('bid', 'option'), check('bid'), uncheck('bid'), goto('page'), "
    "send_msg_to_user('text') to answer the user (this ends the task), or noop()."
)


def system_prompt(goal: str) -> str:
    """The system turn of a whole-trajectory conversation: the rules the chat policy is given,
    and the goal."""
    return f"{SYSTEM_PROMPT}\n\nTask: {goal}"


def step_system_prompt(goal: str) -> str:
    """The system turn of a step row: the rules, and the goal."""
    return f"{STEP_RULES}\n\nTask: {goal}"


@dataclass(frozen=True)
class Budget:
    """How a row renders its pages and history (an export's resolved options)."""

    granularity: str
    observation_mode: str
    # None: pages whole (trajectory rows unless the export names a budget).
    max_observation_chars: int | None
    # "actions" (one line a step), "none", or "last_pages" (the last `last_pages` steps with
    # their pages, older ones as lines).
    history: str
    last_pages: int = 0

    def options(self) -> dict[str, Any]:
        history = f"last_pages:{self.last_pages}" if self.history == "last_pages" else self.history
        return {
            "granularity": self.granularity,
            "observation_mode": self.observation_mode,
            "max_observation_chars": self.max_observation_chars,
            "history": history,
        }


def budget_of(filters: dict[str, Any]) -> Budget:
    """The row options of an export's filters, with their defaults; a bad value raises a
    ServiceError naming the filter."""
    granularity = filters.get("granularity") or "step"
    if granularity not in GRANULARITIES:
        raise ServiceError(
            f"granularity '{granularity}' is not one of {', '.join(GRANULARITIES)}",
            field="filters.granularity",
        )
    step = granularity == "step"
    mode = filters.get("observation_mode") or (
        DEFAULT_STEP_MODE if step else DEFAULT_TRAJECTORY_MODE
    )
    allowed = TEXT_MODES if step else MODES
    if mode not in allowed:
        raise ServiceError(
            f"observation_mode must be one of {', '.join(allowed)}"
            + (
                " (step rows show pages as text; granularity 'trajectory' takes any)"
                if step
                else ""
            ),
            field="filters.observation_mode",
        )
    max_chars = filters.get("max_observation_chars")
    try:
        # The agent API's rules for a page's budget, so that it means the same here.
        check_budget(mode, max_chars)
    except ServiceError as error:
        raise ServiceError(error.message, field="filters.max_observation_chars") from None
    if max_chars is None and step:
        max_chars = DEFAULT_MAX_OBSERVATION_CHARS
    history, last_pages = parse_history(filters.get("history") or DEFAULT_HISTORY)
    return Budget(granularity, mode, max_chars, history, last_pages)


def parse_history(value: Any) -> tuple[str, int]:
    if value in ("actions", "none"):
        return value, 0
    match = _LAST_PAGES.fullmatch(value) if isinstance(value, str) else None
    if match and 1 <= int(match.group(1)) <= MAX_LAST_PAGES:
        return "last_pages", int(match.group(1))
    raise ServiceError(
        f"history must be 'actions', 'none' or 'last_pages:K' with K from 1 to {MAX_LAST_PAGES}",
        field="filters.history",
    )


@lru_cache(maxsize=64)
def stored_page(observation: str) -> Page:
    """A stored observation (page JSON text) as a Page, read-only. An episode's step rows ask
    for the same few pages in turn; their texts are cached below, so few Pages need keeping."""
    return page_from_json(json.loads(observation))


# Trajectories revisit the same pages often (every episode of a task starts on the same one),
# so renderings are kept: a few thousand, since each key holds a stored page's JSON text.
@lru_cache(maxsize=2048)
def page_text(observation: str, mode: str, max_chars: int | None, previous: str | None) -> str:
    """A stored page rendered as text in `mode` within `max_chars` (`previous`: the page
    before, for `diff`), as the agent API renders it."""
    before = stored_page(previous) if previous is not None else None
    rendered = render_page(stored_page(observation), mode, previous=before, max_chars=max_chars)
    return rendered if isinstance(rendered, str) else json.dumps(rendered, sort_keys=True)


# What a history line says of a page: its title, its url, its alerts.
PageFacts = tuple[str, str, tuple[str, ...]]


@lru_cache(maxsize=2048)
def page_facts(observation: str) -> PageFacts:
    page = stored_page(observation)
    alerts = tuple(alert.text() for alert in page.find_all(role="alert"))
    return page.title, page.url, alerts


def clip(text: str, limit: int) -> str:
    """`text` on one line, whitespace runs as one space, cut to `limit` characters."""
    if len(text) <= limit and text.isprintable() and "  " not in text:
        return text
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def effect(error: str, before: PageFacts, after: PageFacts | None) -> str:
    """What a step did, in a few words: the page it led to (`after`, None for an episode's last
    step, which led to no recorded page) and any new alert, or why it was refused."""
    if error:
        return clip(f"refused: {error}", EFFECT_CHARS)
    if after is None:
        return "episode ended"
    title, url, alerts = after
    before_title, before_url, before_alerts = before
    text = "same page" if (title, url) == (before_title, before_url) else f"{title} ({url})"
    new_alerts = [alert for alert in alerts if alert and alert not in before_alerts]
    if new_alerts:
        text += "; alert: " + "; ".join(new_alerts)
    return clip(text, EFFECT_CHARS)


class StepPrompts:
    """The prompts of one episode's steps. A history line is made once per step and shared
    by the prompts of every later step."""

    def __init__(self, goal: str, steps: list[StepRow], budget: Budget):
        self.system = step_system_prompt(goal)
        # What is left of the prompt's budget for the user turn.
        self.user_chars = PROMPT_BUDGET_CHARS - len(self.system)
        self.steps = steps
        self.budget = budget
        facts = [page_facts(step.observation) for step in steps]
        after = [*facts[1:], None]
        self.lines = [
            f"{index + 1}. {clip(step.action, ACTION_CHARS)} -> "
            f"{effect(step.error, facts[index], after[index])}"
            for index, step in enumerate(steps)
        ]
        # ends[i]: the characters of lines[:i], each with its newline (to find in one search
        # how many recent lines fit a history's room).
        self.ends = list(accumulate((len(line) + 1 for line in self.lines), initial=0))

    def page(self, index: int) -> str:
        budget = self.budget
        # Only a diff depends on the page before (and only then is it part of the cache key).
        diff = budget.observation_mode == "diff" and index > 0
        previous = self.steps[index - 1].observation if diff else None
        return page_text(
            self.steps[index].observation,
            budget.observation_mode,
            budget.max_observation_chars,
            previous,
        )

    def history(self, index: int, room: int) -> str:
        """The steps before `index`: the most recent one-liners that fit `room` characters
        (with a note of how many earlier ones were left out), then, with `last_pages:K`, the
        last K steps each with the page it was taken on."""
        if self.budget.history == "none":
            return ""
        if index == 0:
            return "Previous steps: none (this is the first step)."
        paged = min(self.budget.last_pages, index)
        first_paged = index - paged
        # The first line from which the lines up to first_paged fit the room.
        first_shown = bisect_left(self.ends, self.ends[first_paged] - room, hi=first_paged)
        parts = ["Previous steps:"]
        if first_shown:
            parts.append(f"({first_shown} earlier steps not shown)")
        parts += self.lines[first_shown:first_paged]
        for step in range(first_paged, index):
            parts += [f"Page at step {step + 1}:", self.page(step), self.lines[step]]
        return "\n".join(parts)

    def user(self, index: int) -> str:
        page = f"Current page:\n{self.page(index)}"
        room = min(HISTORY_CHARS, self.user_chars - len(page))
        history = self.history(index, room)
        return f"{history}\n\n{page}" if history else page

    def messages(self, index: int) -> list[dict[str, str]]:
        """The conversational prompt of step `index`: system turn, then history and page."""
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user(index)},
        ]

    def text(self, index: int) -> str:
        """The same prompt as one string (for kinds whose prompt is plain text)."""
        return f"{self.system}\n\n{self.user(index)}"
