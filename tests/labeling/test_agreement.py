"""Agreement is computed by a job (and refreshed by celery beat): Krippendorff's alpha per
question and for the campaign, with the items it rests on, and each contractor's agreement with
the consensus of the others."""

import pytest

from labeling import services
from labeling.models import AgreementReport
from labeling.queue import next_item_for
from rlplatform.models import Job, JobStatus
from tests.conftest import signed_in, wait_for
from tests.factories import make_campaign

GOOD = {"outcome": 5, "checks": {"goal_met": True, "no_collateral": True}}
MEH = {"outcome": 3, "checks": {"goal_met": True, "no_collateral": False}}
BAD = {"outcome": 1, "checks": {"goal_met": False, "no_collateral": False}}


def judge(campaign, people_answers):
    for contractor, answers in people_answers:
        assignment = next_item_for(contractor=contractor, campaign=campaign)
        services.judgment_submit(
            assignment=assignment,
            contractor=contractor,
            answers=answers,
            idempotency_key=f"{assignment.pk}",
        )


@pytest.fixture
def judged(manager, contractors):
    """Three items, each judged by the same three contractors; the third contractor often
    disagrees with the other two."""
    campaign = make_campaign(owner=manager, items=3, overlap=3)
    first, second, third = contractors
    judge(campaign, [(first, GOOD), (second, GOOD), (third, BAD)])
    judge(campaign, [(first, BAD), (second, BAD), (third, BAD)])
    judge(campaign, [(first, MEH), (second, MEH), (third, GOOD)])
    return campaign


@pytest.mark.django_db
def test_the_report_gives_alpha_per_question_at_its_level_and_what_it_rests_on(judged):
    report = services.agreement_compute(campaign=judged)
    assert report.items == 3 and report.judgments == 9
    by_name = {question["name"]: question for question in report.questions}
    assert set(by_name) == {"outcome", "checks"}  # free text has no alpha
    assert by_name["outcome"]["level"] == "ordinal" and by_name["outcome"]["items"] == 3
    assert by_name["checks"]["level"] == "nominal" and by_name["checks"]["units"] == 6
    assert 0 < report.alpha < 1


@pytest.mark.django_db
def test_each_contractor_is_compared_with_the_consensus_of_the_others(judged, contractors):
    report = services.agreement_compute(campaign=judged)
    first, second, third = contractors
    agreement = {int(key): value["agreement"] for key, value in report.contractors.items()}
    assert agreement[first.pk] == agreement[second.pk]
    assert agreement[third.pk] < agreement[first.pk]
    assert report.contractors[str(third.pk)]["items"] == 3


@pytest.mark.django_db
def test_beat_starts_a_job_only_for_campaigns_with_new_judgments(
    judged, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        started = services.agreement_refresh_due()
    assert [job.params for job in started] == [{"campaign": judged.pk}]
    # Asking again while that job is queued joins it instead of starting another.
    assert services.agreement_refresh_due()[0].pk == started[0].pk
    Job.objects.filter(pk=started[0].pk).update(status=JobStatus.SUCCEEDED)
    services.agreement_compute(campaign=judged)
    assert services.agreement_refresh_due() == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_agreement_job_runs_on_a_real_worker(celery_worker_process, manager, contractors):
    campaign = make_campaign(owner=manager, items=2, overlap=2)
    first, second = contractors[:2]
    judge(campaign, [(first, GOOD), (second, GOOD)])
    judge(campaign, [(first, BAD), (second, MEH)])
    client = signed_in(manager)
    response = client.post(f"/api/v1/campaigns/{campaign.pk}/agreement/")
    assert response.status_code == 202
    job_id = response.json()["id"]

    def finished():
        body = client.get(f"/api/v1/jobs/{job_id}/").json()
        return body if body["status"] in ("succeeded", "failed") else None

    body = wait_for(finished, timeout=60, message="the agreement job")
    assert body["status"] == "succeeded", body["error"]
    report = AgreementReport.objects.get(campaign=campaign)
    assert body["result"]["report"] == report.pk
    shown = client.get(f"/api/v1/campaigns/{campaign.pk}/agreement/").json()
    assert shown["items"] == 2 and shown["judgments"] == 4
