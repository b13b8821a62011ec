"""Rollout jobs on a real Celery worker: planned episodes, progress, policies, cancellation,
and recovery from a worker process killed mid-episode."""

import os
import signal

import pytest
from django.db.models import Count

from environments.models import Episode, EpisodeStatus, RolloutItem, Step
from rlplatform.models import Job
from tests.conftest import key_client, signed_in, wait_for
from tests.environments.fake_llm import FakeChatServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def finished_job(job_id: int, timeout: float = 90) -> Job:
    def done():
        job = Job.objects.get(pk=job_id)
        return job if job.is_finished else None

    return wait_for(done, timeout=timeout, message=f"rollout job {job_id} to finish")


def test_a_scripted_rollout_plays_every_planned_episode_once(celery_worker_process, manager):
    response = signed_in(manager).post(
        "/api/v1/rollouts/",
        {
            "environments": ["bank-v1", "tickets-v1"],
            "families": ["transfer_funds", "buy_tickets"],
            "count": 3,
            "seed_start": 100,
            "policy": {"kind": "scripted"},
            "concurrency": 4,
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    job = finished_job(response.json()["id"])
    assert job.status == "succeeded", job.error
    assert job.progress_done == job.progress_total == 6
    assert job.result["episodes"] == 6
    assert job.result["success_rate"] == 1.0
    episodes = Episode.objects.filter(rollout_item__job=job)
    assert sorted(episodes.values_list("env_id", "seed")) == sorted(
        [("bank-v1", s) for s in (100, 101, 102)] + [("tickets-v1", s) for s in (100, 101, 102)]
    )
    assert set(episodes.values_list("source", "actor_kind", "user")) == {
        ("rollout", "agent", manager.pk)
    }
    items = signed_in(manager).get(f"/api/v1/rollouts/{job.pk}/items/").json()
    assert {item["status"] for item in items["results"]} == {"done"}


def test_a_random_rollout_rarely_succeeds(celery_worker_process, admin_user):
    client = key_client(scopes=["agent"], owner=admin_user)
    response = client.post(
        "/api/v1/rollouts/",
        {"environments": ["bank-v1"], "count": 2, "policy": {"kind": "random", "seed": 1}},
        format="json",
    )
    job = finished_job(response.json()["id"])
    assert job.status == "succeeded"
    assert job.result["episodes"] == 16
    assert job.result["success_rate"] <= 0.125
    assert Episode.objects.filter(api_key__isnull=False, source="rollout").count() == 16


def test_each_task_is_played_attempts_times_and_the_random_policy_varies_between_them(
    celery_worker_process, manager
):
    response = signed_in(manager).post(
        "/api/v1/rollouts/",
        {
            "environments": ["bank-v1"],
            "families": ["statement_balance"],
            "seeds": [5, 6],
            "attempts": 2,
            "policy": {"kind": "random", "seed": 2},
        },
        format="json",
    )
    job = finished_job(response.json()["id"])
    assert job.status == "succeeded", job.error
    episodes = Episode.objects.filter(rollout_item__job=job)
    assert sorted(episodes.values_list("seed", "metadata__attempt")) == [
        (5, 0),
        (5, 1),
        (6, 0),
        (6, 1),
    ]
    for seed in (5, 6):
        attempts = [
            list(episode.steps.values_list("action", flat=True))
            for episode in episodes.filter(seed=seed)
        ]
        assert attempts[0] != attempts[1]


def test_a_chat_model_drives_episodes_and_its_mistakes_are_recorded_as_failed_steps(
    celery_worker_process, manager
):
    replies = [
        "Let me look around.\nclick('9999')",
        "I have no idea.",
        503,
        "The task is done.\nsend_msg_to_user('It was $12.00')",
    ]
    with FakeChatServer(replies) as server:
        response = signed_in(manager).post(
            "/api/v1/rollouts/",
            {
                "environments": ["bank-v1"],
                "families": ["largest_purchase"],
                "seeds": [7],
                "policy": {
                    "kind": "chat",
                    "base_url": server.url,
                    "model": "tiny-test",
                    "api_key": "sk-test-secret",
                },
            },
            format="json",
        )
        job = finished_job(response.json()["id"])
    assert job.status == "succeeded", job.error
    assert "sk-test-secret" not in str(Job.objects.filter(pk=job.pk).values().get())
    assert server.requests[0]["auth"] == "Bearer sk-test-secret"
    episode = Episode.objects.get(rollout_item__job=job)
    steps = list(episode.steps.order_by("index").values_list("action", "error"))
    assert steps[0] == ("click('9999')", "unknown_bid: bid '9999' does not exist on this page")
    assert steps[1][0] == "I have no idea." and steps[1][1].startswith("malformed_action")
    assert steps[2] == ("send_msg_to_user('It was $12.00')", "")
    assert episode.status == EpisodeStatus.TERMINATED


def test_cancelling_a_rollout_stops_its_episodes(celery_worker_process, manager):
    with FakeChatServer(["noop()"], delay=0.2) as server:
        client = signed_in(manager)
        response = client.post(
            "/api/v1/rollouts/",
            {
                "environments": ["bank-v1"],
                "count": 5,
                "concurrency": 2,
                "policy": {"kind": "chat", "base_url": server.url, "model": "slow"},
            },
            format="json",
        )
        job_id = response.json()["id"]
        wait_for(lambda: Step.objects.filter(episode__rollout_item__job_id=job_id).exists())
        assert client.post(f"/api/v1/jobs/{job_id}/cancel/").status_code == 200
        wait_for(
            lambda: not RolloutItem.objects.filter(job_id=job_id, status="running").exists(),
            timeout=30,
        )
    counts = dict(
        RolloutItem.objects.filter(job_id=job_id).values_list("status").annotate(n=Count("id"))
    )
    assert counts.get("cancelled", 0) >= 35
    assert not Episode.objects.filter(rollout_item__job_id=job_id, status="running").exists()


def test_a_worker_process_killed_mid_episode_loses_and_duplicates_nothing(
    celery_worker_process, manager
):
    with FakeChatServer(["noop()"], delay=0.05) as server:
        response = signed_in(manager).post(
            "/api/v1/rollouts/",
            {
                "environments": ["bank-v1"],
                "families": ["pay_bill", "card_controls"],
                "count": 2,
                "concurrency": 2,
                "policy": {"kind": "chat", "base_url": server.url, "model": "steady"},
            },
            format="json",
        )
        job_id = response.json()["id"]

        def running_item():
            return (
                RolloutItem.objects.filter(job_id=job_id, status="running")
                .filter(episode__step_count__gte=3)
                .first()
            )

        item = wait_for(running_item, timeout=60, message="an item well into its episode")
        pid = int(item.worker.rsplit(":", 1)[1])
        os.kill(pid, signal.SIGKILL)
        job = finished_job(job_id, timeout=120)
    assert job.status == "succeeded", job.error
    items = RolloutItem.objects.filter(job_id=job_id)
    assert items.count() == 4
    assert set(items.values_list("status", flat=True)) == {"done"}
    killed = items.get(pk=item.pk)
    assert killed.attempts >= 2
    episodes = Episode.objects.filter(rollout_item__job_id=job_id)
    assert episodes.count() == 4
    assert Episode.objects.filter(metadata__rollout=job_id).count() == 4
    for episode in episodes:
        indexes = list(episode.steps.order_by("index").values_list("index", flat=True))
        assert indexes == list(range(episode.step_count))
        assert episode.status == EpisodeStatus.TRUNCATED


def test_a_rollout_records_its_reward_and_observation_modes(celery_worker_process, manager):
    with FakeChatServer(["noop()", "send_msg_to_user('$1.00')"]) as server:
        response = signed_in(manager).post(
            "/api/v1/rollouts/",
            {
                "environments": ["bank-v1"],
                "families": ["largest_purchase"],
                "seeds": [3],
                "policy": {"kind": "chat", "base_url": server.url, "model": "tiny-test"},
                "reward_mode": "partial",
                "observation_mode": "diff",
                "max_observation_chars": 600,
            },
            format="json",
        )
        assert response.status_code == 202, response.json()
        job = finished_job(response.json()["id"])
    assert job.status == "succeeded", job.error
    episode = Episode.objects.get(rollout_item__job=job)
    assert (episode.reward_mode, episode.observation_mode, episode.max_observation_chars) == (
        "partial",
        "diff",
        600,
    )
    assert episode.reward == 0.0 and episode.status == EpisodeStatus.TERMINATED
    second = server.requests[1]["body"]["messages"][1]["content"]
    assert "diff of page 'Sign in - Northwind Bank': nothing changed" in second


@pytest.mark.parametrize(
    ("option", "field"),
    [
        ({"reward_mode": "dense"}, "reward_mode"),
        ({"observation_mode": "html"}, "observation_mode"),
        ({"max_observation_chars": 0}, "max_observation_chars"),
    ],
)
def test_a_rollout_with_a_bad_mode_is_refused_naming_it(manager, option, field):
    response = signed_in(manager).post(
        "/api/v1/rollouts/",
        {"environments": ["bank-v1"], "count": 1, "policy": {"kind": "scripted"}, **option},
        format="json",
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["message"]
    assert not Job.objects.exists()
