"""Template helpers of the matchmaking pages that other areas' templates include."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from matchmaking import funnel_access
from matchmaking.models import Consortium

register = template.Library()


@register.simple_tag(takes_context=True)
def consortia_to_invite_into(context: dict[str, Any], organization: Any) -> list[Consortium]:
    """Consortia the viewer steers, for calls still open, that `organization` is not already part of."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or organization is None:
        return []
    steered = [
        c
        for c in funnel_access.consortia_visible_to(user).filter(call__deadline__gt=timezone.now())
        if funnel_access.can_coordinate(user, c)
    ]
    return [
        c
        for c in steered
        if c.coordinator_id != organization.pk
        and not c.partners.filter(organization=organization, state__in=["invited", "accepted"]).exists()
    ]
