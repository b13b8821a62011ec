"""The one JSON reader and the text rule every entry point applies."""

import json

import pytest

from environments.engine.text import (
    BadJSON,
    ascii_digits,
    json_parse,
    json_parse_unchecked,
    small_int,
    storable_escaped,
    storable_text,
)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": "\\u0000"}', "a: text may not contain NUL"),
        (b'{"a": ["ok", "\\uDBFF"]}', "a.1: text may not contain NUL"),
        (b'{"a": "\xed\xa0\x80"}', "a: text may not contain NUL"),  # a surrogate's bytes
        ('{"\ud800": 1}', "\\ud800: text may not contain NUL"),
        ('{"a": "\\u0000"}'.encode("utf-16"), "a: text may not contain NUL"),
        ("[" * 65 + "]" * 65, "0.0.0.0: nested deeper than 64 levels"),
        ('{"k": ' + "[" * 70 + "]" * 70 + "}", "k.0.0.0: nested deeper than 64 levels"),
        ("[" * 5000 + "]" * 5000, "nested deeper than 64 levels"),
        ("[" * 5000, "nested deeper than 64 levels"),
        ('{"a": NaN}', "not JSON: NaN is not a JSON number"),
        ("[-Infinity]", "not JSON: -Infinity is not a JSON number"),
        ("[1e999]", "not JSON the platform reads: 1e999 is too large a number"),
        ("9" * 5000, "not JSON the platform reads: an integer of over 4,300 digits"),
        (b"\xff\xfe\xfd", "not UTF-8 text"),
        ("{", "not JSON: Expecting property name"),
    ],
)
def test_json_the_platform_refuses_says_what_and_where(raw, message):
    with pytest.raises(BadJSON) as refused:
        json_parse(raw)
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    "value",
    [{"a": "é\U0001f600", "b": [1, 2.5, None, True]}, "[" * 64 + "]" * 64, "\\u0000 as text"],
)
def test_json_within_the_rules_reads_as_json_loads_reads_it(value):
    raw = json.dumps(value)
    assert json_parse(raw) == json_parse(raw.encode()) == json.loads(raw)


def test_unchecked_reading_keeps_the_depth_limit_but_not_the_text_rule():
    assert json_parse_unchecked('{"a": "\\u0000"}') == {"a": "\x00"}
    with pytest.raises(BadJSON):
        json_parse_unchecked("[" * 100 + "]" * 100)


@pytest.mark.parametrize(
    ("text", "digits", "number"),
    [("42", True, 42), ("²", False, None), ("٣", False, None), ("Ⅻ", False, None),
     ("-1", False, None), ("", False, None), ("9" * 19, True, None), ("007", True, 7)],
)  # fmt: skip
def test_only_ascii_digits_are_numbers(text, digits, number):
    assert text.isdigit() or not digits
    assert ascii_digits(text) is digits
    assert small_int(text) == number


def test_storable_text_and_its_escape():
    assert storable_text("plain é") and not storable_text("a\x00") and not storable_text("\udc00")
    assert storable_escaped("a\x00\ud800", nul="\\x00") == "a\\x00\\ud800"
