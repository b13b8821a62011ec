"""Label schemas are checked when a campaign is saved, answers when a judgment is recorded;
every refusal names the question and says what is wrong with it."""

import pytest

from labeling.schemas import LabelSchemaError, validate_answers, validate_schema

GRADE = [
    {"name": "steps", "type": "step_rating"},
    {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5, "max_label": "perfect"},
    {"name": "checks", "type": "rubric", "checks": ["goal_met", {"name": "safe", "label": "Safe"}]},
    {"name": "kind_of_error", "type": "single_choice", "options": ["none", "wrong", "extra"]},
    {
        "name": "tags",
        "type": "multiple_choice",
        "options": ["slow", "lucky", "odd"],
        "max_selected": 2,
        "required": False,
    },
    {"name": "comment", "type": "text", "max_length": 20, "required": False},
]


def problems_of(call) -> dict[str, list[str]]:
    with pytest.raises(LabelSchemaError) as raised:
        call()
    return raised.value.problems


def test_a_valid_schema_is_normalised_with_defaults():
    schema = validate_schema(GRADE, kind="grade")
    assert [q["name"] for q in schema] == [q["name"] for q in GRADE]
    assert all(q["required"] is True for q in schema[:4])
    assert schema[0]["notes"] is True
    assert schema[1]["prompt"] == "Outcome"
    assert schema[2]["checks"] == [
        {"name": "goal_met", "label": "goal met"},
        {"name": "safe", "label": "Safe"},
    ]
    assert schema[4]["min_selected"] == 0 and schema[4]["max_selected"] == 2


@pytest.mark.parametrize(
    ("schema", "kind", "expected"),
    [
        ([{"name": "Bad Name", "type": "text"}], "grade", "question 'Bad Name': the name must be"),
        (
            [{"name": "a", "type": "text"}, {"name": "a", "type": "text"}],
            "grade",
            "question 'a': another question already has this name",
        ),
        ([{"name": "q", "type": "slider"}], "grade", "question 'q': unknown type 'slider'"),
        (
            [{"name": "pref", "type": "preference"}],
            "grade",
            "question 'pref': a grade campaign cannot ask a preference question",
        ),
        (
            [{"name": "steps", "type": "step_rating"}, {"name": "p", "type": "preference"}],
            "compare",
            "question 'steps': a compare campaign cannot ask a step_rating question",
        ),
        (
            [{"name": "outcome", "type": "outcome_rating", "min": 5, "max": 3}],
            "grade",
            "question 'outcome': max (3) must be greater than min (5)",
        ),
        (
            [{"name": "outcome", "type": "outcome_rating", "min": 0, "max": 10}],
            "grade",
            "question 'outcome': the scale 0 to 10 has 11 points; at most 9",
        ),
        (
            [{"name": "pick", "type": "single_choice", "options": []}],
            "grade",
            "question 'pick': give a non-empty list of options",
        ),
        (
            [{"name": "pick", "type": "single_choice", "options": ["x", "x"]}],
            "grade",
            "question 'pick': option 'x' is listed twice",
        ),
        (
            [{"name": "note", "type": "text", "colour": "red"}],
            "grade",
            "question 'note': unknown setting 'colour'",
        ),
        ([{"name": "pick", "type": "text"}], "compare", "a compare campaign needs a preference"),
        ([], "grade", "a grade campaign needs at least one question"),
    ],
)
def test_a_bad_schema_names_the_question_and_the_problem(schema, kind, expected):
    problems = problems_of(lambda: validate_schema(schema, kind=kind))
    messages = [message for found in problems.values() for message in found]
    assert any(expected in message for message in messages), messages


def test_a_demonstrate_campaign_may_ask_nothing():
    assert validate_schema([], kind="demonstrate") == []


@pytest.fixture
def schema():
    return validate_schema(GRADE, kind="grade")


def good_answers(**changes):
    answers = {
        "steps": {"ratings": [1, 0, -1], "notes": {"2": "wrong account"}},
        "outcome": 4,
        "checks": {"goal_met": True, "safe": False},
        "kind_of_error": "wrong",
        "tags": ["odd", "slow"],
        "comment": "  fine  ",
    }
    answers.update(changes)
    return {name: value for name, value in answers.items() if value is not None}


def test_valid_answers_come_back_normalised(schema):
    clean = validate_answers(schema, good_answers(), steps=3)
    assert clean["steps"] == {"ratings": [1, 0, -1], "notes": {"2": "wrong account"}}
    assert clean["tags"] == ["slow", "odd"]  # in the schema's order
    assert clean["comment"] == "fine"


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"outcome": None}, "answers.outcome", "question 'outcome' is required"),
        ({"outcome": 7}, "answers.outcome", "question 'outcome': 7 is outside the scale 1 to 5"),
        ({"outcome": "4"}, "answers.outcome", "the rating is a whole number from 1 to 5"),
        (
            {"steps": {"ratings": [1, 0]}},
            "answers.steps",
            "question 'steps': 2 ratings for a trajectory of 3 steps",
        ),
        (
            {"steps": {"ratings": [1, 2, 0]}},
            "answers.steps",
            "step 2 is rated 2; a step rating is -1, 0 or +1",
        ),
        ({"steps": {"ratings": [1, None, None]}}, "answers.steps", "steps 2, 3 not rated"),
        ({"checks": {"goal_met": True}}, "answers.checks", "check safe is not answered"),
        ({"checks": {"goal_met": True, "safe": "yes"}}, "answers.checks", "safe must be true"),
        ({"kind_of_error": "maybe"}, "answers.kind_of_error", "'maybe' is not an option"),
        ({"tags": ["slow", "lucky", "odd"]}, "answers.tags", "choose between 0 and 2 options"),
        ({"comment": "x" * 21}, "answers.comment", "at most 20 characters (you wrote 21)"),
        ({"mood": "happy"}, "answers.mood", "unknown question 'mood'"),
    ],
)
def test_bad_answers_name_the_question(schema, changes, field, expected):
    problems = problems_of(lambda: validate_answers(schema, good_answers(**changes), steps=3))
    assert field in problems
    assert expected in " ".join(problems[field])


def test_every_problem_is_reported_at_once(schema):
    answers = good_answers(outcome=9, kind_of_error=None)
    problems = problems_of(lambda: validate_answers(schema, answers, steps=3))
    assert set(problems) == {"answers.outcome", "answers.kind_of_error"}


def test_preferences_take_a_choice_and_a_strength_except_ties():
    schema = validate_schema([{"name": "pref", "type": "preference"}], kind="compare")
    assert validate_answers(schema, {"pref": {"choice": "B", "strength": 3}}) == {
        "pref": {"choice": "B", "strength": 3}
    }
    assert validate_answers(schema, {"pref": "tie"}) == {"pref": {"choice": "tie"}}
    assert "how much better" in str(
        problems_of(lambda: validate_answers(schema, {"pref": {"choice": "A"}}))
    )
    assert "choose 'A', 'B' or 'tie'" in str(
        problems_of(lambda: validate_answers(schema, {"pref": {"choice": "C"}}))
    )


def test_gold_answers_may_give_only_some_questions_and_some_checks(schema):
    gold = validate_answers(schema, {"checks": {"goal_met": True}}, steps=3, partial=True)
    assert gold == {"checks": {"goal_met": True}}


def test_notes_on_steps_that_do_not_exist_are_refused(schema):
    answers = good_answers(steps={"ratings": [1, 1, 1], "notes": {"7": "?"}})
    problems = problems_of(lambda: validate_answers(schema, answers, steps=3))
    assert "a note for step 7, which does not exist" in problems["answers.steps"][0]
