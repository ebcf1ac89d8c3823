"""Hostile and malformed input on every write endpoint: always a clear 4xx, never a 500, nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from matchmaking.models import Call, Membership, Opportunity, Organization
from tests.api.conftest import World, client

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    method: str
    who: str | None  # attribute of World for the acting user; None = anonymous
    path: Callable[[World], str]


WRITE_ENDPOINTS = {
    "organization-create": Endpoint("post", "outsider", lambda w: "/api/organizations/"),
    "organization-update": Endpoint("patch", "owner", lambda w: f"/api/organizations/{w.atlas.pk}/"),
    "opportunity-create": Endpoint("post", "owner", lambda w: f"/api/organizations/{w.atlas.pk}/opportunities/"),
    "opportunity-update": Endpoint(
        "patch",
        "owner",
        lambda w: f"/api/organizations/{w.atlas.pk}/opportunities/{w.atlas.opportunities.get().pk}/",
    ),
    "membership-apply": Endpoint("post", "owner", lambda w: "/api/memberships/"),
    "membership-decide": Endpoint("post", "mnc_admin", lambda w: f"/api/memberships/{w.application.pk}/decide/"),
    "membership-lapse": Endpoint(
        "post", "mnc_admin", lambda w: f"/api/memberships/{w.atlas.memberships.get().pk}/lapse/"
    ),
    "call-create": Endpoint("post", "mnc_admin", lambda w: "/api/calls/"),
    "call-update": Endpoint("patch", "mnc_admin", lambda w: f"/api/calls/{w.call.pk}/"),
    "token": Endpoint("post", None, lambda w: "/api/auth/token/"),
}

JSON = "application/json"
HUGE = b'{"legal_name": "' + b"a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}'
HOSTILE_BODIES: dict[str, tuple[bytes, str, int]] = {
    "not-json": (b"{legal_name: 'x'", JSON, 400),
    "truncated": (b'{"legal_name": "x"', JSON, 400),
    "list-not-object": (b'[{"legal_name": "x"}]', JSON, 400),
    "string-not-object": (b'"legal_name"', JSON, 400),
    "number-not-object": (b"42", JSON, 400),
    "null": (b"null", JSON, 400),
    "latin1-bytes": ('{"legal_name": "Société"}'.encode("latin-1"), JSON, 400),
    "garbage-bytes": (b"\xff\xfe\x00\x01\x80", JSON, 400),
    "lone-surrogate": (b'{"legal_name": "\\ud800"}', JSON, 400),
    "lone-surrogate-key": (b'{"\\udfff": 1}', JSON, 400),
    "raw-nul-byte": (b'{"legal_name": "a\x00b"}', JSON, 400),
    "nul-key": (b'{"\\u0000": 1}', JSON, 400),
    "nan": (b'{"legal_name": NaN, "latitude": NaN}', JSON, 400),
    "infinity": (b'{"trl": Infinity}', JSON, 400),
    "deep-nesting": (b"[" * 100_000 + b"]" * 100_000, JSON, 400),
    "moderate-nesting": (b'{"legal_name": ' + b"[" * 40 + b"]" * 40 + b"}", JSON, 400),
    "huge-integer": (b'{"trl": ' + b"9" * 5000 + b"}", JSON, 400),
    "huge-body": (HUGE, JSON, 413),
    "form-encoded": (b"legal_name=x&kind=sme", "application/x-www-form-urlencoded", 415),
    "text-plain": (b'{"legal_name": "x"}', "text/plain", 415),
    "xml": (b"<organization/>", "application/xml", 415),
}


def fingerprint(world: World) -> tuple[Any, ...]:
    """Everything a write endpoint could change."""
    world.atlas.refresh_from_db()
    world.call.refresh_from_db()
    return (
        Organization.objects.count(),
        world.atlas.version,
        world.atlas.legal_name,
        Opportunity.objects.count(),
        list(Opportunity.objects.values_list("title", "trl", "updated_at")),
        list(Membership.objects.order_by("pk").values_list("status", "board_note")),
        Call.objects.count(),
        world.call.updated_at,
        Token.objects.count(),
    )


def client_for(world: World, who: str | None) -> Any:
    """A client (typed Any: the stubs' `generic` wants text, these tests send raw bytes)."""
    api = client()
    if who is not None:
        api.force_login(getattr(world, who))
    return api


@pytest.mark.parametrize("body_name", list(HOSTILE_BODIES))
@pytest.mark.parametrize("endpoint_name", list(WRITE_ENDPOINTS))
def test_hostile_bodies_get_a_clear_4xx_and_change_nothing(world: World, endpoint_name: str, body_name: str) -> None:
    # Given an endpoint and a user allowed to use it
    endpoint = WRITE_ENDPOINTS[endpoint_name]
    body, content_type, expected = HOSTILE_BODIES[body_name]
    before = fingerprint(world)

    # When the body is hostile
    response = client_for(world, endpoint.who).generic(
        endpoint.method.upper(), endpoint.path(world), body, content_type=content_type
    )

    # Then the answer is the expected 4xx, in JSON, with a message, and nothing changed
    assert response.status_code == expected, (response.status_code, response.content[:300])
    payload = response.json()
    assert isinstance(payload, dict)
    assert payload
    assert fingerprint(world) == before


def test_messages_say_what_is_wrong(world: World) -> None:
    api = client_for(world, "outsider")

    malformed = api.generic("POST", "/api/organizations/", b"{oops", content_type=JSON).json()
    too_big = api.generic("POST", "/api/organizations/", HUGE, content_type=JSON).json()
    encoding = api.generic("POST", "/api/organizations/", b"\xff\xfe", content_type=JSON).json()
    media = api.generic("POST", "/api/organizations/", b"x=1", content_type="text/csv").json()

    assert malformed["detail"].startswith("Malformed JSON")
    assert "too large" in too_big["detail"]
    assert "UTF-8" in encoding["detail"]
    assert "text/csv" in media["detail"]


def test_errors_follow_the_requested_language(world: World) -> None:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="fr")
    api.force_login(world.outsider)

    response = api.post("/api/organizations/", {"kind": "sme", "country": "FR"}, format="json")

    assert response.json()["legal_name"] == ["Ce champ est obligatoire."]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/organizations/abc/"),
        ("get", "/api/organizations/1e3/"),
        ("get", "/api/organizations/-1/"),
        ("get", "/api/organizations/99999999999999999999999999/"),
        ("get", "/api/organizations/%F0%9F%8C%B5/"),
        ("get", "/api/organizations/abc/opportunities/"),
        ("get", "/api/organizations/{atlas}/opportunities/x/"),
        ("patch", "/api/organizations/١٢/"),
        ("post", "/api/memberships/abc/decide/"),
        ("post", "/api/memberships/00/lapse/"),
        ("get", "/api/calls/0x10/"),
        ("delete", "/api/calls/1.0/"),
    ],
)
def test_invalid_ids_in_urls_are_a_json_404(world: World, method: str, path: str) -> None:
    # {atlas}: a visible organization, so only the malformed part can cause the 404.
    path = path.format(atlas=world.atlas.pk)
    response = getattr(client_for(world, "mnc_admin"), method)(path, {}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_session_writes_need_the_csrf_token(world: World) -> None:
    api = APIClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    api.force_login(world.owner)

    response = api.patch(f"/api/organizations/{world.atlas.pk}/", {"city": "X"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_many_unknown_fields_are_named(world: World) -> None:
    api = client_for(world, "outsider")
    body = {f"field{i}": i for i in range(50)} | {"legal_name": "A", "kind": "sme", "country": "FR"}

    response = api.post("/api/organizations/", body, format="json")

    assert response.status_code == 400
    assert len(response.json()) == 50
    assert response.json()["field7"] == ["Unknown field."]


@pytest.mark.parametrize("path", ["/api/nothing-here/", "/api/organizations/1/opportunities/1/extra/"])
def test_unknown_api_urls_are_a_json_404(world: World, path: str) -> None:
    response = client_for(world, "owner").get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_unknown_page_urls_keep_the_html_404(world: World) -> None:
    response = client_for(world, "owner").get("/en/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
