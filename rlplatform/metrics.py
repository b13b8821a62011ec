"""Prometheus metrics at /metrics: requests (counted in each web process), and the platform's
state read at scrape time, so every process answers alike: queue depths, jobs and their
durations, episodes, and the step counter whose rate is the step rate.

Several web processes: set PROMETHEUS_MULTIPROC_DIR (an empty folder shared by them) so each
scrape adds up every process's request counts. Access: with METRICS_TOKEN set, a request must
send `Authorization: Bearer <token>`; without it, only loopback callers are answered.
"""

import hmac
import logging
import os
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Avg, Count, F, Max, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "rlplatform_http_requests",
    "HTTP requests answered, by method, route and status class.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "rlplatform_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The URL pattern, not the path: ids in paths would make a series per object.
        route = match.route if match is not None else "unmatched"
        REQUESTS.labels(request.method, route, f"{response.status_code // 100}xx").inc()
        LATENCY.labels(route).observe(time.perf_counter() - started)
        return response


class PlatformCollector:
    """What the database and the broker say, read when Prometheus scrapes."""

    def collect(self):
        from environments.models import Episode, Step
        from rlplatform.models import Job, JobStatus

        depth = GaugeMetricFamily(
            "rlplatform_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        for queue, count in queue_depths().items():
            depth.add_metric([queue], count)
        yield depth

        jobs = GaugeMetricFamily(
            "rlplatform_jobs", "Jobs by kind and status.", labels=["kind", "status"]
        )
        for kind, status, count in (
            Job.objects.values_list("kind", "status").annotate(n=Count("id")).order_by()
        ):
            jobs.add_metric([kind, status], count)
        yield jobs

        since = timezone.now() - timedelta(hours=24)
        durations = (
            Job.objects.filter(
                status=JobStatus.SUCCEEDED, finished_at__gte=since, started_at__isnull=False
            )
            .values_list("kind")
            .annotate(n=Count("id"), total=Sum(F("finished_at") - F("started_at")))
            .order_by()
        )
        count = GaugeMetricFamily(
            "rlplatform_job_duration_seconds_count",
            "Jobs that succeeded in the last 24 hours, by kind.",
            labels=["kind"],
        )
        total = GaugeMetricFamily(
            "rlplatform_job_duration_seconds_sum",
            "Their running time added up, in seconds.",
            labels=["kind"],
        )
        for kind, n, spent in durations:
            count.add_metric([kind], n)
            total.add_metric([kind], spent.total_seconds() if spent else 0.0)
        yield count
        yield total

        episodes = GaugeMetricFamily(
            "rlplatform_episodes", "Episodes by environment and status.", labels=["env", "status"]
        )
        for env_id, status, n in (
            Episode.objects.values_list("env_id", "status").annotate(n=Count("id")).order_by()
        ):
            episodes.add_metric([env_id, status], n)
        yield episodes

        steps = CounterMetricFamily(
            "rlplatform_steps", "Steps recorded since the start (rate() is the step rate)."
        )
        steps.add_metric([], Step.objects.aggregate(last=Max("id"))["last"] or 0)
        yield steps

        latency = GaugeMetricFamily(
            "rlplatform_step_apply_milliseconds",
            "Mean time the server took to apply a step, over the last 1000 steps.",
        )
        last = Step.objects.order_by("-id").values("id")[:1000]
        mean = Step.objects.filter(id__in=last).aggregate(mean=Avg("apply_ms"))["mean"]
        latency.add_metric([], mean or 0.0)
        yield latency


def queue_depths() -> dict[str, int]:
    from rlplatform.celery import app

    depths: dict[str, int] = {}
    try:
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            for queue in app.conf.task_queues:
                depths[queue.name] = _depth(channel, queue.name)
    except Exception:
        # The broker is down (readyz says so); the other metrics still answer.
        logger.warning("queue depths unavailable: the broker did not answer", exc_info=True)
        return {}
    return depths


def _depth(channel, queue: str) -> int:
    try:
        return channel.queue_declare(queue, passive=True).message_count
    except Exception:
        # A queue nobody has sent to yet does not exist on the broker: it is empty.
        return 0


_collector = PlatformCollector()


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_collector)
        return registry
    if _collector not in REGISTRY._collector_to_names:
        REGISTRY.register(_collector)
    return REGISTRY


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponseNotFound()
    elif request.META.get("REMOTE_ADDR") not in ("127.0.0.1", "::1"):
        return HttpResponseNotFound()
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
