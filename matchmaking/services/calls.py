"""Writes on calls for projects: create, update, delete.

Only administrators among the staff of the publishing cluster (or
superusers) change a call. The eligibility rules are data that
`matchmaking.eligibility` evaluates later, so they are checked here for
consistency once, at write time: a call whose rules no consortium could meet
is refused instead of stored. Every change sends
`matchmaking.signals.calls_changed` inside the transaction (the search app
records it durably there and flushes after commit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from matchmaking import access
from matchmaking.models import Call, Cluster, OrganizationKind, StaffRole
from matchmaking.services.common import require_user
from matchmaking.services.organizations import _check_keys, _full_clean
from matchmaking.signals import calls_changed
from matchmaking.validators import validate_country_code

CALL_FIELDS = frozenset(
    {
        "programme",
        "topic_code",
        "title",
        "text",
        "opens_on",
        "deadline",
        "min_partners",
        "min_countries",
        "allowed_countries",
        "required_kinds",
    }
)
# The publisher is chosen once: moving a call to another cluster would hand it
# to staff who never published it.
CREATE_FIELDS = CALL_FIELDS | {"published_by"}


def can_manage_calls(user: Any, cluster: Cluster | int | None) -> bool:
    """Administrators of the publishing cluster; superusers for every call, including unpublished ones."""
    if getattr(user, "is_superuser", False) and getattr(user, "is_authenticated", False):
        return True
    return cluster is not None and access.is_cluster_staff(user, cluster, role=StaffRole.ADMIN)


def _code_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValidationError({field: _("Expected a list of codes.")}, code="invalid_type")
    return list(dict.fromkeys(item.strip() for item in value))


def _allowed_countries(value: Any) -> list[str]:
    codes = list(dict.fromkeys(code.upper() for code in _code_list(value, "allowed_countries")))
    bad = []
    for code in codes:
        try:
            validate_country_code(code)
        except ValidationError:
            bad.append(code)
    if bad:
        raise ValidationError(
            {"allowed_countries": _("Not two-letter country codes: %(codes)s.") % {"codes": ", ".join(bad)}},
            code="invalid_country",
        )
    return codes


def _required_kinds(value: Any) -> list[str]:
    kinds = _code_list(value, "required_kinds")
    bad = [kind for kind in kinds if kind not in OrganizationKind.values]
    if bad:
        raise ValidationError(
            {
                "required_kinds": _("Unknown organization kinds: %(kinds)s (allowed: %(allowed)s).")
                % {"kinds": ", ".join(bad), "allowed": ", ".join(OrganizationKind.values)}
            },
            code="invalid_choice",
        )
    return kinds


def _apply(call: Call, data: Mapping[str, Any]) -> None:
    errors: dict[str, list[ValidationError]] = {}
    for key, value in data.items():
        try:
            if key == "allowed_countries":
                value = _allowed_countries(value)
            elif key == "required_kinds":
                value = _required_kinds(value)
            elif key in {"topic_code", "title"} and isinstance(value, str):
                value = value.strip()
            elif key == "text" and value is None:
                value = ""
            elif key == "published_by" and value is not None and not isinstance(value, Cluster):
                value = _cluster(value)
            setattr(call, key, value)
        except ValidationError as exc:
            by_field = exc.error_dict if hasattr(exc, "error_dict") else {key: exc.error_list}
            for field, field_errors in by_field.items():
                errors.setdefault(field, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)


def _cluster(value: Any) -> Cluster:
    try:
        return Cluster.objects.get(pk=int(value))
    except (Cluster.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise ValidationError({"published_by": _("No such cluster.")}, code="invalid") from exc


def _check_rules(call: Call) -> None:
    """Cross-field consistency: rules no consortium could meet, dates in the wrong order."""
    errors: dict[str, str] = {}
    if call.min_partners is not None and call.min_countries is not None and call.min_countries > call.min_partners:
        errors["min_countries"] = _("Cannot exceed the minimum number of partners (%(n)d).") % {"n": call.min_partners}
    elif call.allowed_countries and call.min_countries is not None and call.min_countries > len(call.allowed_countries):
        errors["min_countries"] = _("Cannot exceed the number of eligible countries (%(n)d).") % {
            "n": len(call.allowed_countries)
        }
    if call.opens_on and call.deadline and timezone.localtime(call.deadline).date() < call.opens_on:
        errors["deadline"] = _("The deadline cannot come before the opening date.")
    if errors:
        raise ValidationError(errors)


def _save(call: Call) -> None:
    try:
        with transaction.atomic():
            call.save()
    except IntegrityError as exc:  # a concurrent writer took the topic code
        raise ValidationError({"topic_code": _("A call with this topic code already exists.")}, code="unique") from exc


def create_call(*, user: Any, data: Mapping[str, Any]) -> Call:
    """Publish a call; `data["published_by"]` is the cluster (or its id) the user administers."""
    require_user(user)
    _check_keys(data, CREATE_FIELDS)
    call = Call()
    _apply(call, data)
    if not can_manage_calls(user, call.published_by):
        raise PermissionDenied(_("Only administrators of the publishing cluster may publish calls."))
    _full_clean(call)
    _check_rules(call)
    with transaction.atomic():
        _save(call)
        calls_changed.send(sender=Call, call_ids=[call.pk])
    return call


def update_call(*, user: Any, call: Call, data: Mapping[str, Any]) -> Call:
    require_user(user)
    if not can_manage_calls(user, call.published_by_id):
        raise PermissionDenied(_("Only administrators of the publishing cluster may change this call."))
    _check_keys(data, CALL_FIELDS)
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        _apply(locked, data)
        _full_clean(locked)
        _check_rules(locked)
        _save(locked)
        calls_changed.send(sender=Call, call_ids=[locked.pk])
    locked.refresh_from_db()
    return locked


def delete_call(*, user: Any, call: Call) -> None:
    require_user(user)
    if not can_manage_calls(user, call.published_by_id):
        raise PermissionDenied(_("Only administrators of the publishing cluster may delete this call."))
    with transaction.atomic():
        # Sent before the row disappears so the outbox entry is written with it.
        calls_changed.send(sender=Call, call_ids=[call.pk])
        call.delete()
