"""Routing rollout episodes to the campaigns that subscribe to them.

When a rollout episode finishes, each active grade or compare campaign whose sources subscribe
to rollouts (`sources.rollouts`) and whose environment and family filters match decides, by its
mode (all, failures, successes) and a sample rate, whether to take it. A grade campaign gets
the episode as an item; a compare campaign pairs it with up to `pairs_per_task` finished
episodes of the same task by other actors (another policy, or another run's).
"""

import hashlib

from django.db import transaction

from environments.models import Episode
from labeling import sources
from labeling.models import Campaign, CampaignKind, CampaignStatus, WorkItem
from labeling.services import _insert


def sampled(campaign_id: int, episode_id: int, rate: float) -> bool:
    """A fixed, even draw per (campaign, episode): the same answer however often it is asked,
    and the same share of episodes whatever order they finish in."""
    digest = hashlib.sha256(f"{campaign_id}:{episode_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def _wants(campaign: Campaign, episode: Episode) -> bool:
    subscription = campaign.sources["rollouts"]
    wanted = campaign.sources
    if wanted.get("environment") and wanted["environment"] != episode.env_id:
        return False
    if wanted.get("families") and episode.task.family not in wanted["families"]:
        return False
    if subscription["mode"] == "failures" and episode.success:
        return False
    if subscription["mode"] == "successes" and not episode.success:
        return False
    return sampled(campaign.pk, episode.pk, subscription["sample_rate"])


def _partners(campaign: Campaign, episode: Episode) -> list[sources.Candidate]:
    """Pairs of `episode` with finished episodes of its task by other actors, oldest first."""
    actor = sources.actor_of(
        episode.actor_kind, episode.user_id, episode.api_key_id, episode.metadata
    )
    others = (
        sources.finished_episodes({k: v for k, v in campaign.sources.items() if k != "rollouts"})
        .filter(task_id=episode.task_id)
        .exclude(pk=episode.pk)
        .values_list("pk", "actor_kind", "user_id", "api_key_id", "metadata")
    )
    pairs = []
    for pk, actor_kind, user_id, api_key_id, metadata in others:
        if sources.actor_of(actor_kind, user_id, api_key_id, metadata) == actor:
            continue
        a, b = sources.ordered_pair(episode.pk, pk)
        pairs.append(sources.Candidate(f"pair:{min(a, b)}-{max(a, b)}", episode.task_id, a, b))
        if len(pairs) >= campaign.sources.get("pairs_per_task", 1):
            break
    return pairs


def route_episode(*, episode_id: int) -> list[int]:
    """Add the items the finished episode makes for subscribed campaigns; return their ids.
    Idempotent: an item already made is not made again."""
    episode = Episode.objects.select_related("task").get(pk=episode_id)
    if not episode.is_finished:
        return []
    made: list[int] = []
    campaigns = Campaign.objects.filter(
        status=CampaignStatus.ACTIVE,
        kind__in=[CampaignKind.GRADE, CampaignKind.COMPARE],
        sources__has_key="rollouts",
    )
    for campaign in campaigns:
        if not _wants(campaign, episode):
            continue
        if campaign.kind == CampaignKind.GRADE:
            found = [
                sources.Candidate(f"episode:{episode.pk}", episode.task_id, episode_a_id=episode.pk)
            ]
        else:
            found = _partners(campaign, episode)
        if not found:
            continue
        with transaction.atomic():
            _insert(campaign, found)
        made += list(
            WorkItem.objects.filter(
                campaign=campaign, source_key__in=[c.source_key for c in found]
            ).values_list("pk", flat=True)
        )
    return made
