"""Writes of the labeling app: campaigns and their items, judgments and skips, lease expiry,
contractor standings (gold accuracy, qualification, pauses), adjudication and agreement.

Every function is keyword-only and runs in one transaction. Counters that the queue reads
(`WorkItem.remaining`, `judgment_count`) change only here and in `labeling/queue.py`, always
with the item row locked.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from environments import services as environment_services
from environments.models import ActorKind, Episode
from labeling import quality, schemas, sources
from labeling.models import (
    Adjudication,
    AgreementReport,
    Assignment,
    AssignmentStatus,
    Campaign,
    CampaignKind,
    CampaignStatus,
    ContractorProfile,
    ContractorStanding,
    Judgment,
    ReviewStatus,
    SkipReason,
    StandingStatus,
    Takeover,
    WorkItem,
    WorkItemStatus,
)
from labeling.queue import standing_for_update
from rlplatform import services as platform_services
from rlplatform.models import Job, JobStatus, Role, User
from rlplatform.services import NotAllowed, ServiceError

AGREEMENT_JOB = "labeling_agreement"
GENERATE_JOB = "labeling_generate_items"
MAX_EXPLICIT_ITEMS = 1000
# A judgment that took longer than this was left open, not worked on.
MAX_TIME_SPENT_MS = 4 * 3600 * 1000


# --- who may do what ------------------------------------------------------------------------


def can_manage(user: User, campaign: Campaign) -> bool:
    if user.is_admin:
        return True
    if not user.is_manager:
        return False
    return campaign.owner_id == user.pk or campaign.managers.filter(pk=user.pk).exists()


def can_review(user: User, campaign: Campaign) -> bool:
    return can_manage(user, campaign) or (
        user.is_reviewer and campaign.reviewers.filter(pk=user.pk).exists()
    )


def _require_manager(user: User, campaign: Campaign) -> None:
    if not can_manage(user, campaign):
        raise NotAllowed(f"you do not manage campaign '{campaign.name}'")


# --- campaigns ------------------------------------------------------------------------------

SETTINGS = (
    "name",
    "instructions",
    "schema",
    "sources",
    "overlap",
    "gold_rate",
    "gold_accuracy_threshold",
    "gold_min_judged",
    "qualification_size",
    "qualification_pass_rate",
    "review_threshold",
    "eligible_groups",
    "eligible_skills",
    "priority",
    "lease_seconds",
    "allow_takeover",
)


def _number(values: dict, name: str, low: float, high: float, *, integer: bool) -> None:
    value = values.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ServiceError(f"{name} is a number from {low} to {high}", field=name)
    if integer and not float(value).is_integer():
        raise ServiceError(f"{name} is a whole number", field=name)
    if not low <= value <= high:
        raise ServiceError(f"{name} must be between {low} and {high}, not {value}", field=name)


def _validate_settings(kind: str, values: dict) -> dict:
    """Check and normalise the campaign settings present in `values`."""
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"] or len(values["name"]) > 200:
            raise ServiceError("give the campaign a name of at most 200 characters", field="name")
    if "instructions" in values and len(values["instructions"] or "") > 50_000:
        raise ServiceError("instructions are at most 50,000 characters", field="instructions")
    for name, low, high, integer in (
        ("overlap", 1, 50, True),
        ("gold_rate", 0, 0.5, False),
        ("gold_accuracy_threshold", 0, 1, False),
        ("gold_min_judged", 1, 1000, True),
        ("qualification_size", 0, 50, True),
        ("qualification_pass_rate", 0, 1, False),
        # Below half the votes there is no majority to decide a label.
        ("review_threshold", 0.5, 1, False),
        ("priority", -1000, 1000, True),
        ("lease_seconds", 60, 86_400, True),
    ):
        _number(values, name, low, high, integer=integer)
    for name in ("eligible_groups", "eligible_skills"):
        if name in values:
            tags = values[name] or []
            if not isinstance(tags, list | tuple) or not all(
                isinstance(tag, str) and tag.strip() and len(tag) <= 50 for tag in tags
            ):
                raise ServiceError(f"{name} is a list of names (at most 50 characters)", field=name)
            values[name] = sorted({tag.strip() for tag in tags})
    if "schema" in values:
        values["schema"] = schemas.validate_schema(values["schema"] or [], kind=kind)
    if "sources" in values:
        values["sources"] = sources.validate_sources(kind, values["sources"])
    if "allow_takeover" in values:
        if not isinstance(values["allow_takeover"], bool):
            raise ServiceError("allow_takeover is true or false", field="allow_takeover")
        if values["allow_takeover"] and kind != CampaignKind.GRADE:
            raise ServiceError(
                "only grade campaigns allow a takeover (of the agent's episode being graded)",
                field="allow_takeover",
            )
    if kind == CampaignKind.DEMONSTRATE and (
        values.get("gold_rate") or values.get("qualification_size")
    ):
        raise ServiceError(
            "demonstrate campaigns are checked by each task's verifier; gold items and "
            "qualification apply to grade and compare campaigns",
            field="gold_rate" if values.get("gold_rate") else "qualification_size",
        )
    return values


@transaction.atomic
def campaign_create(
    *,
    created_by: User,
    name: str,
    kind: str,
    schema: list | None = None,
    managers: list[User] | None = None,
    reviewers: list[User] | None = None,
    **settings: Any,
) -> Campaign:
    """Create a draft campaign owned by `created_by` (a manager or admin). Settings are the
    Campaign fields in SETTINGS; the schema and sources are validated for the kind, and a job
    generates the items the sources hold. Without `reviewers`, every active reviewer reviews it
    (an empty list: nobody but its managers)."""
    if not (created_by.is_admin or created_by.is_manager):
        raise NotAllowed("only managers and admins create campaigns")
    if kind not in CampaignKind.values:
        raise ServiceError(
            f"'{kind}' is not a campaign kind; choose {', '.join(CampaignKind.values)}",
            field="kind",
        )
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ServiceError(f"unknown campaign setting {', '.join(unknown)}", field=unknown[0])
    values = _validate_settings(kind, {"name": name, "schema": schema or [], **settings})
    campaign = Campaign.objects.create(owner=created_by, kind=kind, **values)
    if reviewers is None:
        reviewers = list(User.objects.filter(role=Role.REVIEWER, is_active=True))
    _set_people(campaign, managers, reviewers)
    if campaign.sources:
        # What the sources already hold (rollouts finished before the campaign existed) comes
        # in at once; what arrives later is routed as it finishes.
        items_generate_start(campaign=campaign, requested_by=created_by)
    return campaign


def _set_people(campaign: Campaign, managers: list[User] | None, reviewers: list[User] | None):
    if managers is not None:
        wrong = [user.username for user in managers if user.role not in (Role.MANAGER, Role.ADMIN)]
        if wrong:
            raise ServiceError(f"{', '.join(wrong)} not a manager", field="managers")
        campaign.managers.set(managers)
    if reviewers is not None:
        wrong = [
            user.username
            for user in reviewers
            if user.role not in (Role.REVIEWER, Role.MANAGER, Role.ADMIN)
        ]
        if wrong:
            raise ServiceError(f"{', '.join(wrong)} not a reviewer", field="reviewers")
        campaign.reviewers.set(reviewers)


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    updated_by: User,
    managers: list[User] | None = None,
    reviewers: list[User] | None = None,
    **changes: Any,
) -> Campaign:
    """Change a campaign's settings. The schema is fixed once judgments exist (they answer
    it); a new overlap rebalances every item's remaining count; new sources start a job that
    generates their items."""
    _require_manager(updated_by, campaign)
    campaign = Campaign.objects.select_for_update(no_key=True, of=("self",)).get(pk=campaign.pk)
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise ServiceError(f"unknown campaign setting {', '.join(unknown)}", field=unknown[0])
    values = _validate_settings(campaign.kind, dict(changes))
    if "schema" in values and values["schema"] != campaign.schema:
        recorded = Judgment.objects.filter(campaign=campaign).count()
        if recorded:
            raise ServiceError(
                f"the schema cannot change once judgments exist ({recorded} answer it); "
                "create a new campaign for new questions",
                field="schema",
                code="conflict",
            )
    overlap_changed = "overlap" in values and values["overlap"] != campaign.overlap
    sources_changed = "sources" in values and values["sources"] != campaign.sources
    threshold_changed = (
        "review_threshold" in values and values["review_threshold"] != campaign.review_threshold
    )
    for name, value in values.items():
        setattr(campaign, name, value)
    campaign.save()
    _set_people(campaign, managers, reviewers)
    if overlap_changed:
        _rebalance(campaign)
    if threshold_changed:
        _aggregate_again(campaign)
    if sources_changed and campaign.sources:
        items_generate_start(campaign=campaign, requested_by=updated_by)
    return campaign


def _aggregate_again(campaign: Campaign, batch_size: int = 1000) -> None:
    """Decide every completed item again under the campaign's threshold, a batch of items at
    a time; those it leaves undecided go to review (items already in review stay there: a
    reviewer was asked)."""
    items = WorkItem.objects.filter(
        campaign=campaign, is_gold=False, status=WorkItemStatus.COMPLETE
    ).order_by("pk")
    last = 0
    while batch := list(items.filter(pk__gt=last).only("pk", "review_status")[:batch_size]):
        last = batch[-1].pk
        answers_by_item: dict[int, list[dict]] = defaultdict(list)
        for item_id, answers in (
            Judgment.objects.filter(item__in=batch)
            .order_by("item_id", "id")
            .values_list("item_id", "answers")
        ):
            answers_by_item[item_id].append(answers)
        for item in batch:
            item.aggregate = quality.aggregate_answers(
                campaign.schema, answers_by_item[item.pk], threshold=campaign.review_threshold
            )
            item.consensus = item.aggregate["consensus"]
            if not item.aggregate["decided"] and item.review_status == ReviewStatus.NONE:
                item.review_status = ReviewStatus.PENDING
        WorkItem.objects.bulk_update(batch, ["aggregate", "consensus", "review_status"])


def _rebalance(campaign: Campaign) -> None:
    """Recompute every regular item's remaining count for the campaign's overlap."""
    active = (
        Assignment.objects.filter(item=OuterRef("pk"), status=AssignmentStatus.ACTIVE)
        .values("item")
        .annotate(n=Count("pk"))
        .values("n")
    )
    items = WorkItem.objects.filter(campaign=campaign, is_gold=False)
    items.update(
        remaining=Greatest(
            Value(campaign.overlap) - F("judgment_count") - Coalesce(Subquery(active), 0),
            Value(0),
        )
    )
    items.filter(judgment_count__lt=campaign.overlap).update(status=WorkItemStatus.OPEN)
    done = items.filter(judgment_count__gte=campaign.overlap, status=WorkItemStatus.OPEN)
    for item in done:
        _complete(item, campaign, timezone.now())


TRANSITIONS = {
    CampaignStatus.DRAFT: {CampaignStatus.ACTIVE, CampaignStatus.DONE},
    CampaignStatus.ACTIVE: {CampaignStatus.PAUSED, CampaignStatus.DONE},
    CampaignStatus.PAUSED: {CampaignStatus.ACTIVE, CampaignStatus.DONE},
    CampaignStatus.DONE: {CampaignStatus.ACTIVE},
}


@transaction.atomic
def campaign_set_status(*, campaign: Campaign, status: str, changed_by: User) -> Campaign:
    """Activate, pause, finish or reopen a campaign. Activating needs items, and enough
    qualification items when qualification is required. Leases already held stay valid."""
    _require_manager(changed_by, campaign)
    campaign = Campaign.objects.select_for_update(no_key=True, of=("self",)).get(pk=campaign.pk)
    if status not in CampaignStatus.values:
        raise ServiceError(
            f"'{status}' is not a status; choose {', '.join(CampaignStatus.values)}",
            field="status",
        )
    if status == campaign.status:
        return campaign
    if status not in TRANSITIONS[campaign.status]:
        raise ServiceError(
            f"a {campaign.status} campaign cannot become {status}", field="status", code="conflict"
        )
    if status == CampaignStatus.ACTIVE:
        # A campaign subscribed to rollouts may start empty: its items arrive with them.
        if "rollouts" not in campaign.sources and not campaign.items.filter(is_gold=False).exists():
            raise ServiceError(
                "the campaign has no items yet: generate them from its sources or add some",
                field="status",
                code="conflict",
            )
        if campaign.qualification_size:
            available = campaign.items.filter(is_qualification=True).count()
            if available < campaign.qualification_size:
                raise ServiceError(
                    f"qualification asks for {campaign.qualification_size} qualification "
                    f"items and the campaign has {available}; add gold items marked "
                    "is_qualification",
                    field="status",
                    code="conflict",
                )
    campaign.status = status
    campaign.save(update_fields=["status", "updated_at"])
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign, deleted_by: User) -> None:
    _require_manager(deleted_by, campaign)
    if Judgment.objects.filter(campaign=campaign).exists():
        raise ServiceError(
            "a campaign with judgments cannot be deleted; mark it done instead",
            field="campaign",
            code="conflict",
        )
    campaign.delete()


# --- items ----------------------------------------------------------------------------------


def _insert(campaign: Campaign, found: list[sources.Candidate], **fields: Any) -> int:
    before = WorkItem.objects.filter(campaign=campaign).count()
    WorkItem.objects.bulk_create(
        [
            WorkItem(
                campaign=campaign,
                source_key=candidate.source_key,
                task_id=candidate.task_id,
                episode_a_id=candidate.episode_a_id,
                episode_b_id=candidate.episode_b_id,
                remaining=0 if fields.get("is_gold") else campaign.overlap,
                **fields,
            )
            for candidate in found
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return WorkItem.objects.filter(campaign=campaign).count() - before


def items_generate(*, campaign: Campaign, requested_by: User, progress=None) -> int:
    """Add the items the campaign's sources yield that it does not have yet (tasks for
    demonstrate, finished episodes for grade, pairs for compare); return how many were added.
    Run again after new episodes arrive to add them."""
    _require_manager(requested_by, campaign)
    if not campaign.sources:
        raise ServiceError(
            "the campaign has no sources; set them, or add items explicitly", field="sources"
        )
    added, batch = 0, []
    for candidate in sources.candidates(campaign.kind, campaign.sources):
        batch.append(candidate)
        if len(batch) == 1000:
            with transaction.atomic():
                added += _insert(campaign, batch)
            batch = []
            if progress:
                progress(added)
    if batch:
        with transaction.atomic():
            added += _insert(campaign, batch)
    return added


@transaction.atomic
def items_add(*, campaign: Campaign, added_by: User, entries: list[dict]) -> list[WorkItem]:
    """Add items explicitly: {"task"} (demonstrate), {"episode"} (grade) or {"episode_a",
    "episode_b"} (compare), each optionally with "priority", and (not for demonstrate)
    "is_gold", "gold_answer" and "is_qualification". An item already in the campaign is
    refused."""
    _require_manager(added_by, campaign)
    if not entries or len(entries) > MAX_EXPLICIT_ITEMS:
        raise ServiceError(f"give 1 to {MAX_EXPLICIT_ITEMS} items", field="items")
    made = []
    for index, entry in enumerate(entries):
        try:
            candidate = sources.explicit_candidate(campaign.kind, entry)
            if WorkItem.objects.filter(campaign=campaign, source_key=candidate.source_key).exists():
                raise ServiceError(
                    f"the campaign already has this item ({candidate.source_key})",
                    code="conflict",
                )
            gold = _gold_fields(campaign, entry, candidate)
            priority = entry.get("priority", 0)
            _number({"priority": priority}, "priority", -1000, 1000, integer=True)
        except schemas.LabelSchemaError as error:
            raise schemas.LabelSchemaError(
                {
                    f"items[{index}].{where}": [f"item {index + 1}: {m}" for m in messages]
                    for where, messages in error.problems.items()
                }
            ) from None
        except ServiceError as error:
            raise ServiceError(
                f"item {index + 1}: {error.message}",
                field=f"items[{index}].{error.field}" if error.field else f"items[{index}]",
                code=error.code,
            ) from None
        made.append(
            WorkItem.objects.create(
                campaign=campaign,
                source_key=candidate.source_key,
                task_id=candidate.task_id,
                episode_a_id=candidate.episode_a_id,
                episode_b_id=candidate.episode_b_id,
                priority=priority or 0,
                remaining=0 if gold["is_gold"] else campaign.overlap,
                **gold,
            )
        )
    return made


def _steps_for(campaign: Campaign, item: WorkItem) -> int | None:
    """The trajectory length that step ratings and first errors must match, when the schema
    asks either."""
    stepwise = (schemas.STEP_RATING, schemas.FIRST_ERROR)
    if not any(question["type"] in stepwise for question in campaign.schema):
        return None
    return _steps_of(item.episode_a_id)


def _steps_of(episode_id: int | None) -> int | None:
    if episode_id is None:
        return None
    return Episode.objects.filter(pk=episode_id).values_list("step_count", flat=True).first()


def _gold_fields(campaign: Campaign, entry: dict, candidate: sources.Candidate) -> dict:
    is_gold = bool(entry.get("is_gold") or entry.get("is_qualification"))
    if not is_gold:
        if entry.get("gold_answer") is not None:
            raise ServiceError("a gold answer needs is_gold: true", field="gold_answer")
        return {"is_gold": False, "is_qualification": False, "gold_answer": None}
    if campaign.kind == CampaignKind.DEMONSTRATE:
        raise ServiceError(
            "demonstrate items are checked by the task's verifier, not gold answers",
            field="is_gold",
        )
    answer = entry.get("gold_answer")
    if not answer:
        raise ServiceError("a gold item needs its gold_answer", field="gold_answer")
    answer = schemas.validate_answers(
        campaign.schema,
        answer,
        steps=_steps_of(candidate.episode_a_id),
        partial=True,
        prefix="gold_answer",
    )
    if quality.gold_score(campaign.schema, answer, answer) is None:
        raise ServiceError(
            "the gold answer gives nothing that can be scored (free text is not)",
            field="gold_answer",
        )
    return {
        "is_gold": True,
        "is_qualification": bool(entry.get("is_qualification")),
        "gold_answer": answer,
    }


@transaction.atomic
def item_update(*, item: WorkItem, changed_by: User, **changes: Any) -> WorkItem:
    """Change an item's priority, or make it gold (with its answer) or regular again. Gold
    status changes only before anyone was assigned the item."""
    campaign = item.campaign
    _require_manager(changed_by, campaign)
    item = WorkItem.objects.select_for_update(no_key=True, of=("self",)).get(pk=item.pk)
    unknown = sorted(set(changes) - {"priority", "is_gold", "gold_answer", "is_qualification"})
    if unknown:
        raise ServiceError(f"unknown item field {', '.join(unknown)}", field=unknown[0])
    if "priority" in changes:
        _number(changes, "priority", -1000, 1000, integer=True)
        item.priority = changes["priority"]
    if {"is_gold", "gold_answer", "is_qualification"} & set(changes):
        if item.assignments.exists():
            raise ServiceError(
                "this item was already handed out; gold items are set before work starts",
                field="is_gold",
                code="conflict",
            )
        entry = {
            "is_gold": changes.get("is_gold", item.is_gold),
            "is_qualification": changes.get("is_qualification", item.is_qualification),
            "gold_answer": changes.get("gold_answer", item.gold_answer),
        }
        if not entry["is_gold"] and not entry["is_qualification"]:
            entry["gold_answer"] = None
        candidate = sources.Candidate(item.source_key, item.task_id, item.episode_a_id)
        gold = _gold_fields(campaign, entry, candidate)
        for name, value in gold.items():
            setattr(item, name, value)
        item.remaining = 0 if item.is_gold else campaign.overlap
    item.save()
    return item


# --- bulk actions on items (the item browser) ------------------------------------------------

MAX_BULK_ITEMS = 10_000


@dataclass
class BulkResult:
    """What a bulk action did: how many items it changed, and why the others were left as
    they were ({reason in words: count})."""

    changed: int = 0
    left: dict[str, int] | None = None

    def leave(self, reason: str) -> None:
        self.left = self.left or {}
        self.left[reason] = self.left.get(reason, 0) + 1


def _locked_items(campaign: Campaign, item_ids: list[int]) -> list[WorkItem]:
    """The campaign's items among `item_ids`, locked in id order (the order every bulk action
    takes its locks in, so two of them never deadlock). Ids of other campaigns are ignored."""
    ids = sorted({int(pk) for pk in item_ids})
    if not ids:
        raise ServiceError("select at least one item", field="items")
    if len(ids) > MAX_BULK_ITEMS:
        raise ServiceError(
            f"{len(ids):,} items are selected; act on at most {MAX_BULK_ITEMS:,} at once "
            "(narrow the filters)",
            field="items",
        )
    return list(
        WorkItem.objects.select_for_update(no_key=True, of=("self",))
        .filter(campaign=campaign, pk__in=ids)
        .order_by("pk")
    )


@transaction.atomic
def items_requeue(*, campaign: Campaign, item_ids: list[int], requested_by: User) -> BulkResult:
    """Ask for one more judgment on each item: a complete item (in review or not) opens again,
    its aggregate set aside until the new judgment completes it once more; an open item whose
    judgments are all given out wants one more. An item already waiting for a judgment is left
    as it is, so running this twice asks for no more. Adjudicated and gold items are left as
    they are (the first has its final label; the second is served from the gold pool)."""
    _require_manager(requested_by, campaign)
    result = BulkResult()
    for item in _locked_items(campaign, item_ids):
        if item.is_gold:
            result.leave("gold items are served from their own pool")
        elif item.review_status == ReviewStatus.RESOLVED:
            result.leave("adjudicated: a reviewer gave the final label")
        elif item.remaining > 0:
            result.leave("already waiting for judgments")
        else:
            item.remaining = 1
            item.status = WorkItemStatus.OPEN
            item.aggregate = None
            item.consensus = None
            item.completed_at = None
            item.review_status = ReviewStatus.NONE
            item.save(
                update_fields=[
                    "remaining",
                    "status",
                    "aggregate",
                    "consensus",
                    "completed_at",
                    "review_status",
                ]
            )
            result.changed += 1
    return result


@transaction.atomic
def items_send_to_review(
    *, campaign: Campaign, item_ids: list[int], requested_by: User
) -> BulkResult:
    """Put fully judged items in the review queue, decided or not, for a reviewer to give
    their final label. Items in review already, adjudicated items (reopen one from its review
    page), items not fully judged yet and gold items are left as they are."""
    _require_manager(requested_by, campaign)
    result = BulkResult()
    for item in _locked_items(campaign, item_ids):
        if item.is_gold:
            result.leave("gold items have a known answer")
        elif item.review_status == ReviewStatus.PENDING:
            result.leave("already in review")
        elif item.review_status == ReviewStatus.RESOLVED:
            result.leave("adjudicated: a reviewer gave the final label")
        elif item.status != WorkItemStatus.COMPLETE:
            result.leave("not fully judged yet")
        else:
            item.review_status = ReviewStatus.PENDING
            item.save(update_fields=["review_status"])
            result.changed += 1
    return result


@transaction.atomic
def items_remove(*, campaign: Campaign, item_ids: list[int], requested_by: User) -> BulkResult:
    """Delete items nobody has judged. An item with judgments is kept: the judgments are paid
    work that agreement, gold accuracy, the contractors' records and published exports rest
    on, so they are never deleted with it (re-queue it or send it to review instead). An item
    a contractor holds now is kept too. Removing again removes nothing more."""
    _require_manager(requested_by, campaign)
    result = BulkResult()
    items = _locked_items(campaign, item_ids)
    held = set(
        Assignment.objects.filter(item__in=items, status=AssignmentStatus.ACTIVE).values_list(
            "item_id", flat=True
        )
    )
    removable = []
    for item in items:
        if item.judgment_count:
            result.leave("has judgments, which are kept")
        elif item.pk in held:
            result.leave("a contractor is working on it")
        else:
            removable.append(item.pk)
    result.changed = (
        WorkItem.objects.filter(pk__in=removable).delete()[1].get(WorkItem._meta.label, 0)
    )
    return result


# --- contractors ----------------------------------------------------------------------------


@transaction.atomic
def contractor_profile_set(
    *, user: User, changed_by: User, groups: list[str], skills: list[str]
) -> ContractorProfile:
    """Set the groups and skill tags that make a contractor eligible for campaigns."""
    if not (changed_by.is_admin or changed_by.is_manager):
        raise NotAllowed("only managers and admins set contractors' groups and skills")
    values = _validate_settings("grade", {"eligible_groups": groups, "eligible_skills": skills})
    profile, _ = ContractorProfile.objects.get_or_create(user=user)
    profile.groups = values["eligible_groups"]
    profile.skills = values["eligible_skills"]
    profile.save()
    return profile


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def standing_evaluate_qualification(
    *, standing: ContractorStanding, campaign: Campaign, exhausted: bool = False
) -> ContractorStanding:
    """Pass or fail a qualifying contractor once they answered the campaign's qualification
    items (or no more are left for them: `exhausted`). Call with the standing locked."""
    if standing.status != StandingStatus.QUALIFYING:
        return standing
    if standing.qualification_judged < campaign.qualification_size and not exhausted:
        return standing
    now = timezone.now()
    accuracy = standing.qualification_accuracy
    if accuracy is not None and accuracy >= campaign.qualification_pass_rate:
        standing.status = StandingStatus.ACTIVE
        standing.qualified_at = now
    else:
        standing.status = StandingStatus.PAUSED
        standing.paused_at = now
        if accuracy is None:
            standing.paused_reason = (
                "No qualification items are left for you in this campaign, so you could "
                "not qualify. A manager can resume you."
            )
        else:
            standing.paused_reason = (
                f"You did not pass qualification: {_percent(accuracy)} correct on "
                f"{standing.qualification_judged} qualification items, and this campaign "
                f"needs {_percent(campaign.qualification_pass_rate)}. A manager can resume you."
            )
    standing.save()
    return standing


def _standing_after_gold(
    standing: ContractorStanding, campaign: Campaign, item: WorkItem, score: float
) -> None:
    standing.gold_judged += 1
    standing.gold_score_sum += score
    if item.is_qualification and standing.status == StandingStatus.QUALIFYING:
        standing.qualification_judged += 1
        standing.qualification_score_sum += score
        standing.save()
        standing_evaluate_qualification(standing=standing, campaign=campaign)
        return
    threshold = campaign.gold_accuracy_threshold
    if (
        standing.status == StandingStatus.ACTIVE
        and threshold is not None
        and standing.gold_judged >= campaign.gold_min_judged
        and standing.gold_accuracy < threshold
    ):
        standing.status = StandingStatus.PAUSED
        standing.paused_at = timezone.now()
        standing.paused_reason = (
            f"Paused automatically: your accuracy on check items is "
            f"{_percent(standing.gold_accuracy)} over {standing.gold_judged} items, below this "
            f"campaign's {_percent(threshold)}. Reread the instructions; a manager can resume "
            "you."
        )
    standing.save()


@transaction.atomic
def standing_resume(*, standing: ContractorStanding, resumed_by: User) -> ContractorStanding:
    """Let a paused contractor work on the campaign again. Their gold record starts afresh
    (so the pause does not strike again at once); one who never qualified qualifies again."""
    _require_manager(resumed_by, standing.campaign)
    standing = ContractorStanding.objects.select_for_update(no_key=True, of=("self",)).get(
        pk=standing.pk
    )
    if standing.status != StandingStatus.PAUSED:
        return standing
    qualify_again = standing.campaign.qualification_size and standing.qualified_at is None
    standing.status = StandingStatus.QUALIFYING if qualify_again else StandingStatus.ACTIVE
    standing.paused_reason = ""
    standing.paused_at = None
    standing.gold_judged = 0
    standing.gold_score_sum = 0.0
    standing.qualification_judged = 0
    standing.qualification_score_sum = 0.0
    standing.save()
    return standing


# --- assignments ----------------------------------------------------------------------------


def _mine(assignment: Assignment, contractor: User) -> Assignment:
    locked = (
        Assignment.objects.select_for_update(no_key=True, of=("self",))
        .select_related("campaign")
        .filter(pk=assignment.pk, contractor=contractor)
        .first()
    )
    if locked is None:
        raise NotAllowed("this assignment is not yours")
    return locked


@transaction.atomic
def assignment_start_episode(*, assignment: Assignment) -> Episode | None:
    """For a demonstrate item: the episode the contractor plays in this assignment, started
    the first time it is shown. None for other kinds."""
    if assignment.campaign.kind != CampaignKind.DEMONSTRATE:
        return None
    assignment = Assignment.objects.select_for_update(no_key=True, of=("self",)).get(
        pk=assignment.pk
    )
    if assignment.episode_id is not None:
        return assignment.episode
    if assignment.status != AssignmentStatus.ACTIVE:
        return None
    episode = environment_services.episode_create(
        task=assignment.item.task,
        user=assignment.contractor,
        actor_kind=ActorKind.CONTRACTOR,
        source="assignment",
        metadata={"assignment": assignment.pk, "campaign": assignment.campaign_id},
    )
    assignment.episode = episode
    assignment.save(update_fields=["episode"])
    return episode


@transaction.atomic
def takeover_start(
    *, assignment: Assignment, contractor: User, step: int, category: str = ""
) -> Takeover:
    """The contractor takes over the graded agent's episode at `step`, its first wrong step:
    a new episode of theirs replays the agent's steps before it (pages checked equal) and
    continues from there, in the play view, until the verifier says done or they give up. The
    assignment is theirs, active or just submitted; a second request for the same step returns
    the same takeover."""
    assignment = _mine(assignment, contractor)
    campaign = assignment.campaign
    if campaign.kind != CampaignKind.GRADE or not campaign.allow_takeover:
        raise ServiceError("this campaign does not allow a takeover", field="campaign")
    if assignment.status not in (AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED):
        raise ServiceError(
            f"this assignment is {assignment.status}: take over an item you are grading",
            field="assignment",
            code="conflict",
        )
    if isinstance(step, bool) or not isinstance(step, int):
        raise ServiceError("step is the index (from 0) of the first wrong step", field="step")
    known = [c["value"] for q in campaign.schema for c in q.get("categories", [])]
    if category and category not in known:
        raise ServiceError(
            f"category {category!r} is not in the taxonomy; categories: {', '.join(known)}",
            field="category",
        )
    existing = assignment.takeovers.filter(replaced_step=step).select_related("episode").first()
    if existing is not None:
        return existing
    agent_episode = assignment.item.episode_a
    episode = environment_services.episode_branch(
        episode=agent_episode,
        at_step=step,
        user=contractor,
        source="takeover",
        metadata={"assignment": assignment.pk, "campaign": campaign.pk, "replaced_step": step},
    )
    return Takeover.objects.create(
        assignment=assignment,
        agent_episode=agent_episode,
        replaced_step=step,
        category=category,
        episode=episode,
    )


@dataclass
class SubmitResult:
    judgment: Judgment
    # True when this idempotency key had been submitted before: the recorded judgment.
    replayed: bool = False


def judgment_submit(
    *,
    assignment: Assignment,
    contractor: User,
    answers: dict,
    idempotency_key: str,
    time_spent_ms: int | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Record the contractor's answers for their assignment.

    Submitting again with the same idempotency key (a double click, a retried request) returns
    the judgment already recorded. A lease that expired is accepted only while the item still
    needs a judgment; otherwise the refusal says so. Answers are checked against the schema
    (every problem named); demonstrate items need their episode finished, and it becomes the
    judgment's payload. Gold items are scored, which may pause the contractor.
    """
    if not idempotency_key or len(idempotency_key) > 100:
        raise ServiceError(
            "give an idempotency key of 1 to 100 characters", field="idempotency_key"
        )
    try:
        return _submit(
            assignment=assignment,
            contractor=contractor,
            answers=answers,
            idempotency_key=idempotency_key,
            time_spent_ms=time_spent_ms,
            now=now or timezone.now(),
        )
    except IntegrityError:
        # The same key raced in on another connection and won: return what it recorded.
        recorded = Judgment.objects.filter(
            contractor=contractor, idempotency_key=idempotency_key
        ).first()
        if recorded is None:
            raise
        return SubmitResult(judgment=recorded, replayed=True)


