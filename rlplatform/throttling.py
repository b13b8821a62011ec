"""API throttles. Both fail open: while the cache that holds their counters is unreachable,
requests go on unthrottled (availability over throttling during an outage)."""

import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from redis import Redis
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from rlplatform.caching import cache_call
from rlplatform.models import ApiKey


class AnonymousRateThrottle(AnonRateThrottle):
    """DRF's budget per address for callers who are not signed in (the schema and its docs)."""

    def allow_request(self, request, view) -> bool:
        allow = super().allow_request
        return cache_call(
            lambda: allow(request, view), default=True, purpose="anonymous API throttle"
        )


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
        count = cache_call(
            lambda: cache_increment(window_key, self.duration + 1),
            default=0,
            purpose="API throttle",
        )
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, self.window_ends - self.now)


def cache_increment(key: str, timeout: int) -> int:
    """Add one to a counter that lives `timeout` seconds from its first count, and return it:
    atomic, and on Redis in one round trip."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        # No MULTI/EXEC, which doubles the commands sent: a connection dropped between the two
        # at worst leaves one past window's counter without its expiry.
        pipeline = _redis_client(backend).pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, timeout, nx=True)
        return int(pipeline.execute()[0])
    cache.add(key, 0, timeout=timeout)
    return cache.incr(key)


def _redis_client(backend: RedisCache) -> Redis:
    """The write client of the cache's connection pool. Django builds a new client (and its
    table of ~170 response callbacks) on every call, a third of a millisecond each time; one
    per cache client does, as a client is thread-safe. Kept on the cache client, so it goes
    when the cache does (ASGI builds caches per request)."""
    cache_client = backend._cache
    client = getattr(cache_client, "_throttle_client", None)
    if client is None:
        client = Redis(connection_pool=cache_client._get_connection_pool(write=True))
        cache_client._throttle_client = client
    return client
