"""Lay out a new environment from the kit's template (what `manage.py startenv NAME` runs).

The template (`template/*.py-tpl`) is a small, complete environment written with the kit: a
contacts desk with a table, a wizard, a dialog, tabs, a form and a faceted search, four task
families and their solver. It passes the checker as laid out; rename and grow it from there.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

TEMPLATE = Path(__file__).parent / "template"
ENGINE = Path(__file__).parent.parent
_NAME = re.compile(r"[a-z][a-z0-9_]{1,30}")
_IMPORT = "from . import {name}  # noqa: F401  isort: skip\n"


def check_name(name: str) -> str:
    """A new environment's name: a lowercase Python identifier, free in the engine."""
    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ValueError(
            f"{name!r} is not a usable environment name: use 2-31 lowercase letters, digits and "
            "underscores, starting with a letter (it becomes a module and the id NAME-v1)"
        )
    if (ENGINE / name).exists():
        raise ValueError(f"environments/engine/{name} exists already; choose another name")
    return name


def check_title(title: str) -> str:
    """A site's title: it is written into the new modules' strings and docstrings, so it holds
    no quote, backslash or control character that would end them or break the file."""
    if not (len(title) <= 60 and title.isprintable()) or any(c in title for c in '"\\'):
        raise ValueError(
            f"{title[:60]!r} is not a usable title: use at most 60 printable characters without "
            "double quotes or backslashes"
        )
    return title


def lay_out(name: str, directory: Path = ENGINE, title: str | None = None) -> list[Path]:
    """Write the template as the package `directory/name`; returns the files written."""
    check_name(name)
    if title:
        check_title(title)
    target = directory / name
    if target.exists():
        raise ValueError(f"{target} exists already")
    words = {
        "{{name}}": name,
        "{{Name}}": "".join(part.capitalize() for part in name.split("_")),
        "{{title}}": title or name.replace("_", " ").capitalize() + " desk",
    }
    target.mkdir(parents=True)
    written = []
    for source in sorted(TEMPLATE.glob("*.py-tpl")):
        text = source.read_text()
        for token, value in words.items():
            text = text.replace(token, value)
        path = target / source.name.removesuffix("-tpl")
        path.write_text(text)
        written.append(path)
    return written


def register_import(name: str, init: Path = ENGINE / "__init__.py") -> bool:
    """Import the new package after the built-in environments' imports in the engine's
    `__init__.py`, so that it registers; False when it is imported already."""
    line = _IMPORT.format(name=name)
    lines = init.read_text().splitlines(keepends=True)
    if line in lines:
        return False
    last = max(i for i, text in enumerate(lines) if text.startswith("from . import "))
    lines.insert(last + 1, line)
    init.write_text("".join(lines))
    return True
