"""Faults: the database drops every connection and the platform answers again without a
restart."""

import subprocess
import sys
import time

import httpx
import psycopg
import pytest
from django.db import connection

from tests.conftest import ROOT, subprocess_env
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gunicorn_server():
    """One gunicorn process on the test database, keeping its connections open (as in
    production) so that dropping them matters."""
    from bench.common import free_port

    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "rlplatform.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=subprocess_env(DB_CONN_MAX_AGE="600"),
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait()


def test_requests_recover_after_postgresql_drops_every_connection(admin_user, gunicorn_server):
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with make test")
    _, key = make_api_key(scopes=["agent"])
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{gunicorn_server}/api/v1/environments/", headers=headers).status_code == 200

    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        ours = cursor.fetchone()[0]
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        # Every connection of the server's; the test's own stays, to clean up after it.
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND pid <> %s",
            [name, ours],
        ).fetchone()[0]
    assert dropped >= 1

    responses = [
        httpx.get(f"{gunicorn_server}/api/v1/environments/", headers=headers).status_code
        for _ in range(3)
    ]
    assert responses == [200, 200, 200]
    ready = httpx.get(f"{gunicorn_server}/readyz").json()
    assert ready["checks"]["database"]["ok"] is True
