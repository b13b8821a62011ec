"""What an actor sees: a tree of elements, and its three renderings (axtree text, HTML, JSON).

Pages are built fresh by `Environment.render` and must be treated as read-only: the engine
caches the last rendered page, and renderers, solvers and step code only read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape

ROLES = frozenset(
    {
        "heading",
        "text",
        "link",
        "button",
        "textbox",
        "number",
        "select",
        "checkbox",
        "table",
        "row",
        "cell",
        "form",
        "alert",
        "navigation",
        "list",
        "listitem",
        "section",
    }
)
INTERACTIVE_ROLES = frozenset({"link", "button", "textbox", "number", "select", "checkbox"})
# Roles whose `value` is what the actor typed; they always show it, even when empty.
INPUT_ROLES = frozenset({"textbox", "number"})


@dataclass(slots=True, eq=False)
class Element:
    """One node of a page.

    `name` is the accessible name (a label, a link text, a cell's text). `value` is an input's
    current value or a select's current option. `key` is the environment's own handle for the
    element (which form field, which button); it is never rendered, so actors cannot see it.
    `bid` is assigned by `Page`, in render order, to interactive roles only.
    """

    role: str
    name: str = ""
    value: str = ""
    children: list[Element] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    checked: bool = False
    disabled: bool = False
    required: bool = False
    key: str = ""
    bid: str | None = None

    @property
    def interactive(self) -> bool:
        return self.role in INTERACTIVE_ROLES

    def iter(self) -> Iterator[Element]:
        """This element and all its descendants, in render order."""
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(
        self, role: str | None = None, name: str | None = None, contains: str | None = None
    ) -> list[Element]:
        """Descendants (and self) matching a role, an exact name and/or a name substring."""
        return [el for el in self.iter() if _matches(el, role, name, contains)]

    def find(
        self, role: str | None = None, name: str | None = None, contains: str | None = None
    ) -> Element | None:
        """The first match of `find_all`, or None."""
        for el in self.iter():
            if _matches(el, role, name, contains):
                return el
        return None

    def text(self) -> str:
        """The names of this element and its descendants, space-joined (a row's cells, ...)."""
        return " ".join(el.name for el in self.iter() if el.name)


def _matches(el: Element, role: str | None, name: str | None, contains: str | None) -> bool:
    return (
        (role is None or el.role == role)
        and (name is None or el.name == name)
        and (contains is None or contains in el.name)
    )


@dataclass(slots=True, eq=False)
class Page:
    """A rendered page: a title, a url such as `/bank/transfers`, and the root elements.

    Creating a Page numbers its interactive elements "1", "2", ... in depth-first render order,
    so the same state always renders the same bids.
    """

    title: str
    url: str
    elements: list[Element]
    by_bid: dict[str, Element] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_bid: dict[str, Element] = {}
        stack = list(reversed(self.elements))
        while stack:
            el = stack.pop()
            if el.role in INTERACTIVE_ROLES:
                bid = str(len(by_bid) + 1)
                el.bid = bid
                by_bid[bid] = el
            else:
                el.bid = None
            if el.children:
                stack.extend(reversed(el.children))
        self.by_bid = by_bid

    def get(self, bid: str) -> Element | None:
        """The interactive element with this bid, or None."""
        return self.by_bid.get(bid)

    def iter(self) -> Iterator[Element]:
        for el in self.elements:
            yield from el.iter()

    def find_all(
        self, role: str | None = None, name: str | None = None, contains: str | None = None
    ) -> list[Element]:
        """All elements matching a role, an exact name and/or a name substring."""
        return [el for el in self.iter() if _matches(el, role, name, contains)]

    def find(
        self, role: str | None = None, name: str | None = None, contains: str | None = None
    ) -> Element | None:
        """The first element matching, or None."""
        for el in self.iter():
            if _matches(el, role, name, contains):
                return el
        return None

    def interactive(self) -> list[Element]:
        """Interactive elements in bid order."""
        return list(self.by_bid.values())


# --- accessibility tree ------------------------------------------------------------------


def quote(text: str) -> str:
    """Single-quote a string as a Python literal that the action grammar reads back exactly:
    backslashes and quotes escaped, control and other unprintable characters as escapes."""
    if "\\" in text or "'" in text:
        text = text.replace("\\", "\\\\").replace("'", "\\'")
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
    return f"'{text}'"


def _escape(ch: str) -> str:
    if ch == "\n":
        return "\\n"
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def page_to_axtree(page: Page) -> str:
    """The page as accessibility-tree text for language-model agents.

    One element a line, indented two spaces a level under a `page` line:
    `[12] button 'Transfer'`, `heading 'Accounts'`, `[7] number 'Amount' value='250.00'`,
    `[9] select 'From' value='Checking' options=['Checking', 'Savings']`,
    `[3] checkbox 'Freeze card' checked=true`; then ` disabled` / ` required` flags.
    """
    lines = [f"page {quote(page.title)} url={quote(page.url)}"]
    _axtree_lines(page.elements, "  ", lines)
    return "\n".join(lines)


def _axtree_lines(elements: list[Element], indent: str, lines: list[str]) -> None:
    for el in elements:
        lines.append(indent + axtree_line(el))
        if el.children:
            _axtree_lines(el.children, indent + "  ", lines)


def axtree_line(el: Element) -> str:
    """One element's axtree line, without indentation or children."""
    role = el.role
    line = role if el.bid is None else f"[{el.bid}] {role}"
    if el.name:
        line += " " + quote(el.name)
    if el.value or role in INPUT_ROLES or role == "select":
        line += " value=" + quote(el.value)
    if role == "select":
        line += " options=[" + ", ".join([quote(o) for o in el.options]) + "]"
    elif role == "checkbox":
        line += " checked=true" if el.checked else " checked=false"
    if el.disabled:
        line += " disabled"
    if el.required:
        line += " required"
    return line


# --- JSON --------------------------------------------------------------------------------


def element_to_json(el: Element) -> dict:
    """An element as a dict; defaults are left out to keep observations small."""
    out: dict = {"role": el.role}
    if el.bid is not None:
        out["bid"] = el.bid
    if el.name:
        out["name"] = el.name
    if el.value or el.role in INPUT_ROLES or el.role == "select":
        out["value"] = el.value
    if el.role == "select":
        out["options"] = list(el.options)
    if el.role == "checkbox":
        out["checked"] = el.checked
    if el.disabled:
        out["disabled"] = True
    if el.required:
        out["required"] = True
    if el.children:
        out["children"] = [element_to_json(c) for c in el.children]
    return out


def page_to_json(page: Page) -> dict:
    """`{"title", "url", "elements": [{"role", "bid"?, "name"?, "value"?, "options"?,
    "checked"?, "disabled"?, "required"?, "children"?}, ...]}`; keys at their default are left
    out, except that inputs and selects always carry `value`, and checkboxes `checked`."""
    return {
        "title": page.title,
        "url": page.url,
        "elements": [element_to_json(el) for el in page.elements],
    }


# --- HTML --------------------------------------------------------------------------------


_HTML_SPECIAL = re.compile("[&<>\"']")
_CONTAINER_TAGS = {
    "form": ("form", ""),
    "alert": ("div", ' role="alert"'),
    "navigation": ("nav", ""),
    "list": ("ul", ""),
    "listitem": ("li", ""),
    "section": ("section", ""),
}


def _text(text: str) -> str:
    """`text` escaped for HTML content and attribute values; most text has nothing to escape."""
    return escape(text) if _HTML_SPECIAL.search(text) else text


def _attrs(el: Element) -> str:
    out = f' data-bid="{el.bid}"' if el.bid is not None else ""
    if el.disabled:
        out += " disabled"
    if el.required:
        out += " required"
    return out


def _html(el: Element, out: list[str], first_row: bool = False) -> None:
    role = el.role
    name = _text(el.name)
    if role == "heading":
        out.append(f"<h2>{name}</h2>")
    elif role == "text":
        out.append(f'<p class="text">{name}</p>')
    elif role == "link":
        # A link acts only through its bid: the page script turns a click into click(bid).
        out.append(f'<a href="#" role="link"{_attrs(el)}>{name}</a>')
    elif role == "button":
        out.append(f'<button type="button"{_attrs(el)}>{name}</button>')
    elif role in INPUT_ROLES:
        mode = ' inputmode="decimal"' if role == "number" else ""
        out.append(
            f'<label class="field">{name} <input type="text"{mode}'
            f' value="{_text(el.value)}"{_attrs(el)}></label>'
        )
    elif role == "select":
        opts = "".join(
            f'<option value="{_text(o)}"{" selected" if o == el.value else ""}>{_text(o)}</option>'
            for o in el.options
        )
        out.append(f'<label class="field">{name} <select{_attrs(el)}>{opts}</select></label>')
    elif role == "checkbox":
        checked = " checked" if el.checked else ""
        out.append(
            f'<label class="check"><input type="checkbox"{checked}{_attrs(el)}> {name}</label>'
        )
    elif role == "table":
        out.append("<table>")
        if name:
            out.append(f"<caption>{name}</caption>")
        for i, row in enumerate(el.children):
            _html(row, out, first_row=i == 0)
        out.append("</table>")
    elif role == "row":
        out.append("<tr>")
        for cell in el.children:
            _html(cell, out, first_row=first_row)
        out.append("</tr>")
    elif role == "cell":
        # The first row of every table is its header row.
        tag = "th" if first_row else "td"
        out.append(f"<{tag}>{name}")
        for child in el.children:
            _html(child, out)
        out.append(f"</{tag}>")
    else:
        tag, extra = _CONTAINER_TAGS[role]
        label = f' aria-label="{name}"' if name and role not in ("alert", "listitem") else ""
        out.append(f"<{tag}{extra}{label}>")
        if name and role in ("alert", "listitem"):
            out.append(name)
        elif name and role in ("section", "form"):
            out.append(f"<h3>{name}</h3>")
        for child in el.children:
            _html(child, out)
        out.append(f"</{tag}>")


def page_to_html(page: Page) -> str:
    """The page as semantic HTML for people (a fragment, no script, no inline handlers).

    Every interactive element carries `data-bid`; all text and attribute values are escaped.
    """
    out = [
        f'<div class="env-page" data-url="{_text(page.url)}">',
        f"<h1>{_text(page.title)}</h1>",
    ]
    for el in page.elements:
        _html(el, out)
    out.append("</div>")
    return "".join(out)


def element_from_json(data: dict) -> Element:
    return Element(
        role=data["role"],
        name=data.get("name", ""),
        value=data.get("value", ""),
        children=[element_from_json(child) for child in data.get("children", ())],
        options=list(data.get("options", ())),
        checked=data.get("checked", False),
        disabled=data.get("disabled", False),
        required=data.get("required", False),
    )


def page_from_json(data: dict) -> Page:
    """The page `page_to_json` wrote; it renders (axtree, HTML, JSON) exactly as the original,
    bids included, so a stored observation reproduces what the actor saw."""
    return Page(
        title=data["title"],
        url=data["url"],
        elements=[element_from_json(element) for element in data["elements"]],
    )
