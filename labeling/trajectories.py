"""A recorded episode as a grader replays it: for each step, the page the actor saw (the
stored observation, rendered exactly as they saw it), the action they took on it, and what the
action changed; then the page they ended on.

The verifier's verdict and the rewards are left out on purpose: graders judge the trajectory,
not the verifier's opinion of it.
"""

import difflib
import re
from dataclasses import dataclass, field

from environments.engine import ActionError, Page, page_to_axtree, page_to_html, parse_action
from environments.engine.page import page_from_json
from environments.models import Episode
from environments.services import environment_get, episode_state

MAX_CHANGES = 14
_BID = re.compile(r"^(\s*)\[\d+\] ")


@dataclass
class Change:
    sign: str  # "+" shown after the action, "-" gone after it
    text: str


@dataclass
class ReplayStep:
    index: int
    action: str
    # The element the action named, to highlight on the page (None for goto, answers, ...).
    bid: str | None
    page: Page
    html: str
    changes: list[Change] = field(default_factory=list)
    more_changes: int = 0
    url_after: str = ""
    title_after: str = ""
    # Why the environment refused the action ("" when it applied it): graders rate the attempt.
    error: str = ""

    @property
    def left_page(self) -> bool:
        """Whether the action led to another page (then a line diff says little)."""
        return self.url_after != self.page.url

    @property
    def number(self) -> int:
        return self.index + 1


@dataclass
class Trajectory:
    episode: Episode
    steps: list[ReplayStep]
    final_page: Page
    final_html: str
    # The text the actor sent with send_msg_to_user, if they did.
    answer: str | None

    @property
    def length(self) -> int:
        return len(self.steps)


def _lines(page: Page) -> list[str]:
    # Bids shift when elements appear, so they are left out of the comparison.
    return [_BID.sub(r"\1", line) for line in page_to_axtree(page).splitlines()[1:]]


def page_changes(before: Page, after: Page) -> tuple[list[Change], int]:
    """What differs between two pages, as added and removed lines of their accessibility
    trees, at most MAX_CHANGES of them (and how many more there were)."""
    changes: list[Change] = []
    old, new = _lines(before), _lines(after)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            changes.extend(Change("-", line.strip()) for line in old[i1:i2])
        if tag in ("replace", "insert"):
            changes.extend(Change("+", line.strip()) for line in new[j1:j2])
    return changes[:MAX_CHANGES], max(0, len(changes) - MAX_CHANGES)


def _bid_of(action: str) -> str | None:
    try:
        return parse_action(action).args.get("bid")
    except ActionError:
        return None


def trajectory_of(episode: Episode) -> Trajectory:
    """The replay of a finished (or running) episode, from its stored steps."""
    stored = list(episode.steps.order_by("index").only("index", "action", "observation", "error"))
    pages = [page_from_json(step.observation) for step in stored]
    state = episode_state(episode)
    final_page = environment_get(episode.env_id).render(state)
    steps = []
    for position, step in enumerate(stored):
        after = pages[position + 1] if position + 1 < len(pages) else final_page
        if after.url != pages[position].url:
            changes, more = [], 0
        else:
            changes, more = page_changes(pages[position], after)
        steps.append(
            ReplayStep(
                index=step.index,
                action=step.action,
                bid=_bid_of(step.action),
                page=pages[position],
                html=page_to_html(pages[position]),
                changes=changes,
                more_changes=more,
                url_after=after.url,
                title_after=after.title,
                error=step.error,
            )
        )
    return Trajectory(
        episode=episode,
        steps=steps,
        final_page=final_page,
        final_html=page_to_html(final_page),
        answer=state.get("answer"),
    )
