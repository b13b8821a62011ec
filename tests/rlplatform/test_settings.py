"""Settings come from the environment: the database switches on DATABASE_URL, production refuses
to start without a secret key, and `check --deploy` is clean with production variables."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-4f9c2e81d7b6a3059e1c",
    "ALLOWED_HOSTS": "rl.example.com",
    "DATABASE_URL": "postgres://rl:pw@db.internal:5432/rlplatform",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "CHAT_POLICY_ALLOWED_HOSTS": "models.internal",
}


# What the test process sets for itself, not what a deployment would.
NOT_INHERITED = {"DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    base = clean_environ()
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "rlplatform.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


SHOW_DATABASE = (
    "import django, json; django.setup(); from django.conf import settings; "
    "d = settings.DATABASES['default']; "
    "print(json.dumps({'engine': d['ENGINE'], 'name': str(d['NAME']), "
    "'broker': settings.CELERY_BROKER_URL}))"
)


def test_without_database_url_the_platform_uses_sqlite_under_var(tmp_path):
    result = run_python(SHOW_DATABASE, VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.sqlite3"
    assert shown["name"] == str(tmp_path / "db.sqlite3")
    assert shown["broker"] == "filesystem://"


def test_database_url_switches_to_postgresql_and_redis_url_to_redis():
    result = run_python(
        SHOW_DATABASE,
        DATABASE_URL="postgres://rl@db.internal:5433/rlp",
        REDIS_URL="redis://cache.internal:6379/2",
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.postgresql"
    assert shown["name"] == "rlp"
    assert shown["broker"] == "redis://cache.internal:6379/2"


def test_production_without_a_secret_key_refuses_to_start():
    result = run_python(
        "import django; django.setup()", DEBUG="false", SECRET_KEY="", ALLOWED_HOSTS="x"
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_check_deploy_reports_no_warnings_with_production_variables():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean_environ(), **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_chat_policies_may_call_any_host():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean_environ(), **PRODUCTION, "CHAT_POLICY_ALLOWED_HOSTS": "*"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "rlplatform.W001" in result.stderr + result.stdout


def test_the_embedded_broker_keeps_sent_tasks_on_disk_from_a_fresh_start(tmp_path):
    """With no REDIS_URL, a task sent from a fresh checkout lands in var/celery/queue for the
    worker (it was once lost: kombu does not create the folder)."""
    result = run_python(
        "import django; django.setup()\n"
        "from rlplatform.celery import app\n"
        "app.send_task('rlplatform.tasks.jobs_redispatch_stale', queue='default')\n",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "celery" / "queue").iterdir())) == 1


def test_exports_read_from_a_replica_when_one_is_named():
    result = run_python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['snapshot']['HOST'], settings.DATABASES['default']['HOST'])",
        DATABASE_URL="postgres://rl@primary.internal/rlp",
        SNAPSHOT_DATABASE_URL="postgres://rl@replica.internal/rlp",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["replica.internal", "primary.internal"]
