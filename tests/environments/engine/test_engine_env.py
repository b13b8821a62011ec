"""The Environment contract, exercised on the bank: reset, step, render, evaluate, registry."""

import json
import re

import pytest

from environments.engine import (
    Action,
    ActionError,
    Environment,
    Task,
    get_environment,
    list_environments,
    parse_action,
    run_episode,
)
from environments.engine.bank.world import _generate, build_world
from tests.environments.engine.bank_steps import (
    BANK,
    answer,
    choose,
    click,
    dump,
    fill,
    find,
    signed_in,
)


@pytest.fixture
def task() -> Task:
    return BANK.make_task("transfer_funds", 11)


@pytest.fixture
def history(task) -> dict:
    """Signed in, on the first page of the checking account's activity."""
    return BANK.step(signed_in(task), "goto('history')")


def test_registry_finds_the_bank_by_every_id_form():
    env = get_environment("bank-v1")
    assert env is get_environment("bank") is get_environment("rlplatform/bank-v1")
    assert env.id == "bank-v1"
    assert isinstance(env, Environment)
    assert env in list_environments()
    with pytest.raises(KeyError, match="no environment named 'casino'"):
        get_environment("casino")
    with pytest.raises(KeyError, match="bank-v9"):
        get_environment("bank-v9")


@pytest.mark.parametrize("env_id", ["bank-v" + "9" * 5000, "bank-v\u0661", "bank-v\uff11"])
def test_registry_refuses_a_version_that_is_not_a_few_ascii_digits(env_id):
    # int() refuses 5,000 digits with a ValueError, and reads "\u0661" as 1.
    with pytest.raises(KeyError, match="not an environment id"):
        get_environment(env_id)


def test_reset_is_deterministic_json_and_starts_signed_out(task):
    state = BANK.reset(task.seed, task)
    assert dump(state) == dump(BANK.reset(task.seed, task))
    assert json.loads(json.dumps(state)) == state
    assert state["page"] == "signin" and not state["signed_in"]
    assert not state["finished"] and state["answer"] is None and state["steps"] == 0
    assert dump(BANK.reset(12)) != dump(state)


def test_reset_refuses_a_task_made_for_another_seed(task):
    with pytest.raises(ValueError, match="generated for seed 11"):
        BANK.reset(12, task)


def test_a_json_round_tripped_state_steps_exactly_like_the_original(history):
    reloaded = json.loads(json.dumps(history))
    action = f"click('{find(history, 'button', 'Next page').bid}')"
    assert dump(BANK.step(reloaded, action)) == dump(BANK.step(history, action))


def test_stepping_with_the_page_a_caller_kept_matches_rendering_it():
    env = get_environment("bank-v1")
    for seed in range(3):
        task = env.make_task("transfer_funds", seed)
        state = env.reset(seed, task)
        for action in run_episode(env, task, env.solver())[1]:
            kept = env.build_page(json.loads(json.dumps(state)))
            assert dump(env.step(state, action, kept)) == dump(env.step(state, action))
            state = env.step(state, action)


def test_wrong_password_shows_an_error_and_stays_signed_out(task):
    state = BANK.reset(task.seed, task)
    state = fill(state, "Username", task.params["username"])
    state = fill(state, "Password", "wrong")
    state = click(state, "button", "Sign in")
    assert not state["signed_in"] and state["page"] == "signin"
    assert find(state, "alert", None).name.startswith("Error: Incorrect username or password")
    assert find(state, "textbox", "Password").value == ""


def test_goto_before_signing_in_leads_back_to_sign_in(task):
    state = BANK.step(BANK.reset(task.seed, task), "goto('transfers')")
    assert state["page"] == "signin"
    assert find(state, "alert", None).name == "Error: Please sign in to continue."


@pytest.mark.parametrize(
    ("action", "code", "message"),
    [
        ("click('999')", "unknown_bid", "bid '999' does not exist on this page"),
        ("fill('{apply}', 'x')", "not_interactive", "is a button, which cannot be filled"),
        ("check('{apply}')", "not_interactive", "is a button, which cannot be checked"),
        ("select_option('{search}', 'x')", "not_interactive", "is a textbox, which has no options"),
        ("select_option('{month}', 'Smarch 2024')", "illegal_value", "is not an option of"),
        ("goto('casino')", "illegal_value", "goto accepts: accounts, history"),
        ("click('{prev}')", "disabled", "'Previous page' is disabled"),
        ("fill('{search}', '" + "x" * 1001 + "')", "illegal_value", "at most 1000"),
        ("explode('1')", "unknown_action", "unknown action 'explode'"),
        ("click(", "malformed_action", "could not parse"),
    ],
)
def test_invalid_actions_raise_and_leave_the_state_untouched(history, action, code, message):
    bids = {
        "apply": find(history, "button", "Apply filters").bid,
        "search": find(history, "textbox", "Search description").bid,
        "month": find(history, "select", "Month").bid,
        "prev": find(history, "button", "Previous page").bid,
    }
    before = dump(history)
    with pytest.raises(ActionError) as exc:
        BANK.step(history, action.format(**bids))
    assert exc.value.code == code
    assert message in exc.value.message
    assert dump(history) == before


