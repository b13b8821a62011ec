"""The API's number and time fields: DRF's, reading text in ASCII digits only.

`int`, `float` and Django's date parser read every script's digits (Arabic-Indic, fullwidth,
Devanagari: "\u0663" is 3), while the environments' sites, OpenEnv (as pydantic does) and the
query parameters (`small_int`) refuse them: one rule for every number the platform reads.
"""

from typing import Any

from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.utils import humanize_datetime


def _ascii_text(field: serializers.Field, data: Any, **message: str) -> None:
    if isinstance(data, str) and not data.isascii():
        field.fail("invalid", **message)


class IntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        _ascii_text(self, data)
        return super().to_internal_value(data)


class FloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        _ascii_text(self, data)
        return super().to_internal_value(data)


class DateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any):
        formats = getattr(self, "input_formats", api_settings.DATETIME_INPUT_FORMATS)
        _ascii_text(self, value, format=humanize_datetime.datetime_formats(formats))
        return super().to_internal_value(value)
