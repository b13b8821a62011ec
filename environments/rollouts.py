"""Rollout jobs: many episodes of tasks played by a policy, on the `rollouts` queue.

A rollout is a Job whose planned episodes are RolloutItem rows, all created when it starts:
every (environment, family, seed) of the spec, `attempts` times each. An evaluation
(evaluations/) is a rollout of its own job kind, whose report is stored when its last item ends.
Each item runs as its own Celery task, so one job's episodes spread over every worker; at most
`concurrency` run at once, each finished item sending the next. Items are idempotent: a task
delivered twice, or again after its worker died, resumes the item's one episode from its
recorded steps (never starting a second), and a lease keeps two workers off one item.
"""

import itertools
import logging
import os
import socket
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count, F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from environments import observations, policies
from environments.engine import prompts
from environments.engine.page import page_from_json
from environments.engine.variants import DEFAULT as DEFAULT_VARIANT
from environments.engine.variants import VARIANTS
from environments.models import ActorKind, Episode, RolloutItem, RolloutItemStatus
from environments.services import (
    MAX_SEED,
    StepRequest,
    engine_task,
    environment_get,
    episode_abandon,
    episode_create,
    episode_page,
    episodes_step,
    task_get_or_create,
)
from rlplatform import jobs, outbound
from rlplatform.models import ApiKey, Job, JobStatus, User
from rlplatform.services import ServiceError, job_create

logger = logging.getLogger(__name__)

MAX_ITEMS = 100_000
MAX_CONCURRENCY = 256
MAX_ATTEMPTS = 32
LEASE = timedelta(seconds=settings.ROLLOUT_LEASE_SECONDS)


class ItemBusy(Exception):
    """Another worker holds the item's lease; try again once it may have run out."""


