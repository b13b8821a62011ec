"""The parts real sites are made of, with their behaviour: typed form fields and their
validation messages, forms, multi-step wizards, confirmation dialogs, tabs, data tables with
sorting, filters and pagination, faceted search, notifications and navigation menus.

Components are immutable descriptions declared once on a `KitSite`; their view state lives in
`state["ui"][name]` and what the actor typed in `state["form"]`, so they stay pure functions of
the state like everything in the engine. Each renders to the engine's `Element`s (so the
axtree, HTML and JSON renderers all show it) and handles the clicks on the keys it made.
Handlers named by a component (`on_submit="add_contact"`) are methods of the site, called as
`handler(state, ...) -> new state`; they raise `FormError` to refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..page import Element
from .formats import long_date, money, parse_date, parse_int, parse_money, plural
from .site import FormError, error, ui, with_ui

if TYPE_CHECKING:
    from .site import KitSite

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{5,18}[0-9]$")
KINDS = ("text", "email", "phone", "number", "money", "date", "select", "checkbox")
ROLE_OF = {"number": "number", "money": "number", "select": "select", "checkbox": "checkbox"}


class FieldError(ValueError):
    pass


# --- fields and forms --------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One typed input. `clean` turns what was typed into a value or raises `FieldError`
    with the message the page shows:

    - text: at most `max_length` characters; `pattern` (a regex the whole value must match)
      with `pattern_message`;
    - email, phone: the usual shapes; number: an ASCII integer; money: "1,234.50" -> cents;
      date: YYYY-MM-DD, a real day; `minimum` / `maximum` bound numbers, cents and ISO dates;
    - select: one of `options` (the first option, `placeholder`, means none);
    - checkbox: True / False.
    """

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    options: tuple[str, ...] = ()
    placeholder: str = "Choose one"
    minimum: int | str | None = None
    maximum: int | str | None = None
    max_length: int = 200
    pattern: str = ""
    pattern_message: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name!r}: kind {self.kind!r} is not one of {KINDS}")

    def element(self, key: str, raw: object, problem: str | None) -> list[Element]:
        """The input (and its error message right after it, when there is one)."""
        role = ROLE_OF.get(self.kind, "textbox")
        if role == "checkbox":
            el = Element("checkbox", self.label, checked=bool(raw), key=key)
        elif role == "select":
            options = [self.placeholder, *self.options]
            value = str(raw or self.placeholder)
            el = Element(
                "select", self.label, value, options=options, required=self.required, key=key
            )
        else:
            el = Element(role, self.label, str(raw or ""), key=key, required=self.required)
        return [el] if problem is None else [el, Element("alert", problem)]

    def clean(self, raw: object) -> object:
        """The value, or None when left empty (and not required); raises FieldError."""
        if self.kind == "checkbox":
            if self.required and not raw:
                raise FieldError(f"{self.label} must be ticked.")
            return bool(raw)
        text = str(raw or "").strip()
        if self.kind == "select" and text == self.placeholder:
            text = ""
        if not text:
            if self.required:
                verb = "Choose" if self.kind == "select" else "Enter"
                raise FieldError(f"{self.label} is required. {verb} a value.")
            return None
        if len(text) > self.max_length:
            raise FieldError(f"{self.label} must be at most {self.max_length} characters.")
        return getattr(self, f"_clean_{self.kind}")(text)

    def _clean_text(self, text: str) -> str:
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise FieldError(self.pattern_message or f"{self.label} is not in the expected format.")
        return text

    def _clean_email(self, text: str) -> str:
        if not _EMAIL.match(text):
            raise FieldError(f"{self.label} must be an email address like name@example.com.")
        return text.lower()

    def _clean_phone(self, text: str) -> str:
        if not _PHONE.match(text):
            raise FieldError(f"{self.label} must be a phone number like 555-123-4567.")
        return text

    def _clean_select(self, text: str) -> str:
        if text not in self.options:
            raise FieldError(f"{self.label}: choose one of the options.")
        return text

    def _clean_number(self, text: str) -> int:
        value = parse_int(text)
        if value is None:
            raise FieldError(f"{self.label} must be a whole number.")
        return self._bounded(value, str)

    def _clean_money(self, text: str) -> int:
        value = parse_money(text)
        if value is None:
            raise FieldError(f"{self.label} must be an amount like 25.00.")
        return self._bounded(value, money)

    def _clean_date(self, text: str) -> str:
        value = parse_date(text)
        if value is None:
            raise FieldError(f"{self.label} must be a date as YYYY-MM-DD.")
        return self._bounded(value, long_date)

    def _bounded(self, value: int | str, shown: Callable) -> int | str:
        if self.minimum is not None and value < self.minimum:
            word = "before" if self.kind == "date" else "less than"
            raise FieldError(f"{self.label} cannot be {word} {shown(self.minimum)}.")
        if self.maximum is not None and value > self.maximum:
            word = "after" if self.kind == "date" else "more than"
            raise FieldError(f"{self.label} cannot be {word} {shown(self.maximum)}.")
        return value


