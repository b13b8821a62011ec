"""Decision prompts: what an actor is shown before one decision. Exports' step rows (what a model
is trained on) and the chat policy (what it is evaluated with) both build them here, so a model
fine-tuned on step rows is asked, when it acts, exactly what it was trained on.

A prompt is the system turn (the rules and the goal) and a user turn with a compact history of
the steps before it (each action and, in a few words, what it did: the page it led to, a new
alert, or why it was refused) and the current page in a text observation mode, cut to
`max_observation_chars`. A step row's completion is the action alone.

The defaults keep a row (prompt and completion) under about 2,750 characters, so that it fits
TRL's default context of 1,024 tokens even where pages are dense with amounts, codes and times,
which tokenizers cut finer (2.5-2.6 characters a token there, against 3.2 on average). The
system turn (the rules and the goal) takes 500-700 characters; the page up to
`max_observation_chars` (1,800: the pruned page whole on 18-94% of the solvers' steps,
depending on the environment; the element acted on cut off for 0.4-6% of their actions, 14% on
the ledger's long tables); the history what is left of `PROMPT_BUDGET_CHARS`, at most
`HISTORY_CHARS`, showing the most recent steps that fit. The rest is for the action.

Two sets of rules: `step` (the step rows', the action alone) and `reasoning` (for general
models, which do better thinking first; whole-trajectory conversations use them too). They
change the system turn only: the user turn is the same, within the same budget.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from .observe import observe
from .page import Page, page_to_json

# TRL's default max_length (1,024 tokens) in characters, prompt and completion together.
ROW_BUDGET_CHARS = 3_500
DEFAULT_MAX_OBSERVATION_CHARS = 1_800
DEFAULT_OBSERVATION_MODE = "pruned"
DEFAULT_HISTORY = "actions"
# The prompt's share of a row's budget (the rest is for the action), and the most the history of
# one-line steps takes of it.
PROMPT_BUDGET_CHARS = 2_600
HISTORY_CHARS = 600
# An action and its effect as a history line shows them (a step row's completion is never cut).
ACTION_CHARS = 160
EFFECT_CHARS = 120

# The step rows' rules: the reasoning rules in a third of the characters, without their
# invitation to think first, since a step row's completion is the action alone.
STEP_RULES = (
    "You operate a web application to complete the user's task. You see the steps taken so far "
    "and the current page as an accessibility tree, one element a line: [bid] role 'name'. "
    "Reply with exactly one action: click('bid'), fill('bid', 'text'), "
    "select_option('bid', 'option'), check('bid'), uncheck('bid'), goto('page'), "
    "send_msg_to_user('text') to answer the user (this ends the task), or noop()."
)
REASONING_RULES = """You operate a web application to complete a task for a user.
Each turn you see the page as an accessibility tree: one element a line, `[bid] role 'name'`.
Reply with exactly one action, on its own line, from this list:
  click('bid')                     click a link, button or checkbox
  fill('bid', 'text')              type into a text or number field (replaces its value)
  select_option('bid', 'option')   choose an option of a select
  check('bid') / uncheck('bid')    set a checkbox
  goto('page')                     open a page of the site's main menu
  send_msg_to_user('text')         answer the user; this ends the task
  noop()                           do nothing
