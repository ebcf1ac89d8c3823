"""Django's Redis cache, with one connection pool per process.

Django makes a cache object per request context, and each ASGI request is a
new context: with the stock backend every request built a new client, a new
connection pool and so a new Redis connection (the API's rate limiting reads
and writes the cache on every request). Here the client, which is thread-safe,
is shared by every cache object of the process with the same settings.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any, ClassVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedRedisCache(RedisCache):
    _clients: ClassVar[dict[str, RedisCacheClient]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @cached_property
    def _cache(self) -> RedisCacheClient:
        # The stubs do not declare RedisCache's private attributes.
        servers: list[str] = self._servers  # type: ignore[attr-defined]
        options: dict[str, Any] = self._options  # type: ignore[attr-defined]
        key = repr((servers, sorted(options.items())))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = RedisCacheClient(servers, **options)
        return client
