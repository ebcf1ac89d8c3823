"""GET /api/search/organizations, /calls and /suggest: parameters, facets, cursors, access, schema."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.fixtures.search import SearchWorld

pytestmark = [pytest.mark.elasticsearch, pytest.mark.django_db]

URL = "/api/search/organizations"


def as_user(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_search_returns_hits_facets_and_profile_links(shared_world: SearchWorld) -> None:
    w = shared_world
    response = as_user(w.sys_member).get(URL, {"q": "paiement mobile sécurisé"})
    assert response.status_code == 200
    body = response.json()
    assert body["hits"][0]["id"] == w.atlas.pk
    assert body["hits"][0]["url"].endswith(f"/organizations/{w.atlas.pk}/?from=search")
    assert {f["name"] for f in body["facets"]} >= {"cluster", "country", "kind", "theme", "trl", "track_record"}
    assert body["text"] == "paiement mobile sécurisé"


def test_response_has_exactly_the_documented_shape(shared_world: SearchWorld) -> None:
    from search.api.serializers import FacetSerializer, OrganizationHitSerializer, OrganizationSearchResultSerializer

    body = as_user(shared_world.superuser).get(URL, {"q": "paiement", "cluster": "MNC"}).json()
    documented = OrganizationSearchResultSerializer(data=body)
    assert documented.is_valid(), documented.errors
    assert set(body) == set(OrganizationSearchResultSerializer().fields)
    assert body["hits"]
    assert body["hits"][0]["highlights"]
    assert all(set(hit) == set(OrganizationHitSerializer().fields) for hit in body["hits"])
    assert all(set(facet) == set(FacetSerializer().fields) for facet in body["facets"])
    assert all(set(v) == {"value", "label", "count", "selected"} for f in body["facets"] for v in f["values"])
    assert body["hits"][0]["url"].startswith("/en/")


def test_filters_as_query_parameters(shared_world: SearchWorld) -> None:
    w = shared_world
    client = as_user(w.superuser)
    repeated = client.get(URL, {"cluster": ["MNC", "SYS"]}).json()
    comma = client.get(URL, {"cluster": "MNC,SYS"}).json()
    assert repeated["total"] == comma["total"] == 3
    near = client.get(URL, {"near": "casablanca", "km": "120"}).json()
    assert {hit["id"] for hit in near["hits"]} == {w.atlas.pk, w.casanet.pk}
    point = client.get(URL, {"lat": "48.11", "lon": "-1.68", "km": "200", "sort": "name"}).json()
    assert [hit["id"] for hit in point["hits"]] == [w.breizh.pk, w.photonics.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "spaceship"},
        {"trl": "10-12"},
        {"sort": "random"},
        {"size": 0},
        {"size": 1000},
        {"lat": 10},
        {"lat": 100, "lon": 0},
        {"near": "atlantis"},
        {"near": "paris", "lat": 1, "lon": 1},
        {"km": -5, "near": "paris"},
        {"page": 0},
        {"page": 600},
        {"cursor": "garbage"},
        {"page": 2, "cursor": "x"},
        {"cluster": "a b"},
        {"q": "x" * 501},
    ],
)
def test_bad_parameters_are_a_clear_400(shared_world: SearchWorld, params: dict[str, Any]) -> None:
    response = as_user(shared_world.superuser).get(URL, params)
    assert response.status_code == 400, response.content
    assert response.json()


def test_partial_matches_are_flagged(shared_world: SearchWorld) -> None:
    client = as_user(shared_world.superuser)
    partial = client.get(URL, {"q": "photonique monétique"}).json()
    assert partial["relaxed"] is True
    assert partial["total"] >= 2
    assert client.get(URL, {"q": "photonique"}).json()["relaxed"] is False


def test_cursor_pagination(shared_world: SearchWorld) -> None:
    client = as_user(shared_world.superuser)
    ids: list[int] = []
    params: dict[str, str] = {"size": "2", "sort": "name"}
    while True:
        body = client.get(URL, params).json()
        ids += [hit["id"] for hit in body["hits"]]
        if not body["next_cursor"]:
            break
        params["cursor"] = body["next_cursor"]
    assert len(ids) == len(set(ids)) == 5
    assert client.get(URL, {"size": "2", "sort": "name", "page": "3"}).json()["hits"][0]["id"] == ids[4]


def test_visibility_applies_through_the_api(shared_world: SearchWorld) -> None:
    w = shared_world
    ids = {hit["id"] for hit in as_user(w.outsider).get(URL, {"size": 100}).json()["hits"]}
    assert ids == {w.breizh.pk}


def test_anonymous_is_refused(shared_world: SearchWorld) -> None:
    for response in (
        APIClient().get(URL, {"q": "paiement"}),
        APIClient().get("/api/search/suggest", {"q": "atl"}),
        APIClient(HTTP_AUTHORIZATION="Token not-a-token").get(URL, {"q": "paiement"}),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_suggest(shared_world: SearchWorld) -> None:
    w = shared_world
    body = as_user(w.mnc_member).get("/api/search/suggest", {"q": "atla"}).json()
    assert [(s["kind"], s["organization_id"]) for s in body["suggestions"]] == [("organization", w.atlas.pk)]
    assert body["suggestions"][0]["text"] == "Atlas Paiement Mobile (ATLASPAY)"
    assert as_user(w.mnc_member).get("/api/search/suggest").status_code == 400


def test_calls(shared_world: SearchWorld) -> None:
    w = shared_world
    body = as_user(w.outsider).get("/api/search/calls", {"q": "5G", "open": "true"}).json()
    assert [hit["id"] for hit in body["hits"]] == [w.call.pk]
    assert as_user(w.outsider).get("/api/search/calls", {"programme": "bogus"}).status_code == 400


def test_engine_down_is_a_503(shared_world: SearchWorld, settings: Any) -> None:
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"
    response = as_user(shared_world.superuser).get(URL, {"q": "paiement"})
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]


def test_schema_documents_the_search_endpoints(shared_world: SearchWorld) -> None:
    schema = as_user(shared_world.superuser).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert {"/api/search/organizations", "/api/search/calls", "/api/search/suggest"} <= set(paths)
    params = {p["name"] for p in paths["/api/search/organizations"]["get"]["parameters"]}
    assert {"q", "cluster", "theme", "trl", "near", "km", "sort", "cursor", "size"} <= params
