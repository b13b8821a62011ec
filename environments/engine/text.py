"""What outside text must be before anything stores it, and the one JSON reader for it.

Every entry point reads JSON through `json_parse` (the API, the pages' JSON posts, OpenEnv's
HTTP, WebSocket and MCP messages, imported lines, actions written as JSON), and forms and query
parameters are held to `storable_text`, so no request reaches the database with text it cannot
store, and no nesting deep enough to exhaust the stack reaches the code that walks it. No
Django here: the engine and the OpenEnv protocol use it too.
"""

from __future__ import annotations

import json
from typing import Any

# Deeper than any schema, filter, action or metadata the platform reads; far below the depth
# at which Python's recursion limit fails whatever walks the value.
MAX_JSON_DEPTH = 64
UNSTORABLE = "text may not contain NUL (\\u0000) characters or lone surrogates"


def storable_text(text: str) -> bool:
    """Whether a database can store `text`: PostgreSQL takes no NUL character (in text or JSON)
    and no lone surrogate (which is not UTF-8), and JSON or an escape can carry both."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_escaped(text: str, nul: str) -> str:
    """`text` with what `storable_text` refuses escaped: NUL as `nul` (the escape of the
    grammar the text is shown in), lone surrogates as backslash escapes."""
    return text.replace("\x00", nul).encode("utf-8", "backslashreplace").decode()


def ascii_digits(text: str) -> bool:
    """Whether `text` is one or more of the digits 0-9. `str.isdigit` is also true of '²',
    which `int` refuses, and of '٣', which `int` reads as 3."""
    return text.isascii() and text.isdigit()


def small_int(text: str, max_digits: int = 18) -> int | None:
    """The integer `text` writes in ASCII digits, or None: a query parameter's id, a step's
    number. Bounded, so that no lookup or `int` call meets a number past 64 bits."""
    return int(text) if ascii_digits(text) and len(text) <= max_digits else None


class BadJSON(ValueError):
    """JSON the platform refuses: `problem` says what is wrong, `path` where (object keys and
    list indexes from the top; empty for the whole document). A syntax error also has its
    `line` and `column`."""

    def __init__(
        self,
        problem: str,
        path: tuple[str | int, ...] = (),
        *,
        line: int | None = None,
        column: int | None = None,
    ):
        self.problem = problem
        self.path = path
        self.line = line
        self.column = column
        where = format_path(path)
        at = f" at line {line} column {column}" if line is not None else ""
        super().__init__(f"{where}: {problem}{at}" if where else f"{problem}{at}")


def format_path(path: tuple[str | int, ...]) -> str:
    """`metadata.k`, `episodes.0.metadata`: safe to show, whatever the keys hold."""
    return storable_escaped(".".join(str(part) for part in path), nul="\\u0000")


def json_parse(raw: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON document, refusing with BadJSON one that is not JSON, nests deeper than
    `max_depth`, or holds a string or key `storable_text` refuses."""
    text = _text_of(raw)
    value = _parse(text, max_depth)
    if _may_hold_unstorable(text):
        path = unstorable_path(value)
        if path is not None:
            raise BadJSON(UNSTORABLE, path)
    return value


def json_parse_unchecked(raw: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json_parse` without the text rule, for a caller that applies it to parts of the value
    itself (`unstorable_path`)."""
    return _parse(_text_of(raw), max_depth)


def _text_of(raw: str | bytes) -> str:
    if not isinstance(raw, bytes | bytearray):
        return raw
    try:
        # As json.loads reads bytes (surrogatepass: a surrogate's three bytes become one).
        return raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError:
        raise BadJSON("not UTF-8 text") from None


def _may_hold_unstorable(text: str) -> bool:
    """Whether a document's strings may hold NUL or a lone surrogate: only through a \\u
    escape, or a surrogate in the text itself (NUL cannot stand unescaped in JSON). Most
    documents have neither, and need no walk."""
    if "\\u" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _parse(text: str, max_depth: int) -> Any:
    try:
        value = _DECODER.decode(text)
    except BadJSON:
        raise
    except json.JSONDecodeError as error:
        raise BadJSON(f"not JSON: {error.msg}", line=error.lineno, column=error.colno) from None
    except ValueError:  # an integer of more digits than Python converts
        raise BadJSON("not JSON the platform reads: an integer of over 4,300 digits") from None
    except RecursionError:
        raise BadJSON(f"nested deeper than {max_depth} levels") from None
    # Deeper than max_depth needs more brackets than that: most documents need no walk.
    if text.count("[") + text.count("{") > max_depth:
        path = _too_deep_at(value, max_depth)
        if path is not None:
            # Where it starts going deep is enough to find it.
            raise BadJSON(f"nested deeper than {max_depth} levels", path[:4])
    return value


def _no_constant(name: str) -> float:
    # Python reads NaN and Infinity, which are not JSON and which PostgreSQL refuses.
    raise BadJSON(f"not JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise BadJSON(f"not JSON the platform reads: {text[:40]} is too large a number")
    return number


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)


def _too_deep_at(value: Any, max_depth: int) -> tuple[str | int, ...] | None:
    # Level by level, containers only (what json.loads makes is exactly dict or list), and a
    # path built only for a document found too deep: iterative, since a walk that recursed
    # would fail on the very documents it is looking for.
    level, depth = [value], 0
    while level:
        if depth >= max_depth:
            return _path_to_depth(value, max_depth)
        deeper = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                if type(child) is dict or type(child) is list:
                    deeper.append(child)
        level, depth = deeper, depth + 1
    return None


def _path_to_depth(value: Any, depth: int) -> tuple[str | int, ...]:
    """The path of the first container `depth` levels down in `value`."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) == depth:
            return path
        children = item.items() if isinstance(item, dict) else enumerate(item)
        stack.extend(
            (child, (*path, key)) for key, child in children if isinstance(child, dict | list)
        )
    return ()


def unstorable_path(
    value: Any, skip: frozenset[tuple[str | int, ...]] = frozenset()
) -> tuple[str | int, ...] | None:
    """The path of the first string or key in `value` that `storable_text` refuses, or None.
    Paths in `skip` are not looked at (text that its reader escapes before storing it)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if path in skip:
            continue
        if isinstance(item, str):
            if not storable_text(item):
                return path
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                if isinstance(key, str) and not storable_text(key):
                    return (*path, key)
                stack.append((child, (*path, key)))
        elif isinstance(item, list | tuple):
            stack.extend(
                (child, (*path, index)) for index, child in reversed(list(enumerate(item)))
            )
    return None
