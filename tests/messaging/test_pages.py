"""Messaging pages: access, inert rendering, the no-JavaScript form, the broker form, nav badges."""

from __future__ import annotations

import pytest
from django.test import Client

from messaging import services
from messaging.models import Conversation, Message
from tests.messaging.conftest import World

pytestmark = pytest.mark.django_db


def test_conversation_page_renders_text_inert_and_marks_read(world: World, client: Client) -> None:
    services.post_message(
        user=world.amina,
        conversation_id=world.conversation.pk,
        text="<img src=x onerror=alert(1)> سلام",
        client_key="k",
    )
    client.force_login(world.louis)
    page = client.get(f"/fr/messages/{world.conversation.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt; سلام" in html
    assert "<img src=x" not in html
    assert 'role="log"' in html
    assert 'aria-live="polite"' in html
    # Opening the conversation read it
    assert client.get("/fr/messages/").content.decode().count('class="badge unread-badge"') == 1
    assert services.mark_read(user=world.louis, conversation_id=world.conversation.pk, up_to_order=0)["unread"] == 0


def test_outsiders_and_anonymous_cannot_open_a_conversation(world: World, client: Client) -> None:
    url = f"/fr/messages/{world.conversation.pk}/"
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(world.eve)
    assert client.get(url).status_code == 404
    assert client.post(url, {"text": "hello", "client_key": "k"}).status_code == 404
    assert Message.objects.count() == 0


def test_posting_without_javascript(world: World, client: Client) -> None:
    client.force_login(world.amina)
    url = f"/fr/messages/{world.conversation.pk}/"
    response = client.post(url, {"text": "Sans JavaScript", "client_key": "form-1"})
    assert response.status_code == 302
    client.post(url, {"text": "Sans JavaScript", "client_key": "form-1"})  # a double submit
    assert list(Message.objects.values_list("text", flat=True)) == ["Sans JavaScript"]
    response = client.post(url, {"text": "", "client_key": "form-2"}, follow=True)
    assert response.status_code == 200
    assert Message.objects.count() == 1


def test_inbox_and_nav_badges_in_both_languages(world: World, client: Client) -> None:
    services.post_message(user=world.amina, conversation_id=world.conversation.pk, text="Salut", client_key="k")
    client.force_login(world.louis)
    for language in ("fr", "en"):
        html = client.get(f"/{language}/messages/").content.decode()
        assert "Salut" in html
        assert 'data-live-badge="messages"' in html
        assert "frontend/live.js" in html


def test_brokered_form_is_for_brokers(world: World, client: Client) -> None:
    client.force_login(world.louis)
    assert client.get("/fr/messages/new/").status_code == 403
    client.force_login(world.broker)
    assert client.get("/fr/messages/new/").status_code == 200
    response = client.post("/fr/messages/new/", {"first": world.atlas.pk, "second": world.seine.pk, "title": "Suivi"})
    conversation = Conversation.objects.get(kind="brokered")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/messages/{conversation.pk}/")
    # Organizations outside the broker's cluster cannot be the first party
    response = client.post("/fr/messages/new/", {"first": world.seine.pk})
    assert response.status_code == 200
    assert Conversation.objects.filter(kind="brokered").count() == 1


def test_notifications_page(world: World, client: Client) -> None:
    services.notify_user(
        user_id=world.louis.pk, kind="introduction.requested", payload={"title": "<b>Atlas</b>", "url": "javascript:x"}
    )
    client.force_login(world.louis)
    html = client.get("/fr/messages/notifications/").content.decode()
    assert "&lt;b&gt;Atlas&lt;/b&gt;" in html
    assert 'href="javascript:x"' not in html
    client.post("/fr/messages/notifications/read/")
    assert 'class="card notification unread"' not in client.get("/fr/messages/notifications/").content.decode()
