"""The pages: the contractor's queue and workbench (panels swapped in by POSTs, no page load),
the reviewer's pages, and the manager's campaigns, forms and dashboard."""

import json
import re

import pytest

from labeling import services
from labeling.models import Campaign, Judgment
from labeling.queue import next_item_for
from rlplatform.models import Role
from tests.factories import GOOD_ANSWERS, UserFactory, make_campaign

pytestmark = pytest.mark.django_db


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_labeling_link_takes_each_role_to_its_work(client, manager, reviewer, contractor):
    for person, target in ((contractor, "/label/queue/"), (reviewer, "/label/review/"),
                           (manager, "/label/manage/")):  # fmt: skip
        client.force_login(person)
        assert client.get("/label/")["Location"] == target


def test_the_contractor_home_shows_each_campaign_with_its_figures(
    client, grade_campaign, contractor
):
    client.force_login(contractor)
    page = client.get("/label/queue/").content.decode()
    assert grade_campaign.name in page
    assert "Judged today" in page and "Gold accuracy" in page and "Time per item" in page
    assert f'data-href="/label/campaigns/{grade_campaign.pk}/work/"' in page


def test_a_paused_contractor_sees_why_on_the_home_page(client, grade_campaign, contractor):
    next_item_for(contractor=contractor, campaign=grade_campaign)
    standing = contractor.standings.get()
    standing.status, standing.paused_reason = "paused", "Paused automatically: 40% accuracy."
    standing.save()
    client.force_login(contractor)
    assert "Paused automatically: 40% accuracy." in client.get("/label/queue/").content.decode()


def test_the_workbench_documents_its_keys_and_the_instructions(client, manager, contractor):
    campaign = make_campaign(owner=manager, instructions="Read **carefully**<script>x()</script>")
    client.force_login(contractor)
    page = client.get(f"/label/campaigns/{campaign.pk}/work/").content.decode()
    assert "<strong>carefully</strong>" in page and "<script>x()" not in page
    assert 'id="wb-help"' in page and 'id="wb-instructions"' in page and 'id="wb-skip"' in page
    assert "<kbd>Enter</kbd> submit and get the next item" in page.replace("</kbd> ", "</kbd> ")


def test_panels_come_one_item_at_a_time_and_submit_returns_the_next(client, manager, contractor):
    campaign = make_campaign(owner=manager, items=2, overlap=1)
    client.force_login(contractor)
    first = client.post(f"/label/campaigns/{campaign.pk}/next/").content.decode()
    assignment = re.search(r'data-assignment="(\d+)"', first).group(1)
    key = re.search(r'data-idempotency-key="(\w+)"', first).group(1)
    body = {"answers": GOOD_ANSWERS["grade"], "idempotency_key": key, "time_spent_ms": 900}
    response = post_json(client, f"/label/assignments/{assignment}/submit/", body)
    assert response.status_code == 200
    assert response["X-Judgment-Replayed"] == "false"
    second = response.content.decode()
    assert 'id="panel"' in second and f'data-assignment="{assignment}"' not in second
    # The same submission again (a retry) is recorded once and still answers with the panel.
    again = post_json(client, f"/label/assignments/{assignment}/submit/", body)
    assert again["X-Judgment-Replayed"] == "true"
    assert Judgment.objects.count() == 1


