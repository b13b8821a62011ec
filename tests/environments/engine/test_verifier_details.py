"""The details of a verifier's checks are shown to contractors and managers on the play page:
they read as a person would write them, never as Python values or internal ids."""

import re

import pytest

from environments.engine import get_environment, run_episode
from environments.engine.policies import RandomPolicy
from environments.engine.tasks import check_field, shown
from tests.environments.engine.episodes import ENV_IDS, solver_episodes

# A quoted id ('e5', 'p17-white-s', 'W49468'), a list or dict repr, a tuple repr, or None.
PYTHON_VALUE = re.compile(r"'[A-Za-z]{0,3}-?\d[\w-]*'|\[\[|\[\]|\['|\{'|\('|\bNone\b")


class WrongAnswer:
    """Does nothing on the site and answers with a number no task asks for."""

    def reset(self, task):
        pass

    def act(self, task, page, state_view=None):
        return 'send_msg_to_user("It is 7.")'


def python_values(outcome) -> list[str]:
    return [f"{c.name}: {c.detail}" for c in outcome.checks if PYTHON_VALUE.search(c.detail)]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_passed_episode_shows_its_checks_without_python_values(env_id):
    env = get_environment(env_id)
    for family, seed, states, _ in solver_episodes(env_id):
        outcome = env.evaluate(states[-1], env.make_task(family, seed))
        assert outcome.success
        assert python_values(outcome) == [], (family, seed)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_failed_episode_shows_its_checks_without_python_values(env_id):
    env = get_environment(env_id)
    for family in env.families:
        for seed in range(3):
            task = env.make_task(family, seed)
            _, _, idle = run_episode(env, task, WrongAnswer())
            assert not idle.success
            assert python_values(idle) == [], (family, seed)
            _, _, random = run_episode(env, task, RandomPolicy(seed))
            assert python_values(random) == [], (family, seed)


def test_a_field_check_says_what_was_found_instead_of_what_was_asked():
    def money(cents):
        return f"${cents / 100:,.2f}"

    assert check_field("total", 1250, 1250, money).to_dict() == {
        "name": "total",
        "passed": True,
        "detail": "$12.50",
    }
    failed = check_field("total", None, 1250, lambda v: money(v) if v else shown(v))
    assert (failed.passed, failed.detail) == (False, "nothing instead of $12.50")
    missing = check_field("total", None, None, missing="no order was placed")
    assert (missing.passed, missing.detail) == (False, "no order was placed")


def test_values_are_shown_without_quotes_brackets_or_none():
    assert shown(None) == shown("") == shown([]) == "nothing"
    assert shown(["Visa", "Amex"]) == "Visa, Amex"
    assert shown({"name": "Aisha Reyes", "city": "Savannah", "zip": None}) == (
        "Aisha Reyes, Savannah"
    )
    assert shown(True) == "yes"
    assert shown(1250) == "1250"
