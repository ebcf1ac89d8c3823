from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from matchmaking.models import OrganizationMember

        # Participants follow organization membership whichever service
        # changes it (invitation accepted, member removed, admin edit), so
        # matchmaking never has to remember to call messaging.
        post_save.connect(_member_changed, sender=OrganizationMember, dispatch_uid="messaging-member-saved")
        post_delete.connect(_member_changed, sender=OrganizationMember, dispatch_uid="messaging-member-deleted")


def _member_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:  # loaddata
        return
    from messaging.services import sync_organization_participants

    sync_organization_participants(instance.organization_id)
