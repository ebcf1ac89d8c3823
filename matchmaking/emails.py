"""Emails of the matchmaking domain, each rendered in its recipient's language.

Called from `transaction.on_commit` callbacks with ids (never instances), so
a rolled-back decision sends nothing and the email reflects committed data.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from matchmaking.models import ClusterStaff, Invitation, Membership, OrganizationMember, OrganizationRole, User

logger = logging.getLogger(__name__)


def _site_url() -> str:
    return str(getattr(settings, "SITE_URL", "http://127.0.0.1:8000")).rstrip("/")


def _language(user: User | None) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    lang = getattr(user, "preferred_language", "") or settings.LANGUAGE_CODE
    return lang if lang in codes else settings.LANGUAGE_CODE


def _send(template: str, context: dict[str, object], to: str, language: str) -> None:
    with translation.override(language):
        subject = render_to_string(f"matchmaking/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"matchmaking/email/{template}_body.txt", context)
    prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "")
    send_mail(f"{prefix}{subject}", body, settings.DEFAULT_FROM_EMAIL, [to])


def _send_safely(template: str, context: dict[str, object], to: str, language: str) -> bool:
    """Send, logging failures: these run after commit, where raising would turn a done decision into a 500."""
    try:
        _send(template, context, to, language)
    except Exception:
        logger.exception("could not send the %s email to %s", template, to)
        return False
    return True


def _page_url(name: str, language: str, **kwargs: object) -> str:
    """Absolute URL of a page in the recipient's language (pages live under /fr/ and /en/)."""
    with translation.override(language):
        return f"{_site_url()}{reverse(name, kwargs=kwargs)}"


def send_membership_decision(membership_id: int) -> int:
    """Tell the organization's owners and editors what the board decided. Returns the number of emails."""
    membership = Membership.objects.select_related("organization", "cluster").filter(pk=membership_id).first()
    if membership is None:
        return 0
    recipients = (
        OrganizationMember.objects.filter(
            organization_id=membership.organization_id, role__in=[OrganizationRole.OWNER, OrganizationRole.EDITOR]
        )
        .select_related("user")
        .order_by("pk")
    )
    sent = 0
    for member in recipients:
        if not member.user.is_active:
            continue
        context = {
            "membership": membership,
            "organization": membership.organization,
            "cluster": membership.cluster,
            "admitted": membership.status == "admitted",
            "user": member.user,
            "site_url": _site_url(),
        }
        sent += _send_safely("membership_decision", context, member.user.email, _language(member.user))
    logger.info("membership %s decision emailed to %d people", membership_id, sent)
    return sent


def send_application_received(membership_id: int) -> int:
    """Tell the cluster's staff that an application waits in their admission queue."""
    membership = Membership.objects.select_related("organization", "cluster").filter(pk=membership_id).first()
    if membership is None or membership.status != "applied":
        return 0
    staff = ClusterStaff.objects.filter(cluster_id=membership.cluster_id, user__is_active=True).select_related("user")
    sent = 0
    for member in staff.order_by("pk"):
        language = _language(member.user)
        context = {
            "membership": membership,
            "organization": membership.organization,
            "cluster": membership.cluster,
            "user": member.user,
            "review_url": _page_url("staff_membership", language, pk=membership.pk),
            "site_url": _site_url(),
        }
        sent += _send_safely("application_received", context, member.user.email, language)
    return sent


def send_invitation(invitation_id: int) -> int:
    invitation = Invitation.objects.select_related("organization", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_open:
        return 0
    language = _language(invitation.invited_by)
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "inviter": invitation.invited_by,
        "accept_url": _page_url("invitation_accept", language, token=invitation.token),
        "site_url": _site_url(),
    }
    return int(_send_safely("invitation", context, invitation.email, language))
