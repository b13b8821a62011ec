from rest_framework.throttling import SimpleRateThrottle

from rlplatform.models import ApiKey


class PrincipalRateThrottle(SimpleRateThrottle):
    """One budget per API key, and one per signed-in person."""

    scope = "principal"

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}
