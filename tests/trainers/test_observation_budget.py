"""The TRL factory's default observations fit a whole scripted-solver episode of every
environment in the completion length examples/train_grpo.py uses by default (its defaults are
these constants; bench/observation_budget.py prints the figures)."""

import pytest

from bench.observation_budget import longest
from environments.engine import list_environments
from environments.trainers.grpo import (
    CHARS_PER_TOKEN,
    DEFAULT_MAX_OBSERVATION_CHARS,
    DEFAULT_OBSERVATION_MODE,
    RECOMMENDED_MAX_COMPLETION_LENGTH,
    RECOMMENDED_MAX_TOOL_CALLS,
)


@pytest.mark.parametrize("env_id", [env.id for env in list_environments()])
def test_the_longest_solver_episode_fits_the_completion_length(env_id):
    chars, steps, family, seed = longest(
        env_id, DEFAULT_OBSERVATION_MODE, DEFAULT_MAX_OBSERVATION_CHARS, range(20)
    )
    assert 1 < steps <= RECOMMENDED_MAX_TOOL_CALLS
    assert chars / CHARS_PER_TOKEN <= RECOMMENDED_MAX_COMPLETION_LENGTH, (family, seed, chars)
