"""Who sees what. Contractors: their own assignments and judgments only, never another
contractor's answers nor a gold answer. Reviewers: the judgments of items in review in the
campaigns they review. Managers: their campaigns only. Admins: everything."""

import json

import pytest

from labeling import services
from labeling.queue import next_item_for
from rlplatform.models import Role
from tests.conftest import key_client, signed_in
from tests.factories import GOOD_ANSWERS, UserFactory, make_campaign, make_gold_item

pytestmark = pytest.mark.django_db
GOLD = {"outcome": 2, "checks": {"goal_met": False}}
SECRET_NOTE = "only-the-judge-should-see-this"


def judge(campaign, contractor, answers=None):
    assignment = next_item_for(contractor=contractor, campaign=campaign)
    return services.judgment_submit(
        assignment=assignment,
        contractor=contractor,
        answers=answers or GOOD_ANSWERS["grade"],
        idempotency_key=f"k{assignment.pk}",
    ).judgment


@pytest.fixture
def world(manager, reviewer, contractors, monkeypatch):
    """A campaign with a gold item and an item in review, judged by two contractors; and a
    second manager's campaign."""
    monkeypatch.setattr("labeling.queue._gold_due", lambda *args: True)
    campaign = make_campaign(owner=manager, items=1, overlap=2, gold_rate=0.5, review_threshold=0.9)
    services.campaign_update(campaign=campaign, updated_by=manager, reviewers=[reviewer])
    gold = make_gold_item(campaign, answer=GOLD)
    first, second, _ = contractors
    bad = {"outcome": 1, "checks": {"goal_met": False, "no_collateral": True}}
    for person, regular in ((first, GOOD_ANSWERS["grade"]), (second, bad)):
        # Gold first (it is always due here), answered right; then the regular item, on
        # which the two disagree, so it goes to review.
        judge(
            campaign, person, {"outcome": 2, "checks": {"goal_met": False, "no_collateral": True}}
        )
        judge(campaign, person, {**regular, "comment": f"{SECRET_NOTE}-{person.pk}"})
    other_manager = UserFactory(role=Role.MANAGER)
    elsewhere = make_campaign(owner=other_manager, items=1, name="elsewhere")
    return {"campaign": campaign, "gold": gold, "elsewhere": elsewhere, "other": other_manager}


def test_contractors_see_only_their_own_judgments_and_no_gold_scores(world, contractors):
    first, second, _ = contractors
    listed = signed_in(first).get("/api/v1/judgments/").json()["results"]
    assert {judgment["contractor"] for judgment in listed} == {first.username}
    assert len(listed) == 2
    assert all(judgment["gold_score"] is None for judgment in listed)
    text = json.dumps(listed)
    assert f"{SECRET_NOTE}-{second.pk}" not in text


