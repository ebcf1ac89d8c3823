"""Sliding-window rate counters (process memory and Redis) and the API throttles over them."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from maillage import ratelimit
from maillage.throttling import UserRateThrottle
from tests.fixtures.people import make_user
from tests.messaging.servers import require_redis


def _burst(subject: str, count: int, now: float, limit: int = 3) -> list[bool]:
    return [ratelimit.hit(subject, limit=limit, window=60, now=now).allowed for _ in range(count)]


@pytest.mark.parametrize("redis", [False, True], ids=["memory", "redis"])
def test_limit_per_subject_over_a_sliding_window(redis: bool, settings: Any) -> None:
    if redis:
        settings.REDIS_URL = require_redis()
    else:
        settings.REDIS_URL = ""
    start = 6_000_000.0  # the start of a 60 s window

    # Three per minute: the fourth is refused, another subject is counted apart
    assert _burst("a", 4, start + 1) == [True, True, True, False]
    assert _burst("b", 1, start + 1) == [True]
    # Half-way through the next window, half of the previous count (4) still weighs: 2 + 1 <= 3
    assert _burst("a", 2, start + 90) == [True, False]
    # Two windows later everything has drained
    assert _burst("a", 3, start + 200) == [True, True, True]


def test_refusal_says_when_to_come_back() -> None:
    start = 7_200_000.0  # the start of a window
    _burst("c", 3, start + 1)

    refused = ratelimit.hit("c", limit=3, window=60, now=start + 30)

    assert not refused.allowed
    # The count (4) is over the limit: only the next window (30 s away) starts bringing it down
    assert refused.retry_after == pytest.approx(30.0)
    # A window later 4 + 3 have been counted; at second 10 of the next, 7 * 5/6 weighs until
    # 7 * (1 - t/60) <= 3 (t = 34.3 s), i.e. 24.3 s from now
    assert ratelimit.hit("d", limit=3, window=60, now=start + 1).allowed
    window = ratelimit.Window.at("d", 60, start + 70)
    assert ratelimit.retry_after(window, 0, 7, 3, 60) == pytest.approx(60 * (5 / 6 - 3 / 7))


@pytest.mark.django_db
def test_api_throttle_refuses_with_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a user allowed three API requests a minute
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "3/minute")
    api = APIClient()
    api.force_authenticate(make_user("busy@atlas.test"))
    other = APIClient()
    other.force_authenticate(make_user("calm@atlas.test"))

    # When they make four
    statuses = [api.get("/api/me/").status_code for _ in range(4)]

    # Then the fourth waits, with a Retry-After, and another user is not affected
    assert statuses == [200, 200, 200, 429]
    refused = api.get("/api/me/")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert other.get("/api/me/").status_code == 200


@pytest.mark.django_db
@override_settings(REDIS_URL="")
def test_api_throttle_without_redis_counts_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "2/minute")
    api = APIClient()
    api.force_authenticate(make_user("local@atlas.test"))

    assert [api.get("/api/me/").status_code for _ in range(3)] == [200, 200, 429]


def test_one_redis_client_per_process_even_when_first_asked_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A process's first requests ask for the client together: they must all get the same one
    # (a second client, dropped, used to close the connections of the first's pool).
    url = os.environ.get("REDIS_URL", "") or "redis://127.0.0.1:6379/0"
    monkeypatch.setattr(ratelimit, "_clients", {})
    start = threading.Barrier(16)
    seen: list[Any] = []

    def ask() -> None:
        start.wait()
        seen.append(ratelimit.redis_client(url))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(seen) == 16
    assert len({id(client) for client in seen}) == 1
    # Its pool belongs to the process, not to the client object
    assert seen[0].auto_close_connection_pool is False