def _validate(prefix: str, fields: tuple[Field, ...], raw: dict) -> tuple[dict, dict]:
    values, errors = {}, {}
    for f in fields:
        try:
            values[f.name] = f.clean(raw.get(f"{prefix}.{f.name}"))
        except FieldError as exc:
            errors[f.name] = str(exc)
    return values, errors


def _refused(state: dict, name: str, view: dict, errors: dict, text: str | None = None) -> dict:
    count = len(errors)
    text = (
        text
        or f"{count} field{'s' if count != 1 else ''} need{'s' if count == 1 else ''} attention."
    )
    return error(with_ui(state, name, {**view, "errors": errors}), text)


def _without_form(state: dict, prefix: str) -> dict:
    kept = {k: v for k, v in state["form"].items() if not k.startswith(prefix + ".")}
    return {**state, "form": kept}


@dataclass(frozen=True)
class Form:
    """A form whose submit button validates every field, then calls the site's `on_submit`
    handler with the cleaned values: `handler(state, values) -> new state`. Field errors show
    beside their fields with a page alert; a handler's `FormError` shows the same way. A
    successful submit empties the form."""

    name: str
    title: str
    fields: tuple[Field, ...]
    submit: str
    on_submit: str
    transient = True  # its error messages go when the actor leaves the page

    def render(self, state: dict, extra: list[Element] | None = None) -> Element:
        errors = (ui(state, self.name) or {}).get("errors", {})
        children: list[Element] = []
        for f in self.fields:
            key = f"{self.name}.{f.name}"
            children.extend(f.element(key, state["form"].get(key), errors.get(f.name)))
        children.extend(extra or [])
        children.append(Element("button", self.submit, key=f"{self.name}:submit"))
        return Element("form", self.title, children=children)

    def click(self, site: KitSite, state: dict, action: str) -> dict:
        values, errors = _validate(self.name, self.fields, state["form"])
        if errors:
            return _refused(state, self.name, {}, errors)
        try:
            new = getattr(site, self.on_submit)(state, values)
        except FormError as exc:
            errors = {exc.field: exc.message} if exc.field else {}
            return _refused(state, self.name, {}, errors, exc.message)
        return with_ui(_without_form(new, self.name), self.name, None)


