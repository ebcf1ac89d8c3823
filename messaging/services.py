"""Every write of the messaging app: validate, authorize, change, then broadcast after commit.

Live events go through the channel layer (Redis when `REDIS_URL` is set) and
only ever after the transaction that stored the data commits, so a client
never sees a message that could still be rolled back, and a reconnecting
client that asks the database (`sync`) always finds what was broadcast.

Group names are computed here, never taken from a client: a conversation's
connections listen on `conversation.<id>` (one send per message, whatever
the number of participants), each user's connections on `user.<id>`
(notifications, read markers, joining and leaving conversations).

For the matchmaking flows:
- `open_direct_conversation` when an introduction is accepted,
- `open_consortium_conversation` / `set_conversation_organizations` for a
  consortium and its changing partners,
- `notify_user` for live notifications (introduction request or accepted,
  consortium invitation...).
Participants follow organization membership on their own (see `apps.py`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import json
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from matchmaking.models import Organization, OrganizationMember
from messaging import access, events, selectors
from messaging.models import (
    Conversation,
    ConversationKind,
    Message,
    Notification,
    Participant,
    conversation_group,
    user_group,
)

logger = logging.getLogger(__name__)

# C0 and C1 control characters except tab, newline and carriage return, and
# the Unicode non-characters U+FFFE/U+FFFF.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_CLIENT_KEY = re.compile(r"^[\x21-\x7e]{1,64}$")


# --- Broadcasting ---------------------------------------------------------------


# Set by the websocket consumer to its server's event loop. Services called
# from the consumer run in a worker thread (database_sync_to_async), which
# copies this context; broadcasting then hands the group send to the loop
# without waiting for it, so the single database thread is not held for a
# Redis round trip per message. Ordering does not rely on it: consumers
# reorder and fill gaps by `order` (messaging/consumers.py).
server_loop: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "messaging_server_loop", default=None
)


def _log_failure(future: concurrent.futures.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("channel-layer broadcast failed", exc_info=future.exception())


def _group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = server_loop.get()
    if loop is not None and loop.is_running():
        asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).add_done_callback(_log_failure)
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The data is committed; clients that miss the event catch up with
        # `sync` on their next (re)connection, so a broadcast failure must
        # not turn a successful write into an error.
        logger.exception("channel-layer broadcast to %s failed", group)


def _broadcast_on_commit(group: str, message: dict[str, Any]) -> None:
    transaction.on_commit(functools.partial(_group_send, group, message))


def _forward_to_user(user_id: int, event: dict[str, Any]) -> None:
    _broadcast_on_commit(user_group(user_id), {"type": events.LAYER_FORWARD, "event": event})


def _forward_to_conversation(conversation_id: int, event: dict[str, Any]) -> None:
    _broadcast_on_commit(conversation_group(conversation_id), {"type": events.LAYER_FORWARD, "event": event})


# --- Validation -----------------------------------------------------------------


def validate_text(text: Any) -> str:
    """Message text is stored exactly as typed, within limits.

    Errors carry a code the websocket protocol reports as is (`too_long`,
    `invalid`).
    """
    if not isinstance(text, str):
        raise ValidationError(_("The message text must be a string."), code="invalid")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        # Lone surrogates (possible in JSON) cannot be stored as UTF-8.
        raise ValidationError(_("The message text is not valid Unicode."), code="invalid") from None
    if size > events.MAX_TEXT_BYTES:
        raise ValidationError(
            _("The message is too long (at most %(limit)d bytes).") % {"limit": events.MAX_TEXT_BYTES},
            code="too_long",
        )
    if not text.strip():
        raise ValidationError(_("The message is empty."), code="invalid")
    if _FORBIDDEN.search(text):
        raise ValidationError(_("The message contains control characters."), code="invalid")
    return text


def validate_client_key(client_key: Any) -> str:
    if not isinstance(client_key, str) or not _CLIENT_KEY.match(client_key):
        raise ValidationError(
            _("The client key must be 1 to 64 printable ASCII characters without spaces."), code="invalid"
        )
    return client_key


# --- Messages -------------------------------------------------------------------


def _allocate_order(conversation_id: int, now: Any) -> int:
    """Take the next order of a conversation, holding its row lock until commit.

    One UPDATE ... RETURNING both increments the counter and locks the row
    (PostgreSQL row lock; SQLite serializes writers anyway), so concurrent
    posters in one conversation get consecutive orders in commit order.
    """
    table = connection.ops.quote_name(Conversation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_order = last_order + 1, last_message_at = %s "  # noqa: S608
            "WHERE id = %s RETURNING last_order",
            [connection.ops.adapt_datetimefield_value(now), conversation_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such conversation.")
    return int(row[0])


def _insert_message(message: Message) -> None:
    """INSERT one message with a plain statement (hot path: see `access.posting_participant`)."""
    quote = connection.ops.quote_name
    columns = ["conversation_id", "order", "author_id", "author_organization_id", "text", "client_key", "created_at"]
    values = [getattr(message, column) for column in columns]
    values[-1] = connection.ops.adapt_datetimefield_value(message.created_at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Message._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))}) RETURNING id",
            values,
        )
        row = cursor.fetchone()
    assert row is not None
    message.pk = row[0]
    message._state.adding = False


def post_message(*, user: Any, conversation_id: Any, text: Any, client_key: Any) -> tuple[Message, bool]:
    """Store a message (idempotent by client key) and broadcast it after commit.

    Returns (message, created). Resending a client key the author already
    used in this conversation returns the stored message with created=False
    and broadcasts nothing. Callers apply the per-user rate limit first
    (`messaging.ratelimit`), as they would a throttle.
    """
    text = validate_text(text)
    client_key = validate_client_key(client_key)
    poster = access.posting_participant(user, conversation_id)
    try:
        with transaction.atomic():
            now = timezone.now()
            order = _allocate_order(conversation_id, now)
            message = Message(
                conversation_id=conversation_id,
                order=order,
                author_id=poster.user_id,
                author_organization_id=poster.organization_id,
                text=text,
                client_key=client_key,
                created_at=now,
            )
            _insert_message(message)
            payload = selectors.message_payload(
                message, author_name=user.display_name, organization_name=poster.organization_name
            )
            # The client frame is serialized once here rather than once per
            # receiving connection.
            frame = json.dumps({"type": "message.new", "message": payload}, ensure_ascii=False, separators=(",", ":"))
            _broadcast_on_commit(
                conversation_group(conversation_id), {"type": events.LAYER_MESSAGE, "message": payload, "frame": frame}
            )
    except IntegrityError:
        # The unique (conversation, author, client_key) constraint fired: a
        # retry of a message already stored. The whole transaction rolled
        # back, order counter included, so no gap is left behind.
        existing = (
            Message.objects.select_related("author", "author_organization")
            .filter(conversation_id=conversation_id, author_id=poster.user_id, client_key=client_key)
            .first()
        )
        if existing is None:
            raise
        return existing, False
    return message, True


def _changeable_message(user: Any, conversation_id: Any, message_id: Any) -> Message:
    access.access_participant(user, conversation_id)
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise Http404("No such message.")
    try:
        message = Message.objects.select_related("author", "author_organization").get(
            pk=message_id, conversation_id=conversation_id
        )
    except Message.DoesNotExist:
        raise Http404("No such message.") from None
    if not access.can_change_message(user, message):
        raise PermissionDenied(_("Only the author can change a message, within 15 minutes."))
    return message


def edit_message(*, user: Any, conversation_id: Any, message_id: Any, text: Any) -> Message:
    text = validate_text(text)
    with transaction.atomic():
        message = _changeable_message(user, conversation_id, message_id)
        message.text = text
        message.edited_at = timezone.now()
        message.save(update_fields=["text", "edited_at"])
        _forward_to_conversation(
            message.conversation_id, {"type": "message.updated", "message": selectors.message_payload(message)}
        )
    return message


def delete_message(*, user: Any, conversation_id: Any, message_id: Any) -> Message:
    """Delete one's own message: the text is erased, a tombstone keeps its order (no gap)."""
    with transaction.atomic():
        message = _changeable_message(user, conversation_id, message_id)
        message.text = ""
        message.deleted_at = timezone.now()
        message.save(update_fields=["text", "deleted_at"])
        _forward_to_conversation(
            message.conversation_id, {"type": "message.updated", "message": selectors.message_payload(message)}
        )
    return message


