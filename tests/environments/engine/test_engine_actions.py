import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from environments.engine.actions import Action, ActionError, parse_action


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("click('12')", Action("click", {"bid": "12"})),
        ('click("12")', Action("click", {"bid": "12"})),
        ("click(12)", Action("click", {"bid": "12"})),
        ("click(bid='12')", Action("click", {"bid": "12"})),
        ("  click('12')\n", Action("click", {"bid": "12"})),
        ("fill('7', '250.00')", Action("fill", {"bid": "7", "value": "250.00"})),
        ("fill('7', 250)", Action("fill", {"bid": "7", "value": "250"})),
        ("fill('7', -5)", Action("fill", {"bid": "7", "value": "-5"})),
        ("fill(value='x', bid='7')", Action("fill", {"bid": "7", "value": "x"})),
        ("fill('7', \"it's\")", Action("fill", {"bid": "7", "value": "it's"})),
        ("fill('7', 'it\\'s')", Action("fill", {"bid": "7", "value": "it's"})),
        ("fill('7', 'a\\nb\\\\c')", Action("fill", {"bid": "7", "value": "a\nb\\c"})),
        ("fill('7', 'café ••4821')", Action("fill", {"bid": "7", "value": "café ••4821"})),
        (
            "select_option('9', 'Savings')",
            Action("select_option", {"bid": "9", "options": "Savings"}),
        ),
        (
            "select_option(bid='9', options='X')",
            Action("select_option", {"bid": "9", "options": "X"}),
        ),
        ("check('3')", Action("check", {"bid": "3"})),
        ("uncheck('3')", Action("uncheck", {"bid": "3"})),
        ("goto('transfers')", Action("goto", {"url": "transfers"})),
        ("goto(url='/bank/transfers')", Action("goto", {"url": "/bank/transfers"})),
        (
            "send_msg_to_user('It was $84.12')",
            Action("send_msg_to_user", {"text": "It was $84.12"}),
        ),
        ("send_msg_to_user(text='')", Action("send_msg_to_user", {"text": ""})),
        ("noop()", Action("noop")),
        ("noop(1000)", Action("noop")),
        ("noop(wait_ms=500)", Action("noop")),
    ],
)
def test_call_strings_parse_to_actions(text, expected):
    assert parse_action(text) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "click", "args": {"bid": "12"}}, Action("click", {"bid": "12"})),
        ({"name": "click", "args": {"bid": 12}}, Action("click", {"bid": "12"})),
        ({"name": "noop"}, Action("noop")),
        ({"name": "noop", "args": {}}, Action("noop")),
        (
            '{"name": "fill", "args": {"bid": "7", "value": "250.00"}}',
            Action("fill", {"bid": "7", "value": "250.00"}),
        ),
    ],
)
def test_json_actions_parse(data, expected):
    assert parse_action(data) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "malformed_action"),
        ("click", "malformed_action"),
        ("click(", "malformed_action"),
        ("click('1'", "malformed_action"),
        ("click(x)", "malformed_action"),
        ("click(None)", "malformed_action"),
        ("click(True)", "malformed_action"),
        ("click(1 + 2)", "malformed_action"),
        ("click(['1'])", "malformed_action"),
        ("click()", "malformed_action"),
        ("click('1', '2')", "malformed_action"),
        ("click('1', button='left')", "malformed_action"),
        ("click('1', bid='1')", "malformed_action"),
        ("click(*['1'])", "malformed_action"),
        ("click(**{'bid': '1'})", "malformed_action"),
        ("fill('7')", "malformed_action"),
        ("os.system('ls')", "malformed_action"),
        ("click('1'); noop()", "malformed_action"),
        ("click('1')\nclick('2')", "malformed_action"),
        ("[click('1')]", "malformed_action"),
        ("click('1\x00')", "malformed_action"),
        ("fill('1', '" + "x" * 20_000 + "')", "malformed_action"),
        ("(" * 5000 + ")" * 5000, "malformed_action"),
        ("__import__('os')", "unknown_action"),
        ("scroll(0, 100)", "unknown_action"),
        ("Click('1')", "unknown_action"),
        ("{bad json", "malformed_action"),
        ('{"action": "click(\'1\')"}', "malformed_action"),
        ('{"name": "click"}', "malformed_action"),
        ('{"name": "click", "args": {"bid": true}}', "malformed_action"),
        ('{"name": "click", "args": ["1"]}', "malformed_action"),
        ('{"name": "click", "args": {"bid": "1", "x": "2"}}', "malformed_action"),
        ('{"name": "zap"}', "unknown_action"),
        ('{"name": 5}', "malformed_action"),
        ('{"name": "fill", "args": {"bid": "1", "value": "a\\u0000b"}}', "malformed_action"),
        ('{"name": "fill", "args": {"bid": "1", "value": "a\\ud800b"}}', "malformed_action"),
        ("fill('1', 'a\\x00b')", "malformed_action"),
        ("send_msg_to_user('\\ud800')", "malformed_action"),
    ],
)
def test_malformed_actions_raise_typed_errors(text, code):
    with pytest.raises(ActionError) as exc:
        parse_action(text)
    assert exc.value.code == code
    assert isinstance(exc.value, ValueError)
    assert exc.value.message


def test_non_string_actions_are_malformed():
    with pytest.raises(ActionError) as exc:
        parse_action(42)
    assert exc.value.code == "malformed_action"


def test_error_messages_say_what_was_wrong():
    with pytest.raises(ActionError, match=r"unknown action 'scroll'.*click, fill"):
        parse_action("scroll(0, 100)")
    with pytest.raises(ActionError, match=r"fill is missing value: use fill\(bid, value\)"):
        parse_action("fill('7')")
    with pytest.raises(ActionError, match="click has no argument 'button'"):
        parse_action("click('1', button='left')")


@pytest.mark.parametrize(
    "action",
    [
        Action("click", {"bid": "12"}),
        Action("fill", {"bid": "7", "value": 'it\'s a "test"\n\\ ••'}),
        Action("select_option", {"bid": "9", "options": "Gas & fuel"}),
        Action("goto", {"url": "/bank/transfers"}),
        Action("send_msg_to_user", {"text": "$1,234.50"}),
        Action("noop"),
    ],
)
def test_actions_round_trip_through_string_and_json(action):
    assert parse_action(action.to_string()) == action
    assert parse_action(action.to_dict()) == action
    assert parse_action(json.dumps(action.to_dict())) == action


@settings(database=None, derandomize=True)
@given(st.text(max_size=200))
def test_any_fill_value_round_trips_unless_no_database_could_store_it(value):
    action = Action("fill", {"bid": "3", "value": value})
    if "\x00" in value:
        with pytest.raises(ActionError, match="NUL"):
            parse_action(action.to_string())
        return
    assert parse_action(action.to_string()) == action


@settings(database=None, derandomize=True)
@given(st.text(max_size=100))
def test_arbitrary_text_either_parses_or_raises_action_error(text):
    try:
        parse_action(text)
    except ActionError as exc:
        assert exc.code in {"malformed_action", "unknown_action"}
