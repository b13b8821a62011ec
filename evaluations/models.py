from django.conf import settings
from django.db import models

from rlplatform.models import JobStatus

# How a person reads an evaluation's state (its job's status).
STATUS_WORDS = {
    JobStatus.QUEUED: "Waiting for a worker",
    JobStatus.RUNNING: "Running",
    JobStatus.SUCCEEDED: "Finished",
    JobStatus.FAILED: "Failed: no episode could be played",
    JobStatus.CANCELLED: "Cancelled",
}


class Evaluation(models.Model):
    """A policy run over one split of an environment: `tasks_per_family` tasks of each of the
    split's families (the first seeds of the split's range), `attempts` episodes of each. The
    episodes are a rollout job's (`job`); the report is computed from them when the job ends."""

    job = models.OneToOneField(
        "rlplatform.Job", on_delete=models.CASCADE, related_name="evaluation"
    )
    name = models.CharField(max_length=200, blank=True)
    env_id = models.CharField(max_length=64)
    split = models.CharField(max_length=32)
    families = models.JSONField(default=list)
    seeds = models.JSONField(default=list)
    tasks_per_family = models.PositiveIntegerField()
    attempts = models.PositiveIntegerField()
    # The policy as the job's parameters hold it: never an API key.
    policy = models.JSONField(default=dict)
    reward_mode = models.CharField(max_length=16, default="sparse")
    observation_mode = models.CharField(max_length=16, default="axtree")
    max_observation_chars = models.PositiveIntegerField(null=True, blank=True)
    # metrics.summarize's figures, overall and per family; set when the job ends.
    report = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evaluations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["env_id", "split", "-created_at"])]

    def __str__(self) -> str:
        return f"evaluation {self.pk}: {self.policy_label} on {self.env_id} {self.split}"

    @property
    def policy_label(self) -> str:
        """The run's name, else its policy in a few words."""
        if self.name:
            return self.name
        kind = self.policy.get("kind", "")
        if kind == "chat":
            # Runs of one model with either prompt are told apart on the leaderboards.
            reasoning = " (reasoning)" if self.policy.get("prompt") == "reasoning" else ""
            return f"chat: {self.policy.get('model', '')}{reasoning}"
        if kind == "random" and self.policy.get("seed"):
            return f"random (seed {self.policy['seed']})"
        return kind

    @property
    def variants(self) -> list[str]:
        """The UI variants each task is played in (kept with the job's plan)."""
        return self.job.params.get("variants") or ["default"]

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.job.status, self.job.status)
