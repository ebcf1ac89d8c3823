"""Admission of organizations into clusters: apply, board decision, lapse.

A membership is one row per (organization, cluster): re-applying after a
rejection or a lapse reuses the row, so the history of decisions lives in
`board_note` and the admin's history, not in duplicate rows.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from matchmaking import access, emails
from matchmaking.models import (
    Cluster,
    FeeTier,
    Membership,
    MembershipStatus,
    Organization,
    ProfileStatus,
)
from matchmaking.services.common import require_user
from matchmaking.services.organizations import _validate_locked, mark_organizations_changed

MAX_NOTE_LENGTH = 5000


def _clean_text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: _("Expected text.")}, code="invalid_type")
    value = value.strip()
    if len(value) > MAX_NOTE_LENGTH:
        raise ValidationError({field: _("At most %(n)d characters.") % {"n": MAX_NOTE_LENGTH}}, code="max_length")
    return value


def apply_to_cluster(
    *, user: Any, organization: Organization, cluster: Cluster, fee_tier: str, motivation: str = ""
) -> Membership:
    """An owner or editor applies for membership of `cluster`; its staff decide later."""
    require_user(user)
    if not access.can_edit_organization(user, organization):
        raise PermissionDenied(_("Only an owner or editor may apply on behalf of this organization."))
    if fee_tier not in FeeTier.values:
        raise ValidationError({"fee_tier": _("Choose a fee tier.")}, code="invalid_choice")
    motivation = _clean_text(motivation, "motivation")
    with transaction.atomic():
        existing = (
            Membership.objects.select_for_update()
            .filter(organization_id=organization.pk, cluster_id=cluster.pk)
            .first()
        )
        if existing is not None:
            if existing.status == MembershipStatus.APPLIED:
                raise ValidationError(_("An application to this cluster is already pending."), code="duplicate")
            if existing.status == MembershipStatus.ADMITTED:
                raise ValidationError(_("This organization is already a member of this cluster."), code="duplicate")
            membership = existing
        else:
            membership = Membership(organization=organization, cluster=cluster)
        membership.status = MembershipStatus.APPLIED
        membership.fee_tier = fee_tier
        membership.motivation = motivation
        membership.applied_at = timezone.now()
        membership.applied_by = user
        membership.decided_at = None
        membership.decided_by = None
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError as exc:  # a concurrent application won the unique constraint
            raise ValidationError(_("An application to this cluster is already pending."), code="duplicate") from exc
        # Staff of the cluster now see the organization: its index scope changed.
        mark_organizations_changed([organization.pk])
        membership_id = membership.pk
        transaction.on_commit(lambda: emails.send_application_received(membership_id))
    return membership


def decide_membership(*, user: Any, membership: Membership, admit: bool, board_note: str) -> Membership:
    """Record the board's decision on an application and notify the organization by email.

    Admission also validates the profile when staff had not done so yet: the
    board reviewed it as part of the application, and an admitted member with
    an invisible profile would be a trap.
    """
    require_user(user)
    if not access.can_decide_membership(user, membership):
        raise PermissionDenied(_("Only the staff of this cluster may decide on this application."))
    note = _clean_text(board_note, "board_note")
    if not admit and not note:
        raise ValidationError({"board_note": _("Give the board's reason for the rejection.")}, code="required")
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("organization", "cluster").get(pk=membership.pk)
        if locked.status != MembershipStatus.APPLIED:
            raise ValidationError(_("Only a pending application can be decided."), code="invalid_state")
        locked.status = MembershipStatus.ADMITTED if admit else MembershipStatus.REJECTED
        locked.decided_at = timezone.now()
        locked.decided_by = user
        locked.board_note = note
        locked.save(update_fields=["status", "decided_at", "decided_by", "board_note"])
        if admit:
            org = Organization.objects.select_for_update().get(pk=locked.organization_id)
            if org.profile_status != ProfileStatus.VALIDATED:
                _validate_locked(org, user)
        mark_organizations_changed([locked.organization_id])
        membership_id = locked.pk
        transaction.on_commit(lambda: emails.send_membership_decision(membership_id))
    membership.refresh_from_db()
    return membership


def lapse_membership(*, user: Any, membership: Membership, note: str = "") -> Membership:
    """Staff end an admitted membership (fees unpaid, resignation); the organization may re-apply later."""
    require_user(user)
    if not access.can_decide_membership(user, membership):
        raise PermissionDenied(_("Only the staff of this cluster may end this membership."))
    note = _clean_text(note, "note")
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.status != MembershipStatus.ADMITTED:
            raise ValidationError(_("Only an admitted membership can lapse."), code="invalid_state")
        locked.status = MembershipStatus.LAPSED
        locked.decided_at = timezone.now()
        locked.decided_by = user
        if note:
            locked.board_note = f"{locked.board_note}\n\n{note}".strip()
        locked.save(update_fields=["status", "decided_at", "decided_by", "board_note"])
        mark_organizations_changed([locked.organization_id])
    membership.refresh_from_db()
    return membership
