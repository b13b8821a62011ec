"""Concurrent steps on one episode serialise: none lost, none applied twice."""

import itertools
import threading

import pytest
from django.db import connection

from environments.models import Episode, Step
from tests.conftest import key_client

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 6  # 24 steps: within the task's limit of 30
STEPS_EACH = 4


def test_concurrent_steps_on_one_episode_are_each_applied_exactly_once(admin_user):
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL row locks: run it with make test")
    agent = key_client(scopes=["agent"], owner=admin_user)
    body = agent.post(
        "/api/v1/episodes/",
        {"environment": "bank-v1", "family": "pay_bill", "seed": 1},
        format="json",
    ).json()
    url = f"/api/v1/episodes/{body['id']}/step/"
    key = agent._credentials["HTTP_AUTHORIZATION"]
    statuses, barrier = [], threading.Barrier(CLIENTS)

    def client(number: int) -> None:
        from rest_framework.test import APIClient

        mine = APIClient()
        mine.credentials(HTTP_AUTHORIZATION=key)
        barrier.wait()
        for index in range(STEPS_EACH):
            for _ in range(2):  # every step sent twice, as a retry would
                response = mine.post(
                    url,
                    {"action": f"fill('1', 'c{number}-{index}')"},
                    format="json",
                    HTTP_IDEMPOTENCY_KEY=f"c{number}-{index}",
                )
                statuses.append(response.status_code)
        from django.db import connections

        connections.close_all()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count(200) == CLIENTS * STEPS_EACH * 2, sorted(set(statuses))
    episode = Episode.objects.get(pk=body["id"])
    steps = list(Step.objects.filter(episode=episode).order_by("index"))
    assert [step.index for step in steps] == list(range(CLIENTS * STEPS_EACH))
    assert episode.step_count == CLIENTS * STEPS_EACH
    assert sorted(step.idempotency_key for step in steps) == sorted(
        f"c{n}-{i}" for n in range(CLIENTS) for i in range(STEPS_EACH)
    )
    # Each step saw the page its predecessor left: the value the previous step typed.
    for previous, step in itertools.pairwise(steps):
        typed = previous.action.split("'")[3]
        assert typed in str(step.observation)


def test_batched_resets_making_the_same_new_tasks_in_any_order_all_start(admin_user):
    """Two server processes may each batch resets whose tasks do not exist yet: one batch
    making them in one order and the other in the reverse order must not deadlock."""
    from environments.openenv import protocol
    from environments.openenv.services import Principal, ResetItem, openenv_resets
    from tests.factories import make_api_key

    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL row locks: run it with make test")
    key, _ = make_api_key(scopes=["agent"], owner=admin_user)
    principal = Principal(user=admin_user, api_key=key)
    seeds = list(range(1000, 1024))
    orders = [seeds, seeds[::-1]]
    outcomes: list = []
    barrier = threading.Barrier(len(orders))

    def batch(order: list[int]) -> None:
        from django.db import connections

        items = [
            ResetItem("bank-v1", principal, protocol.ResetParams(task_name="pay_bill", seed=seed))
            for seed in order
        ]
        barrier.wait()
        try:
            outcomes.extend(openenv_resets(items))
        except Exception as error:  # the deadlock this test is about
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=batch, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failures = [outcome for outcome in outcomes if not isinstance(outcome, tuple)]
    assert failures == []
    assert len(outcomes) == len(seeds) * len(orders)
    assert Episode.objects.filter(task__seed__in=seeds).count() == len(seeds) * len(orders)
