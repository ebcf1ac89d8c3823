"""Per-user message rate limit, shared by every connection and process.

A sliding-window estimate over two fixed windows kept in the Django cache
(Redis when `REDIS_URL` is set, so all ASGI processes share the count;
process-local memory otherwise). `incr` is atomic in Redis, so concurrent
connections of one user cannot both slip under the limit by much; the
estimate may let a few extra messages through at a window boundary, which
is fine for a flood guard.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from messaging.events import RATE_LIMIT_MESSAGES, RATE_LIMIT_WINDOW_SECONDS


def allow_message(
    user_id: int,
    *,
    limit: int = RATE_LIMIT_MESSAGES,
    window: float = RATE_LIMIT_WINDOW_SECONDS,
    now: float | None = None,
) -> bool:
    """Count one attempt and say whether it is within the limit.

    Refused attempts count too: a client hammering the server stays limited
    until it slows down.
    """
    moment = time.time() if now is None else now
    index = int(moment // window)
    elapsed = (moment % window) / window
    current_key = f"messaging:rate:{user_id}:{index}"
    previous_key = f"messaging:rate:{user_id}:{index - 1}"
    timeout = int(window * 2) + 1
    try:
        current = cache.incr(current_key)
    except ValueError:
        current = 1 if cache.add(current_key, 1, timeout) else cache.incr(current_key)
    previous = cache.get(previous_key, 0) or 0
    return previous * (1.0 - elapsed) + current <= limit
