"""Exactly once: 1,000 judgments submitted concurrently, each sent twice with the same
idempotency key (a double click, a retry), record exactly 1,000 judgments."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from labeling.models import Judgment
from labeling.queue import next_item_for
from rlplatform.models import Role
from tests.factories import UserFactory, make_campaign

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CAMPAIGNS, CONTRACTORS = 20, 50
ANSWERS = {"outcome": 4, "checks": {"goal_met": True, "no_collateral": True}}


def test_a_thousand_double_submissions_record_a_thousand_judgments(manager):
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with make test")
    contractors = UserFactory.create_batch(CONTRACTORS, role=Role.CONTRACTOR)
    campaigns = [
        make_campaign(owner=manager, items=CONTRACTORS, overlap=1, name=f"c{n}")
        for n in range(CAMPAIGNS)
    ]
    # One lease per contractor in every campaign: 1,000 assignments held at once.
    leases = [
        (contractor, next_item_for(contractor=contractor, campaign=campaign))
        for campaign in campaigns
        for contractor in contractors
    ]
    assert len({assignment.pk for _, assignment in leases}) == CAMPAIGNS * CONTRACTORS
    sessions = {}
    lock = threading.Lock()

    def client_for(contractor):
        from rest_framework.test import APIClient

        with lock:
            if contractor.pk not in sessions:
                client = APIClient()
                client.force_login(contractor)
                sessions[contractor.pk] = client.cookies
        client = APIClient()
        client.cookies = sessions[contractor.pk]
        return client

    def submit(job):
        contractor, assignment = job
        status = (
            client_for(contractor)
            .post(
                f"/api/v1/assignments/{assignment.pk}/submit/",
                {"answers": ANSWERS, "idempotency_key": f"submit-{assignment.pk}"},
                format="json",
            )
            .status_code
        )
        connections.close_all()
        return status

    # Each submission twice, the copies in different threads at about the same time.
    twice = [job for lease in leases for job in (lease, lease)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(submit, twice))

    assert Judgment.objects.count() == CAMPAIGNS * CONTRACTORS
    assert sorted(set(statuses)) in ([200, 201], [201]), set(statuses)
    assert statuses.count(201) == CAMPAIGNS * CONTRACTORS
    assert Judgment.objects.values("assignment").distinct().count() == CAMPAIGNS * CONTRACTORS
