"""The environment checker: is each task family solvable, hard to hit by chance, deterministic,
and judged by a verifier that no shortcut satisfies?

    python -m environments.engine.check ENV [--seeds N] [--family NAME]

ENV is an environment id ("bank", "bank-v1") or "all". For each family, over N seeds:

- solver: the scripted solver must succeed on every seed;
- variants: and in every UI variant (variants.py), on the first seeds;
- random: `RandomPolicy` must succeed on at most 5% of its episodes;
- determinism: two runs on fresh instances give byte-identical states, pages (axtree, HTML,
  JSON) and outcomes, and every state survives a JSON round trip;
- early stop: the solver's episode without its last effective action must fail (the closing
  answer when the verifier judges it, else the last action that changed a record, else the
  state);
- checks: every check of the verifier must fail on some final state where one thing the task
  changed was changed differently (a field of a new record, a reverted field, the record
  removed or doubled, the answer's amount moved by one digit); "isolated" counts checks seen
  failing alone;
- collateral: one extra click elsewhere that changes another record must trip the collateral
  check (reported "none found" when no single click changes a record);
- solver steps p50/max and page size (axtree characters) p50/p95.

Exits 1 when a gate fails, printing why. No Django: it runs wherever the engine does.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import re
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from .actions import ActionError
from .base import Environment, Outcome
from .page import page_to_axtree, page_to_html, page_to_json
from .policies import RandomPolicy, run_episode
from .registry import get_environment, list_environments
from .tasks import Task, diff_records
from .variants import DEFAULT, VARIANTS

RANDOM_MAX_RATE = 0.05
# Probing every seed costs most of the checker's time and finds nothing more after a few.
PROBE_SEEDS = 5
# Keys the engine keeps for itself: an action that changes only these changed nothing.
BOOKKEEPING = frozenset({"steps", "finished", "answer"})
VIEW_KEYS = frozenset({"page", "form", "alert"})


@dataclass
class FamilyReport:
    env: str
    family: str
    seeds: int
    solver_successes: int = 0
    variant_successes: int = 0
    variant_episodes: int = 0
    random_successes: int = 0
    random_episodes: int = 0
    deterministic: bool = True
    early_stop: str = "ok"
    checks_seen: set[str] = field(default_factory=set)
    checks_probed: set[str] = field(default_factory=set)
    checks_isolated: set[str] = field(default_factory=set)
    collateral: str = "none found"
    steps: list[int] = field(default_factory=list)
    page_sizes: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def fail(self, reason: str) -> None:
        if reason not in self.failures:
            self.failures.append(reason)

    def row(self) -> list[str]:
        steps = self.steps or [0]
        sizes = sorted(self.page_sizes) or [0]
        return [
            self.family,
            f"{self.solver_successes}/{self.seeds}",
            f"{self.variant_successes}/{self.variant_episodes}",
            f"{self.random_successes}/{self.random_episodes}",
            "ok" if self.deterministic else "FAIL",
            self.early_stop,
            _probed(self.checks_probed, self.checks_seen, self.checks_isolated),
            self.collateral,
            f"{int(statistics.median(steps))}/{max(steps)}",
            f"{int(statistics.median(sizes)):,}/{sizes[int(0.95 * (len(sizes) - 1))]:,}",
            "PASS" if self.passed else "FAIL",
        ]


def _probed(probed: set[str], seen: set[str], isolated: set[str]) -> str:
    """Checks broken by some probe / all checks (those broken alone), collateral ones apart."""
    seen = {c for c in seen if "collateral" not in c}
    return f"{len(probed & seen)}/{len(seen)} ({len(isolated & seen)})"


HEADER = [
    "family",
    "solver",
    "variants",
    "random",
    "determ",
    "early",
    "checks (isol.)",
    "collateral",
    "steps p50/max",
    "page p50/p95",
    "",
]


def check_environment(
    env: Environment, seeds: int = 20, families: list[str] | None = None
) -> list[FamilyReport]:
    """Check every family of `env` (or the named ones) over seeds 0..seeds-1."""
    return [check_family(env, name, seeds) for name in (families or list(env.families))]


def check_family(env: Environment, family: str, seeds: int) -> FamilyReport:
    report = FamilyReport(env.id, family, seeds)
    tasks = [env.make_task(family, seed) for seed in range(seeds)]
    episodes = []
    for task in tasks:
        try:
            states, actions, outcome = run_episode(env, task, env.solver())
        except Exception as exc:  # a solver that crashes has failed, with its reason
            report.fail(f"the solver crashed on seed {task.seed}: {type(exc).__name__}: {exc}")
            continue
        report.steps.append(len(actions))
        report.page_sizes.extend(len(page_to_axtree(env.render(s))) for s in states)
        if not outcome.success:
            why = "; ".join(f"{c.name}: {c.detail}" for c in outcome.failed())
            report.fail(f"the solver failed seed {task.seed}: {why}")
            continue
        report.solver_successes += 1
        report.checks_seen.update(c.name for c in outcome.checks)
        episodes.append((task, states, actions))

    _variants(env, tasks[:PROBE_SEEDS], report)
    _random(env, tasks, report)
    _determinism(env, tasks, report)
    for task, states, actions in episodes[:PROBE_SEEDS]:
        _early_stop(env, task, states, actions, report)
        _probe_checks(env, task, states, report)
        _collateral(env, task, states, actions, report)
    unprobed = sorted(c for c in report.checks_seen - report.checks_probed if "collateral" not in c)
    coupled = sorted(
        c for c in report.checks_seen - report.checks_isolated if "collateral" not in c
    )
    if coupled:
        # Not a gate: a count and the records it counts break together by nature.
        report.warnings.insert(0, f"never seen failing alone: {', '.join(coupled)}")
    for name in unprobed:
        report.fail(
            f"check {name!r} never failed: no single change to what the task changed breaks it "
            "(does it check anything the actor does?)"
        )
    return report


# --- UI variants -------------------------------------------------------------------------


def _variants(env: Environment, tasks: list[Task], report: FamilyReport) -> None:
    """The solver must succeed in every UI variant too (the pages change, the task does not)."""
    for variant in VARIANTS:
        if variant == DEFAULT:
            continue
        for task in tasks:
            task = replace(task, variant=variant)
            report.variant_episodes += 1
            try:
                _, _, outcome = run_episode(env, task, env.solver())
            except Exception as exc:
                report.fail(
                    f"the solver crashed on seed {task.seed} in variant {variant!r}: "
                    f"{type(exc).__name__}: {exc}"
                )
                continue
            if outcome.success:
                report.variant_successes += 1
            else:
                why = "; ".join(f"{c.name}: {c.detail}" for c in outcome.failed())
                report.fail(f"the solver failed seed {task.seed} in variant {variant!r}: {why}")


# --- random floor ------------------------------------------------------------------------


def _random(env: Environment, tasks: list[Task], report: FamilyReport) -> None:
    # Two policy seeds a task, so that a handful of task seeds still gives a usable rate.
    for policy_seed in (0, 1):
        for task in tasks:
            _, _, outcome = run_episode(env, task, RandomPolicy(policy_seed))
            report.random_episodes += 1
            report.random_successes += outcome.success
    rate = report.random_successes / max(report.random_episodes, 1)
    if rate > RANDOM_MAX_RATE:
        report.fail(
            f"the random policy succeeded on {report.random_successes} of "
            f"{report.random_episodes} episodes ({rate:.0%} > {RANDOM_MAX_RATE:.0%}): the "
            "verifier accepts states reached by chance"
        )


# --- determinism -------------------------------------------------------------------------


def _trace(env: Environment, tasks: list[Task]) -> Iterator[str]:
    """Everything a run produces, as text: states, the three page renderings, outcomes."""
    for task in [*tasks, *(replace(t, variant="mixed") for t in tasks)]:
        for policy in (env.solver(), RandomPolicy(0)):
            try:
                states, actions, outcome = run_episode(env, task, policy)
            except Exception as exc:
                yield f"crash {type(exc).__name__}: {exc}"
                continue
            yield json.dumps(actions)
            yield json.dumps(states[0], sort_keys=True)
            for state in states:
                page = env.render(state)
                # The parts still shared with the initial state were compared with it.
                changed = {k: v for k, v in state.items() if v is not states[0].get(k)}
                yield json.dumps(changed, sort_keys=True)
                yield page_to_axtree(page)
                yield page_to_html(page)
                yield json.dumps(page_to_json(page), sort_keys=True)
            yield json.dumps(outcome.to_dict(), sort_keys=True)


def _determinism(env: Environment, tasks: list[Task], report: FamilyReport) -> None:
    sample = tasks[:PROBE_SEEDS]
    first, second = type(env)(), type(env)()
    for index, (a, b) in enumerate(zip(_trace(first, sample), _trace(second, sample), strict=True)):
        if a != b:
            report.deterministic = False
            report.fail(
                f"two runs differ (item {index} of the trace): {_first_difference(a, b)}; "
                "a state, a page or an outcome depends on something besides the seed and actions"
            )
            return
    for task in sample:
        states, _, _ = run_episode(env, task, env.solver())
        for which, state in (("initial", states[0]), ("final", states[-1])):
            try:
                same = json.loads(json.dumps(state)) == state
            except (TypeError, ValueError):
                same = False
            if not same:
                report.deterministic = False
                report.fail(
                    f"seed {task.seed}: the solver's {which} state does not survive a JSON round "
                    "trip (a tuple, a set, a non-string key?): it cannot be stored or sent"
                )
                return


def _first_difference(a: str, b: str) -> str:
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return f"{a[max(0, at - 30) : at + 30]!r} vs {b[max(0, at - 30) : at + 30]!r}"


# --- verifier probes ---------------------------------------------------------------------


def _verify(env: Environment, task: Task, final: dict) -> Outcome:
    return env.families[task.family].verify(env.reset(task.seed, task), final, task.params)


def _record_keys(initial: dict, final: dict) -> list[str]:
    """Keys holding record lists (dicts with an "id") in either state."""

    def records(value: object) -> bool:
        return (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(r, dict) and "id" in r for r in value)
        )

    return [
        key
        for key in final
        if isinstance(final[key], list)
        and isinstance(initial.get(key), list)
        and (records(final[key]) or records(initial[key]))
    ]


def _effective(before: dict, after: dict) -> bool:
    return any(before.get(k) != after.get(k) for k in after if k not in BOOKKEEPING)


def _early_stop(
    env: Environment, task: Task, states: list[dict], actions: list[str], report: FamilyReport
) -> None:
    """The solver's run without its last effective action must fail."""
    last = len(actions) - 1
    sends = actions[last].startswith("send_msg_to_user")
    if sends and not _verify(env, task, states[last]).success:
        return  # the answer is what the verifier judges: without it the task fails
    # The last action (before the closing answer) that changed a record, else the state:
    # steps that only look around afterwards (going back to a list) do not count.
    end = last if sends else last + 1
    keys = _record_keys(states[0], states[-1])
    backwards = range(end - 1, -1, -1)
    index = next((i for i in backwards if diff_records(states[i], states[i + 1], keys)), None)
    if index is None:
        index = next((i for i in backwards if _effective(states[i], states[i + 1])), None)
    if index is None:
        return
    early = states[index]
    if sends:
        early = env.step(early, actions[last])
    if _verify(env, task, early).success:
        report.early_stop = "FAIL"
        report.fail(
            f"seed {task.seed}: the solver's run without its last effective action "
            f"({actions[index]}) still succeeds: the verifier does not need the task done"
        )


