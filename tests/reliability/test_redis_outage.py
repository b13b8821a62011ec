"""Redis fails while contractors work: first it hangs, then it is stopped. The labeling pages and
sign-in keep answering, without an error or a long wait, and every judgment is saved once;
/readyz reports the broker down; jobs started meanwhile wait queued, then run on the worker once
Redis is back, sent again by beat's redispatch without anyone starting them again.

The platform runs as deployed (gunicorn with the deploy config, a Celery worker, celery beat),
on a redis-server of the test's own that it stops and starts again on the same port."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from bench.common import free_port
from labeling.models import Judgment
from rlplatform.models import Job, JobStatus, Role
from tests.conftest import (
    background_process,
    celery_worker_command,
    subprocess_env,
    wait_for,
    wait_started,
)
from tests.factories import GOOD_ANSWERS, PASSWORD, UserFactory, make_campaign

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# A page that takes longer than this has hung, as far as a contractor is concerned.
PAGE_TIMEOUT = 15
# Beat sends a queued job again once it has waited this long (and checks as often).
REDISPATCH_AFTER_SECONDS = 2
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
ASSIGNMENT = re.compile(r'data-assignment="(\d+)"')
IDEMPOTENCY_KEY = re.compile(r'data-idempotency-key="(\w+)"')


class RedisServer:
    """A redis-server of the test's own, with nothing kept on disk, that the test freezes,
    stops and starts again on the same port."""

    def __init__(self, log: Path):
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--logfile", str(self.log)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=10, message="redis-server to answer")

    def freeze(self) -> None:
        """Hang: connections are still accepted, and nothing is ever answered."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.wait(timeout=10)

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.ConnectionError:
            return False


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def platform_url(redis_server, tmp_path):
    """gunicorn, a Celery worker and celery beat on the test database and `redis_server`."""
    env = subprocess_env(
        REDIS_URL=redis_server.url,
        JOB_REDISPATCH_AFTER_SECONDS=str(REDISPATCH_AFTER_SECONDS),
        GUNICORN_BIND=f"127.0.0.1:{free_port()}",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="4",
    )
    url = f"http://{env['GUNICORN_BIND']}"
    commands = {
        "worker": celery_worker_command(
            queues="default,rollouts,exports",
            concurrency=1,
            hostname=f"outage-{redis_server.port}@%h",
        ),
        "beat": [
            *(sys.executable, "-m", "celery", "-A", "rlplatform", "beat", "--loglevel", "INFO"),
            *("--schedule", str(tmp_path / "beat")),
        ],
        "web": [
            *(sys.executable, "-m", "gunicorn", "rlplatform.wsgi"),
            *("--config", "deploy/gunicorn.conf.py"),
        ],
    }
    logs = {name: tmp_path / f"{name}.log" for name in commands}
    readiness = {
        "worker": lambda: "ready." in logs["worker"].read_text(),
        "beat": lambda: "beat: Starting" in logs["beat"].read_text(),
        "web": lambda: _answers(f"{url}/healthz"),
    }
    with ExitStack() as processes:
        started = {
            name: processes.enter_context(background_process(command, env=env, log=logs[name]))
            for name, command in commands.items()
        }
        for name, process in started.items():
            wait_started(process, ready=readiness[name], log=logs[name])
        yield url


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


class Person:
    """Someone using the pages as a browser does: cookies, the CSRF token each page carries, and
    a timeout past which a page counts as hung. Every answer is noted with the phase it was
    asked in."""

    def __init__(self, url: str, username: str, phase: dict[str, str], answers: list):
        self.client = httpx.Client(base_url=url, timeout=PAGE_TIMEOUT)
        self.username = username
        self.phase = phase
        self.answers = answers
        self.csrf = ""

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        phase = self.phase["now"]
        response = self.client.request(method, path, headers={"X-CSRFToken": self.csrf}, **kwargs)
        self.answers.append((phase, self.username, method, path, response.status_code))
        if match := CSRF_META.search(response.text):
            self.csrf = match.group(1)
        return response

    def take_session_of(self, user) -> None:
        """Carry on a session begun earlier (a sign-in costs the production hasher's time)."""
        client = Client()
        client.force_login(user)
        self.client.cookies.set(settings.SESSION_COOKIE_NAME, client.session.session_key)

    def sign_in(self, password: str = PASSWORD) -> httpx.Response:
        self.request("GET", "/accounts/sign-in/")
        form = {"csrfmiddlewaretoken": self.csrf, "username": self.username, "password": password}
        return self.request("POST", "/accounts/sign-in/", data=form)

    def judge_one(self, campaign_id: int) -> int | None:
        """Open the queue and the workbench, take the next item and submit a judgment of it:
        the judgment's id, or None when the campaign has nothing left for this person."""
        assert self.request("GET", "/label/").headers["Location"] == "/label/queue/"
        self.request("GET", "/label/queue/")
        self.request("GET", f"/label/campaigns/{campaign_id}/work/")
        panel = self.request("POST", f"/label/campaigns/{campaign_id}/next/").text
        assignment = ASSIGNMENT.search(panel)
        if assignment is None:
            return None
        body = {
            "answers": GOOD_ANSWERS["grade"],
            "idempotency_key": IDEMPOTENCY_KEY.search(panel).group(1),
            "time_spent_ms": 800,
        }
        submitted = self.request(
            "POST", f"/label/assignments/{assignment.group(1)}/submit/", json=body
        )
        return int(submitted.headers["X-Judgment"]) if submitted.status_code == 200 else None


