"""Per-user message rate limit, shared by every connection and process of a user.

The sliding-window counters of `maillage.ratelimit` (in Redis when
configured, so every ASGI process sees the same count; in process memory
otherwise). Like DRF throttles, the limit is applied where requests arrive
(the websocket consumer, asynchronously on its event loop, and the REST
view), not inside `services.post_message`: the database thread that
serializes every post must not also wait for Redis.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

from django.conf import settings

from maillage import ratelimit
from messaging.events import RATE_LIMIT_MESSAGES, RATE_LIMIT_WINDOW_SECONDS

FLUSH_SECONDS = 0.5

_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()


def _async_client(url: str) -> Any:
    # redis.asyncio connections belong to one event loop.
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        import redis.asyncio

        client = _async_clients[loop] = redis.asyncio.Redis.from_url(url)
    return client


def _subject(user_id: int) -> str:
    return f"messaging:{user_id}"


def allow_message(
    user_id: int,
    *,
    limit: int = RATE_LIMIT_MESSAGES,
    window: float = RATE_LIMIT_WINDOW_SECONDS,
    now: float | None = None,
) -> bool:
    """Count one attempt and say whether it is within the limit (refused attempts count too)."""
    return ratelimit.hit(_subject(user_id), limit=limit, window=window, now=now).allowed


class _LoopCounters:
    """One event loop's view of the shared counters (redis.asyncio clients belong to one loop)."""

    def __init__(self) -> None:
        self.pending: dict[str, int] = {}  # increments not yet added in Redis
        self.known: dict[str, int] = {}  # each key's total as Redis last answered
        self.ttl: dict[str, int] = {}
        self.flushed_at = 0.0


_loop_counters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopCounters] = weakref.WeakKeyDictionary()


async def _flush(counters: _LoopCounters, url: str) -> None:
    keys = list(counters.pending)
    pipe = _async_client(url).pipeline(transaction=False)
    for key in keys:
        pipe.incrby(key, counters.pending[key])
        pipe.expire(key, counters.ttl[key])
    results = await pipe.execute()
    if len(counters.known) > 100_000:  # windows long gone; keep memory bounded
        counters.known.clear()
    for key, total in zip(keys, results[::2], strict=True):
        counters.known[key] = int(total)
    counters.pending.clear()


async def aallow_message(
    user_id: int,
    *,
    limit: int = RATE_LIMIT_MESSAGES,
    window: float = RATE_LIMIT_WINDOW_SECONDS,
    now: float | None = None,
) -> bool:
    """`allow_message` for the event loop, without a Redis round trip per message.

    Counts are kept in this process and added to the shared Redis counters
    in one pipelined round trip at most every `FLUSH_SECONDS`, whose answer
    brings in the other processes' counts. The shared view therefore lags by
    at most that long: a user spread over several processes may get a few
    extra messages through, a flood still stops within a second.
    """
    place = ratelimit.Window.at(_subject(user_id), window, time.time() if now is None else now)
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return place.estimate(*ratelimit.count_locally(place)) <= limit
    loop = asyncio.get_running_loop()
    counters = _loop_counters.get(loop)
    if counters is None:
        counters = _loop_counters[loop] = _LoopCounters()
    counters.pending[place.current_key] = counters.pending.get(place.current_key, 0) + 1
    counters.ttl[place.current_key] = place.ttl
    monotonic = time.monotonic()
    if monotonic - counters.flushed_at >= FLUSH_SECONDS:
        counters.flushed_at = monotonic
        await _flush(counters, url)
    current = counters.known.get(place.current_key, 0) + counters.pending.get(place.current_key, 0)
    previous = counters.known.get(place.previous_key, 0) + counters.pending.get(place.previous_key, 0)
    return place.estimate(current, previous) <= limit
