"""Campaigns that subscribe to rollouts get their items as rollout episodes finish."""

import pytest

from environments.models import Episode
from labeling.models import WorkItem
from labeling.routing import route_episode, sampled
from rlplatform.models import Job
from tests.conftest import signed_in, wait_for
from tests.factories import make_campaign, play_episode


def rollout_episode(user, *, seed: int, policy: str, solved: bool) -> Episode:
    episode = play_episode(
        user=user,
        env_id="bank-v1",
        family="transfer_funds",
        seed=seed,
        policy="solver" if solved else "random",
        actor_kind="agent",
        source="rollout",
    )
    Episode.objects.filter(pk=episode.pk).update(metadata={"rollout": 1, "policy": policy})
    episode.refresh_from_db()
    return episode


@pytest.mark.django_db
def test_a_grade_campaign_takes_the_failures_or_the_successes_it_asked_for(manager):
    failures = make_campaign(
        kind="grade",
        items=0,
        owner=manager,
        sources={"environment": "bank-v1", "rollouts": {"mode": "failures"}},
    )
    successes = make_campaign(
        kind="grade",
        items=0,
        owner=manager,
        sources={"environment": "bank-v1", "rollouts": {"mode": "successes"}},
    )
    elsewhere = make_campaign(
        kind="grade",
        items=0,
        owner=manager,
        sources={"environment": "ledger-v1", "rollouts": {"mode": "all"}},
    )
    solved = rollout_episode(manager, seed=1, policy="scripted", solved=True)
    failed = rollout_episode(manager, seed=2, policy="random", solved=False)
    for episode in (solved, failed):
        route_episode(episode_id=episode.pk)
        route_episode(episode_id=episode.pk)  # twice: still one item
    assert list(successes.items.values_list("episode_a_id", flat=True)) == [solved.pk]
    assert list(failures.items.values_list("episode_a_id", flat=True)) == [failed.pk]
    assert not elsewhere.items.exists()
    assert WorkItem.objects.get(campaign=failures).remaining == failures.overlap


@pytest.mark.django_db
def test_a_sample_rate_takes_a_fixed_share(manager):
    campaign = make_campaign(
        kind="grade",
        items=0,
        owner=manager,
        sources={"environment": "bank-v1", "rollouts": {"mode": "all", "sample_rate": 0.5}},
    )
    episodes = [
        rollout_episode(manager, seed=seed, policy="random", solved=False) for seed in range(10)
    ]
    for episode in episodes:
        route_episode(episode_id=episode.pk)
    expected = {e.pk for e in episodes if sampled(campaign.pk, e.pk, 0.5)}
    assert 0 < len(expected) < 10
    assert set(campaign.items.values_list("episode_a_id", flat=True)) == expected


@pytest.mark.django_db
def test_a_compare_campaign_pairs_episodes_of_one_task_by_different_policies(manager):
    campaign = make_campaign(
        kind="compare",
        items=0,
        owner=manager,
        sources={"environment": "bank-v1", "rollouts": {"mode": "all"}},
    )
    first = rollout_episode(manager, seed=5, policy="scripted", solved=True)
    route_episode(episode_id=first.pk)
    assert not campaign.items.exists()  # nothing to compare it with yet
    same_policy = rollout_episode(manager, seed=5, policy="scripted", solved=True)
    route_episode(episode_id=same_policy.pk)
    assert not campaign.items.exists()
    other = rollout_episode(manager, seed=5, policy="random", solved=False)
    route_episode(episode_id=other.pk)
    item = campaign.items.get()
    assert {item.episode_a_id, item.episode_b_id} == {first.pk, other.pk}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_rollout_feeds_a_subscribed_campaign_end_to_end(celery_worker_process, manager):
    campaign = make_campaign(
        kind="grade",
        items=0,
        owner=manager,
        sources={
            "environment": "bank-v1",
            "families": ["transfer_funds"],
            "rollouts": {"mode": "all"},
        },
    )
    response = signed_in(manager).post(
        "/api/v1/rollouts/",
        {
            "environments": ["bank-v1"],
            "families": ["transfer_funds"],
            "count": 3,
            "policy": {"kind": "scripted"},
        },
        format="json",
    )
    job_id = response.json()["id"]
    wait_for(lambda: Job.objects.get(pk=job_id).is_finished, timeout=60)
    wait_for(lambda: campaign.items.count() == 3, timeout=30, message="three routed items")
    assert set(campaign.items.values_list("episode_a__rollout_item__job_id", flat=True)) == {job_id}