def test_labeling_goes_on_while_redis_is_down_and_background_work_resumes_after(
    platform_url, redis_server, admin_user, manager
):
    contractors = UserFactory.create_batch(4, role=Role.CONTRACTOR)
    # The latecomer signs in for real, so with a hasher the server has (the tests' is not).
    latecomer = contractors[3]
    hasher = PBKDF2PasswordHasher()
    latecomer.password = hasher.encode(PASSWORD, hasher.salt())
    latecomer.save(update_fields=["password"])
    campaign = make_campaign(owner=manager, items=15, overlap=3)
    phase = {"now": "before"}
    answers: list[tuple[str, str, str, str, int]] = []
    judged: list[tuple[str, int | None]] = []
    stop = threading.Event()

    people = {}
    for user in [*contractors, admin_user, manager]:
        people[user] = Person(platform_url, user.username, phase, answers)
    for user in [*contractors[:3], admin_user, manager]:
        people[user].take_session_of(user)
    admin, managing, arriving = people[admin_user], people[manager], people[latecomer]
    admin.request("GET", "/jobs/")
    managing.request("GET", f"/label/manage/{campaign.pk}/")

    def work(person: Person) -> None:
        while not stop.is_set():
            now = phase["now"]
            judgment = person.judge_one(campaign.pk)
            if judgment is None:
                return
            judged.append((now, judgment))
            time.sleep(0.1)

    def count(which: str) -> int:
        return sum(1 for when, _ in judged if when == which)

    def readiness() -> httpx.Response:
        return httpx.get(f"{platform_url}/readyz", timeout=PAGE_TIMEOUT)

    with ThreadPoolExecutor(max_workers=3) as pool:
        working = [pool.submit(work, people[contractor]) for contractor in contractors[:3]]
        wait_for(lambda: count("before") >= 3, timeout=30, message="judgments before the outage")

        # Redis hangs: /readyz says so within its bound instead of hanging with it.
        redis_server.freeze()
        phase["now"] = "hung"
        ready = readiness()
        assert ready.status_code == 503 and ready.json()["checks"]["broker"]["ok"] is False
        wait_for(lambda: count("hung") >= 2, timeout=30, message="judgments while Redis hangs")

        redis_server.stop()
        phase["now"] = "down"
        # Sign-in itself: a latecomer starts work, after a mistyped password.
        refused = arriving.sign_in(password="not-the-password")
        assert refused.status_code == 200 and "Please enter a correct username" in refused.text
        assert arriving.sign_in().status_code == 302
        judged.append(("down", arriving.judge_one(campaign.pk)))
        # The API too: a signed-in person's calls and an anonymous one (its own throttle).
        assert arriving.request("GET", "/api/v1/assignments/").status_code == 200
        assert httpx.get(f"{platform_url}/api/v1/docs/", timeout=PAGE_TIMEOUT).status_code == 200

        ready = readiness()
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["broker"]["ok"] is False and checks["broker"]["error"]
        assert checks["database"]["ok"] is True

        # Background work started meanwhile is accepted and waits, saying why.
        started = admin.request("POST", "/statistics/recompute/")
        assert started.status_code == 302
        statistics = Job.objects.get(pk=started.headers["Location"].rstrip("/").split("/")[-1])
        assert managing.request("POST", f"/label/manage/{campaign.pk}/agreement/").is_redirect
        agreement = Job.objects.get(created_by=manager)
        for job in (statistics, agreement):
            assert (job.status, job.dispatched_at) == (JobStatus.QUEUED, None)
        page = admin.request("GET", f"/jobs/{statistics.pk}/")
        assert page.status_code == 200 and "Waiting for the task queue" in page.text
        wait_for(lambda: count("down") >= 5, timeout=30, message="judgments while Redis is down")

        redis_server.start()
        phase["now"] = "after"
        wait_for(lambda: readiness().status_code == 200, message="/readyz to recover")

        # A job started now is sent at once, on a connection made anew.
        again = admin.request("POST", "/statistics/recompute/")
        recompute = Job.objects.get(pk=again.headers["Location"].rstrip("/").split("/")[-1])
        assert recompute.dispatched_at is not None

        def finished() -> bool:
            jobs = Job.objects.filter(pk__in=[statistics.pk, agreement.pk, recompute.pk])
            return all(job.is_finished for job in jobs)

        wait_for(finished, timeout=60, interval=0.5, message="the queued jobs to run")
        wait_for(lambda: count("after") >= 1 or all(w.done() for w in working), timeout=30)
        stop.set()
        for contractor_work in working:
            contractor_work.result()
    for person in people.values():
        person.client.close()

    for job in (statistics, agreement, recompute):
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
    failures = [answer for answer in answers if answer[-1] not in (200, 302)]
    assert failures == []
    assert {when for when, *_ in answers} == {"before", "hung", "down", "after"}
    # Every judgment the pages reported is saved, once; none was lost or doubled.
    ids = [judgment for _, judgment in judged]
    assert None not in ids and len(set(ids)) == len(ids)
    saved = Judgment.objects.filter(campaign=campaign)
    assert sorted(saved.values_list("pk", flat=True)) == sorted(ids)
    assert saved.values("item", "contractor").distinct().count() == len(ids)
