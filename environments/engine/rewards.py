"""Reward modes: how a verifier's checks become a step's reward and an episode's return.

Each task family's rubric (`reward_rubric`) sorts its verifier's checks in two kinds:

- **progress checks**, the things the task must make true (the payment exists, the answer is
  right), each with a weight (1.0 unless the family's `check_weights` says otherwise);
- **guard checks**, which only hold the line (`no_collateral_damage`): when one fails, partial
  and progress credit is withheld. By default a check is a guard when it already passes on the
  initial state (of the first `RUBRIC_SEEDS`), since doing nothing cannot earn it; a family
  may name its guards in `guard_checks` instead. A check the rubric does not know counts as a
  guard, so it can only withhold credit.

The modes (`REWARD_MODES`), the same in every interface:

- `sparse`: 1.0 at the last step when every check passes, else 0.0 (the verifier's reward).
- `partial`: at the last step, the weighted share of progress checks that pass; 0.0 when a
  guard fails. 1.0 exactly on success.
- `progress`: shaped. The first time a step makes a progress check pass while every guard
  holds, that step earns the check's share of `PROGRESS_SHARE` (so all of them together earn at
  most half the return); each check pays at most once an episode, so undoing and redoing earns
  nothing. A successful last step pays the remainder, so a successful episode's return is
  exactly 1.0 and a failed one's stays at most `PROGRESS_SHARE`. Amounts are multiples of
  1/1024, so every sum of them is exact in floating point.

`progress` must remember which checks have paid: `step_reward` takes that list (`paid`) and
returns the new one, and the caller keeps it with the episode (the platform stores it on the
Episode row, so every process that steps the episode sees it). The other modes return `paid`
unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .base import Outcome
from .registry import get_environment

REWARD_MODES = ("sparse", "partial", "progress")
# The part of a successful episode's return that progress checks pay before the last step.
PROGRESS_SHARE = 0.5
# Progress amounts are whole multiples of this, so that sums of them are exact.
_GRAIN = 1024
# Seeds whose initial states decide which checks are guards by default.
RUBRIC_SEEDS = (0, 1, 2, 3)


@dataclass(frozen=True)
class RewardRubric:
    """Which checks of a family's verifier earn reward, and how much."""

    env: str
    family: str
    progress_checks: tuple[str, ...]
    guard_checks: tuple[str, ...]
    # Progress checks' weights, and the amount each pays in `progress` mode.
    weights: dict[str, float]
    progress_amounts: dict[str, float]

    def to_dict(self) -> dict:
        return {
            "environment": self.env,
            "family": self.family,
            "progress_checks": list(self.progress_checks),
            "guard_checks": list(self.guard_checks),
            "weights": dict(self.weights),
            "progress_amounts": dict(self.progress_amounts),
        }


@lru_cache(maxsize=256)
def reward_rubric(env_id: str, family: str) -> RewardRubric:
    """The reward rubric of a task family. Raises KeyError for an unknown environment or
    family, ValueError for a family whose `guard_checks` or `check_weights` name no check of
    its verifier or give a weight that is not positive."""
    env = get_environment(env_id)
    task_family = env.families[family]
    names: dict[str, bool] = {}  # check name -> passed on every sampled initial state
    for seed in RUBRIC_SEEDS:
        task = env.make_task(family, seed)
        initial = env.reset(seed, task)
        for check in task_family.verify(initial, initial, task.params).checks:
            names[check.name] = names.get(check.name, True) and check.passed
    declared = task_family.guard_checks
    guards = tuple(declared) if declared is not None else tuple(n for n, ok in names.items() if ok)
    for name in (*guards, *task_family.check_weights):
        if name not in names:
            raise ValueError(
                f"{env.id}/{family}: {name!r} is not a check of the verifier; checks: "
                + ", ".join(names)
            )
    progress = tuple(name for name in names if name not in guards)
    weights = {name: float(task_family.check_weights.get(name, 1.0)) for name in progress}
    for name, weight in weights.items():
        if not weight > 0 or not math.isfinite(weight):
            raise ValueError(f"{env.id}/{family}: the weight of {name!r} must be positive")
    total = sum(weights.values())
    amounts = {
        name: math.floor(PROGRESS_SHARE * weight / total * _GRAIN) / _GRAIN
        for name, weight in weights.items()
    }
    return RewardRubric(env.id, family, progress, guards, weights, amounts)


def _check_mode(mode: str) -> None:
    if mode not in REWARD_MODES:
        raise ValueError(f"unknown reward mode {mode!r}; modes: {', '.join(REWARD_MODES)}")


def guards_hold(rubric: RewardRubric, outcome: Outcome) -> bool:
    """Whether every check other than the progress checks passes."""
    progress = rubric.weights
    return all(check.passed for check in outcome.checks if check.name not in progress)


def partial_credit(rubric: RewardRubric, outcome: Outcome) -> float:
    """The weighted share of progress checks that pass, 0.0 when a guard fails (1.0 when
    every check passes)."""
    if not guards_hold(rubric, outcome):
        return 0.0
    if not rubric.weights:
        return 1.0 if outcome.success else 0.0
    passed = {check.name for check in outcome.checks if check.passed}
    earned = sum(weight for name, weight in rubric.weights.items() if name in passed)
    return earned / sum(rubric.weights.values())


def step_reward(
    mode: str, *, rubric: RewardRubric, outcome: Outcome, paid: Sequence[str], done: bool
) -> tuple[float, list[str]]:
    """The reward of one step, and the progress checks paid so far once it is counted.

    `outcome` is the verifier's verdict on the state after the step, `paid` the list this
    function returned for the episode's previous step (empty at the start), `done` whether the
    step ends the episode (terminated or truncated). Raises ValueError for an unknown mode.
    """
    _check_mode(mode)
    paid = list(paid)
    if mode == "sparse":
        return (outcome.reward if done else 0.0), paid
    if mode == "partial":
        return (partial_credit(rubric, outcome) if done else 0.0), paid
    if done and outcome.success:
        remainder = 1.0 - progress_paid(rubric, paid)
        return remainder, [*paid, *(name for name in rubric.progress_checks if name not in paid)]
    if not guards_hold(rubric, outcome):
        return 0.0, paid
    already = set(paid)
    earned = [
        check.name
        for check in outcome.checks
        if check.passed and check.name in rubric.progress_amounts and check.name not in already
    ]
    return sum(rubric.progress_amounts[name] for name in earned), [*paid, *earned]


def final_reward(
    mode: str, *, rubric: RewardRubric, outcome: Outcome, paid: Sequence[str] = ()
) -> float:
    """The episode's return in a mode: the sum of its step rewards, given the verdict on its
    last state and (for `progress`) the `paid` list after its last step. Raises ValueError for
    an unknown mode."""
    _check_mode(mode)
    if mode == "sparse":
        return outcome.reward
    if mode == "partial":
        return partial_credit(rubric, outcome)
    if outcome.success:
        return 1.0
    return progress_paid(rubric, paid)


def progress_paid(rubric: RewardRubric, paid: Sequence[str]) -> float:
    """What the progress checks in `paid` have paid so far (a running episode's return in
    `progress` mode)."""
    return sum(rubric.progress_amounts.get(name, 0.0) for name in paid)