def _probe_checks(env: Environment, task: Task, states: list[dict], report: FamilyReport) -> None:
    initial, final = states[0], states[-1]
    accepted = []
    for label, perturbed in _perturbations(initial, final):
        try:
            outcome = _verify(env, task, perturbed)
        except Exception as exc:
            report.warnings.append(
                f"seed {task.seed}: the verifier raised {type(exc).__name__} when {label}"
            )
            continue
        failed = {c.name for c in outcome.failed()}
        report.checks_probed |= failed
        if len(failed) == 1:
            report.checks_isolated |= failed
        if outcome.success and not label.startswith("the answer"):
            accepted.append(label)
    if accepted:
        shown = "; ".join(accepted[:3]) + (
            f" (and {len(accepted) - 3} more)" if len(accepted) > 3 else ""
        )
        report.warnings.append(f"seed {task.seed}: still a success when {shown}")


def _perturbations(initial: dict, final: dict) -> Iterator[tuple[str, dict]]:
    """Final states that differ from `final` in one thing the task changed."""
    keys = _record_keys(initial, final)
    ids = {key: [r["id"] for r in final[key]] for key in keys}
    for key, rid, fld, before, after in diff_records(initial, final, keys):
        if fld == "+":
            yield f"{key} {rid} is not added", _with(final, key, rid, None)
            twin = {**after, "id": f"{rid}-twin"}
            yield f"{key} {rid} is added twice", {**final, key: [*final[key], twin]}
            for path, value in _leaves(after):
                for alt in _alternatives(value, path, final[key], ids):
                    record = _set_path(after, path, alt)
                    where = ".".join(map(str, path))
                    yield f"{key} {rid} {where} is {alt!r}", _with(final, key, rid, record)
        elif fld == "-":
            yield f"{key} {rid} is not removed", {**final, key: [*final[key], before]}
        else:
            record = next(r for r in final[key] if r["id"] == rid)
            yield (
                f"{key} {rid} {fld} is not changed",
                _with(final, key, rid, {**record, fld: before}),
            )
            for path, value in _leaves(after):
                for alt in _alternatives(value, path, [], ids):
                    changed = {**record, fld: _set_path(after, path, alt) if path else alt}
                    where = ".".join(map(str, (fld, *path)))
                    yield f"{key} {rid} {where} is {alt!r}", _with(final, key, rid, changed)
    answer = final.get("answer")
    if answer is not None:
        yield "the answer is not sent", {**final, "answer": None, "finished": False}
        for moved in _moved_numbers(answer):
            yield f"the answer is {moved!r}", {**final, "answer": moved}


