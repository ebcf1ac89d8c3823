"""After-commit side effects of the funnel: live notifications and emails.

Every function here runs inside a `transaction.on_commit` callback and takes
ids, so what is announced is what was committed. Live notifications go
through `messaging.services.notify_user` (the websocket `notification`
event); emails are rendered in each recipient's language. A failure to
notify one person is logged and does not stop the others: the state change
has already happened and is visible on the pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from matchmaking.models import ClusterStaff, OrganizationMember, User

logger = logging.getLogger(__name__)


def site_url() -> str:
    return str(getattr(settings, "SITE_URL", "http://127.0.0.1:8000")).rstrip("/")


def language_of(user: User) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    lang = getattr(user, "preferred_language", "") or settings.LANGUAGE_CODE
    return lang if lang in codes else settings.LANGUAGE_CODE


def page_url(name: str, language: str, **kwargs: Any) -> str:
    with translation.override(language):
        try:
            return site_url() + reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            return site_url() + f"/{language}/"


def organization_people(organization_ids: Iterable[int]) -> list[User]:
    ids = list(organization_ids)
    if not ids:
        return []
    return list(
        User.objects.filter(
            pk__in=OrganizationMember.objects.filter(organization_id__in=ids).values("user_id"), is_active=True
        ).order_by("pk")
    )


def cluster_staff(cluster_ids: Iterable[int]) -> list[User]:
    ids = list(cluster_ids)
    if not ids:
        return []
    return list(
        User.objects.filter(pk__in=ClusterStaff.objects.filter(cluster_id__in=ids).values("user_id"), is_active=True)
        .distinct()
        .order_by("pk")
    )


def notify(user: User, kind: str, payload: dict[str, Any]) -> None:
    try:
        from messaging import services as messaging_services

        messaging_services.notify_user(user_id=user.pk, kind=kind, payload=payload)
    except Exception:  # the change is committed; a lost live ping must not hide the others
        logger.exception("live notification %s to user %s failed", kind, user.pk)


def _send(messages: list[EmailMessage], kind: str | None = None) -> int:
    """Send over one connection; a mail failure is logged, not raised (the change it reports is committed)."""
    if not messages:
        return 0
    try:
        return get_connection().send_messages(messages) or 0
    except Exception:
        if kind is None:
            logger.exception("funnel emails failed")
        else:
            logger.exception("funnel emails (%s) failed", kind)
        return 0


def announce(
    users: Iterable[User],
    kind: str,
    payload_for: Callable[[User], dict[str, Any]],
    email_for: Callable[[User], tuple[str, str]] | None,
) -> int:
    """Notify each user live and (when `email_for` is given) by email, in their language. Returns emails sent."""
    messages: list[EmailMessage] = []
    prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "")
    seen: set[int] = set()
    for user in users:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        with translation.override(language_of(user)):
            notify(user, kind, payload_for(user))
            if email_for is not None and user.email:
                subject, body = email_for(user)
                messages.append(EmailMessage(f"{prefix}{subject}", body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    return _send(messages, kind)


def send_emails(users: Iterable[User], email_for: Callable[[User], tuple[str, str]]) -> int:
    """Emails only (no live notification), e.g. the daily digest, in each recipient's language."""
    messages: list[EmailMessage] = []
    prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "")
    for user in users:
        if not user.email:
            continue
        with translation.override(language_of(user)):
            subject, body = email_for(user)
        messages.append(EmailMessage(f"{prefix}{subject}", body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    return _send(messages)
