"""Reads of the labeling app, each scoped to who is asking.

Boundaries: contractors see their own assignments and judgments only, never gold answers nor
other contractors' answers; reviewers see the judgments of items in review in the campaigns
they review; managers see the campaigns they own or manage; admins see everything. Gold answers
are read by admins only, everywhere.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Case, Count, Exists, F, FloatField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import TruncHour
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from environments.engine.text import small_int
from environments.models import EpisodeStatus
from labeling import quality
from labeling.models import (
    AgreementReport,
    Assignment,
    AssignmentStatus,
    Campaign,
    ContractorStanding,
    ItemState,
    Judgment,
    LabelStatus,
    ReviewStatus,
    StandingStatus,
    Takeover,
    WorkItem,
    WorkItemStatus,
)
from labeling.questions import FIRST_ERROR
from labeling.queue import open_campaigns_for, profile_of
from labeling.services import AGREEMENT_JOB, GENERATE_JOB, can_manage, can_review
from rlplatform.jobs import JobDescription
from rlplatform.models import Job, User

# Counting a contractor's waiting items stops here; the page says "1000+".
WAITING_CAP = 1000


# --- campaigns ------------------------------------------------------------------------------


def campaign_list_for(*, user: User) -> QuerySet[Campaign]:
    """Admins: every campaign. Managers: those they own or manage. Reviewers: those they
    review. Contractors: none (they see their queue instead)."""
    if user.is_reviewer:
        return Campaign.objects.select_related("owner").filter(reviewers=user).distinct()
    return campaigns_managed_by(user=user)


def campaigns_managed_by(*, user: User) -> QuerySet[Campaign]:
    """The campaigns whose pages, items and judgments a person reads in full: every one for
    admins, those they own or manage for managers, none for anyone else. Exports and feeds
    read labels through this too."""
    campaigns = Campaign.objects.select_related("owner")
    if user.is_admin:
        return campaigns
    if user.is_manager:
        return campaigns.filter(Q(owner=user) | Q(managers=user)).distinct()
    return campaigns.none()


def campaign_managed_by(*, user: User, campaign_id: int) -> Campaign:
    campaign = campaigns_managed_by(user=user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404(f"no campaign {campaign_id} that you manage")
    return campaign


def item_list(*, campaign: Campaign, status: str | None = None, review: str | None = None):
    items = campaign.items.select_related("task", "adjudication")
    if status:
        items = items.filter(status=status)
    if review:
        items = items.filter(review_status=review)
    return items.order_by("-priority", "id")


def item_managed_by(*, user: User, item_id: int) -> WorkItem:
    item = WorkItem.objects.select_related("campaign", "task").filter(pk=item_id).first()
    if item is None or not can_manage(user, item.campaign):
        raise Http404(f"no item {item_id} in a campaign you manage")
    return item


def item_final_label(
    *, item: WorkItem, exclude_paused: bool = False, using: str = DEFAULT_DB_ALIAS
) -> dict[str, Any] | None:
    """The one label an item ends with, which every reader of labels uses (exports included):

    - `adjudicated`: a reviewer's answers; they win, with confidence 1.0;
    - `in_review`: waiting for a reviewer; the answers are the judges' aggregate so far;
    - `decided`: the aggregate, every question decided (no tie, confidence at or above the
      campaign's review_threshold); its confidence is the aggregate's consensus (None with a
      single judgment);
    - `unresolved`: the aggregate has a tie or a split, so it is no label. An item that
      completes undecided goes to review, so this is mostly what `exclude_paused` yields when
      the judges left are split.

    Returns {"status", "answers", "source" ("adjudication" | "aggregate"), "confidence",
    "questions": {question: "decided" | "tie" | "split"}}, or None while the item is not fully
    judged. With `exclude_paused`, an aggregate is computed again without the judgments of
    contractors paused in the campaign (None when no other judgment is left).
    """
    adjudication = getattr(item, "adjudication", None) if item.pk else None
    if adjudication is not None:
        return {
            "status": LabelStatus.ADJUDICATED.value,
            "answers": adjudication.answers,
            "source": "adjudication",
            "confidence": 1.0,
            "questions": {name: quality.DECIDED for name in adjudication.answers},
        }
    aggregate = item.aggregate
    if aggregate and exclude_paused:
        aggregate = _aggregate_without_paused(item, using)
    if not aggregate:
        return None
    if item.review_status == ReviewStatus.PENDING:
        status = LabelStatus.IN_REVIEW
    elif aggregate.get("decided"):
        status = LabelStatus.DECIDED
    else:
        status = LabelStatus.UNRESOLVED
    return {
        "status": status.value,
        "answers": aggregate["answers"],
        "source": "aggregate",
        "confidence": aggregate.get("consensus"),
        "questions": aggregate.get("status", {}),
    }


def _aggregate_without_paused(item: WorkItem, using: str) -> dict[str, Any] | None:
    paused = ContractorStanding.objects.using(using).filter(
        campaign_id=item.campaign_id, status=StandingStatus.PAUSED
    )
    answers = list(
        Judgment.objects.using(using)
        .filter(item=item)
        .exclude(contractor_id__in=paused.values("contractor_id"))
        .order_by("id")
        .values_list("answers", flat=True)
    )
    if not answers:
        return None
    campaign = item.campaign
    return quality.aggregate_answers(campaign.schema, answers, threshold=campaign.review_threshold)


# --- judgments and assignments --------------------------------------------------------------


def judgment_list_for(*, user: User) -> QuerySet[Judgment]:
    judgments = Judgment.objects.select_related("contractor", "item", "campaign")
    if user.is_admin:
        return judgments
    if user.is_manager:
        return judgments.filter(Q(campaign__owner=user) | Q(campaign__managers=user)).distinct()
    if user.is_reviewer:
        return (
            judgments.filter(campaign__reviewers=user, item__is_gold=False)
            .exclude(item__review_status=ReviewStatus.NONE)
            .distinct()
        )
    return judgments.filter(contractor=user)


def assignment_list_for(*, contractor: User) -> QuerySet[Assignment]:
    return Assignment.objects.select_related("campaign", "item").filter(contractor=contractor)


def assignment_of(*, contractor: User, assignment_id: int) -> Assignment:
    assignment = (
        assignment_list_for(contractor=contractor)
        .select_related("item__task", "episode")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None:
        raise Http404(f"you have no assignment {assignment_id}")
    return assignment


# --- review ---------------------------------------------------------------------------------


def review_queue_for(*, user: User, campaign: Campaign | None = None) -> QuerySet[WorkItem]:
    """Items waiting for adjudication in the campaigns the user reviews (or manages)."""
    items = WorkItem.objects.select_related("campaign", "task").filter(
        review_status=ReviewStatus.PENDING
    )
    if campaign is not None:
        items = items.filter(campaign=campaign)
    if not user.is_admin:
        items = items.filter(
            Q(campaign__reviewers=user) | Q(campaign__owner=user) | Q(campaign__managers=user)
        ).distinct()
    return items.order_by("consensus", "completed_at", "id")


def review_item_for(*, user: User, item_id: int) -> WorkItem:
    item = (
        WorkItem.objects.select_related("campaign", "task", "episode_a", "episode_b")
        .filter(pk=item_id, is_gold=False)
        .first()
    )
    if item is None or not can_review(user, item.campaign):
        raise Http404(f"no item {item_id} that you review")
    if not can_manage(user, item.campaign) and item.review_status == ReviewStatus.NONE:
        raise Http404(f"item {item_id} is not in review")
    return item


# --- the contractor's view ------------------------------------------------------------------


def _start_of_today(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _median_seconds(values: list[int | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(median(known) / 1000, 1) if known else None


@dataclass
class QueueEntry:
    campaign: Campaign
    waiting: int
    waiting_capped: bool
    standing: ContractorStanding | None
    today: int
    median_seconds: float | None
    active: Assignment | None

    @property
    def paused(self) -> bool:
        return self.standing is not None and self.standing.status == StandingStatus.PAUSED

    @property
    def gold_accuracy(self) -> float | None:
        return self.standing.gold_accuracy if self.standing else None


def queue_for(*, contractor: User, now: datetime | None = None) -> list[QueueEntry]:
    """The contractor's queue per campaign: items waiting for them, their standing (with the
    reason if paused), today's count and median time. Paused campaigns are listed too, so the
    contractor sees why."""
    now = now or timezone.now()
    open_ids = [campaign.pk for campaign in open_campaigns_for(contractor)]
    standings = {
        standing.campaign_id: standing
        for standing in ContractorStanding.objects.filter(contractor=contractor)
    }
    paused_ids = [
        campaign_id
        for campaign_id, standing in standings.items()
        if standing.status == StandingStatus.PAUSED
    ]
    campaigns = Campaign.objects.filter(pk__in=open_ids + paused_ids, status="active").order_by(
        "-priority", "id"
    )
    today = _start_of_today(now)
    entries = []
    for campaign in campaigns:
        mine = Assignment.objects.filter(item=OuterRef("pk"), contractor=contractor)
        waiting = len(
            WorkItem.objects.filter(campaign=campaign, is_gold=False, remaining__gt=0)
            .exclude(Exists(mine))
            .values_list("pk", flat=True)[: WAITING_CAP + 1]
        )
        judged = Judgment.objects.filter(contractor=contractor, campaign=campaign)
        entries.append(
            QueueEntry(
                campaign=campaign,
                waiting=min(waiting, WAITING_CAP),
                waiting_capped=waiting > WAITING_CAP,
                standing=standings.get(campaign.pk),
                today=judged.filter(submitted_at__gte=today).count(),
                median_seconds=_median_seconds(
                    list(
                        judged.order_by("-submitted_at").values_list("time_spent_ms", flat=True)[
                            :200
                        ]
                    )
                ),
                active=Assignment.objects.filter(
                    contractor=contractor, campaign=campaign, status=AssignmentStatus.ACTIVE
                ).first(),
            )
        )
    return entries


def contractor_summary(*, contractor: User, now: datetime | None = None) -> dict[str, Any]:
    """Today's count, the median time per item, and gold accuracy over every campaign."""
    now = now or timezone.now()
    judged = Judgment.objects.filter(contractor=contractor)
    standings = ContractorStanding.objects.filter(contractor=contractor, gold_judged__gt=0)
    gold_judged = sum(standing.gold_judged for standing in standings)
    gold_sum = sum(standing.gold_score_sum for standing in standings)
    return {
        "today": judged.filter(submitted_at__gte=_start_of_today(now)).count(),
        "total": judged.count(),
        "median_seconds": _median_seconds(
            list(judged.order_by("-submitted_at").values_list("time_spent_ms", flat=True)[:200])
        ),
        "gold_accuracy": gold_sum / gold_judged if gold_judged else None,
        "gold_judged": gold_judged,
        "eligible": profile_of(contractor),
    }


