"""Reads shared by the API, the pages and the websocket consumer."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from messaging.events import MessagePayload
from messaging.models import Conversation, Message, Notification, Participant


def message_payload(
    message: Message, *, author_name: str | None = None, organization_name: str | None = None
) -> MessagePayload:
    """The client-facing shape of a message (see `events.MessagePayload`).

    Expects `author` and `author_organization` to be loaded (select_related)
    when the message comes from a query; the posting hot path passes the
    two names instead, having read them with the access check.
    """
    if author_name is None:
        author_name = message.author.display_name if message.author is not None else ""
    if organization_name is None and message.author_organization_id is not None:
        organization_name = message.author_organization.name  # type: ignore[union-attr]
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "order": message.order,
        "author": {"id": message.author_id, "name": author_name, "organization": organization_name},
        "text": "" if deleted else message.text,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
    }


def _messages() -> QuerySet[Message]:
    return Message.objects.select_related("author", "author_organization")


def history(
    conversation_id: int, *, before: int | None = None, after: int | None = None, limit: int = 50
) -> list[Message]:
    """A page of messages in increasing order.

    `after` pages forwards (the oldest messages above that order first);
    otherwise the newest `limit` messages below `before` (or the end).
    """
    messages = _messages().filter(conversation_id=conversation_id)
    if after is not None:
        messages = messages.filter(order__gt=after)
        if before is not None:
            messages = messages.filter(order__lt=before)
        return list(messages.order_by("order")[:limit])
    if before is not None:
        messages = messages.filter(order__lt=before)
    return list(reversed(messages.order_by("-order")[:limit]))


def messages_after(conversation_id: int, after_order: int, *, limit: int, up_to: int | None = None) -> list[Message]:
    messages = _messages().filter(conversation_id=conversation_id, order__gt=after_order)
    if up_to is not None:
        messages = messages.filter(order__lte=up_to)
    return list(messages.order_by("order")[:limit])


def active_conversation_orders(user_id: int) -> dict[int, int]:
    """{conversation id: its last order} for every conversation the user takes part in."""
    return dict(
        Participant.objects.active().filter(user_id=user_id).values_list("conversation_id", "conversation__last_order")
    )


def active_conversation_orders_of(conversation_ids: list[int]) -> dict[int, int]:
    """{conversation id: its last order} for the given conversations."""
    return dict(Conversation.objects.filter(pk__in=conversation_ids).values_list("pk", "last_order"))


def _unread_messages(user_id: int) -> QuerySet[Message]:
    # Both participant conditions sit in one filter() so they apply to the
    # same joined participant row: the reader's own.
    return Message.objects.filter(
        conversation__participants__user_id=user_id,
        conversation__participants__left_at__isnull=True,
        order__gt=F("conversation__participants__last_read_order"),
        deleted_at__isnull=True,
    ).exclude(author_id=user_id)


def unread_counts(user_id: int) -> dict[int, int]:
    """{conversation id: unread messages} (only conversations with some), in one query."""
    rows = (
        _unread_messages(user_id).values("conversation_id").annotate(n=Count("id")).values_list("conversation_id", "n")
    )
    return dict(rows)


def unread_total(user_id: int) -> int:
    return _unread_messages(user_id).count()


def inbox(user_id: int) -> QuerySet[Participant]:
    """The user's active participations, newest activity first, with unread counts and a preview.

    One query for the rows (correlated subqueries), plus one prefetch for
    the organizations involved.
    """
    unread = (
        Message.objects.filter(
            conversation_id=OuterRef("conversation_id"),
            order__gt=OuterRef("last_read_order"),
            deleted_at__isnull=True,
        )
        .exclude(author_id=user_id)
        .order_by()
        .values("conversation_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    last = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"), order=OuterRef("conversation__last_order")
    )
    return (
        Participant.objects.active()
        .filter(user_id=user_id)
        .select_related("conversation", "organization")
        .prefetch_related("conversation__organizations")
        .annotate(
            unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
            last_text=Subquery(last.values("text")[:1]),
            last_deleted_at=Subquery(last.values("deleted_at")[:1]),
        )
        .order_by(F("conversation__last_message_at").desc(nulls_last=True), "-conversation_id")
    )


def participants(conversation_id: int) -> QuerySet[Participant]:
    return (
        Participant.objects.active()
        .filter(conversation_id=conversation_id)
        .select_related("user", "organization")
        .order_by("organization__legal_name", "user__email")
    )


def notifications(user_id: int) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=user_id)


def unread_notification_count(user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def notification_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "payload": notification.payload,
        "created_at": notification.created_at.isoformat(),
        "read": notification.read_at is not None,
    }
