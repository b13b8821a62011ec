"""Step rows' prompts from stored episodes: an export's options (`budget_of`, checked here with
errors naming the filter) and the prompts of a recorded episode's steps, built by the engine's
decision prompts (environments/engine/prompts.py: the rules, the history lines, the page within
its budget), which the chat policy builds too. Stored pages are parsed and rendered once each:
an export's episodes revisit the same pages often.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from environments.engine.page import Page, page_from_json
from environments.engine.prompts import (
    DEFAULT_HISTORY,
    DEFAULT_MAX_OBSERVATION_CHARS,
    DEFAULT_OBSERVATION_MODE,
    Budget,
    DecisionPrompts,
    PageFacts,
    history_line,
    page_facts,
    parse_history,
    system_turn,
)
from environments.observations import MODES, TEXT_MODES, check_budget, render_page
from rlplatform.services import ServiceError

if TYPE_CHECKING:
    from exports.kinds import StepRow

GRANULARITIES = ("step", "trajectory")
# Step rows render pages in the text modes (by default the engine's, DEFAULT_OBSERVATION_MODE);
# `trajectory` rows in any observation mode.
DEFAULT_TRAJECTORY_MODE = "axtree"


def system_prompt(goal: str) -> str:
    """The system turn of a whole-trajectory conversation: the reasoning rules, and the goal."""
    return system_turn(goal, "reasoning")


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
        DEFAULT_OBSERVATION_MODE if step else DEFAULT_TRAJECTORY_MODE
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
    history, last_pages = history_of(filters)
    return Budget(granularity, mode, max_chars, history, last_pages)


def history_of(filters: dict[str, Any]) -> tuple[str, int]:
    try:
        return parse_history(filters.get("history") or DEFAULT_HISTORY)
    except ValueError as error:
        raise ServiceError(str(error), field="filters.history") from None


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


@lru_cache(maxsize=2048)
def stored_page_facts(observation: str) -> PageFacts:
    return page_facts(stored_page(observation))


class StepPrompts(DecisionPrompts):
    """The prompts of a recorded episode's steps."""

    def __init__(self, goal: str, steps: list[StepRow], budget: Budget):
        super().__init__(goal, budget)
        self.steps = steps
        facts = [stored_page_facts(step.observation) for step in steps]
        after = [*facts[1:], None]
        following = [*(step.observation for step in steps[1:]), None]
        for index, step in enumerate(steps):
            changed = step.observation != following[index]
            self.add_line(
                history_line(
                    index, step.action, step.error, facts[index], after[index], changed=changed
                )
            )

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
