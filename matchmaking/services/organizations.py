"""Writes on organizations and their offers/needs.

Each public function checks permission and input, changes the database in one
transaction, bumps `Organization.version` and sends
`matchmaking.signals.organizations_changed` *inside* that transaction (the
search app records it durably there and flushes after commit).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from matchmaking import access
from matchmaking.models import (
    Opportunity,
    Organization,
    OrganizationMember,
    OrganizationRole,
    ProfileStatus,
    Theme,
)
from matchmaking.services.common import require_user
from matchmaking.signals import organizations_changed

# What a member may set on their profile, in the order files and forms list them.
# Status, validation and bookkeeping fields are changed only by the dedicated services below.
PROFILE_FIELDS: tuple[str, ...] = (
    "legal_name",
    "acronym",
    "kind",
    "size_band",
    "country",
    "city",
    "latitude",
    "longitude",
    "website",
    "siren",
    "siret",
    "ice",
    "pic",
    "description_fr",
    "description_en",
    "competences",
    "themes",
    "languages",
    "visibility",
)
ORGANIZATION_FIELDS = frozenset(PROFILE_FIELDS)
IDENTIFIER_FIELDS = ("pic", "siren", "siret", "ice")
OPPORTUNITY_FIELDS = frozenset({"kind", "title", "text", "trl", "tags", "expires_on"})
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def _check_keys(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    if not isinstance(data, Mapping):
        raise ValidationError(_("Expected an object of fields."), code="invalid")
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise ValidationError(
            {key: ValidationError(_("Unknown or read-only field."), code="unknown_field") for key in unknown}
        )


def normalize_identifier(value: Any) -> str | None:
    """Identifiers arrive as "552 100 554" or "55210055400013 " from people and files: keep the digits' text."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(_("Expected text."), code="invalid_type")
    compact = _SPACES.sub("", value)
    return compact or None


def resolve_themes(values: Any) -> list[Theme]:
    """Theme codes or ids -> Theme rows; unknown entries are a ValidationError on `themes`."""
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        raise ValidationError({"themes": _("Expected a list of theme codes.")}, code="invalid_type")
    codes: set[str] = set()
    ids: set[int] = set()
    for value in values:
        if isinstance(value, Theme):
            ids.add(value.pk)
        elif isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
        elif isinstance(value, str) and value.strip():
            codes.add(value.strip())
        else:
            raise ValidationError({"themes": _("Expected a list of theme codes.")}, code="invalid_type")
    found = list(Theme.objects.filter(code__in=codes)) + list(Theme.objects.filter(pk__in=ids))
    missing = (codes - {theme.code for theme in found}) | {str(i) for i in ids - {theme.pk for theme in found}}
    if missing:
        raise ValidationError(
            {"themes": _("Unknown theme(s): %(codes)s.") % {"codes": ", ".join(sorted(missing))}},
            code="unknown_theme",
        )
    return list({theme.pk: theme for theme in found}.values())


