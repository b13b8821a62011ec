"""Every episode-based export row says which split its task is in, so that a training set can
leave out test tasks: a held-out family or UI variant is in test only, so on a train seed it
is in no split; the `split` filter keeps the rows of one split."""

import datasets
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from environments.engine.splits import split_seed_range
from exports import services
from exports.models import Export
from rlplatform.models import Role
from rlplatform.services import job_execute
from tests.conftest import key_client, signed_in
from tests.exports.helpers import api_campaign, api_episode, api_work_queue, solver_actions
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
]

TRAIN_SEED = 5
TEST_SEED = split_seed_range("test").start + 5
# (family, seed, variant) -> the split its rows carry. statement_balance is held out of the
# bank's train split, and so is its `mixed` UI variant.
PLAYED = {
    ("transfer_funds", TRAIN_SEED, "default"): "train",
    ("statement_balance", TRAIN_SEED, "default"): None,
    ("transfer_funds", TRAIN_SEED, "mixed"): None,
    ("statement_balance", TEST_SEED, "default"): "test",
}


def export(client, kind: str, filters: dict) -> tuple[datasets.Dataset | None, dict]:
    response = client.post("/api/v1/exports/", {"kind": kind, "filters": filters}, format="json")
    assert response.status_code == 202, response.json()
    started = Export.objects.get(pk=response.json()["id"])
    job_execute(job_id=started.job_id, handler=services.export_run)
    started.refresh_from_db()
    assert started.is_published, started.job.error
    if not started.manifest["rows"]:
        return None, started.manifest
    path = default_storage.path(f"{started.storage_prefix}/data.jsonl")
    return datasets.load_dataset("json", data_files=path, split="train"), started.manifest


@pytest.fixture
def played(admin_user) -> dict[int, str | None]:
    """The solver's episode of each PLAYED task, through the API: episode id -> its split."""
    agent = key_client(scopes=["agent"])
    return {
        api_episode(
            agent,
            env_id="bank-v1",
            family=family,
            seed=seed,
            variant=variant,
            actions=solver_actions("bank-v1", family, seed),
        ): split
        for (family, seed, variant), split in PLAYED.items()
    }


def test_trajectory_and_decision_rows_carry_their_tasks_split(played, admin_user):
    client = key_client(scopes=["export"])
    trajectories, _ = export(client, "trajectories", {})
    assert dict(zip(trajectories["episode_id"], trajectories["split"], strict=True)) == played
    # Decision rows (sft of the agents' successful episodes) and step rows say it on every row
    # (the solver's default-variant actions are refused in `mixed`: that episode has no step).
    for kind in ("sft", "trajectory_steps"):
        rows, _ = export(client, kind, {"actor_kind": "agent"})
        assert rows.num_rows > len(played)
        assert all(row["split"] == played[row["episode_id"]] for row in rows)
        assert {row["split"] for row in rows} == {"train", None, "test"}


def test_the_split_filter_keeps_the_rows_of_that_split_only(played, admin_user):
    client = key_client(scopes=["export"])
    train = [episode for episode, split in played.items() if split == "train"]
    trajectories, _ = export(client, "trajectories", {"split": "train"})
    assert trajectories["episode_id"] == train and set(trajectories["split"]) == {"train"}
    steps, manifest = export(client, "sft", {"actor_kind": "agent", "split": "train"})
    assert set(steps["episode_id"]) == set(train) and set(steps["split"]) == {"train"}
    assert manifest["filters"]["split"] == "train"
    test, _ = export(client, "trajectories", {"split": "test"})
    assert [(row["episode_id"], row["split"]) for row in test] == [
        (episode, "test") for episode, split in played.items() if split == "test"
    ]
    validation, manifest = export(client, "trajectories", {"split": "validation"})
    assert validation is None and manifest["rows"] == 0


def test_label_rows_carry_their_split_and_the_manifest_counts_items_of_other_splits(
    played, manager
):
    graders = [signed_in(user) for user in UserFactory.create_batch(2, role=Role.CONTRACTOR)]
    schema = [{"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5}]
    items = [{"episode": episode} for episode in played]
    campaign = api_campaign(signed_in(manager), kind="grade", schema=schema, items=items)
    for grader in graders:
        assert api_work_queue(grader, campaign, lambda assignment: {"outcome": 5}) == len(items)
    client = signed_in(manager)

    every, manifest = export(client, "unpaired", {"granularity": "trajectory"})
    assert dict(zip(every["episode_id"], every["split"], strict=True)) == played
    assert manifest["left_out"] == {}

    train, manifest = export(client, "unpaired", {"granularity": "trajectory", "split": "train"})
    assert train["episode_id"] == [e for e, split in played.items() if split == "train"]
    assert set(train["split"]) == {"train"}
    assert manifest["left_out"]["outside_split"]["items"] == len(played) - 1


def test_a_pair_is_in_its_tasks_split_only_when_both_trajectories_are(manager):
    agent = key_client(scopes=["agent"])
    solver = solver_actions("bank-v1", "transfer_funds", TRAIN_SEED)

    def episode(variant: str, actions: list[str]) -> int:
        return api_episode(
            agent,
            env_id="bank-v1",
            family="transfer_funds",
            seed=TRAIN_SEED,
            variant=variant,
            actions=actions,
        )

    # A pair of the default variant is in train; one with a `mixed` trajectory is in none.
    items = [
        {"episode_a": episode("default", solver), "episode_b": episode("default", solver[:1])},
        {"episode_a": episode("default", solver), "episode_b": episode("mixed", [])},
    ]
    schema = [{"name": "preference", "type": "preference"}]
    campaign = api_campaign(signed_in(manager), kind="compare", schema=schema, items=items)
    graders = [signed_in(user) for user in UserFactory.create_batch(2, role=Role.CONTRACTOR)]
    for grader in graders:
        api_work_queue(grader, campaign, lambda a: {"preference": {"choice": "A", "strength": 2}})
    client = signed_in(manager)

    pairs, _ = export(client, "preference", {"granularity": "trajectory"})
    assert pairs["split"] == ["train", None]
    train, manifest = export(client, "preference", {"granularity": "trajectory", "split": "train"})
    assert train["split"] == ["train"]
    assert manifest["left_out"]["outside_split"]["items"] == 1


def test_an_unknown_split_is_refused_naming_the_filter(admin_user):
    client = key_client(scopes=["export"])
    response = client.post(
        "/api/v1/exports/", {"kind": "sft", "filters": {"split": "holdout"}}, format="json"
    )
    assert response.status_code == 400
    assert "filters.split" in response.json()["error"]["message"]


def test_the_exports_page_and_manage_py_export_take_the_split(manager):
    page = signed_in(manager)
    assert 'name="split"' in page.get("/exports/").content.decode()
    started = page.post("/exports/", {"kind": "sft", "format": "jsonl", "split": "validation"})
    assert started.status_code == 302
    refused = page.post("/exports/", {"kind": "sft", "format": "jsonl", "split": "holdout"})
    assert refused.status_code == 400
    call_command(
        "export", "trajectories", "--filters", '{"split": "test"}', "--user", "manager", "--no-wait"
    )
    assert [export.filters.get("split") for export in Export.objects.order_by("pk")] == [
        "validation",
        "test",
    ]
    with pytest.raises(CommandError, match="split"):
        call_command("export", "trajectories", "--filters", '{"split": "holdout"}', "--no-wait")
