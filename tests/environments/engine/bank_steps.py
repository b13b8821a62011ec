"""Helpers for the engine tests: drive the bank by roles and names, as an agent would."""

from __future__ import annotations

import json
from dataclasses import replace

from environments.engine import Task, get_environment, run_episode
from environments.engine.page import Element, quote

BANK = get_environment("bank")


def dump(state: dict) -> str:
    return json.dumps(state, sort_keys=True)


def find(state: dict, role: str, name: str, within: str | None = None) -> Element:
    """The element with this role and name on the page (inside the form/section/row named
    `within`, if given)."""
    page = BANK.render(state)
    scope = page
    if within is not None:
        scope = next(el for el in page.iter() if el.name == within and not el.interactive)
    el = scope.find(role, name)
    assert el is not None, f"no {role} {name!r} on {page.url}"
    return el


def click(state: dict, role: str, name: str, within: str | None = None) -> dict:
    return BANK.step(state, f"click({quote(find(state, role, name, within).bid)})")


def fill(state: dict, name: str, value: str, role: str = "textbox") -> dict:
    return BANK.step(state, f"fill({quote(find(state, role, name).bid)}, {quote(value)})")


def choose(state: dict, name: str, option: str) -> dict:
    el = find(state, "select", name)
    label = next(o for o in el.options if o.startswith(option))
    return BANK.step(state, f"select_option({quote(el.bid)}, {quote(label)})")


def answer(state: dict, text: str) -> dict:
    return BANK.step(state, f"send_msg_to_user({quote(text)})")


def signed_in(task: Task) -> dict:
    state = BANK.reset(task.seed, task)
    state = fill(state, "Username", task.params["username"])
    state = fill(state, "Password", task.params["password"])
    return click(state, "button", "Sign in")


def solve(task: Task, *, stop_before_message: bool = False, **changed_params: object) -> dict:
    """The final state the scripted solver reaches, optionally for altered params (to make a
    wrong trajectory) and stopping before its closing message (to act further)."""
    run_task = replace(task, params={**task.params, **changed_params})
    states, actions, _ = run_episode(BANK, run_task, BANK.solver())
    assert actions[-1].startswith("send_msg_to_user"), actions
    return states[-2] if stop_before_message else states[-1]
