"""Every bank task is solvable by acting on pages, deterministically; acting at random is not
enough."""

import pytest

from environments.engine import RandomPolicy, page_to_axtree, page_to_html, run_episode
from tests.environments.engine.bank_steps import BANK, dump

FAMILIES = sorted(BANK.families)
SEEDS = range(50)


def test_the_bank_has_at_least_six_task_families():
    assert len(FAMILIES) >= 6


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_scripted_solver_succeeds(family, seed):
    task = BANK.make_task(family, seed)
    states, actions, outcome = run_episode(BANK, task, BANK.solver())
    assert outcome.success, outcome.failed()
    assert outcome.reward == 1.0
    assert len(actions) <= task.max_steps
    assert states[-1]["finished"]


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_and_actions_give_identical_states_and_pages(family):
    for seed in (0, 7, 31):
        runs = []
        for _ in range(2):
            task = BANK.make_task(family, seed)
            states, actions, outcome = run_episode(BANK, task, BANK.solver())
            pages = [BANK.render(s) for s in states]
            runs.append(
                (
                    [dump(s) for s in states],
                    actions,
                    [page_to_axtree(p) for p in pages],
                    [page_to_html(p) for p in pages],
                    outcome.to_dict(),
                )
            )
        assert runs[0] == runs[1]


def test_different_seeds_give_different_tasks():
    for family in FAMILIES:
        goals = {BANK.make_task(family, seed).goal for seed in range(20)}
        assert len(goals) >= 15, family


def test_doing_nothing_never_succeeds():
    for family in FAMILIES:
        for seed in range(20):
            task = BANK.make_task(family, seed)
            assert not BANK.evaluate(BANK.reset(seed, task), task).success


class SignedInRandom(RandomPolicy):
    """Random after a correct sign-in, so the random part meets the real pages."""

    def act(self, task, page, state_view=None):
        field = {"Username": "username", "Password": "password"}
        for name, param in field.items():
            box = page.find("textbox", name)
            if box is not None and box.value != task.params[param]:
                return f"fill('{box.bid}', {task.params[param]!r})"
        if page.find("button", "Sign in") is not None:
            return f"click('{page.find('button', 'Sign in').bid}')"
        return super().act(task, page, state_view)


@pytest.mark.parametrize("policy_class", [RandomPolicy, SignedInRandom])
def test_random_policies_rarely_succeed(policy_class):
    runs = successes = 0
    for family in FAMILIES:
        for seed in range(40):
            task = BANK.make_task(family, seed)
            _, _, outcome = run_episode(BANK, task, policy_class(seed), max_steps=40)
            runs += 1
            successes += outcome.success
    assert successes / runs < 0.05


# Seeds whose checking account ends the history overdrawn or under $50 (a few in a thousand):
# their payments, transfers out of checking and sends to a new payee once asked for more than
# checking held, which the site refuses, or failed to make a task at all.
LOW_CHECKING_SEEDS = (958, 1615, 1000632, 1000697)


@pytest.mark.parametrize("seed", LOW_CHECKING_SEEDS)
@pytest.mark.parametrize("family", ["pay_bill", "transfer_funds", "add_payee_and_send"])
def test_tasks_are_solvable_when_checking_runs_low(family, seed):
    checking = BANK.reset(seed)["accounts"][0]
    assert checking["kind"] == "checking" and checking["balance"] < 50_00
    task = BANK.make_task(family, seed)
    _, _, outcome = run_episode(BANK, task, BANK.solver())
    assert outcome.success, outcome.failed()