def test_a_refused_submission_answers_json_naming_the_question(client, grade_campaign, contractor):
    client.force_login(contractor)
    panel = client.post(f"/label/campaigns/{grade_campaign.pk}/next/").content.decode()
    assignment = re.search(r'data-assignment="(\d+)"', panel).group(1)
    response = post_json(
        client, f"/label/assignments/{assignment}/submit/", {"answers": {}, "idempotency_key": "k"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "question 'outcome' is required" in error["message"]
    assert set(error["fields"]) == {"answers.outcome", "answers.checks"}


def test_skipping_from_the_workbench_returns_the_next_panel(client, manager, contractor):
    campaign = make_campaign(owner=manager, items=1)
    client.force_login(contractor)
    panel = client.post(f"/label/campaigns/{campaign.pk}/next/").content.decode()
    assignment = re.search(r'data-assignment="(\d+)"', panel).group(1)
    missing = post_json(client, f"/label/assignments/{assignment}/skip/", {"reason": "other"})
    assert missing.status_code == 400 and "say why" in missing.json()["error"]["message"]
    response = post_json(client, f"/label/assignments/{assignment}/skip/", {"reason": "unsure"})
    assert "All done here" in response.content.decode()


def test_an_ineligible_contractor_is_told_why(client, manager, contractor):
    campaign = make_campaign(owner=manager, eligible_skills=["ledger"])
    client.force_login(contractor)
    response = client.get(f"/label/campaigns/{campaign.pk}/work/")
    assert response.status_code == 403


def test_grade_compare_and_demonstrate_panels_render(client, manager, contractor):
    client.force_login(contractor)
    grade = make_campaign(owner=manager, kind="grade", items=1, name="g")
    compare = make_campaign(owner=manager, kind="compare", items=1, name="c")
    demo = make_campaign(owner=manager, kind="demonstrate", items=1, name="d", overlap=1)
    grade_panel = client.post(f"/label/campaigns/{grade.pk}/next/").content.decode()
    assert 'class="trajectory"' in grade_panel and "Final page" in grade_panel
    compare_panel = client.post(f"/label/campaigns/{compare.pk}/next/").content.decode()
    assert 'data-side="A"' in compare_panel and 'data-side="B"' in compare_panel
    assert 'data-choice="tie"' in compare_panel
    demo_panel = client.post(f"/label/campaigns/{demo.pk}/next/").content.decode()
    assert 'id="play"' in demo_panel and "js/play.js" in demo_panel
    assert "Ctrl</kbd>+<kbd>Enter" in demo_panel


def test_managers_create_a_campaign_with_the_form_and_errors_name_the_question(client, manager):
    client.force_login(manager)
    form = client.get("/label/manage/new/?kind=compare").content.decode()
    assert "preference" in form
    data = {
        "name": "Pairs",
        "kind": "compare",
        "schema": json.dumps([{"name": "p", "type": "single_choice", "options": ["x"]}]),
        "sources": "{}",
        "overlap": 3,
        "priority": 0,
        "gold_rate": 0,
        "gold_min_judged": 5,
        "qualification_size": 0,
        "qualification_pass_rate": 0.8,
        "review_threshold": 0.6,
        "lease_seconds": 900,
        "eligible_skills": "bank, night",
    }
    response = client.post("/label/manage/new/", data)
    assert response.status_code == 400
    assert "a compare campaign needs a preference question" in response.content.decode()
    data["schema"] = json.dumps([{"name": "p", "type": "preference"}])
    response = client.post("/label/manage/new/", data)
    campaign = Campaign.objects.get(name="Pairs")
    assert response["Location"] == f"/label/manage/{campaign.pk}/"
    assert campaign.eligible_skills == ["bank", "night"] and campaign.owner == manager


def test_the_campaign_form_names_unknown_sources_and_where_json_breaks(client, manager):
    client.force_login(manager)
    data = {
        "name": "Grades",
        "kind": "grade",
        "schema": json.dumps([{"name": "outcome", "type": "outcome_rating"}]),
        "sources": json.dumps({"environment": "bank-v1", "episode_sources": ["rollouts"]}),
        "overlap": 3,
        "priority": 0,
        "gold_rate": 0,
        "gold_min_judged": 5,
        "qualification_size": 0,
        "qualification_pass_rate": 0.8,
        "review_threshold": 0.6,
        "lease_seconds": 900,
    }
    refused = client.post("/label/manage/new/", data).content.decode()
    assert "&#x27;rollouts&#x27; is not an episode source; did you mean &#x27;rollout&#x27;?" in (
        refused
    )
    data["sources"] = '{\n  "environment": "bank-v1",\n  "families": ["pay_bill",]\n}'
    broken = client.post("/label/manage/new/", data).content.decode()
    assert "Not valid JSON: line 3, column 27: Expecting value." in broken
    assert not Campaign.objects.exists()


def test_the_builder_preview_renders_the_workbench_questions_or_the_problems(client, manager):
    client.force_login(manager)
    schema = [{"name": "checks", "type": "rubric", "checks": ["goal_met", "polite"]}]
    page = client.post(
        "/label/manage/preview/", {"kind": "grade", "schema": json.dumps(schema)}
    ).content.decode()
    assert 'fieldset class="question q-rubric" data-name="checks"' in page
    assert page.count("<kbd>1</kbd> Yes") == 2 and "<kbd>1 / 2</kbd> check: yes / no" in page
    problems = client.post(
        "/label/manage/preview/", {"kind": "compare", "schema": json.dumps(schema)}
    ).content.decode()
    assert "a compare campaign cannot ask a rubric question" in problems
    assert "fieldset" not in problems


def test_the_dashboard_shows_progress_agreement_contractors_and_an_svg_chart(
    client, manager, contractors
):
    campaign = make_campaign(owner=manager, items=2, overlap=2)
    for person in contractors[:2]:
        assignment = next_item_for(contractor=person, campaign=campaign)
        services.judgment_submit(
            assignment=assignment,
            contractor=person,
            answers=GOOD_ANSWERS["grade"],
            idempotency_key="k",
        )
    services.agreement_compute(campaign=campaign)
    client.force_login(manager)
    page = client.get(f"/label/manage/{campaign.pk}/").content.decode()
    assert 'role="progressbar"' in page and "Items remaining" in page
    assert '<svg class="chart" id="throughput-chart"' in page
    assert page.count('<rect class="bar"') == 24
    assert "on <strong>1</strong> item with two or more judgments" in page
    for person in contractors[:2]:
        assert str(person) in page
    assert "<script" not in page.split('id="throughput-chart"')[1].split("</svg>")[0]


def test_a_campaign_nobody_reviews_says_so_where_its_items_wait(
    client, manager, reviewer, contractors
):
    campaign = make_campaign(owner=manager, items=1, overlap=2, review_threshold=0.9, reviewers=[])
    for person, outcome in zip(contractors[:2], (5, 1), strict=True):
        services.judgment_submit(
            assignment=next_item_for(contractor=person, campaign=campaign),
            contractor=person,
            answers={"outcome": outcome, "checks": {"goal_met": True, "no_collateral": True}},
            idempotency_key="k",
        )
    client.force_login(manager)
    dashboard = client.get(f"/label/manage/{campaign.pk}/").content.decode()
    assert "No reviewer is assigned." in dashboard
    assert "1 item waits for review, seen only by this campaign's managers" in dashboard
    assert "no reviewers</span>" in client.get("/label/manage/").content.decode()
    client.force_login(reviewer)
    queue = client.get("/label/review/").content.decode()
    assert "You review no campaign yet" in queue and "Nothing waits for review" not in queue

    services.campaign_update(campaign=campaign, updated_by=manager, reviewers=[reviewer])
    assert f"#{campaign.items.get().pk}" in client.get("/label/review/").content.decode()
    client.force_login(manager)
    assert (
        "No reviewer is assigned"
        not in client.get(f"/label/manage/{campaign.pk}/").content.decode()
    )


def test_a_manager_cannot_open_another_managers_dashboard(client, grade_campaign):
    client.force_login(UserFactory(role=Role.MANAGER))
    assert client.get(f"/label/manage/{grade_campaign.pk}/").status_code == 404


def test_status_changes_and_jobs_start_from_the_dashboard(client, manager):
    campaign = make_campaign(owner=manager, status="draft")
    client.force_login(manager)
    client.post(f"/label/manage/{campaign.pk}/status/", {"status": "active"})
    campaign.refresh_from_db()
    assert campaign.status == "active"
    response = client.post(f"/label/manage/{campaign.pk}/agreement/", follow=True)
    assert "Computing agreement (job #" in response.content.decode()


def test_the_review_page_shows_every_judgment_side_by_side(client, manager, reviewer, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=2, review_threshold=0.9)
    services.campaign_update(campaign=campaign, updated_by=manager, reviewers=[reviewer])
    for person, outcome in zip(contractors[:2], (5, 1), strict=False):
        assignment = next_item_for(contractor=person, campaign=campaign)
        answers = {"outcome": outcome, "checks": {"goal_met": True, "no_collateral": False}}
        services.judgment_submit(
            assignment=assignment, contractor=person, answers=answers, idempotency_key="k"
        )
    client.force_login(reviewer)
    queue = client.get("/label/review/").content.decode()
    item = campaign.items.get()
    assert f"#{item.pk}" in queue
    assert client.get("/label/review/?next=1")["Location"] == f"/label/review/{item.pk}/"
    page = client.get(f"/label/review/{item.pk}/").content.decode()
    assert "Judge 1" in page and "Judge 2" in page and "Aggregate" in page
    assert str(contractors[0]) not in page  # judges are anonymous to reviewers
    assert 'id="initial-answers"' in page and "Record label" in page


def test_after_the_last_adjudication_the_queue_confirms_the_label_in_words(
    client, manager, reviewer
):
    campaign = make_campaign(owner=manager, items=1, overlap=2, review_threshold=0.9)
    services.campaign_update(campaign=campaign, updated_by=manager, reviewers=[reviewer])
    for answers in (
        GOOD_ANSWERS["grade"],
        {"outcome": 1, "checks": {"goal_met": False, "no_collateral": True}},
    ):
        contractor = UserFactory(role=Role.CONTRACTOR)
        assignment = next_item_for(contractor=contractor, campaign=campaign)
        services.judgment_submit(
            assignment=assignment, contractor=contractor, answers=answers, idempotency_key="k"
        )
    item = campaign.items.get(review_status="pending")
    client.force_login(reviewer)
    recorded = post_json(
        client,
        f"/api/v1/review/{item.pk}/",
        {"answers": {"outcome": 3, "checks": {"goal_met": True, "no_collateral": False}}},
    )
    assert recorded.status_code == 200
    # Nothing else waits: the queue itself confirms what was recorded.
    page = client.get(f"/label/review/?next=1&recorded={item.pk}").content.decode()
    assert (
        f'Recorded the final label of <a href="/label/review/{item.pk}/">item #{item.pk}</a>'
        in page
    )
    assert "Outcome: <strong>3</strong>" in page
    assert "Checks: <strong>goal met: yes; no collateral: no</strong>" in page
    # Someone who does not review the campaign is told nothing of it; junk is ignored.
    client.force_login(UserFactory(role=Role.REVIEWER))
    assert "Recorded" not in client.get(f"/label/review/?recorded={item.pk}").content.decode()
    client.force_login(reviewer)
    for junk in ("99999999999999999999999", "-1", "%D9%A1"):
        response = client.get(f"/label/review/?recorded={junk}")
        assert response.status_code == 200 and "Recorded" not in response.content.decode()
    assert client.get("/label/review/?recorded=%00").status_code == 400
