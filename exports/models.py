from django.conf import settings
from django.db import models


class ExportFormat(models.TextChoices):
    JSONL = "jsonl", "JSON Lines"
    PARQUET = "parquet", "Parquet"


class Export(models.Model):
    """A dataset snapshot: files plus a manifest, written by a Job on the exports queue and
    published only when complete."""

    job = models.OneToOneField("rlplatform.Job", on_delete=models.CASCADE, related_name="export")
    kind = models.CharField(max_length=32)
    format = models.CharField(max_length=16, choices=ExportFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    # Set when published: [{name, rows, bytes, sha256}] and the manifest written beside them.
    files = models.JSONField(default=list, blank=True)
    manifest = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} export {self.pk} ({self.format})"

    @property
    def storage_prefix(self) -> str:
        return f"exports/{self.pk}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Webhook(models.Model):
    """An address told (signed with HMAC-SHA256 of the body, under `secret`) when a snapshot is
    ready."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    export = models.ForeignKey(Export, on_delete=models.CASCADE, related_name="deliveries")
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["webhook", "export"], name="one_delivery_per_export")
        ]

    def __str__(self) -> str:
        return f"export {self.export_id} to {self.webhook_id}"


class FeedLock(models.Model):
    """One row per feed, locked while entries are added, so that entries are numbered in the
    order their transactions commit."""

    feed = models.CharField(max_length=32, primary_key=True)

    def __str__(self) -> str:
        return self.feed


class FeedEntry(models.Model):
    """A row's place in an incremental feed (`trajectories`, `judgments`). Entries are added
    only for rows already committed, one publisher at a time (FeedLock), so a reader that asks
    for everything after position p never misses a row and never sees one twice."""

    position = models.BigAutoField(primary_key=True)
    feed = models.CharField(max_length=32)
    object_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["feed", "object_id"], name="feed_entry_once")
        ]
        indexes = [models.Index(fields=["feed", "position"])]

    def __str__(self) -> str:
        return f"{self.feed} #{self.position}: {self.object_id}"
