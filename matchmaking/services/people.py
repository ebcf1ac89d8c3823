"""People of an organization: invitations, roles, removal.

Invariant kept here: an organization always has at least one owner. Role
changes lock the organization's member rows so two owners demoting each
other concurrently cannot leave it ownerless.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from matchmaking import access, emails
from matchmaking.models import Invitation, Organization, OrganizationMember, OrganizationRole
from matchmaking.services.common import require_user

INVITATION_VALIDITY = timedelta(days=14)


def _check_role(role: Any) -> str:
    if role not in OrganizationRole.values:
        raise ValidationError({"role": _("Choose owner, editor or member.")}, code="invalid_choice")
    return str(role)


def invite_member(*, user: Any, organization: Organization, email: str, role: str) -> Invitation:
    """An owner invites a person by email; an open invitation to the same address is renewed, not duplicated."""
    require_user(user)
    if not access.can_manage_members(user, organization):
        raise PermissionDenied(_("Only an owner may invite people."))
    role = _check_role(role)
    if not isinstance(email, str):
        raise ValidationError({"email": _("Enter a valid email address.")}, code="invalid")
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}, code="invalid") from exc
    if OrganizationMember.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member of the organization.")}, code="duplicate")
    now = timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(organization=organization, email__iexact=email, accepted_at__isnull=True, expires_at__gt=now)
            .first()
        ) or Invitation(organization=organization, email=email)
        invitation.role = role
        invitation.invited_by = user
        invitation.token = secrets.token_urlsafe(32)
        invitation.expires_at = now + INVITATION_VALIDITY
        invitation.save()
        invitation_id = invitation.pk
        transaction.on_commit(lambda: emails.send_invitation(invitation_id))
    return invitation


def accept_invitation(*, user: Any, token: str) -> OrganizationMember:
    """The invited person joins; their *verified* email must be the invited address."""
    require_user(user)
    if not isinstance(token, str) or not token or len(token) > 64:
        raise ValidationError(_("This invitation link is not valid."), code="invalid_token")
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().select_related("organization").filter(token=token).first()
        if invitation is None:
            raise ValidationError(_("This invitation link is not valid."), code="invalid_token")
        if invitation.accepted_at is not None:
            raise ValidationError(_("This invitation has already been used."), code="used")
        if invitation.expires_at <= timezone.now():
            raise ValidationError(_("This invitation has expired; ask for a new one."), code="expired")
        if not EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists():
            raise PermissionDenied(_("This invitation was sent to another email address, or it is not verified yet."))
        if OrganizationMember.objects.filter(organization=invitation.organization, user=user).exists():
            raise ValidationError(_("You are already a member of this organization."), code="duplicate")
        try:
            with transaction.atomic():
                member = OrganizationMember.objects.create(
                    user=user, organization=invitation.organization, role=invitation.role
                )
        except IntegrityError as exc:
            raise ValidationError(_("You are already a member of this organization."), code="duplicate") from exc
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return member


def _owners_after(organization_id: int, member_id: int, new_role: str | None) -> int:
    roles = dict(
        OrganizationMember.objects.select_for_update().filter(organization_id=organization_id).values_list("pk", "role")
    )
    if new_role is None:
        roles.pop(member_id, None)
    else:
        roles[member_id] = new_role
    return sum(1 for role in roles.values() if role == OrganizationRole.OWNER)


def change_member_role(*, user: Any, member: OrganizationMember, role: str) -> OrganizationMember:
    require_user(user)
    if not access.can_manage_members(user, member.organization):
        raise PermissionDenied(_("Only an owner may change roles."))
    role = _check_role(role)
    with transaction.atomic():
        if _owners_after(member.organization_id, member.pk, role) < 1:
            raise ValidationError(_("An organization must keep at least one owner."), code="last_owner")
        OrganizationMember.objects.filter(pk=member.pk).update(role=role)
    member.refresh_from_db()
    return member


def remove_member(*, user: Any, member: OrganizationMember) -> None:
    """Owners remove anyone; anyone may leave. The last owner can do neither."""
    require_user(user)
    if member.user_id != user.pk and not access.can_manage_members(user, member.organization):
        raise PermissionDenied(_("Only an owner may remove people."))
    with transaction.atomic():
        if _owners_after(member.organization_id, member.pk, None) < 1:
            raise ValidationError(_("An organization must keep at least one owner."), code="last_owner")
        OrganizationMember.objects.filter(pk=member.pk).delete()
