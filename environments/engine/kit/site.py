"""`KitSite`: an Environment whose pages are built from the kit's components.

The state gains one key, `ui`: {component name: its view state} (a table's sort, filters and
page; a wizard's step; an open dialog; notifications). Component elements carry keys
"<component>:<action>[:<argument>]" and their fields "<form>.<field>", so `KitSite` routes
clicks and ticks to the component that made them; anything else goes to `on_action`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..base import Environment
from ..page import Element, Page

if TYPE_CHECKING:
    from .components import NavMenu


class FormError(Exception):
    """A server-side refusal raised by a submit or confirm handler: the page shows `message`
    (and beside `field`, when given) and nothing changes."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def ui(state: dict, name: str, default: object = None) -> object:
    """A component's view state."""
    return state.get("ui", {}).get(name, default)


def with_ui(state: dict, name: str, value: object) -> dict:
    """A new state with a component's view state replaced (None removes it)."""
    views = {k: v for k, v in state.get("ui", {}).items() if k != name}
    if value is not None:
        views[name] = value
    return {**state, "ui": views}


def error(state: dict, text: str, **changes: object) -> dict:
    return {**state, "alert": ["error", text], **changes}


def success(state: dict, text: str, **changes: object) -> dict:
    return {**state, "alert": ["success", text], **changes}


def replace_record(records: list[dict], rid: str, **changes: object) -> list[dict]:
    """A new list with one record replaced by an updated copy; the others are shared."""
    return [{**r, **changes} if r["id"] == rid else r for r in records]


def by_id(records: list[dict], rid: str) -> dict:
    for record in records:
        if record["id"] == rid:
            return record
    raise KeyError(rid)


class KitSite(Environment):
    """Set `parts` to the site's components (each with a unique `name`) and `menu` to its
    `NavMenu`; write `build_page` with `layout`, and `on_action` for the site's own keys."""

    # Components: each has a `name`, `click(site, state, action)`, and `render(state, ...)`;
    # `check` for checkboxes that act at once, `transient` / `modal` / `banner` flags.
    parts: ClassVar[tuple] = ()
    menu: ClassVar[NavMenu | None] = None

    def part(self, key: str) -> object | None:
        name = key.split(":", 1)[0].split(".", 1)[0]
        for part in self.parts:
            if part.name == name:
                return part
        return None

    def on_click(self, state: dict, element: Element) -> dict:
        key = element.key
        if key.startswith("nav:"):
            return self.on_goto(state, key[4:])
        part = self.part(key)
        if part is not None and ":" in key:
            return part.click(self, state, key.split(":", 1)[1])
        return self.on_action(state, key)

    def on_check(self, state: dict, element: Element, checked: bool) -> dict:
        part = self.part(element.key)
        if part is not None and ":" in element.key:
            return part.check(self, state, element.key.split(":", 1)[1], checked)
        return super().on_check(state, element, checked)

    def on_goto(self, state: dict, page: str) -> dict:
        """Leaving a page closes its dialogs and abandons its wizards, as a real site does."""
        new = super().on_goto(state, page)
        for part in self.parts:
            if getattr(part, "transient", False) and ui(new, part.name) is not None:
                new = with_ui(new, part.name, None)
        return new

    def on_action(self, state: dict, key: str) -> dict:
        """A click on one of the site's own buttons or links (not a component's)."""
        raise NotImplementedError(f"{type(self).__name__} has no action {key!r}")

    def layout(self, state: dict, heading: str, body: list[Element]) -> Page:
        """The page: menu, heading, alert, notifications, then `body`. An open dialog is modal:
        the page shows it alone under the heading until it is answered."""
        elements: list[Element] = []
        if self.menu is not None:
            elements.append(self.menu.render(state))
        elements.append(Element("heading", heading))
        if state["alert"]:
            kind, text = state["alert"]
            elements.append(
                Element("alert", f"{'Error' if kind == 'error' else 'Success'}: {text}")
            )
        for part in self.parts:
            if getattr(part, "modal", False):
                dialog = part.render(state)
                if dialog is not None:
                    elements.append(dialog)
                    return Page(f"{heading} - {self.title}", self.page_url(state["page"]), elements)
        for part in self.parts:
            if getattr(part, "banner", False):
                shown = part.render(state)
                if shown is not None:
                    elements.append(shown)
        elements.extend(body)
        return Page(f"{heading} - {self.title}", self.page_url(state["page"]), elements)
