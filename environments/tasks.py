"""Celery tasks of the environments app. Thin: they call the rollout services, which decide
what a retry or a second delivery does."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from environments import imports, rollouts, selectors, services
from environments.policies import PolicyUnavailable
from rlplatform.services import job_error_text, job_execute

logger = logging.getLogger(__name__)

# Failures outside the episode: tried again, with backoff, this many times.
INFRASTRUCTURE_RETRIES = 3


@shared_task(name="environments.tasks.dispatch_rollout")
def dispatch_rollout(job_id: int, policy_api_key: str = "") -> None:
    rollouts.rollout_dispatch(job_id=job_id, policy_api_key=policy_api_key)


@shared_task(bind=True, name="environments.tasks.run_rollout_item", max_retries=None)
def run_rollout_item(self, item_id: int, policy_api_key: str = "") -> None:
    try:
        rollouts.rollout_item_run(item_id=item_id, policy_api_key=policy_api_key)
    except rollouts.ItemBusy:
        # Another worker holds the item; look again once its lease may have run out.
        raise self.retry(countdown=rollouts.LEASE.total_seconds()) from None
    except (PolicyUnavailable, DatabaseError) as error:
        if self.request.retries >= INFRASTRUCTURE_RETRIES:
            rollouts.rollout_item_failed(
                item_id=item_id,
                error=job_error_text(error),
                policy_api_key=policy_api_key,
            )
            return
        raise self.retry(countdown=5 * 2**self.request.retries) from error
    except Exception as error:
        logger.exception("rollout item %s failed", item_id)
        rollouts.rollout_item_failed(
            item_id=item_id, error=job_error_text(error), policy_api_key=policy_api_key
        )


@shared_task(name="environments.tasks.check_environments")
def check_environments(seeds: int = services.CHECK_SEEDS) -> list[int]:
    """Check every environment (on the default queue) and store each report."""
    return [
        services.environment_check(env_id=env.id, seeds=seeds).pk
        for env in selectors.environment_list()
    ]


@shared_task(name="environments.tasks.rollouts_recover")
def rollouts_recover() -> int:
    return rollouts.rollouts_recover()


@shared_task(name="environments.tasks.import_trajectories")
def import_trajectories(job_id: int) -> None:
    job_execute(job_id=job_id, handler=imports.import_job_run)


@shared_task(name="environments.tasks.abandon_idle_episodes")
def abandon_idle_episodes() -> int:
    idle_for = timedelta(seconds=settings.EPISODE_IDLE_TIMEOUT_SECONDS)
    return services.episodes_abandon_idle(idle_for=idle_for)