def _with(state: dict, key: str, rid: str, record: dict | None) -> dict:
    records = [r for r in state[key] if r["id"] != rid or record is not None]
    return {**state, key: [record if r["id"] == rid else r for r in records]}


def _leaves(value: object, path: tuple = (), depth: int = 0) -> Iterator[tuple[tuple, object]]:
    """Scalar leaves of a record (its id left out), at most three levels down."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not (depth == 0 and k == "id"):
                yield from _leaves(v, (*path, k), depth + 1)
    elif isinstance(value, list):
        if depth < 3:
            for i, v in enumerate(value[:4]):
                yield from _leaves(v, (*path, i), depth + 1)
    else:
        yield path, value


def _set_path(value: object, path: tuple, new: object) -> object:
    if not path:
        return new
    copied = copy.copy(value)
    copied[path[0]] = _set_path(value[path[0]], path[1:], new)  # type: ignore[index]
    return copied


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _alternatives(
    value: object, path: tuple, siblings: list[dict], ids: dict[str, list[str]]
) -> list[object]:
    """Plausible other values for a leaf: what other records hold there, a neighbouring
    number or day, another record's id, else the text changed."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [v for v in dict.fromkeys([value + 1, value - 1, value * 2 + 100]) if v != value]
    if not isinstance(value, str):
        return []
    out: list[object] = []
    for sibling in siblings:
        try:
            other = _get_path(sibling, path)
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(other, str) and other != value and other not in out:
            out.append(other)
        if len(out) == 2:
            break
    for id_list in ids.values():
        if value in id_list:
            out.extend([i for i in id_list if i != value][:2])
            break
    if _ISO_DATE.match(value):
        with contextlib.suppress(ValueError):
            out.append((date.fromisoformat(value) + timedelta(days=1)).isoformat())
    if not out:
        out.append(value + " X" if value else "X")
    return list(dict.fromkeys(out))


