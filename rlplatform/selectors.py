"""Reads of the platform core."""

from django.db.models import QuerySet

from rlplatform.models import ApiKey, AuditEvent, Job, JobStatus, User


def job_list_for(*, user: User, api_key: ApiKey | None = None) -> QuerySet[Job]:
    """Admins see every job; everyone else, and every API key, the jobs they started (a key
    never borrows its owner's role)."""
    jobs = Job.objects.select_related("created_by")
    return jobs if user.is_admin and api_key is None else jobs.filter(created_by=user)


def job_latest_result(*, kind: str) -> Job | None:
    return (
        Job.objects.filter(kind=kind, status=JobStatus.SUCCEEDED).order_by("-finished_at").first()
    )


def api_key_list() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("owner", "created_by")


def audit_event_list(*, action: str | None = None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("actor")
    return events.filter(action=action) if action else events


def user_list() -> QuerySet[User]:
    return User.objects.all()
