"""Labeling: campaigns and their label schemas, work items, assignments (leases) and judgments,
and the quality records around them (contractor standings, adjudications, agreement reports).

The queue's hot columns are denormalised on `WorkItem`: `remaining` is the number of judgments
the item still wants that are neither recorded nor leased, so "next item" is one indexed scan
of items with `remaining > 0`. Only the services in `labeling/services.py` and `labeling/queue.py`
write these rows, always with the item row locked.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class CampaignKind(models.TextChoices):
    DEMONSTRATE = "demonstrate", "Demonstrate"
    GRADE = "grade", "Grade"
    COMPARE = "compare", "Compare"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    DONE = "done", "Done"


class ContractorProfile(models.Model):
    """What a contractor is eligible for: the groups they belong to and their skill tags.
    Kept here so the platform's User stays role-only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contractor_profile"
    )
    groups = models.JSONField(default=list, blank=True)
    skills = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"


class Campaign(models.Model):
    """One body of labeling work: what is labeled, how (the schema), by whom, how many times."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=CampaignKind.choices)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns_owned"
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="campaigns_managed"
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="campaigns_reviewed"
    )
    # Markdown, rendered through a sanitiser.
    instructions = models.TextField(blank=True)
    # An ordered list of typed questions; see labeling/schemas.py.
    schema = models.JSONField(default=list, blank=True)
    # Where items come from: environments, families, seeds (demonstrate) or episode filters.
    sources = models.JSONField(default=dict, blank=True)
    overlap = models.PositiveSmallIntegerField(default=1)
    gold_rate = models.FloatField(default=0.0)
    # Contractors whose gold accuracy falls below this (after gold_min_judged gold items) are
    # paused from the campaign; None: never.
    gold_accuracy_threshold = models.FloatField(null=True, blank=True)
    gold_min_judged = models.PositiveSmallIntegerField(default=5)
    # Qualification: this many qualification gold items first, passed at this accuracy.
    qualification_size = models.PositiveSmallIntegerField(default=0)
    qualification_pass_rate = models.FloatField(default=0.8)
    # The confidence a completed item's aggregate needs on every question to be its label
    # (0.5 to 1); an item with a tie, or a question below this, goes to the review queue.
    review_threshold = models.FloatField(default=0.6)
    eligible_groups = models.JSONField(default=list, blank=True)
    eligible_skills = models.JSONField(default=list, blank=True)
    priority = models.IntegerField(default=0)
    lease_seconds = models.PositiveIntegerField(default=900)
    # Grade campaigns: after marking an agent's first error, a contractor may take over.
    allow_takeover = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-priority"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == CampaignStatus.ACTIVE


class WorkItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETE = "complete", "Complete"


class ReviewStatus(models.TextChoices):
    NONE = "", "Not in review"
    PENDING = "pending", "Waiting for review"
    RESOLVED = "resolved", "Adjudicated"


class LabelStatus(models.TextChoices):
    """Where an item's final label stands (labeling.selectors.item_final_label)."""

    ADJUDICATED = "adjudicated", "Adjudicated"
    DECIDED = "decided", "Decided by the judges"
    UNRESOLVED = "unresolved", "Unresolved (a tie or a split)"
    IN_REVIEW = "in_review", "Waiting for review"


class ItemState(models.TextChoices):
    """Where an item stands, as the item browser filters and names it."""

    QUEUED = "queued", "Queued"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETE = "complete", "Complete"
    IN_REVIEW = "in_review", "In review"
    ADJUDICATED = "adjudicated", "Adjudicated"