# --- the manager's dashboard ----------------------------------------------------------------


def campaign_progress(*, campaign: Campaign) -> dict[str, Any]:
    items = WorkItem.objects.filter(campaign=campaign, is_gold=False)
    total = items.count()
    complete = items.filter(status=WorkItemStatus.COMPLETE).count()
    judgments = Judgment.objects.filter(campaign=campaign, item__is_gold=False).count()
    wanted = total * campaign.overlap
    return {
        "items": total,
        "complete": complete,
        "remaining_items": total - complete,
        "judgments": judgments,
        "judgments_wanted": wanted,
        "judgments_remaining": max(0, wanted - judgments),
        "percent": round(100 * min(judgments, wanted) / wanted, 1) if wanted else 0.0,
        "gold_items": WorkItem.objects.filter(campaign=campaign, is_gold=True).count(),
        "in_review": items.filter(review_status=ReviewStatus.PENDING).count(),
        "adjudicated": items.filter(review_status=ReviewStatus.RESOLVED).count(),
        "leased": Assignment.objects.filter(
            campaign=campaign, status=AssignmentStatus.ACTIVE
        ).count(),
        "skipped": Assignment.objects.filter(
            campaign=campaign, status=AssignmentStatus.SKIPPED
        ).count(),
    }


def campaign_throughput(
    *, campaign: Campaign, hours: int = 24, now: datetime | None = None
) -> list[tuple[datetime, int]]:
    """Judgments per hour over the last `hours` hours, oldest first, empty hours included."""
    now = now or timezone.now()
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours - 1)
    counted = dict(
        Judgment.objects.filter(campaign=campaign, submitted_at__gte=start)
        .annotate(hour=TruncHour("submitted_at"))
        .values_list("hour")
        .annotate(n=Count("id"))
        .values_list("hour", "n")
        .order_by()
    )
    return [
        (start + timedelta(hours=offset), counted.get(start + timedelta(hours=offset), 0))
        for offset in range(hours)
    ]


