"""What an actor is shown: a page in one of three renderings, with the goal beside it."""

from typing import Any

from environments.engine import Page, page_to_axtree, page_to_html, page_to_json
from rlplatform.services import ServiceError

MODES = ("axtree", "json", "html")
DEFAULT_MODE = "axtree"


def parse_mode(mode: str | None) -> str:
    mode = mode or DEFAULT_MODE
    if mode not in MODES:
        raise ServiceError(
            f"'{mode}' is not an observation mode; use one of {', '.join(MODES)}",
            field="observation_mode",
        )
    return mode


def render_page(page: Page, mode: str) -> Any:
    if mode == "axtree":
        return page_to_axtree(page)
    if mode == "html":
        return page_to_html(page)
    return page_to_json(page)


def observation(*, page: Page, goal: str, mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "goal": goal,
        "title": page.title,
        "url": page.url,
        "content": render_page(page, mode),
    }