Quote text with single quotes. Think briefly if you need to, then give the action last."""
RULES = {"step": STEP_RULES, "reasoning": REASONING_RULES}
PROMPTS = tuple(RULES)
DEFAULT_PROMPT = "step"


MAX_LAST_PAGES = 10
_LAST_PAGES = re.compile(r"last_pages:([0-9]{1,3})")
HISTORY_HELP = f"'actions', 'none' or 'last_pages:K' with K from 1 to {MAX_LAST_PAGES}"


def parse_history(value: Any) -> tuple[str, int]:
    """A history option (`actions`, `none`, `last_pages:K`) as Budget's `history` and
    `last_pages`; ValueError for anything else."""
    if value in ("actions", "none"):
        return value, 0
    match = _LAST_PAGES.fullmatch(value) if isinstance(value, str) else None
    if match and 1 <= int(match.group(1)) <= MAX_LAST_PAGES:
        return "last_pages", int(match.group(1))
    raise ValueError(f"history must be {HISTORY_HELP}")


def system_turn(goal: str, prompt: str = DEFAULT_PROMPT) -> str:
    """The system turn: the rules of `prompt` (`step` or `reasoning`), and the goal."""
    return f"{RULES[prompt]}\n\nTask: {goal}"


@dataclass(frozen=True)
class Budget:
    """How a prompt renders its pages and history (for an export, its resolved options; the
    defaults are a step row's)."""

    granularity: str = "step"
    observation_mode: str = DEFAULT_OBSERVATION_MODE
    # None: pages whole (trajectory rows unless the export names a budget).
    max_observation_chars: int | None = DEFAULT_MAX_OBSERVATION_CHARS
    # "actions" (one line a step), "none", or "last_pages" (the last `last_pages` steps with
    # their pages, older ones as lines).
    history: str = DEFAULT_HISTORY
    last_pages: int = 0

    def options(self) -> dict[str, Any]:
        history = f"last_pages:{self.last_pages}" if self.history == "last_pages" else self.history
        return {
            "granularity": self.granularity,
            "observation_mode": self.observation_mode,
            "max_observation_chars": self.max_observation_chars,
            "history": history,
        }


# What a history line says of a page: its title, its url, its alerts.
PageFacts = tuple[str, str, tuple[str, ...]]


def page_facts(page: Page) -> PageFacts:
    alerts = tuple(alert.text() for alert in page.find_all(role="alert"))
    return page.title, page.url, alerts


def clip(text: str, limit: int) -> str:
    """`text` on one line, whitespace runs as one space, cut to `limit` characters."""
    if len(text) <= limit and text.isprintable() and "  " not in text:
        return text
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def effect(error: str, before: PageFacts, after: PageFacts | None, *, changed: bool = True) -> str:
    """What a step did, in a few words: the page it led to (`after`, None for an episode's last
    step, which led to no recorded page) and any new alert, or why it was refused; `no change`
    when the page it led to is the very page it was taken on (`changed` false)."""
    if error:
        return clip(f"refused: {error}", EFFECT_CHARS)
    if after is None:
        return "episode ended"
    if not changed:
        return "no change"
    title, url, alerts = after
    before_title, before_url, before_alerts = before
    text = "same page" if (title, url) == (before_title, before_url) else f"{title} ({url})"
    new_alerts = [alert for alert in dict.fromkeys(alerts) if alert and alert not in before_alerts]
    # A form's error is often both the page's alert and its field's: say it once.
    new_alerts = [a for a in new_alerts if not any(a != b and a in b for b in new_alerts)]
    if new_alerts:
        text += "; alert: " + "; ".join(new_alerts)
    return clip(text, EFFECT_CHARS)


def history_line(
    index: int,
    action: str,
    error: str,
    before: PageFacts,
    after: PageFacts | None,
    *,
    changed: bool = True,
) -> str:
    """Step `index` (from 0) as a line of the history: its action and what it did."""
    did = effect(error, before, after, changed=changed)
    return f"{index + 1}. {clip(action, ACTION_CHARS)} -> {did}"


class DecisionPrompts:
    """The prompts of one episode's decisions: its history lines, added in step order, and its
    pages, which a subclass renders (`page`). A line is made once and shared by the prompts of
    every later step."""

    def __init__(self, goal: str, budget: Budget, *, prompt: str = DEFAULT_PROMPT):
        self.system = system_turn(goal, prompt)
        # What is left of the prompt's budget for the user turn; the same for either rules.
        self.user_chars = PROMPT_BUDGET_CHARS - len(system_turn(goal))
        self.budget = budget
        self.lines: list[str] = []
        # ends[i]: the characters of lines[:i], each with its newline (to find in one search
        # how many recent lines fit a history's room).
        self.ends = [0]

    def add_line(self, line: str) -> None:
        self.lines.append(line)
        self.ends.append(self.ends[-1] + len(line) + 1)

    def page(self, index: int) -> str:
        """The page of step `index` as text, in the budget's mode and within its characters."""
        raise NotImplementedError

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


class PlayPrompts(DecisionPrompts):
    """The prompts of an episode being played: each page as the actor is shown it (`see`),
    each action as it is taken (`took`). A step's history line is made when the page it led to
    is seen, so that the prompt of a decision is the one a step row of the recorded episode
    has."""

    def __init__(self, goal: str, budget: Budget, *, prompt: str = DEFAULT_PROMPT):
        super().__init__(goal, budget, prompt=prompt)
        self.pages: list[Page] = []
        self.facts: list[PageFacts] = []
        # The action taken on the last page seen, whose line waits for the page it led to.
        self.action: str | None = None
        # The last page as JSON, which the next page is compared with (`no change`).
        self.last_shown: dict | None = None

    def see(self, page: Page, last_error: str = "") -> int:
        """Take in the page of the next decision (`last_error`: why the last action was refused,
        if it was); the decision's index."""
        facts = page_facts(page)
        shown = page_to_json(page)
        if self.action is not None:
            index = len(self.pages) - 1
            changed = shown != self.last_shown
            line = history_line(
                index, self.action, last_error, self.facts[-1], facts, changed=changed
            )
            self.add_line(line)
            self.action = None
        self.pages.append(page)
        self.facts.append(facts)
        self.last_shown = shown
        return len(self.pages) - 1

    def took(self, action: str) -> None:
        self.action = action

    def page(self, index: int) -> str:
        budget = self.budget
        previous = self.pages[index - 1] if budget.observation_mode == "diff" and index else None
        return observe(
            self.pages[index],
            budget.observation_mode,
            previous=previous,
            max_chars=budget.max_observation_chars,
        )
