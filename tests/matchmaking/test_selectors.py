"""Selectors shared by pages and the API."""

from __future__ import annotations

import pytest
from django.http import Http404

from matchmaking import selectors
from matchmaking.models import Membership, Opportunity
from tests.matchmaking.conftest import World


def test_admission_queue_lists_own_clusters_pending_applications_oldest_first(world: World) -> None:
    queue = list(selectors.admission_queue(world.users["mnc_broker"]))
    assert [m.organization_id for m in queue] == [world.orgs["D"].pk, world.orgs["E"].pk]  # created in that order
    assert list(selectors.admission_queue(world.users["sys_broker"])) == []
    assert list(selectors.admission_queue(world.users["owner"])) == []
    assert list(selectors.admission_queue(world.users["anonymous"])) == []
    assert len(selectors.admission_queue(world.users["superuser"])) == 2


def test_organization_detail_checks_access_and_prefetches(world: World) -> None:
    Opportunity.objects.create(organization=world.orgs["A"], kind="technology_offer", title="Offre")
    org = selectors.organization_detail(user=world.users["outsider"], organization_id=world.orgs["A"].pk)
    assert [o.title for o in org.opportunities.all()] == ["Offre"]
    assert [m.cluster.code for m in org.memberships.all()] == ["MNC"]
    with pytest.raises(Http404):
        selectors.organization_detail(user=world.users["outsider"], organization_id=world.orgs["C"].pk)


def test_user_organizations_and_cluster_counts(world: World) -> None:
    roles = list(selectors.user_organizations(world.users["owner"]))
    assert [(r.organization.legal_name, r.role) for r in roles] == [("Atlas Everyone", "owner")]
    assert list(selectors.user_organizations(world.users["anonymous"])) == []
    clusters = selectors.clusters_with_counts()
    counts = {c.code: (c.member_count, c.pending_count) for c in clusters}  # type: ignore[attr-defined]
    assert counts["MNC"] == (3, 2)
    assert counts["IR"] == (3, 0)


def test_cluster_directory_respects_visibility(world: World) -> None:
    names = [
        o.legal_name for o in selectors.cluster_directory(user=world.users["sys_member"], cluster=world.clusters["mnc"])
    ]
    assert names == ["Atlas Everyone", "Bouregreg Partners"]
    assert Membership.objects.filter(cluster=world.clusters["mnc"]).count() == 7
