"""Scale-out on one machine: two web processes and two Celery workers, separate processes on
loopback, sharing PostgreSQL and Redis. A rollout and an export go through them; both workers
take part, and nothing is lost or done twice."""

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from bench.common import free_port
from environments.models import Episode, RolloutItem
from tests.conftest import ROOT, celery_worker_command, subprocess_env, wait_for
from tests.factories import make_api_key

pytestmark = [pytest.mark.slow, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Their own Redis database: the suite's shared worker must not take this test's tasks.
BROKER = "redis://127.0.0.1:6379/12"


@pytest.fixture
def cluster(django_db_blocker):
    if not os.environ.get("REDIS_URL"):
        pytest.fail("scale-out needs Redis: run it with make test")
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    env = subprocess_env(
        REDIS_URL=BROKER, DB_CONN_MAX_AGE="60", LOG_LEVEL="WARNING", ROLLOUT_LEASE_SECONDS="10"
    )
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "rlplatform.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--worker-class",
                "gthread",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for port in ports
    ] + [
        subprocess.Popen(
            celery_worker_command(
                queues="default,rollouts,exports", concurrency=1, hostname=f"node{number}@%h"
            ),
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for number in (1, 2)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    for url in urls:
        wait_for(lambda url=url: _answers(url), timeout=30, message=f"{url} to answer")
    time.sleep(3)  # the workers connect to the broker
    yield urls
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_a_rollout_and_an_export_through_two_web_processes_and_two_workers(cluster, admin_user):
    first, second = cluster
    agent = {"Authorization": f"Bearer {make_api_key(scopes=['agent'])[1]}"}
    exporter = {"Authorization": f"Bearer {make_api_key(scopes=['export'])[1]}"}

    started = httpx.post(
        f"{first}/api/v1/rollouts/",
        json={
            "environments": ["bank-v1"],
            "count": 3,
            "policy": {"kind": "scripted"},
            "concurrency": 4,
        },
        headers=agent,
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]

    def rollout_done():
        job = httpx.get(f"{second}/api/v1/jobs/{job_id}/", headers=agent).json()
        return job if job["status"] in ("succeeded", "failed") else None

    job = wait_for(rollout_done, timeout=180, message="the rollout to finish")
    assert job["status"] == "succeeded", job["error"]
    items = RolloutItem.objects.filter(job_id=job_id)
    assert items.count() == 24 and set(items.values_list("status", flat=True)) == {"done"}
    workers = {worker.split(":")[0] for worker in items.values_list("worker", flat=True)}
    pids = set(items.values_list("worker", flat=True))
    assert len(pids) == 2, f"one worker did all the work: {workers}"
    episodes = Episode.objects.filter(rollout_item__job_id=job_id)
    assert episodes.count() == 24
    assert Episode.objects.filter(metadata__rollout=job_id).count() == 24

    export = httpx.post(
        f"{second}/api/v1/exports/",
        json={"kind": "trajectories", "format": "jsonl"},
        headers=exporter,
    ).json()

    def published():
        detail = httpx.get(f"{first}/api/v1/exports/{export['id']}/", headers=exporter).json()
        return detail if detail["published"] or detail["job"]["status"] == "failed" else None

    detail = wait_for(published, timeout=120, message="the export to be published")
    assert detail["published"], detail["job"]["error"]
    download = httpx.get(
        f"{second}/api/v1/exports/{export['id']}/files/data.jsonl", headers=exporter
    )
    lines = download.content.splitlines()
    assert len(lines) == detail["files"][0]["rows"] == 24
