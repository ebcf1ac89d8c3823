"""Input checks every service starts with: a signed-in actor, bounded text, ids.

Their messages are shared so that a person reads the same error whichever
service refused the input.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _


def require_user(user: Any) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("You must be signed in."))


def clean_text(value: Any, *, field: str, limit: int, required: bool = False) -> str:
    """Stripped text of at most `limit` characters; errors are keyed by `field` so forms can show them in place."""
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationError({field: ValidationError(_("This field is required."), code="required")})
    if len(text) > limit:
        raise ValidationError(
            {field: ValidationError(_("At most %(limit)d characters."), code="max_length", params={"limit": limit})}
        )
    return text


def clean_id(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: ValidationError(_("Expected an id."), code="invalid")}) from exc
