"""Accounts (allauth) in the site layout, and the language switch."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from matchmaking.models import User
from tests.fixtures.people import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/fr/accounts/login/",
        "/fr/accounts/signup/",
        "/fr/accounts/password/reset/",
        "/en/accounts/login/",
    ],
)
def test_account_pages_use_the_site_layout(path: str) -> None:
    response = Client().get(path)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="site-header"' in body
    assert 'id="main"' in body
    assert "frontend/site.css" in body


@pytest.mark.parametrize("path", ["/fr/accounts/email/", "/fr/accounts/password/change/", "/fr/accounts/2fa/"])
def test_account_management_pages_use_the_site_layout(make_user: Any, path: str) -> None:
    client = Client()
    client.force_login(make_user("someone@example.org"))
    response = client.get(path)
    assert response.status_code == 200
    assert 'class="account-tabs"' in response.content.decode()


def test_totp_activation_asks_for_the_password_then_shows_the_qr_code(make_user: Any) -> None:
    # Given a signed-in person
    make_user("someone@example.org")
    client = Client()
    assert client.post("/fr/accounts/login/", {"login": "someone@example.org", "password": PASSWORD}).status_code == 302
    # When they activate an authenticator, they first confirm their password (on a site-styled page)
    response = client.get("/fr/accounts/2fa/totp/activate/")
    assert response.status_code == 302
    reauth = client.get(response["Location"])
    assert 'class="site-header"' in reauth.content.decode()
    client.post(response["Location"], {"password": PASSWORD})
    # Then the QR code is served inline (no external service)
    page = client.get("/fr/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    assert "data:image/svg+xml" in page.content.decode()


def test_signup_requires_email_verification() -> None:
    # Given a visitor who signs up
    client = Client()
    response = client.post(
        "/fr/accounts/signup/",
        {
            "email": "new@example.org",
            "password1": "a-long-test-passphrase-42",
            "password2": "a-long-test-passphrase-42",
        },
    )
    # Then they are asked to confirm their email, and cannot use member pages yet
    assert response.status_code == 302
    assert User.objects.filter(email="new@example.org").exists()
    assert len(mail.outbox) == 1
    assert client.get("/fr/organizations/").status_code == 302
    # When they follow the link from the email and confirm
    link = re.search(r"https?://[^/\s]+(/\S+)", str(mail.outbox[0].body))
    assert link is not None
    confirm_path = link.group(1)
    assert client.get(confirm_path).status_code == 200
    response = client.post(confirm_path)
    # Then they are signed in
    assert response.status_code == 302
    assert client.get("/fr/organizations/").status_code == 200


def test_french_is_the_default_language() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/fr/"
    body = Client().get("/fr/").content.decode()
    assert '<html lang="fr">' in body
    assert "Annuaire" in body


def test_english_pages_are_in_english() -> None:
    body = Client().get("/en/").content.decode()
    assert '<html lang="en">' in body
    assert "Directory" in body
    assert "Annuaire" not in body


def test_language_switch_keeps_the_current_page(clusters: Any) -> None:
    client = Client()
    body = client.get("/fr/clusters/MNC/?page=1").content.decode()
    # The switch offers the same page in English
    assert 'value="/en/clusters/MNC/?page=1"' in body
    # And switching lands there, remembering the choice
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/en/clusters/MNC/?page=1"})
    assert response.status_code == 302
    assert response["Location"] == "/en/clusters/MNC/?page=1"
    assert client.get(response["Location"]).status_code == 200


def test_language_switch_on_an_unknown_page() -> None:
    response = Client().get("/fr/nulle-part/")
    assert response.status_code == 404
    assert 'value="/en/nulle-part/"' in response.content.decode()


def test_account_pages_in_english_and_french() -> None:
    assert "Sign In" in Client().get("/en/accounts/login/").content.decode()
    assert "Connexion" in Client().get("/fr/accounts/login/").content.decode()


def test_browsing_in_english_makes_english_the_preferred_language(make_user: Any) -> None:
    # Given a French-speaking member by default
    user = make_user("reader@example.org")
    assert user.preferred_language == "fr"
    client = Client()
    client.force_login(user)
    # When they read the site in English
    client.get("/en/")
    # Then their emails will be in English too
    user.refresh_from_db()
    assert user.preferred_language == "en"


def test_sign_up_records_the_name_and_language() -> None:
    Client().post(
        "/en/accounts/signup/",
        {
            "email": "ada@example.org",
            "full_name": "Ada Lovelace",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    user = User.objects.get(email="ada@example.org")
    assert (user.full_name, user.preferred_language) == ("Ada Lovelace", "en")
