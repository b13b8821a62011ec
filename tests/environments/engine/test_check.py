"""The environment checker (`python -m environments.engine.check`): every built-in environment
passes it, and deliberately broken toy environments fail it with the reason."""

from __future__ import annotations

import random

import pytest

from environments.engine import Check, Outcome, TaskFamily, list_environments, registry
from environments.engine.base import Environment
from environments.engine.check import check_environment, format_reports, main
from environments.engine.page import Element, Page
from environments.engine.policies import ScriptedSolver, click, need, send
from environments.engine.tasks import check_no_collateral, diff_records

# --- a toy site: a counter whose value is saved, and notes that can be deleted ------------


class SaveCount(TaskFamily):
    """Save the counter at a target value. The verifier wants one new save holding the target
    and nothing else changed."""

    name = "save_count"
    env = "counter-v1"
    title = "Save a count"
    goal = "Bring the counter to {target} and save it."
    max_steps = 20

    def params(self, seed: int) -> dict:
        return {"target": self.rng(seed).randint(4, 8)}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        new = final["saves"][len(initial["saves"]) :]
        checks = [
            Check("one_save", len(new) == 1, f"{len(new)} saves"),
            Check("value", bool(new) and new[0]["value"] == params["target"], "saved value"),
        ]
        allowed = [("saves", "*", "+")]
        checks.append(
            check_no_collateral(diff_records(initial, final, ["saves", "notes"]), allowed)
        )
        return Outcome.from_checks(checks)


class CounterSolver(ScriptedSolver):
    def script(self, task, page):
        for _ in range(task.params["target"]):
            page = yield click(need(page.find("button", "Add one"), "Add one"))
        page = yield click(need(page.find("button", "Save"), "Save"))
        yield send("Saved.")


class Counter(Environment):
    env_id = "counter"
    version = 1
    start_page = "home"
    navigation = ("home",)
    families = {"save_count": SaveCount()}
    solver = CounterSolver
    maximum = 99

    def build_world(self, seed: int) -> dict:
        notes = [{"id": f"n{i}", "text": f"Note {i}"} for i in (1, 2)]
        return {"count": 0, "saves": [], "notes": notes}

    def build_page(self, state: dict) -> Page:
        body = [
            Element("heading", "Counter"),
            Element("text", f"Count: {state['count']}"),
            Element("button", "Add one", key="add"),
            Element("button", "Subtract one", key="sub"),
            Element("button", "Save", key="save"),
            Element("button", "Reset", key="reset"),
            Element("button", "Undo", key="undo"),
            Element("link", "Help", key="help"),
        ]
        for note in state["notes"]:
            body.append(Element("text", note["text"]))
            body.append(Element("button", "Delete note", key=f"del:{note['id']}"))
        return Page("Counter", "/counter/home", body)

    def on_click(self, state: dict, element: Element) -> dict:
        key, count = element.key, state["count"]
        if key == "add":
            return {**state, "count": min(count + 1, self.maximum)}
        if key == "sub":
            return {**state, "count": max(count - 1, 0)}
        if key == "reset":
            return {**state, "count": 0}
        if key == "save":
            save = {"id": f"s{len(state['saves']) + 1}", "value": count}
            return {**state, "saves": [*state["saves"], save]}
        if key.startswith("del:"):
            notes = [n for n in state["notes"] if n["id"] != key[4:]]
            return {**state, "notes": notes}
        return dict(state)


def report_of(env: Environment) -> tuple[bool, str]:
    reports = check_environment(env, seeds=6)
    return all(r.passed for r in reports), format_reports(reports)


def test_a_sound_toy_environment_passes():
    passed, text = report_of(Counter())
    assert passed, text
    assert "save_count" in text and "PASS" in text


def test_an_unsolvable_family_fails_with_the_solvers_failures():
    class Capped(Counter):
        maximum = 3  # targets are 4..8: the counter never gets there

    passed, text = report_of(Capped())
    assert not passed
    assert "FAIL counter-v1/save_count: the solver failed seed 0: value: saved value" in text


