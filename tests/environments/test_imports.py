"""Importing trajectories: every line replayed; a file with a bad line is rejected whole."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from environments.engine import get_environment, page_to_axtree, run_episode
from environments.imports import ImportRejected, import_trajectories
from environments.models import Episode, EpisodeStatus, Step
from rlplatform.models import Job
from tests.conftest import signed_in, wait_for

pytestmark = pytest.mark.django_db


def solved_line(family: str = "transfer_funds", seed: int = 4, **extra) -> dict:
    env = get_environment("bank-v1")
    task = env.make_task(family, seed)
    states, actions, _ = run_episode(env, task, env.solver())
    ended = next(i for i, state in enumerate(states[1:]) if env.evaluate(state, task).success)
    return {
        "environment": "bank-v1",
        "family": family,
        "seed": seed,
        "actions": actions[: ended + 1],
        "observations": [page_to_axtree(env.render(s)) for s in states[: ended + 1]],
        "metadata": {"model": "elsewhere-v2"},
        **extra,
    }


def as_lines(*rows) -> list[str]:
    return [row if isinstance(row, str) else json.dumps(row) for row in rows]


def test_a_good_file_becomes_episodes_replayed_step_by_step(manager):
    line = solved_line()
    ids = import_trajectories(
        lines=as_lines(line, {**line, "seed": 5, "observations": None} | {"actions": ["noop()"]}),
        user=manager,
        import_id="t1",
    )
    first, second = Episode.objects.filter(pk__in=ids).order_by("pk")
    assert first.source == "import" and first.actor_kind == "agent"
    assert first.metadata == {"model": "elsewhere-v2", "import": "t1", "line": 1}
    assert list(first.steps.values_list("action", flat=True)) == line["actions"]
    assert first.success is True and first.status == EpisodeStatus.TERMINATED
    assert second.status == EpisodeStatus.ABANDONED and second.step_count == 1


def test_a_file_with_bad_lines_is_rejected_whole_with_a_reason_for_each(manager):
    good = solved_line()
    bad_action = {**good, "actions": [*good["actions"][:2], "click('999')"], "observations": None}
    wrong_view = {**good, "observations": ["[1] button 'Pay now'", *good["observations"][1:]]}
    with pytest.raises(ImportRejected) as rejected:
        import_trajectories(
            lines=as_lines(
                good,
                "{not json",
                {**good, "environment": "casino-v1"},
                bad_action,
                wrong_view,
                {**good, "actions": [*good["actions"], "noop()"], "observations": None},
                {**good, "family": "rob_the_bank"},
            ),
            user=manager,
            import_id="t2",
        )
    report = {error.line: error.message for error in rejected.value.errors}
    assert sorted(report) == [2, 3, 4, 5, 6, 7]
    assert report[2].startswith("not JSON")
    assert report[3].startswith("environment: no environment 'casino-v1'; known: ")
    assert "bank-v1" in report[3]
    assert report[4] == "step 2: unknown_bid: bid '999' does not exist on this page"
    assert report[5].startswith("step 0: the observation is not the page")
    assert "comes after the episode ended" in report[6]
    assert report[7] == "family: bank-v1 has no task family 'rob_the_bank'"
    assert not Episode.objects.exists() and not Step.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_uploading_through_the_api_runs_an_import_job(celery_worker_process, manager):
    client = signed_in(manager)
    content = "\n".join(as_lines(solved_line(), solved_line(seed=9))).encode()
    response = client.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("runs.jsonl", content)},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    job = wait_for(
        lambda: Job.objects.filter(pk=response.json()["id"], status="succeeded").first(),
        timeout=60,
    )
    assert job.result["count"] == 2
    assert Episode.objects.filter(source="import").count() == 2

    bad = client.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("bad.jsonl", b'{"environment": "bank-v1"}\n')},
        format="multipart",
    )
    job = wait_for(lambda: Job.objects.filter(pk=bad.json()["id"], status="failed").first())
    assert job.result["errors"] == [{"line": 1, "message": "family: required unless task is given"}]
    assert "nothing was imported" in job.error
    assert Episode.objects.filter(source="import").count() == 2


def test_a_programs_upload_cannot_pass_off_trajectories_as_peoples(manager):
    line = solved_line(actor="contractor")
    (episode_id,) = import_trajectories(
        lines=as_lines(line), user=manager, import_id="t3", agents_only=True
    )
    assert Episode.objects.get(pk=episode_id).actor_kind == "agent"


def test_a_rollout_too_large_is_refused_before_anything_is_built(manager):
    from tests.conftest import signed_in

    response = signed_in(manager).post(
        "/api/v1/rollouts/",
        {"environments": ["bank-v1"], "count": 10**9, "policy": {"kind": "scripted"}},
        format="json",
    )
    assert response.status_code == 400
    assert "count" in response.json()["error"]["message"]
    response = signed_in(manager).post(
        "/api/v1/rollouts/",
        {"environments": ["bank-v1"], "count": 20000, "policy": {"kind": "scripted"}},
        format="json",
    )
    assert response.status_code == 400
    assert "at most 100000" in response.json()["error"]["message"]


def test_trying_an_unknown_family_is_a_404_not_a_crash(client, manager):
    client.force_login(manager)
    assert client.post("/environments/bank-v1/rob_the_bank/try/").status_code == 404
    assert client.post("/environments/bank-v1/pay_bill/try/", {"seed": "²"}).status_code == 302
