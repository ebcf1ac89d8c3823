"""The per-user message rate limit, in process memory and shared through Redis."""

from __future__ import annotations

import asyncio

import pytest

from messaging import ratelimit
from tests.messaging.servers import require_redis


def test_rate_limit_counts_per_user() -> None:
    now = 1_000_000.0
    assert all(ratelimit.allow_message(42, limit=3, window=10, now=now) for _ in range(3))
    assert not ratelimit.allow_message(42, limit=3, window=10, now=now)
    assert ratelimit.allow_message(43, limit=3, window=10, now=now)
    # Two windows later the count has drained
    assert ratelimit.allow_message(42, limit=3, window=10, now=now + 25)


def test_async_rate_limit_is_shared_between_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    require_redis()
    monkeypatch.setattr(ratelimit, "FLUSH_SECONDS", 0.0)  # share every count at once

    async def burst(count: int) -> list[bool]:
        return [await ratelimit.aallow_message(7, limit=10, window=10, now=2_000_000.0) for _ in range(count)]

    # Two event loops stand for two server processes sharing Redis
    assert asyncio.run(burst(6)) == [True] * 6
    assert asyncio.run(burst(6)) == [True] * 4 + [False] * 2