def test_a_verifier_that_random_clicking_satisfies_fails_the_random_gate():
    class AnySave(SaveCount):
        def verify(self, initial, final, params):
            return Outcome.from_checks([Check("saved", len(final["saves"]) > 0)])

    class Lenient(Counter):
        families = {"save_count": AnySave()}

    passed, text = report_of(Lenient())
    assert not passed
    assert "the random policy succeeded on" in text
    assert "the verifier accepts states reached by chance" in text


def test_a_verifier_blind_to_collateral_damage_fails_the_collateral_probe():
    class NoCollateral(SaveCount):
        def verify(self, initial, final, params):
            checks = super().verify(initial, final, params).checks
            return Outcome.from_checks([c for c in checks if "collateral" not in c.name])

    class Careless(Counter):
        families = {"save_count": NoCollateral()}

    passed, text = report_of(Careless())
    assert not passed
    assert "one extra click on button 'Delete note' (/counter/home) still succeeds" in text
    assert "still succeeds: no collateral check tripped" in text


def test_a_check_that_checks_nothing_the_actor_does_fails():
    class Vacuous(SaveCount):
        def verify(self, initial, final, params):
            outcome = super().verify(initial, final, params)
            return Outcome.from_checks([*outcome.checks, Check("polite", True, "always")])

    class WithVacuousCheck(Counter):
        families = {"save_count": Vacuous()}

    passed, text = report_of(WithVacuousCheck())
    assert not passed
    assert "check 'polite' never failed" in text


def test_a_verifier_that_passes_before_the_last_step_fails_the_early_stop_probe():
    class AtTarget(SaveCount):
        # Judges the counter, not the saved value: the save is never needed.
        def verify(self, initial, final, params):
            checks = [Check("value", final["count"] == params["target"], "count")]
            checks.append(check_no_collateral(diff_records(initial, final, ["notes"])))
            return Outcome.from_checks(checks)

    class Shortcut(Counter):
        families = {"save_count": AtTarget()}

    passed, text = report_of(Shortcut())
    assert not passed
    assert "without its last effective action (click(" in text
    assert "still succeeds: the verifier does not need the task done" in text


def test_a_page_that_depends_on_global_random_fails_determinism():
    class Flaky(Counter):
        def build_page(self, state):
            page = super().build_page(state)
            visitors = Element("text", f"{random.randint(1, 10**9)} visitors today")
            return Page(page.title, page.url, [*page.elements, visitors])

    passed, text = report_of(Flaky())
    assert not passed
    assert "two runs differ" in text
    assert "depends on something besides the seed and actions" in text


@pytest.mark.parametrize("env", list_environments(), ids=lambda env: env.id)
def test_every_builtin_environment_passes_the_checker(env):
    reports = check_environment(env, seeds=5)
    assert all(r.passed for r in reports), format_reports(reports)
    assert {r.family for r in reports} == set(env.families)


def test_the_command_exits_zero_on_success_and_prints_the_report(capsys):
    assert main(["bank", "--seeds", "2", "--family", "pay_bill"]) == 0
    out = capsys.readouterr().out
    assert "bank-v1: 2 seeds a family" in out
    assert "pay_bill" in out and out.strip().endswith("PASSED")


def test_the_command_exits_one_on_a_failing_gate_naming_it(capsys, monkeypatch):
    class Capped(Counter):
        maximum = 3

    monkeypatch.setattr(registry, "_CLASSES", {**registry._CLASSES, "counter-v1": Capped})
    monkeypatch.setattr(registry, "_INSTANCES", {})
    assert main(["counter", "--seeds", "3"]) == 1
    out = capsys.readouterr().out
    assert "FAIL counter-v1/save_count: the solver failed seed 0" in out
    assert out.strip().endswith("FAILED: see the FAIL lines above")


def test_a_state_that_is_not_json_fails_the_round_trip():
    class Tupled(Counter):
        def on_click(self, state, element):
            new = super().on_click(state, element)
            return {**new, "last": (element.key, state["count"])}  # a tuple: not JSON

    passed, text = report_of(Tupled())
    assert not passed
    assert "the solver's final state does not survive a JSON round trip" in text
