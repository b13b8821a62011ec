"""Helpers for the engine tests: scripted-solver episodes of every environment, run once."""

from __future__ import annotations

from functools import cache

from environments.engine import Page, get_environment, list_environments, run_episode
from environments.engine.page import page_to_axtree

ENV_IDS = [env.id for env in list_environments()]
SEEDS = range(5)


@cache
def solver_episodes(env_id: str) -> list[tuple[str, int, list[dict], list[str]]]:
    """(family, seed, states, actions) of the solver's episode on each family and seed."""
    env = get_environment(env_id)
    episodes = []
    for family in env.families:
        for seed in SEEDS:
            states, actions, outcome = run_episode(env, env.make_task(family, seed), env.solver())
            assert outcome.success, (family, seed)
            episodes.append((family, seed, states, actions))
    return episodes


def longest_pages(env_id: str, count: int = 3) -> list[Page]:
    """The solver episodes' pages with the longest axtrees, longest first."""
    env = get_environment(env_id)
    pages = {}
    for _, _, states, _ in solver_episodes(env_id):
        for state in states:
            page = env.render(state)
            pages[page_to_axtree(page)] = page
    return [pages[text] for text in sorted(pages, key=len, reverse=True)[:count]]
