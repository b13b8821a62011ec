"""UI variants: the default variant renders the pages of v1 byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from environments.engine import (
    RandomPolicy,
    list_environments,
    page_to_axtree,
    page_to_html,
    page_to_json,
    run_episode,
)

# sha256 of the pages below, rendered before variants existed (they must never change).
V1_DIGESTS = json.loads((Path(__file__).parent / "v1_page_digests.json").read_text())


def page_digest(env) -> str:
    """Every page of the solver's and a random policy's episodes, 4 seeds a family."""
    digest = hashlib.sha256()
    for family in sorted(env.families):
        for seed in range(4):
            task = env.make_task(family, seed)
            for policy in (env.solver(), RandomPolicy(seed)):
                states, _, _ = run_episode(env, task, policy, max_steps=25)
                for state in states:
                    page = env.render(state)
                    digest.update(page_to_axtree(page).encode())
                    digest.update(page_to_html(page).encode())
                    digest.update(json.dumps(page_to_json(page), sort_keys=True).encode())
    return digest.hexdigest()


@pytest.mark.parametrize("env", list_environments(), ids=lambda env: env.id)
def test_the_default_variant_renders_v1_pages_byte_for_byte(env):
    assert page_digest(env) == V1_DIGESTS[env.id]
