"""Who am I, and API tokens: obtain with a password, rotate with a session, revoke."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from maillage.api import TokenAuthentication
from maillage.throttling import ScopedRateThrottle
from matchmaking import access
from matchmaking.models import OrganizationMember, OrganizationRole, StaffRole
from tests.api.conftest import World, client, make_staff, make_user
from tests.fixtures.people import PASSWORD

pytestmark = pytest.mark.django_db


def test_me_lists_organizations_with_roles_and_staff_clusters(world: World, as_user: Any) -> None:
    # Given a new IR broker without an authenticator app, who is also editor of Orion
    broker = make_staff("broker@ir.test", world.ir, StaffRole.BROKER, with_totp=False)
    OrganizationMember.objects.create(user=broker, organization=world.orion, role=OrganizationRole.EDITOR)

    # When they ask who they are
    body = as_user(broker).get("/api/me/").json()

    # Then they see their organizations with roles, their staff clusters, and that staff need 2FA
    assert body["email"] == "broker@ir.test"
    assert [(o["organization"]["legal_name"], o["role"]) for o in body["organizations"]] == [
        ("Orion Systèmes", "editor")
    ]
    assert [(c["cluster"]["code"], c["role"]) for c in body["staff_clusters"]] == [("images-reseaux", "broker")]
    assert body["requires_mfa"] is True
    assert as_user(world.mnc_admin).get("/api/me/").json()["requires_mfa"] is False


def test_me_requires_authentication(anonymous: Any) -> None:
    assert anonymous.get("/api/me/").status_code == 401


def test_obtain_token_with_email_and_password_then_use_it(world: World, anonymous: Any) -> None:
    # Given a member with a verified email
    # When they post their credentials
    response = anonymous.post("/api/auth/token/", {"email": "owner@atlas.test", "password": PASSWORD}, format="json")

    # Then they get a token that authenticates API calls
    assert response.status_code == 200
    token = response.json()["token"]
    api = client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "owner@atlas.test"


def test_session_rotates_the_token_and_the_old_one_stops_working(world: World, as_user: Any) -> None:
    # Given a token already issued
    old = Token.objects.create(user=world.owner).key
    session = as_user(world.owner)

    # When the signed-in user asks for a token again
    response = session.post("/api/auth/token/", {}, format="json")

    # Then a new token replaces the old one
    assert response.status_code == 200
    new = response.json()["token"]
    assert new != old
    stale = client()
    stale.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert stale.get("/api/me/").status_code == 401
    fresh = client()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert fresh.get("/api/me/").status_code == 200


def test_delete_revokes_the_token(world: World) -> None:
    token = Token.objects.create(user=world.owner).key
    api = client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert api.delete("/api/auth/token/").status_code == 204
    assert api.get("/api/me/").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "owner@atlas.test", "password": "wrong-password"}, "non_field_errors"),
        ({"email": "nobody@example.test", "password": PASSWORD}, "non_field_errors"),
        ({"email": "owner@atlas.test"}, "password"),
        ({}, "email"),
        ({"email": ["owner@atlas.test"], "password": PASSWORD}, "email"),
        ({"email": "owner@atlas.test", "password": PASSWORD, "otp": "123456"}, "otp"),
    ],
)
def test_bad_credentials_are_a_400_without_a_token(world: World, anonymous: Any, body: Any, field: str) -> None:
    response = anonymous.post("/api/auth/token/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Token.objects.exists()


def test_unverified_email_gets_no_token(db: Any, anonymous: Any) -> None:
    make_user("new@example.test", verified=False)

    response = anonymous.post("/api/auth/token/", {"email": "new@example.test", "password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert "Confirm your email" in response.json()["non_field_errors"][0]


def test_two_factor_accounts_get_tokens_from_a_session_only(world: World, anonymous: Any, as_user: Any) -> None:
    # Given a user with a TOTP authenticator
    Authenticator.objects.create(user=world.owner, type=Authenticator.Type.TOTP, data={"secret": "x"})

    # When they try with a password alone, they are refused
    response = anonymous.post("/api/auth/token/", {"email": "owner@atlas.test", "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]

    # But their signed-in session (which passed the second factor) may get one
    assert as_user(world.owner).post("/api/auth/token/", format="json").status_code == 200


def test_staff_without_two_factor_get_no_token(world: World, as_user: Any) -> None:
    broker = make_staff("broker@ir.test", world.ir, StaffRole.BROKER, with_totp=False)

    response = as_user(broker).post("/api/auth/token/", format="json")

    assert response.status_code == 403
    assert not Token.objects.filter(user=broker).exists()


def test_password_guessing_is_throttled(world: World, anonymous: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth-token", "3/minute")
    bad = {"email": "owner@atlas.test", "password": "guess"}

    statuses = [anonymous.post("/api/auth/token/", bad, format="json").status_code for _ in range(4)]

    assert statuses == [400, 400, 400, 429]
    # Even the right password waits now.
    right = anonymous.post("/api/auth/token/", {"email": "owner@atlas.test", "password": PASSWORD}, format="json")
    assert right.status_code == 429
    assert "Retry-After" in right


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("fr", "Trop de requêtes. Réessayez dans {wait} secondes."),
        ("en", "Too many requests. Try again in {wait} seconds."),
    ],
)
def test_a_throttled_client_is_told_when_to_come_back_in_its_language(
    world: World, anonymous: Any, monkeypatch: pytest.MonkeyPatch, language: str, sentence: str
) -> None:
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth-token", "1/minute")
    bad = {"email": "owner@atlas.test", "password": "guess"}
    anonymous.post("/api/auth/token/", bad, format="json", HTTP_ACCEPT_LANGUAGE=language)

    response = anonymous.post("/api/auth/token/", bad, format="json", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 1 < wait <= 60
    assert response.json() == {"detail": sentence.format(wait=wait)}


@pytest.mark.parametrize("who", ["owner", "orion_owner", "mnc_broker", "outsider", "broker_and_editor"])
def test_a_token_reads_its_user_and_their_clusters_in_one_query(
    world: World, who: str, django_assert_num_queries: Any
) -> None:
    # Given a user with a token: a member, staff, both, or neither
    if who == "broker_and_editor":
        user = make_staff("broker@ir.test", world.ir, StaffRole.BROKER)
        OrganizationMember.objects.create(user=user, organization=world.orion, role=OrganizationRole.EDITOR)
    else:
        user = getattr(world, who)
    key = Token.objects.create(user=user).key
    expected = (access.member_cluster_ids(user), access.staff_cluster_ids(user))

    # When the API authenticates the token
    with django_assert_num_queries(1):
        authenticated, auth = TokenAuthentication().authenticate_credentials(key)

    # Then the one query gave the user and their clusters, which the searches then ask for
    assert (authenticated.pk, authenticated.email, auth) == (user.pk, user.email, key)
    assert authenticated.date_joined == user.date_joined
    with django_assert_num_queries(0):
        assert access.member_and_staff_cluster_ids(authenticated) == expected


def test_unknown_tokens_and_inactive_users_are_refused(world: World) -> None:
    key = Token.objects.create(user=world.member).key
    world.member.is_active = False
    world.member.save(update_fields=["is_active"])

    for token in (key, "0" * 40, "é'; --"):
        with pytest.raises(AuthenticationFailed):
            TokenAuthentication().authenticate_credentials(token)
