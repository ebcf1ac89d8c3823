"""The funnel's API: anonymity in payloads, clear 4xx on bad input, access, eligibility, schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from matchmaking.services import introductions
from tests.fixtures import funnel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def w() -> dict[str, Any]:
    mnc = funnel.cluster("MNC", "MA")
    sys = funnel.cluster("SYS", "FR")
    funnel.agreement(mnc, sys)
    atlas, atlas_people = funnel.organization("Atlas Pay", mnc, country="MA")
    seine, seine_people = funnel.organization("Seine Secure", sys, country="FR")
    return {
        "atlas": atlas,
        "atlas_user": atlas_people[0],
        "seine": seine,
        "seine_user": seine_people[0],
        "outsider": funnel.user(),
        "call": funnel.call(min_partners=2, min_countries=2),
    }


def api(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def test_create_and_read_an_anonymous_request(w: dict[str, Any]) -> None:
    body = {
        "requester": w["atlas"].pk,
        "target": w["seine"].pk,
        "purpose": "commercial",
        "message": "Hi",
        "anonymous": True,
    }
    created = api(w["atlas_user"]).post("/api/introductions/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["requester"]["name"] == "Atlas Pay"  # the requester sees itself
    seen = api(w["seine_user"]).get(f"/api/introductions/{created.json()['id']}/").json()
    assert seen["requester"] == {
        "id": None,
        "name": "an organization from Morocco, SME",
        "country": "MA",
        "kind": "sme",
        "anonymous": True,
    }
    assert "Atlas" not in str(api(w["seine_user"]).get("/api/introductions/?box=received").json())
    accepted = api(w["seine_user"]).post(f"/api/introductions/{seen['id']}/accept/", {}, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["requester"]["name"] == "Atlas Pay"
    assert accepted.json()["conversation_id"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"requester": "x", "target": 1, "purpose": "commercial", "message": "Hi"},
        {"requester": 1, "target": 2, "purpose": "spam", "message": "Hi"},
        {"requester": 1, "target": 2, "purpose": "other", "message": "x" * 5000},
    ],
)
def test_bad_input_is_a_400(w: dict[str, Any], body: dict[str, Any]) -> None:
    assert api(w["atlas_user"]).post("/api/introductions/", body, format="json").status_code == 400


def test_access_rules(w: dict[str, Any]) -> None:
    intro = introductions.request_introduction(
        w["atlas_user"], requester_id=w["atlas"].pk, target_id=w["seine"].pk, purpose="other", message="Hi"
    )
    assert api(w["outsider"]).get(f"/api/introductions/{intro.pk}/").status_code == 404
    assert api(w["atlas_user"]).post(f"/api/introductions/{intro.pk}/accept/", {}, format="json").status_code == 403
    assert api(w["seine_user"]).post(f"/api/introductions/{intro.pk}/nonsense/", {}, format="json").status_code == 404
    assert APIClient().get("/api/introductions/").status_code in (401, 403)
    # decline without a reason is refused clearly
    response = api(w["seine_user"]).post(f"/api/introductions/{intro.pk}/decline/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()


def test_consortium_flow_and_eligibility(w: dict[str, Any]) -> None:
    client = api(w["atlas_user"])
    created = client.post(
        "/api/consortia/", {"call": w["call"].pk, "coordinator": w["atlas"].pk, "name": "Pay"}, format="json"
    )
    assert created.status_code == 201
    cid = created.json()["id"]
    assert created.json()["eligibility"]["eligible"] is False
    invited = client.post(f"/api/consortia/{cid}/invitations/", {"organization": w["seine"].pk}, format="json")
    assert invited.status_code == 201
    answer = api(w["seine_user"]).post(
        f"/api/consortium-invitations/{invited.json()['id']}/answer/", {"accept": True}, format="json"
    )
    assert answer.status_code == 200
    eligibility = client.get(f"/api/consortia/{cid}/eligibility/").json()
    assert eligibility["eligible"] is True
    assert api(w["outsider"]).get(f"/api/consortia/{cid}/").status_code == 404
    role = client.post(f"/api/consortia/{cid}/roles/", {"title": "Lab", "kind": "pirate"}, format="json")
    assert role.status_code == 400


def test_saved_searches_are_private(w: dict[str, Any]) -> None:
    created = api(w["atlas_user"]).post(
        "/api/saved-searches/",
        {"name": "Cyber", "query": "cybersecurity", "filters": {"country": ["FR"]}},
        format="json",
    )
    assert created.status_code == 201
    assert api(w["outsider"]).get("/api/saved-searches/").json() == []
    assert api(w["outsider"]).delete(f"/api/saved-searches/{created.json()['id']}/").status_code == 404
    assert api(w["atlas_user"]).delete(f"/api/saved-searches/{created.json()['id']}/").status_code == 204


def test_schema_documents_the_funnel(w: dict[str, Any]) -> None:
    schema = api(w["atlas_user"]).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/recommendations/", "/api/introductions/", "/api/consortia/{id}/eligibility/"):
        assert path in schema["paths"]