def test_no_action_is_accepted_after_the_message(history):
    done = answer(history, "finished")
    assert done["finished"] and done["answer"] == "finished"
    before = dump(done)
    for action in ("noop()", "goto('accounts')", "click('1')", "send_msg_to_user('again')"):
        with pytest.raises(ActionError) as exc:
            BANK.step(done, action)
        assert exc.value.code == "episode_finished"
    assert dump(done) == before


def test_steps_never_modify_their_input_state():
    for family in BANK.families:
        task = BANK.make_task(family, 4)
        states, actions, _ = run_episode(BANK, task, BANK.solver())
        for state, action in zip(states, actions, strict=False):
            before = dump(state)
            BANK.step(json.loads(before), action)
            BANK.step(state, action)
            assert dump(state) == before
    # States share the cached seed data; no episode may have changed it.
    assert dump(build_world(4)) == dump(_generate.__wrapped__(4))


def test_click_on_an_input_is_a_harmless_focus(history):
    state = BANK.step(history, f"click('{find(history, 'textbox', 'Search description').bid}')")
    assert state["steps"] == history["steps"] + 1
    assert {**state, "steps": 0} == {**history, "steps": 0}


def test_filters_apply_only_when_asked_and_paginate(history):
    state = choose(history, "Category", "Groceries")
    rows_before = BANK.render(state).find("table", "Transactions").children
    assert any(r.children[2].name != "Groceries" for r in rows_before[1:])
    state = click(state, "button", "Apply filters")
    rows = BANK.render(state).find("table", "Transactions").children[1:]
    assert rows and all(r.children[2].name == "Groceries" for r in rows)
    assert find(state, "button", "Previous page").disabled
    state = click(state, "button", "Next page")
    assert "Page 2 of" in BANK.render(state).find(contains="Page 2 of").name


# A fill whose value is a number, an amount or a date, as the solvers type them.
_NUMERIC_FILL = re.compile(r"[0-9$.,/ :-]*[0-9][0-9$.,/ :-]*")
_NOT_DIGITS = str.maketrans("0123456789", "oIZEhSGLBq")


def _replayed(env: Environment, task: Task, actions: list[str], digits: dict) -> bool:
    """Whether the solver's actions, their typed numbers' digits replaced, still solve the task."""
    state = env.reset(task.seed, task)
    for action in map(parse_action, actions):
        if action.name == "fill" and _NUMERIC_FILL.fullmatch(action.args["value"]):
            action = Action(
                "fill", {**action.args, "value": action.args["value"].translate(digits)}
            )
        try:
            state = env.step(state, action)
        except ActionError:
            break
    return env.evaluate(state, task).success


@pytest.mark.parametrize(
    "digits",
    [
        "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",
        "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",
        "\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f",
    ],
    ids=["arabic-indic", "fullwidth", "devanagari"],
)
def test_no_site_reads_unicode_digits_as_numbers(digits):
    """Every site reads amounts, counts and dates in ASCII digits only, as a real site's server
    does: a solved task replayed with its numbers typed in another script's digits ends as it
    does with letters typed in their place (an answer task may still succeed either way)."""
    unicode_digits = str.maketrans("0123456789", digits)
    numbers_mattered = []
    for env in list_environments():
        for family in env.families:
            task = env.make_task(family, 5)
            _, actions, outcome = run_episode(env, task, env.solver())
            assert outcome.success, f"{env.id}/{family}: the solver failed"
            nonsense = _replayed(env, task, actions, _NOT_DIGITS)
            assert _replayed(env, task, actions, unicode_digits) == nonsense, f"{env.id}/{family}"
            if not nonsense:
                numbers_mattered.append(f"{env.id}/{family}")
    assert len(numbers_mattered) >= 10, numbers_mattered


def test_insufficient_funds_is_an_alert_not_an_error(task):
    state = BANK.step(signed_in(task), "goto('transfers')")
    accounts = {a["id"]: a for a in state["accounts"]}
    state = choose(state, "From", accounts["sav"]["name"])
    state = click(state, "button", "Review transfer")
    assert find(state, "alert", None).name == "Error: Choose where to send the money."
    too_much = accounts["sav"]["balance"] + 100
    state = choose(state, "To", accounts["chk"]["name"])
    state = fill(state, "Amount", f"{too_much // 100}.{too_much % 100:02d}", role="number")
    state = click(state, "button", "Review transfer")
    assert find(state, "alert", None).name.startswith("Error: Insufficient funds")
    assert state["page"] == "transfers" and state["transfers"] == []


def test_task_serialises_and_every_family_documents_itself():
    for family in BANK.families.values():
        task = family.make_task(5)
        assert Task.from_dict(json.loads(json.dumps(task.to_dict()))) == task
        assert "verifier" in family.description.lower()
        assert "{" not in task.goal
        assert task.params == family.params(5)
