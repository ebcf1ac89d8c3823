"""Sliding-window rate counters, shared by every process through Redis.

A request counts in its fixed window's counter; the limit applies to an
estimate of the last `window` seconds: this window's count plus the previous
window's, weighted by how much of it the sliding window still covers. With
Redis configured (`REDIS_URL`) the counters live there, so every process sees
the same count, in one pipelined round trip (INCR, EXPIRE, GET); without Redis
they live in process memory (a single-process development server). The
estimate may let a few extra requests through at a window boundary, which is
fine for flood guards.

Refused attempts count too: a client hammering the server stays limited until
it slows down. `settings.RATE_LIMIT_NAMESPACE` (env `RATE_LIMIT_NAMESPACE`) separates counters,
per deployment sharing a Redis, or per test. Used by the API throttles (`maillage.throttling`) and the
messaging flood guard (`messaging.ratelimit`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

KEY_PREFIX = "maillage:rate"
_LOCAL_MAX_KEYS = 100_000

_local_counts: dict[str, int] = {}
_local_lock = threading.Lock()


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def redis_client(url: str) -> Any:
    """One client (one connection pool) per process and URL.

    Made under a lock: two clients made at once by a process's first requests left one
    unreferenced, and a `Redis.from_url` client closes its whole pool when collected,
    connections other threads were using included.
    """
    client = _clients.get(url)
    if client is None:
        import redis

        with _clients_lock:
            client = _clients.get(url)
            if client is None:
                client = _clients[url] = redis.Redis(connection_pool=redis.ConnectionPool.from_url(url))
    return client


@dataclass(frozen=True)
class Window:
    """Where `subject`'s counts for the moment live, and how far into its window the moment is."""

    current_key: str
    previous_key: str
    ttl: int  # seconds a counter must outlive its window (it is the "previous" one next)
    elapsed: float  # fraction of the current window gone by

    @classmethod
    def at(cls, subject: str, window: float, moment: float) -> Window:
        index = int(moment // window)
        base = f"{KEY_PREFIX}:{settings.RATE_LIMIT_NAMESPACE}:{subject}"
        return cls(f"{base}:{index}", f"{base}:{index - 1}", int(window * 2) + 1, (moment % window) / window)

    def estimate(self, current: int, previous: int) -> float:
        return previous * (1.0 - self.elapsed) + current


def count_locally(window: Window) -> tuple[int, int]:
    """Count one attempt in process memory; (this window's count, the previous window's)."""
    with _local_lock:
        if len(_local_counts) > _LOCAL_MAX_KEYS:  # windows long gone; keep memory bounded
            _local_counts.clear()
        _local_counts[window.current_key] = _local_counts.get(window.current_key, 0) + 1
        return _local_counts[window.current_key], _local_counts.get(window.previous_key, 0)


def count(window: Window) -> tuple[int, int]:
    """Count one attempt; (this window's count, the previous window's), in Redis when configured."""
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return count_locally(window)
    pipe = redis_client(url).pipeline(transaction=False)
    pipe.incr(window.current_key)
    pipe.expire(window.current_key, window.ttl)
    pipe.get(window.previous_key)
    current, _ok, previous = pipe.execute()
    return int(current), int(previous or 0)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until the estimate is back within the limit (0 when allowed)


def hit(subject: str, *, limit: int, window: float, now: float | None = None) -> Decision:
    """Count one attempt of `subject` and say whether it is within `limit` per `window` seconds."""
    place = Window.at(subject, window, time.time() if now is None else now)
    current, previous = count(place)
    if place.estimate(current, previous) <= limit:
        return Decision(True, 0.0)
    return Decision(False, retry_after(place, current, previous, limit, window))


def retry_after(place: Window, current: int, previous: int, limit: int, window: float) -> float:
    """Seconds until the sliding estimate drops to the limit again (the previous window fading out)."""
    remaining = (1.0 - place.elapsed) * window
    if current > limit or previous == 0:
        return remaining  # only the next window brings this one's count down
    # previous * (1 - elapsed - t / window) + current <= limit
    needed = (1.0 - place.elapsed) - (limit - current) / previous
    return min(remaining, max(0.0, needed * window))
