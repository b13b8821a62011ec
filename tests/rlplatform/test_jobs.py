"""Jobs: long work on a real Celery worker, with progress visible through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling import services as labeling_services
from rlplatform import services
from rlplatform.models import Job, JobStatus, Role
from tests.conftest import signed_in, wait_for
from tests.factories import UserFactory, make_campaign


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_statistics_job_runs_on_a_real_worker_and_reports_progress(celery_worker_process):
    admin = UserFactory(role=Role.ADMIN)
    UserFactory.create_batch(3, role=Role.CONTRACTOR)
    client = signed_in(admin)

    response = client.post("/api/v1/statistics/recompute/")
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response.json()["status"] == "queued"

    def finished():
        body = client.get(f"/api/v1/jobs/{job_id}/").json()
        return body if body["status"] in ("succeeded", "failed") else None

    body = wait_for(finished, timeout=60, message="the statistics job to finish")
    assert body["status"] == "succeeded", body["error"]
    assert body["progress_done"] == body["progress_total"] == 4
    assert body["percent"] == 100
    assert body["attempts"] == 1
    assert body["result"]["users_by_role"] == {
        "admin": 1,
        "manager": 0,
        "reviewer": 0,
        "contractor": 3,
    }
    listed = client.get("/api/v1/jobs/?kind=recompute_statistics").json()
    assert [job["id"] for job in listed["results"]] == [job_id]


@pytest.mark.django_db
def test_a_job_that_already_finished_is_not_run_again():
    job = Job.objects.create(kind="recompute_statistics")
    runs = []

    def handler(job, progress):
        runs.append(job.pk)
        progress(1, 1)
        return {"ok": True}

    services.job_execute(job_id=job.pk, handler=handler)
    services.job_execute(job_id=job.pk, handler=handler)
    job.refresh_from_db()
    assert runs == [job.pk]
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"ok": True}


@pytest.mark.django_db
def test_a_failing_handler_marks_the_job_failed_with_its_error():
    job = Job.objects.create(kind="recompute_statistics")

    def handler(job, progress):
        raise ValueError("the data was inconsistent")

    services.job_execute(job_id=job.pk, handler=handler)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "ValueError: the data was inconsistent"
    assert job.finished_at is not None


@pytest.mark.django_db
def test_a_cancelled_job_stops_at_its_next_progress_report(admin_user):
    job = Job.objects.create(kind="recompute_statistics", created_by=admin_user)
    reached = []

    def handler(job, progress):
        progress(1, 3)
        signed_in(admin_user).post(f"/api/v1/jobs/{job.pk}/cancel/")
        reached.append("cancel sent")
        progress(2, 3)
        reached.append("after cancel")

    services.job_execute(job_id=job.pk, handler=handler)
    job.refresh_from_db()
    assert reached == ["cancel sent"]
    assert job.status == JobStatus.CANCELLED


@pytest.mark.django_db
def test_cancelling_a_finished_job_is_a_conflict(admin_user):
    job = Job.objects.create(kind="recompute_statistics", status=JobStatus.SUCCEEDED)
    response = signed_in(admin_user).post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert response.status_code == 409
    assert "already succeeded" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_people_see_only_their_own_jobs(admin_user, manager, contractor):
    mine = Job.objects.create(kind="recompute_statistics", created_by=manager)
    theirs = Job.objects.create(kind="recompute_statistics", created_by=contractor)
    listed = signed_in(manager).get("/api/v1/jobs/").json()
    assert [job["id"] for job in listed["results"]] == [mine.pk]
    assert signed_in(manager).get(f"/api/v1/jobs/{theirs.pk}/").status_code == 404
    assert signed_in(admin_user).get("/api/v1/jobs/").json()["count"] == 2


@pytest.mark.django_db
def test_a_job_queued_while_the_broker_was_down_is_sent_again(settings, admin_user):
    settings.JOB_REDISPATCH_AFTER_SECONDS = 0
    job = Job.objects.create(kind="recompute_statistics", created_by=admin_user)
    sent = []

    from rlplatform.celery import app

    original = app.send_task
    app.send_task = lambda name, args, kwargs, queue: sent.append((name, args, queue))
    try:
        assert services.jobs_redispatch_stale() == 1
    finally:
        app.send_task = original
    assert sent == [("rlplatform.tasks.recompute_statistics", [job.pk], "default")]
    job.refresh_from_db()
    assert job.dispatched_at is not None


@pytest.mark.django_db
def test_the_job_page_shows_a_progress_bar_that_polls(client, admin_user):
    job = Job.objects.create(
        kind="recompute_statistics",
        created_by=admin_user,
        status=JobStatus.RUNNING,
        progress_done=1,
        progress_total=4,
    )
    client.force_login(admin_user)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'aria-valuenow="25"' in page
    assert 'hx-trigger="every 1s"' in page
    partial = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    assert 'id="job-' in partial


@pytest.mark.django_db
def test_a_finished_job_says_in_words_what_came_of_it(client, manager):
    campaign = make_campaign(owner=manager, items=1, name="Bank grades")
    job = labeling_services.agreement_start(campaign=campaign, requested_by=manager)
    services.job_execute(job_id=job.pk, handler=labeling_services.agreement_job)
    client.force_login(manager)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f"Job #{job.pk}: Compute a campaign&#x27;s agreement" in page
    assert "Agreement cannot be measured yet on 0 items" in page
    assert f'<a href="/label/manage/{campaign.pk}/">Campaign “Bank grades”</a>' in page
    assert "<dt>Campaign</dt><dd>" in page
    for raw in ("labeling_agreement", "{&#x27;", "Attempts", "API page", "None"):
        assert raw not in page
    listed = client.get("/jobs/").content.decode()
    assert "Compute a campaign&#x27;s agreement" in listed and "labeling_agreement" not in listed
    assert 'hx-select="#jobs-live"' in listed


@pytest.mark.django_db
def test_a_finished_job_shows_no_stale_progress_message(client, admin_user):
    job = Job.objects.create(kind="recompute_statistics", created_by=admin_user)

    def handler(job, progress):
        progress(4, 4, "Publishing")
        return {}

    services.job_execute(job_id=job.pk, handler=handler)
    client.force_login(admin_user)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Publishing" not in page and "4 of 4" not in page
    assert "Counted people, API keys, jobs" in page


@pytest.mark.django_db
def test_a_duplicate_message_for_a_running_job_does_not_start_a_second_attempt(settings):
    settings.JOB_LEASE_SECONDS = 60
    job = Job.objects.create(kind="recompute_statistics", status=JobStatus.RUNNING, attempts=1)
    runs = []
    services.job_execute(job_id=job.pk, handler=lambda job, progress: runs.append(job.pk))
    job.refresh_from_db()
    assert runs == []
    assert job.attempts == 1
    assert job.status == JobStatus.RUNNING


@pytest.mark.django_db
def test_a_running_job_silent_past_its_lease_is_sent_again_and_run(settings, monkeypatch):
    settings.JOB_LEASE_SECONDS = 60
    long_ago = timezone.now() - timedelta(seconds=61)
    silent = Job.objects.create(kind="recompute_statistics", status=JobStatus.RUNNING, attempts=1)
    alive = Job.objects.create(kind="recompute_statistics", status=JobStatus.RUNNING, attempts=1)
    rollout = Job.objects.create(kind="rollout", status=JobStatus.RUNNING)
    Job.objects.filter(pk__in=[silent.pk, rollout.pk]).update(
        updated_at=long_ago, dispatched_at=long_ago
    )
    sent = []
    monkeypatch.setattr(
        "rlplatform.celery.app.send_task", lambda name, args, kwargs, queue: sent.append(args)
    )

    assert services.jobs_redispatch_stale() == 1
    assert sent == [[silent.pk]]
    # Sent once per lease, not at every look.
    assert services.jobs_redispatch_stale() == 0
    services.job_execute(job_id=silent.pk, handler=lambda job, progress: {"ran": True})
    silent.refresh_from_db()
    assert silent.status == JobStatus.SUCCEEDED
    assert silent.attempts == 2
    alive.refresh_from_db()
    assert alive.status == JobStatus.RUNNING


@pytest.mark.django_db
def test_an_attempt_that_lost_its_lease_stops_at_its_next_report(settings):
    settings.JOB_LEASE_SECONDS = 60
    job = Job.objects.create(kind="recompute_statistics")
    reached = []

    def second(job, progress):
        reached.append("second attempt")
        return {"by": "second"}

    def quiet_then_overtaken(job, progress):
        progress(1, 3)
        # Quiet past its lease: a message that comes back gives the job to a second attempt.
        Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(seconds=61))
        services.job_execute(job_id=job.pk, handler=second)
        progress(2, 3)
        reached.append("first attempt went on")

    services.job_execute(job_id=job.pk, handler=quiet_then_overtaken)
    job.refresh_from_db()
    assert reached == ["second attempt"]
    assert (job.status, job.attempts, job.result) == (JobStatus.SUCCEEDED, 2, {"by": "second"})
