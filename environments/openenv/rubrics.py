"""Rubric manifests: each task family's reward as named criteria, in the shape NeMo-Gym,
verifiers and OpenEnv's rubrics share (name, weight, kind, scale, description), plus each
programmatic criterion's `role` in the reward modes (the engine's `reward_rubric`): a
`progress` check earns its weight's share of partial and progress credit, a `guard` check
earns nothing and withholds that credit when it fails.

The programmatic criteria are the verifier's own checks, found by running it: on the initial
state (where every check reports, passing or not) and on the scripted solver's final state for
a few seeds. So a manifest cannot drift from what the verifier checks. (The checks' details are
left out: they quote the expected answers.) The human criterion is the outcome rating graders give;
it trains reward models and judges and measures whether the checks are right, and weighs
nothing in the online reward.

No Django here: the manifest is a function of the engine alone.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from environments.engine import get_environment, run_episode
from environments.engine.rewards import PROGRESS_SHARE, REWARD_MODES, reward_rubric

RUBRIC_VERSION = 2
# A criterion's part in the reward modes (see the module's docstring).
CRITERION_ROLES = ("progress", "guard", "none")
SEEDS = (0, 1, 2, 3)
HUMAN_SCALE = {"type": "ordinal", "min": 1, "max": 5}


def _describe(name: str) -> str:
    if name == "no_collateral_damage":
        return "nothing changed that the task did not ask for (collateral damage fails the task)"
    if name == "answer":
        return (
            "the answer sent with send_msg_to_user names exactly one amount, equal to the "
            "expected one (compared as numbers: '$1,234.50' and '1234.5' match)"
        )
    if name.startswith("one_"):
        what = name.removeprefix("one_").removeprefix("new_").replace("_", " ")
        return f"exactly one new {what} was made"
    return f"the {name.replace('_', ' ')} is what the task asks for"


@lru_cache(maxsize=256)
def family_rubric(env_id: str, family: str) -> dict[str, Any]:
    """The rubric manifest of a task family. Raises KeyError for an unknown one."""
    env = get_environment(env_id)
    task_family = env.families[family]
    names: dict[str, None] = {}
    for seed in SEEDS:
        task = env.make_task(family, seed)
        initial = env.reset(seed, task)
        for check in task_family.verify(initial, initial, task.params).checks:
            names.setdefault(check.name)
        _, _, outcome = run_episode(env, task, env.solver())
        for check in outcome.checks:
            names.setdefault(check.name)
    rewarded = reward_rubric(env.id, family)
    total = sum(rewarded.weights.values())
    criteria = [
        {
            "name": name,
            "kind": "programmatic",
            "role": "progress" if name in rewarded.weights else "guard",
            "weight": round(rewarded.weights[name] / total, 6) if name in rewarded.weights else 0.0,
            "scale": {"type": "binary", "values": [0.0, 1.0]},
            "description": _describe(name),
        }
        for name in names
    ]
    criteria.append(
        {
            "name": "human_outcome",
            "kind": "human",
            "role": "none",
            "weight": 0.0,
            "scale": HUMAN_SCALE,
            "description": (
                "a grader's outcome rating of the whole episode (1: failed, 5: done well), "
                "normalised to [0, 1] as (rating - 1) / 4 in reward_components"
            ),
        }
    )
    return {
        "version": RUBRIC_VERSION,
        "environment": env.id,
        "family": family,
        "title": task_family.title,
        "description": task_family.description,
        "reward": {
            "range": [0.0, 1.0],
            "aggregation": "all_pass",
            "modes": list(REWARD_MODES),
            "description": (
                "an episode's reward mode is chosen when it starts. sparse (the default): 1.0 "
                "at the last step when every programmatic criterion passes, else 0.0. partial: "
                "at the last step, the weights of the progress criteria that pass, 0.0 if a "
                "guard fails. progress: a step that first makes a progress criterion pass, with "
                f"every guard holding, earns its weight's share of {PROGRESS_SHARE:g} (once an "
                "episode), and a successful last step the rest: 1.0 in all on success, at most "
                f"{PROGRESS_SHARE:g} otherwise. reward_components gives each criterion in [0, 1]"
            ),
        },
        "criteria": criteria,
    }


def reward_components(
    *, env_id: str, family: str, outcome: dict | None, human_ratings: list[int] | None = None
) -> dict[str, float | None]:
    """Every criterion of the family's rubric with its value in [0, 1], or None when it has
    none yet (an unfinished episode, an ungraded one)."""
    rubric = family_rubric(env_id, family)
    programmatic = (outcome or {}).get("reward_components", {})
    values: dict[str, float | None] = {}
    for criterion in rubric["criteria"]:
        if criterion["kind"] == "programmatic":
            values[criterion["name"]] = programmatic.get(criterion["name"]) if outcome else None
        elif criterion["name"] == "human_outcome":
            if human_ratings:
                mean = sum(human_ratings) / len(human_ratings)
                low, high = HUMAN_SCALE["min"], HUMAN_SCALE["max"]
                values["human_outcome"] = round((mean - low) / (high - low), 6)
            else:
                values["human_outcome"] = None
    return values
