"""Observability: request ids in responses and JSON logs; Prometheus metrics."""

import json
import logging

import pytest

from rlplatform.logs import JsonFormatter, RequestIdFilter, request_id
from tests.factories import play_episode

pytestmark = pytest.mark.django_db


def test_every_response_carries_a_request_id_and_keeps_the_proxys(client):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="edge-42")["X-Request-ID"] == "edge-42"


def test_log_lines_are_json_with_the_request_id():
    token = request_id.set("edge-42")
    try:
        record = logging.LogRecord(
            "rlplatform", logging.WARNING, __file__, 1, "slow %s", ("db",), None
        )
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "slow db" and line["request_id"] == "edge-42"
    assert line["level"] == "WARNING" and line["time"].endswith("Z")


def test_metrics_count_requests_queues_jobs_and_steps(client, manager):
    play_episode(user=manager, env_id="bank-v1", family="transfer_funds", seed=1)
    client.get("/healthz")
    body = client.get("/metrics").content.decode()
    assert 'rlplatform_http_requests_total{method="GET",route="healthz",status="2xx"}' in body
    assert 'rlplatform_queue_depth{queue="rollouts"}' in body
    assert 'rlplatform_episodes{env="bank-v1",status="terminated"} 1.0' in body
    assert "rlplatform_steps_total" in body
    assert "rlplatform_http_request_duration_seconds_bucket" in body


def test_metrics_need_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200