def _replay(contractor: User, idempotency_key: str, assignment: Assignment) -> SubmitResult | None:
    recorded = Judgment.objects.filter(
        contractor=contractor, idempotency_key=idempotency_key
    ).first()
    if recorded is None:
        return None
    if recorded.assignment_id != assignment.pk:
        raise ServiceError(
            "this idempotency key was already used for another assignment; use a new key for "
            "each item",
            field="idempotency_key",
            code="conflict",
        )
    return SubmitResult(judgment=recorded, replayed=True)


@transaction.atomic
def _submit(
    *,
    assignment: Assignment,
    contractor: User,
    answers: dict,
    idempotency_key: str,
    time_spent_ms: int | None,
    now: datetime,
) -> SubmitResult:
    campaign = assignment.campaign
    # Lock order, as in the queue: standing, then assignment, then item. The standing lock
    # also serialises a double click, so the replay check below sees the first submission.
    standing = standing_for_update(contractor, campaign)
    assignment = _mine(assignment, contractor)
    replay = _replay(contractor, idempotency_key, assignment)
    if replay:
        return replay
    if assignment.status == AssignmentStatus.SUBMITTED:
        raise ServiceError(
            f"this item was already submitted at {assignment.finished_at:%H:%M:%S}; "
            "your second answer was not recorded",
            field="assignment",
            code="conflict",
        )
    if assignment.status == AssignmentStatus.SKIPPED:
        raise ServiceError(
            "you skipped this item, so it takes no answer", field="assignment", code="conflict"
        )
    item = WorkItem.objects.select_for_update(no_key=True, of=("self",)).get(pk=assignment.item_id)
    late = assignment.status == AssignmentStatus.EXPIRED or assignment.expires_at <= now
    if assignment.status == AssignmentStatus.EXPIRED and not item.is_gold:
        if item.remaining <= 0:
            raise ServiceError(
                f"your time on this item ran out at {assignment.expires_at:%H:%M} UTC and it has "
                "since received all the judgments it needs, so this answer was not recorded; "
                "go on to the next item",
                field="assignment",
                code="lease_expired",
            )
        item.remaining -= 1  # the slot the lease gave back is taken again
    episode = None
    if campaign.kind == CampaignKind.DEMONSTRATE:
        episode = assignment.episode
        if episode is None or not episode.is_finished:
            raise ServiceError(
                "finish the task first: send your answer in the environment, or give up",
                field="episode",
            )
    clean = schemas.validate_answers(campaign.schema, answers, steps=_steps_for(campaign, item))
    measured = int((now - assignment.leased_at).total_seconds() * 1000)
    spent = time_spent_ms if time_spent_ms is not None else measured
    judgment = Judgment.objects.create(
        assignment=assignment,
        item=item,
        campaign=campaign,
        contractor=contractor,
        answers=clean,
        episode=episode,
        time_spent_ms=max(0, min(spent, MAX_TIME_SPENT_MS)),
        idempotency_key=idempotency_key,
        submitted_at=now,
        late=late,
    )
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.finished_at = now
    assignment.save(update_fields=["status", "finished_at"])
    item.judgment_count += 1
    item.save(update_fields=["judgment_count", "remaining"])
    if item.is_gold:
        score = quality.gold_score(campaign.schema, clean, item.gold_answer or {})
        if score is not None:
            judgment.gold_score = score
            judgment.save(update_fields=["gold_score"])
            _standing_after_gold(standing, campaign, item, score)
    elif item.judgment_count >= campaign.overlap:
        _complete(item, campaign, now)
    return SubmitResult(judgment=judgment)


