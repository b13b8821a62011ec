"""Observations for language-model agents: the full axtree, a pruned one, or a diff of the
pruned one since the previous page, each within an optional character budget.

All three speak the axtree's line syntax (`[12] button 'Transfer'`), with the same bids, so an
agent acts on any of them alike. `observe` is the one entry point.
"""

from __future__ import annotations

import difflib
import re

from .page import Element, Page, axtree_line, page_to_axtree, quote

OBSERVATION_MODES = ("axtree", "pruned", "diff")
# The character budgets interfaces accept: below the least, too little of a page is left to act
# on (the note saying what was cut takes 50).
MIN_OBSERVATION_CHARS = 100
MAX_OBSERVATION_CHARS = 1_000_000
# Data rows a table keeps in the pruned axtree; the rest become one "(… N more rows)" line.
PRUNED_TABLE_ROWS = 20
# Containers whose line is kept when they have a name (it labels what they hold); without a
# name they are dropped and their children rise a level.
_CONTAINERS = frozenset({"navigation", "form", "section", "list", "listitem", "row", "cell"})
# An interactive element's line up to its name: "[12] button 'Transfer'".
_ELEMENT = re.compile(r"\[\d+\] \w+(?: '(?:[^'\\]|\\.)*')?")


def page_to_pruned(page: Page, *, table_rows: int = PRUNED_TABLE_ROWS) -> str:
    """The page as a compact axtree: what an agent needs to read and act, in the axtree's
    line syntax with the same bids.

    Kept: every interactive element (menu links included), headings, alerts, texts and the
    names of forms, sections and lists. Dropped: unnamed containers (their children rise a
    level) and empty elements. A table is its name, then one `row` line per row whose name is
    the row's cells joined by " | " (the first row is the header), with the row's interactive
    elements beneath it; rows past the first `table_rows` data rows become a
    `(… N more rows)` line. Deterministic: the same page gives the same text.
    """
    lines = [f"page {quote(page.title)} url={quote(page.url)}"]
    _pruned_lines(page.elements, "  ", lines, table_rows)
    return "\n".join(lines)


def _pruned_lines(elements: list[Element], indent: str, lines: list[str], table_rows: int) -> None:
    for el in elements:
        role = el.role
        if role == "table":
            _table_lines(el, indent, lines, table_rows)
        elif role in _CONTAINERS:
            if el.name:
                lines.append(indent + axtree_line(el))
                _pruned_lines(el.children, indent + "  ", lines, table_rows)
            else:
                _pruned_lines(el.children, indent, lines, table_rows)
        elif el.bid is not None or el.name or el.value:
            lines.append(indent + axtree_line(el))
            _pruned_lines(el.children, indent + "  ", lines, table_rows)


def _table_lines(table: Element, indent: str, lines: list[str], table_rows: int) -> None:
    lines.append(indent + ("table " + quote(table.name) if table.name else "table"))
    inner = indent + "  "
    rows = [row for row in table.children if row.role == "row"]
    shown = rows[: table_rows + 1]  # the header and the first data rows
    for row in shown:
        cells = [_cell_text(cell) for cell in row.children]
        while cells and not cells[-1]:
            cells.pop()
        lines.append(inner + "row " + quote(" | ".join(cells)) if cells else inner + "row")
        for el in row.iter():
            if el.bid is not None:
                lines.append(inner + "  " + axtree_line(el))
    if len(rows) > len(shown):
        hidden = len(rows) - len(shown)
        lines.append(f"{inner}(… {hidden} more row{'s' if hidden != 1 else ''})")


def _cell_text(cell: Element) -> str:
    """The cell's non-interactive text (its interactive elements get lines of their own)."""
    return " ".join(el.name for el in cell.iter() if el.name and el.bid is None)


def page_diff(previous: Page | None, page: Page) -> str:
    """What changed since `previous`, in the pruned axtree's lines.

    The whole pruned page when there is no previous page, when the actor moved to another page
    (its url or title changed), or when the diff would be longer than the page. Otherwise a
    header line naming the page, then in page order `~ ` and the new line of an element that
    changed (same bid, role and name; a new value or state), `- ` a line that went, `+ ` a line
    that came; or a line saying that nothing changed.
    """
    current = page_to_pruned(page)
    if previous is None or previous.url != page.url or previous.title != page.title:
        return current
    before = [line.strip() for line in page_to_pruned(previous).split("\n")]
    after = [line.strip() for line in current.split("\n")]
    changes: list[str] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, b_from, b_to, a_from, a_to in matcher.get_opcodes():
        if tag == "equal":
            continue
        old, new = before[b_from:b_to], after[a_from:a_to]
        if len(old) == len(new) and all(map(_same_element, old, new)):
            changes.extend("~ " + line for line in new)
            continue
        changes.extend("- " + line for line in old)
        changes.extend("+ " + line for line in new)
    header = f"diff of page {quote(page.title)}"
    if not changes:
        return f"{header}: nothing changed since the last observation"
    diff = "\n".join([f"{header} (~ changed, - removed, + added):", *changes])
    return current if len(diff) >= len(current) else diff


def _same_element(old: str, new: str) -> bool:
    """Whether two pruned lines show one interactive element: the same bid, role and name."""
    match = _ELEMENT.match(old)
    return match is not None and new.startswith(match.group(0))


def fit_text(text: str, max_chars: int | None) -> str:
    """`text` cut to at most `max_chars` characters, at a line boundary, ending with a line
    that says how much was left out. None means no budget. A budget too small for even the
    note gets the text's first `max_chars` characters."""
    if max_chars is not None and max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    if max_chars is None or len(text) <= max_chars:
        return text
    lines = text.split("\n")
    kept, head_chars = 0, 0
    for count, line in enumerate(lines[:-1], 1):
        chars = head_chars + len(line) + (1 if count > 1 else 0)
        note = _left_out(len(text) - chars - 1, len(lines) - count)
        if chars + 1 + len(note) > max_chars:
            break
        kept, head_chars = count, chars
    if kept == 0:
        note = _left_out(len(text), len(lines))
        return note if len(note) <= max_chars else text[:max_chars]
    note = _left_out(len(text) - head_chars - 1, len(lines) - kept)
    return "\n".join(lines[:kept]) + "\n" + note


def _left_out(chars: int, lines: int) -> str:
    return f"(… {chars:,} more characters in {lines:,} line{'s' if lines != 1 else ''} left out)"


def observe(
    page: Page, mode: str, *, previous: Page | None = None, max_chars: int | None = None
) -> str:
    """The observation of `page` in a mode of `OBSERVATION_MODES`, within `max_chars`.

    `axtree` is the full accessibility tree, `pruned` its compact form (`page_to_pruned`),
    `diff` what changed since `previous`, the page the actor was shown before
    (`page_diff`). Raises ValueError for an unknown mode.
    """
    if mode == "axtree":
        text = page_to_axtree(page)
    elif mode == "pruned":
        text = page_to_pruned(page)
    elif mode == "diff":
        text = page_diff(previous, page)
    else:
        raise ValueError(
            f"unknown observation mode {mode!r}; modes: {', '.join(OBSERVATION_MODES)}"
        )
    return fit_text(text, max_chars)
