"""Calls: everyone signed in reads them; administrators of the publishing cluster write them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from matchmaking.models import Call, Programme
from matchmaking.signals import calls_changed
from tests.api.conftest import World

pytestmark = pytest.mark.django_db


def new_call(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "programme": "horizon_europe",
        "topic_code": "HORIZON-CL4-2027-DIGITAL-01",
        "title": "Edge computing across the Mediterranean",
        "opens_on": str(timezone.localdate()),
        "deadline": (timezone.now() + timedelta(days=90)).isoformat(),
        "published_by": world.mnc.pk,
        "min_partners": 3,
        "min_countries": 2,
        "allowed_countries": ["fr", "MA", "ES"],
        "required_kinds": ["sme", "university"],
        **overrides,
    }


@pytest.fixture
def closed_call(world: World) -> Call:
    return Call.objects.create(
        programme=Programme.HORIZON_EUROPE,
        topic_code="HORIZON-OLD",
        title="Closed",
        opens_on=timezone.localdate() - timedelta(days=100),
        deadline=timezone.now() - timedelta(days=1),
    )


def test_list_and_filter_calls(world: World, closed_call: Call, as_user: Any) -> None:
    client = as_user(world.outsider)

    def topics(query: str = "") -> list[str]:
        response = client.get(f"/api/calls/{query}")
        assert response.status_code == 200
        return [c["topic_code"] for c in response.json()["results"]]

    assert topics() == ["HORIZON-OLD", "MNC-2026-IOT"]
    assert topics("?open=true") == ["MNC-2026-IOT"]
    assert topics("?open=false") == ["HORIZON-OLD"]
    assert topics("?programme=horizon_europe") == ["HORIZON-OLD"]
    assert topics(f"?cluster={world.mnc.pk}") == ["MNC-2026-IOT"]
    assert topics("?ordering=-deadline") == ["MNC-2026-IOT", "HORIZON-OLD"]
    assert client.get("/api/calls/?open=maybe").status_code == 400


def test_retrieve_call(world: World, as_user: Any) -> None:
    body = as_user(world.outsider).get(f"/api/calls/{world.call.pk}/").json()

    assert body["is_open"] is True
    assert body["published_by"]["code"] == "MNC"


def test_cluster_admin_publishes_a_call_and_followers_are_told(world: World, as_user: Any) -> None:
    received: list[list[int]] = []

    def receiver(sender: Any, call_ids: list[int], **kwargs: Any) -> None:
        received.append(call_ids)

    calls_changed.connect(receiver)
    try:
        response = as_user(world.mnc_admin).post("/api/calls/", new_call(world), format="json")
    finally:
        calls_changed.disconnect(receiver)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["allowed_countries"] == ["FR", "MA", "ES"]
    assert body["published_by"]["code"] == "MNC"
    assert received == [[body["id"]]]


@pytest.mark.parametrize("who", ["mnc_broker", "ir_admin", "owner"])
def test_only_admins_of_the_publishing_cluster_publish(world: World, as_user: Any, who: str) -> None:
    response = as_user(getattr(world, who)).post("/api/calls/", new_call(world), format="json")

    assert response.status_code == 403
    assert not Call.objects.filter(topic_code="HORIZON-CL4-2027-DIGITAL-01").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"min_countries": 4}, "min_countries"),  # more countries than partners
        ({"min_partners": 5, "min_countries": 4}, "min_countries"),  # more countries than allowed ones
        ({"allowed_countries": ["France"]}, "allowed_countries"),
        ({"allowed_countries": ["F1"]}, "allowed_countries"),
        ({"allowed_countries": "FR"}, "allowed_countries"),
        ({"required_kinds": ["unicorn"]}, "required_kinds"),
        ({"required_kinds": "sme"}, "required_kinds"),
        ({"min_partners": 0}, "min_partners"),
        ({"min_partners": "3"}, "min_partners"),
        ({"deadline": "2000-01-01T00:00:00Z"}, "deadline"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"opens_on": None}, "opens_on"),
        ({"topic_code": "MNC-2026-IOT"}, "topic_code"),  # taken
        ({"programme": "erasmus"}, "programme"),
        ({"published_by": 999999}, "published_by"),
        ({"published_by": "MNC"}, "published_by"),
    ],
)
def test_inconsistent_rules_are_refused(world: World, as_user: Any, overrides: Any, field: str) -> None:
    before = Call.objects.count()

    response = as_user(world.mnc_admin).post("/api/calls/", new_call(world, **overrides), format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert Call.objects.count() == before


def test_admin_updates_and_deletes_a_call(world: World, as_user: Any) -> None:
    client = as_user(world.mnc_admin)

    changed = client.patch(f"/api/calls/{world.call.pk}/", {"min_partners": 3, "title": "IoT 2026"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["title"] == "IoT 2026"

    refused = client.patch(f"/api/calls/{world.call.pk}/", {"min_partners": 1, "min_countries": 2}, format="json")
    assert refused.status_code == 400
    assert "min_countries" in refused.json()

    # The publisher is read-only once published: sent back, it is ignored.
    moved = client.patch(f"/api/calls/{world.call.pk}/", {"published_by": world.ir.pk}, format="json")
    assert moved.status_code == 200
    assert moved.json()["published_by"]["code"] == "MNC"

    assert client.delete(f"/api/calls/{world.call.pk}/").status_code == 204
    assert not Call.objects.filter(pk=world.call.pk).exists()


def test_broker_cannot_change_a_call(world: World, as_user: Any) -> None:
    response = as_user(world.mnc_broker).patch(f"/api/calls/{world.call.pk}/", {"title": "X"}, format="json")

    assert response.status_code == 403
