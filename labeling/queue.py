"""The work queue: "next item" for a contractor.

A contractor gets, in the highest-priority campaign open to them, the highest-priority item
that still wants judgments and that they have never been assigned, as a lease that expires.
Gold items are mixed in at the campaign's rate; a campaign that requires qualification hands
out only its qualification items until the contractor has passed them.

Concurrency. One contractor's requests in a campaign are serialised by a row lock on their
standing, so a double click resumes the same lease instead of taking two. Across contractors,
the item is taken with `SELECT ... FOR UPDATE SKIP LOCKED` and its `remaining` count is
decremented in the same transaction, so an item is never leased beyond its overlap, and nobody
waits on an item someone else is taking. The unique constraint on (item, contractor) makes
"never the same item twice" hold even if a bug slipped past. SQLite has no row locks; there
every write transaction begins IMMEDIATE (see settings), which serialises them instead.

The path is a handful of indexed queries: the standing (locked) with the contractor's active
lease, one scan of the partial index `workitem_queue` with an anti-join on the assignments'
unique index, then an insert and two updates. The two reads are written in SQL: composing
them costs the ORM more than running them costs the database (bench/queue.py measures it).
"""

import hashlib
import hmac
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from labeling.models import (
    Assignment,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    ContractorProfile,
    ContractorStanding,
    StandingStatus,
    WorkItem,
)
from rlplatform.models import User
from rlplatform.services import NotAllowed, ServiceError


def eligibility_problem(campaign: Campaign, profile: ContractorProfile | None) -> str | None:
    """Why a contractor may not work on a campaign, or None if they may. A campaign that names
    groups or skills admits contractors in any of those groups or with any of those skills."""
    if not campaign.eligible_groups and not campaign.eligible_skills:
        return None
    groups = set(profile.groups) if profile else set()
    skills = set(profile.skills) if profile else set()
    if groups & set(campaign.eligible_groups) or skills & set(campaign.eligible_skills):
        return None
    wanted = []
    if campaign.eligible_groups:
        wanted.append(f"the groups {', '.join(campaign.eligible_groups)}")
    if campaign.eligible_skills:
        wanted.append(f"the skills {', '.join(campaign.eligible_skills)}")
    return f"campaign '{campaign.name}' is for contractors with {' or '.join(wanted)}"


def profile_of(user: User) -> ContractorProfile | None:
    return ContractorProfile.objects.filter(user=user).first()


def open_campaigns_for(contractor: User) -> list[Campaign]:
    """Active campaigns the contractor is eligible for and not paused from, by priority."""
    profile = profile_of(contractor)
    paused = set(
        ContractorStanding.objects.filter(
            contractor=contractor, status=StandingStatus.PAUSED
        ).values_list("campaign_id", flat=True)
    )
    return [
        campaign
        for campaign in Campaign.objects.filter(status=CampaignStatus.ACTIVE).order_by(
            "-priority", "id"
        )
        if campaign.pk not in paused and eligibility_problem(campaign, profile) is None
    ]


def next_item_for(
    *, contractor: User, campaign: Campaign | None = None, now: datetime | None = None
) -> Assignment | None:
    """The contractor's lease on their next item: in `campaign`, or in the highest-priority
    campaign open to them that has one. A lease the contractor already holds is resumed (and
    renewed if it lapsed while nobody took its place). None when there is nothing to do.

    Asking in a named campaign the contractor may not work on raises NotAllowed saying why
    (not eligible, or paused with the reason); a campaign that is not active, ServiceError.
    """
    now = now or timezone.now()
    if campaign is None:
        for candidate in open_campaigns_for(contractor):
            assignment = _lease(contractor, candidate, now, named=False)
            if assignment is not None:
                return assignment
        return None
    if campaign.status != CampaignStatus.ACTIVE:
        raise ServiceError(
            f"campaign '{campaign.name}' is {campaign.get_status_display().lower()}; "
            "it hands out no work",
            field="campaign",
            code="conflict",
        )
    if campaign.eligible_groups or campaign.eligible_skills:
        problem = eligibility_problem(campaign, profile_of(contractor))
        if problem:
            raise NotAllowed(problem)
    return _lease(contractor, campaign, now, named=True)


def _row_lock(alias: str, *, skip_locked: bool = False) -> str:
    """A row lock on `alias` that foreign-key checks do not wait on (FOR NO KEY UPDATE), on
    PostgreSQL; nothing on SQLite, whose write transactions are serialised instead."""
    if connection.vendor != "postgresql":
        return ""
    return f" FOR NO KEY UPDATE OF {alias}" + (" SKIP LOCKED" if skip_locked else "")


# The queue's two hot reads are written out in SQL: the ORM spends more time composing them
# (with their subqueries) than the database spends running them.
STANDING_SQL = """
    SELECT s.*{active} FROM {standing} s
    WHERE s.campaign_id = %s AND s.contractor_id = %s{lock}
"""
ACTIVE_SQL = """, (
        SELECT a.id FROM {assignment} a
        WHERE a.contractor_id = s.contractor_id AND a.campaign_id = s.campaign_id
          AND a.status = '{active}'
        LIMIT 1
    ) AS active_id"""
