"""Per-user message rate limit, shared by every connection and process of a user.

A sliding-window estimate over two fixed windows. With Redis configured
(`REDIS_URL`) the counters live there, so every ASGI process sees the same
count; without Redis they live in process memory (a single-process
development server). The estimate may let a few extra messages through at
a window boundary, which is fine for a flood guard.

Like DRF throttles, it is applied where requests arrive (the websocket
consumer, asynchronously on its event loop, and the REST view), not inside
`services.post_message`: the database thread that serializes every post
must not also wait for Redis. Redis is used directly rather than through
Django's cache API, which needs three round trips for the same thing.
`settings.MESSAGING_RATE_NAMESPACE` (optional) separates counters, e.g.
per test.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from functools import cache
from typing import Any

from django.conf import settings

from messaging.events import RATE_LIMIT_MESSAGES, RATE_LIMIT_WINDOW_SECONDS

KEY_PREFIX = "maillage:messaging:rate"
FLUSH_SECONDS = 0.5

_local_counts: dict[str, int] = {}
_local_lock = threading.Lock()
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()


@cache
def _sync_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def _async_client(url: str) -> Any:
    # redis.asyncio connections belong to one event loop.
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        import redis.asyncio

        client = _async_clients[loop] = redis.asyncio.Redis.from_url(url)
    return client


def _keys(user_id: int, window: float, moment: float) -> tuple[str, str, int, float]:
    index = int(moment // window)
    namespace = getattr(settings, "MESSAGING_RATE_NAMESPACE", "")
    base = f"{KEY_PREFIX}:{namespace}:{user_id}"
    return f"{base}:{index}", f"{base}:{index - 1}", int(window * 2) + 1, (moment % window) / window


def _count_locally(current_key: str, previous_key: str) -> tuple[int, int]:
    with _local_lock:
        if len(_local_counts) > 100_000:  # windows long gone; keep memory bounded
            _local_counts.clear()
        _local_counts[current_key] = _local_counts.get(current_key, 0) + 1
        return _local_counts[current_key], _local_counts.get(previous_key, 0)


def _within(current: int, previous: int, elapsed: float, limit: int) -> bool:
    return previous * (1.0 - elapsed) + current <= limit


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
    current_key, previous_key, ttl, elapsed = _keys(user_id, window, time.time() if now is None else now)
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return _within(*_count_locally(current_key, previous_key), elapsed, limit)
    pipe = _sync_client(url).pipeline(transaction=False)
    pipe.incr(current_key)
    pipe.expire(current_key, ttl)
    pipe.get(previous_key)
    current, _ok, previous = pipe.execute()
    return _within(int(current), int(previous or 0), elapsed, limit)


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
    moment = time.time() if now is None else now
    current_key, previous_key, ttl, elapsed = _keys(user_id, window, moment)
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return _within(*_count_locally(current_key, previous_key), elapsed, limit)
    loop = asyncio.get_running_loop()
    counters = _loop_counters.get(loop)
    if counters is None:
        counters = _loop_counters[loop] = _LoopCounters()
    counters.pending[current_key] = counters.pending.get(current_key, 0) + 1
    counters.ttl[current_key] = ttl
    monotonic = time.monotonic()
    if monotonic - counters.flushed_at >= FLUSH_SECONDS:
        counters.flushed_at = monotonic
        await _flush(counters, url)
    current = counters.known.get(current_key, 0) + counters.pending.get(current_key, 0)
    previous = counters.known.get(previous_key, 0) + counters.pending.get(previous_key, 0)
    return _within(current, previous, elapsed, limit)
