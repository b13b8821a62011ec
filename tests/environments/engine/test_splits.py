"""Splits: disjoint seed ranges, and held-out families in test only."""

import json
import random

import pytest

from environments.engine import get_environment
from environments.engine.splits import (
    SPLITS,
    draw_seed,
    environment_splits,
    split_families,
    split_of_seed,
    split_of_task,
    split_seed_range,
    split_variants,
)
from environments.engine.variants import VARIANTS
from tests.environments.engine.episodes import ENV_IDS


def test_the_seed_ranges_are_disjoint_and_each_seed_has_one_split():
    ranges = [split_seed_range(split) for split in SPLITS]
    for i, first in enumerate(ranges):
        for second in ranges[i + 1 :]:
            assert first.stop <= second.start or second.stop <= first.start
    for split, seeds in zip(SPLITS, ranges, strict=True):
        assert split_of_seed(seeds.start) == split
        assert split_of_seed(seeds.stop - 1) == split
        assert split_of_seed(seeds.stop) != split
    assert split_of_seed(0) == "train"
    assert split_of_seed(1_500_000) is None
    assert split_of_seed(-1) is None


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_heldout_families_are_in_test_only(env_id):
    env = get_environment(env_id)
    assert 1 <= len(env.heldout_families) <= 2
    assert set(env.heldout_families) <= set(env.families)
    train = split_families(env_id, "train")
    assert len(train) > len(env.families) / 2
    for split in ("train", "validation"):
        assert not set(split_families(env_id, split)) & set(env.heldout_families)
    assert split_families(env_id, "validation") == train
    assert split_families(env_id, "test") == list(env.families)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_an_environments_splits_as_json(env_id):
    described = json.loads(json.dumps(environment_splits(env_id)))
    env = get_environment(env_id)
    assert described["environment"] == env.id
    assert described["heldout_families"] == list(env.heldout_families)
    assert described["heldout_variants"] == ["mixed"] == list(env.heldout_variants)
    for split in SPLITS:
        seeds = split_seed_range(split)
        assert described["splits"][split] == {
            "seed_from": seeds.start,
            "seed_to": seeds.stop - 1,
            "families": split_families(env_id, split),
            "variants": split_variants(env_id, split),
        }


@pytest.mark.parametrize("split", SPLITS)
def test_a_drawn_seed_is_in_its_split_and_reproducible(split):
    seeds = [draw_seed(random.Random(7), split) for _ in range(2)]
    assert seeds[0] == seeds[1]
    rng = random.Random(1)
    drawn = {draw_seed(rng, split) for _ in range(200)}
    assert len(drawn) > 190
    assert all(split_of_seed(seed) == split for seed in drawn)
    assert draw_seed(random.Random(3)) in split_seed_range("train")


def test_unknown_splits_are_refused():
    for call in (
        lambda: split_seed_range("dev"),
        lambda: split_families("bank", "dev"),
        lambda: draw_seed(random.Random(), "dev"),
    ):
        with pytest.raises(ValueError, match="'dev'"):
            call()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_held_out_ui_variants_render_only_in_the_test_split(env_id):
    env = get_environment(env_id)
    assert env.heldout_variants and set(env.heldout_variants) <= set(VARIANTS)
    for split in ("train", "validation"):
        assert not set(split_variants(env_id, split)) & set(env.heldout_variants)
        assert "default" in split_variants(env_id, split)
    assert split_variants(env_id, "test") == list(VARIANTS)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_task_is_in_its_seeds_split_unless_its_family_or_variant_is_held_out(env_id):
    env = get_environment(env_id)
    family = split_families(env_id, "train")[0]
    for split in SPLITS:
        seed = split_seed_range(split, env_id=env_id).start
        assert split_of_task(env_id, family, seed) == split
        assert split_of_task(env_id, family, seed, "default") == split
        # A held-out family or UI variant is in test only: on other seeds, in no split.
        held_out = "test" if split == "test" else None
        for heldout_family in env.heldout_families:
            assert split_of_task(env_id, heldout_family, seed) == held_out
        for variant in env.heldout_variants:
            assert split_of_task(env_id, family, seed, variant) == held_out
    beyond = split_seed_range("test", env_id=env_id).stop
    assert split_of_task(env_id, family, beyond) is None
