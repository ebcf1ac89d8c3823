"""The interactive API docs render in a real Chromium without contacting any other host."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import require_service

# Playwright's sync API runs an event loop in this thread; the live server runs the ORM in its own.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser() -> Iterator[Any]:
    require_service("Chromium", os.path.exists(CHROMIUM), "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/api/docs/", ".opblock"),  # one block per operation
        ("/api/redoc/", "[data-section-id^='tag/']"),  # one section per tag
    ],
)
def test_docs_render_from_local_files_only(browser: Any, live_server: Any, path: str, rendered: str) -> None:
    # Given a browser that records every request the page completes, and every one it refuses
    page = browser.new_page()
    requested: list[str] = []
    refused: list[tuple[str, str]] = []
    page.on("requestfinished", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: refused.append((request.url, str(request.failure))))

    # When the docs page is opened
    page.goto(f"{live_server.url}{path}")
    page.wait_for_selector(rendered, timeout=20_000)

    # Then the API is rendered, from the schema, and nothing came from another host
    assert page.locator(rendered).count() >= 5
    assert "Maillage API" in page.content()
    origin = urlsplit(live_server.url).netloc

    def foreign(url: str) -> bool:
        return urlsplit(url).scheme in {"http", "https"} and urlsplit(url).netloc != origin

    assert [url for url in requested if foreign(url)] == []
    # Redoc's bundle always tries its vendor's logo; the page's Content-Security-Policy stops it in the browser.
    assert [(url, why) for url, why in refused if foreign(url) and why != "csp"] == []
    assert any(url.endswith("/api/schema/") for url in requested)
