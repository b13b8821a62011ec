"""Exports: each kind loads with Hugging Face `datasets` with the columns TRL reads and the
values that were recorded; reruns are byte-identical; a snapshot excludes rows written during
it; filters; permissions."""

import json
from datetime import timedelta
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from environments.engine.page import page_from_json, page_to_axtree
from environments.models import Episode
from exports import services, writers
from exports.models import Export
from rlplatform.models import Job, JobStatus
from rlplatform.services import JobProgress, job_execute
from tests.conftest import key_client, signed_in
from tests.exports.helpers import demonstrations
from tests.factories import play_episode

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
]


def run_export(user, kind: str, fmt: str = "jsonl", filters: dict | None = None) -> Export:
    export = services.export_start(kind=kind, format=fmt, filters=filters or {}, created_by=user)
    job_execute(job_id=export.job_id, handler=services.export_run)
    export.refresh_from_db()
    assert export.job.status == JobStatus.SUCCEEDED, export.job.error
    return export


def load(export: Export) -> datasets.Dataset:
    path = Path(default_storage.path(f"{export.storage_prefix}/{export.files[0]['name']}"))
    loader = "json" if export.format == "jsonl" else "parquet"
    return datasets.load_dataset(loader, data_files=str(path), split="train")


@pytest.fixture
def recorded(manager, admin_user):
    human = demonstrations(manager)
    agent = play_episode(
        user=admin_user,
        env_id="tickets-v1",
        family="order_total",
        seed=3,
        policy="random",
        actor_kind="agent",
    )
    return human, agent


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_trajectories_hold_every_step_as_recorded(manager, recorded, fmt):
    human, _ = recorded
    export = run_export(manager, "trajectories", fmt)
    rows = load(export)
    assert rows.num_rows == 3
    assert {"episode_id", "goal", "steps", "reward", "reward_components", "checks"} <= set(
        rows.column_names
    )
    assert set(rows["variant"]) == {"default"}
    first = next(row for row in rows if row["episode_id"] == human[0].pk)
    steps = list(human[0].steps.order_by("index"))
    assert [step["action"] for step in first["steps"]] == [step.action for step in steps]
    assert first["steps"][0]["observation"] == page_to_axtree(page_from_json(steps[0].observation))
    assert first["steps"][-1]["terminated"] is True
    assert first["reward"] == 1.0 and first["success"] is True
    assert first["goal"] == human[0].task.goal
    assert export.manifest["rows"] == 3 and export.manifest["files"][0]["sha256"]


def test_trajectory_steps_are_one_step_a_row(manager, recorded):
    export = run_export(manager, "trajectory_steps", "parquet")
    rows = load(export)
    assert rows.num_rows == sum(e.step_count for e in Episode.objects.all())
    assert {"observation", "action", "reward", "terminated", "truncated"} <= set(rows.column_names)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_the_same_data_exported_twice_gives_identical_bytes(manager, recorded, fmt):
    first = run_export(manager, "trajectories", fmt)
    second = run_export(manager, "trajectories", fmt)
    assert first.files == second.files


@pytest.mark.parametrize("kind", ["trajectories", "sft"])
def test_parquet_holds_the_rows_of_jsonl_over_many_row_groups(manager, recorded, kind, monkeypatch):
    # A few kilobytes of rows a batch: each row group ends by its size.
    monkeypatch.setattr(writers, "BATCH_BYTES", 4_000)
    jsonl = run_export(manager, kind, "jsonl")
    parquet = run_export(manager, kind, "parquet")
    with default_storage.open(f"{jsonl.storage_prefix}/data.jsonl") as file:
        expected = [json.loads(line) for line in file]
    path = Path(default_storage.path(f"{parquet.storage_prefix}/data.parquet"))
    assert pq.ParquetFile(path).metadata.num_row_groups > 1
    assert pq.read_table(path).to_pylist() == expected


