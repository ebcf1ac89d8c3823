"""Shapes of the messaging API. Messages use the same payload as the websocket (`events.MessagePayload`)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from messaging import events
from messaging.models import Participant


class AuthorSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    organization = serializers.CharField(allow_null=True)


class MessageSerializer(serializers.Serializer[Any]):
    """A message as `messaging.selectors.message_payload` builds it."""

    id = serializers.IntegerField()
    conversation = serializers.IntegerField()
    order = serializers.IntegerField()
    author = AuthorSerializer()
    text = serializers.CharField(help_text="Exactly as typed; empty once deleted. Render as text, never as HTML.")
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted = serializers.BooleanField()


class HistorySerializer(serializers.Serializer[Any]):
    results = MessageSerializer(many=True)
    has_more_before = serializers.BooleanField()
    has_more_after = serializers.BooleanField()
    last_order = serializers.IntegerField(help_text="The conversation's latest order.")


class OrganizationRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ConversationSerializer(serializers.Serializer[Any]):
    """One row of the inbox: built from the user's Participant row (see `selectors.inbox`)."""

    id = serializers.IntegerField(source="conversation_id")
    kind = serializers.CharField(source="conversation.kind")
    title = serializers.SerializerMethodField()
    organizations = serializers.SerializerMethodField()
    acting_for = serializers.SerializerMethodField()
    last_order = serializers.IntegerField(source="conversation.last_order")
    last_message_at = serializers.DateTimeField(source="conversation.last_message_at", allow_null=True)
    last_read_order = serializers.IntegerField()
    unread = serializers.IntegerField()
    preview = serializers.SerializerMethodField()

    def get_title(self, participant: Participant) -> str:
        return conversation_title(participant)

    def get_organizations(self, participant: Participant) -> list[dict[str, Any]]:
        return [{"id": org.pk, "name": org.name} for org in participant.conversation.organizations.all()]

    def get_acting_for(self, participant: Participant) -> str | None:
        return participant.organization.name if participant.organization else None

    def get_preview(self, participant: Participant) -> str:
        if getattr(participant, "last_deleted_at", None):
            return ""
        return (getattr(participant, "last_text", None) or "")[:140]


def conversation_title(participant: Participant) -> str:
    """The conversation's title, or the other organizations' names as this participant sees them."""
    conversation = participant.conversation
    if conversation.title:
        return conversation.title
    others = [org.name for org in conversation.organizations.all() if org.pk != participant.organization_id]
    return ", ".join(others) or str(conversation)


class ParticipantSerializer(serializers.Serializer[Any]):
    user = serializers.IntegerField(source="user_id")
    name = serializers.CharField(source="user.display_name")
    organization = serializers.SerializerMethodField()
    last_read_order = serializers.IntegerField()

    def get_organization(self, participant: Participant) -> str | None:
        return participant.organization.name if participant.organization else None


class ConversationDetailSerializer(ConversationSerializer):
    participants = ParticipantSerializer(many=True)


class HistoryQuerySerializer(serializers.Serializer[Any]):
    before = serializers.IntegerField(required=False, min_value=0)
    after = serializers.IntegerField(required=False, min_value=0)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class PostMessageSerializer(serializers.Serializer[Any]):
    # Field-level limits only bound the payload; the service has the rules.
    text = serializers.CharField(trim_whitespace=False, max_length=events.MAX_TEXT_BYTES * 2)
    client_key = serializers.CharField(
        max_length=events.MAX_CLIENT_KEY_LENGTH,
        help_text="Idempotency key chosen by the client: posting the same key again returns the stored message.",
    )


class EditMessageSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(trim_whitespace=False, max_length=events.MAX_TEXT_BYTES * 2)


class MarkReadSerializer(serializers.Serializer[Any]):
    order = serializers.IntegerField(min_value=0, help_text="Everything up to this order has been read.")


class ReadStateSerializer(serializers.Serializer[Any]):
    conversation = serializers.IntegerField()
    order = serializers.IntegerField()
    unread = serializers.IntegerField()
    unread_total = serializers.IntegerField()


class UnreadSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField()
    conversations = serializers.DictField(child=serializers.IntegerField(), help_text="Conversation id → unread.")
    notifications = serializers.IntegerField()


class OpenBrokeredSerializer(serializers.Serializer[Any]):
    organizations = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=2)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class NotificationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    payload = serializers.DictField()
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()


class MarkNotificationsReadSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text="Omit to mark all read.",
    )


class CountSerializer(serializers.Serializer[Any]):
    updated = serializers.IntegerField()
