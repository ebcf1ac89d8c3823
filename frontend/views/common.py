"""Small helpers the page views share."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from matchmaking.models import Invitation


def pending_invitations(user: Any) -> QuerySet[Invitation]:
    """Open invitations sent to one of the user's verified addresses."""
    from allauth.account.models import EmailAddress

    emails = list(EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True))
    if not emails:
        return Invitation.objects.none()
    addressed = Q()
    for email in emails:
        addressed |= Q(email__iexact=email)
    return (
        Invitation.objects.filter(addressed, accepted_at__isnull=True, expires_at__gt=timezone.now())
        .exclude(organization__members__user=user)
        .select_related("organization", "invited_by")
        .distinct()
    )


def paginate(request: HttpRequest, items: Any, per_page: int = 25) -> Page:
    """A page of `items`; a bad or too-high ?page= shows the nearest page instead of an error."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def back_to_search_url(request: HttpRequest) -> str | None:
    """Where "back to search" should go when the visitor came from the search page (?from=search or referer)."""
    try:
        search_path = reverse("search")
    except NoReverseMatch:
        return None
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        parts = urlsplit(referer)
        if parts.path == search_path:
            # Keep the visitor's query and filters.
            return f"{parts.path}?{parts.query}" if parts.query else parts.path
    if request.GET.get("from") == "search":
        return search_path
    return None