def _complete(item: WorkItem, campaign: Campaign, now: datetime) -> None:
    """Aggregate a fully judged item; send it to review unless every question is decided (a
    tie, or a split below the campaign's review_threshold, is no label)."""
    answers = list(item.judgments.order_by("id").values_list("answers", flat=True))
    aggregate = quality.aggregate_answers(
        campaign.schema, answers, threshold=campaign.review_threshold
    )
    item.aggregate = aggregate
    item.consensus = aggregate["consensus"]
    item.status = WorkItemStatus.COMPLETE
    item.completed_at = now
    if not aggregate["decided"] and item.review_status == ReviewStatus.NONE:
        item.review_status = ReviewStatus.PENDING
    item.save(update_fields=["aggregate", "consensus", "status", "completed_at", "review_status"])


@transaction.atomic
def assignment_skip(
    *, assignment: Assignment, contractor: User, reason: str, note: str = ""
) -> Assignment:
    """Give an item back with a reason. The contractor never gets it again; others may."""
    if reason not in SkipReason.values:
        raise ServiceError(
            f"'{reason}' is not a skip reason; choose {', '.join(SkipReason.values)}",
            field="reason",
        )
    note = (note or "").strip()
    if reason == SkipReason.OTHER and not note:
        raise ServiceError("say why in a note when the reason is 'other'", field="note")
    if len(note) > 500:
        raise ServiceError("the note is at most 500 characters", field="note")
    standing_for_update(contractor, assignment.campaign)
    assignment = _mine(assignment, contractor)
    if assignment.status == AssignmentStatus.SKIPPED:
        return assignment
    if assignment.status == AssignmentStatus.SUBMITTED:
        raise ServiceError("this item was already submitted", field="assignment", code="conflict")
    held = assignment.status == AssignmentStatus.ACTIVE
    assignment.status = AssignmentStatus.SKIPPED
    assignment.skip_reason = reason
    assignment.skip_note = note
    assignment.finished_at = timezone.now()
    assignment.save(update_fields=["status", "skip_reason", "skip_note", "finished_at"])
    if held:
        WorkItem.objects.filter(pk=assignment.item_id, is_gold=False).update(
            remaining=F("remaining") + 1
        )
    if assignment.episode_id is not None:
        environment_services.episode_abandon(episode=assignment.episode)
    return assignment


