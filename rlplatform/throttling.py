import time

from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from rlplatform.models import ApiKey


class PrincipalRateThrottle(SimpleRateThrottle):
    """One budget per API key, and one per signed-in person.

    A fixed-window counter (one cache increment a request), not DRF's default list of request
    times, which an agent stepping hundreds of times a second would make long and slow.
    """

    scope = "principal"

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = time.time()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        window_key = f"{key}:{window}"
        try:
            cache.add(window_key, 0, timeout=self.duration + 1)
            count = cache.incr(window_key)
        except Exception:
            # The cache may be Redis; if it is down, requests go on unthrottled.
            return True
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, self.window_ends - self.now)