@dataclass(frozen=True)
class Step:
    title: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Wizard:
    """A form in steps: Continue validates the step's fields and moves on, Back returns (what
    was typed is kept), the last step's button calls `on_finish(state, values)` with every
    step's cleaned values. Leaving the page abandons it."""

    name: str
    title: str
    steps: tuple[Step, ...]
    on_finish: str
    finish: str = "Submit"
    transient = True

    def _view(self, state: dict) -> dict:
        return ui(state, self.name) or {"step": 0}

    def render(self, state: dict) -> Element:
        view = self._view(state)
        index, errors = view["step"], view.get("errors", {})
        step = self.steps[index]
        children = [Element("text", f"Step {index + 1} of {len(self.steps)}: {step.title}")]
        for f in step.fields:
            key = f"{self.name}.{f.name}"
            children.extend(f.element(key, state["form"].get(key), errors.get(f.name)))
        if index:
            children.append(Element("button", "Back", key=f"{self.name}:back"))
        last = index == len(self.steps) - 1
        label = self.finish if last else "Continue"
        children.append(Element("button", label, key=f"{self.name}:{'finish' if last else 'next'}"))
        return Element("form", self.title, children=children)

    def click(self, site: KitSite, state: dict, action: str) -> dict:
        view = self._view(state)
        index = view["step"]
        if action == "back":
            return with_ui(state, self.name, {"step": max(index - 1, 0)})
        _, errors = _validate(self.name, self.steps[index].fields, state["form"])
        if errors:
            return _refused(state, self.name, {"step": index}, errors)
        if action == "next":
            return with_ui({**state, "alert": None}, self.name, {"step": index + 1})
        every = tuple(f for step in self.steps for f in step.fields)
        values, errors = _validate(self.name, every, state["form"])
        if errors:  # an earlier step's field was changed after it was passed
            return _refused(state, self.name, {"step": index}, errors)
        try:
            new = getattr(site, self.on_finish)(state, values)
        except FormError as exc:
            errors = {exc.field: exc.message} if exc.field else {}
            return _refused(state, self.name, {"step": index}, errors, exc.message)
        return with_ui(_without_form(new, self.name), self.name, None)


# --- dialogs, tabs, notifications, menus -------------------------------------------------


@dataclass(frozen=True)
class ConfirmDialog:
    """A modal question. `open(state, message, payload)` shows it (a site's button handler
    calls it); confirming calls `on_confirm(state, payload)`, cancelling just closes it."""

    name: str
    title: str
    on_confirm: str
    confirm: str = "Confirm"
    cancel: str = "Cancel"
    modal = True
    transient = True

    def open(self, state: dict, message: str, payload: dict) -> dict:
        return with_ui(state, self.name, {"message": message, "payload": payload})

    def render(self, state: dict) -> Element | None:
        view = ui(state, self.name)
        if view is None:
            return None
        buttons = [
            Element("button", self.confirm, key=f"{self.name}:confirm"),
            Element("button", self.cancel, key=f"{self.name}:cancel"),
        ]
        return Element("section", self.title, children=[Element("text", view["message"]), *buttons])

    def click(self, site: KitSite, state: dict, action: str) -> dict:
        view = ui(state, self.name)
        closed = with_ui(state, self.name, None)
        if action == "cancel" or view is None:
            return closed
        try:
            return getattr(site, self.on_confirm)(closed, view["payload"])
        except FormError as exc:
            return error(closed, exc.message)


@dataclass(frozen=True)
class Tabs:
    """A row of tabs; the selected one is shown disabled. `selected(state)` says which."""

    name: str
    label: str
    tabs: tuple[str, ...]

    def selected(self, state: dict) -> str:
        return ui(state, self.name) or self.tabs[0]

    def render(self, state: dict) -> Element:
        current = self.selected(state)
        items = [
            Element(
                "listitem",
                children=[Element("button", tab, key=f"{self.name}:{i}", disabled=tab == current)],
            )
            for i, tab in enumerate(self.tabs)
        ]
        return Element("list", self.label, children=items)

    def click(self, site: KitSite, state: dict, action: str) -> dict:
        return with_ui(state, self.name, self.tabs[int(action)])