def campaign_timing(*, campaign: Campaign, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    judgments = Judgment.objects.filter(campaign=campaign)
    last_hour = judgments.filter(submitted_at__gte=now - timedelta(hours=1)).count()
    recent = list(
        judgments.order_by("-submitted_at").values_list("time_spent_ms", flat=True)[:2000]
    )
    first = judgments.order_by("submitted_at").values_list("submitted_at", flat=True).first()
    total = judgments.count()
    hours = max((now - first).total_seconds() / 3600, 1) if first else None
    return {
        "last_hour": last_hour,
        "per_hour": round(total / hours, 1) if hours else 0.0,
        "median_seconds": _median_seconds(recent),
    }


def agreement_latest(*, campaign: Campaign) -> AgreementReport | None:
    return campaign.agreement_reports.order_by("-computed_at", "-id").first()


@dataclass
class ContractorRow:
    contractor: User
    items: int
    median_seconds: float | None
    standing: ContractorStanding | None
    agreement: float | None
    agreement_items: int
    skipped: int

    @property
    def gold_accuracy(self) -> float | None:
        return self.standing.gold_accuracy if self.standing else None


def campaign_contractors(
    *, campaign: Campaign, report: AgreementReport | None = None
) -> list[ContractorRow]:
    """Each contractor who worked on the campaign: items judged, median time, gold accuracy,
    agreement with the consensus of the others (from the latest agreement report)."""
    report = report if report is not None else agreement_latest(campaign=campaign)
    agreement = report.contractors if report else {}
    times: dict[int, list[int]] = {}
    for contractor_id, spent in Judgment.objects.filter(campaign=campaign).values_list(
        "contractor_id", "time_spent_ms"
    ):
        times.setdefault(contractor_id, []).append(spent)
    standings = {
        standing.contractor_id: standing
        for standing in ContractorStanding.objects.filter(campaign=campaign)
    }
    skipped: dict[int, int] = {}
    for contractor_id in Assignment.objects.filter(
        campaign=campaign, status=AssignmentStatus.SKIPPED
    ).values_list("contractor_id", flat=True):
        skipped[contractor_id] = skipped.get(contractor_id, 0) + 1
    people = User.objects.in_bulk(set(times) | set(standings))
    rows = [
        ContractorRow(
            contractor=person,
            items=len(times.get(person_id, [])),
            median_seconds=_median_seconds(times.get(person_id, [])),
            standing=standings.get(person_id),
            agreement=agreement.get(str(person_id), {}).get("agreement"),
            agreement_items=agreement.get(str(person_id), {}).get("items", 0),
            skipped=skipped.get(person_id, 0),
        )
        for person_id, person in people.items()
    ]
    return sorted(rows, key=lambda row: (-row.items, row.contractor.username))


# --- jobs, described for the job page -------------------------------------------------------


def _items(count: int) -> str:
    return f"{count:,} item{'' if count == 1 else 's'}"


def campaign_job_description(job: Job) -> JobDescription:
    """The agreement and item-generation jobs of a campaign: what came of them, and the
    campaign's dashboard."""
    campaign = Campaign.objects.filter(pk=job.params.get("campaign")).first()
    if campaign is None:
        return JobDescription()
    result = job.result or {}
    summary = ""
    if job.kind == AGREEMENT_JOB and "items" in result:
        if result["alpha"] is None:
            summary = (
                f"Agreement cannot be measured yet on {_items(result['items'])}: too few "
                "overlapping judgments, or answers that never vary."
            )
        else:
            summary = f"Agreement (alpha) {result['alpha']:.2f} on {_items(result['items'])}."
    elif job.kind == GENERATE_JOB and "added" in result:
        summary = f"{_items(result['added'])} added; the campaign has {_items(result['items'])}."
    link = (f"Campaign “{campaign.name}”", reverse("labeling_dashboard", args=[campaign.pk]))
    return JobDescription(summary=summary, links=[link])


def campaigns_fed_description(job: Job) -> JobDescription:
    """The campaigns that took a rollout's (or an import's) episodes as items, among those
    the job's starter manages."""
    if job.kind == "rollout":
        episodes = Q(episode_a__rollout_item__job=job) | Q(episode_b__rollout_item__job=job)
    else:
        ids = (job.result or {}).get("episodes") or []
        episodes = Q(episode_a__in=ids) | Q(episode_b__in=ids)
    campaigns = (
        Campaign.objects.all() if job.created_by is None else campaign_list_for(user=job.created_by)
    )
    fed = (
        campaigns.filter(pk__in=WorkItem.objects.filter(episodes).values("campaign"))
        .annotate(fed_items=Count("items", filter=Q(items__in=WorkItem.objects.filter(episodes))))
        .order_by("name")
    )
    return JobDescription(
        links=[
            (
                f"Campaign “{campaign.name}”: {_items(campaign.fed_items)} from this job",
                reverse("labeling_dashboard", args=[campaign.pk]),
            )
            for campaign in fed
        ]
    )


def campaign_first_errors(*, campaign: Campaign) -> dict[str, Any] | None:
    """How the graders' first errors fall, per task family and per policy (the agent's
    `metadata.policy`): {"categories": [(value, label)] with (None, "No step went wrong")
    last, "by_family" and "by_policy": [(name, {category value or None: count})], "judged"}.
    None when the campaign asks no first_error question."""
    question = next((q for q in campaign.schema if q["type"] == FIRST_ERROR), None)
    if question is None:
        return None
    name = question["name"]
    by_family: dict[str, Counter] = defaultdict(Counter)
    by_policy: dict[str, Counter] = defaultdict(Counter)
    rows = Judgment.objects.filter(campaign=campaign).values_list(
        "answers", "item__episode_a__task__family", "item__episode_a__metadata__policy"
    )
    judged = 0
    for answers, family, policy in rows.iterator():
        answer = answers.get(name)
        if not answer:
            continue
        judged += 1
        category = answer.get("category") if answer.get("step") is not None else None
        by_family[family or "?"][category] += 1
        by_policy[str(policy) if policy else "unnamed"][category] += 1
    categories = [(c["value"], c["label"]) for c in question["categories"]]
    return {
        "categories": [*categories, (None, "No step went wrong")],
        "by_family": sorted(by_family.items()),
        "by_policy": sorted(by_policy.items()),
        "judged": judged,
    }


def campaign_takeovers(*, campaign: Campaign) -> dict[str, Any]:
    """The campaign's takeovers by how their episodes stand: started, succeeded (the verifier
    said done), failed (ended unsolved), abandoned (given up) and running, with the success
    rate among those that ended."""
    counts = Counter(
        (status, success)
        for status, success in Takeover.objects.filter(assignment__campaign=campaign).values_list(
            "episode__status", "episode__success"
        )
    )
    running = sum(n for (status, _), n in counts.items() if status == EpisodeStatus.RUNNING)
    abandoned = sum(n for (status, _), n in counts.items() if status == EpisodeStatus.ABANDONED)
    succeeded = sum(
        n for (status, success), n in counts.items() if status != EpisodeStatus.RUNNING and success
    )
    started = sum(counts.values())
    ended = started - running
    return {
        "started": started,
        "succeeded": succeeded,
        "abandoned": abandoned,
        "failed": ended - succeeded - abandoned,
        "running": running,
        "success_rate": succeeded / ended if ended else None,
    }


# --- the item browser -----------------------------------------------------------------------


STATE_HELP = {
    ItemState.QUEUED: "waiting for its first judgment",
    ItemState.IN_PROGRESS: "judged by some, or held by a contractor now",
    ItemState.COMPLETE: "fully judged and decided by the judges",
    ItemState.IN_REVIEW: "waiting for a reviewer",
    ItemState.ADJUDICATED: "a reviewer gave its final label",
}


@dataclass(frozen=True)
class ItemFilters:
    """The item browser's filters; empty values filter nothing."""

    states: tuple[str, ...] = ()
    min_confidence: float | None = None
    max_confidence: float | None = None
    gold: str = ""  # "gold", "regular" or "" (both)
    contractor: int | None = None
    family: str = ""
    search: str = ""


def _state_filter(state: str) -> Q:
    leased = Exists(Assignment.objects.filter(item=OuterRef("pk"), status=AssignmentStatus.ACTIVE))
    open_ = Q(status=WorkItemStatus.OPEN, review_status=ReviewStatus.NONE)
    return {
        ItemState.QUEUED: open_ & Q(judgment_count=0) & ~Q(leased),
        ItemState.IN_PROGRESS: open_ & (Q(judgment_count__gt=0) | Q(leased)),
        ItemState.COMPLETE: Q(status=WorkItemStatus.COMPLETE, review_status=ReviewStatus.NONE),
        ItemState.IN_REVIEW: Q(review_status=ReviewStatus.PENDING),
        ItemState.ADJUDICATED: Q(review_status=ReviewStatus.RESOLVED),
    }[ItemState(state)]


def _search_filter(text: str) -> Q:
    """An item id or episode id ("12", "#12", "episode 40"), else words of the task's goal."""
    text = text.replace("\x00", "").strip()
    if not text:
        return Q()
    value = small_int(text.lower().removeprefix("episode").lstrip(" :#"))
    if value is not None:
        found = Q(episode_a_id=value) | Q(episode_b_id=value)
        return found if text.lower().startswith("episode") else found | Q(pk=value)
    return Q(task__goal__icontains=text[:200])


def item_browse(*, campaign: Campaign, filters: ItemFilters) -> QuerySet[WorkItem]:
    """A campaign's items matching the browser's filters, in id order. Each carries
    `label_confidence`: the confidence of its final label as exports read it (an adjudicated
    item 1.0, else the judges' consensus; none before it is fully judged)."""
    items = (
        WorkItem.objects.filter(campaign=campaign)
        .select_related("task", "adjudication")
        .annotate(
            label_confidence=Case(
                When(adjudication__isnull=False, then=Value(1.0)),
                default=F("consensus"),
                output_field=FloatField(),
            )
        )
    )
    if filters.states:
        states = Q()
        for state in filters.states:
            states |= _state_filter(state)
        items = items.filter(states)
    if filters.min_confidence is not None:
        items = items.filter(label_confidence__gte=filters.min_confidence)
    if filters.max_confidence is not None:
        items = items.filter(label_confidence__lte=filters.max_confidence)
    if filters.gold == "gold":
        items = items.filter(is_gold=True)
    elif filters.gold == "regular":
        items = items.filter(is_gold=False)
    if filters.contractor is not None:
        items = items.filter(
            Exists(Judgment.objects.filter(item=OuterRef("pk"), contractor_id=filters.contractor))
        )
    if filters.family:
        items = items.filter(task__family=filters.family)
    if filters.search:
        items = items.filter(_search_filter(filters.search))
    return items.order_by("id")


def item_state(item: WorkItem, *, leased: bool = False) -> ItemState:
    if item.review_status == ReviewStatus.RESOLVED:
        return ItemState.ADJUDICATED
    if item.review_status == ReviewStatus.PENDING:
        return ItemState.IN_REVIEW
    if item.status == WorkItemStatus.COMPLETE:
        return ItemState.COMPLETE
    if item.judgment_count or leased:
        return ItemState.IN_PROGRESS
    return ItemState.QUEUED


def items_leased(items: list[WorkItem]) -> set[int]:
    """Which of these items a contractor holds now."""
    return set(
        Assignment.objects.filter(item__in=items, status=AssignmentStatus.ACTIVE).values_list(
            "item_id", flat=True
        )
    )


def campaign_families(*, campaign: Campaign) -> list[str]:
    return list(
        campaign.items.order_by("task__family").values_list("task__family", flat=True).distinct()
    )


def campaign_judges(*, campaign: Campaign) -> QuerySet[User]:
    """The contractors who judged in the campaign."""
    return User.objects.filter(
        pk__in=Judgment.objects.filter(campaign=campaign).values("contractor_id")
    ).order_by("username")


def item_of_campaign(*, campaign: Campaign, item_id: int) -> WorkItem:
    item = (
        campaign.items.select_related("task", "adjudication", "episode_a", "episode_b")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise Http404(f"no item {item_id} in this campaign")
    return item
