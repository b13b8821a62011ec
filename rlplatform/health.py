"""Liveness and readiness: what a load balancer and an orchestrator ask."""

import time
from typing import Any

from django.conf import settings
from django.db import connections
from kombu import Connection


def check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}".strip()[:300]}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def check_broker() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
            connect_timeout=2,
        ) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}".strip()[:300]}
    transport = settings.CELERY_BROKER_URL.split(":", 1)[0]
    return {
        "ok": True,
        "transport": transport,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def readiness() -> dict[str, Any]:
    checks = {"database": check_database(), "broker": check_broker()}
    return {"ready": all(check["ok"] for check in checks.values()), "checks": checks}
