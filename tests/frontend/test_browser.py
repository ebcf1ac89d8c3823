"""One end-to-end walk in a real Chromium: sign up, confirm, create, apply, be admitted by staff with 2FA."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail

from matchmaking.models import ClusterStaff, Membership, MembershipStatus, Organization, StaffRole
from tests.fixtures.people import PASSWORD

from .conftest import activate_totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def current_totp(secret: str) -> str:
    """The code an authenticator app would show now (allauth's own algorithm).

    Near the end of a period, wait for the next one: a code read at second 29 reaches the
    server in the next period, where (tolerance 0) it is refused and the test would wait
    on the sign-in page (a CI failure seen once).
    """
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 5:
        time.sleep(period - time.time() % period + 0.1)
    counter = int(time.time()) // period
    return format_hotp_value(hotp_value(secret, counter))


def submit(page: Any) -> None:
    """Submit the page's main form (the header also has forms: language switch, sign out)."""
    page.locator("#main form button[type=submit]").first.click()


def test_sign_up_create_apply_and_be_admitted(
    browser: Any, live_server: Any, clusters: dict[str, Any], make_user: Any
) -> None:
    # Given MNC staff protected by an authenticator app
    staff = make_user("broker@mnc.example", full_name="Salma Broker")
    ClusterStaff.objects.create(user=staff, cluster=clusters["mnc"], role=StaffRole.BROKER)
    secret = activate_totp(staff)
    base = live_server.url

    applicant = browser.new_context(locale="fr-FR")
    page = applicant.new_page()

    # When a newcomer signs up
    page.goto(f"{base}/fr/accounts/signup/")
    page.fill("#id_email", "founder@sahara-labs.example")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    submit(page)
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))

    # And confirms the email with the link from the email
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/\S+/accounts/confirm-email/\S+)", str(mail.outbox[0].body))
    assert link is not None, mail.outbox[0].body
    page.goto(base + link.group(1))
    submit(page)
    page.wait_for_url(re.compile(r"/fr/$"))

    # And creates an organization
    page.goto(f"{base}/fr/organizations/new/")
    page.fill("#id_legal_name", "Sahara Labs SARL")
    page.fill("#id_acronym", "Sahara Labs")
    page.select_option("#id_kind", "startup")
    page.fill("#id_country", "MA")
    page.fill("#id_city", "Casablanca")
    page.fill("#id_ice", "001561191000066")
    page.fill("#id_description_fr", "Paiement mobile sécurisé pour l'Afrique.")
    page.fill("#id_competences", "paiement mobile, sécurité")
    page.check("input[name=visibility][value=partners]")
    submit(page)
    page.wait_for_url(re.compile(r"/fr/organizations/\d+/$"))
    org = Organization.objects.get(legal_name="Sahara Labs SARL")
    assert page.locator("h1").inner_text() == "Sahara Labs"

    # And applies to MNC
    page.click(f"a[href='/fr/organizations/{org.pk}/apply/']")
    page.select_option("#id_cluster", str(clusters["mnc"].pk))
    page.check("input[name=fee_tier][value=startup]")
    page.fill("#id_motivation", "Nous cherchons des partenaires en France.")
    submit(page)
    page.wait_for_url(re.compile(rf"/fr/organizations/{org.pk}/$"))
    assert Membership.objects.get(organization=org).status == MembershipStatus.APPLIED

    # Then an MNC broker signs in with password and TOTP code
    staff_context = browser.new_context(locale="fr-FR")
    staff_page = staff_context.new_page()
    staff_page.goto(f"{base}/fr/accounts/login/")
    staff_page.fill("#id_login", "broker@mnc.example")
    staff_page.fill("#id_password", PASSWORD)
    submit(staff_page)
    staff_page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    staff_page.fill("#id_code", current_totp(secret))
    submit(staff_page)
    staff_page.wait_for_url(re.compile(r"/fr/$"))

    # And admits the application from the queue with a board note
    staff_page.goto(f"{base}/fr/staff/")
    staff_page.click("text=Sahara Labs")
    staff_page.check("input[name=decision][value=admit]")
    staff_page.fill("#id_board_note", "Admis par le bureau du 12 mars.")
    submit(staff_page)
    staff_page.wait_for_url(re.compile(r"/fr/staff/$"))
    membership = Membership.objects.get(organization=org)
    assert membership.status == MembershipStatus.ADMITTED
    assert membership.decided_by == staff

    # Then the applicant is told by email and sees "admitted" on the profile
    assert any("founder@sahara-labs.example" in message.to for message in mail.outbox[1:])
    page.reload()
    badge = page.locator(".badge.status-admitted")
    assert "MNC" in badge.inner_text()
    page.goto(f"{base}/en/organizations/{org.pk}/")
    assert "MNC · Admitted" in page.locator(".badge.status-admitted").inner_text()

    staff_context.close()
    applicant.close()
