"""Shared test fixtures.

Services: tests talk to the real Elasticsearch, Redis and PostgreSQL the code
uses in production. A test that needs a service asks for it through
`require_service`: on a developer machine a missing optional service (Redis,
Chromium) skips the test with a reason; under `CI=true` it fails, so nothing
is silently skipped in CI.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

# `browser`: a headless Chromium (Playwright), for the tests marked `browser`.
from tests.fixtures.browser import browser  # noqa: F401

# Per-session index prefix (autouse, protects the demo's and other sessions' indices) and `es_node`.
from tests.fixtures.elasticsearch import es_index_prefix, es_node, es_ready  # noqa: F401


def require_service(name: str, available: bool, how: str) -> None:
    """Fail in CI, skip locally, when a service a test needs is missing."""
    if available:
        return
    message = f"{name} is not available: {how}"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI requires {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _test_settings(settings: pytest.FixtureRequest) -> None:
    """Small, explicit overrides for every test."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    settings.STORAGES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Rate counters (API throttles, messaging) outlive a test in Redis: each test counts afresh.
    settings.RATE_LIMIT_NAMESPACE = f"test-{uuid.uuid4().hex[:8]}"  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fresh_reference_labels() -> None:
    """Facet labels are memoised per process; a rolled-back test must not leave its clusters' names behind."""
    from search.queries import forget_reference_labels

    forget_reference_labels()


@pytest.fixture(scope="session")
def database_sessions_ended(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """After the last test, end the database sessions that servers run in threads left open.

    Each worker thread of a server run in a thread (`asgi_server`: uvicorn's, asgiref's) keeps a
    connection of its own, which the main thread cannot close, and PostgreSQL refuses to drop
    the test database while a session uses it ("being accessed by other users"). Set up after
    the test database, this is torn down before it. The pool goes first: its idle connections
    would be ended too, and one handed out afterwards would be dead.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        connection.close()
        connection.close_pool()  # type: ignore[attr-defined]  # PostgreSQL's wrapper only
        with connection.cursor() as cursor:
            # Our own role's clients only: ending a superuser's session is refused, and an
            # autovacuum worker on this database runs as one (dropping the database stops it).
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND usename = current_user AND backend_type = 'client backend'"
            )
        connection.close()
