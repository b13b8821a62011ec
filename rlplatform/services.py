"""Writes of the platform core: users and roles, API keys, sign-in throttling, jobs, audit."""

import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from rlplatform import rawsql
from rlplatform.caching import cache_call
from rlplatform.models import ApiKey, ApiKeyScope, AuditEvent, Job, JobStatus, Role, User

logger = logging.getLogger(__name__)

API_KEY_PREFIX = "rlp"
# Writing last_used_at on every request would turn every agent step into a write on this row.
API_KEY_LAST_USED_RESOLUTION = timedelta(minutes=1)


class ServiceError(Exception):
    """A request the platform refuses; `field` names the input at fault when there is one."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class NotAllowed(ServiceError):
    def __init__(self, message: str):
        super().__init__(message, code="permission_denied")


class ApiKeyRejected(Exception):
    """Why a presented key was not accepted; the message is safe to show the caller."""


class SignInLocked(Exception):
    pass


class JobCancelled(Exception):
    pass


class JobFailed(Exception):
    """Raised by a job's handler to fail the job with a message and a result to show (a report
    of what was wrong), as opposed to crashing."""

    def __init__(self, message: str, result: dict[str, Any] | None = None):
        super().__init__(message)
        self.result = result


# Audit


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    actor_label: str = "",
    target: str = "",
    ip_address: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor_label or (actor.username if actor is not None and actor.pk else ""),
        target=target[:200],
        ip_address=ip_address,
        details=details or {},
    )


# Users and roles


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: str = Role.CONTRACTOR,
    email: str = "",
    display_name: str = "",
    created_by: User | None = None,
) -> User:
    if role not in Role.values:
        raise ServiceError(
            f"'{role}' is not a role; choose one of {', '.join(Role.values)}", field="role"
        )
    if User.objects.filter(username=username).exists():
        raise ServiceError(f"a user named '{username}' already exists", field="username")
    user = User.objects.create_user(
        username, password, role=role, email=email, display_name=display_name
    )
    audit_record(
        action=AuditEvent.Action.USER_CREATED,
        actor=created_by,
        target=f"user:{user.username}",
        details={"role": role},
    )
    return user


@transaction.atomic
def user_set_role(
    *, user: User, role: str, changed_by: User | None, ip_address: str | None = None
) -> User:
    if role not in Role.values:
        raise ServiceError(
            f"'{role}' is not a role; choose one of {', '.join(Role.values)}", field="role"
        )
    previous = User.objects.select_for_update().values_list("role", flat=True).get(pk=user.pk)
    if previous == role:
        return user
    if (
        previous == Role.ADMIN
        and not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()
    ):
        raise ServiceError("the last active admin cannot lose the admin role", field="role")
    user.role = role
    user.save(update_fields=["role"])
    audit_record(
        action=AuditEvent.Action.ROLE_CHANGED,
        actor=changed_by,
        target=f"user:{user.username}",
        ip_address=ip_address,
        details={"from": previous, "to": role},
    )
    return user


# Sign-in throttling: counters in the shared cache, per username and per address. While the
# cache is unreachable, sign-in works without them (availability over throttling during an
# outage): no lockout is enforced and failures go uncounted.


def _signin_keys(username: str, ip_address: str | None) -> tuple[str, str]:
    digest = hashlib.sha256(username.lower().encode()).hexdigest()[:32]
    return f"signin:fail:user:{digest}", f"signin:fail:ip:{ip_address or 'unknown'}"


def _signin_failures(key: str) -> int:
    return cache_call(lambda: int(cache.get(key, 0)), default=0, purpose="sign-in lockout")


def signin_check_allowed(*, username: str, ip_address: str | None) -> None:
    user_key, ip_key = _signin_keys(username, ip_address)
    limit = settings.SIGNIN_MAX_FAILURES
    # An address gets more room than a name, since several people may share one.
    if _signin_failures(user_key) >= limit or _signin_failures(ip_key) >= limit * 4:
        minutes = max(1, settings.SIGNIN_LOCKOUT_SECONDS // 60)
        audit_record(
            action=AuditEvent.Action.SIGN_IN_LOCKED,
            actor_label=username[:150],
            target=f"user:{username}"[:200],
            ip_address=ip_address,
        )
        raise SignInLocked(
            f"Too many failed sign-ins. Sign-in is locked for {minutes} minutes; "
            "try again later or ask an admin to reset your password."
        )


def _signin_count_failure(key: str) -> None:
    cache.add(key, 0, timeout=settings.SIGNIN_LOCKOUT_SECONDS)
    cache.incr(key)


def signin_record_failure(*, username: str, ip_address: str | None) -> None:
    for key in _signin_keys(username, ip_address):
        cache_call(partial(_signin_count_failure, key), default=None, purpose="sign-in lockout")


def signin_clear_failures(*, username: str) -> None:
    user_key = _signin_keys(username, None)[0]
    cache_call(lambda: cache.delete(user_key), default=False, purpose="sign-in lockout")


# API keys


def _hash_secret(secret: str) -> str:
    # The secret is 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def _parse_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = list(dict.fromkeys(scopes))
    if not scopes:
        raise ServiceError("give at least one scope", field="scopes")
    unknown = [scope for scope in scopes if scope not in ApiKeyScope.values]
    if unknown:
        raise ServiceError(
            f"unknown scope {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(ApiKeyScope.values)}",
            field="scopes",
        )
    return sorted(scopes)


@transaction.atomic
def api_key_create(
    *,
    name: str,
    scopes: Iterable[str],
    created_by: User,
    owner: User | None = None,
    expires_at: datetime | None = None,
    ip_address: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is never stored or shown again."""
    if not created_by.is_admin:
        raise NotAllowed("only admins create API keys")
    name = name.strip()
    if not name:
        raise ServiceError("give the key a name", field="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError("the expiry must be in the future", field="expires_at")
    owner = owner or created_by
    scopes = _parse_scopes(scopes)
    if ApiKeyScope.ADMIN in scopes and not owner.is_admin:
        raise ServiceError("a key with the 'admin' scope must belong to an admin", field="owner")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scopes=scopes,
        owner=owner,
        created_by=created_by,
        expires_at=expires_at,
    )
    audit_record(
        action=AuditEvent.Action.KEY_CREATED,
        actor=created_by,
        target=f"key:{prefix}",
        ip_address=ip_address,
        details={"name": name, "scopes": key.scopes},
    )
    return key, f"{API_KEY_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, key: ApiKey, revoked_by: User, ip_address: str | None = None) -> ApiKey:
    if not revoked_by.is_admin:
        raise NotAllowed("only admins revoke API keys")
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            action=AuditEvent.Action.KEY_REVOKED,
            actor=revoked_by,
            target=f"key:{key.prefix}",
            ip_address=ip_address,
            details={"name": key.name},
        )
    return key


