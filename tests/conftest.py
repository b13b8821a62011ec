import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from rlplatform.models import Role
from tests.factories import PASSWORD, UserFactory, make_api_key

ROOT = Path(__file__).resolve().parent.parent
# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests make
# beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Redis on a port where nothing listens: a cache that is down.
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


@pytest.fixture(autouse=True)
def _test_defaults(settings):
    # Throttle counters live in the cache; each test starts with none.
    from django.core.cache import cache

    cache.clear()
    # The production hasher is slow on purpose; tests create many people.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield
    # Exports read through this second connection; it must not outlive the test database.
    from django.db import connections

    connections["snapshot"].close()


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN)


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=Role.MANAGER)


@pytest.fixture
def reviewer(db):
    return UserFactory(username="reviewer", role=Role.REVIEWER)


@pytest.fixture
def contractor(db):
    return UserFactory(username="contractor", role=Role.CONTRACTOR)


@pytest.fixture
def api():
    return APIClient()


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def key_client(*, scopes: list[str], owner=None) -> APIClient:
    _, plaintext = make_api_key(scopes=scopes, owner=owner)
    return bearer_client(plaintext)


def bearer_client(presented: str) -> APIClient:
    """A client presenting `presented` as its API key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {presented}")
    return client


@pytest.fixture
def password() -> str:
    return PASSWORD


def database_url_for_subprocess() -> str:
    """The URL of the database this test session uses (the test database), for processes the
    tests start."""
    from django.db import connection

    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    user = config.get("USER") or "postgres"
    return f"postgres://{user}@{host}:{port}/{config['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess(), "DB_CONN_MAX_AGE": "0"}
    env.update(extra)
    return env


def _purge_broker() -> None:
    from rlplatform.celery import app

    app.control.purge()


@pytest.fixture(autouse=True)
def _tasks_reach_the_broker_only_in_worker_tests(request, monkeypatch):
    """Only tests marked `worker` send tasks to the broker, and what they leave there is purged
    after them. A task another test left on the session's worker would run against the next
    test's data, or hold an export's snapshot open while the test database is flushed, and the
    flush would wait for ever."""
    from celery.result import AsyncResult

    from rlplatform.celery import app

    if request.node.get_closest_marker("worker") is None:
        monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: AsyncResult(uuid4().hex))
        yield
        return
    yield
    _purge_broker()


def celery_worker_command(*, queues: str, concurrency: int, hostname: str = "") -> list[str]:
    """The command line of a test's Celery worker: no gossip or mingle, which only slow the
    start of a worker that is alone or nearly."""
    return [
        sys.executable,
        *("-m", "celery", "-A", "rlplatform", "worker"),
        *("--queues", queues, "--concurrency", str(concurrency), "--loglevel", "INFO"),
        *("--without-gossip", "--without-mingle"),
        *(("--hostname", hostname) if hostname else ()),
    ]


def start_celery_worker(
    *, queues: str, log_path: Path, concurrency: int = 2, **env: str
) -> subprocess.Popen:
    """A real Celery worker process on `queues`, against the test database and the test broker,
    in its own process group (stop it with stop_process_group); returns once it is ready."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            celery_worker_command(queues=queues, concurrency=concurrency),
            cwd=ROOT,
            env=subprocess_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_started(process, ready=lambda: "ready." in log_path.read_text(), log=log_path)
    except BaseException:
        stop_process_group(process)
        raise
    return process


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real Celery worker process on every queue, against the test database and the test
    broker (Redis database 15, or the filesystem transport under var/test). Shared by the
    session; tests that use it need committed data (`transactional_db`)."""
    _purge_broker()
    with django_db_blocker.unblock():
        # Short leases and visibility: tests kill workers and wait for the work to come back.
        # Rollouts call the tests' local fake model server (tests/environments/fake_llm.py).
        process = start_celery_worker(
            queues="default,rollouts,exports",
            log_path=Path(settings.VAR_DIR) / "worker.log",
            ROLLOUT_LEASE_SECONDS="3",
            CELERY_VISIBILITY_TIMEOUT="20",
            OUTBOUND_ALLOW_PRIVATE="true",
        )
    yield process
    stop_process_group(process)


@contextmanager
def background_process(
    command: list[str], *, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen]:
    """Run `command` from the project root in a process group of its own, its output in `log`,
    for the block; the whole group is stopped when the block ends, however it ends."""
    with open(log, "w") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            stop_process_group(process)


def wait_started(process: subprocess.Popen, *, ready: Callable[[], bool], log: Path) -> None:
    """Wait until `ready()`; fail with the end of `log` if the process exits first."""
    wait_for(
        lambda: ready() or process.poll() is not None,
        timeout=60,
        message=f"the process logging to {log.name} to start",
    )
    if process.poll() is not None:
        raise RuntimeError(f"{process.args[:5]} exited: {log.read_text()[-3000:]}")


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop a process and its children (a worker's pool): SIGTERM, or SIGKILL if that hangs."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        process.wait()
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message or predicate}")


@pytest.fixture(scope="session")
def browser():
    """One headless Debian chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def wait_for_play(page) -> None:
    """Wait until the play page is shown and its script runs: play.js is deferred, and a field
    filled before it runs sends no step."""
    page.wait_for_selector("#env-stage")
    page.wait_for_load_state("domcontentloaded")


def browser_sign_in(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
