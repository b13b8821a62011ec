"""Manager pages keep themselves current: the campaign dashboard, the campaign list and the
jobs list refresh in place (htmx polling), with no page load."""

import pytest

from labeling import services as labeling_services
from labeling.queue import next_item_for
from rlplatform.models import Job, JobStatus, Role
from tests.conftest import browser_sign_in
from tests.factories import GOOD_ANSWERS, UserFactory, make_campaign

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
# The pages poll every 5 s (the jobs list every 2 s while a job runs).
REFRESHED = 15_000


def judge(campaign) -> None:
    contractor = UserFactory(role=Role.CONTRACTOR)
    labeling_services.judgment_submit(
        assignment=next_item_for(contractor=contractor, campaign=campaign),
        contractor=contractor,
        answers=GOOD_ANSWERS["grade"],
        idempotency_key="live",
    )


def test_dashboards_campaign_list_and_jobs_refresh_in_place(page, live_server, manager):
    campaign = make_campaign(owner=manager, items=2, overlap=1, name="Live grades")
    browser_sign_in(page, live_server, manager.username)

    page.goto(f"{live_server.url}/label/manage/{campaign.pk}/")
    page.evaluate("window.__noReload = true")
    assert page.inner_text("#items-done") == "0"
    judge(campaign)
    page.wait_for_function(
        "document.getElementById('items-done').textContent === '1'", timeout=REFRESHED
    )
    assert page.evaluate("window.__noReload") is True

    page.goto(f"{live_server.url}/label/manage/")
    page.evaluate("window.__noReload = true")
    assert "1 / 2" in page.inner_text("#campaigns-live")
    judge(campaign)
    page.wait_for_function(
        "document.getElementById('campaigns-live').innerText.includes('2 / 2')",
        timeout=REFRESHED,
    )
    assert page.evaluate("window.__noReload") is True

    page.goto(f"{live_server.url}/jobs/")
    page.evaluate("window.__noReload = true")
    job = Job.objects.create(
        kind="export", created_by=manager, status=JobStatus.RUNNING, progress_total=10
    )
    page.wait_for_selector(f"#job-{job.pk}", timeout=REFRESHED)
    assert "Dataset export" in page.inner_text("#jobs-live")
    Job.objects.filter(pk=job.pk).update(progress_done=5)
    page.wait_for_function(
        f"document.getElementById('job-{job.pk}').innerText.includes('5 of 10')",
        timeout=REFRESHED,
    )
    assert page.evaluate("window.__noReload") is True