def _get_path(value: object, path: tuple) -> object:
    for step in path:
        value = value[step]  # type: ignore[index]
    return value


def _moved_numbers(answer: str) -> list[str]:
    """The answer with its last digit moved by one, for each number it names."""
    out = []
    for match in re.finditer(r"\d[\d,]*(?:\.\d+)?", answer):
        end = match.end() - 1
        digit = (int(answer[end]) + 1) % 10
        out.append(answer[:end] + str(digit) + answer[end + 1 :])
    return out


# --- collateral --------------------------------------------------------------------------


def _collateral(
    env: Environment, task: Task, states: list[dict], actions: list[str], report: FamilyReport
) -> None:
    """One click elsewhere that changes a record the task did not touch must be caught."""
    sends = actions[-1].startswith("send_msg_to_user")
    done = states[-2] if sends else states[-1]
    initial = states[0]
    keys = _record_keys(initial, states[-1])
    touched = {(d[0], d[1]) for d in diff_records(initial, done, keys)}
    # Adding a second record where the task adds one is not unrelated: the task's own checks
    # judge it. So additions count as touched for every record of a key the task added to.
    touched |= {(d[0], "+") for d in diff_records(initial, done, keys) if d[2] == "+"}
    for harmful, label in _harmful_clicks(env, done, keys, touched):
        final = env.step(harmful, actions[-1]) if sends else harmful
        outcome = _verify(env, task, final)
        tripped = [c.name for c in outcome.failed() if "collateral" in c.name]
        if tripped:
            report.collateral = "ok" if report.collateral != "FAIL" else "FAIL"
            return
        report.collateral = "FAIL"
        verdict = (
            "still succeeds"
            if outcome.success
            else "fails only " + ", ".join(c.name for c in outcome.failed())
        )
        report.fail(f"seed {task.seed}: one extra {label} {verdict}: no collateral check tripped")
        return


