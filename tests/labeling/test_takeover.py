"""Takeover: after marking an agent's first wrong step, a contractor continues the task by hand
from the state just before it. The new episode replays the agent's earlier steps through the
engine (pages checked equal), is refused when the environment changed, and ends as the verifier
says or as abandoned."""

import json

import pytest

from environments import services as environment_services
from environments.engine import page_to_json
from environments.models import Episode, Step
from labeling import services
from labeling.models import Takeover
from tests.conftest import signed_in
from tests.factories import make_campaign, make_finished_episode

SCHEMA = [{"name": "first_error", "type": "first_error"}]


@pytest.fixture
def graded(manager):
    campaign = make_campaign(
        owner=manager, items=0, schema=SCHEMA, overlap=1, status="draft", allow_takeover=True
    )
    agent = make_finished_episode(user=manager, solved=True)
    services.items_add(campaign=campaign, added_by=manager, entries=[{"episode": agent.pk}])
    services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    return campaign, agent


def take_over(client, step, category="wrong_element"):
    assignment = client.post("/api/v1/queue/next/", {}, format="json").json()
    return take_over_in(client, assignment, step, category)


def take_over_in(client, assignment, step, category="wrong_element"):
    url = f"/api/v1/assignments/{assignment['id']}/takeover/"
    return client.post(url, {"step": step, "category": category}, format="json")


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@pytest.mark.django_db
def test_the_prefix_is_replayed_byte_identical_and_the_person_starts_before_the_marked_step(
    graded, contractor
):
    _, agent = graded
    at = agent.step_count // 2
    assert at >= 1
    response = take_over(signed_in(contractor), at)
    assert response.status_code == 201
    body = response.json()
    assert body["agent_episode"] == agent.pk and body["replaced_step"] == at
    assert body["play_url"] == f"/play/{body['episode']}/"
    branch = Episode.objects.get(pk=body["episode"])
    assert branch.user == contractor and branch.actor_kind == "contractor"
    assert (branch.task_id, branch.seed, branch.step_count) == (agent.task_id, agent.seed, at)
    ours = list(branch.steps.order_by("index"))
    theirs = list(agent.steps.order_by("index"))
    assert [canonical([s.action, s.observation]) for s in ours] == [
        canonical([s.action, s.observation]) for s in theirs[:at]
    ]
    page_now = page_to_json(environment_services.episode_page(branch))
    assert canonical(page_now) == canonical(theirs[at].observation)
    takeover = Takeover.objects.get()
    assert takeover.episode == branch and takeover.category == "wrong_element"
    again = take_over(signed_in(contractor), at)
    assert again.json()["id"] == body["id"] and Takeover.objects.count() == 1


@pytest.mark.django_db
def test_a_takeover_is_refused_when_the_environment_version_changed(graded, contractor):
    _, agent = graded
    client = signed_in(contractor)
    assignment = client.post("/api/v1/queue/next/", {}, format="json").json()
    Episode.objects.filter(pk=agent.pk).update(env_id="bank-v0")
    episodes = Episode.objects.count()
    response = take_over_in(client, assignment, 1)
    assert response.status_code == 409
    error = response.json()["error"]
    assert "bank-v0" in error["message"] and "cannot be replayed" in error["message"]
    assert Episode.objects.count() == episodes and not Takeover.objects.exists()


@pytest.mark.django_db
def test_a_takeover_is_refused_when_a_recorded_page_differs(graded, contractor):
    _, agent = graded
    step = agent.steps.get(index=1)
    step.observation = {**step.observation, "title": "Not what the agent saw"}
    step.save(update_fields=["observation"])
    response = take_over(signed_in(contractor), 2)
    assert response.status_code == 409
    assert "step 1 of episode" in response.json()["error"]["message"]
    assert not Takeover.objects.exists()


@pytest.mark.django_db
def test_a_takeover_that_succeeds_and_one_abandoned(graded, contractor):
    _, agent = graded
    client = signed_in(contractor)
    first = take_over(client, 1).json()
    branch = Episode.objects.get(pk=first["episode"])
    for step in Step.objects.filter(episode=agent, index__gte=1).order_by("index"):
        branch = environment_services.episode_step(episode_id=branch.pk, action=step.action).episode
    branch.refresh_from_db()
    assert branch.status == "terminated" and branch.success is True
    assert branch.steps.count() == agent.step_count

    # The same grader tries again from another step, and gives up.
    second = take_over(client, 2).json()
    assert second["episode"] != first["episode"]
    given_up = environment_services.episode_abandon(
        episode=Episode.objects.get(pk=second["episode"])
    )
    assert given_up.status == "abandoned" and given_up.success is False
    assert Takeover.objects.count() == 2


@pytest.mark.django_db
def test_a_campaign_that_does_not_allow_it_refuses_a_takeover(manager, contractor):
    campaign = make_campaign(owner=manager, items=0, schema=SCHEMA, overlap=1, status="draft")
    agent = make_finished_episode(user=manager, solved=True)
    services.items_add(campaign=campaign, added_by=manager, entries=[{"episode": agent.pk}])
    services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    response = take_over(signed_in(contractor), 0)
    assert response.status_code == 400
    assert "does not allow a takeover" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_the_dashboard_charts_first_errors_per_family_and_policy_and_takeover_success(
    graded, manager, contractor
):
    campaign, agent = graded
    client = signed_in(contractor)
    assignment = client.post("/api/v1/queue/next/", {}, format="json").json()
    answers = {"first_error": {"step": 1, "category": "ignored_error"}}
    submitted = client.post(
        f"/api/v1/assignments/{assignment['id']}/submit/",
        {"answers": answers, "idempotency_key": "k"},
        format="json",
    )
    assert submitted.status_code == 201
    won = take_over_in(client, assignment, 1).json()
    branch = Episode.objects.get(pk=won["episode"])
    for step in Step.objects.filter(episode=agent, index__gte=1).order_by("index"):
        branch = environment_services.episode_step(episode_id=branch.pk, action=step.action).episode
    lost = take_over_in(client, assignment, 2).json()
    environment_services.episode_abandon(episode=Episode.objects.get(pk=lost["episode"]))

    page = signed_in(manager).get(f"/label/manage/{campaign.pk}/").content.decode()
    chart = page[page.index('id="first-errors"') :]
    family, policy = agent.task.family, agent.metadata["policy"]
    assert f"<title>{family}: Ignored an error message, 1</title>" in chart
    assert f"<title>{policy}: Ignored an error message, 1</title>" in chart
    assert "Takeovers: 2 started, 1 succeeded (50%" in chart and "1 abandoned" in chart
