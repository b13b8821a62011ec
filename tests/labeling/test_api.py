"""The labeling API end to end: managers create and run campaigns, contractors work the queue
(next, submit, skip), reviewers adjudicate; every refusal is JSON that names what was wrong."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from labeling import services
from labeling.models import Campaign, Judgment
from rlplatform.models import Job
from rlplatform.services import job_execute
from tests.conftest import signed_in
from tests.factories import GOOD_ANSWERS, make_campaign, make_finished_episode

pytestmark = pytest.mark.django_db
GRADE_SCHEMA = [
    {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5},
    {"name": "note", "type": "text", "required": False},
]


def test_a_manager_creates_a_campaign_and_bad_questions_are_named(manager):
    client = signed_in(manager)
    response = client.post(
        "/api/v1/campaigns/",
        {
            "name": "Grade runs",
            "kind": "grade",
            "schema": [{"name": "outcome", "type": "outcome_rating", "min": 3, "max": 1}],
        },
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"] == {
        "schema[0]": ["question 'outcome': max (1) must be greater than min (3)"]
    }
    assert "question 'outcome'" in error["message"]

    response = client.post(
        "/api/v1/campaigns/",
        {
            "name": "Grade runs",
            "kind": "grade",
            "schema": GRADE_SCHEMA,
            "overlap": 2,
            "instructions": "Be *careful*.",
            "sources": {"environment": "bank-v1", "families": ["card_controls"]},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["owner"] == manager.username
    assert body["schema"][0]["prompt"] == "Outcome"


def test_a_campaign_is_changed_activated_and_deleted_through_the_api(manager):
    client = signed_in(manager)
    campaign = make_campaign(owner=manager, items=0, status="draft")
    url = f"/api/v1/campaigns/{campaign.pk}/"
    assert client.patch(url, {"priority": 7}, format="json").json()["priority"] == 7
    response = client.post(f"{url}status/", {"status": "active"}, format="json")
    assert response.status_code == 409
    assert "has no items yet" in response.json()["error"]["message"]
    assert client.delete(url).status_code == 204
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_items_are_added_explicitly_or_generated_by_a_job(manager):
    client = signed_in(manager)
    campaign = make_campaign(
        owner=manager,
        items=0,
        status="draft",
        sources={"environment": "bank-v1", "families": ["card_controls"]},
    )
    episode = make_finished_episode()
    response = client.post(
        f"/api/v1/campaigns/{campaign.pk}/items/",
        {"items": [{"episode": episode.pk, "priority": 3}]},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()[0]["priority"] == 3
    again = client.post(
        f"/api/v1/campaigns/{campaign.pk}/items/",
        {"items": [{"episode": episode.pk}]},
        format="json",
    )
    assert again.status_code == 409 and "already has this item" in again.json()["error"]["message"]

    make_finished_episode()
    response = client.post(f"/api/v1/campaigns/{campaign.pk}/items/generate/")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    job_execute(job_id=job.pk, handler=services.generate_job)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result == {"added": 1, "items": 2}
    listed = client.get(f"/api/v1/campaigns/{campaign.pk}/items/").json()
    assert listed["count"] == 2


def test_a_contractor_works_the_queue_through_the_api(manager, contractor):
    campaign = make_campaign(owner=manager, items=2, overlap=1)
    client = signed_in(contractor)
    queue = client.get("/api/v1/queue/").json()["results"]
    assert [(entry["campaign"]["id"], entry["waiting"]) for entry in queue] == [(campaign.pk, 2)]

    first = client.post("/api/v1/queue/next/", {"campaign": campaign.pk}, format="json").json()
    assert first["status"] == "active" and first["campaign"]["schema"][0]["name"] == "outcome"
    assert first["trajectory"]["length"] == 0 and first["trajectory"]["final_observation"]["url"]
    assert client.post("/api/v1/queue/next/", {}, format="json").json()["id"] == first["id"]

    submit_url = f"/api/v1/assignments/{first['id']}/submit/"
    bad = client.post(
        submit_url, {"answers": {"outcome": 0}, "idempotency_key": "k1"}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"answers.outcome", "answers.checks"}
    body = {"answers": GOOD_ANSWERS["grade"], "time_spent_ms": 5000}
    created = client.post(submit_url, body, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert created.status_code == 201 and created.json()["replayed"] is False
    replayed = client.post(submit_url, body, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert replayed.status_code == 200 and replayed.json()["replayed"] is True
    assert Judgment.objects.count() == 1

    second = client.post("/api/v1/queue/next/", {}, format="json").json()
    skipped = client.post(
        f"/api/v1/assignments/{second['id']}/skip/", {"reason": "broken"}, format="json"
    )
    assert skipped.status_code == 200 and skipped.json()["status"] == "skipped"
    assert client.post("/api/v1/queue/next/", {}, format="json").status_code == 204
    mine = client.get("/api/v1/assignments/").json()
    assert [row["status"] for row in mine["results"]] == ["skipped", "submitted"]


def test_a_contractor_undoes_their_last_submission_through_the_api(manager, contractor):
    campaign = make_campaign(owner=manager, items=2, overlap=1)
    client = signed_in(contractor)
    first = client.post("/api/v1/queue/next/", {}, format="json").json()
    body = {"answers": GOOD_ANSWERS["grade"], "idempotency_key": "k1"}
    client.post(f"/api/v1/assignments/{first['id']}/submit/", body, format="json")
    second = client.post("/api/v1/queue/next/", {}, format="json").json()

    undone = client.post(f"/api/v1/assignments/{first['id']}/undo/", {}, format="json")

    assert undone.status_code == 200
    assert undone.json()["assignment"]["status"] == "active"
    assert undone.json()["answers"] == GOOD_ANSWERS["grade"]
    assert not Judgment.objects.exists()
    assert client.get(f"/api/v1/assignments/{second['id']}/").status_code == 404
    assert client.post("/api/v1/queue/next/", {}, format="json").json()["id"] == first["id"]
    again = client.post(f"/api/v1/assignments/{first['id']}/undo/", {}, format="json")
    assert again.status_code == 200 and again.json()["answers"] is None
    assert campaign.items.filter(judgment_count=0).count() == 2


def test_submitting_without_an_idempotency_key_is_refused(grade_campaign, contractor):
    client = signed_in(contractor)
    assignment = client.post("/api/v1/queue/next/", {}, format="json").json()
    response = client.post(
        f"/api/v1/assignments/{assignment['id']}/submit/",
        {"answers": GOOD_ANSWERS["grade"]},
        format="json",
    )
    assert response.status_code == 400
    assert "idempotency_key" in response.json()["error"]["fields"]


def test_a_late_answer_to_a_filled_item_is_a_clear_409(manager, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=1)
    late, prompt = (signed_in(person) for person in contractors[:2])
    held = late.post("/api/v1/queue/next/", {}, format="json").json()
    services.leases_expire(now=timezone.now() + timedelta(hours=1))
    other = prompt.post("/api/v1/queue/next/", {}, format="json").json()
    prompt.post(
        f"/api/v1/assignments/{other['id']}/submit/",
        {"answers": GOOD_ANSWERS["grade"], "idempotency_key": "p"},
        format="json",
    )
    response = late.post(
        f"/api/v1/assignments/{held['id']}/submit/",
        {"answers": GOOD_ANSWERS["grade"], "idempotency_key": "l"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "lease_expired"
    assert campaign.items.get().judgment_count == 1


def test_observations_come_in_the_mode_asked_for(manager, contractor):
    campaign = make_campaign(owner=manager, items=0, status="draft")
    services.items_add(
        campaign=campaign,
        added_by=manager,
        entries=[{"episode": make_finished_episode(solved=True).pk}],
    )
    services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    client = signed_in(contractor)
    body = client.post("/api/v1/queue/next/?observations=axtree", {}, format="json").json()
    steps = body["trajectory"]["steps"]
    assert len(steps) == body["trajectory"]["length"] > 3
    assert steps[0]["observation"].startswith("page 'Sign in")
    assert steps[0]["action"].startswith("fill(")
    assert body["trajectory"]["answer"] is None or isinstance(body["trajectory"]["answer"], str)
    html = client.get(f"/api/v1/assignments/{body['id']}/?observations=html").json()
    assert html["trajectory"]["steps"][0]["observation"].startswith('<div class="env-page"')


def test_the_dashboard_reports_progress_timing_throughput_and_contractors(manager, contractor):
    campaign = make_campaign(owner=manager, items=2, overlap=1)
    client = signed_in(contractor)
    assignment = client.post("/api/v1/queue/next/", {}, format="json").json()
    client.post(
        f"/api/v1/assignments/{assignment['id']}/submit/",
        {"answers": GOOD_ANSWERS["grade"], "idempotency_key": "x", "time_spent_ms": 8000},
        format="json",
    )
    body = signed_in(manager).get(f"/api/v1/campaigns/{campaign.pk}/dashboard/?hours=6").json()
    assert body["progress"]["items"] == 2 and body["progress"]["complete"] == 1
    assert body["progress"]["percent"] == 50.0
    assert body["timing"]["median_seconds"] == 8.0 and body["timing"]["last_hour"] == 1
    assert len(body["throughput"]) == 6 and body["throughput"][-1]["judgments"] == 1
    assert body["contractors"][0]["contractor"] == contractor.username
    assert body["agreement"] is None


def test_a_reviewer_adjudicates_through_the_api(manager, reviewer, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=2, review_threshold=0.9)
    services.campaign_update(campaign=campaign, updated_by=manager, reviewers=[reviewer])
    for person, outcome in zip(contractors[:2], (5, 1), strict=False):
        client = signed_in(person)
        assignment = client.post("/api/v1/queue/next/", {}, format="json").json()
        answers = {"outcome": outcome, "checks": {"goal_met": True, "no_collateral": True}}
        client.post(
            f"/api/v1/assignments/{assignment['id']}/submit/",
            {"answers": answers, "idempotency_key": "k"},
            format="json",
        )
    client = signed_in(reviewer)
    item_id = client.get("/api/v1/review/").json()["results"][0]["id"]
    url = f"/api/v1/review/{item_id}/"
    refused = client.post(url, {"answers": {"outcome": 4}}, format="json")
    assert refused.status_code == 400
    assert "question 'checks' is required" in refused.json()["error"]["message"]
    final = {"outcome": 4, "checks": {"goal_met": True, "no_collateral": True}}
    response = client.post(url, {"answers": final, "note": "judge 2 misread"}, format="json")
    assert response.status_code == 200
    assert response.json()["adjudication"]["answers"] == final
    assert client.get("/api/v1/review/").json()["count"] == 0
    item = signed_in(manager).get(f"/api/v1/work-items/{item_id}/").json()
    assert item["final_label"]["answers"] == final
    assert item["final_label"]["status"] == "adjudicated"
    assert item["final_label"]["confidence"] == 1.0


def test_managers_set_contractors_skills_and_resume_them(manager, contractor):
    client = signed_in(manager)
    url = f"/api/v1/contractors/{contractor.username}/profile/"
    response = client.put(url, {"groups": ["night"], "skills": ["bank", "bank"]}, format="json")
    assert response.json()["skills"] == ["bank"] and response.json()["groups"] == ["night"]
    campaign = make_campaign(owner=manager, items=1)
    signed_in(contractor).post("/api/v1/queue/next/", {}, format="json")
    standings = client.get(f"/api/v1/campaigns/{campaign.pk}/standings/").json()["results"]
    assert standings[0]["contractor"] == contractor.username
    resumed = client.post(
        f"/api/v1/campaigns/{campaign.pk}/standings/{contractor.username}/resume/"
    )
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"


def test_the_openapi_schema_is_valid_and_lists_the_labeling_endpoints(client):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
    paths = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path in (
        "/api/v1/campaigns/",
        "/api/v1/queue/next/",
        "/api/v1/assignments/{assignment_id}/submit/",
        "/api/v1/review/{item_id}/",
    ):
        assert path in paths
