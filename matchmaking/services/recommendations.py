"""Writes behind partner recommendations: an organization's recommendation preferences."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from matchmaking import access
from matchmaking.models import OrganizationKind, RecommendationPreference
from matchmaking.validators import validate_country_code


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ValidationError(_("Expected a list."), code="invalid")
    return [str(v).strip() for v in value if str(v).strip()]


def preferences_for(organization_id: int) -> RecommendationPreference:
    """The stored preferences, or unsaved defaults (any country, any cluster, any kind)."""
    found = RecommendationPreference.objects.filter(organization_id=organization_id).first()
    return found or RecommendationPreference(organization_id=organization_id)


def save_preferences(
    user: Any, organization_id: Any, *, countries: Any = (), other_clusters_only: Any = False, kinds: Any = ()
) -> RecommendationPreference:
    """Owners and editors set how their organization's recommendations are filtered."""
    org = access.access_organization(user, organization_id)
    if not access.can_edit_organization(user, org):
        raise PermissionDenied(_("Only owners and editors may change the recommendation preferences."))
    errors: dict[str, Any] = {}
    country_codes = sorted({c.upper() for c in _list(countries)})
    for code in country_codes:
        try:
            validate_country_code(code)
        except ValidationError as exc:
            errors["countries"] = exc
    kind_codes = sorted(set(_list(kinds)))
    if any(kind not in OrganizationKind.values for kind in kind_codes):
        errors["kinds"] = ValidationError(_("Unknown kind of organization."), code="invalid")
    if errors:
        raise ValidationError(errors)
    preference, _created = RecommendationPreference.objects.update_or_create(
        organization=org,
        defaults={"countries": country_codes, "other_clusters_only": bool(other_clusters_only), "kinds": kind_codes},
    )
    return preference
