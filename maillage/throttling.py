"""DRF's rate throttles over the shared sliding-window counters of `maillage.ratelimit`.

DRF's own keep the timestamp of every request of the window in one cache entry,
read and rewritten whole on every request: up to 5,000 floats unpickled and
pickled again per request for a busy API user, in two Redis round trips. Here a
request is one pipelined round trip on two counters. Rates, scopes and cache
keys (who is counted) are DRF's; `Retry-After` comes from the estimate.
"""

from __future__ import annotations

from typing import Any

from rest_framework import throttling

from maillage import ratelimit


class SlidingWindowThrottle(throttling.SimpleRateThrottle):
    retry_after = 0.0

    def allow_request(self, request: Any, view: Any) -> bool:
        limit, duration = self.parse_rate(self.rate)
        if not limit or not duration:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        decision = ratelimit.hit(f"api:{key}", limit=limit, window=duration)
        self.retry_after = decision.retry_after
        return decision.allowed

    def wait(self) -> float | None:
        return self.retry_after


class AnonRateThrottle(throttling.AnonRateThrottle, SlidingWindowThrottle):
    """Anonymous requests, counted per client address."""


class UserRateThrottle(throttling.UserRateThrottle, SlidingWindowThrottle):
    """Signed-in requests counted per user; anonymous ones per client address."""


class ScopedRateThrottle(throttling.ScopedRateThrottle, SlidingWindowThrottle):
    """Requests to views with a `throttle_scope`, counted per user (or client address) and scope."""
