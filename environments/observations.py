"""What an actor is shown: a page in one of its renderings, with the goal beside it, and the
episode settings that say how (observation mode, character budget, reward mode).

The text modes are the engine's (`axtree`, `pruned`, `diff`; see environments/engine/observe.py)
and take a character budget; `json` and `html` are the page itself, for programs and people.
"""

from dataclasses import dataclass
from typing import Any

from environments.engine import Page, page_to_html, page_to_json
from environments.engine.observe import (
    MAX_OBSERVATION_CHARS,
    MIN_OBSERVATION_CHARS,
    OBSERVATION_MODES,
    observe,
)
from environments.engine.rewards import REWARD_MODES
from rlplatform.services import ServiceError

TEXT_MODES = OBSERVATION_MODES
MODES = (*TEXT_MODES, "json", "html")
DEFAULT_MODE = "axtree"
DEFAULT_REWARD_MODE = "sparse"


def parse_mode(mode: str | None, *, text_only: bool = False) -> str:
    mode = mode or DEFAULT_MODE
    allowed = TEXT_MODES if text_only else MODES
    if mode not in allowed:
        raise ServiceError(
            f"'{mode}' is not an observation mode; use one of {', '.join(allowed)}",
            field="observation_mode",
        )
    return mode


@dataclass(frozen=True)
class EpisodeSettings:
    """How an episode rewards steps and shows pages; recorded on the Episode when it starts."""

    reward_mode: str = DEFAULT_REWARD_MODE
    observation_mode: str = DEFAULT_MODE
    max_observation_chars: int | None = None


def episode_settings(
    *,
    reward_mode: str | None = None,
    observation_mode: str | None = None,
    max_observation_chars: int | None = None,
    text_only: bool = False,
) -> EpisodeSettings:
    """Checked settings (defaults for what is None), or a ServiceError naming the field.
    `text_only` refuses `json` and `html`, for interfaces whose observation is text."""
    reward_mode = reward_mode or DEFAULT_REWARD_MODE
    if reward_mode not in REWARD_MODES:
        raise ServiceError(
            f"'{reward_mode}' is not a reward mode; use one of {', '.join(REWARD_MODES)}",
            field="reward_mode",
        )
    mode = parse_mode(observation_mode, text_only=text_only)
    check_budget(mode, max_observation_chars)
    return EpisodeSettings(reward_mode, mode, max_observation_chars)


def check_budget(mode: str, max_chars: int | None) -> None:
    if max_chars is None:
        return
    if isinstance(max_chars, bool) or not isinstance(max_chars, int):
        raise ServiceError(
            "max_observation_chars must be an integer", field="max_observation_chars"
        )
    if not MIN_OBSERVATION_CHARS <= max_chars <= MAX_OBSERVATION_CHARS:
        raise ServiceError(
            f"max_observation_chars must be between {MIN_OBSERVATION_CHARS} and "
            f"{MAX_OBSERVATION_CHARS:,}",
            field="max_observation_chars",
        )
    if mode not in TEXT_MODES:
        raise ServiceError(
            f"max_observation_chars applies to the text modes ({', '.join(TEXT_MODES)}), "
            f"not to {mode}",
            field="max_observation_chars",
        )


def render_page(
    page: Page, mode: str, *, previous: Page | None = None, max_chars: int | None = None
) -> Any:
    """The page in a mode; `diff` shows what changed since `previous` (the whole pruned page
    without one)."""
    if mode == "html":
        return page_to_html(page)
    if mode == "json":
        return page_to_json(page)
    return observe(page, mode, previous=previous, max_chars=max_chars)


def observation(
    *,
    page: Page,
    goal: str,
    mode: str,
    previous: Page | None = None,
    max_chars: int | None = None,
) -> dict[str, Any]:
    return {
        "mode": mode,
        "goal": goal,
        "title": page.title,
        "url": page.url,
        "content": render_page(page, mode, previous=previous, max_chars=max_chars),
    }
