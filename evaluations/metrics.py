"""The evaluation report's figures, from the outcomes of the episodes a policy played (no
Django here: plain numbers in, plain numbers out).

- Success rate with its 95% Wilson score interval, which stays inside [0, 1] and is honest at
  small counts and at 0% or 100%, where the normal approximation collapses to a point.
- pass@k, the unbiased estimator of Chen et al. 2021 ("Evaluating Large Language Models
  Trained on Code"): the chance that at least one of k attempts drawn from a task's n succeeds,
  1 - C(n-c, k) / C(n, k) for c successes, averaged over tasks.
- pass^k, tau-bench's: the chance that all k attempts succeed, C(c, k) / C(n, k) per task,
  averaged over tasks. It falls as k grows unless the policy is reliable.

Both estimators need n >= k attempts of a task; a task with fewer (attempts lost to a model
server that never answered) counts only towards the smaller k it has.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# The 97.5th percentile of the standard normal: a two-sided 95% interval.
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Attempt:
    """One episode a policy played to its end: which task, and how it went."""

    family: str
    seed: int
    success: bool
    reward: float
    steps: int


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval for a binomial proportion; None without trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and {trials}, not {successes}")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chance that at least one of k attempts, drawn without replacement from n with c
    successes, succeeds."""
    _check(n, c, k)
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Chance that all k attempts, drawn without replacement from n with c successes,
    succeed (tau-bench's pass^k)."""
    _check(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


def _check(n: int, c: int, k: int) -> None:
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and n={n}, not {k}")
    if not 0 <= c <= n:
        raise ValueError(f"c must be between 0 and n={n}, not {c}")


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(attempts: Iterable[Attempt], *, k: int) -> dict[str, Any]:
    """The report's figures over `attempts`: counts, success rate and its interval, pass@j and
    pass^j for j = 1..k (keys are strings, for JSON), mean reward and mean steps."""
    attempts = list(attempts)
    by_task: dict[tuple[str, int], list[bool]] = {}
    for attempt in attempts:
        by_task.setdefault((attempt.family, attempt.seed), []).append(attempt.success)
    successes = sum(attempt.success for attempt in attempts)
    interval = wilson_interval(successes, len(attempts))
    pass_at: dict[str, float | None] = {}
    pass_hat: dict[str, float | None] = {}
    for j in range(1, k + 1):
        counted = [(len(runs), sum(runs)) for runs in by_task.values() if len(runs) >= j]
        pass_at[str(j)] = _mean([pass_at_k(n, c, j) for n, c in counted])
        pass_hat[str(j)] = _mean([pass_hat_k(n, c, j) for n, c in counted])
    return {
        "tasks": len(by_task),
        "episodes": len(attempts),
        "successes": successes,
        "success_rate": successes / len(attempts) if attempts else None,
        "success_interval": list(interval) if interval else None,
        "pass_at_k": pass_at,
        "pass_hat_k": pass_hat,
        "mean_reward": _mean([attempt.reward for attempt in attempts]),
        "mean_steps": _mean([attempt.steps for attempt in attempts]),
    }
