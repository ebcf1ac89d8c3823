"""The Redis cache backend shares one client (and connection pool) per process."""

from __future__ import annotations

import os

from maillage.cache import SharedRedisCache
from tests.conftest import require_service


def test_cache_objects_of_different_requests_share_one_client() -> None:
    # Django builds a cache object per request context; they must not each open connections.
    first = SharedRedisCache("redis://127.0.0.1:6379/9", {})
    second = SharedRedisCache("redis://127.0.0.1:6379/9", {})
    other_database = SharedRedisCache("redis://127.0.0.1:6379/8", {})
    assert first._cache is second._cache
    assert other_database._cache is not first._cache


def test_shared_client_reads_and_writes() -> None:
    url = os.environ.get("REDIS_URL", "")
    require_service("Redis", bool(url), "start redis-server and set REDIS_URL")
    first = SharedRedisCache(url, {"KEY_PREFIX": "test-cache"})
    second = SharedRedisCache(url, {"KEY_PREFIX": "test-cache"})
    first.set("greeting", "مرحبا, café", 30)
    assert second.get("greeting") == "مرحبا, café"
    second.delete("greeting")
    assert first.get("greeting") is None
