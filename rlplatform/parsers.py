"""The API's request parser: JSON read by the platform's one reader (environments/engine/text.py),
so that a body too deep to walk, or with text no database stores, is a 400 naming where."""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from environments.engine.text import BadJSON, json_parse


class TextSafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            return json_parse(stream.read())
        except BadJSON as error:
            # DRF's own wording when the fault is the whole body; else where in it.
            raise ParseError(str(error) if error.path else f"JSON parse error - {error}") from None