def _apply_organization_data(org: Organization, data: Mapping[str, Any]) -> list[Theme] | None:
    """Set fields on `org` (unsaved); returns the themes to set, or None when unchanged."""
    themes: list[Theme] | None = None
    errors: dict[str, list[str]] = {}
    for key, value in data.items():
        try:
            if key == "themes":
                themes = resolve_themes(value)
                continue
            if key in IDENTIFIER_FIELDS:
                value = normalize_identifier(value)
            elif key == "country" and isinstance(value, str):
                value = value.strip().upper()
            elif key in {"legal_name", "acronym", "city", "website"} and isinstance(value, str):
                value = value.strip()
            elif key in {"latitude", "longitude"} and value == "":
                value = None
            elif value is None and key not in {"latitude", "longitude"}:
                value = [] if key in {"competences", "languages"} else ""
            setattr(org, key, value)
        except ValidationError as exc:
            errors.setdefault(key, []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return themes


def _full_clean(instance: Any, exclude: Iterable[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError:
        raise
    except (TypeError, ValueError) as exc:  # e.g. a dict where a float belongs
        raise ValidationError(_("Invalid value: %(error)s") % {"error": exc}, code="invalid") from exc


def _save_unique(instance: Any) -> None:
    """Save; a unique identifier taken by a concurrent writer becomes a ValidationError, not a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError(_("This identifier is already used by another organization."), code="unique") from exc


def mark_organizations_changed(organization_ids: Iterable[int], *, sender: Any = None) -> None:
    """Bump versions and tell index followers, inside the caller's transaction."""
    ids = sorted({int(i) for i in organization_ids})
    if not ids:
        return
    Organization.objects.filter(pk__in=ids).update(version=F("version") + 1)
    organizations_changed.send(sender=sender or Organization, organization_ids=ids)


def create_organization(*, user: Any, data: Mapping[str, Any]) -> Organization:
    """Create an organization; the creator becomes its owner. The profile starts as a draft."""
    require_user(user)
    _check_keys(data, ORGANIZATION_FIELDS)
    org = Organization()
    themes = _apply_organization_data(org, data)
    _full_clean(org)
    with transaction.atomic():
        _save_unique(org)
        if themes:
            org.themes.set(themes)
        OrganizationMember.objects.create(user=user, organization=org, role=OrganizationRole.OWNER)
        organizations_changed.send(sender=Organization, organization_ids=[org.pk])
    return org


def update_organization(*, user: Any, organization: Organization, data: Mapping[str, Any]) -> Organization:
    """Change profile fields. A validated profile stays validated: staff can still review it in the admin."""
    require_user(user)
    if not access.can_edit_organization(user, organization):
        raise PermissionDenied(_("You may not edit this organization."))
    _check_keys(data, ORGANIZATION_FIELDS)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        themes = _apply_organization_data(org, data)
        _full_clean(org)
        _save_unique(org)
        if themes is not None:
            org.themes.set(themes)
        mark_organizations_changed([org.pk])
    org.refresh_from_db()
    return org


def submit_profile(*, user: Any, organization: Organization) -> Organization:
    """Draft -> submitted: the owners ask staff to validate the profile."""
    require_user(user)
    if not access.can_edit_organization(user, organization):
        raise PermissionDenied(_("You may not edit this organization."))
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        if org.profile_status != ProfileStatus.DRAFT:
            raise ValidationError(_("Only a draft profile can be submitted."), code="invalid_state")
        if not (org.description_fr.strip() or org.description_en.strip()):
            raise ValidationError(
                {"description_fr": _("Describe the organization in French or English before submitting.")},
                code="required",
            )
        org.profile_status = ProfileStatus.SUBMITTED
        org.save(update_fields=["profile_status", "updated_at"])
        mark_organizations_changed([org.pk])
    org.refresh_from_db()
    return org


def _validate_locked(org: Organization, user: Any) -> None:
    org.profile_status = ProfileStatus.VALIDATED
    org.validated_at = timezone.now()
    org.validated_by = user
    org.save(update_fields=["profile_status", "validated_at", "validated_by", "updated_at"])


def validate_profile(*, user: Any, organization: Organization) -> Organization:
    """Staff of a cluster where the organization has a membership validate a submitted profile."""
    require_user(user)
    if not access.can_staff_organization(user, organization):
        raise PermissionDenied(_("Only the staff of one of this organization's clusters may validate it."))
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        if org.profile_status == ProfileStatus.VALIDATED:
            raise ValidationError(_("This profile is already validated."), code="invalid_state")
        _validate_locked(org, user)
        mark_organizations_changed([org.pk])
    org.refresh_from_db()
    return org


def save_opportunity(
    *, user: Any, organization: Organization, data: Mapping[str, Any], opportunity: Opportunity | None = None
) -> Opportunity:
    """Create (opportunity=None) or update one offer/need of the organization."""
    require_user(user)
    if not access.can_edit_organization(user, organization):
        raise PermissionDenied(_("You may not edit this organization."))
    if opportunity is not None and opportunity.organization_id != organization.pk:
        raise PermissionDenied(_("This offer or need belongs to another organization."))
    _check_keys(data, OPPORTUNITY_FIELDS)
    item = opportunity or Opportunity(organization=organization)
    for key, value in data.items():
        if key == "title" and isinstance(value, str):
            value = value.strip()
        elif key in {"trl", "expires_on"} and value == "":
            value = None
        elif key == "tags" and value is None:
            value = []
        elif key == "text" and value is None:
            value = ""
        setattr(item, key, value)
    _full_clean(item)
    with transaction.atomic():
        item.save()
        mark_organizations_changed([organization.pk])
    return item


def delete_opportunity(*, user: Any, opportunity: Opportunity) -> None:
    require_user(user)
    if not access.can_edit_organization(user, opportunity.organization):
        raise PermissionDenied(_("You may not edit this organization."))
    with transaction.atomic():
        org_id = opportunity.organization_id
        opportunity.delete()
        mark_organizations_changed([org_id])


def delete_organization(*, user: Any, organization: Organization) -> None:
    """Owners (or superusers) delete an organization with its offers, memberships and invitations."""
    require_user(user)
    if not access.can_delete_organization(user, organization):
        raise PermissionDenied(_("Only an owner may delete this organization."))
    with transaction.atomic():
        org_id = organization.pk
        # Sent before the row disappears so the outbox entry is written with it;
        # the follower sees the id missing from the database and deletes the document.
        organizations_changed.send(sender=Organization, organization_ids=[org_id])
        organization.delete()
