from django.db import models
from django.utils import timezone


class SessionUrl(models.Model):
    """A short-lived URL through which OpenEnv clients, which send no headers, open sessions as
    the API key that minted it. The token is in the URL's path; only its SHA-256 digest is
    stored, and the token is shown once, when the URL is minted."""

    token_hash = models.CharField(max_length=64, unique=True)
    api_key = models.ForeignKey(
        "rlplatform.ApiKey", on_delete=models.CASCADE, related_name="openenv_session_urls"
    )
    env_id = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["api_key", "-created_at"])]

    def __str__(self) -> str:
        return f"session URL {self.pk} for {self.env_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
