"""The API's request parser."""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from environments.engine.actions import storable_escaped, storable_text


class TextSafeJSONParser(JSONParser):
    """JSON whose every string and key can be stored: a body that could not would otherwise
    fail as a server error wherever it was written."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        where = _unstorable_at(data, "")
        if where is not None:
            # The path may hold the offending key itself: name it, do not echo it.
            where = storable_escaped(where, nul="\\u0000") or "the body"
            raise ParseError(
                f"{where}: text may not contain NUL (\\u0000) characters or lone surrogates"
            )
        return data


def _unstorable_at(value: Any, path: str) -> str | None:
    """The path of the first string (or key) in `value` that cannot be stored."""
    if isinstance(value, str):
        return None if storable_text(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if not storable_text(key):
                return inner
            found = _unstorable_at(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable_at(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None