@dataclass(frozen=True)
class Notifications:
    """Messages that stay until dismissed (a banner region): `push(state, text)` adds one."""

    name: str = "notices"
    banner = True

    def push(self, state: dict, text: str) -> dict:
        notes = ui(state, self.name) or []
        number = max((n["id"] for n in notes), default=0) + 1
        return with_ui(state, self.name, [*notes, {"id": number, "text": text}])

    def render(self, state: dict) -> Element | None:
        notes = ui(state, self.name) or []
        if not notes:
            return None
        items = [
            Element(
                "listitem",
                n["text"],
                children=[Element("button", "Dismiss", key=f"{self.name}:{n['id']}")],
            )
            for n in notes
        ]
        return Element("section", "Notifications", children=[Element("list", children=items)])

    def click(self, site: KitSite, state: dict, action: str) -> dict:
        notes = [n for n in ui(state, self.name) or [] if str(n["id"]) != action]
        return with_ui(state, self.name, notes or None)


@dataclass(frozen=True)
class NavMenu:
    """The site's menu: `items` are (label, page) pairs, or (group label, ((label, page),
    ...)) for a submenu. Links go to the page as `goto(page)` does."""

    items: tuple
    label: str = "Main menu"
    name: str = "menu"

    def render(self, state: dict) -> Element:
        return Element("navigation", self.label, children=self._links(self.items))

    def _links(self, items: tuple) -> list[Element]:
        out = []
        for label, target in items:
            if isinstance(target, tuple):
                sub = Element("list", label, children=self._links(target))
                out.append(Element("listitem", label, children=[sub]))
            else:
                out.append(Element("link", label, key=f"nav:{target}"))
        return out


# --- tables and search -------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    show: Callable[[object], str] = str
    sortable: bool = True


@dataclass(frozen=True)
class Filter:
    """A filter over one record key: "select" offers the values present, "text" matches a
    substring (case-insensitive)."""

    key: str
    label: str
    kind: str = "select"

    @property
    def every(self) -> str:
        """A select filter's first option, which filters nothing: "All groups", "All SLAs"."""
        return f"All {plural(self.label)}"


@dataclass(frozen=True)
class RowAction:
    """A button on each row: `handler(state, record_id) -> new state` (a site method)."""

    label: str
    handler: str


