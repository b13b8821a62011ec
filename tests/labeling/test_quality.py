"""Quality figures as pure functions: Krippendorff's alpha against the textbook's worked
examples, aggregated labels with their confidence, and gold scoring."""

import pytest

from labeling.quality import (
    aggregate_answers,
    answer_score,
    campaign_agreement,
    gold_score,
    krippendorff_alpha,
)
from labeling.schemas import validate_schema

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
# twelve units, values 1-5, missing values left out. Published: nominal 0.743, ordinal 0.815,
# interval 0.849, ratio 0.797.
N = None
TEXTBOOK = [
    [1, 1, N, 1],
    [2, 2, 3, 2],
    [3, 3, 3, 3],
    [3, 3, 3, 3],
    [2, 2, 2, 2],
    [1, 2, 3, 4],
    [4, 4, 4, 4],
    [1, 1, 2, 1],
    [2, 2, 2, 2],
    [N, 5, 5, 5],
    [N, N, 1, 1],
    [N, 3, N, N],
]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_alpha_matches_the_textbook_example_at_each_level(level, published):
    assert krippendorff_alpha(TEXTBOOK, level) == pytest.approx(published, abs=0.0005)


def test_alpha_matches_the_textbooks_two_observer_binary_example():
    # Krippendorff (2011), section A: two observers, ten units, no missing values: 0.095.
    first = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    second = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert krippendorff_alpha(zip(first, second, strict=True)) == pytest.approx(0.095, abs=5e-4)


def test_alpha_of_a_small_example_worked_by_hand():
    # Units (a, a), (a, b), (b, b): coincidences o_aa = 2, o_ab = o_ba = 1, o_bb = 2, so
    # n_a = n_b = 3, n = 6 and alpha = 1 - (n - 1) * 2 / (2 * n_a * n_b) = 1 - 10 / 18 = 4/9.
    assert krippendorff_alpha([["a", "a"], ["a", "b"], ["b", "b"]]) == pytest.approx(4 / 9)


def test_alpha_is_one_for_perfect_agreement_and_undefined_without_variation_or_pairs():
    assert krippendorff_alpha([[1, 1], [2, 2, 2], [3, 3]], "ordinal") == 1.0
    assert krippendorff_alpha([[2, 2], [2, 2]]) is None
    assert krippendorff_alpha([[1], [2], []]) is None


def test_ordinal_alpha_forgives_near_misses_more_than_nominal():
    near_misses = [[1, 2], [2, 3], [3, 4], [4, 5], [1, 1], [5, 5], [2, 2]]
    assert krippendorff_alpha(near_misses, "ordinal") > krippendorff_alpha(near_misses, "nominal")


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="level must be one of"):
        krippendorff_alpha([[1, 2]], "cardinal")


SCHEMA = validate_schema(
    [
        {"name": "steps", "type": "step_rating"},
        {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5},
        {"name": "checks", "type": "rubric", "checks": ["goal_met", "safe"]},
        {"name": "tags", "type": "multiple_choice", "options": ["slow", "odd"]},
        {"name": "comment", "type": "text", "required": False},
    ],
    kind="grade",
)


def answers(steps, outcome, goal_met, tags=()):
    return {
        "steps": {"ratings": steps},
        "outcome": outcome,
        "checks": {"goal_met": goal_met, "safe": True},
        "tags": list(tags),
        "comment": "text is never aggregated",
    }


def test_the_aggregate_takes_majorities_and_means_with_their_confidence():
    aggregate = aggregate_answers(
        SCHEMA,
        [
            answers([1, 0], 4, True, ["slow"]),
            answers([1, -1], 5, True, ["slow"]),
            answers([1, -1], 3, False, []),
        ],
    )
    assert aggregate["n"] == 3
    assert aggregate["answers"]["steps"] == {"ratings": [1, -1]}
    assert aggregate["answers"]["outcome"] == 4.0
    assert aggregate["answers"]["checks"] == {"goal_met": True, "safe": True}
    assert aggregate["answers"]["tags"] == ["slow"]
    assert "comment" not in aggregate["answers"]
    confidence = aggregate["confidence"]
    assert confidence["steps"] == pytest.approx((1 + 2 / 3) / 2, abs=1e-4)
    # Ratings 3, 4, 5: standard deviation 0.8165 over half the scale's range (2).
    assert confidence["outcome"] == pytest.approx(1 - 0.8165 / 2, abs=1e-3)
    assert confidence["checks"] == pytest.approx((2 / 3 + 1) / 2, abs=1e-4)
    assert aggregate["consensus"] == pytest.approx(
        sum(confidence.values()) / len(confidence), abs=1e-3
    )


def test_a_single_judgment_has_no_confidence():
    aggregate = aggregate_answers(SCHEMA, [answers([1], 2, False)])
    assert aggregate["consensus"] is None
    assert aggregate["answers"]["outcome"] == 2


def test_a_split_preference_has_half_confidence():
    schema = validate_schema([{"name": "pref", "type": "preference"}], kind="compare")
    split = [{"pref": {"choice": "A", "strength": 2}}, {"pref": {"choice": "B", "strength": 1}}]
    aggregate = aggregate_answers(schema, split)
    assert aggregate["confidence"]["pref"] == 0.5


def test_gold_scores_count_what_the_gold_answer_gives():
    gold = {"outcome": 4, "checks": {"goal_met": True}}
    assert gold_score(SCHEMA, answers([1], 4, True), gold) == 1.0
    assert gold_score(SCHEMA, answers([1], 3, True), gold) == 0.75  # off by one: half a point
    assert gold_score(SCHEMA, answers([1], 1, False), gold) == 0.0
    assert gold_score(SCHEMA, answers([1], 4, True), {"comment": "x"}) is None


def test_step_gold_scores_the_steps_the_gold_rates():
    question = SCHEMA[0]
    assert answer_score(question, {"ratings": [1, 0, -1]}, {"ratings": [1, None, 1]}) == 0.5


def test_campaign_agreement_reports_each_question_with_the_items_it_rests_on():
    by_item = {
        1: [answers([1, 1], 5, True), answers([1, 1], 5, True)],
        2: [answers([-1], 1, False), answers([-1], 2, False)],
        3: [answers([0], 3, True)],  # one judgment: not pairable
    }
    report = campaign_agreement(SCHEMA, by_item)
    assert report["items"] == 2
    by_name = {question["name"]: question for question in report["questions"]}
    assert set(by_name) == {"steps", "outcome", "checks", "tags"}
    assert by_name["steps"]["level"] == "ordinal" and by_name["steps"]["units"] == 3
    assert by_name["outcome"]["level"] == "ordinal" and by_name["outcome"]["items"] == 2
    assert by_name["checks"]["level"] == "nominal"
    assert by_name["steps"]["alpha"] == 1.0
    assert 0 < by_name["outcome"]["alpha"] < 1
    assert report["alpha"] is not None
