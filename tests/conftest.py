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