@dataclass(frozen=True)
class DataTable:
    """Records as a table: a filter form (Apply filters / Clear filters), a "Sort by" button in
    each sortable header (a second click reverses), `page_size` rows a page with Previous page
    / Next page, an optional link on the first column (`open(state, record_id)`) and row
    action buttons. The records come from the caller at render time."""

    name: str
    title: str
    columns: tuple[Column, ...]
    page_size: int = 10
    filters: tuple[Filter, ...] = ()
    actions: tuple[RowAction, ...] = ()
    open: str | None = None
    sort: tuple[str, bool] | None = None  # the default (column key, descending)
    noun: str = "records"

    def view(self, state: dict) -> dict:
        return ui(state, self.name) or {"sort": None, "page": 1, "filters": {}}

    def visible(self, state: dict, records: list[dict]) -> list[dict]:
        """The records after the filters, sorted: all pages."""
        view = self.view(state)
        out = records
        for f in self.filters:
            wanted = view["filters"].get(f.key)
            if wanted is None:
                continue
            if f.kind == "text":
                folded = wanted.casefold()
                out = [r for r in out if folded in str(r[f.key]).casefold()]
            else:
                out = [r for r in out if str(r[f.key]) == wanted]
        order = view["sort"] or self.sort
        if order is not None:
            key, descending = order
            out = sorted(out, key=lambda r: _sort_key(r, key), reverse=descending)
        return out

    def render(self, state: dict, records: list[dict]) -> list[Element]:
        view = self.view(state)
        rows = self.visible(state, records)
        pages = max(1, -(-len(rows) // self.page_size))
        page = min(view["page"], pages)
        shown = rows[(page - 1) * self.page_size : page * self.page_size]
        out = []
        if self.filters:
            out.append(self._filter_form(state, records, view))
        order = view["sort"] or self.sort
        header = [self._header(c, order) for c in self.columns]
        if self.actions:
            header.append(Element("cell", "Actions"))
        body = [Element("row", children=header)] + [self._row(r) for r in shown]
        out.append(Element("table", self.title, children=body))
        out.append(Element("text", f"Page {page} of {pages} ({len(rows)} {self.noun})"))
        out.append(
            Element(
                "button", "Previous page", key=f"{self.name}:page:{page - 1}", disabled=page == 1
            )
        )
        out.append(
            Element(
                "button", "Next page", key=f"{self.name}:page:{page + 1}", disabled=page == pages
            )
        )
        return out

    def _header(self, column: Column, order: tuple[str, bool] | None) -> Element:
        label = column.label
        if order is not None and order[0] == column.key:
            label += " (descending)" if order[1] else " (ascending)"
        buttons = []
        if column.sortable:
            buttons.append(
                Element("button", f"Sort by {column.label}", key=f"{self.name}:sort:{column.key}")
            )
        return Element("cell", label, children=buttons)

    def _row(self, record: dict) -> Element:
        cells = []
        for i, column in enumerate(self.columns):
            text = column.show(record[column.key])
            if i == 0 and self.open:
                link = Element("link", text, key=f"{self.name}:open:{record['id']}")
                cells.append(Element("cell", children=[link]))
            else:
                cells.append(Element("cell", text))
        if self.actions:
            buttons = [
                Element("button", a.label, key=f"{self.name}:act:{i}:{record['id']}")
                for i, a in enumerate(self.actions)
            ]
            cells.append(Element("cell", children=buttons))
        return Element("row", children=cells)

    def _filter_form(self, state: dict, records: list[dict], view: dict) -> Element:
        children = []
        for f in self.filters:
            key = f"{self.name}.{f.key}"
            current = view["filters"].get(f.key)
            if f.kind == "text":
                value = state["form"].get(key, current or "")
                children.append(Element("textbox", f.label, value, key=key))
            else:
                options = [f.every, *sorted({str(r[f.key]) for r in records})]
                value = state["form"].get(key, current or f.every)
                children.append(Element("select", f.label, value, options=options, key=key))
        children.append(Element("button", "Apply filters", key=f"{self.name}:filter"))
        children.append(Element("button", "Clear filters", key=f"{self.name}:clear"))
        return Element("form", f"Filter {self.title.lower()}", children=children)

    def click(self, site: KitSite, state: dict, action: str) -> dict:
        verb, _, arg = action.partition(":")
        view = self.view(state)
        if verb == "page":
            return with_ui(state, self.name, {**view, "page": max(1, int(arg))})
        if verb == "sort":
            current = view["sort"] or self.sort
            descending = current is not None and current[0] == arg and not current[1]
            return with_ui(state, self.name, {**view, "sort": [arg, descending], "page": 1})
        if verb == "filter":
            chosen = {}
            for f in self.filters:
                # A field left alone keeps the filter it shows.
                shown = view["filters"].get(f.key, "")
                raw = str(state["form"].get(f"{self.name}.{f.key}", shown)).strip()
                if raw and raw != f.every:
                    chosen[f.key] = raw
            cleared = _without_form(state, self.name)
            return with_ui(cleared, self.name, {**view, "filters": chosen, "page": 1})
        if verb == "clear":
            return with_ui(_without_form(state, self.name), self.name, None)
        if verb == "open":
            return getattr(site, self.open)(state, arg)
        index, _, rid = arg.partition(":")
        return getattr(site, self.actions[int(index)].handler)(state, rid)


def _sort_key(record: dict, key: str) -> tuple:
    value = record[key]
    # Empty values sort last; equal values keep a fixed order (by id), so pages are stable.
    return (value is None, "" if value is None else value, record["id"])


@dataclass(frozen=True)
class Facet:
    key: str
    label: str


@dataclass(frozen=True)
class FacetedSearch:
    """A search box over `text_keys` and facets shown as checkboxes with counts ("Boulder
    (4)"). Ticking a facet value filters at once; values of one facet combine with OR, facets
    with AND; each count is what ticking that value would show. Results are links
    (`open(state, record_id)`), `page_size` a page."""

    name: str
    title: str
    text_keys: tuple[str, ...]
    facets: tuple[Facet, ...]
    result: Callable[[dict], str]
    open: str
    page_size: int = 10
    noun: str = "results"

    def view(self, state: dict) -> dict:
        return ui(state, self.name) or {"q": "", "on": {}, "page": 1}

    def matches(self, state: dict, records: list[dict], skip: str | None = None) -> list[dict]:
        view = self.view(state)
        words = view["q"].casefold().split()
        out = []
        for r in records:
            text = " ".join(str(r[k]) for k in self.text_keys).casefold()
            if not all(w in text for w in words):
                continue
            if all(
                f.key == skip or not view["on"].get(f.key) or str(r[f.key]) in view["on"][f.key]
                for f in self.facets
            ):
                out.append(r)
        return out

    def render(self, state: dict, records: list[dict]) -> list[Element]:
        view = self.view(state)
        box = Element(
            "textbox",
            f"Search {self.title.lower()}",
            state["form"].get(f"{self.name}.q", view["q"]),
            key=f"{self.name}.q",
        )
        search = Element(
            "form",
            f"Search {self.title.lower()}",
            children=[box, Element("button", "Search", key=f"{self.name}:search")],
        )
        out = [search]
        for facet in self.facets:
            pool = self.matches(state, records, skip=facet.key)
            counts: dict[str, int] = {}
            for r in pool:
                counts[str(r[facet.key])] = counts.get(str(r[facet.key]), 0) + 1
            values = sorted({str(r[facet.key]) for r in records})
            ticked = view["on"].get(facet.key, [])
            boxes = [
                Element(
                    "checkbox",
                    f"{v} ({counts.get(v, 0)})",
                    checked=v in ticked,
                    key=f"{self.name}:facet:{facet.key}:{v}",
                )
                for v in values
            ]
            out.append(Element("section", facet.label, children=boxes))
        found = self.matches(state, records)
        pages = max(1, -(-len(found) // self.page_size))
        page = min(view["page"], pages)
        shown = found[(page - 1) * self.page_size : page * self.page_size]
        items = [
            Element(
                "listitem",
                children=[Element("link", self.result(r), key=f"{self.name}:open:{r['id']}")],
            )
            for r in shown
        ]
        out.append(Element("text", f"{len(found)} {self.noun}; page {page} of {pages}"))
        out.append(Element("list", self.title, children=items))
        out.append(
            Element(
                "button", "Previous page", key=f"{self.name}:page:{page - 1}", disabled=page == 1
            )
        )
        out.append(
            Element(
                "button", "Next page", key=f"{self.name}:page:{page + 1}", disabled=page == pages
            )
        )
        return out

    def click(self, site: KitSite, state: dict, action: str) -> dict:
        verb, _, arg = action.partition(":")
        view = self.view(state)
        if verb == "search":
            query = str(state["form"].get(f"{self.name}.q", "")).strip()
            return with_ui(
                _without_form(state, self.name), self.name, {**view, "q": query, "page": 1}
            )
        if verb == "page":
            return with_ui(state, self.name, {**view, "page": max(1, int(arg))})
        return getattr(site, self.open)(state, arg)  # "open"; facet boxes go to `check`

    def check(self, site: KitSite, state: dict, action: str, checked: bool) -> dict:
        _, facet, value = action.split(":", 2)
        view = self.view(state)
        ticked = [v for v in view["on"].get(facet, []) if v != value]
        if checked:
            ticked = sorted([*ticked, value])
        on = {**view["on"], facet: ticked}
        return with_ui(
            state, self.name, {**view, "on": {k: v for k, v in on.items() if v}, "page": 1}
        )
