"""Incremental feeds for pipelines that train continuously: everything after a position, in
the order rows were published, never missing or repeating a row while new ones are written."""

from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef

from environments.models import Episode, EpisodeStatus
from exports.kinds import Judgments, Trajectories, episodes_with_steps
from exports.models import FeedEntry, FeedLock
from exports.selectors import ReadScope

PUBLISH_AT_ONCE = 5000
FEEDS = ("trajectories", "judgments")


def _publishable(feed: str):
    """The rows a feed carries once they exist: finished episodes, or judgments."""
    if feed == "trajectories":
        return Episode.objects.exclude(status=EpisodeStatus.RUNNING)
    from labeling.models import Judgment

    return Judgment.objects.all()


def _rows(
    feed: str, ids: list[int], filters: dict[str, Any], scope: ReadScope
) -> dict[int, dict[str, Any]]:
    """The rows of these published ids that the reader's scope holds."""
    if feed == "trajectories":
        kind = Trajectories()
        episodes = Episode.objects.filter(pk__in=ids).select_related("task").order_by("pk")
        if scope.episodes_of is not None:
            episodes = episodes.filter(user_id=scope.episodes_of)
        return {
            episode.pk: kind.row(episode, steps, filters)
            for episode, steps in episodes_with_steps(episodes, "default")
        }
    from labeling.models import Judgment

    judgments = Judgment.objects.filter(pk__in=ids).select_related("campaign", "item__task")
    if scope.campaigns is not None:
        judgments = judgments.filter(campaign_id__in=scope.campaigns)
    return {judgment.pk: Judgments().row(judgment) for judgment in judgments}


def feed_publish(*, feed: str) -> int:
    """Give the committed rows not yet in the feed their positions; return how many.

    Publishers take the feed's lock, so positions follow commit order: a reader that has seen
    position p will find every later row above p."""
    with transaction.atomic():
        # Two first readers at once would both create the row: let one insert win quietly.
        FeedLock.objects.bulk_create([FeedLock(feed=feed)], ignore_conflicts=True)
        FeedLock.objects.select_for_update().get(feed=feed)
        published = FeedEntry.objects.filter(feed=feed, object_id=OuterRef("pk"))
        new_ids = list(
            _publishable(feed)
            .filter(~Exists(published))
            .order_by("pk")
            .values_list("pk", flat=True)[:PUBLISH_AT_ONCE]
        )
        FeedEntry.objects.bulk_create(FeedEntry(feed=feed, object_id=pk) for pk in new_ids)
    return len(new_ids)


def feed_page(
    *, feed: str, since: int, limit: int, filters: dict[str, Any], scope: ReadScope
) -> dict[str, Any]:
    """Rows after position `since` (at most `limit`) that the reader's scope holds (positions
    outside it are skipped), with the position to ask from next."""
    feed_publish(feed=feed)
    entries = list(
        FeedEntry.objects.filter(feed=feed, position__gt=since).order_by("position")[:limit]
    )
    rows_by_id = _rows(feed, [entry.object_id for entry in entries], filters, scope)
    rows = [
        {"position": entry.position, **rows_by_id[entry.object_id]}
        for entry in entries
        if entry.object_id in rows_by_id
    ]
    last = entries[-1].position if entries else since
    return {
        "results": rows,
        "next_since": last,
        "has_more": FeedEntry.objects.filter(feed=feed, position__gt=last).exists(),
    }
