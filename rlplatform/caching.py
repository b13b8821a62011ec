"""Calls to the shared cache (Redis in production, files in the embedded default).

The cache holds only what the platform can do without for a while: throttle and sign-in
counters. When it is unreachable, a call to it is logged and answered with a default, so an
outage of the cache slows nothing down and turns no page into an error."""

import logging
from collections.abc import Callable
from typing import TypeVar

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Redis refusing, timing out or gone; OSError for the file cache (a full or read-only disk).
CACHE_UNAVAILABLE = (RedisError, OSError)


def cache_call(call: Callable[[], T], *, default: T, purpose: str) -> T:
    """`call()`, or `default` with a warning when the cache cannot be reached. `purpose` says
    in the log what went without the cache."""
    try:
        return call()
    except CACHE_UNAVAILABLE as error:
        logger.warning("%s: the cache is unavailable, going on without it (%s)", purpose, error)
        return default
