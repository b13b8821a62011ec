"""Reads of the platform core."""

from django.db.models import QuerySet
from django.utils.module_loading import import_string

from rlplatform.jobs import JOB_KINDS, JobDescription
from rlplatform.models import ApiKey, AuditEvent, Job, JobStatus, User


def job_list_for(*, user: User, api_key: ApiKey | None = None) -> QuerySet[Job]:
    """Admins see every job; everyone else, and every API key, the jobs they started (a key
    never borrows its owner's role)."""
    jobs = Job.objects.select_related("created_by")
    return jobs if user.is_admin and api_key is None else jobs.filter(created_by=user)


def job_title(job: Job) -> str:
    kind = JOB_KINDS.get(job.kind)
    return kind.title if kind else job.kind.replace("_", " ").capitalize()


def job_description(job: Job) -> JobDescription:
    """What the job did and links to what it made, from the apps that know its kind. A running
    job's summary is its latest progress message; a finished one's says what came of it."""
    kind = JOB_KINDS.get(job.kind)
    described = JobDescription()
    for path in kind.describers if kind else ():
        part = import_string(path)(job)
        described.summary = " ".join(text for text in (described.summary, part.summary) if text)
        described.links += part.links
    if job.status == JobStatus.FAILED:
        described.summary = ""  # its error says what happened
    elif job.status != JobStatus.SUCCEEDED:
        described.summary = job.message
    return described


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