class WorkItem(models.Model):
    """One thing to label: a task to demonstrate, an episode to grade, or two to compare."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    # What the item was made from ("task:12", "episode:40", "pair:40-41"): generating items
    # again adds only the new ones.
    source_key = models.CharField(max_length=100)
    task = models.ForeignKey(
        "environments.Task", on_delete=models.PROTECT, related_name="work_items"
    )
    episode_a = models.ForeignKey(
        "environments.Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    episode_b = models.ForeignKey(
        "environments.Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    is_gold = models.BooleanField(default=False)
    is_qualification = models.BooleanField(default=False)
    # The known answer of a gold item. Only admins may read it.
    gold_answer = models.JSONField(null=True, blank=True)
    priority = models.IntegerField(default=0)
    # Judgments still wanted that are neither recorded nor leased. Gold items keep 0: they
    # are served from their own pool, once to each contractor.
    remaining = models.PositiveSmallIntegerField(default=0)
    judgment_count = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=WorkItemStatus.choices, default=WorkItemStatus.OPEN
    )
    # The aggregated label (per question: value, confidence) and the item's consensus (0..1).
    aggregate = models.JSONField(null=True, blank=True)
    consensus = models.FloatField(null=True, blank=True)
    review_status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.NONE, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "-priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "source_key"], name="workitem_unique_source"
            ),
        ]
        indexes = [
            # The queue: open, non-gold items of a campaign in hand-out order.
            models.Index(
                fields=["campaign", "-priority", "id"],
                condition=Q(remaining__gt=0, is_gold=False),
                name="workitem_queue",
            ),
            models.Index(
                fields=["campaign", "is_qualification", "id"],
                condition=Q(is_gold=True),
                name="workitem_gold",
            ),
            models.Index(
                fields=["campaign", "id"],
                condition=Q(review_status="pending"),
                name="workitem_review",
            ),
            models.Index(fields=["campaign", "status"], name="workitem_campaign_status"),
        ]

    def __str__(self) -> str:
        return f"item {self.pk} of {self.campaign_id}"


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"
    EXPIRED = "expired", "Expired"


class SkipReason(models.TextChoices):
    UNCLEAR = "unclear", "Instructions do not cover it"
    BROKEN = "broken", "Item is broken or empty"
    UNSURE = "unsure", "Not confident enough to judge"
    OTHER = "other", "Other"


class Assignment(models.Model):
    """A lease of one item to one contractor until `expires_at`. There is at most one per item
    and contractor, ever, so nobody gets the same item twice."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="assignments")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    contractor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    status = models.CharField(
        max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.ACTIVE
    )
    leased_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True)
    skip_note = models.CharField(max_length=500, blank=True)
    # Demonstrate items: the episode the contractor plays in this assignment.
    episode = models.ForeignKey(
        "environments.Episode",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-leased_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "contractor"], name="assignment_once_per_contractor"
            ),
            models.UniqueConstraint(
                fields=["contractor", "campaign"],
                condition=Q(status="active"),
                name="assignment_one_active_per_campaign",
            ),
        ]
        indexes = [
            models.Index(fields=["contractor", "campaign", "status"], name="assignment_mine"),
            models.Index(
                fields=["expires_at"],
                condition=Q(status="active"),
                name="assignment_active_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk}: item {self.item_id} to {self.contractor_id}"


class Judgment(models.Model):
    """A contractor's answers for an assignment. One per assignment; a retried submission
    with the same idempotency key returns this row instead of recording another."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="judgment")
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="judgments")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="judgments")
    contractor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="judgments"
    )
    answers = models.JSONField(default=dict)
    # Demonstrate items: the finished episode is the payload.
    episode = models.ForeignKey(
        "environments.Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="judgments",
    )
    time_spent_ms = models.PositiveIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=100)
    submitted_at = models.DateTimeField()
    # Gold items: how well the answers match the gold answer (0..1). Admins only.
    gold_score = models.FloatField(null=True, blank=True)
    # Submitted after the lease expired, accepted because the item still needed it.
    late = models.BooleanField(default=False)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contractor", "idempotency_key"], name="judgment_unique_idempotency_key"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "submitted_at"], name="judgment_campaign_time"),
            models.Index(fields=["contractor", "submitted_at"], name="judgment_contractor_time"),
        ]

    def __str__(self) -> str:
        return f"judgment {self.pk} of item {self.item_id}"


class StandingStatus(models.TextChoices):
    QUALIFYING = "qualifying", "Qualifying"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class ContractorStanding(models.Model):
    """A contractor in one campaign: qualification, gold accuracy, and whether they are paused
    (with the reason they are shown). Its row lock also serialises one contractor's requests
    for the next item."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="standings")
    contractor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="standings"
    )
    status = models.CharField(
        max_length=16, choices=StandingStatus.choices, default=StandingStatus.ACTIVE
    )
    paused_reason = models.CharField(max_length=300, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # Items handed out in this campaign (drives where gold items fall).
    served = models.PositiveIntegerField(default=0)
    gold_judged = models.PositiveIntegerField(default=0)
    gold_score_sum = models.FloatField(default=0.0)
    qualification_judged = models.PositiveIntegerField(default=0)
    qualification_score_sum = models.FloatField(default=0.0)
    qualified_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # By the columns, not the related rows: a locking read must not join other tables.
        ordering = ["campaign_id", "contractor_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contractor"], name="standing_unique_contractor"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contractor} in {self.campaign}: {self.status}"

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_score_sum / self.gold_judged if self.gold_judged else None

    @property
    def qualification_accuracy(self) -> float | None:
        if not self.qualification_judged:
            return None
        return self.qualification_score_sum / self.qualification_judged


class Adjudication(models.Model):
    """A reviewer's final label for an item whose judges disagreed. It wins over the
    aggregated label everywhere labels are read (exports included)."""

    item = models.OneToOneField(WorkItem, on_delete=models.CASCADE, related_name="adjudication")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="adjudications"
    )
    answers = models.JSONField()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"adjudication of item {self.item_id}"


class AgreementReport(models.Model):
    """Krippendorff's alpha per question and for the campaign, as computed by a job."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="agreement_reports"
    )
    job = models.ForeignKey(
        "rlplatform.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    computed_at = models.DateTimeField()
    # The campaign's figure: question alphas weighted by their pairable values.
    alpha = models.FloatField(null=True, blank=True)
    # Items with at least two judgments: what the figure rests on.
    items = models.PositiveIntegerField(default=0)
    judgments = models.PositiveIntegerField(default=0)
    questions = models.JSONField(default=list)
    # {contractor id: {"agreement": share matching the consensus, "items": n}}
    contractors = models.JSONField(default=dict)

    class Meta:
        ordering = ["-computed_at", "-id"]
        get_latest_by = "computed_at"
        indexes = [models.Index(fields=["campaign", "-computed_at"], name="agreement_latest")]

    def __str__(self) -> str:
        return f"agreement of {self.campaign_id} at {self.computed_at:%Y-%m-%d %H:%M}"


class Takeover(models.Model):
    """A contractor's correction of an agent's episode: their own episode of the same task and
    seed, whose steps before `replaced_step` are the agent's, replayed, and whose later steps
    are the person's. Succeeded or abandoned is the episode's own status and outcome."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="takeovers")
    agent_episode = models.ForeignKey(
        "environments.Episode", on_delete=models.PROTECT, related_name="takeovers_of"
    )
    replaced_step = models.PositiveIntegerField()
    category = models.CharField(max_length=80, blank=True)
    episode = models.OneToOneField(
        "environments.Episode", on_delete=models.PROTECT, related_name="takeover"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "replaced_step"], name="takeover_unique_step"
            )
        ]

    def __str__(self) -> str:
        return f"takeover of episode {self.agent_episode_id} at step {self.replaced_step}"
