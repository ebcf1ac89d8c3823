"""Offers and needs, nested under their organization."""

from __future__ import annotations

from typing import Any

import pytest

from matchmaking.models import Opportunity
from tests.api.conftest import World

pytestmark = pytest.mark.django_db


def url(world: World, pk: int | None = None) -> str:
    base = f"/api/organizations/{world.atlas.pk}/opportunities/"
    return f"{base}{pk}/" if pk else base


def test_viewers_list_and_read_offers_and_needs(world: World, as_user: Any) -> None:
    client = as_user(world.orion_owner)

    listing = client.get(url(world))
    [row] = listing.json()["results"]
    detail = client.get(url(world, row["id"]))

    assert listing.status_code == 200
    assert row["title"] == "Edge AI"
    assert row["is_offer"] is True
    assert detail.json()["tags"] == ["ai"]


def test_outsider_gets_404_for_an_invisible_organizations_offers(world: World, as_user: Any) -> None:
    assert as_user(world.outsider).get(f"/api/organizations/{world.hidden.pk}/opportunities/").status_code == 404


def test_editor_publishes_changes_and_deletes_a_need(world: World, as_user: Any) -> None:
    client = as_user(world.editor)

    created = client.post(
        url(world),
        {"kind": "rd_partner_search", "title": "Partenaire 5G", "trl": 4, "tags": ["5G"], "expires_on": "2027-01-31"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["is_offer"] is False

    changed = client.patch(url(world, pk), {"trl": 6}, format="json")
    assert changed.status_code == 200
    assert changed.json()["trl"] == 6

    assert client.delete(url(world, pk)).status_code == 204
    assert not Opportunity.objects.filter(pk=pk).exists()


def test_member_cannot_publish_403(world: World, as_user: Any) -> None:
    response = as_user(world.member).post(url(world), {"kind": "business_offer", "title": "X"}, format="json")

    assert response.status_code == 403
    assert world.atlas.opportunities.count() == 1


def test_opportunity_of_another_organization_is_404(world: World, as_user: Any) -> None:
    other = Opportunity.objects.create(organization=world.orion, kind="business_offer", title="Orion offer")

    assert as_user(world.owner).get(url(world, other.pk)).status_code == 404
    assert as_user(world.owner).patch(url(world, other.pk), {"title": "Hijack"}, format="json").status_code == 404
    other.refresh_from_db()
    assert other.title == "Orion offer"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "gift", "title": "X"}, "kind"),
        ({"kind": "business_offer"}, "title"),
        ({"kind": "business_offer", "title": "X", "trl": 12}, "trl"),
        ({"kind": "business_offer", "title": "X", "trl": "4"}, "trl"),
        ({"kind": "business_offer", "title": "X", "trl": 4.5}, "trl"),
        ({"kind": "business_offer", "title": "X", "tags": "ai"}, "tags"),
        ({"kind": "business_offer", "title": "X", "tags": [{"a": 1}]}, "tags"),
        ({"kind": "business_offer", "title": "X", "expires_on": "31/01/2027"}, "expires_on"),
        ({"kind": "business_offer", "title": "X", "expires_on": 20270131}, "expires_on"),
        ({"kind": "business_offer", "title": "x" * 201}, "title"),
        ({"kind": "business_offer", "title": "X", "organization": 1}, None),
    ],
)
def test_invalid_offer_fields(world: World, as_user: Any, body: Any, field: str | None) -> None:
    response = as_user(world.owner).post(url(world), body, format="json")

    if field is None:  # read-only: ignored, the offer belongs to the URL's organization
        assert response.status_code == 201
        assert response.json()["organization"] == world.atlas.pk
    else:
        assert response.status_code == 400
        assert field in response.json()
        assert world.atlas.opportunities.count() == 1
