"""The API's request parser."""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class TextSafeJSONParser(JSONParser):
    """JSON, refusing NUL characters (`\\u0000`) in any string or key: PostgreSQL stores none
    in text or JSON, so such a body would otherwise fail as a server error wherever it was
    stored."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        where = _nul_at(data, "")
        if where is not None:
            # The path may hold the offending key itself: name its NUL, do not echo it.
            where = where.replace("\x00", "\\u0000") or "the body"
            raise ParseError(f"{where}: text may not contain NUL (\\u0000) characters")
        return data


def _nul_at(value: Any, path: str) -> str | None:
    """The path of the first string (or key) in `value` that holds a NUL character."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return inner
            found = _nul_at(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_at(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None