def _validate_spec(spec: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    """The (environment, family, seed, variant) of every planned episode, each task `attempts`
    times in a row in each variant, or a ServiceError naming the field at fault (the episode
    settings included)."""
    _settings_of(spec)
    environments = spec.get("environments") or []
    if not environments:
        raise ServiceError("name at least one environment", field="environments")
    families_wanted = spec.get("families") or []
    plan: list[tuple[str, str]] = []
    for env_id in environments:
        env = environment_get(env_id)
        families = [f for f in families_wanted if f in env.families] or (
            [] if families_wanted else list(env.families)
        )
        if not families:
            raise ServiceError(
                f"none of {', '.join(families_wanted)} is a family of {env.id}", field="families"
            )
        plan += [(env.id, family) for family in families]
    unknown = set(families_wanted) - {family for _, family in plan}
    if unknown:
        raise ServiceError(f"unknown families: {', '.join(sorted(unknown))}", field="families")
    if spec.get("seeds"):
        seeds = [int(seed) for seed in spec["seeds"]]
    elif spec.get("count"):
        start, count = int(spec.get("seed_start", 0)), int(spec["count"])
        # Checked before any list is built: a huge count must not reach memory.
        if count * len(plan) > MAX_ITEMS:
            raise ServiceError(
                f"{count * len(plan)} episodes planned; at most {MAX_ITEMS} in one rollout",
                field="count",
            )
        if start + count - 1 > MAX_SEED:
            raise ServiceError(f"seeds go up to {MAX_SEED}", field="seed_start")
        seeds = list(range(start, start + count))
    else:
        raise ServiceError("give seeds, or a count of seeds per family", field="seeds")
    attempts = int(spec.get("attempts", 1))
    if not 1 <= attempts <= MAX_ATTEMPTS:
        raise ServiceError(f"attempts must be between 1 and {MAX_ATTEMPTS}", field="attempts")
    variants = _variants_of(spec)
    planned = len(plan) * len(seeds) * len(variants) * attempts
    if planned > MAX_ITEMS:
        raise ServiceError(
            f"{planned} episodes planned; at most {MAX_ITEMS} in one rollout", field="count"
        )
    items = [
        (env_id, family, seed, variant)
        for (env_id, family), seed, variant, _ in itertools.product(
            plan, seeds, variants, range(attempts)
        )
    ]
    policy = spec.get("policy") or {}
    if policy.get("kind") not in policies.POLICY_KINDS:
        raise ServiceError(
            f"policy.kind must be one of {', '.join(policies.POLICY_KINDS)}", field="policy"
        )
    if policy["kind"] == "chat":
        for name in ("base_url", "model"):
            if not policy.get(name):
                raise ServiceError(f"a chat policy needs {name}", field=f"policy.{name}")
        _check_base_url(str(policy["base_url"]))
        if policy.get("prompt", prompts.DEFAULT_PROMPT) not in prompts.PROMPTS:
            raise ServiceError(
                f"policy.prompt must be one of {', '.join(prompts.PROMPTS)}", field="policy.prompt"
            )
        try:
            prompts.parse_history(policy.get("history", prompts.DEFAULT_HISTORY))
        except ValueError as error:
            raise ServiceError(f"policy.{error}", field="policy.history") from None
    concurrency = int(spec.get("concurrency", 8))
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ServiceError(
            f"concurrency must be between 1 and {MAX_CONCURRENCY}", field="concurrency"
        )
    return items


def _check_base_url(base_url: str) -> None:
    """Workers call a chat policy's base_url: it must be http(s) on an allowed host, at an
    address the platform may call (rlplatform/outbound.py)."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ServiceError(
            "policy.base_url must be an http(s) URL, e.g. https://models.internal/v1",
            field="policy.base_url",
        )
    allowed = settings.CHAT_POLICY_ALLOWED_HOSTS
    if not any(
        pattern == "*"
        or host == pattern.lower()
        or (pattern.startswith("*.") and host.endswith(pattern[1:].lower()))
        for pattern in allowed
    ):
        raise ServiceError(
            f"policy.base_url: host {host!r} is not one the platform may call "
            "(an admin lists them in CHAT_POLICY_ALLOWED_HOSTS)",
            field="policy.base_url",
        )
    outbound.check_url(base_url, field="policy.base_url")


def _variants_of(spec: dict[str, Any]) -> list[str]:
    """The UI variants each task is played in (default: the environment's own pages)."""
    variants = list(dict.fromkeys(spec.get("variants") or [DEFAULT_VARIANT]))
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ServiceError(
            f"unknown variants: {', '.join(map(repr, unknown))}; variants: {', '.join(VARIANTS)}",
            field="variants",
        )
    return variants


def _settings_of(params: dict[str, Any]) -> observations.EpisodeSettings:
    """The episodes' reward mode and observation settings (a policy reads text, so only the
    text observation modes). A chat policy is shown pages as step rows show them unless the
    spec says otherwise: pruned, and always within a budget (1,800 characters by default)."""
    mode, max_chars = params.get("observation_mode"), params.get("max_observation_chars")
    if (params.get("policy") or {}).get("kind") == "chat":
        mode = mode or prompts.DEFAULT_OBSERVATION_MODE
        if max_chars is None:
            max_chars = prompts.DEFAULT_MAX_OBSERVATION_CHARS
    return observations.episode_settings(
        reward_mode=params.get("reward_mode"),
        observation_mode=mode,
        max_observation_chars=max_chars,
        text_only=True,
    )


@transaction.atomic
def rollout_start(
    *, spec: dict[str, Any], user: User, api_key: ApiKey | None = None, kind: str = "rollout"
) -> Job:
    """Plan a rollout and start its first `concurrency` episodes on the rollouts queue. `kind`
    is the job's: "rollout", or another kind run by rollout items (an evaluation).

    The chat policy's API key is the spec's `policy.api_key` (kept out of the job's visible
    parameters), else the platform's CHAT_POLICY_API_KEY when `base_url` is its own server.
    """
    items = _validate_spec(spec)
    policy = dict(spec["policy"])
    # A key given with the job travels in the task messages only, never in the database.
    secret = policy.pop("api_key", "")
    if policy["kind"] == "chat":
        policy.setdefault("prompt", prompts.DEFAULT_PROMPT)
        policy.setdefault("history", prompts.DEFAULT_HISTORY)
    settings = _settings_of(spec)
    params = {
        "environments": list(spec["environments"]),
        "families": list(spec.get("families") or []),
        "seeds": spec.get("seeds"),
        "count": spec.get("count"),
        "seed_start": spec.get("seed_start", 0),
        "variants": _variants_of(spec),
        "attempts": int(spec.get("attempts", 1)),
        "policy": policy,
        "concurrency": int(spec.get("concurrency", 8)),
        "api_key_id": api_key.pk if api_key else None,
        "reward_mode": settings.reward_mode,
        "observation_mode": settings.observation_mode,
        "max_observation_chars": settings.max_observation_chars,
    }
    job = job_create(
        kind=kind,
        params=params,
        created_by=user,
        task_kwargs={"policy_api_key": secret} if secret else None,
    )
    job.progress_total = len(items)
    job.save(update_fields=["progress_total"])
    RolloutItem.objects.bulk_create(
        RolloutItem(job=job, index=index, env_id=env_id, family=family, seed=seed, variant=variant)
        for index, (env_id, family, seed, variant) in enumerate(items)
    )
    return job


def rollout_dispatch(*, job_id: int, policy_api_key: str = "") -> int:
    """Send pending items until `concurrency` are in flight; return how many were sent."""
    from environments.tasks import run_rollout_item

    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return 0
        in_flight = (
            RolloutItem.objects.filter(job=job, dispatched_at__isnull=False)
            .exclude(status__in=RolloutItem.FINISHED)
            .count()
        )
        room = int(job.params.get("concurrency", 8)) - in_flight
        if room <= 0:
            return 0
        chosen = list(
            RolloutItem.objects.filter(
                job=job, status=RolloutItemStatus.PENDING, dispatched_at__isnull=True
            )
            .order_by("index")
            .values_list("pk", flat=True)[:room]
        )
        RolloutItem.objects.filter(pk__in=chosen).update(dispatched_at=timezone.now())
        kwargs = {"policy_api_key": policy_api_key} if policy_api_key else {}
        transaction.on_commit(
            lambda: [
                run_rollout_item.apply_async(args=[item_id], kwargs=kwargs) for item_id in chosen
            ]
        )
    return len(chosen)


def item_attempt(item: RolloutItem) -> int:
    """Which attempt at its task the item is (0 first): a task's attempts are planned in a
    row."""
    return item.index % int(item.job.params.get("attempts", 1))


def _claim(item_id: int) -> RolloutItem | None:
    """Take the item's lease and make sure it has its episode; None when there is nothing to
    do (finished, or its job was cancelled)."""
    with transaction.atomic():
        item = (
            RolloutItem.objects.select_for_update(of=("self",))
            .select_related("job", "episode")
            .get(pk=item_id)
        )
        if item.is_finished:
            return None
        now = timezone.now()
        if item.job.status == JobStatus.CANCELLED:
            item.status = RolloutItemStatus.CANCELLED
            item.save(update_fields=["status"])
            return None
        if (
            item.status == RolloutItemStatus.RUNNING
            and item.lease_expires_at
            and item.lease_expires_at > now
        ):
            raise ItemBusy(item.lease_expires_at)
        if item.job.status == JobStatus.QUEUED:
            Job.objects.filter(pk=item.job_id, status=JobStatus.QUEUED).update(
                status=JobStatus.RUNNING, started_at=now
            )
        item.status = RolloutItemStatus.RUNNING
        item.attempts += 1
        item.lease_expires_at = now + LEASE
        item.worker = f"{socket.gethostname()}:{os.getpid()}"[:200]
        if item.episode is None:
            task = task_get_or_create(env_id=item.env_id, family=item.family, seed=item.seed)
            key_id = item.job.params.get("api_key_id")
            item.episode = episode_create(
                task=task,
                user=item.job.created_by,
                api_key=ApiKey.objects.filter(pk=key_id).first() if key_id else None,
                actor_kind=ActorKind.AGENT,
                source=item.job.kind,
                metadata={
                    "rollout": item.job_id,
                    "policy": item.job.params["policy"],
                    "attempt": item_attempt(item),
                },
                settings=_settings_of(item.job.params),
                variant=item.variant,
            )
        item.save()
        return item


def rollout_item_run(*, item_id: int, policy_api_key: str = "") -> None:
    """Play one planned episode to its end with the job's policy, resuming it when an earlier
    attempt was interrupted. Raises ItemBusy or PolicyUnavailable for the task to retry."""
    item = _claim(item_id)
    if item is None:
        return
    job, episode = item.job, item.episode
    policy = policies.build_policy(
        job.params["policy"],
        env_id=item.env_id,
        api_key=policy_api_key or server_key_for(job.params["policy"]),
        attempt=item_attempt(item),
        observation_mode=episode.observation_mode,
        max_observation_chars=episode.max_observation_chars,
    )
    task = engine_task(episode.task)
    policy.reset(task)
    recorded = list(episode.steps.order_by("index").values_list("observation", "action", "error"))
    policy.resume(
        task, [policies.Turn(page_from_json(obs), action, error) for obs, action, error in recorded]
    )
    last_error = recorded[-1][2] if recorded else ""
    while not episode.is_finished:
        if not _renew_lease(item):
            if Job.objects.filter(pk=job.pk, status=JobStatus.CANCELLED).exists():
                episode_abandon(episode=episode)
                RolloutItem.objects.filter(pk=item.pk).update(status=RolloutItemStatus.CANCELLED)
            return
        page = episode_page(episode)
        action = policy.act(task, page, last_error)
        (result,) = episodes_step(
            requests=[
                StepRequest(
                    episode_id=episode.pk,
                    action=action,
                    idempotency_key=f"rollout-{item.pk}-{episode.step_count}",
                    record_refusal=True,
                )
            ]
        )
        if isinstance(result, ServiceError):
            raise result
        episode = result.episode
        last_error = result.step.error
    _finish_item(item, RolloutItemStatus.DONE, policy_api_key=policy_api_key)


def server_key_for(policy: dict[str, Any]) -> str:
    """The platform's own model-server key, for the one server it belongs to only: sent to an
    address a caller chose, it would be theirs to read."""
    base_url = (policy.get("base_url") or "").rstrip("/")
    configured = settings.CHAT_POLICY_BASE_URL.rstrip("/")
    return settings.CHAT_POLICY_API_KEY if configured and base_url == configured else ""


def _renew_lease(item: RolloutItem) -> bool:
    """Extend the lease this attempt holds; False once the job was cancelled or another worker
    took the item over (this one stalled past its lease)."""
    return bool(
        RolloutItem.objects.filter(
            pk=item.pk,
            attempts=item.attempts,
            job__status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
        ).update(lease_expires_at=timezone.now() + LEASE)
    )


def rollout_item_failed(*, item_id: int, error: str, policy_api_key: str = "") -> None:
    """Give up on an item after its retries (its episode, if any, is abandoned)."""
    item = RolloutItem.objects.select_related("job", "episode").get(pk=item_id)
    if item.is_finished:
        return
    if item.episode is not None:
        episode_abandon(episode=item.episode)
    item.error = error[:5000]
    _finish_item(item, RolloutItemStatus.FAILED, policy_api_key=policy_api_key)


def _finish_item(item: RolloutItem, status: str, *, policy_api_key: str = "") -> None:
    from rlplatform.celery import app

    with transaction.atomic():
        updated = (
            RolloutItem.objects.filter(pk=item.pk)
            .exclude(status__in=RolloutItem.FINISHED)
            .update(status=status, lease_expires_at=None, error=item.error)
        )
        if not updated:
            return
        if status == RolloutItemStatus.DONE and item.episode_id and item.job.kind == "rollout":
            # Campaigns that subscribe to rollouts take the episode (labeling's routing); an
            # evaluation's episodes measure a policy and stay out of training data.
            episode_id = item.episode_id
            transaction.on_commit(
                lambda: app.send_task("labeling.tasks.route_episode", args=[episode_id])
            )
        Job.objects.filter(pk=item.job_id).update(progress_done=F("progress_done") + 1)
        job = Job.objects.select_for_update().get(pk=item.job_id)
        remaining = RolloutItem.objects.filter(job=job).exclude(status__in=RolloutItem.FINISHED)
        if not remaining.exists() and not job.is_finished:
            job.result = rollout_summary(job=job)
            failed = job.result["items"].get(RolloutItemStatus.FAILED, 0)
            # A rollout succeeds when any episode was played; its failures are in the result.
            job.status = JobStatus.FAILED if failed == job.progress_total else JobStatus.SUCCEEDED
            job.finished_at = timezone.now()
            job.message = f"{job.result['episodes']} episodes, {failed} failed"
            if job.status == JobStatus.FAILED:
                job.error = "every episode failed; see the rollout's items for why"
            job.save()
            if hook := jobs.get_kind(job.kind).on_finish:
                import_string(hook)(job)
    rollout_dispatch(job_id=item.job_id, policy_api_key=policy_api_key)


def rollout_summary(*, job: Job) -> dict[str, Any]:
    items = RolloutItem.objects.filter(job=job)
    counts = dict(items.values_list("status").annotate(n=Count("id")).order_by())
    episodes = Episode.objects.filter(rollout_item__job=job)
    figures = episodes.aggregate(
        episodes=Count("id"),
        successes=Count("id", filter=Q(success=True)),
        mean_reward=Avg("reward"),
        mean_steps=Avg("step_count"),
    )
    by_variant = {
        variant: {"episodes": n, "successes": won, "success_rate": won / n}
        for variant, n, won in episodes.values_list("variant")
        .annotate(n=Count("id"), won=Count("id", filter=Q(success=True)))
        .order_by("variant")
    }
    return {
        **figures,
        "success_rate": figures["successes"] / figures["episodes"] if figures["episodes"] else None,
        "items": counts,
        "variants": by_variant,
    }


def rollout_cancel_items(job: Job) -> None:
    """When a rollout is cancelled: pending items are cancelled at once, running ones stop at
    their next step and their episodes are abandoned."""
    RolloutItem.objects.filter(job=job, status=RolloutItemStatus.PENDING).update(
        status=RolloutItemStatus.CANCELLED
    )


def rollouts_recover() -> int:
    """Send again the items whose worker went away: running with a lapsed lease, or sent long
    ago and never started. Run by celery beat; harmless when nothing is stuck."""
    from environments.tasks import run_rollout_item

    now = timezone.now()
    stuck = list(
        RolloutItem.objects.filter(job__status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .filter(
            Q(status=RolloutItemStatus.RUNNING, lease_expires_at__lt=now)
            | Q(
                status=RolloutItemStatus.PENDING,
                dispatched_at__lt=now - timedelta(seconds=settings.JOB_REDISPATCH_AFTER_SECONDS),
            )
        )
        .values_list("pk", flat=True)
    )
    for item_id in stuck:
        run_rollout_item.apply_async(args=[item_id])
    return len(stuck)