def api_key_verify(*, presented: str, ip_address: str | None = None) -> ApiKey:
    """Return the active key `presented` names, or raise ApiKeyRejected saying why."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        raise ApiKeyRejected("malformed API key: expected 'rlp_<prefix>_<secret>'")
    _, prefix, secret = parts
    key = _api_key_with_owner(prefix)
    # Compare even when no row matched, so a wrong prefix costs the same as a wrong secret.
    expected = key.secret_hash if key is not None else _hash_secret(secrets.token_urlsafe(32))
    if not hmac.compare_digest(expected, _hash_secret(secret)) or key is None:
        raise ApiKeyRejected("invalid API key")
    if key.is_revoked or key.is_expired:
        reason = "revoked" if key.is_revoked else "expired"
        audit_record(
            action=AuditEvent.Action.KEY_REFUSED,
            actor_label=f"key:{prefix}",
            target=f"key:{prefix}",
            ip_address=ip_address,
            details={"reason": reason},
        )
        raise ApiKeyRejected(f"this API key was {reason}; ask an admin for a new one")
    if not key.owner.is_active:
        raise ApiKeyRejected("this API key's owner is deactivated")
    if ApiKeyScope.ADMIN in key.scopes and not key.owner.is_admin:
        raise ApiKeyRejected("this admin key's owner is no longer an admin")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > API_KEY_LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def _api_key_with_owner(prefix: str) -> ApiKey | None:
    """The key with this prefix, with its owner: every API request's first query, in plain SQL
    (see rawsql)."""
    with connection.cursor() as cursor:
        cursor.execute(_api_key_sql(), [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(ApiKey._meta.concrete_fields)
    key = rawsql.from_row(ApiKey, row[:width])
    key.owner = rawsql.from_row(User, row[width:])
    return key


@functools.cache
def _api_key_sql() -> str:
    return (
        f"SELECT {rawsql.columns(ApiKey, 'k')}, {rawsql.columns(User, 'u')} "  # noqa: S608
        f"FROM {rawsql.table(ApiKey)} k JOIN {rawsql.table(User)} u ON u.id = k.owner_id "
        "WHERE k.prefix = %s"
    )


# Jobs: a Job row is created in the request, the Celery task is sent once the row is committed,
# and the worker runs the kind's handler through job_execute.

JobHandler = Callable[[Job, "JobProgress"], dict[str, Any] | None]


class JobProgress:
    """Handed to a job's handler to report progress, which renews the attempt's lease; raises
    JobCancelled once the job is cancelled or a newer attempt has taken it over (this one lost
    its lease), so the handler stops at its next report."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        fields: dict[str, Any] = {"progress_done": done, "updated_at": timezone.now()}
        if total is not None:
            fields["progress_total"] = total
        if message is not None:
            fields["message"] = message[:500]
        if not _this_attempt(self.job).update(**fields):
            raise JobCancelled()
        for name, value in fields.items():
            setattr(self.job, name, value)


