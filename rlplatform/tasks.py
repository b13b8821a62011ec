"""Celery tasks of the platform core. Thin: load by id, call a service."""

from celery import shared_task

from rlplatform import services, statistics


@shared_task(name="rlplatform.tasks.recompute_statistics")
def recompute_statistics(job_id: int) -> None:
    services.job_execute(job_id=job_id, handler=statistics.statistics_recompute)


@shared_task(name="rlplatform.tasks.jobs_redispatch_stale")
def jobs_redispatch_stale() -> int:
    return services.jobs_redispatch_stale()
