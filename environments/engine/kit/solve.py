"""Helpers for scripted solvers: find elements by role and name (never by bid), fill a form by
its labels, press buttons, read tables across pages. Each action helper is a generator to use
with `yield from`: it yields action strings and returns the page the last one led to.

Pages reach a `ScriptedSolver` with reworded labels already read back to the canonical ones
(`variants.canonical_page`), so these helpers name elements as the default variant does.
"""

from __future__ import annotations

from ..page import Element, Page
from ..policies import Script, click, fill, select

Scope = Page | Element


def need(
    scope: Scope, role: str, name: str | None = None, *, contains: str | None = None
) -> Element:
    """The element of a role and name (or name substring) in `scope`; LookupError if absent."""
    found = scope.find(role, name, contains)
    if found is None:
        where = scope.url if isinstance(scope, Page) else f"{scope.role} {scope.name!r}"
        raise LookupError(f"no {role} {name or contains!r} in {where}")
    return found


def starting(scope: Scope, role: str, prefix: str) -> Element:
    """The first element of a role whose name starts with `prefix` (facets: "Boulder (4)")."""
    for el in scope.iter():
        if el.role == role and el.name.startswith(prefix):
            return el
    raise LookupError(f"no {role} starting {prefix!r}")


def alert_text(page: Page) -> str | None:
    """The page's alert (the first one: page alerts come before field errors)."""
    el = page.find("alert")
    return el.name if el else None


def expect_success(page: Page) -> None:
    text = alert_text(page)
    if text is None or not text.startswith("Success:"):
        raise RuntimeError(f"expected a confirmation; the page shows {text!r}")


def press(page: Page, name: str, within: Element | None = None) -> Script:
    """Click the button named `name` (in `within`, else anywhere on the page)."""
    return (yield click(need(within or page, "button", name)))


def follow(page: Page, name: str) -> Script:
    return (yield click(need(page, "link", name)))


def fill_form(
    page: Page, form: str, values: dict[str, object], submit: str | None = None
) -> Script:
    """Set each field of the form titled `form` by its label: text for textboxes and numbers,
    an option for selects, True / False for checkboxes; then press `submit` if given."""
    for label, value in values.items():
        el = need(need(page, "form", form), None, label)
        if el.role == "select":
            page = yield select(el, str(value))
        elif el.role == "checkbox":
            if el.checked != bool(value):
                page = yield click(el)
        else:
            page = yield fill(el, str(value))
    if submit is not None:
        page = yield from press(page, submit, need(page, "form", form))
    return page


def header(table: Element) -> list[str]:
    """A table's column labels, sort markers left out."""
    return [
        c.name.removesuffix(" (ascending)").removesuffix(" (descending)")
        for c in table.children[0].children
    ]


def rows(page: Page, table: str) -> list[dict[str, Element]]:
    """The body rows of a table as {column label: cell}."""
    el = need(page, "table", table)
    labels = header(el)
    return [dict(zip(labels, row.children, strict=False)) for row in el.children[1:]]


def cell_text(cell: Element) -> str:
    """A cell's text, a link's name when the cell holds a link."""
    return cell.name or cell.text()


def find_row(page: Page, table: str, **wanted: str) -> dict[str, Element] | None:
    """The first row whose cells (by column label, spaces for underscores) read as given."""
    for row in rows(page, table):
        if all(cell_text(row[k.replace("_", " ")]) == v for k, v in wanted.items()):
            return row
    return None


def seek_row(page: Page, table: str, **wanted: str) -> Script:
    """Page forward with "Next page" until a row matches; returns (page, row)."""
    while True:
        row = find_row(page, table, **wanted)
        if row is not None:
            return page, row
        nxt = need(page, "button", "Next page")
        if nxt.disabled:
            raise LookupError(f"no row {wanted} in table {table!r}")
        page = yield click(nxt)
