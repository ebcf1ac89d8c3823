"""Messaging REST API: lists, history paging, posting, read markers, malformed input, access."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from messaging import events, services
from messaging.models import Message
from tests.messaging.conftest import World

pytestmark = pytest.mark.django_db


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def messages_url(world: World) -> str:
    return f"/api/messaging/conversations/{world.conversation.pk}/messages/"


def seed(world: World, count: int) -> None:
    for n in range(count):
        services.post_message(
            user=world.amina, conversation_id=world.conversation.pk, text=f"m{n + 1}", client_key=f"k{n}"
        )


def test_conversation_list_with_unread_counts(world: World) -> None:
    seed(world, 3)
    response = api(world.louis).get("/api/messaging/conversations/")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["id"], row["unread"], row["last_order"], row["preview"]) == (world.conversation.pk, 3, 3, "m3")
    assert row["title"] == "Atlas"
    assert api(world.eve).get("/api/messaging/conversations/").json()["results"] == []


def test_history_pages_backwards_and_forwards(world: World) -> None:
    seed(world, 7)
    client = api(world.louis)
    latest = client.get(messages_url(world), {"limit": 3}).json()
    assert [m["order"] for m in latest["results"]] == [5, 6, 7]
    assert (latest["has_more_before"], latest["has_more_after"]) == (True, False)
    older = client.get(messages_url(world), {"before": 5, "limit": 3}).json()
    assert [m["order"] for m in older["results"]] == [2, 3, 4]
    forward = client.get(messages_url(world), {"after": 2, "limit": 2}).json()
    assert [m["order"] for m in forward["results"]] == [3, 4]
    assert forward["has_more_after"] is True


def test_post_is_idempotent_by_client_key(world: World) -> None:
    client = api(world.louis)
    first = client.post(messages_url(world), {"text": "Bonjour <b>!</b>", "client_key": "abc"}, format="json")
    again = client.post(messages_url(world), {"text": "Bonjour <b>!</b>", "client_key": "abc"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["text"] == "Bonjour <b>!</b>"
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "text"),
        ({"text": "x"}, "client_key"),
        ({"text": "", "client_key": "k"}, "text"),
        ({"text": ["a"], "client_key": "k"}, "text"),
        ({"text": "x", "client_key": "k" * 65}, "client_key"),
        ({"text": "x", "client_key": "has space"}, None),
        ({"text": "a\x00b", "client_key": "k"}, "text"),
        ({"text": "a\x07b", "client_key": "k"}, None),
        ({"text": "x" * (events.MAX_TEXT_BYTES + 1), "client_key": "k"}, None),
    ],
)
def test_malformed_posts_are_400(world: World, payload: dict[str, Any], field: str | None) -> None:
    response = api(world.louis).post(messages_url(world), payload, format="json")
    assert response.status_code == 400, response.content
    # Serializer errors name the field; the service's rules answer as a whole.
    assert field in response.json() if field else response.json()
    assert Message.objects.count() == 0


def test_broken_json_and_bad_query_parameters_are_400(world: World) -> None:
    client = api(world.louis)
    response = client.post(messages_url(world), data='{"text": ', content_type="application/json")
    assert response.status_code == 400
    for params in ({"before": "x"}, {"after": -1}, {"limit": 0}, {"limit": 10_000}):
        assert client.get(messages_url(world), params).status_code == 400
    read = f"/api/messaging/conversations/{world.conversation.pk}/read/"
    assert client.post(read, {"order": "two"}, format="json").status_code == 400
    assert client.post("/api/messaging/notifications/read/", {"ids": "all"}, format="json").status_code == 400


def test_outsiders_get_404_and_anonymous_401(world: World) -> None:
    seed(world, 1)
    eve = api(world.eve)
    assert eve.get(messages_url(world)).status_code == 404
    assert eve.get(f"/api/messaging/conversations/{world.conversation.pk}/").status_code == 404
    assert eve.post(messages_url(world), {"text": "x", "client_key": "k"}, format="json").status_code == 404
    assert eve.get("/api/messaging/conversations/999999/messages/").status_code == 404
    message = Message.objects.get()
    edit = f"{messages_url(world)}{message.pk}/"
    assert api(world.louis).patch(edit, {"text": "mine now"}, format="json").status_code == 403
    assert api().get("/api/messaging/conversations/").status_code == 401
    assert api().get(messages_url(world)).status_code == 401


def test_mark_read_and_unread_totals(world: World) -> None:
    seed(world, 4)
    client = api(world.louis)
    assert client.get("/api/messaging/unread/").json() == {
        "total": 4,
        "conversations": {str(world.conversation.pk): 4},
        "notifications": 0,
    }
    response = client.post(f"/api/messaging/conversations/{world.conversation.pk}/read/", {"order": 3}, format="json")
    assert response.json() == {"conversation": world.conversation.pk, "order": 3, "unread": 1, "unread_total": 1}


def test_conversation_detail_lists_participants(world: World) -> None:
    detail = api(world.amina).get(f"/api/messaging/conversations/{world.conversation.pk}/").json()
    assert {p["name"] for p in detail["participants"]} == {"Amina Alaoui", "Karim Bennani", "Louis Martin"}


def test_brokered_opening_through_the_api(world: World) -> None:
    url = "/api/messaging/conversations/"
    assert api(world.louis).post(url, {"organizations": [world.atlas.pk]}, format="json").status_code == 403
    assert api(world.broker).post(url, {"organizations": []}, format="json").status_code == 400
    assert api(world.broker).post(url, {"organizations": [999999]}, format="json").status_code == 400
    response = api(world.broker).post(url, {"organizations": [world.atlas.pk], "title": "Suivi"}, format="json")
    assert response.status_code == 201
    assert response.json()["kind"] == "brokered"


def test_notifications_api(world: World) -> None:
    services.notify_user(user_id=world.louis.pk, kind="consortium.invitation", payload={"title": "Invitation"})
    client = api(world.louis)
    [item] = client.get("/api/messaging/notifications/").json()["results"]
    assert (item["kind"], item["read"]) == ("consortium.invitation", False)
    assert client.post("/api/messaging/notifications/read/", {}, format="json").json() == {"updated": 1}
    assert api(world.eve).get("/api/messaging/notifications/").json()["results"] == []


def test_schema_documents_the_messaging_api(world: World) -> None:
    response = api(world.louis).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/messaging/conversations/",
        "/api/messaging/conversations/{conversation_id}/messages/",
        "/api/messaging/conversations/{conversation_id}/read/",
        "/api/messaging/unread/",
    ):
        assert path in paths