def mark_read(*, user: Any, conversation_id: Any, up_to_order: Any) -> dict[str, int]:
    """Move the user's read marker forward (never back) and tell the user's other connections."""
    if not isinstance(up_to_order, int) or isinstance(up_to_order, bool) or up_to_order < 0:
        raise ValidationError(_("The order must be a non-negative integer."), code="invalid")
    with transaction.atomic():
        participant = access.access_participant(user, conversation_id)
        order = min(up_to_order, participant.conversation.last_order)
        # The filter keeps the marker monotonic when two tabs race.
        Participant.objects.filter(pk=participant.pk, last_read_order__lt=order).update(last_read_order=order)
        counts = selectors.unread_counts(participant.user_id)
        result = {
            "conversation": participant.conversation_id,
            "order": max(order, participant.last_read_order),
            "unread": counts.get(participant.conversation_id, 0),
            "unread_total": sum(counts.values()),
        }
        _forward_to_user(participant.user_id, {"type": "read.update", **result})
    return result


# --- Conversations and participants ---------------------------------------------------


def _membership_event(user_id: int, conversation_id: int, joined: bool) -> None:
    event = {"type": "conversation.joined" if joined else "conversation.left", "conversation": conversation_id}
    _broadcast_on_commit(user_group(user_id), {"type": events.LAYER_MEMBERSHIP, "event": event})


