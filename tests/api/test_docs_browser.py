"""The interactive API docs render in a real Chromium without contacting any other host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
