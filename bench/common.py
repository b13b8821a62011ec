"""What the benchmarks share: a fresh PostgreSQL database, production-like settings, free ports."""

import os
import socket
import subprocess
import sys
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
