"""Celery tasks of the exports app. Thin: load by id, call a service."""

from celery import shared_task

from exports import services
from rlplatform.services import job_execute

WEBHOOK_RETRIES = 6


@shared_task(name="exports.tasks.run_export")
def run_export(job_id: int) -> None:
    job_execute(job_id=job_id, handler=services.export_run)


@shared_task(bind=True, name="exports.tasks.deliver_webhook", max_retries=WEBHOOK_RETRIES)
def deliver_webhook(self, delivery_id: int) -> None:
    if not services.webhook_deliver(delivery_id=delivery_id):
        # 10 s, 20 s, 40 s, ... while the receiver is down or refusing.
        raise self.retry(countdown=10 * 2**self.request.retries)
