"""Conversations between matched parties, their participants and messages.

Data and invariants only. Every write goes through `messaging/services.py`,
every "may this user see this conversation" question through
`messaging/access.py`.

Ordering: each message gets `order`, a per-conversation counter allocated
from `Conversation.last_order` while the conversation row is locked (see
`services.post_message`). Because the lock is held until commit, a committed
message with order n implies that every order below n is committed too; the
websocket catch-up relies on this to fill gaps from the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from matchmaking.models import Organization


class ConversationKind(models.TextChoices):
    DIRECT = "direct", _("Direct")
    CONSORTIUM = "consortium", _("Consortium")
    BROKERED = "brokered", _("Brokered")


class Conversation(models.Model):
    kind = models.CharField(_("kind"), max_length=12, choices=ConversationKind.choices)
    title = models.CharField(_("title"), max_length=200, blank=True)
    organizations = models.ManyToManyField(
        Organization, blank=True, related_name="conversations", verbose_name=_("organizations")
    )
    # What opened it (an accepted introduction, a consortium, a staff member's
    # form...). A plain kind/id pair rather than a foreign key so that
    # messaging does not depend on the matchmaking flows' models.
    opened_by_kind = models.CharField(_("opened by (kind)"), max_length=32, blank=True)
    opened_by_id = models.PositiveBigIntegerField(_("opened by (id)"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Order counter: only ever incremented under the row lock in post_message.
    last_order = models.PositiveBigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opened_by_kind", "opened_by_id"],
                condition=Q(opened_by_id__isnull=False),
                name="unique_conversation_opener",
            )
        ]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} #{self.pk}"

    @property
    def group_name(self) -> str:
        return conversation_group(self.pk)


def conversation_group(conversation_id: int) -> str:
    """Channel-layer group of a conversation's live connections (server-computed)."""
    return f"conversation.{conversation_id}"


def user_group(user_id: int) -> str:
    """Channel-layer group of all of one user's live connections (server-computed)."""
    return f"user.{user_id}"


class ParticipantQuerySet(models.QuerySet["Participant"]):
    def active(self) -> ParticipantQuerySet:
        return self.filter(left_at__isnull=True)


class Participant(models.Model):
    """A user in a conversation, acting for an organization (or as cluster staff: no organization)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_roles")
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("acting for"),
    )
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    last_read_order = models.PositiveBigIntegerField(_("last read message"), default=0)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="unique_participant")]
        indexes = [models.Index(fields=["user", "left_at"])]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation_id}"

    @property
    def is_active(self) -> bool:
        return self.left_at is None


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    order = models.PositiveBigIntegerField(_("order"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="messages")
    author_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("text"))
    # The sender's idempotency key: resending the same key stores one message.
    client_key = models.CharField(_("client key"), max_length=64)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        ordering = ["conversation", "order"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "order"], name="unique_message_order"),
            models.UniqueConstraint(fields=["conversation", "author", "client_key"], name="unique_message_client_key"),
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"#{self.order} in {self.conversation_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Notification(models.Model):
    """A live notification (introduction request, consortium invitation...), kept for the bell."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"
