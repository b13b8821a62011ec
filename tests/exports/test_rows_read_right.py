"""What a person reading exported rows before training on them would refuse, made and exported
through the API: a decision labelled good in `unpaired` and bad in `stepwise` by the same
final label, a preference pair whose chosen and rejected are the same or whose completions
carry pages, and history lines that say "same page" of an action that changed nothing or name
one alert twice."""

import pytest

from rlplatform.models import Role
from tests.conftest import key_client, signed_in
from tests.exports.helpers import api_campaign, api_episode, api_work_queue, solver_actions
from tests.exports.test_training import GRADE_SCHEMA, export_through_api
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
]
# The solver of this task applies an expired coupon on its way: the page then shows the error
# twice, as the page's alert and as the coupon field's.
TASK = {"env_id": "shop-v1", "family": "gift_order", "seed": 10}
WASTED = 1


@pytest.fixture
def exporter(admin_user):
    return key_client(scopes=["export"])


@pytest.fixture
def graders(db):
    return [signed_in(user) for user in UserFactory.create_batch(2, role=Role.CONTRACTOR)]


def manifest_of_latest(exporter) -> dict:
    exports = exporter.get("/api/v1/exports/").json()["results"]
    return max(exports, key=lambda export: export["id"])["manifest"]


@pytest.fixture
def graded_detour(admin_user, manager, graders):
    """An agent's episode that solves the task with a wasted noop() at step 1; both graders
    rate that step -1, every other +1, and the outcome 5."""
    solver = solver_actions(**TASK)
    actions = [*solver[:WASTED], "noop()", *solver[WASTED:]]
    episode = api_episode(key_client(scopes=["agent"]), **TASK, actions=actions)
    campaign = api_campaign(
        signed_in(manager), kind="grade", schema=GRADE_SCHEMA, items=[{"episode": episode}]
    )

    def grade(assignment: dict) -> dict:
        ratings = [1] * len(assignment["trajectory"]["steps"])
        ratings[WASTED] = -1
        return {"steps": {"ratings": ratings}, "outcome": 5}

    for grader in graders:
        assert api_work_queue(grader, campaign, grade) == 1
    return episode, actions


def test_unpaired_leaves_out_a_step_its_own_rating_calls_bad(graded_detour, exporter, tmp_path):
    episode, _ = graded_detour
    stepwise, _ = export_through_api(exporter, tmp_path, "stepwise")
    bad = {(row["episode_id"], row["step"]) for row in stepwise if row["labels"] == [False]}
    assert bad == {(episode, WASTED)}

    unpaired, _ = export_through_api(exporter, tmp_path, "unpaired")
    assert set(unpaired["label"]) == {True}
    # Every other decision of the good trajectory is a desirable example; the wasted one is
    # in no row of either sign.
    assert sorted(unpaired["step"]) == [step for step in stepwise["step"] if step != WASTED]
    assert manifest_of_latest(exporter)["counts"] == {"steps_contradicting_step_labels": 1}


def test_history_lines_say_no_change_and_name_an_alert_once(graded_detour, exporter, tmp_path):
    rows, _ = export_through_api(exporter, tmp_path, "unpaired")
    later = next(row for row in rows if row["step"] == WASTED + 1)["prompt"][1]["content"]
    assert f"{WASTED + 1}. noop() -> no change" in later
    lines = {
        line
        for row in rows
        for line in row["prompt"][1]["content"].splitlines()
        if "SPRING30 expired" in line and " -> " in line
    }
    (coupon,) = lines
    assert coupon.count("expired on") == 1 and "alert: Error: Coupon SPRING30" in coupon


def test_preference_decision_rows_hold_actions_and_no_pair_of_equal_trajectories(
    admin_user, manager, graders, exporter, tmp_path
):
    agent = key_client(scopes=["agent"])
    task = {"env_id": "bank-v1", "family": "card_controls", "seed": 4}
    solver = solver_actions(**task)
    solved, again, detour = (
        api_episode(agent, **task, actions=actions)
        for actions in (solver, solver, [*solver[:2], "noop()", *solver[2:]])
    )
    reworded = api_episode(agent, **task, actions=solver, variant="wording")
    campaign = api_campaign(
        signed_in(manager),
        kind="compare",
        schema=[{"name": "preference", "type": "preference"}],
        items=[
            {"episode_a": solved, "episode_b": again},
            {"episode_a": solved, "episode_b": detour},
            {"episode_a": solved, "episode_b": reworded},
        ],
    )
    for grader in graders:
        api_work_queue(grader, campaign, lambda a: {"preference": {"choice": "A", "strength": 1}})

    rows, _ = export_through_api(exporter, tmp_path, "preference")
    (row,) = rows
    assert row["rejected_episode_id"] == detour and row["aligned"]
    assert row["chosen"] == [{"role": "assistant", "content": solver[2]}]
    assert row["rejected"] == [{"role": "assistant", "content": "noop()"}]
    left_out = manifest_of_latest(exporter)["left_out"]
    assert {reason: n["items"] for reason, n in left_out.items()} == {
        "equal_trajectories": 1,
        "pages_differ": 1,
    }
    assert "chosen equal to rejected" in left_out["equal_trajectories"]["why"]

    # Whole trajectories (pages in the completions, as asked) take the reworded pair too.
    whole, _ = export_through_api(exporter, tmp_path, "preference", {"granularity": "trajectory"})
    assert sorted(whole["rejected_episode_id"]) == sorted([detour, reworded])
    assert list(manifest_of_latest(exporter)["left_out"]) == ["equal_trajectories"]
