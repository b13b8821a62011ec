"""Agents' episodes whose client died without closing them are abandoned once idle for
EPISODE_IDLE_TIMEOUT_SECONDS, by the beat task; others are left running."""

from datetime import timedelta

import pytest
from django.utils import timezone

from environments.models import Episode, EpisodeStatus
from environments.services import episode_create, task_get_or_create
from environments.tasks import abandon_idle_episodes
from rlplatform.models import User
from tests.conftest import key_client

pytestmark = pytest.mark.django_db


def idle(episode_id: int, hours: float) -> None:
    Episode.objects.filter(pk=episode_id).update(updated_at=timezone.now() - timedelta(hours=hours))


def test_an_api_episode_left_idle_is_abandoned_with_its_outcome(admin_user, settings):
    settings.EPISODE_IDLE_TIMEOUT_SECONDS = 3600
    agent = key_client(scopes=["agent"])
    started = agent.post(
        "/api/v1/episodes/",
        {"environment": "bank-v1", "family": "pay_bill", "seed": 3},
        format="json",
    ).json()
    stepped = agent.post(
        "/api/v1/episodes/",
        {"environment": "bank-v1", "family": "pay_bill", "seed": 4},
        format="json",
    ).json()
    idle(started["id"], hours=2)
    idle(stepped["id"], hours=2)
    # A step since: no longer idle.
    response = agent.post(
        f"/api/v1/episodes/{stepped['id']}/step/", {"action": "noop()"}, format="json"
    )
    assert response.status_code == 200, response.json()

    assert abandon_idle_episodes() == 1

    body = agent.get(f"/api/v1/episodes/{started['id']}/").json()
    assert body["status"] == EpisodeStatus.ABANDONED
    assert body["success"] is False
    assert Episode.objects.get(pk=started["id"]).outcome["checks"]
    assert agent.get(f"/api/v1/episodes/{stepped['id']}/").json()["status"] == "running"
    # A step on the abandoned episode is refused, as after a client's own close.
    refused = agent.post(
        f"/api/v1/episodes/{started['id']}/step/", {"action": "noop()"}, format="json"
    )
    assert refused.status_code == 409
    assert abandon_idle_episodes() == 0


def test_people_rollouts_and_recent_episodes_are_left_running(admin_user, settings):
    settings.EPISODE_IDLE_TIMEOUT_SECONDS = 3600
    task = task_get_or_create(env_id="bank-v1", family="pay_bill", seed=5)
    contractor = User.objects.create_user(username="c1", password="x", role="contractor")
    person = episode_create(task=task, user=contractor, actor_kind="contractor", source="browser")
    rollout = episode_create(task=task, user=admin_user, actor_kind="agent", source="rollout")
    recent = episode_create(task=task, user=admin_user, actor_kind="agent", source="openenv")
    old_openenv = episode_create(task=task, user=admin_user, actor_kind="agent", source="openenv")
    for episode in (person, rollout):
        idle(episode.pk, hours=48)
    idle(recent.pk, hours=0.5)
    idle(old_openenv.pk, hours=1.5)

    assert abandon_idle_episodes() == 1

    statuses = dict(Episode.objects.values_list("pk", "status"))
    assert statuses[old_openenv.pk] == EpisodeStatus.ABANDONED
    assert statuses[person.pk] == statuses[rollout.pk] == statuses[recent.pk] == "running"
