"""What the benchmarks share: a fresh PostgreSQL database, production-like settings, free ports,
and the servers they measure."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# One database per benchmark script, so two benchmarks can run at once.
DATABASE = f"rlplatform_bench_{Path(sys.argv[0]).stem}"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
# Database 14 unless told otherwise: a bench run beside another one needs its own, since each
# flushes it and their workers would take each other's tasks.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def server_env(**extra: str) -> dict[str, str]:
    """Production settings on loopback (no TLS), with the bench database and Redis database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rlplatform.settings",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-bench-only-secret-key-bench-only-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "API_THROTTLE_PRINCIPAL": "10000000/min",
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(ROOT / "var" / "bench"),
        **extra,
    }


def prepare_database() -> None:
    """Recreate the bench database and migrate it; flush the bench Redis database."""
    import psycopg
    import redis

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=server_env(), check=True)


def run_django(code: str) -> str:
    """Run Python with Django set up against the bench database; return its last output line."""
    out = subprocess.run(
        [PY, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=server_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(
    port: int, workers: int, threads: int, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """gunicorn (gthread) on loopback, in its own process group; returns once it answers."""
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "rlplatform.wsgi",
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
            *("--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env or server_env(),
        start_new_session=True,
    )
    wait_healthy(port, process, "gunicorn")
    return process


def wait_healthy(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{what} did not start")


def stop(process: subprocess.Popen) -> None:
    """Stop a server and its children: SIGTERM to its group, SIGKILL if that hangs."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def copy_grade_items(*, campaign, episodes: list, count: int, overlap: int) -> None:
    """`count` open items in a grade campaign, added by COPY (the services add items one at a
    time, too slow for a million), each one of `episodes` under its own key, in random
    priorities; then ANALYZE, so the queue's plans see them. Needs Django set up."""
    import random

    from django.db import connection
    from django.utils import timezone

    from labeling.models import WorkItem

    rng = random.Random(7)
    now = timezone.now()
    columns = (
        "campaign_id, source_key, task_id, episode_a_id, is_gold, is_qualification, priority, "
        "remaining, judgment_count, status, review_status, created_at"
    )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {WorkItem._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for number in range(count):
            episode = episodes[number % len(episodes)]
            copy.write_row(
                (
                    *(campaign.pk, f"bench:{number}", episode.task_id, episode.pk, False, False),
                    *(rng.randrange(3), overlap, 0, "open", "", now),
                )
            )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {WorkItem._meta.db_table}")
