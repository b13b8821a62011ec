"""The `tasks` export: the rows an RL run starts from (what GET /api/v1/datasets/tasks/ serves),
as a file with a manifest, each row with its split, filtered like the API."""

import datasets
import pytest
from django.core.files.storage import default_storage

from environments.engine.splits import split_families, split_seed_range
from exports import services
from exports.models import Export
from rlplatform.services import job_execute
from tests.conftest import key_client

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
]


def export_tasks(client, filters: dict) -> tuple[datasets.Dataset, dict]:
    response = client.post("/api/v1/exports/", {"kind": "tasks", "filters": filters}, format="json")
    assert response.status_code == 202, response.json()
    export = Export.objects.get(pk=response.json()["id"])
    job_execute(job_id=export.job_id, handler=services.export_run)
    export.refresh_from_db()
    assert export.is_published, export.job.error
    path = default_storage.path(f"{export.storage_prefix}/data.jsonl")
    return datasets.load_dataset("json", data_files=path, split="train"), export.manifest


def test_the_tasks_export_holds_the_rows_the_tasks_dataset_serves(admin_user):
    client = key_client(scopes=["export", "agent"])
    rows, manifest = export_tasks(
        client,
        {"environments": ["bank-v1"], "families": ["pay_bill", "transfer_funds"], "seed_to": 4},
    )
    assert rows.num_rows == manifest["rows"] == 10
    assert set(rows.column_names) == {
        "prompt",
        "task_id",
        "environment",
        "family",
        "seed",
        "variant",
        "split",
    }
    served = client.get(
        "/api/v1/datasets/tasks/?environment=bank-v1&family=pay_bill&seed_from=0&seed_to=4"
    ).json()["results"]
    assert [row for row in rows if row["family"] == "pay_bill"] == served
    assert set(rows["split"]) == {"train"}
    assert manifest["options"] == {
        "split": "train",
        "environments": {"bank-v1": ["pay_bill", "transfer_funds"]},
        "seed_from": 0,
        "seed_to": 4,
        # What the train split leaves out, which a test-split export holds.
        "held_out": {
            "bank-v1": {"families": ["statement_balance", "dispute_charge"], "variants": ["mixed"]}
        },
    }
    assert manifest["row_lengths"]["chars"]["max"] < 1000


def test_a_split_gives_its_seeds_and_families_only(admin_user):
    client = key_client(scopes=["export"])
    validation = split_seed_range("validation")
    rows, _ = export_tasks(client, {"environments": ["bank-v1"], "split": "validation"})
    families = split_families("bank-v1", "validation")
    assert rows.num_rows == 100 * len(families)
    assert set(rows["family"]) == set(families) and "statement_balance" not in families
    assert min(rows["seed"]) == validation.start and max(rows["seed"]) == validation.start + 99
    assert set(rows["split"]) == {"validation"}

    test_rows, test_manifest = export_tasks(
        client, {"environments": ["bank-v1"], "split": "test", "seed_to": 2_000_001}
    )
    assert "statement_balance" in set(test_rows["family"]) and set(test_rows["split"]) == {"test"}
    assert test_manifest["options"]["held_out"] == {}

    # A held-out family is in test only.
    refused = client.post(
        "/api/v1/exports/",
        {"kind": "tasks", "filters": {"families": ["statement_balance"]}},
        format="json",
    )
    assert refused.status_code == 400
    assert "filters.families" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"environments": ["bank-v9"]}, "filters.environments"),
        ({"families": ["rob_the_bank"]}, "filters.families"),
        ({"split": "holdout"}, "filters.split"),
        ({"split": "validation", "seed_from": 5}, "filters.seed_from"),
        ({"seed_from": 9, "seed_to": 3}, "filters.seed_to"),
        ({"seed_to": 1_000_000}, "filters.seed_to"),
        ({"seed_to": 99_999}, "filters.seed_to"),
    ],
)
def test_bad_task_filters_are_refused_naming_the_field(admin_user, filters, field):
    response = key_client(scopes=["export"]).post(
        "/api/v1/exports/", {"kind": "tasks", "filters": filters}, format="json"
    )
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert field in error["message"] or field in error.get("fields", {}), error
