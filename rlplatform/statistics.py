"""Platform statistics: the demo job kind that proves the background path end to end, and the
figures an admin's home page shows."""

from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from rlplatform.jobs import JobDescription
from rlplatform.models import ApiKey, AuditEvent, Job, Role, User


def statistics_description(job: Job) -> JobDescription:
    return JobDescription(
        summary="Counted people, API keys, jobs and the last 7 days' sign-ins.",
        links=[("The figures, on the home page", reverse("home"))],
    )


def statistics_recompute(job: Job, progress) -> dict[str, Any]:
    """Count users, keys, jobs and sign-ins, section by section, reporting progress after each."""
    now = timezone.now()
    sections = [
        ("users_by_role", _users_by_role),
        ("api_keys", lambda: _api_keys(now)),
        ("jobs_by_status", _jobs_by_status),
        ("sign_ins_last_7_days", lambda: _sign_ins(now - timedelta(days=7))),
    ]
    result: dict[str, Any] = {"computed_at": now.isoformat()}
    progress(0, len(sections), "Counting")
    for index, (name, compute) in enumerate(sections, start=1):
        result[name] = compute()
        progress(index, len(sections), f"Counted {name.replace('_', ' ')}")
    return result


def _users_by_role() -> dict[str, int]:
    counts = dict(
        User.objects.filter(is_active=True).values_list("role").annotate(n=Count("id")).order_by()
    )
    return {role: counts.get(role, 0) for role in Role.values}


def _api_keys(now) -> dict[str, int]:
    keys = ApiKey.objects.all()
    return {
        "active": keys.filter(revoked_at__isnull=True).exclude(expires_at__lte=now).count(),
        "revoked": keys.filter(revoked_at__isnull=False).count(),
    }


def _jobs_by_status() -> dict[str, int]:
    return dict(Job.objects.values_list("status").annotate(n=Count("id")).order_by())


def _sign_ins(since) -> dict[str, int]:
    events = AuditEvent.objects.filter(created_at__gte=since)
    return {
        "succeeded": events.filter(action=AuditEvent.Action.SIGN_IN).count(),
        "failed": events.filter(action=AuditEvent.Action.SIGN_IN_FAILED).count(),
    }
