"""The websocket protocol end to end through the real ASGI application (`maillage.asgi`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db.models import F

from matchmaking.models import OrganizationMember
from messaging import events, selectors, services
from messaging.events import MessagePayload
from messaging.models import Conversation, Message, conversation_group
from tests.messaging.conftest import World, open_socket, receive, receive_counts, receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


def send_frame(conversation: int, text: str, key: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message.send", "conversation": conversation, "text": text, "client_key": key, **extra}


async def test_anonymous_is_closed_with_documented_code(world: World) -> None:
    # Given no session
    socket = await open_socket(None)
    # Then the socket is closed with 4001
    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": events.CLOSE_UNAUTHENTICATED}


async def test_foreign_origin_is_refused(world: World) -> None:
    socket = await open_socket(world.amina, origin="https://evil.example")
    assert socket.connected is False


async def test_hello_lists_own_conversations_only(world: World) -> None:
    amina = await open_socket(world.amina)
    eve = await open_socket(world.eve)
    assert amina.hello["conversations"] == {str(world.conversation.pk): 0}
    assert eve.hello["conversations"] == {}
    await amina.disconnect()
    await eve.disconnect()


async def test_send_acks_sender_and_reaches_every_participant(world: World) -> None:
    # Given Amina and Louis connected, and Eve (not a participant)
    amina, louis, eve = [await open_socket(u) for u in (world.amina, world.louis, world.eve)]
    cid = world.conversation.pk
    # When Amina sends a message in Arabic with an emoji and markup
    text = "مرحبا 👋 <script>alert(1)</script>\nligne 2"
    await send(amina, send_frame(cid, text, "k-1"))
    # Then she gets the ack first, then the message itself
    ack = await receive(amina)
    assert ack["type"] == "message.ack"
    assert (ack["client_key"], ack["conversation"], ack["order"], ack["duplicate"]) == ("k-1", cid, 1, False)
    mine = await receive(amina)
    assert mine["type"] == "message.new"
    assert mine["message"]["id"] == ack["id"]
    # And Louis receives it, stored exactly as typed
    new = await receive(louis)
    assert new["type"] == "message.new"
    assert new["message"]["text"] == text
    assert new["message"]["author"] == {"id": world.amina.pk, "name": "Amina Alaoui", "organization": "Atlas"}
    assert await database_sync_to_async(lambda: Message.objects.get(pk=ack["id"]).text)() == text
    # And Eve receives nothing
    assert await eve.receive_nothing(timeout=0.3)
    for socket in (amina, louis, eve):
        await socket.disconnect()


async def test_same_client_key_twice_stores_one_message(world: World) -> None:
    amina, louis = await open_socket(world.amina), await open_socket(world.louis)
    cid = world.conversation.pk
    await send(amina, send_frame(cid, "bonjour", "same-key"))
    first = await receive_type(amina, "message.ack")
    await send(amina, send_frame(cid, "bonjour", "same-key"))
    second = await receive_type(amina, "message.ack")
    assert second["id"] == first["id"]
    assert second["duplicate"] is True
    assert await database_sync_to_async(Message.objects.filter(conversation_id=cid).count)() == 1
    assert (await receive(louis))["message"]["id"] == first["id"]
    assert await louis.receive_nothing(timeout=0.3)
    await amina.disconnect()
    await louis.disconnect()


async def test_other_peoples_conversation_gets_an_error_and_the_socket_stays_healthy(world: World) -> None:
    eve = await open_socket(world.eve)
    await send(eve, send_frame(world.conversation.pk, "intrusion", "k", ref="r1"))
    error = await receive(eve)
    assert error == {"type": "error", "code": "not_found", "detail": error["detail"], "ref": "r1"}
    # A conversation that does not exist answers the same
    await send(eve, send_frame(999_999, "x", "k2"))
    assert (await receive(eve))["code"] == "not_found"
    await send(eve, {"type": "typing", "conversation": world.conversation.pk})
    assert (await receive(eve))["code"] == "not_found"
    # Still healthy
    await send(eve, {"type": "sync", "conversations": {}})
    assert (await receive(eve))["type"] == "sync.done"
    assert await database_sync_to_async(Message.objects.count)() == 0
    await eve.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        (json.dumps({"type": "dance"}), "unknown_type"),
        (json.dumps({"no": "type"}), "unknown_type"),
        (json.dumps({"type": "message.send", "text": "x", "client_key": "k"}), "bad_frame"),
        (json.dumps({"type": "message.send", "conversation": "1", "text": "x", "client_key": "k"}), "bad_frame"),
        (json.dumps({"type": "message.send", "conversation": 1, "text": 5, "client_key": "k"}), "bad_frame"),
        (json.dumps({"type": "read.update", "conversation": 1, "order": -3}), "bad_frame"),
        (json.dumps({"type": "sync", "conversations": [1]}), "bad_frame"),
        (json.dumps({"type": "sync", "conversations": {"x": 1}}), "bad_frame"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_healthy(world: World, frame: str, code: str) -> None:
    amina = await open_socket(world.amina)
    await send(amina, frame)
    assert (await receive(amina))["code"] == code
    await send(amina, send_frame(world.conversation.pk, "still here", "ok-1"))
    assert (await receive(amina))["type"] == "message.ack"
    await amina.disconnect()


async def test_text_limits(world: World) -> None:
    amina = await open_socket(world.amina)
    cid = world.conversation.pk
    # 16 KB of two-byte characters is over the limit even though it is 8 K characters
    await send(amina, send_frame(cid, "é" * (events.MAX_TEXT_BYTES // 2 + 1), "big"))
    assert (await receive(amina))["code"] == "too_long"
    await send(amina, send_frame(cid, "a" * (events.MAX_TEXT_BYTES + 1), "bigger"))
    assert (await receive(amina))["code"] == "too_long"
    await send(amina, send_frame(cid, "nul\x00byte", "nul"))
    assert (await receive(amina))["code"] == "invalid"
    await send(amina, send_frame(cid, "   \n ", "blank"))
    assert (await receive(amina))["code"] == "invalid"
    await send(amina, send_frame(cid, "x", "has space"))
    assert (await receive(amina))["code"] == "invalid"
    await send(amina, send_frame(cid, "a" * events.MAX_TEXT_BYTES, "exactly-16k"))
    assert (await receive(amina))["type"] == "message.ack"
    await amina.disconnect()


async def test_repeated_abuse_closes_with_documented_code(world: World) -> None:
    eve = await open_socket(world.eve)
    for _ in range(events.ABUSE_MAX_ERRORS - 1):
        await send(eve, "garbage")
        assert (await receive(eve))["code"] == "bad_json"
    await send(eve, "garbage")
    assert (await receive(eve))["code"] == "bad_json"
    assert await eve.receive_output(timeout=3) == {"type": "websocket.close", "code": events.CLOSE_ABUSE}


async def test_rate_limit_per_user_across_connections(world: World) -> None:
    # Given Amina on two tabs
    tab1, tab2 = await open_socket(world.amina), await open_socket(world.amina)
    cid = world.conversation.pk
    for n in range(events.RATE_LIMIT_MESSAGES):
        socket = tab1 if n % 2 else tab2
        await send(socket, send_frame(cid, f"m{n}", f"k{n}"))
        assert (await receive_type(socket, "message.ack"))["order"] == n + 1
    # When she sends one more from either tab
    await send(tab1, send_frame(cid, "one too many", "k-over"))
    # Then it is refused and not stored
    assert (await receive_type(tab1, "error"))["code"] == "rate_limited"
    count = await database_sync_to_async(Message.objects.filter(conversation_id=cid).count)()
    assert count == events.RATE_LIMIT_MESSAGES
    await tab1.disconnect()
    await tab2.disconnect()


async def test_read_update_reaches_the_readers_other_tabs(world: World) -> None:
    amina, louis_tab1, louis_tab2 = [await open_socket(u) for u in (world.amina, world.louis, world.louis)]
    cid = world.conversation.pk
    for n in range(3):
        await send(amina, send_frame(cid, f"m{n}", f"k{n}"))
    await receive_counts(amina, {"message.ack": 3, "message.new": 3})
    for tab in (louis_tab1, louis_tab2):
        for _ in range(3):
            await receive_type(tab, "message.new")
    # When Louis reads up to message 2 in one tab
    await send(louis_tab1, {"type": "read.update", "conversation": cid, "order": 2})
    # Then both his tabs learn the new marker and counts
    for tab in (louis_tab1, louis_tab2):
        update = await receive_type(tab, "read.update")
        assert update == {"type": "read.update", "conversation": cid, "order": 2, "unread": 1, "unread_total": 1}
    # And Amina is not told
    assert await amina.receive_nothing(timeout=0.3)
    for socket in (amina, louis_tab1, louis_tab2):
        await socket.disconnect()


async def test_catch_up_after_reconnect_has_no_gaps_or_duplicates(world: World) -> None:
    amina, louis = await open_socket(world.amina), await open_socket(world.louis)
    cid = world.conversation.pk
    await send(amina, send_frame(cid, "m1", "k1"))
    seen = (await receive_type(louis, "message.new"))["message"]["order"]
    # Given Louis drops off
    await louis.disconnect()
    for n in range(2, 6):
        await send(amina, send_frame(cid, f"m{n}", f"k{n}"))
        await receive_type(amina, "message.ack")
    # When he reconnects and syncs from what he saw
    louis = await open_socket(world.louis)
    await send(louis, {"type": "sync", "conversations": {str(cid): seen}})
    # Then he gets exactly the missed messages in order, then sync.done
    orders = []
    while (event := await receive(louis))["type"] == "message.new":
        orders.append(event["message"]["order"])
    assert orders == [2, 3, 4, 5]
    assert event == {"type": "sync.done", "conversations": {str(cid): 5}, "more": False}
    # And live messages continue from there with no duplicate
    await send(amina, send_frame(cid, "m6", "k6"))
    assert (await receive(louis))["message"]["order"] == 6
    assert await louis.receive_nothing(timeout=0.3)
    await amina.disconnect()
    await louis.disconnect()


async def test_live_message_between_hello_and_sync_is_not_sent_twice(world: World) -> None:
    amina, louis = await open_socket(world.amina), await open_socket(world.louis)
    cid = world.conversation.pk
    for n in (1, 2):
        await send(amina, send_frame(cid, f"m{n}", f"k{n}"))
    await receive_counts(louis, {"message.new": 2})
    await louis.disconnect()
    await send(amina, send_frame(cid, "m3", "k3"))
    # Given Louis reconnects (hello: floor 3) and message 4 streams live before his sync
    louis = await open_socket(world.louis)
    assert louis.hello["conversations"] == {str(cid): 3}
    await send(amina, send_frame(cid, "m4", "k4"))
    assert (await receive(louis))["message"]["order"] == 4
    # When he syncs from what he had seen before the drop
    await send(louis, {"type": "sync", "conversations": {str(cid): 2}})
    # Then he gets only 3, never 4 again
    assert (await receive(louis))["message"]["order"] == 3
    assert (await receive(louis))["type"] == "sync.done"
    assert await louis.receive_nothing(timeout=0.3)
    await amina.disconnect()
    await louis.disconnect()


def _store_without_broadcast(world: World, texts: list[str]) -> list[MessagePayload]:
    """Messages that another process committed but whose broadcast has not arrived (yet)."""
    payloads: list[MessagePayload] = []
    for text in texts:
        Conversation.objects.filter(pk=world.conversation.pk).update(last_order=F("last_order") + 1)
        order = Conversation.objects.get(pk=world.conversation.pk).last_order
        message = Message.objects.create(
            conversation=world.conversation, order=order, author=world.amina, text=text, client_key=text
        )
        payloads.append(selectors.message_payload(Message.objects.select_related("author").get(pk=message.pk)))
    return payloads


async def test_a_gap_in_live_delivery_is_filled_from_the_database(world: World) -> None:
    louis = await open_socket(world.louis)
    cid = world.conversation.pk
    await send(louis, {"type": "sync", "conversations": {str(cid): 0}})
    assert (await receive(louis))["type"] == "sync.done"
    # Given messages 1..3 committed, and only the broadcast of 3 arrives (1 and 2 later, late)
    payloads = await database_sync_to_async(_store_without_broadcast)(world, ["a", "b", "c"])
    layer = get_channel_layer()
    await layer.group_send(conversation_group(cid), {"type": events.LAYER_MESSAGE, "message": payloads[2]})
    for late in payloads[:2]:
        await layer.group_send(conversation_group(cid), {"type": events.LAYER_MESSAGE, "message": late})
    # Then Louis sees 1, 2, 3 once each, in order
    assert [(await receive(louis))["message"]["order"] for _ in range(3)] == [1, 2, 3]
    assert await louis.receive_nothing(timeout=0.3)
    await louis.disconnect()


async def test_edit_and_delete_own_message_only(world: World) -> None:
    amina, louis = await open_socket(world.amina), await open_socket(world.louis)
    cid = world.conversation.pk
    await send(amina, send_frame(cid, "typo", "k1"))
    mid = (await receive_type(amina, "message.ack"))["id"]
    await receive_type(louis, "message.new")
    # Louis cannot edit Amina's message
    await send(louis, {"type": "message.edit", "conversation": cid, "id": mid, "text": "hacked"})
    assert (await receive(louis))["code"] == "forbidden"
    # Amina edits it: everyone sees it edited
    await send(amina, {"type": "message.edit", "conversation": cid, "id": mid, "text": "fixed"})
    updated = await receive_type(louis, "message.updated")
    assert updated["message"]["text"] == "fixed"
    assert updated["message"]["edited_at"]
    # Then deletes it: the text is gone for everyone
    await send(amina, {"type": "message.delete", "conversation": cid, "id": mid})
    deleted = await receive_type(louis, "message.updated")
    assert deleted["message"]["deleted"] is True
    assert deleted["message"]["text"] == ""
    await amina.disconnect()
    await louis.disconnect()


async def test_typing_goes_to_the_others(world: World) -> None:
    amina, louis = await open_socket(world.amina), await open_socket(world.louis)
    await send(amina, {"type": "typing", "conversation": world.conversation.pk})
    event = await receive(louis)
    assert event == {
        "type": "typing",
        "conversation": world.conversation.pk,
        "user": world.amina.pk,
        "name": "Amina Alaoui",
    }
    assert await amina.receive_nothing(timeout=0.3)
    await amina.disconnect()
    await louis.disconnect()


async def test_joining_and_leaving_an_organization_follows_live(world: World) -> None:
    # Given Eve connected, not in the conversation
    eve, amina = await open_socket(world.eve), await open_socket(world.amina)
    cid = world.conversation.pk
    # When she joins Seine Sécurité
    member = await database_sync_to_async(OrganizationMember.objects.create)(user=world.eve, organization=world.seine)
    # Then her socket is told and receives the conversation's messages
    assert await receive(eve) == {"type": "conversation.joined", "conversation": cid}
    await send(amina, send_frame(cid, "bienvenue", "k1"))
    assert (await receive(eve))["message"]["text"] == "bienvenue"
    # When she leaves the organization
    await database_sync_to_async(member.delete)()
    assert await receive(eve) == {"type": "conversation.left", "conversation": cid}
    # Then she receives no more, and cannot post
    await send(amina, send_frame(cid, "au revoir", "k2"))
    await receive_type(amina, "message.ack")
    assert await eve.receive_nothing(timeout=0.3)
    await send(eve, send_frame(cid, "still here?", "k3"))
    assert (await receive(eve))["code"] == "not_found"
    await eve.disconnect()
    await amina.disconnect()


async def test_notifications_arrive_live(world: World) -> None:
    louis = await open_socket(world.louis)
    notification = await database_sync_to_async(services.notify_user)(
        user_id=world.louis.pk, kind="introduction.requested", payload={"title": "Atlas Paiement", "url": "/fr/"}
    )
    event = await receive(louis)
    assert event["type"] == "notification"
    assert (event["id"], event["kind"], event["payload"]) == (
        notification.pk,
        "introduction.requested",
        {"title": "Atlas Paiement", "url": "/fr/"},
    )
    await louis.disconnect()
