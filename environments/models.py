from django.conf import settings
from django.db import models


class Task(models.Model):
    """One task of a family for one seed, pinned to an environment version. The goal and
    parameters are the engine's, stored so that exports and graders see them as they were."""

    env_id = models.CharField(max_length=64)
    family = models.CharField(max_length=64)
    seed = models.BigIntegerField()
    params = models.JSONField()
    goal = models.TextField()
    max_steps = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["env_id", "family", "seed"]
        constraints = [
            models.UniqueConstraint(fields=["env_id", "family", "seed"], name="task_unique_seed")
        ]

    def __str__(self) -> str:
        return f"{self.env_id}/{self.family}#{self.seed}"


class ActorKind(models.TextChoices):
    CONTRACTOR = "contractor", "Contractor"
    AGENT = "agent", "Agent"


class EpisodeStatus(models.TextChoices):
    RUNNING = "running", "Running"
    # The task's own end: the verifier passed, or the actor sent its answer.
    TERMINATED = "terminated", "Terminated"
    # The step limit was reached first.
    TRUNCATED = "truncated", "Truncated"
    ABANDONED = "abandoned", "Abandoned"


class Episode(models.Model):
    """One attempt at a task by one actor: a person in the browser or an agent with a key."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="episodes")
    env_id = models.CharField(max_length=64)
    seed = models.BigIntegerField()
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="episodes"
    )
    api_key = models.ForeignKey(
        "rlplatform.ApiKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="episodes",
    )
    # What produced it: the agent API, the browser, a rollout job, an import, a trainer session.
    source = models.CharField(max_length=32, default="api")
    status = models.CharField(
        max_length=16, choices=EpisodeStatus.choices, default=EpisodeStatus.RUNNING
    )
    # Only what differs from the task's initial state (services.episode_state rebuilds it).
    state = models.JSONField(default=dict)
    step_count = models.PositiveIntegerField(default=0)
    # The episode's return in its reward mode (the sum of its steps' rewards); `outcome` is
    # the verifier's verdict, whose own `reward` is the sparse one.
    reward = models.FloatField(null=True, blank=True)
    success = models.BooleanField(null=True, blank=True)
    outcome = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # How steps are rewarded (engine.rewards.REWARD_MODES) and, for `progress`, the checks
    # that have paid so far (each pays once an episode).
    reward_mode = models.CharField(max_length=16, default="sparse")
    paid_checks = models.JSONField(default=list, blank=True)
    # How the actor was shown pages unless a request asked otherwise (observations.MODES),
    # and the character budget of a text observation (None: no budget).
    observation_mode = models.CharField(max_length=16, default="axtree")
    max_observation_chars = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["env_id", "status"]),
            models.Index(fields=["task", "actor_kind"]),
        ]

    def __str__(self) -> str:
        return f"episode {self.pk} of {self.task}"

    @property
    def is_finished(self) -> bool:
        return self.status != EpisodeStatus.RUNNING


class Step(models.Model):
    """One action in an episode, with the page the actor saw when choosing it."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField()
    action = models.TextField()
    # The page as JSON (the engine's page_to_json): axtree and HTML render from it exactly.
    observation = models.JSONField()
    reward = models.FloatField(default=0.0)
    terminated = models.BooleanField(default=False)
    truncated = models.BooleanField(default=False)
    # An action the environment refused (recorded only by rollouts, where it is the agent's).
    error = models.TextField(blank=True)
    # Milliseconds the actor took to choose the action, and the server took to apply it.
    think_ms = models.PositiveIntegerField(null=True, blank=True)
    apply_ms = models.FloatField(default=0.0)
    # NULL, not "": the uniqueness constraint holds only among steps that carry a key.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["episode", "index"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "index"], name="step_unique_index"),
            models.UniqueConstraint(
                fields=["episode", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="step_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"step {self.index} of episode {self.episode_id}: {self.action}"


class RolloutItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class RolloutItem(models.Model):
    """One planned episode of a rollout job. Created with the job, so a redelivered task finds
    the plan it belongs to and never adds an episode; `episode` is set once, when it starts."""

    FINISHED = (RolloutItemStatus.DONE, RolloutItemStatus.FAILED, RolloutItemStatus.CANCELLED)

    job = models.ForeignKey(
        "rlplatform.Job", on_delete=models.CASCADE, related_name="rollout_items"
    )
    index = models.PositiveIntegerField()
    env_id = models.CharField(max_length=64)
    family = models.CharField(max_length=64)
    seed = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=RolloutItemStatus.choices, default=RolloutItemStatus.PENDING
    )
    episode = models.OneToOneField(
        Episode, on_delete=models.SET_NULL, null=True, blank=True, related_name="rollout_item"
    )
    attempts = models.PositiveIntegerField(default=0)
    # A worker holds the item while this is in the future; a dead worker's lease runs out.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="rollout_item_unique_index")
        ]
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self) -> str:
        return f"rollout {self.job_id} item {self.index}: {self.env_id}/{self.family}#{self.seed}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED
