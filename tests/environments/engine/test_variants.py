"""UI variants: the default variant renders the pages of v1 byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from environments.engine import (
    RandomPolicy,
    Task,
    get_environment,
    list_environments,
    page_to_axtree,
    page_to_html,
    page_to_json,
    run_episode,
)
from environments.engine.variants import (
    CANONICAL,
    FOOTER_LINKS,
    REWORDED_ROLES,
    VARIANTS,
    WORDING,
    canonical_page,
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


@pytest.mark.parametrize("env_id", sorted(V1_DIGESTS))
def test_the_default_variant_renders_v1_pages_byte_for_byte(env_id):
    assert page_digest(get_environment(env_id)) == V1_DIGESTS[env_id]


# --- every variant: same task, same state machine, other pages ------------------------------

VARIANTS_SHOWN = [v for v in VARIANTS if v != "default"]
CASES = [(env, family) for env in list_environments() for family in sorted(env.families)]


def without_variant(state: dict) -> dict:
    return {k: v for k, v in state.items() if k not in ("variant", "dismissed", "steps")}


@pytest.mark.parametrize(("env", "family"), CASES, ids=lambda x: getattr(x, "id", x))
def test_the_solver_succeeds_in_every_variant_reaching_the_same_final_state(env, family):
    for seed in range(3):
        plain_states, _, plain = run_episode(env, env.make_task(family, seed), env.solver())
        for variant in VARIANTS_SHOWN:
            task = env.make_task(family, seed, variant)
            states, _, outcome = run_episode(env, task, env.solver())
            assert outcome.success, (variant, seed, outcome.failed())
            assert states[-1]["variant"] == variant
            # The same steps in meaning (bids differ) reach the same state: the state machine
            # did not change, and the verifier says the same.
            assert without_variant(states[-1]) == without_variant(plain_states[-1])
            assert outcome.checks == plain.checks


def signed_in_bank(variant: str) -> tuple:
    bank = get_environment("bank")
    task = bank.make_task("transfer_funds", 3, variant)
    state = bank.reset(task.seed, task)
    page = canonical_page(bank.render(state))
    state = bank.step(
        state, f"fill('{page.find('textbox', 'Username').bid}', '{task.params['username']}')"
    )
    page = canonical_page(bank.render(state))
    state = bank.step(
        state, f"fill('{page.find('textbox', 'Password').bid}', '{task.params['password']}')"
    )
    page = canonical_page(bank.render(state))
    return bank, task, bank.step(state, f"click('{page.find('button', 'Sign in').bid}')")


def names(page) -> set[str]:
    return {el.name for el in page.iter() if el.name}


def test_wording_renames_labels_and_only_labels():
    bank, _, state = signed_in_bank("wording")
    page = bank.render(state)
    shown = names(page)
    assert {"Log out", "Move money", "Site navigation"} <= shown
    assert not {"Sign out", "Transfers", "Main menu"} & shown
    plain = bank.render({k: v for k, v in state.items() if k != "variant"})
    cells = [el.name for el in plain.iter() if el.role == "cell"]
    assert [el.name for el in page.iter() if el.role == "cell"] == cells
    assert page_to_axtree(canonical_page(page)) == page_to_axtree(plain)


def test_layout_moves_the_menu_after_the_content_inside_a_list():
    bank, _, state = signed_in_bank("layout")
    page = bank.render(state)
    roots = [(el.role, el.name) for el in page.elements]
    assert roots == [
        ("navigation", "Breadcrumb"),
        ("section", "Main content"),
        ("navigation", "Main menu"),
    ]
    menu = page.elements[-1]
    assert [item.role for item in menu.children[0].children] == ["listitem"] * 8
    assert (
        page.find("link", "Accounts").bid
        != bank.render({**state, "variant": "default"}).find("link", "Accounts").bid
    )


def test_distractors_can_be_dismissed_and_never_reach_the_verifier():
    bank, task, state = signed_in_bank("distractors")
    page = bank.render(state)
    assert page.elements[0].name == "Cookie preferences"
    assert page.find("section", "Special offer") is not None  # from the third step on
    assert [el.name for el in page.find("navigation", "Footer").children] == list(FOOTER_LINKS)
    before = bank.evaluate(state, task)
    state = bank.step(state, f"click('{page.find('link', 'Privacy').bid}')")
    assert state["page"] == "accounts" and "dismissed" not in state
    state = bank.step(
        state, f"click('{bank.render(state).find('button', 'Accept all cookies').bid}')"
    )
    assert state["dismissed"] == ["cookies"]
    state = bank.step(state, f"click('{bank.render(state).find('button', 'No thanks').bid}')")
    assert state["dismissed"] == ["cookies", "promo"]
    page = bank.render(state)
    assert page.find("section", "Cookie preferences") is None
    assert page.find("section", "Special offer") is None
    assert bank.evaluate(state, task).to_dict() == before.to_dict()


def test_the_variant_is_kept_in_the_state_and_the_task():
    bank = get_environment("bank")
    task = bank.make_task("pay_bill", 5, "mixed")
    assert task.to_dict()["variant"] == "mixed"
    assert Task.from_dict(json.loads(json.dumps(task.to_dict()))) == task
    assert "variant" not in bank.make_task("pay_bill", 5).to_dict()
    state = bank.reset(task.seed, task)
    assert state["variant"] == "mixed"
    assert bank.reset(task.seed, task, variant="layout")["variant"] == "layout"
    assert "variant" not in bank.reset(task.seed)
    restored = json.loads(json.dumps(bank.step(state, "goto('cards')")))
    assert restored["variant"] == "mixed"
    assert bank.render(restored).find("section", "Cookie preferences") is not None


def test_an_unknown_variant_is_refused_naming_the_variants():
    bank = get_environment("bank")
    with pytest.raises(ValueError, match="unknown UI variant 'dark'; variants: default, wording"):
        bank.reset(1, variant="dark")
    with pytest.raises(ValueError, match="unknown UI variant"):
        bank.make_task("pay_bill", 1, "dark")


def test_reworded_labels_never_collide_with_a_label_of_another_element():
    assert len(set(WORDING.values())) == len(WORDING)
    assert not set(WORDING.values()) & set(WORDING)
    for env in list_environments():
        for family in env.families:
            for seed in range(3):
                task = env.make_task(family, seed)
                for policy in (env.solver(), RandomPolicy(seed)):
                    states, _, _ = run_episode(env, task, policy)
                    for state in states:
                        for el in env.render(state).iter():
                            if el.role in REWORDED_ROLES:
                                assert el.name not in CANONICAL, (env.id, el.role, el.name)
