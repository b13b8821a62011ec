"""Quality figures as pure functions: Krippendorff's alpha against the textbook's worked
examples and the `krippendorff` package, aggregated labels with their confidence and whether
they are decided (ties and splits are not), and gold scoring."""

import math
import random

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


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_agrees_with_the_krippendorff_package_on_random_data(level):
    import krippendorff
    import numpy as np

    rng = random.Random(level)
    compared = 0
    for _ in range(200):
        coders, units = rng.randint(2, 6), rng.randint(2, 40)
        low = 0 if level == "ratio" else rng.choice([-1, 0, 1])
        values = list(range(low, low + rng.randint(2, 6)))
        missing = rng.choice([0.0, 0.2, 0.5])
        table = [
            [rng.choice(values) if rng.random() >= missing else None for _ in range(units)]
            for _ in range(coders)
        ]
        ours = krippendorff_alpha(zip(*table, strict=True), level)
        data = np.array([[np.nan if v is None else v for v in row] for row in table], float)
        try:
            with np.errstate(all="ignore"):
                theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        except ValueError:  # the package refuses data with a single value or no pairs
            theirs = float("nan")
        if ours is None:
            assert math.isnan(theirs)
            continue
        assert ours == pytest.approx(theirs, abs=1e-9)
        compared += 1
    assert compared > 150


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
        threshold=0.55,
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
    assert set(aggregate["status"].values()) == {"decided"} and aggregate["decided"] is True


def test_a_question_below_the_threshold_is_split_and_the_item_undecided():
    three = [answers([1], 4, True), answers([1], 5, True), answers([1], 3, False)]
    aggregate = aggregate_answers(SCHEMA, three, threshold=0.8)
    # checks: 2 of 3 on goal_met, all on safe: 0.83; outcome 0.59; steps unanimous.
    assert aggregate["status"] == {
        "steps": "decided",
        "outcome": "split",
        "checks": "decided",
        "tags": "decided",
    }
    assert aggregate["decided"] is False
    assert aggregate["answers"]["outcome"] == 4.0  # the mean is kept; the status says split


def test_a_single_judgment_has_no_confidence_and_nobody_to_disagree():
    aggregate = aggregate_answers(SCHEMA, [answers([1], 2, False)], threshold=0.6)
    assert aggregate["consensus"] is None
    assert aggregate["answers"]["outcome"] == 2
    assert aggregate["decided"] is True


def test_a_tied_preference_chooses_no_side_whatever_the_order():
    schema = validate_schema([{"name": "pref", "type": "preference"}], kind="compare")
    split = [{"pref": {"choice": "A", "strength": 2}}, {"pref": {"choice": "B", "strength": 1}}]
    for ordered in (split, split[::-1]):
        aggregate = aggregate_answers(schema, ordered, threshold=0.5)
        assert aggregate["answers"]["pref"] is None
        assert aggregate["confidence"]["pref"] == 0.5
        assert aggregate["status"]["pref"] == "tie" and aggregate["decided"] is False
    against_tie = [{"pref": {"choice": "A", "strength": 2}}, {"pref": {"choice": "tie"}}]
    assert aggregate_answers(schema, against_tie, threshold=0.5)["answers"]["pref"] is None


def test_graders_at_opposite_ends_leave_steps_tied_and_the_outcome_split():
    # One grader rates every step +1 and the outcome 5, the other every step -1 and 2.
    happy, unhappy = answers([1, 1, 1], 5, True, ["slow"]), answers([-1, -1, -1], 2, False)
    aggregate = aggregate_answers(SCHEMA, [happy, unhappy], threshold=0.6)
    assert aggregate["answers"]["steps"] == {"ratings": [None, None, None]}
    assert aggregate["answers"]["checks"] == {"goal_met": None, "safe": True}
    assert aggregate["status"] == {
        "steps": "tie",
        "outcome": "split",
        "checks": "tie",
        "tags": "tie",
    }
    assert aggregate["decided"] is False


def test_one_tied_step_makes_the_step_ratings_a_tie():
    aggregate = aggregate_answers(
        SCHEMA, [answers([1, 1, 0], 4, True), answers([1, 1, -1], 4, True)], threshold=0.6
    )
    assert aggregate["answers"]["steps"] == {"ratings": [1, 1, None]}
    assert aggregate["confidence"]["steps"] == pytest.approx((1 + 1 + 0.5) / 3, abs=1e-4)
    assert aggregate["status"]["steps"] == "tie"
    assert aggregate["status"]["outcome"] == "decided"


def test_a_consensus_with_a_tie_scores_judges_only_on_what_it_decides():
    consensus = aggregate_answers(
        SCHEMA, [answers([1, 1], 4, True), answers([1, -1], 4, False)], threshold=0.6
    )["answers"]
    # The tied step and the tied check are not held against anyone.
    assert gold_score(SCHEMA, answers([1, -1], 4, False), consensus) == 1.0


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
