"""Celery tasks of the labeling app. Thin: each calls a service."""

from celery import shared_task

from labeling import services
from rlplatform.services import job_execute


@shared_task(name="labeling.tasks.compute_agreement")
def compute_agreement(job_id: int) -> None:
    job_execute(job_id=job_id, handler=services.agreement_job)


@shared_task(name="labeling.tasks.generate_items")
def generate_items(job_id: int) -> None:
    job_execute(job_id=job_id, handler=services.generate_job)


@shared_task(name="labeling.tasks.expire_leases")
def expire_leases() -> int:
    return services.leases_expire()


@shared_task(name="labeling.tasks.refresh_agreement")
def refresh_agreement() -> int:
    return len(services.agreement_refresh_due())


@shared_task(name="labeling.tasks.route_episode")
def route_episode(episode_id: int) -> int:
    from labeling import routing

    return len(routing.route_episode(episode_id=episode_id))
