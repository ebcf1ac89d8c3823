from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_delete

        from matchmaking.models import Organization, OrganizationMember

        # Participants follow organization membership whichever service
        # changes it (invitation accepted, member removed, admin edit), so
        # matchmaking never has to remember to call messaging.
        post_save.connect(_member_changed, sender=OrganizationMember, dispatch_uid="messaging-member-saved")
        post_delete.connect(_member_changed, sender=OrganizationMember, dispatch_uid="messaging-member-deleted")
        # Before the cascade: afterwards the participants acting for it would
        # be left with no organization, like cluster staff.
        pre_delete.connect(_organization_deleted, sender=Organization, dispatch_uid="messaging-organization-deleted")


def _member_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:  # loaddata
        return
    from messaging.services import sync_organization_participants

    sync_organization_participants(instance.organization_id)


def _organization_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    from messaging.services import remove_organization_participants

    remove_organization_participants(instance.pk)