def _this_attempt(job: Job) -> QuerySet[Job]:
    """The job's row while this attempt still runs it: not cancelled, not taken over."""
    return Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts)


def job_create(
    *,
    kind: str,
    params: dict[str, Any] | None = None,
    created_by: User | None = None,
    task_kwargs: dict[str, Any] | None = None,
) -> Job:
    """Create a queued Job and send its task when the surrounding transaction commits.
    `task_kwargs` travel in the task message only (for secrets the job row must not hold)."""
    from rlplatform import jobs

    jobs.get_kind(kind)
    job = Job.objects.create(kind=kind, params=params or {}, created_by=created_by)
    transaction.on_commit(lambda: job_dispatch(job=job, task_kwargs=task_kwargs))
    return job


def job_dispatch(*, job: Job, task_kwargs: dict[str, Any] | None = None) -> None:
    from rlplatform import jobs
    from rlplatform.celery import app

    registered = jobs.get_kind(job.kind)
    try:
        app.send_task(
            registered.task_name, args=[job.pk], kwargs=task_kwargs or {}, queue=registered.queue
        )
    except Exception as error:
        # The job stays queued; the periodic redispatch sends it again once the broker is back.
        logger.warning("could not send job %s to the broker: %s", job.pk, error)
        Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            message="Waiting for the task queue to become reachable; it will be sent again."
        )
        return
    Job.objects.filter(pk=job.pk).update(dispatched_at=timezone.now())


def job_execute(*, job_id: int, handler: JobHandler) -> None:
    """Run `handler` for a job unless it has finished or another attempt is running it. A
    redelivered task (a worker died, or the message was sent twice) finds the job finished, or
    running with its lease held, and does nothing; a job whose lease ran out is run again."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return
        if job.status == JobStatus.RUNNING and job.updated_at > _lease_start():
            # Another attempt is alive (its progress reports renew the lease): this message is a
            # duplicate. Should that attempt die, beat sends the job again once its lease is out;
            # should it only have gone quiet, it stops at its next report (see _this_attempt).
            logger.info("job %s is already running; a duplicate message was dropped", job.pk)
            return
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or timezone.now()
        job.error = ""
        job.save(update_fields=["status", "attempts", "started_at", "error", "updated_at"])
    try:
        result = handler(job, JobProgress(job))
    except JobCancelled:
        return
    except JobFailed as failure:
        _this_attempt(job).update(
            status=JobStatus.FAILED,
            error=str(failure)[:5000],
            result=failure.result,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        return
    except Exception as error:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _this_attempt(job).update(
            status=JobStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:5000],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        return
    finished = timezone.now()
    done = job.progress_total or job.progress_done
    _this_attempt(job).update(
        status=JobStatus.SUCCEEDED,
        result=result,
        progress_done=done,
        progress_total=done,
        finished_at=finished,
        updated_at=finished,
    )


@transaction.atomic
def job_cancel(*, job: Job, cancelled_by: User) -> Job:
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.is_finished:
        raise ServiceError(
            f"job {job.pk} has already {job.status}", field="status", code="conflict"
        )
    job.status = JobStatus.CANCELLED
    job.finished_at = timezone.now()
    job.message = f"Cancelled by {cancelled_by.username}"
    job.save(update_fields=["status", "finished_at", "message", "updated_at"])
    from rlplatform import jobs

    if hook := jobs.get_kind(job.kind).on_cancel:
        import_string(hook)(job)
    return job


def _lease_start() -> datetime:
    """A running job last heard from before this has lost its lease."""
    return timezone.now() - timedelta(seconds=settings.JOB_LEASE_SECONDS)


def jobs_redispatch_stale() -> int:
    """Send again every job still queued long after it was created (its message was lost, or
    the broker was down when it was started), and every running job whose lease ran out (its
    worker died). Duplicates are harmless: job_execute skips them."""
    from rlplatform import jobs

    cutoff = timezone.now() - timedelta(seconds=settings.JOB_REDISPATCH_AFTER_SECONDS)
    stale = list(
        Job.objects.filter(status=JobStatus.QUEUED, created_at__lt=cutoff).filter(
            dispatched_at__isnull=True
        )
        | Job.objects.filter(status=JobStatus.QUEUED, dispatched_at__lt=cutoff)
        # Once per lease, not at every look. Rollouts are not run by one attempt: their items
        # hold leases of their own, and rollouts_recover sends back the items of dead workers.
        | Job.objects.filter(
            status=JobStatus.RUNNING,
            updated_at__lt=_lease_start(),
            dispatched_at__lt=_lease_start(),
        ).exclude(kind__in=jobs.rollout_item_kinds())
    )
    for job in stale:
        job_dispatch(job=job)
    return len(stale)