@dataclass
class UndoResult:
    assignment: Assignment
    # The answers withdrawn, to show again; None when there was nothing left to undo.
    answers: dict | None


@transaction.atomic
def judgment_undo(
    *, assignment: Assignment, contractor: User, now: datetime | None = None
) -> UndoResult:
    """Withdraw the contractor's last submission in a campaign while its lease lasts.

    The judgment is deleted and the assignment is theirs to answer again until the lease ends;
    an item it completed is open again (out of review if it went there); a gold score it
    counted is taken back, with the pause or qualification it caused. The item they were given
    next goes back to the queue untouched. Undoing again changes nothing. A judgment a feed
    reader pulled in the meantime stays pulled: the window is the lease, minutes at most.
    """
    now = now or timezone.now()
    campaign = assignment.campaign
    standing = standing_for_update(contractor, campaign)
    assignment = _mine(assignment, contractor)
    if assignment.status == AssignmentStatus.ACTIVE:
        return UndoResult(assignment=assignment, answers=None)
    if assignment.status != AssignmentStatus.SUBMITTED:
        raise ServiceError(
            "only a submitted item can be undone", field="assignment", code="conflict"
        )
    if assignment.expires_at <= now:
        raise ServiceError(
            f"the time for this item ran out at {assignment.expires_at:%H:%M} UTC, so its "
            "answer stands",
            field="assignment",
            code="conflict",
        )
    judgment = Judgment.objects.get(assignment=assignment)
    last = (
        Judgment.objects.filter(contractor=contractor, campaign=campaign)
        .order_by("-submitted_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if last != judgment.pk:
        raise ServiceError(
            "only your last submission in this campaign can be undone",
            field="assignment",
            code="conflict",
        )
    held = (
        Assignment.objects.select_for_update(no_key=True, of=("self",))
        .filter(contractor=contractor, campaign=campaign, status=AssignmentStatus.ACTIVE)
        .first()
    )
    item = WorkItem.objects.select_for_update(no_key=True, of=("self",)).get(pk=assignment.item_id)
    if item.review_status == ReviewStatus.RESOLVED:
        raise ServiceError(
            "a reviewer has already given this item its final label, so your answer stands",
            field="assignment",
            code="conflict",
        )
    if held is not None:
        _release(held, standing)
    if item.is_gold and judgment.gold_score is not None:
        _standing_undo_gold(standing, campaign, item, judgment)
    answers = judgment.answers
    judgment.delete()
    item.judgment_count -= 1
    if item.status == WorkItemStatus.COMPLETE:
        item.status = WorkItemStatus.OPEN
        item.aggregate = None
        item.consensus = None
        item.completed_at = None
        if item.review_status == ReviewStatus.PENDING:
            item.review_status = ReviewStatus.NONE
    reopened = ["status", "aggregate", "consensus", "completed_at", "review_status"]
    item.save(update_fields=["judgment_count", *reopened])
    assignment.status = AssignmentStatus.ACTIVE
    assignment.finished_at = None
    assignment.save(update_fields=["status", "finished_at"])
    return UndoResult(assignment=assignment, answers=answers)


def _release(held: Assignment, standing: ContractorStanding) -> None:
    """Give back a lease nobody answered, as if it had never been handed out: the contractor
    may get the item again later."""
    if held.episode_id is not None:
        environment_services.episode_abandon(episode=held.episode)
    WorkItem.objects.filter(pk=held.item_id, is_gold=False).update(remaining=F("remaining") + 1)
    held.delete()
    ContractorStanding.objects.filter(pk=standing.pk, served__gt=0).update(served=F("served") - 1)


def _standing_undo_gold(
    standing: ContractorStanding, campaign: Campaign, item: WorkItem, judgment: Judgment
) -> None:
    """Take a withdrawn gold judgment's score back out of the standing, and the pause or
    qualification it brought about (both are decided in the submission's own transaction)."""
    since = judgment.submitted_at
    qualified_by_it = standing.qualified_at is not None and standing.qualified_at >= since
    paused_by_it = (
        standing.status == StandingStatus.PAUSED
        and standing.paused_at is not None
        and standing.paused_at >= since
    )
    # Qualification items count towards qualifying only while the contractor is qualifying.
    was_qualifying = (
        item.is_qualification
        and campaign.qualification_size > 0
        and (
            standing.status == StandingStatus.QUALIFYING
            or qualified_by_it
            or (paused_by_it and standing.qualified_at is None)
        )
    )
    standing.gold_judged = max(0, standing.gold_judged - 1)
    standing.gold_score_sum -= judgment.gold_score
    if was_qualifying:
        standing.qualification_judged = max(0, standing.qualification_judged - 1)
        standing.qualification_score_sum -= judgment.gold_score
    if qualified_by_it or paused_by_it:
        standing.status = StandingStatus.QUALIFYING if was_qualifying else StandingStatus.ACTIVE
        standing.paused_at = None
        standing.paused_reason = ""
        if qualified_by_it:
            standing.qualified_at = None
    standing.save()


def leases_expire(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Expire every active lease past its time and give its slot back to the item; return how
    many. Run by celery beat; safe to run in parallel (rows others hold are skipped)."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            due = Assignment.objects.filter(status=AssignmentStatus.ACTIVE, expires_at__lte=now)
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True, no_key=True, of=("self",))
            rows = list(due.order_by("expires_at").values_list("pk", "item_id")[:batch_size])
            if not rows:
                break
            Assignment.objects.filter(pk__in=[pk for pk, _ in rows]).update(
                status=AssignmentStatus.EXPIRED, finished_at=now
            )
            by_count: dict[int, list[int]] = defaultdict(list)
            for item_id, count in Counter(item_id for _, item_id in rows).items():
                by_count[count].append(item_id)
            for count, item_ids in by_count.items():
                WorkItem.objects.filter(pk__in=item_ids, is_gold=False).update(
                    remaining=F("remaining") + count
                )
        expired += len(rows)
        if len(rows) < batch_size:
            break
    return expired


# --- review ---------------------------------------------------------------------------------


@transaction.atomic
def item_adjudicate(
    *, item: WorkItem, reviewer: User, answers: dict, note: str = ""
) -> Adjudication:
    """Record the final label of an item (every required question answered). Reviewers
    adjudicate the items in review of the campaigns they review; managers any judged item of
    their campaigns. It replaces an earlier adjudication and wins over the aggregate."""
    campaign = item.campaign
    if not can_review(reviewer, campaign):
        raise NotAllowed(f"you do not review campaign '{campaign.name}'")
    item = WorkItem.objects.select_for_update(no_key=True, of=("self",)).get(pk=item.pk)
    if not can_manage(reviewer, campaign) and item.review_status == ReviewStatus.NONE:
        raise NotAllowed("this item is not in the review queue")
    if item.is_gold:
        raise ServiceError("gold items have a known answer already", field="item")
    if not item.judgment_count:
        raise ServiceError("nobody has judged this item yet", field="item", code="conflict")
    clean = schemas.validate_answers(campaign.schema, answers, steps=_steps_for(campaign, item))
    adjudication, _ = Adjudication.objects.update_or_create(
        item=item, defaults={"reviewer": reviewer, "answers": clean, "note": note.strip()[:5000]}
    )
    item.review_status = ReviewStatus.RESOLVED
    item.save(update_fields=["review_status"])
    return adjudication


# --- agreement ------------------------------------------------------------------------------


def agreement_compute(*, campaign: Campaign, job: Job | None = None) -> AgreementReport:
    """Krippendorff's alpha per question and for the campaign over its regular items, and each
    contractor's agreement with the consensus of the others on the items they share (leave one
    out, so a judge does not agree with themselves)."""
    rows = (
        Judgment.objects.filter(campaign=campaign, item__is_gold=False)
        .order_by("item_id", "id")
        .values_list("item_id", "contractor_id", "answers")
    )
    answers_by_item: dict[int, list[dict]] = defaultdict(list)
    judges_by_item: dict[int, list[int]] = defaultdict(list)
    count = 0
    for item_id, contractor_id, answers in rows.iterator(chunk_size=5000):
        answers_by_item[item_id].append(answers)
        judges_by_item[item_id].append(contractor_id)
        count += 1
    result = quality.campaign_agreement(campaign.schema, answers_by_item)
    scores: dict[int, list[float]] = defaultdict(list)
    for item_id, answers_list in answers_by_item.items():
        if len(answers_list) < 2:
            continue
        for index, answers in enumerate(answers_list):
            others = answers_list[:index] + answers_list[index + 1 :]
            consensus = quality.aggregate_answers(
                campaign.schema, others, threshold=campaign.review_threshold
            )["answers"]
            score = quality.gold_score(campaign.schema, answers, consensus)
            if score is not None:
                scores[judges_by_item[item_id][index]].append(score)
    contractors = {
        str(contractor_id): {"agreement": round(sum(values) / len(values), 4), "items": len(values)}
        for contractor_id, values in scores.items()
    }
    return AgreementReport.objects.create(
        campaign=campaign,
        job=job,
        computed_at=timezone.now(),
        alpha=result["alpha"],
        items=result["items"],
        judgments=count,
        questions=result["questions"],
        contractors=contractors,
    )


def agreement_job(job: Job, progress) -> dict:
    """The handler of the labeling_agreement job: params {"campaign": id}."""
    campaign = Campaign.objects.get(pk=job.params["campaign"])
    progress(0, 1, f"Computing agreement for '{campaign.name}'")
    report = agreement_compute(campaign=campaign, job=job)
    progress(1, 1, f"Agreement computed on {report.items} items")
    return {"report": report.pk, "alpha": report.alpha, "items": report.items}


def generate_job(job: Job, progress) -> dict:
    """The handler of the labeling_generate_items job: params {"campaign": id}."""
    campaign = Campaign.objects.get(pk=job.params["campaign"])
    progress(0, None, f"Generating items for '{campaign.name}'")
    added = items_generate(
        campaign=campaign,
        requested_by=job.created_by or campaign.owner,
        progress=lambda done: progress(done, None, f"{done} items added"),
    )
    progress(added, added, f"{added} items added")
    return {"added": added, "items": campaign.items.count()}


def _job_pending(kind: str, campaign: Campaign) -> Job | None:
    return Job.objects.filter(
        kind=kind, status__in=(JobStatus.QUEUED, JobStatus.RUNNING), params__campaign=campaign.pk
    ).first()


@transaction.atomic
def agreement_start(*, campaign: Campaign, requested_by: User | None) -> Job:
    """Start (or join, when one is already queued or running) the agreement job of a
    campaign."""
    if requested_by is not None:
        _require_manager(requested_by, campaign)
    pending = _job_pending(AGREEMENT_JOB, campaign)
    if pending is not None:
        return pending
    return platform_services.job_create(
        kind=AGREEMENT_JOB, params={"campaign": campaign.pk}, created_by=requested_by
    )


@transaction.atomic
def items_generate_start(*, campaign: Campaign, requested_by: User) -> Job:
    """Start (or join) the job that generates a campaign's items from its sources."""
    _require_manager(requested_by, campaign)
    if not campaign.sources:
        raise ServiceError(
            "the campaign has no sources; set them, or add items explicitly", field="sources"
        )
    pending = _job_pending(GENERATE_JOB, campaign)
    if pending is not None:
        return pending
    return platform_services.job_create(
        kind=GENERATE_JOB, params={"campaign": campaign.pk}, created_by=requested_by
    )


def agreement_refresh_due() -> list[Job]:
    """Start the agreement job of every active or paused campaign with judgments recorded
    since its last report (celery beat runs this)."""
    started = []
    latest = AgreementReport.objects.filter(campaign=OuterRef("pk")).order_by("-computed_at")
    campaigns = Campaign.objects.filter(
        status__in=(CampaignStatus.ACTIVE, CampaignStatus.PAUSED)
    ).annotate(
        judged=Count("judgments", filter=Q(judgments__item__is_gold=False)),
        reported=Coalesce(Subquery(latest.values("judgments")[:1]), -1),
    )
    for campaign in campaigns:
        if campaign.judged and campaign.judged != campaign.reported:
            started.append(agreement_start(campaign=campaign, requested_by=None))
    return started
