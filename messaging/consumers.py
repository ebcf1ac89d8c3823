"""The one websocket per browser session (`/ws/`); protocol in `messaging/events.py`.

Thin: parses and checks frames, calls services and selectors, and keeps the
per-connection delivery state that makes the stream gapless and free of
duplicates. For each conversation:

- `floors[c]`: the conversation's last order when this connection
  subscribed to it (in `hello`). Everything up to it is history: the client
  asks for what it lacks with `sync`, which sends (last seen, floor].
- `cursors[c]`: the highest order streamed live, contiguously, from the
  floor up. A live message at cursor + 1 is forwarded; one at or below the
  cursor was already delivered (or is history) and is dropped; one further
  ahead means earlier messages are still in flight from another process or
  were lost, so the gap is read from the database first. That read is
  complete because orders are allocated under a row lock held until
  commit: message n committed implies 1..n-1 committed.

Channels runs one handler at a time per consumer, so this state needs no
locking.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from messaging import events, ratelimit, selectors, services
from messaging.models import Message, conversation_group, user_group

logger = logging.getLogger(__name__)

# A frame is refused before parsing above this size: 16 KB of text can take
# up to 6 bytes per byte once JSON-escaped.
MAX_FRAME_CHARS = 6 * events.MAX_TEXT_BYTES + 1024
MAX_SYNC_CONVERSATIONS = 1000
TYPING_INTERVAL_SECONDS = 1.0


class FrameError(Exception):
    def __init__(self, code: events.ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code: events.ErrorCode = code
        self.detail = detail


def _int_field(frame: dict[str, Any], name: str) -> int:
    value = frame.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FrameError("bad_frame", f"'{name}' must be a non-negative integer.")
    return value


def _str_field(frame: dict[str, Any], name: str) -> str:
    value = frame.get(name)
    if not isinstance(value, str):
        raise FrameError("bad_frame", f"'{name}' must be a string.")
    return value


def _service_error(exc: Exception) -> FrameError:
    if isinstance(exc, Http404):
        return FrameError("not_found", "No such conversation or message.")
    if isinstance(exc, PermissionDenied):
        return FrameError("forbidden", str(exc) or "Not allowed.")
    if isinstance(exc, ValidationError):
        code = exc.error_list[0].code if hasattr(exc, "error_list") and exc.error_list else None
        return FrameError("too_long" if code == "too_long" else "invalid", " ".join(exc.messages))
    raise exc


def _post(user: Any, conversation_id: int, text: str, client_key: str) -> tuple[Message, bool]:
    return services.post_message(user=user, conversation_id=conversation_id, text=text, client_key=client_key)


def _history(ranges: dict[int, tuple[int, int]], limit: int) -> dict[int, list[Any]]:
    """For each conversation, the payloads of orders in (after, up_to], oldest first, at most `limit`."""
    return {
        conversation_id: [
            selectors.message_payload(m)
            for m in selectors.messages_after(conversation_id, after, up_to=up_to, limit=limit)
        ]
        for conversation_id, (after, up_to) in ranges.items()
    }


def _last_order(conversation_id: int) -> int:
    return selectors.active_conversation_orders_of([conversation_id]).get(conversation_id, 0)


class MessagingConsumer(AsyncWebsocketConsumer):
    user_id: int
    user: Any
    conversations: set[int]
    cursors: dict[int, int]
    floors: dict[int, int]
    errors: deque[float]
    last_typing: dict[int, float]

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.conversations = set()
        if user is None or not user.is_authenticated:
            # Accept, then close, so that the client sees the documented code
            # (a refused handshake only shows up as HTTP 403).
            await self.accept()
            await self.close(code=events.CLOSE_UNAUTHENTICATED)
            return
        self.user_id = int(user.pk)
        # The auth middleware hands over a lazy proxy, each attribute access
        # a hop through it; the hot path uses the resolved user.
        self.user = getattr(user, "_wrapped", user)
        services.server_loop.set(asyncio.get_running_loop())
        self.cursors = {}
        self.floors = {}
        self.errors = deque()
        self.last_typing = {}
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        orders = await database_sync_to_async(selectors.active_conversation_orders)(self.user_id)
        for conversation_id, last_order in orders.items():
            await self._subscribe(conversation_id, last_order)
        await self.accept()
        await self._send_event(
            {"type": "hello", "user": self.user_id, "conversations": {str(k): v for k, v in orders.items()}}
        )

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "user_id"):
            return
        await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
        for conversation_id in list(self.conversations):
            await self.channel_layer.group_discard(conversation_group(conversation_id), self.channel_name)
        self.conversations.clear()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Dispatch without Channels' per-event `aclose_old_connections()` hop.

        Channels runs `close_old_connections` in the database thread before
        every handler; with one event per delivered message that single
        thread becomes the bottleneck of the whole process. Every database
        access here goes through `database_sync_to_async`, which already
        closes stale connections before and after each call.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _subscribe(self, conversation_id: int, last_order: int | None = None) -> None:
        """Join a conversation's group; `last_order` (read after joining) becomes its floor."""
        if conversation_id in self.conversations:
            return
        await self.channel_layer.group_add(conversation_group(conversation_id), self.channel_name)
        if last_order is None:
            last_order = await database_sync_to_async(_last_order)(conversation_id)
        self.conversations.add(conversation_id)
        self.cursors[conversation_id] = self.floors[conversation_id] = last_order

    async def _unsubscribe(self, conversation_id: int) -> None:
        if conversation_id in self.conversations:
            self.conversations.discard(conversation_id)
            self.cursors.pop(conversation_id, None)
            self.floors.pop(conversation_id, None)
            await self.channel_layer.group_discard(conversation_group(conversation_id), self.channel_name)

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except OSError:
            # The client went away while an event was on its way (ASGI
            # servers raise an OSError then); websocket.disconnect follows
            # and cleans up the subscriptions.
            logger.debug("dropped a frame for a closed websocket")

    async def _send_text(self, text: str) -> None:
        """One text frame, straight to the server (the per-delivery path: no extra wrappers)."""
        try:
            await self.base_send({"type": "websocket.send", "text": text})
        except OSError:
            logger.debug("dropped a frame for a closed websocket")

    async def _send_event(self, event: Any) -> None:
        await self._send_text(json.dumps(event, ensure_ascii=False, separators=(",", ":")))

    # --- Client frames ------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        ref: str | None = None
        try:
            if text_data is None:
                raise FrameError("bad_frame", "Frames must be JSON text.")
            if len(text_data) > MAX_FRAME_CHARS:
                raise FrameError("too_long", "Frame too large.")
            try:
                frame = json.loads(text_data)
            except ValueError:
                raise FrameError("bad_json", "Frames must be JSON objects.") from None
            if not isinstance(frame, dict):
                raise FrameError("bad_frame", "Frames must be JSON objects.")
            raw_ref = frame.get("ref")
            ref = raw_ref[:64] if isinstance(raw_ref, str) else None
            kind = frame.get("type")
            handler = self.handlers.get(kind) if isinstance(kind, str) else None
            if handler is None:
                raise FrameError("unknown_type", "Unknown frame type.")
            await handler(self, frame)
        except FrameError as error:
            await self._error(error, ref)

    async def _error(self, error: FrameError, ref: str | None) -> None:
        await self._send_event({"type": "error", "code": error.code, "detail": error.detail, "ref": ref})
        now = time.monotonic()
        self.errors.append(now)
        while self.errors and now - self.errors[0] > events.ABUSE_WINDOW_SECONDS:
            self.errors.popleft()
        if len(self.errors) >= events.ABUSE_MAX_ERRORS:
            logger.info("closing websocket of user %s after %d errors", self.user_id, len(self.errors))
            await self.close(code=events.CLOSE_ABUSE)

    async def on_send(self, frame: dict[str, Any]) -> None:
        conversation_id = _int_field(frame, "conversation")
        text = _str_field(frame, "text")
        client_key = _str_field(frame, "client_key")
        if len(text) > events.MAX_TEXT_BYTES:
            raise FrameError("too_long", f"At most {events.MAX_TEXT_BYTES} bytes of text.")
        if not await ratelimit.aallow_message(self.user_id):
            raise FrameError("rate_limited", "You are sending messages too fast; wait a few seconds.")
        try:
            message, created = await database_sync_to_async(_post)(self.user, conversation_id, text, client_key)
        except (Http404, PermissionDenied, ValidationError) as exc:
            raise _service_error(exc) from None
        if conversation_id not in self.conversations:
            await self._subscribe(conversation_id)
        self.last_typing.pop(conversation_id, None)  # typing again after a message is news
        await self._send_event(
            {
                "type": "message.ack",
                "client_key": client_key,
                "id": message.pk,
                "conversation": conversation_id,
                "order": message.order,
                "created_at": message.created_at.isoformat(),
                "duplicate": not created,
            }
        )

    async def on_edit(self, frame: dict[str, Any]) -> None:
        conversation_id = _int_field(frame, "conversation")
        message_id = _int_field(frame, "id")
        text = _str_field(frame, "text")
        try:
            await database_sync_to_async(services.edit_message)(
                user=self.user, conversation_id=conversation_id, message_id=message_id, text=text
            )
        except (Http404, PermissionDenied, ValidationError) as exc:
            raise _service_error(exc) from None

    async def on_delete(self, frame: dict[str, Any]) -> None:
        conversation_id = _int_field(frame, "conversation")
        message_id = _int_field(frame, "id")
        try:
            await database_sync_to_async(services.delete_message)(
                user=self.user, conversation_id=conversation_id, message_id=message_id
            )
        except (Http404, PermissionDenied, ValidationError) as exc:
            raise _service_error(exc) from None

    async def on_read(self, frame: dict[str, Any]) -> None:
        conversation_id = _int_field(frame, "conversation")
        order = _int_field(frame, "order")
        try:
            await database_sync_to_async(services.mark_read)(
                user=self.user, conversation_id=conversation_id, up_to_order=order
            )
        except (Http404, PermissionDenied, ValidationError) as exc:
            raise _service_error(exc) from None

    async def on_sync(self, frame: dict[str, Any]) -> None:
        requested = frame.get("conversations")
        if not isinstance(requested, dict) or len(requested) > MAX_SYNC_CONVERSATIONS:
            raise FrameError("bad_frame", "'conversations' must map conversation ids to the last order seen.")
        since: dict[int, int] = {}
        for key, value in requested.items():
            if not (isinstance(key, str) and key.isdigit()) or not isinstance(value, int) or isinstance(value, bool):
                raise FrameError("bad_frame", "'conversations' must map conversation ids to the last order seen.")
            since[int(key)] = max(value, 0)
        orders = await database_sync_to_async(selectors.active_conversation_orders)(self.user_id)
        # Conversations the user is not (or no longer) in are ignored; the
        # answer lists the user's actual conversations.
        for conversation_id in list(self.conversations - orders.keys()):
            await self._unsubscribe(conversation_id)
        for conversation_id, last_order in orders.items():
            await self._subscribe(conversation_id, last_order)
        ranges = {
            conversation_id: (after, self.floors[conversation_id])
            for conversation_id, after in since.items()
            if conversation_id in self.conversations and after < self.floors[conversation_id]
        }
        missed = await database_sync_to_async(_history)(ranges, events.SYNC_BATCH) if ranges else {}
        more = False
        for conversation_id, batch in missed.items():
            for payload in batch:
                await self._send_event({"type": "message.new", "message": payload})
            more = more or (len(batch) >= events.SYNC_BATCH and batch[-1]["order"] < ranges[conversation_id][1])
        for conversation_id, after in since.items():
            if conversation_id in self.conversations and after > self.cursors[conversation_id]:
                # The client already has these (e.g. from the REST history).
                self.cursors[conversation_id] = after
        # Catch the live stream up to the orders just read: a message
        # committed between a subscription's floor and its group_add taking
        # effect reaches neither the floor nor the group.
        tail = {c: (self.cursors[c], last) for c, last in orders.items() if last > self.cursors[c]}
        if tail:
            caught = await database_sync_to_async(_history)(tail, max(b - a for a, b in tail.values()))
            for conversation_id, batch in caught.items():
                for payload in batch:
                    await self._send_event({"type": "message.new", "message": payload})
                    self.cursors[conversation_id] = payload["order"]
        await self._send_event(
            {"type": "sync.done", "conversations": {str(k): v for k, v in orders.items()}, "more": more}
        )

    async def on_typing(self, frame: dict[str, Any]) -> None:
        conversation_id = _int_field(frame, "conversation")
        if conversation_id not in self.conversations:
            raise FrameError("not_found", "No such conversation or message.")
        now = time.monotonic()
        if now - self.last_typing.get(conversation_id, 0.0) < TYPING_INTERVAL_SECONDS:
            return
        self.last_typing[conversation_id] = now
        await self.channel_layer.group_send(
            conversation_group(conversation_id),
            {
                "type": events.LAYER_FORWARD,
                "event": {
                    "type": "typing",
                    "conversation": conversation_id,
                    "user": self.user_id,
                    "name": self.user.display_name,
                },
            },
        )

    handlers: dict[str, Callable[[MessagingConsumer, dict[str, Any]], Awaitable[None]]] = {
        "message.send": on_send,
        "message.edit": on_edit,
        "message.delete": on_delete,
        "read.update": on_read,
        "sync": on_sync,
        "typing": on_typing,
    }

    # --- Channel-layer events -------------------------------------------------------

    async def layer_message(self, envelope: dict[str, Any]) -> None:
        payload = envelope["message"]
        conversation_id = payload["conversation"]
        if conversation_id not in self.conversations:
            return
        order = payload["order"]
        cursor = self.cursors[conversation_id]
        if order <= cursor:
            return
        if order > cursor + 1:
            gap = await database_sync_to_async(_history)({conversation_id: (cursor, order - 1)}, order - 1 - cursor)
            for missed in gap[conversation_id]:
                await self._send_event({"type": "message.new", "message": missed})
        frame = envelope.get("frame")
        if frame is not None:
            await self._send_text(frame)
        else:
            await self._send_event({"type": "message.new", "message": payload})
        self.cursors[conversation_id] = order

    async def layer_forward(self, envelope: dict[str, Any]) -> None:
        event = envelope["event"]
        conversation_id = event.get("conversation") or event.get("message", {}).get("conversation")
        if event["type"] in {"message.updated", "typing"} and conversation_id not in self.conversations:
            return
        if event["type"] == "typing" and event.get("user") == self.user_id:
            return
        await self._send_event(event)

    async def layer_membership(self, envelope: dict[str, Any]) -> None:
        event = envelope["event"]
        if event["type"] == "conversation.joined":
            await self._subscribe(event["conversation"])
        else:
            await self._unsubscribe(event["conversation"])
        await self._send_event(event)