# Clicks tried when looking for a harmful one: breadth-first from every page of the site.
COLLATERAL_CLICKS = 1500
COLLATERAL_DEPTH = 3


def _harmful_clicks(
    env: Environment, state: dict, keys: list[str], touched: set[tuple[str, str]]
) -> Iterator[tuple[dict, str]]:
    """A state after a few clicks from some page of the site (opening a record, asking to
    confirm, confirming) whose last click changed a record the task did not touch."""
    frontier = [(state, "")]
    for name in env.navigation:
        try:
            frontier.append((env.step(state, f"goto({name!r})"), f"goto({name!r}), "))
        except ActionError:
            continue

    def where(s: dict) -> str:  # everything but the records: page, view, form, dialogs
        return json.dumps({k: v for k, v in s.items() if k not in skip}, sort_keys=True)

    skip = {*keys, *BOOKKEEPING}
    seen = {where(s) for s, _ in frontier}
    budget = COLLATERAL_CLICKS
    for _ in range(COLLATERAL_DEPTH):
        following = []
        for start, path in frontier:
            for after, label in _clicks(env, start):
                budget -= 1
                if budget < 0:
                    return
                changed = _changed(start, after, keys)
                if changed - touched:
                    yield after, f"{path}click on {label}"
                    return
                view = where(after)
                if not changed and view not in seen:
                    seen.add(view)
                    following.append((after, f"{path}click on {label}, "))
        frontier = following


def _changed(before: dict, after: dict, keys: list[str]) -> set[tuple[str, str]]:
    """(key, record id) changed, with (key, "+") for a record added."""
    return {(d[0], "+" if d[2] == "+" else d[1]) for d in diff_records(before, after, keys)}


def _clicks(env: Environment, state: dict) -> Iterator[tuple[dict, str]]:
    page = env.render(state)
    for el in page.interactive():
        if el.role not in ("button", "link", "checkbox") or el.disabled:
            continue
        try:
            after = env.step(state, f"click('{el.bid}')", page)
        except ActionError:
            continue
        yield after, f"{el.role} {el.name!r} ({page.url})"


# --- report ------------------------------------------------------------------------------


def format_reports(reports: list[FamilyReport]) -> str:
    rows = [HEADER] + [r.row() for r in reports]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    for r in reports:
        for reason in r.failures:
            lines.append(f"FAIL {r.env}/{r.family}: {reason}")
    for r in reports:
        for warning in r.warnings[:3]:
            lines.append(f"note {r.env}/{r.family}: {warning}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("env", help='an environment id such as "bank-v1", or "all"')
    parser.add_argument("--seeds", type=int, default=20, help="seeds a family (default 20)")
    parser.add_argument("--family", action="append", help="check only this family (repeatable)")
    args = parser.parse_args(argv)
    envs = list_environments() if args.env == "all" else [get_environment(args.env)]
    failed = False
    for env in envs:
        reports = check_environment(env, args.seeds, args.family)
        print(f"{env.id}: {args.seeds} seeds a family")
        print(format_reports(reports))
        print()
        failed |= not all(r.passed for r in reports)
    print("FAILED: see the FAIL lines above" if failed else "PASSED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
