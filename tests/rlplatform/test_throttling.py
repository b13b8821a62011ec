"""API throttling: each key and each person has a budget per window, answered with 429."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.conftest import UNREACHABLE_CACHE, key_client

pytestmark = pytest.mark.django_db


def test_a_key_past_its_budget_gets_429_with_retry_after(admin_user, monkeypatch):
    from rlplatform.throttling import PrincipalRateThrottle

    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "3/min"})
    client = key_client(scopes=["admin"])
    statuses = [client.get("/api/v1/me/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    response = client.get("/api/v1/me/")
    assert "throttled" in response.json()["error"]["code"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_each_key_has_its_own_budget(admin_user, monkeypatch):
    from rlplatform.throttling import PrincipalRateThrottle

    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "2/min"})
    first, second = key_client(scopes=["admin"]), key_client(scopes=["admin"])
    assert [first.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert second.get("/api/v1/me/").status_code == 200


@override_settings(CACHES=UNREACHABLE_CACHE)
def test_requests_go_on_unthrottled_while_the_cache_is_unreachable(admin_user, caplog):
    # The schema's docs answer anonymous callers: the anonymous throttle counts them.
    assert APIClient().get("/api/v1/docs/").status_code == 200
    assert key_client(scopes=["admin"]).get("/api/v1/me/").status_code == 200
    skipped = {
        record.getMessage().split(": the cache is unavailable")[0] for record in caplog.records
    }
    assert {"anonymous API throttle", "API throttle"} <= skipped
