"""Exports of what people said: preference pairs from comparisons, step labels and unpaired
labels from grades, raw judgments; each loads with `datasets` with TRL's columns, and an
adjudicated label wins over the graders' majority."""

from pathlib import Path

import datasets
import pytest
from django.core.files.storage import default_storage

from environments.models import Episode
from exports import services
from labeling import services as labeling
from labeling.queue import next_item_for
from rlplatform.models import JobStatus, Role
from rlplatform.services import job_execute
from tests.factories import UserFactory, make_campaign, play_episode

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
]

GRADE_SCHEMA = [
    {"name": "steps", "type": "step_rating"},
    {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5},
]


def exported(user, kind: str, fmt: str = "jsonl", filters: dict | None = None):
    export = services.export_start(kind=kind, format=fmt, filters=filters or {}, created_by=user)
    job_execute(job_id=export.job_id, handler=services.export_run)
    export.refresh_from_db()
    assert export.job.status == JobStatus.SUCCEEDED, export.job.error
    path = default_storage.path(f"{export.storage_prefix}/{export.files[0]['name']}")
    loader = "json" if fmt == "jsonl" else "parquet"
    return datasets.load_dataset(loader, data_files=str(Path(path)), split="train")


def campaign_of(manager, kind: str, entry: dict, schema=None):
    """An active campaign with one item made of real, played episodes."""
    campaign = make_campaign(
        kind=kind,
        owner=manager,
        items=0,
        overlap=2,
        status="draft",
        **({"schema": schema} if schema else {}),
    )
    labeling.items_add(campaign=campaign, added_by=manager, entries=[entry])
    return labeling.campaign_set_status(campaign=campaign, status="active", changed_by=manager)


def episode(manager, policy: str = "solver", seed: int = 3) -> int:
    return play_episode(
        user=manager,
        env_id="bank-v1",
        family="transfer_funds",
        seed=seed,
        policy=policy,
        actor_kind="agent",
        metadata={"policy": policy},
    ).pk


def judge(campaign, contractor, answers_for):
    assignment = next_item_for(contractor=contractor, campaign=campaign)
    labeling.judgment_submit(
        assignment=assignment,
        contractor=contractor,
        answers=answers_for(assignment.item),
        idempotency_key=f"k{assignment.pk}",
        time_spent_ms=4200,
    )
    return assignment.item


@pytest.fixture
def contractors(db):
    return UserFactory.create_batch(2, role=Role.CONTRACTOR)


def steps_of(item) -> int:
    return Episode.objects.get(pk=item.episode_a_id).step_count


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_grades_become_step_labels_and_unpaired_labels(manager, contractors, fmt):
    campaign = campaign_of(manager, "grade", {"episode": episode(manager)}, GRADE_SCHEMA)
    for contractor in contractors:
        item = judge(
            campaign,
            contractor,
            lambda item: {"steps": {"ratings": [1] * (steps_of(item) - 1) + [-1]}, "outcome": 2},
        )
    steps = Episode.objects.get(pk=item.episode_a_id).step_count

    whole = {"granularity": "trajectory"}
    stepwise = exported(manager, "stepwise", fmt, whole)
    row = stepwise[0]
    assert {"prompt", "completions", "labels"} <= set(stepwise.column_names)
    assert len(row["completions"]) == len(row["labels"]) == steps
    assert row["labels"] == [True] * (steps - 1) + [False]
    assert row["ratings"][-1] == -1 and row["item_id"] == item.pk
    assert row["completions"][0].startswith("Page:\n") and "Action: " in row["completions"][0]

    unpaired = exported(manager, "unpaired", fmt, whole)
    row = unpaired[0]
    assert {"prompt", "completion", "label"} <= set(unpaired.column_names)
    assert row["label"] is False and row["score"] == 0.25
    assert row["prompt"][0]["role"] == "system" and row["prompt"][1]["role"] == "user"
    assert row["completion"][0]["role"] == "assistant"


def test_comparisons_become_preference_pairs_and_an_adjudication_wins(
    manager, contractors, admin_user
):
    pair = {"episode_a": episode(manager), "episode_b": episode(manager, policy="random")}
    campaign = campaign_of(manager, "compare", pair)
    first = judge(
        campaign, contractors[0], lambda item: {"preference": {"choice": "A", "strength": 3}}
    )
    judge(campaign, contractors[1], lambda item: {"preference": {"choice": "A", "strength": 1}})
    rows = exported(manager, "preference", filters={"granularity": "trajectory"})
    assert {"prompt", "chosen", "rejected"} <= set(rows.column_names)
    row = rows[0]
    assert row["chosen_episode_id"] == first.episode_a_id
    assert row["rejected_episode_id"] == first.episode_b_id
    assert row["adjudicated"] is False
    chosen = Episode.objects.get(pk=first.episode_a_id)
    assert [t["content"] for t in row["chosen"] if t["role"] == "assistant"] == list(
        chosen.steps.order_by("index").values_list("action", flat=True)
    )

    labeling.item_adjudicate(
        item=first, reviewer=manager, answers={"preference": {"choice": "B", "strength": 2}}
    )
    row = exported(manager, "preference")[0]
    assert row["adjudicated"] is True
    assert row["chosen_episode_id"] == first.episode_b_id and row["strength"] == 2


def test_raw_judgments_name_contractors_only_by_pseudonym(manager, contractors):
    campaign = campaign_of(manager, "grade", {"episode": episode(manager)}, GRADE_SCHEMA)
    for contractor in contractors:
        judge(
            campaign,
            contractor,
            lambda item: {"steps": {"ratings": [0] * steps_of(item)}, "outcome": 4},
        )
    rows = exported(manager, "judgments", "parquet")
    assert rows.num_rows == 2
    assert len(set(rows["contractor"])) == 2
    assert all(name.startswith("c_") for name in rows["contractor"])
    usernames = {c.username for c in contractors}
    assert not usernames & set(rows["contractor"])
    assert set(rows["time_spent_ms"]) == {4200}


def test_the_judgments_feed_hands_out_each_judgment_once(manager, contractors):
    from tests.conftest import key_client

    campaign = campaign_of(manager, "grade", {"episode": episode(manager)}, GRADE_SCHEMA)
    client = key_client(scopes=["export"])
    judge(
        campaign,
        contractors[0],
        lambda item: {"steps": {"ratings": [0] * steps_of(item)}, "outcome": 4},
    )
    first = client.get("/api/v1/feeds/judgments/").json()
    judge(
        campaign,
        contractors[1],
        lambda item: {"steps": {"ratings": [0] * steps_of(item)}, "outcome": 5},
    )
    second = client.get(f"/api/v1/feeds/judgments/?since={first['next_since']}").json()
    assert len(first["results"]) == len(second["results"]) == 1
    assert first["results"][0]["judgment_id"] != second["results"][0]["judgment_id"]
    assert "answers" in second["results"][0]
    assert client.get("/api/v1/feeds/gossip/").status_code == 404
