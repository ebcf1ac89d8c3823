"""Admin: read-mostly views for staff investigating a conversation; writes go through services."""

from __future__ import annotations

from django.contrib import admin

from messaging.models import Conversation, Message, Notification, Participant


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    fields = ["user", "organization", "joined_at", "left_at", "last_read_order"]
    readonly_fields = ["user", "organization", "joined_at", "left_at", "last_read_order"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "title", "opened_by_kind", "opened_by_id", "last_order", "last_message_at"]
    list_filter = ["kind", "opened_by_kind"]
    search_fields = ["title", "organizations__legal_name", "organizations__acronym"]
    # Organizations and participants change through messaging.services only
    # (participants follow them); the admin shows them.
    readonly_fields = [
        "organizations", "last_order", "last_message_at", "created_at", "opened_by_kind", "opened_by_id", "created_by",
    ]  # fmt: skip
    inlines = [ParticipantInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "order", "author", "created_at", "edited_at", "deleted_at"]
    list_filter = ["created_at"]
    search_fields = ["text", "author__email"]
    raw_id_fields = ["conversation", "author", "author_organization"]
    readonly_fields = ["conversation", "order", "author", "author_organization", "client_key", "created_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["user__email", "kind"]
    raw_id_fields = ["user"]