QUEUE_SQL = """
    SELECT w.* FROM {item} w
    WHERE w.campaign_id = %s AND w.remaining > 0 AND NOT w.is_gold
      AND NOT EXISTS (
          SELECT 1 FROM {assignment} a WHERE a.item_id = w.id AND a.contractor_id = %s
      )
    ORDER BY w.priority DESC, w.id
    LIMIT 1{lock}
"""


def queue_scan_sql(*, wait: bool = False) -> str:
    """The scan of the partial index `workitem_queue` for a campaign's next regular item that
    a contractor has never been assigned (params: campaign id, contractor id)."""
    return QUEUE_SQL.format(
        item=WorkItem._meta.db_table,
        assignment=Assignment._meta.db_table,
        lock=_row_lock("w", skip_locked=not wait),
    )


def standing_for_update(
    contractor: User, campaign: Campaign, *, with_active: bool = False
) -> ContractorStanding:
    """The contractor's standing in the campaign, created on first use, locked until the end
    of the surrounding transaction. With `with_active`, `active_id` is their active lease in
    the campaign, if any (read in the same query, since the queue asks for both)."""
    sql = STANDING_SQL.format(
        standing=ContractorStanding._meta.db_table,
        active=ACTIVE_SQL.format(
            assignment=Assignment._meta.db_table, active=AssignmentStatus.ACTIVE.value
        )
        if with_active
        else "",
        lock=_row_lock("s"),
    )
    params = [campaign.pk, contractor.pk]
    standing = next(iter(ContractorStanding.objects.raw(sql, params)), None)
    if standing is not None:
        return standing
    try:
        with transaction.atomic():
            ContractorStanding.objects.create(
                campaign=campaign,
                contractor=contractor,
                status=StandingStatus.QUALIFYING
                if campaign.qualification_size
                else StandingStatus.ACTIVE,
            )
    except IntegrityError:
        pass  # created a moment ago by the contractor's other request
    return next(iter(ContractorStanding.objects.raw(sql, params)))


@transaction.atomic
def _lease(
    contractor: User, campaign: Campaign, now: datetime, *, named: bool
) -> Assignment | None:
    standing = standing_for_update(contractor, campaign, with_active=True)
    if standing.status == StandingStatus.PAUSED:
        if named:
            raise NotAllowed(standing.paused_reason or "you are paused from this campaign")
        return None
    if standing.active_id is not None:
        current = Assignment.objects.select_related("item", "campaign").get(pk=standing.active_id)
        if current.expires_at <= now:
            # Its slot is still held (the expiry sweep has not run): the contractor resumes it.
            current.expires_at = now + timedelta(seconds=campaign.lease_seconds)
            current.save(update_fields=["expires_at"])
        return current

    item = None
    if standing.status == StandingStatus.QUALIFYING:
        item = _pick(campaign, contractor, pool="qualification")
        if item is None:
            # Fewer qualification items were left than the campaign asks for (some skipped):
            # judge the contractor on those they answered.
            from labeling.services import standing_evaluate_qualification

            standing_evaluate_qualification(standing=standing, campaign=campaign, exhausted=True)
            if standing.status != StandingStatus.ACTIVE:
                return None
    if item is None:
        if _gold_due(campaign, contractor, standing.served):
            item = _pick(campaign, contractor, pool="gold")
        item = item or _pick(campaign, contractor, pool="regular")
        if item is None and connection.vendor == "postgresql":
            # Everything left may be held by others for a moment: wait for one rather than
            # report an empty queue (the row is re-checked once its holder commits).
            item = _pick(campaign, contractor, pool="regular", wait=True)
    if item is None:
        return None
    assignment = Assignment.objects.create(
        item=item,
        campaign=campaign,
        contractor=contractor,
        leased_at=now,
        expires_at=now + timedelta(seconds=campaign.lease_seconds),
    )
    if not item.is_gold:
        WorkItem.objects.filter(pk=item.pk).update(remaining=F("remaining") - 1)
    ContractorStanding.objects.filter(pk=standing.pk).update(served=F("served") + 1)
    assignment.item = item
    assignment.campaign = campaign
    return assignment


def _pick(
    campaign: Campaign, contractor: User, *, pool: str, wait: bool = False
) -> WorkItem | None:
    """The first item of a pool the contractor has never been assigned. Regular items are
    locked, skipping rows others hold (unless `wait`); gold items are served to everyone
    once, so there is nothing to lock them against."""
    if pool == "regular":
        found = WorkItem.objects.raw(queue_scan_sql(wait=wait), [campaign.pk, contractor.pk])
        return next(iter(found), None)
    taken = Assignment.objects.filter(item=OuterRef("pk"), contractor=contractor)
    items = WorkItem.objects.filter(campaign=campaign, is_gold=True).filter(~Exists(taken))
    if pool == "qualification":
        items = items.filter(is_qualification=True)
    return items.order_by("is_qualification", "id").first()


def _gold_due(campaign: Campaign, contractor: User, served: int) -> bool:
    """Whether the contractor's next item is a gold one: a keyed hash of who, where and how
    many, below the gold rate. It hits the rate on average, is reproducible, and cannot be
    predicted by the contractor."""
    if campaign.gold_rate <= 0:
        return False
    message = f"gold:{campaign.pk}:{contractor.pk}:{served}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < campaign.gold_rate