def _ensure_participant(conversation: Conversation, user_id: int, organization_id: int | None) -> bool:
    """Add or re-activate a participant; True when the user (re)joined."""
    participant, created = Participant.objects.get_or_create(
        conversation=conversation, user_id=user_id, defaults={"organization_id": organization_id}
    )
    if created:
        _membership_event(user_id, conversation.pk, joined=True)
        return True
    if participant.left_at is not None or participant.organization_id != organization_id:
        rejoined = participant.left_at is not None
        participant.left_at = None
        participant.organization_id = organization_id
        participant.save(update_fields=["left_at", "organization"])
        if rejoined:
            _membership_event(user_id, conversation.pk, joined=True)
        return rejoined
    return False


def sync_participants(conversation: Conversation) -> tuple[set[int], set[int]]:
    """Make the organization participants match the organizations' current users.

    Participants without an organization (cluster staff in brokered
    conversations) are left alone. Returns (joined user ids, left user ids).
    """
    with transaction.atomic():
        wanted: dict[int, int] = {}
        members = OrganizationMember.objects.filter(organization__in=conversation.organizations.all()).order_by(
            "organization_id"
        )
        for user_id, organization_id in members.values_list("user_id", "organization_id"):
            wanted.setdefault(user_id, organization_id)
        joined = {
            user_id
            for user_id, organization_id in wanted.items()
            if _ensure_participant(conversation, user_id, organization_id)
        }
        leaving = Participant.objects.active().filter(conversation=conversation, organization__isnull=False)
        left = set(leaving.exclude(user_id__in=wanted).values_list("user_id", flat=True))
        if left:
            Participant.objects.filter(conversation=conversation, user_id__in=left).update(left_at=timezone.now())
            for user_id in left:
                _membership_event(user_id, conversation.pk, joined=False)
    return joined, left


def remove_organization_participants(organization_id: int) -> None:
    """The organization is going away: everyone acting for it leaves its conversations."""
    with transaction.atomic():
        leaving = Participant.objects.active().filter(organization_id=organization_id)
        rows = list(leaving.values_list("user_id", "conversation_id"))
        leaving.update(left_at=timezone.now())
        for user_id, conversation_id in rows:
            _membership_event(user_id, conversation_id, joined=False)


def sync_organization_participants(organization_id: int) -> None:
    """Re-sync every conversation an organization is part of (its users changed)."""
    for conversation in Conversation.objects.filter(organizations=organization_id):
        sync_participants(conversation)


def _check_organizations(organizations: Iterable[Organization], *, minimum: int) -> list[Organization]:
    distinct = list({org.pk: org for org in organizations}.values())
    if len(distinct) < minimum:
        raise ValidationError(_("Choose at least %(n)d different organizations.") % {"n": minimum}, code="invalid")
    return distinct


