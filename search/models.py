"""The search app's one table: the durable outbox of index changes.

A row says "the index entry for (kind, object_id) may be stale". It is written
in the same transaction as the change it stands for (so it commits or rolls
back with it) and deleted only after Elasticsearch has accepted the current
state of that object. One row per object: a burst of changes to the same
organization is one pending entry.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class IndexKind(models.TextChoices):
    ORGANIZATION = "organization", _("Organization")
    CALL = "call", _("Call")


class PendingIndexChange(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=IndexKind.choices)
    object_id = models.BigIntegerField(_("object id"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Rewritten every time the object changes again. A flush deletes a row only
    # if its token is still the one it read, so a change recorded while the
    # flush was talking to Elasticsearch is never dropped.
    token = models.UUIDField(default=uuid.uuid4)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="unique_pending_index_change")]
        verbose_name = _("pending index change")
        verbose_name_plural = _("pending index changes")

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} (attempts: {self.attempts})"
