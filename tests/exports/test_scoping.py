"""Feeds and exports read what the pages let their reader read: a manager the labels of the
campaigns they manage, and an export key what its owner reads on the pages, never more."""

import json

import pytest
from django.core.files.storage import default_storage

from exports import services
from labeling import services as labeling
from labeling.queue import next_item_for
from rlplatform.models import JobStatus, Role
from rlplatform.services import job_execute
from tests.conftest import key_client, signed_in
from tests.factories import UserFactory, make_campaign, play_episode

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
]

SCHEMA = [{"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5}]


@pytest.fixture
def two_campaigns(admin_user):
    """Managers 1 and 2 each with a grade campaign holding one judgment."""
    contractor = UserFactory(role=Role.CONTRACTOR)
    campaigns = {}
    for name in ("manager1", "manager2"):
        manager = UserFactory(username=name, role=Role.MANAGER)
        campaign = make_campaign(owner=manager, items=1, overlap=1, schema=SCHEMA, name=name)
        assignment = next_item_for(contractor=contractor, campaign=campaign)
        labeling.judgment_submit(
            assignment=assignment,
            contractor=contractor,
            answers={"outcome": 4},
            idempotency_key=f"k{assignment.pk}",
        )
        campaigns[name] = (manager, campaign)
    return campaigns


def feed_campaigns(client) -> set[int]:
    response = client.get("/api/v1/feeds/judgments/")
    assert response.status_code == 200, response.json()
    return {row["campaign_id"] for row in response.json()["results"]}


def export_rows(client, body: dict) -> list[dict]:
    response = client.post("/api/v1/exports/", body, format="json")
    assert response.status_code == 202, response.json()
    export = services.Export.objects.get(pk=response.json()["id"])
    job_execute(job_id=export.job_id, handler=services.export_run)
    export.refresh_from_db()
    assert export.job.status == JobStatus.SUCCEEDED, export.job.error
    with default_storage.open(f"{export.storage_prefix}/{export.files[0]['name']}") as file:
        return [json.loads(line) for line in file.read().decode().splitlines()]


def test_a_manager_cannot_read_another_managers_campaign_through_the_judgments_feed(
    two_campaigns, admin_user
):
    (manager1, first), (manager2, second) = two_campaigns.values()
    assert signed_in(manager2).get(f"/api/v1/campaigns/{first.pk}/").status_code == 404
    assert feed_campaigns(signed_in(manager2)) == {second.pk}
    assert feed_campaigns(key_client(scopes=["export"], owner=manager2)) == {second.pk}
    assert feed_campaigns(signed_in(manager1)) == {first.pk}
    assert feed_campaigns(signed_in(admin_user)) == {first.pk, second.pk}


def test_a_manager_cannot_export_another_managers_campaign(two_campaigns):
    (_, first), (manager2, second) = two_campaigns.values()
    for client in (signed_in(manager2), key_client(scopes=["export"], owner=manager2)):
        refused = client.post(
            "/api/v1/exports/",
            {"kind": "judgments", "filters": {"campaigns": [first.pk]}},
            format="json",
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["fields"].keys() == {"filters.campaigns"}
        assert {row["campaign_id"] for row in export_rows(client, {"kind": "judgments"})} == {
            second.pk
        }
        unpaired = export_rows(client, {"kind": "unpaired", "filters": {"campaigns": []}})
        assert {row["campaign_id"] for row in unpaired} <= {second.pk}


def test_an_export_reads_the_creators_scope_when_it_runs(two_campaigns):
    (_, first), (manager2, _) = two_campaigns.values()
    first.managers.add(manager2)
    export = services.export_start(
        kind="judgments", format="jsonl", filters={"campaigns": [first.pk]}, created_by=manager2
    )
    first.managers.remove(manager2)
    job_execute(job_id=export.job_id, handler=services.export_run)
    export.refresh_from_db()
    assert export.files[0]["rows"] == 0
    assert export.manifest["filters"]["campaigns"] == [first.pk]


def test_an_export_key_of_a_contractor_reads_only_their_own_episodes(admin_user, manager):
    owner = UserFactory(role=Role.CONTRACTOR)
    own = play_episode(user=owner, env_id="bank-v1", family="transfer_funds", seed=1)
    play_episode(user=manager, env_id="bank-v1", family="transfer_funds", seed=2)
    client = key_client(scopes=["export"], owner=owner)
    rows = export_rows(client, {"kind": "trajectories"})
    assert [row["episode_id"] for row in rows] == [own.pk]
    feed = client.get("/api/v1/feeds/trajectories/").json()["results"]
    assert [row["episode_id"] for row in feed] == [own.pk]
    everything = export_rows(key_client(scopes=["export"], owner=manager), {"kind": "trajectories"})
    assert len(everything) == 2