def test_contractors_cannot_read_campaigns_items_or_the_review_queue(world, contractor):
    client = signed_in(contractor)
    campaign = world["campaign"]
    for url in (
        "/api/v1/campaigns/",
        f"/api/v1/campaigns/{campaign.pk}/",
        f"/api/v1/campaigns/{campaign.pk}/items/",
        f"/api/v1/campaigns/{campaign.pk}/dashboard/",
        f"/api/v1/work-items/{world['gold'].pk}/",
        "/api/v1/review/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "your role (contractor) cannot do this" in response.json()["error"]["message"]


def test_a_contractor_cannot_open_another_contractors_assignment(world, contractors):
    first, second, _ = contractors
    theirs = second.assignments.first()
    response = signed_in(first).get(f"/api/v1/assignments/{theirs.pk}/")
    assert response.status_code == 404
    response = signed_in(first).post(
        f"/api/v1/assignments/{theirs.pk}/submit/",
        {"answers": GOOD_ANSWERS["grade"], "idempotency_key": "x"},
        format="json",
    )
    assert response.status_code == 404


def test_a_gold_item_reaches_a_contractor_without_its_answer_or_its_flag(world, contractors):
    third = contractors[2]
    response = signed_in(third).post("/api/v1/queue/next/", {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == third.assignments.get().pk
    text = json.dumps(body)
    assert "gold" not in text and "is_gold" not in body
    assert "qualification" not in text


def test_managers_see_gold_flags_but_not_gold_answers(world, manager):
    response = signed_in(manager).get(f"/api/v1/work-items/{world['gold'].pk}/")
    assert response.json()["is_gold"] is True
    assert response.json()["gold_answer"] is None
    judgments = signed_in(manager).get(f"/api/v1/judgments/?item={world['gold'].pk}").json()
    assert all(judgment["gold_score"] is None for judgment in judgments["results"])


def test_admins_see_gold_answers_and_scores(world, admin_user):
    client = signed_in(admin_user)
    assert client.get(f"/api/v1/work-items/{world['gold'].pk}/").json()["gold_answer"] == GOLD
    judgments = client.get(f"/api/v1/judgments/?item={world['gold'].pk}").json()["results"]
    assert {judgment["gold_score"] for judgment in judgments} == {1.0}


def test_a_manager_cannot_read_another_managers_campaign(world, manager):
    client = signed_in(world["other"])
    campaign = world["campaign"]
    for url in (
        f"/api/v1/campaigns/{campaign.pk}/",
        f"/api/v1/campaigns/{campaign.pk}/items/",
        f"/api/v1/campaigns/{campaign.pk}/dashboard/",
        f"/api/v1/campaigns/{campaign.pk}/agreement/",
        f"/api/v1/work-items/{world['gold'].pk}/",
    ):
        assert client.get(url).status_code == 404, url
    listed = client.get("/api/v1/campaigns/").json()["results"]
    assert [row["name"] for row in listed] == ["elsewhere"]
    assert client.get(f"/api/v1/judgments/?campaign={campaign.pk}").json()["count"] == 0
    response = client.patch(f"/api/v1/campaigns/{campaign.pk}/", {"priority": 9}, format="json")
    assert response.status_code == 404


def test_reviewers_see_judgments_of_items_in_review_without_names(world, reviewer, contractors):
    client = signed_in(reviewer)
    queue = client.get("/api/v1/review/").json()["results"]
    assert len(queue) == 1
    item_id = queue[0]["id"]
    listed = client.get("/api/v1/judgments/").json()["results"]
    assert {judgment["item"] for judgment in listed} == {item_id}  # not the gold item's
    assert all(judgment["contractor"] is None for judgment in listed)
    detail = client.get(f"/api/v1/review/{item_id}/").json()
    assert len(detail["judgments"]) == 2
    assert f"{SECRET_NOTE}-{contractors[0].pk}" in json.dumps(detail)
    assert client.get(f"/api/v1/review/{world['gold'].pk}/").status_code == 404


def test_reviewers_of_other_campaigns_see_nothing(world):
    stranger = UserFactory(role=Role.REVIEWER)
    client = signed_in(stranger)
    assert client.get("/api/v1/review/").json()["count"] == 0
    assert client.get("/api/v1/judgments/").json()["count"] == 0
    item_id = signed_in(world["campaign"].owner).get("/api/v1/review/").json()["results"][0]["id"]
    assert client.get(f"/api/v1/review/{item_id}/").status_code == 404


def test_admins_see_every_campaign(world, admin_user):
    listed = signed_in(admin_user).get("/api/v1/campaigns/").json()
    assert listed["count"] == 2


def test_programs_manage_campaigns_with_an_admin_key_but_not_an_agent_key(world):
    admin_key = key_client(scopes=["admin"])
    assert admin_key.get("/api/v1/campaigns/").status_code == 200
    agent_key = key_client(scopes=["agent"])
    response = agent_key.get("/api/v1/campaigns/")
    assert response.status_code == 403
    assert "needs the 'admin' scope" in response.json()["error"]["message"]
    assert agent_key.post("/api/v1/queue/next/", {}, format="json").status_code == 403


def test_only_contractors_ask_the_queue(world, manager, reviewer):
    for person in (manager, reviewer):
        assert signed_in(person).post("/api/v1/queue/next/", {}, format="json").status_code == 403
