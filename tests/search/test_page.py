"""The search page in a real Chromium: type a query, see suggestions and results, tick a facet, counts update live."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.fixtures.search import build_world, drop_indices, index_world

pytestmark = [pytest.mark.browser, pytest.mark.elasticsearch, pytest.mark.django_db(transaction=True)]


def test_type_see_results_tick_a_facet_counts_update(browser: Any, live_server: Any, es_node: Any) -> None:
    # given the world indexed and a member of MNC signed in (4 organizations visible to them)
    drop_indices()
    world = build_world()
    index_world()
    client = Client()
    client.force_login(world.mnc_member)
    context = browser.new_context(locale="fr-FR")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/fr/search/")
    assert "4" in page.locator("#result-count").inner_text()

    # when they type, suggestions appear, and Enter shows the results without a reload
    page.evaluate("window.__sameDocument = true")
    page.locator("#search-q").press_sequentially("paiem", delay=60)
    page.wait_for_selector("#search-suggestions [role=option]")
    assert "Atlas Paiement Mobile (ATLASPAY)" in page.locator("#search-suggestions").inner_text()
    page.locator("#search-q").press("Escape")
    page.locator("#search-q").fill("paiement mobile")
    page.locator("#search-q").press("Enter")
    page.wait_for_function(
        "document.querySelector('#result-count') && /\\b1\\b/.test(document.querySelector('#result-count').textContent)"
    )
    card = page.locator(".result").first
    assert "ATLASPAY" in card.inner_text()
    assert card.locator("mark").count() >= 1  # highlighted, as markup we produced
    assert "from=search" in (card.locator("h3 a").get_attribute("href") or "")
    assert "q=paiement+mobile" in page.url

    # when they clear the words and tick the country "Maroc"
    page.locator("#search-q").fill("")
    page.locator("#search-q").press("Enter")
    page.wait_for_function("/\\b4\\b/.test(document.querySelector('#result-count').textContent)")
    cluster_counts = page.locator("fieldset[data-facet=kind]").inner_text()
    page.locator("fieldset[data-facet=country] input[value=MA]").check()
    page.wait_for_function("/\\b2\\b/.test(document.querySelector('#result-count').textContent)")

    # then the results and the other facets' counts update in place, and the URL follows
    assert page.evaluate("window.__sameDocument") is True
    assert "country=MA" in page.url
    assert page.locator("fieldset[data-facet=country] input[value=MA]").is_checked()
    assert page.locator("fieldset[data-facet=kind]").inner_text() != cluster_counts
    assert page.locator(".result").count() == 2
    context.close()
    drop_indices()
