import pytest

from environments.engine.base import Check, Outcome
from environments.engine.tasks import (
    amounts_in,
    check_amount,
    check_no_collateral,
    diff_records,
    whole_numbers_in,
)


@pytest.mark.parametrize(
    "text",
    [
        "$1,234.50",
        "1234.5",
        "1,234.50",
        "It was $1,234.50.",
        "The balance on March 31, 2024 was $1,234.50",
        "1234.50 dollars",
        "USD 1234.50",
    ],
)
def test_amount_answers_match_as_numbers(text):
    assert check_amount(text, 123450).passed


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1234", "says $1,234.00, expected $1,234.50"),
        ("$1,234.5O", "expected $1,234.50"),
        ("12345.0", "says $12,345.00"),
        ("about a thousand", "names no amount"),
        ("", "names no amount"),
        ("$1,234.50 or $1,243.50", "names 2 amounts"),
        ("-$1,234.50", "says -$1,234.50"),
        # Digits of other scripts are not numbers here, as on the sites' forms.
        ("$\u0661,\u0662\u0663\u0664.\u0665\u0660", "names no amount"),
        ("$\uff11,\uff12\uff13\uff14.\uff15\uff10", "names no amount"),
    ],
)
def test_wrong_or_ambiguous_amount_answers_fail_and_say_why(text, why):
    check = check_amount(text, 123450)
    assert not check.passed
    assert why in check.detail


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("3 days", ["3"]),
        ("3 or 4", ["3", "4"]),
        ("3.5 days", []),
        ("1,200 tickets", []),
        ("\u0663 days", []),
        ("\u0969 days", []),
        (None, []),
    ],
)
def test_whole_number_answers_are_ascii_digits_alone(text, numbers):
    assert whole_numbers_in(text) == numbers


def test_no_answer_fails():
    assert "no answer was sent" in check_amount(None, 100).detail


def test_absolute_amounts_ignore_the_sign():
    assert check_amount("-$84.12", 8412, absolute=True).passed
    assert check_amount("$84.12", -8412, absolute=True).passed
    assert not check_amount("-$84.12", 8412).passed
    assert check_amount("\u221284.12", -8412).passed  # a Unicode minus sign


def test_money_written_numbers_win_over_plain_ones():
    assert amounts_in("On March 12 I paid $84.12") == [amounts_in("84.12")[0]]
    assert [str(v) for v in amounts_in("12 and 30")] == ["12", "30"]


def test_diff_records_finds_added_removed_and_changed_fields():
    initial = {"cards": [{"id": "k1", "frozen": False}, {"id": "k2", "frozen": True}]}
    final = {"cards": [{"id": "k1", "frozen": True}, {"id": "k3", "frozen": False}]}
    assert diff_records(initial, final, ["cards"]) == [
        ("cards", "k1", "frozen", False, True),
        ("cards", "k3", "+", None, {"id": "k3", "frozen": False}),
        ("cards", "k2", "-", {"id": "k2", "frozen": True}, None),
    ]


def test_collateral_check_allows_only_what_the_task_asked_for():
    diffs = [("cards", "k1", "frozen", False, True), ("payments", "p9", "+", None, {})]
    assert check_no_collateral(diffs, [("cards", "k1", "frozen"), ("payments", "*", "+")]).passed
    check = check_no_collateral(diffs, [("cards", "k1", "frozen")])
    assert not check.passed
    assert check.detail == "unrequested changes: payments p9 was added"


def test_outcome_reward_is_all_or_nothing_with_components():
    good = Outcome.from_checks([Check("a", True), Check("b", True)])
    bad = Outcome.from_checks([Check("a", True), Check("b", False, "why")])
    assert (good.reward, good.success) == (1.0, True)
    assert (bad.reward, bad.success) == (0.0, False)
    assert bad.reward_components == {"a": 1.0, "b": 0.0}
    assert [c.name for c in bad.failed()] == ["b"]
    assert Outcome.from_dict(bad.to_dict()) == bad