def _open(
    *,
    kind: str,
    organizations: list[Organization],
    title: str,
    opened_by_kind: str,
    opened_by_id: int | None,
    created_by: Any = None,
) -> tuple[Conversation, bool]:
    if opened_by_id is not None:
        existing = Conversation.objects.filter(opened_by_kind=opened_by_kind, opened_by_id=opened_by_id).first()
        if existing is not None:
            return existing, False
    conversation = Conversation.objects.create(
        kind=kind,
        title=title[:200],
        opened_by_kind=opened_by_kind,
        opened_by_id=opened_by_id,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )
    conversation.organizations.set(organizations)
    sync_participants(conversation)
    return conversation, True


def open_direct_conversation(
    *,
    organizations: Sequence[Organization],
    opened_by_kind: str = "",
    opened_by_id: int | None = None,
    title: str = "",
    created_by: Any = None,
) -> Conversation:
    """A conversation between the users of two organizations (e.g. an accepted introduction).

    Idempotent: the same opener (kind, id) always yields the same
    conversation; without an opener, an existing opener-less direct
    conversation between the same two organizations is reused.
    """
    pair = _check_organizations(organizations, minimum=2)
    if len(pair) != 2:
        raise ValidationError(_("A direct conversation is between exactly two organizations."), code="invalid")
    with transaction.atomic():
        if opened_by_id is None:
            existing = (
                Conversation.objects.filter(kind=ConversationKind.DIRECT, opened_by_id__isnull=True)
                .filter(organizations=pair[0])
                .filter(organizations=pair[1])
                .first()
            )
            if existing is not None:
                return existing
        conversation, _created = _open(
            kind=ConversationKind.DIRECT,
            organizations=pair,
            title=title,
            opened_by_kind=opened_by_kind,
            opened_by_id=opened_by_id,
            created_by=created_by,
        )
    return conversation


def open_consortium_conversation(
    *,
    organizations: Sequence[Organization],
    title: str,
    opened_by_kind: str = "consortium",
    opened_by_id: int | None = None,
    created_by: Any = None,
) -> Conversation:
    """A conversation among all users of a consortium's organizations (idempotent per opener)."""
    members = _check_organizations(organizations, minimum=1)
    with transaction.atomic():
        conversation, _created = _open(
            kind=ConversationKind.CONSORTIUM,
            organizations=members,
            title=title,
            opened_by_kind=opened_by_kind,
            opened_by_id=opened_by_id,
            created_by=created_by,
        )
    return conversation


def set_conversation_organizations(*, conversation_id: int, organizations: Sequence[Organization]) -> Conversation:
    """Change which organizations take part (a consortium gained or lost a partner)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        conversation.organizations.set(_check_organizations(organizations, minimum=1))
        sync_participants(conversation)
    return conversation


def open_brokered_conversation(
    *, staff_user: Any, organizations: Sequence[Organization], title: str = ""
) -> Conversation:
    """A cluster broker opens a conversation with one or two organizations' users."""
    parties = _check_organizations(organizations, minimum=1)
    if len(parties) > 2:
        raise ValidationError(_("A brokered conversation involves one or two organizations."), code="invalid")
    if not access.can_open_brokered(staff_user, parties):
        raise PermissionDenied(_("Only staff of a cluster one of these organizations belongs to can do this."))
    with transaction.atomic():
        conversation, _created = _open(
            kind=ConversationKind.BROKERED,
            organizations=parties,
            title=title or " ↔ ".join(org.name for org in parties),
            opened_by_kind="staff",
            opened_by_id=None,
            created_by=staff_user,
        )
        _ensure_participant(conversation, staff_user.pk, None)
    return conversation


# --- Notifications --------------------------------------------------------------


def notify_user(*, user_id: int, kind: str, payload: dict[str, Any]) -> Notification:
    """Persist a notification and push it live to the user's connections after commit.

    `kind` is a short dotted name (e.g. "introduction.requested",
    "introduction.accepted", "consortium.invitation"); `payload` is small
    JSON the pages render (use a "title" and a "url" key for the bell).
    """
    with transaction.atomic():
        notification = Notification.objects.create(user_id=user_id, kind=kind[:64], payload=payload)
        event = {"type": "notification", **selectors.notification_payload(notification)}
        event.pop("read", None)
        _forward_to_user(user_id, event)
    return notification


def mark_notifications_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all when ids is None); returns how many changed."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied
    unread = Notification.objects.filter(user_id=user.pk, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
