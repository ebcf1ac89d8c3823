"""Clusters: public to every signed-in user, with their themes and agreements."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World

pytestmark = pytest.mark.django_db


def test_list_clusters_with_themes_and_agreements(world: World, as_user: Any) -> None:
    # Given any signed-in user
    client = as_user(world.outsider)

    # When they list clusters
    response = client.get("/api/clusters/")

    # Then every cluster is there, paginated, with its themes and agreements seen from its side
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    mnc = next(c for c in body["results"] if c["code"] == "MNC")
    assert mnc["member_count"] == 1
    assert mnc["themes"] == [
        {
            "code": "cyber",
            "label": "Cybersécurité",
            "shared_theme": {"code": "cybersecurity", "label_fr": "Cybersécurité", "label_en": "Cybersecurity"},
        }
    ]
    [agreement] = mnc["agreements"]
    assert agreement["partner"]["code"] == "systematic"
    assert agreement["active"] is True
    assert agreement["our_members_see_partner"] is True
    systematic = next(c for c in body["results"] if c["code"] == "systematic")
    assert systematic["agreements"][0]["partner"]["code"] == "MNC"


def test_retrieve_cluster(world: World, as_user: Any) -> None:
    response = as_user(world.outsider).get(f"/api/clusters/{world.ir.pk}/")

    assert response.status_code == 200
    assert response.json()["name"] == "Images & Réseaux"


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", "99999999999999999999999", "%00", "١"])
def test_bad_or_unknown_cluster_id_is_a_json_404(world: World, as_user: Any, bad_id: str) -> None:
    response = as_user(world.outsider).get(f"/api/clusters/{bad_id}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_anonymous_gets_401_with_a_token_challenge(world: World, anonymous: Any) -> None:
    response = anonymous.get("/api/clusters/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_clusters_are_read_only(world: World, as_user: Any) -> None:
    response = as_user(world.mnc_admin).post("/api/clusters/", {"code": "X"}, format="json")

    assert response.status_code == 405
