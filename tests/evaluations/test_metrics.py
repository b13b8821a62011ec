"""The report's estimators against values worked out by hand."""

import pytest

from evaluations.metrics import Attempt, pass_at_k, pass_hat_k, summarize, wilson_interval


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (5, 2, 2, 0.7),
        # k = 1 is the plain success rate c/n
        (4, 1, 1, 0.25),
        # fewer failures than draws: some draw must succeed
        (5, 3, 3, 1.0),
        (5, 0, 3, 0.0),
        # 1 - C(7,3)/C(10,3) = 1 - 35/120
        (10, 3, 3, 85 / 120),
    ],
)
def test_pass_at_k_is_chen_et_al_unbiased_estimator(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        # C(2,2)/C(5,2) = 1/10
        (5, 2, 2, 0.1),
        # C(3,2)/C(4,2) = 3/6
        (4, 3, 2, 0.5),
        # fewer successes than draws: not all can succeed
        (3, 2, 3, 0.0),
        (3, 3, 3, 1.0),
        (4, 1, 1, 0.25),
    ],
)
def test_pass_hat_k_is_the_chance_that_all_k_attempts_succeed(n, c, k, expected):
    assert pass_hat_k(n, c, k) == pytest.approx(expected)


def test_the_estimators_refuse_a_k_above_the_attempts_made():
    with pytest.raises(ValueError, match="k must be between 1 and n=2"):
        pass_at_k(2, 1, 3)
    with pytest.raises(ValueError, match="c must be between 0 and n=2"):
        pass_hat_k(2, 3, 1)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # centre (0.8 + z²/20) / (1 + z²/10), half-width z/(1 + z²/10) * sqrt(0.016 + z²/400)
        (8, 10, 0.49016, 0.94332),
        # at 0% the interval is [0, z²/(n + z²)], not the point the normal approximation gives
        (0, 10, 0.0, 0.27753),
        (10, 10, 0.72247, 1.0),
        (1, 2, 0.09453, 0.90547),
    ],
)
def test_wilson_interval_matches_hand_computed_bounds(successes, trials, low, high):
    interval = wilson_interval(successes, trials)
    assert interval == pytest.approx((low, high), abs=1e-5)


def test_wilson_interval_without_trials_is_none():
    assert wilson_interval(0, 0) is None


def _attempts(family: str, seed: int, outcomes: str) -> list[Attempt]:
    return [
        Attempt(family=family, seed=seed, success=o == "S", reward=float(o == "S"), steps=i + 2)
        for i, o in enumerate(outcomes)
    ]


def test_summarize_averages_the_estimators_over_tasks_with_enough_attempts():
    attempts = (
        _attempts("a", 1, "SFS") + _attempts("a", 2, "FFF") + _attempts("b", 1, "SS")
    )  # task b/1 lost an attempt
    figures = summarize(attempts, k=3)
    assert figures["tasks"] == 3
    assert figures["episodes"] == 8
    assert figures["successes"] == 4
    assert figures["success_rate"] == 0.5
    assert figures["success_interval"] == pytest.approx(list(wilson_interval(4, 8)))
    # pass@1 over three tasks: (2/3 + 0 + 1) / 3; pass@3 and pass^3 over the two with 3 tries.
    assert figures["pass_at_k"] == pytest.approx({"1": 5 / 9, "2": (1 + 0 + 1) / 3, "3": 0.5})
    assert figures["pass_hat_k"] == pytest.approx({"1": 5 / 9, "2": (1 / 3 + 0 + 1) / 3, "3": 0})
    assert figures["mean_reward"] == 0.5
    # steps 2,3,4 + 2,3,4 + 2,3
    assert figures["mean_steps"] == pytest.approx(23 / 8)


def test_summarize_of_nothing_has_no_figures():
    figures = summarize([], k=2)
    assert figures["episodes"] == 0
    assert figures["success_rate"] is None
    assert figures["success_interval"] is None
    assert figures["pass_at_k"] == {"1": None, "2": None}
