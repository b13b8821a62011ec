"""Train, validation and test splits: disjoint seed ranges, and task families held out of
training.

A task is a family and a seed, so a split is a seed range and the families it draws on. The
ranges are the same for every environment and family unless an environment overrides them
(`Environment.split_seeds`). Each environment holds one or two of its families out
(`Environment.heldout_families`): they are in `test` only, so an evaluation on `test` measures
both unseen seeds of trained families and families never trained on. UI variants
(variants.py) are held out the same way (`Environment.heldout_variants`, "mixed" for the
built-in environments): `test` renders every variant, so an evaluation can report success on
interfaces never trained on beside the seen ones.
"""

from __future__ import annotations

import random

from .registry import get_environment
from .variants import VARIANTS

SPLITS = ("train", "validation", "test")
# Half-open [from, to) seed ranges, far apart so that a range can grow without meeting the next.
SEED_RANGES: dict[str, tuple[int, int]] = {
    "train": (0, 1_000_000),
    "validation": (1_000_000, 1_010_000),
    "test": (2_000_000, 2_010_000),
}


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; splits: {', '.join(SPLITS)}")


def _ranges(env_id: str | None) -> dict[str, tuple[int, int]]:
    if env_id is None:
        return SEED_RANGES
    return get_environment(env_id).split_seeds or SEED_RANGES


def split_seed_range(split: str, *, env_id: str | None = None) -> range:
    """The seeds of a split (an environment's own, when it overrides the ranges)."""
    _check_split(split)
    start, stop = _ranges(env_id)[split]
    return range(start, stop)


def split_of_seed(seed: int, *, env_id: str | None = None) -> str | None:
    """The split a seed belongs to, or None for a seed outside every split's range."""
    for split, (start, stop) in _ranges(env_id).items():
        if start <= seed < stop:
            return split
    return None


def split_of_task(env_id: str, family: str, seed: int, variant: str | None = None) -> str | None:
    """The split a task (shown in `variant`, when given) belongs to: its seed's split, except
    that a held-out family or UI variant is in `test` only, so on a train or validation seed
    it is in no split (None), as is a seed outside every split's range. Exports label their
    rows with it, so that a training set can leave out every row of a test task."""
    split = split_of_seed(seed, env_id=env_id)
    if split is None or split == "test":
        return split
    env = get_environment(env_id)
    if family in env.heldout_families or variant in env.heldout_variants:
        return None
    return split


def split_families(env_id: str, split: str) -> list[str]:
    """The task families a split draws on: every family in `test`, all but the held-out ones
    in `train` and `validation`."""
    _check_split(split)
    env = get_environment(env_id)
    if split == "test":
        return list(env.families)
    return [family for family in env.families if family not in env.heldout_families]


def split_variants(env_id: str, split: str) -> list[str]:
    """The UI variants a split renders: every variant in `test`, all but the held-out ones in
    `train` and `validation`."""
    _check_split(split)
    env = get_environment(env_id)
    if split == "test":
        return list(VARIANTS)
    return [variant for variant in VARIANTS if variant not in env.heldout_variants]


def draw_seed(rng: random.Random, split: str = "train", *, env_id: str | None = None) -> int:
    """A seed of the split, drawn with `rng` (pass a seeded one for a reproducible draw)."""
    seeds = split_seed_range(split, env_id=env_id)
    return rng.randrange(seeds.start, seeds.stop)


def family_of_seed(env_id: str, seed: int) -> str:
    """The family a seed alone starts, the same in every interface: the seed picks among its
    split's families (so a train seed never picks a held-out one); a seed outside every split
    picks among all of the environment's families."""
    split = split_of_seed(seed, env_id=env_id)
    families = split_families(env_id, split) if split else list(get_environment(env_id).families)
    return random.Random(seed).choice(sorted(families))


def environment_splits(env_id: str) -> dict:
    """An environment's splits as JSON: each split's inclusive `seed_from` and `seed_to` and
    its families and UI variants, and the held-out families and UI variants."""
    env = get_environment(env_id)
    splits = {}
    for split in SPLITS:
        seeds = split_seed_range(split, env_id=env_id)
        splits[split] = {
            "seed_from": seeds.start,
            "seed_to": seeds.stop - 1,
            "families": split_families(env_id, split),
            "variants": split_variants(env_id, split),
        }
    return {
        "environment": env.id,
        "splits": splits,
        "heldout_families": list(env.heldout_families),
        "heldout_variants": list(env.heldout_variants),
    }
