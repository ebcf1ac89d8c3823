"""A world for the matchmaking domain tests: four clusters, people in every role, organizations in every state.

Written directly with the ORM: this is the *given* of each test; the services
and access rules are what the tests exercise.

Clusters: MNC, SYS and IR as in the demo (agreements MNC–SYS and MNC–IR, both
directions), and OTH, a cluster without any agreement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from matchmaking.models import (
    Cluster,
    ClusterAgreement,
    ClusterStaff,
    MembershipStatus,
    Organization,
    OrganizationRole,
    ProfileStatus,
    StaffRole,
    User,
    Visibility,
)
from matchmaking.taxonomy import ensure_taxonomy
from tests.fixtures import people as shared
from tests.fixtures.people import PASSWORD


@pytest.fixture(autouse=True)
def _isolated_search_index(settings: Any) -> None:
    """Index flushes triggered by on-commit callbacks must never touch a developer's real indexes."""
    settings.ELASTICSEARCH_INDEX_PREFIX = "test-matchmaking-domain"


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    return shared.make_user


def make_org(
    name: str,
    *,
    people: dict[User, str] | None = None,
    memberships: dict[Cluster, str] | None = None,
    status: str = ProfileStatus.VALIDATED,
    visibility: str = Visibility.PARTNERS,
    **fields: Any,
) -> Organization:
    fields.setdefault("description_fr", f"{name} : démo.")
    return shared.make_org(name, people=people, memberships=memberships, status=status, visibility=visibility, **fields)


@dataclass
class World:
    clusters: dict[str, Cluster]
    users: dict[str, Any]
    orgs: dict[str, Organization]
    agreements: dict[str, ClusterAgreement] = field(default_factory=dict)


@pytest.fixture
def world(db: Any, make_user: Callable[..., User]) -> World:
    ensure_taxonomy()
    mnc = Cluster.objects.create(code="MNC", name="Maroc Numeric Cluster", country="MA")
    sys_ = Cluster.objects.create(code="SYS", name="Systematic Paris-Region", country="FR")
    ir = Cluster.objects.create(code="IR", name="Images & Réseaux", country="FR")
    oth = Cluster.objects.create(code="OTH", name="Other cluster", country="BE")
    agreements = {
        "mnc-sys": ClusterAgreement.objects.create(cluster_a=mnc, cluster_b=sys_, since=date(2011, 7, 1)),
        "mnc-ir": ClusterAgreement.objects.create(cluster_a=ir, cluster_b=mnc, since=date(2013, 6, 1)),
    }
    u: dict[str, Any] = {
        "owner": make_user("owner@atlas.example", full_name="Owner"),
        "editor": make_user("editor@atlas.example", preferred_language="en"),
        "member": make_user("member@atlas.example"),
        "mnc_broker": make_user("broker@mnc.example"),
        "mnc_admin": make_user("admin@mnc.example"),
        "sys_broker": make_user("broker@sys.example"),
        "sys_member": make_user("owner@orion.example"),
        "ir_member": make_user("owner@breizh.example"),
        "oth_member": make_user("owner@oth.example"),
        "outsider": make_user("outsider@example.org"),
        "superuser": User.objects.create_superuser("root@maillage.example", PASSWORD),
        "anonymous": AnonymousUser(),
    }
    ClusterStaff.objects.create(user=u["mnc_broker"], cluster=mnc, role=StaffRole.BROKER)
    ClusterStaff.objects.create(user=u["mnc_admin"], cluster=mnc, role=StaffRole.ADMIN)
    ClusterStaff.objects.create(user=u["sys_broker"], cluster=sys_, role=StaffRole.BROKER)
    A, V, R, L = MembershipStatus.ADMITTED, MembershipStatus.APPLIED, MembershipStatus.REJECTED, MembershipStatus.LAPSED
    atlas_people: dict[User, str] = {u["owner"]: OrganizationRole.OWNER, u["editor"]: OrganizationRole.EDITOR}
    atlas_people[u["member"]] = OrganizationRole.MEMBER
    orgs = {
        "A": make_org("Atlas Everyone", people=atlas_people, memberships={mnc: A}, visibility=Visibility.EVERYONE),
        "B": make_org("Bouregreg Partners", memberships={mnc: A}, visibility=Visibility.PARTNERS),
        "C": make_org("Casa Cluster-only", memberships={mnc: A}, visibility=Visibility.CLUSTER),
        "D": make_org("Draa Draft", memberships={mnc: V}, status=ProfileStatus.DRAFT, visibility=Visibility.EVERYONE),
        "E": make_org("Essaouira Submitted", memberships={mnc: V}, status=ProfileStatus.SUBMITTED),
        "F": make_org("Fès Lapsed", memberships={mnc: L}, visibility=Visibility.EVERYONE),
        "R": make_org("Rif Rejected", memberships={mnc: R}, visibility=Visibility.EVERYONE),
        "G": make_org("Guingamp Partners", memberships={ir: A}, visibility=Visibility.PARTNERS, country="FR"),
        "H": make_org("Hennebont Cluster-only", memberships={ir: A}, visibility=Visibility.CLUSTER, country="FR"),
        "S": make_org(
            "Saclay Everyone",
            people={u["sys_member"]: OrganizationRole.OWNER},
            memberships={sys_: A},
            visibility=Visibility.EVERYONE,
            country="FR",
        ),
        "I": make_org(
            "Iroise Own",
            people={u["ir_member"]: OrganizationRole.OWNER},
            memberships={ir: A},
            visibility=Visibility.CLUSTER,
            country="FR",
        ),
        "O": make_org(
            "Ostende Partners",
            people={u["oth_member"]: OrganizationRole.OWNER},
            memberships={oth: A},
            visibility=Visibility.PARTNERS,
            country="BE",
        ),
        "N": make_org("Nowhere Validated", visibility=Visibility.EVERYONE),  # validated but no cluster at all
    }
    return World(clusters={"mnc": mnc, "sys": sys_, "ir": ir, "oth": oth}, users=u, orgs=orgs, agreements=agreements)


class SignalRecorder:
    """Records `organizations_changed` ids, and whether each send happened inside a transaction."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], bool]] = []

    def __call__(self, sender: Any, organization_ids: list[int], **kwargs: Any) -> None:
        from django.db import connection

        self.calls.append((list(organization_ids), connection.in_atomic_block))

    @property
    def ids(self) -> set[int]:
        return {i for ids, _ in self.calls for i in ids}


@pytest.fixture
def org_signals() -> Any:
    from matchmaking.signals import organizations_changed

    recorder = SignalRecorder()
    organizations_changed.connect(recorder, dispatch_uid="test-recorder")
    yield recorder
    organizations_changed.disconnect(dispatch_uid="test-recorder")
