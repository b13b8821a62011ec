"""The TRL factory's default observations fit a whole scripted-solver episode of every
environment in the completion length examples/train_grpo.py uses by default (its defaults are
these constants; bench/observation_budget.py prints the figures)."""

import pytest

from bench.observation_budget import longest
from environments.engine import get_environment, list_environments, run_episode
from environments.engine.observe import observe
from environments.engine.splits import split_seed_range
from environments.engine.variants import VARIANTS
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


@pytest.mark.parametrize("env_id", [env.id for env in list_environments()])
def test_no_solver_page_is_cut_by_the_default_budget_in_any_ui_variant(env_id):
    # The other variants' labels, layouts and distractors lengthen pages: at 4,000 characters
    # a few ledger and airline pages lost their last rows, once the element to act on next.
    env = get_environment(env_id)
    longest_page = 0
    for family in env.families:
        for seed in (*range(3), *split_seed_range("test", env_id=env_id)[:2]):
            for variant in VARIANTS:
                task = env.make_task(family, seed, variant)
                states, _, _ = run_episode(env, task, env.solver())
                for state in states:
                    page = observe(env.render(state), "pruned")
                    longest_page = max(longest_page, len(page))
    assert longest_page <= DEFAULT_MAX_OBSERVATION_CHARS
