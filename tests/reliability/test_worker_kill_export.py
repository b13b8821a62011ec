"""A Celery worker SIGKILLed in the middle of an export: nothing of the export is visible while
it is down, a worker started after it finishes the job, and what it publishes is complete,
every row once, byte for byte what an export of the same data that nobody interrupted gives."""

import dataclasses
import hashlib
import json
import os
import signal
import time
from pathlib import Path

import datasets
import pytest
from django.conf import settings
from django.db import connection

from environments.models import Episode
from rlplatform import jobs
from tests.conftest import key_client, start_celery_worker, stop_process_group, wait_for
from tests.factories import play_episode

pytestmark = [
    pytest.mark.slow,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
]

# Enough trajectories that an export runs for seconds: long enough to be killed in the middle.
EPISODES = 3000
# A queue of this test's own: the session's shared worker, if running, must not take the export.
QUEUE = "exports-kill-test"
# How old a message taken by a worker that never acknowledged it must be before a worker that
# starts puts it back in its queue.
VISIBILITY_SECONDS = 4


@pytest.fixture
def export_workers(settings, tmp_path, monkeypatch):
    """Start export workers of this test's own, on one storage folder; every one started is
    stopped at the end, whatever happened."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.fail("this test needs PostgreSQL and Redis: run it with make test")
    monkeypatch.setitem(
        jobs.JOB_KINDS, "export", dataclasses.replace(jobs.get_kind("export"), queue=QUEUE)
    )
    settings.MEDIA_ROOT = tmp_path / "media"
    started = []

    def start():
        started.append(
            start_celery_worker(
                queues=QUEUE,
                log_path=tmp_path / f"worker-{len(started)}.log",
                concurrency=1,
                CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_SECONDS),
                # The killed attempt reported progress moments before: its lease must be out by
                # the time its message comes back, or the new worker would take it for alive.
                JOB_LEASE_SECONDS="2",
                MEDIA_ROOT=str(settings.MEDIA_ROOT),
                # The killed attempt's private folder stays behind: here, not in var/test.
                VAR_DIR=str(tmp_path / "var"),
            )
        )
        return started[-1]

    yield start
    for process in started:
        stop_process_group(process)


COPY_STEPS = """
    INSERT INTO environments_step (episode_id, created_at, index, action, observation, reward,
                                   terminated, truncated, error, apply_ms)
    SELECT copy.id, now(), index, action, observation, reward, terminated, truncated, error,
           apply_ms
    FROM environments_step JOIN unnest(%s::bigint[], %s::bigint[]) AS copy(id, source)
         ON environments_step.episode_id = copy.source
"""


def finished_episodes(user, count: int) -> list[int]:
    """`count` finished episodes: one played by the scripted solver in each of a few bank task
    families, the others copies of those (same task, outcome, steps and pages), their steps
    copied by PostgreSQL itself (through the ORM, tens of thousands of pages take a minute)."""
    played = [
        play_episode(user=user, env_id="bank-v1", family=family, seed=1)
        for family in ("pay_bill", "transfer_funds", "dispute_charge", "add_payee_and_send")
    ]
    sources = [played[n % len(played)] for n in range(count - len(played))]
    copies = Episode.objects.bulk_create(
        [
            Episode(
                task=source.task,
                env_id=source.env_id,
                seed=source.seed,
                actor_kind=source.actor_kind,
                user=user,
                source=source.source,
                status=source.status,
                step_count=source.step_count,
                reward=source.reward,
                success=source.success,
                outcome=source.outcome,
                finished_at=source.finished_at,
            )
            for source in sources
        ],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            COPY_STEPS, [[copy.pk for copy in copies], [source.pk for source in sources]]
        )
    return [episode.pk for episode in played + copies]


def download(client, export_id: int, name: str) -> bytes:
    response = client.get(f"/api/v1/exports/{export_id}/files/{name}")
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_an_export_whose_worker_is_killed_finishes_on_a_new_worker_whole_and_once(
    manager, export_workers, tmp_path
):
    worker = export_workers()
    episode_ids = finished_episodes(manager, EPISODES)
    exporter = key_client(scopes=["export"], owner=manager)

    def start_export() -> int:
        response = exporter.post(
            "/api/v1/exports/", {"kind": "trajectories", "format": "parquet"}, format="json"
        )
        assert response.status_code == 202, response.json()
        return response.json()["id"]

    def detail(export_id: int) -> dict:
        return exporter.get(f"/api/v1/exports/{export_id}/").json()

    def finished(export_id: int) -> dict:
        return wait_for(
            lambda: (d := detail(export_id))["job"]["status"] not in ("queued", "running") and d,
            timeout=120,
            interval=0.2,
            message=f"export {export_id} to finish",
        )

    export_id = start_export()
    running = wait_for(
        lambda: (d := detail(export_id))["job"]["progress_done"] > 0 and d,
        timeout=60,
        interval=0.05,
        message="the export to be writing rows",
    )
    assert running["job"]["status"] == "running"
    assert running["job"]["progress_done"] < running["job"]["progress_total"] == EPISODES
    # The worker and its pool process at once: nothing is acknowledged, rejected or cleaned up.
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()

    down = detail(export_id)
    assert down["job"]["status"] == "running" and down["job"]["attempts"] == 1
    assert down["published"] is False and down["files"] == [] and down["manifest"] is None
    for name in ("data.parquet", "manifest.json"):
        assert exporter.get(f"/api/v1/exports/{export_id}/files/{name}").status_code == 409
    published_folder = Path(settings.MEDIA_ROOT) / "exports" / str(export_id)
    assert not published_folder.exists() or not any(published_folder.iterdir())

    time.sleep(VISIBILITY_SECONDS + 1)
    export_workers()
    done = finished(export_id)
    assert done["job"]["status"] == "succeeded", done["job"]["error"]
    assert done["job"]["attempts"] >= 2
    assert done["published"] is True and done["job"]["result"]["rows"] == EPISODES

    reference_id = start_export()
    reference = finished(reference_id)
    assert reference["job"]["status"] == "succeeded", reference["job"]["error"]
    assert reference["job"]["attempts"] == 1

    data = download(exporter, export_id, "data.parquet")
    assert data == download(exporter, reference_id, "data.parquet")
    manifest = json.loads(download(exporter, export_id, "manifest.json"))
    assert manifest == done["manifest"] and manifest["rows"] == EPISODES
    assert manifest["files"] == done["files"]
    assert [(file["name"], file["rows"]) for file in manifest["files"]] == [
        ("data.parquet", EPISODES)
    ]
    assert manifest["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["files"][0]["bytes"] == len(data)
    assert sorted(entry.name for entry in published_folder.iterdir()) == [
        "data.parquet",
        "manifest.json",
    ]

    parquet = tmp_path / "downloaded.parquet"
    parquet.write_bytes(data)
    rows = datasets.load_dataset("parquet", data_files=str(parquet), split="train")
    assert rows.num_rows == EPISODES
    assert sorted(rows["episode_id"]) == sorted(episode_ids)
