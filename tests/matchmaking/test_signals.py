"""Every service that changes indexed data announces exactly the organizations it changed, and bumps their version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from matchmaking.models import Membership, Opportunity, Organization
from matchmaking.services import membership, organizations
from tests.matchmaking.conftest import World


def _opportunity(world: World) -> Opportunity:
    return Opportunity.objects.create(organization=world.orgs["A"], kind="business_offer", title="Offre")


CASES: dict[str, tuple[str, Callable[[World], Any]]] = {
    "update_organization": (
        "A",
        lambda w: organizations.update_organization(
            user=w.users["owner"], organization=w.orgs["A"], data={"city": "X"}
        ),
    ),
    "save_opportunity": (
        "A",
        lambda w: organizations.save_opportunity(
            user=w.users["owner"], organization=w.orgs["A"], data={"kind": "business_offer", "title": "T"}
        ),
    ),
    "delete_opportunity": (
        "A",
        lambda w: organizations.delete_opportunity(user=w.users["owner"], opportunity=_opportunity(w)),
    ),
    "validate_profile": (
        "E",
        lambda w: organizations.validate_profile(user=w.users["mnc_broker"], organization=w.orgs["E"]),
    ),
    "apply_to_cluster": (
        "A",
        lambda w: membership.apply_to_cluster(
            user=w.users["owner"], organization=w.orgs["A"], cluster=w.clusters["sys"], fee_tier="sme"
        ),
    ),
    "decide_membership": (
        "E",
        lambda w: membership.decide_membership(
            user=w.users["mnc_broker"],
            membership=Membership.objects.get(organization=w.orgs["E"]),
            admit=True,
            board_note="",
        ),
    ),
    "lapse_membership": (
        "A",
        lambda w: membership.lapse_membership(
            user=w.users["mnc_broker"], membership=Membership.objects.get(organization=w.orgs["A"])
        ),
    ),
}


@pytest.mark.parametrize("service", sorted(CASES))
def test_service_announces_the_changed_organization(world: World, org_signals: Any, service: str) -> None:
    key, call = CASES[service]
    org = world.orgs[key]
    before = Organization.objects.get(pk=org.pk).version
    call(world)
    assert [ids for ids, _inside in org_signals.calls] == [[org.pk]]
    assert Organization.objects.get(pk=org.pk).version == before + 1


def test_refused_calls_announce_nothing(world: World, org_signals: Any) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        organizations.update_organization(user=world.users["member"], organization=world.orgs["A"], data={"city": "X"})
    assert org_signals.calls == []