def test_rows_written_during_an_export_are_not_in_it(manager, recorded):
    export = services.export_start(
        kind="trajectories", format="jsonl", filters={}, created_by=manager
    )
    job = Job.objects.get(pk=export.job_id)
    job.status = JobStatus.RUNNING
    job.save()
    written = []

    class WriteWhileExporting(JobProgress):
        def __call__(self, done, total=None, message=None):
            if not written:
                written.append(
                    play_episode(
                        user=manager,
                        env_id="bank-v1",
                        family="transfer_funds",
                        seed=9,
                        actor_kind="contractor",
                    )
                )
            super().__call__(done, total, message)

    services.export_run(job, WriteWhileExporting(job))
    export.refresh_from_db()
    ids = [
        json.loads(line)["episode_id"]
        for line in default_storage.open(f"{export.storage_prefix}/data.jsonl").read().splitlines()
    ]
    assert written and written[0].pk not in ids
    assert len(ids) == 3


def test_filters_select_environments_actors_and_outcomes(manager, recorded):
    export = run_export(manager, "trajectories", filters={"environments": ["tickets-v1"]})
    assert load(export)["environment"] == ["tickets-v1"]
    export = run_export(manager, "trajectories", filters={"actor_kind": "contractor"})
    assert set(load(export)["actor_kind"]) == {"contractor"}


def test_a_failed_export_publishes_nothing(manager, recorded, monkeypatch):
    from exports import kinds

    def broken(self, filters, using, counts):
        yield {"episode_id": 1}
        raise RuntimeError("disk full")

    monkeypatch.setattr(kinds.Trajectories, "rows", broken)
    export = services.export_start(
        kind="trajectories", format="jsonl", filters={}, created_by=manager
    )
    job_execute(job_id=export.job_id, handler=services.export_run)
    export.refresh_from_db()
    assert export.job.status == JobStatus.FAILED
    assert not export.is_published
    assert not default_storage.exists(f"{export.storage_prefix}/data.jsonl")


def test_an_export_published_by_an_attempt_that_died_is_not_written_again(manager, recorded):
    export = run_export(manager, "trajectories", "parquet")
    path = Path(default_storage.path(f"{export.storage_prefix}/data.parquet"))
    written = path.stat().st_mtime_ns
    # The worker died after publishing, before it marked the job done; its lease ran out and
    # the task comes back.
    died = timezone.now() - timedelta(seconds=settings.JOB_LEASE_SECONDS + 1)
    Job.objects.filter(pk=export.job_id).update(
        status=JobStatus.RUNNING, finished_at=None, updated_at=died
    )

    job_execute(job_id=export.job_id, handler=services.export_run)
    again = Export.objects.get(pk=export.pk)
    assert again.job.status == JobStatus.SUCCEEDED and again.job.attempts == 2
    assert again.job.result["files"] == export.files
    assert (again.published_at, again.manifest) == (export.published_at, export.manifest)
    assert path.stat().st_mtime_ns == written


def test_exports_through_the_api_need_the_export_scope(admin_user, recorded):
    refused = key_client(scopes=["agent"]).post("/api/v1/exports/", {"kind": "sft"}, format="json")
    assert refused.status_code == 403
    client = key_client(scopes=["export"])
    response = client.post("/api/v1/exports/", {"kind": "sft", "format": "parquet"}, format="json")
    assert response.status_code == 202, response.json()
    export = Export.objects.get(pk=response.json()["id"])
    assert export.filters == {"actor_kind": "contractor", "success": True}
    job_execute(job_id=export.job_id, handler=services.export_run)
    detail = client.get(f"/api/v1/exports/{export.pk}/").json()
    assert detail["published"] is True
    download = client.get(f"/api/v1/exports/{export.pk}/files/data.parquet")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:4] == b"PAR1"
    assert client.get(f"/api/v1/exports/{export.pk}/files/../../etc").status_code == 404


def test_an_unknown_filter_value_is_refused_naming_the_field(manager):
    response = signed_in(manager).post(
        "/api/v1/exports/",
        {"kind": "trajectories", "filters": {"actor_kind": "robot"}},
        format="json",
    )
    assert response.status_code == 400
    assert "filters.actor_kind" in response.json()["error"]["message"]
