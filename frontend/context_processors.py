"""Values every page template needs: navigation state and the language switch."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse, translate_url
from django.utils.translation import get_language

from matchmaking import access


def _optional_url(name: str) -> str | None:
    """The URL of a page another area may not have shipped yet (e.g. search)."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _language_urls(request: HttpRequest) -> list[dict[str, Any]]:
    """The current page in every language, so switching keeps the reader where they are."""
    current = request.get_full_path()
    active = get_language() or settings.LANGUAGE_CODE
    prefix = f"/{active}/"
    languages = []
    for code, name in settings.LANGUAGES:
        url = translate_url(current, code)
        if url == current and code != active:
            # Unresolvable path (a 404 page): swap the prefix by hand.
            url = f"/{code}/{current[len(prefix) :]}" if current.startswith(prefix) else f"/{code}/"
        languages.append({"code": code, "name": str(name), "url": url, "current": code == active})
    return languages


# Which main-navigation entry a page belongs to, by URL name prefix (aria-current).
_SECTIONS = (
    ("search", "search"),
    ("cluster", "directory"),
    ("call", "calls"),
    ("staff", "staff"),
    ("organization", "mine"),
    ("my_organizations", "mine"),
    ("invitation", "mine"),
    ("opportunity", "mine"),
    ("member_", "mine"),
    ("account_login", "login"),
)


def _active_section(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.namespace == "messaging":
        return "messages"
    if match.namespace:
        # Other areas' namespaced pages mark their own entries.
        return ""
    name = match.url_name or ""
    for prefix, section in _SECTIONS:
        if name.startswith(prefix):
            return section
    return ""


def _live(user: Any) -> dict[str, Any]:
    """Unread counts for the nav badges and the config of live.js (signed-in users only)."""
    if user is None or not user.is_authenticated:
        return {}
    from django.utils.translation import gettext as _

    from messaging import selectors as messaging

    return {
        "nav_unread_messages": messaging.unread_total(user.pk),
        "nav_unread_notifications": messaging.unread_notification_count(user.pk),
        "nav_live_config": {
            "path": "/ws/",
            "user": user.pk,
            "strings": {
                "notification": _("New notification"),
                "reconnecting": _("Connection lost, reconnecting…"),
                "reconnected": _("Back online."),
            },
        },
    }


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    is_staff = bool(user is not None and user.is_authenticated and access.staff_cluster_ids(user))
    return {
        **_live(user),
        "nav_search_url": _optional_url("search"),
        "nav_messages_url": _optional_url("messaging:inbox") or _optional_url("messages"),
        "nav_is_cluster_staff": is_staff,
        "nav_active": _active_section(request),
        "language_urls": _language_urls(request),
    }
