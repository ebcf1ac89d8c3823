"""In a real Chromium: a recommendation → an introduction request → accepted → the first message."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from matchmaking.models import IntroductionRequest, IntroductionState, User
from search import indexing, lifecycle
from tests.fixtures import funnel
from tests.fixtures.search import indices  # noqa: F401
from tests.messaging.conftest import asgi_server  # noqa: F401  (HTTP and websockets: the chat needs both)

pytestmark = [pytest.mark.browser, pytest.mark.elasticsearch, pytest.mark.django_db(transaction=True)]


def signed_in(browser: Any, user: User, base: str) -> Any:
    """A browser context carrying a session of `user` (signing in through the form is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="en-GB")
    host = base.split("://", 1)[1].split(":")[0]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "domain": host, "path": "/"}]
    )  # fmt: skip
    return context


def test_recommendation_to_accepted_introduction_to_first_message(browser: Any, request: pytest.FixtureRequest) -> None:
    # Given an MNC member whose need meets a Systematic member's offer, both indexed
    request.getfixturevalue("indices")
    mnc = funnel.cluster("MNC", "MA")
    sys = funnel.cluster("SYS", "FR")
    funnel.agreement(mnc, sys)
    atlas, atlas_people = funnel.organization("Atlas Pay", mnc, country="MA")
    funnel.opportunity(atlas, "technology_request", "Fraud detection with machine learning")
    seine, seine_people = funnel.organization("Seine Secure", sys, country="FR")
    funnel.opportunity(seine, "technology_offer", "Machine learning fraud detection for card payments")
    for spec in indexing.SPECS.values():
        lifecycle.Rebuilder(spec).rebuild(threads=1)
    base = request.getfixturevalue("asgi_server")
    # Both sign in before any page opens: signing in writes the user's row from this thread, and
    # SQLite's shared in-memory test database refuses that write at once ("database table is
    # locked") while the server's thread holds the table for an open page's request.
    requester = signed_in(browser, atlas_people[0], base).new_page()
    target = signed_in(browser, seine_people[0], base).new_page()

    # When the MNC member opens their recommendations and requests an introduction from the suggestion
    requester.goto(f"{base}/en/matchmaking/recommendations/")
    card = requester.locator("article.recommendation", has_text="Seine Secure")
    assert "meets their offer" in card.inner_text()
    card.get_by_role("link", name="Request an introduction").click()
    requester.fill("#id_message", "We look for a fraud-detection partner for our wallet.")
    requester.locator("#main form button[type=submit]").first.click()
    requester.wait_for_url("**/matchmaking/introductions/*/")
    intro = IntroductionRequest.objects.get()
    assert intro.state == IntroductionState.PENDING_TARGET

    # And the Systematic member accepts it
    target.goto(f"{base}/en/matchmaking/introductions/{intro.pk}/")
    target.locator("#accept-button").click()
    target.wait_for_load_state()
    intro.refresh_from_db()
    assert intro.state == IntroductionState.ACCEPTED
    assert intro.conversation_id

    # Then accepting led to the new conversation, where the first message is written
    target.wait_for_url(f"**/messages/{intro.conversation_id}/")
    target.fill("#composer-text", "Hello Atlas, happy to talk!")
    target.locator("#composer button[type=submit]").click()
    target.locator("#message-list").get_by_text("Hello Atlas, happy to talk!").wait_for(timeout=10_000)
    # and the requester reads it in the same conversation, reached from the accepted request
    requester.goto(f"{base}/en/matchmaking/introductions/{intro.pk}/")
    requester.get_by_role("link", name="Open the conversation").click()
    requester.locator("#message-list").get_by_text("Hello Atlas, happy to talk!").wait_for(timeout=10_000)
