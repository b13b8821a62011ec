"""The kinds of background job: which Celery task runs each, and on which queue. One table, so
the web process and every worker agree on where a job goes."""

from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    kind: str
    title: str
    task_name: str
    queue: str


JOB_KINDS: dict[str, JobKind] = {
    kind.kind: kind
    for kind in [
        JobKind(
            kind="recompute_statistics",
            title="Recompute platform statistics",
            task_name="rlplatform.tasks.recompute_statistics",
            queue="default",
        ),
    ]
}


def get_kind(kind: str) -> JobKind:
    try:
        return JOB_KINDS[kind]
    except KeyError:
        from rlplatform.services import ServiceError

        raise ServiceError(
            f"unknown job kind '{kind}'; known kinds: {', '.join(sorted(JOB_KINDS))}", field="kind"
        ) from None
