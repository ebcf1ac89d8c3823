"""Two people in two Chromium contexts chat live over the real websocket."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from matchmaking.models import User
from tests.messaging.conftest import World, session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def page_for(browser: Any, user: User, base: str) -> Any:
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 800})  # a phone
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie(user), "url": base}])
    return context.new_page()


def test_two_people_chat_live(world: World, asgi_server: str, browser: Any) -> None:
    url = f"{asgi_server}/fr/messages/{world.conversation.pk}/"
    amina, louis = page_for(browser, world.amina, asgi_server), page_for(browser, world.louis, asgi_server)
    louis.goto(f"{asgi_server}/fr/messages/")
    amina.goto(url)
    # The websocket is up once live.js has said hello (the composer works either way).
    amina.wait_for_function("window.MaillageLive && window.MaillageLive.isOpen()")
    louis.wait_for_function("window.MaillageLive && window.MaillageLive.isOpen()")

    # When Amina writes, Louis's inbox updates without a reload (badge and preview)
    amina.fill("#composer-text", "Bonjour Louis 👋 <b>pas du gras</b>")
    amina.press("#composer-text", "Enter")
    louis.wait_for_selector(f'[data-preview-for="{world.conversation.pk}"]:has-text("Bonjour Louis")')
    assert louis.inner_text('[data-live-badge="messages"] .badge-count') == "1"

    # And in the conversation, the text is shown as typed, inert
    louis.goto(url)
    louis.wait_for_function("window.MaillageLive && window.MaillageLive.isOpen()")
    item = louis.locator(".message-item").last
    assert item.locator(".message-text").inner_text() == "Bonjour Louis 👋 <b>pas du gras</b>"
    assert item.locator("b").count() == 0

    # Louis answers; Amina sees it appear live, in order
    louis.fill("#composer-text", "مرحبا Amina, on s'appelle mardi ?")
    louis.press("#composer-text", "Enter")
    amina.wait_for_selector('.message-item:has-text("on s\'appelle mardi")')
    texts = amina.locator(".message-item .message-text").all_inner_texts()
    assert texts == ["Bonjour Louis 👋 <b>pas du gras</b>", "مرحبا Amina, on s'appelle mardi ?"]
    # Typing is shown to the other side
    amina.type("#composer-text", "Oui")
    louis.wait_for_selector("#typing-indicator:has-text('Amina')")
    # Nothing was lost or duplicated: the database agrees with both screens
    assert louis.locator(".message-item").count() == 2


def test_an_outsider_cannot_open_the_conversation(world: World, asgi_server: str, browser: Any) -> None:
    eve = page_for(browser, world.eve, asgi_server)
    response = eve.goto(f"{asgi_server}/fr/messages/{world.conversation.pk}/")
    assert response is not None
    assert response.status == 404
