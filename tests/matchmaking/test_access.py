"""Access rules: each role against each organization state and visibility, agreements, and the index scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from matchmaking import access
from matchmaking.models import ClusterStaff, Membership, Organization, StaffRole
from tests.matchmaking.conftest import World

ALL = frozenset("ABCDEFRGHSION")
# Who sees what in the world fixture (see conftest for the letters). Reasons, per viewer:
# outsider: listed + everyone (A, S). F lapsed, R rejected, N without cluster, D/E unvalidated: not listed.
# MNC members: + MNC partners/cluster (B, C) + partner-visible orgs of agreement clusters (G in IR).
# MNC staff: + every org with an MNC membership, whatever its state (D, E, F, R).
# SYS side: agreement MNC–SYS shows B (partners); C (cluster only) stays hidden.
# IR member: own cluster (G, H, I) + MNC's partner-visible B.
# OTH member: no agreement, so only everyone-visible orgs and its own.
EXPECTED: dict[str, frozenset[str]] = {
    "anonymous": frozenset(),
    "outsider": frozenset("AS"),
    "owner": frozenset("ABCSG"),
    "editor": frozenset("ABCSG"),
    "member": frozenset("ABCSG"),
    "mnc_broker": frozenset("ABCDEFRSG"),
    "mnc_admin": frozenset("ABCDEFRSG"),
    "sys_broker": frozenset("ASB"),
    "sys_member": frozenset("ASB"),
    "ir_member": frozenset("ASGHIB"),
    "oth_member": frozenset("ASO"),
    "superuser": ALL,
}


def _visible(world: World, user_key: str) -> frozenset[str]:
    ids = set(access.visible_organizations(world.users[user_key]).values_list("pk", flat=True))
    return frozenset(key for key, org in world.orgs.items() if org.pk in ids)


@pytest.mark.parametrize("viewer", sorted(EXPECTED))
def test_each_role_sees_exactly_the_expected_organizations(world: World, viewer: str) -> None:
    # given the world; when the viewer lists visible organizations; then exactly the expected ones
    assert _visible(world, viewer) == EXPECTED[viewer]


@pytest.mark.parametrize("viewer", sorted(EXPECTED))
def test_can_view_and_access_organization_agree_with_the_list(world: World, viewer: str) -> None:
    user = world.users[viewer]
    for key, org in world.orgs.items():
        visible = key in EXPECTED[viewer]
        assert access.can_view_organization(user, org) is visible, key
        if visible:
            assert access.access_organization(user, org.pk) == org
        else:
            with pytest.raises(Http404):
                access.access_organization(user, org.pk)


def test_access_organization_does_not_leak_existence(world: World) -> None:
    # given an outsider; when asking for a hidden org and for a missing id; then both are the same 404
    outsider = world.users["outsider"]
    for organization_id in [world.orgs["C"].pk, 999_999, "not-a-number", None]:
        with pytest.raises(Http404):
            access.access_organization(outsider, organization_id)


def test_viewer_and_staff_cluster_ids(world: World) -> None:
    c, u = world.clusters, world.users
    assert access.viewer_cluster_ids(u["owner"]) == {c["mnc"].pk}
    assert access.viewer_cluster_ids(u["mnc_broker"]) == {c["mnc"].pk}
    assert access.viewer_cluster_ids(u["outsider"]) == frozenset()
    assert access.viewer_cluster_ids(u["anonymous"]) == frozenset()
    assert access.staff_cluster_ids(u["mnc_admin"], StaffRole.ADMIN) == {c["mnc"].pk}
    assert access.staff_cluster_ids(u["mnc_broker"], StaffRole.ADMIN) == frozenset()
    assert access.is_cluster_staff(u["sys_broker"], c["sys"])
    assert not access.is_cluster_staff(u["sys_broker"], c["mnc"])


@pytest.mark.parametrize("user", ["owner", "mnc_broker", "mnc_admin", "sys_broker", "outsider", "anonymous"])
def test_member_and_staff_cluster_ids_in_one_query(world: World, user: str, django_assert_max_num_queries: Any) -> None:
    viewer = world.users[user]
    expected = (access.member_cluster_ids(viewer), access.staff_cluster_ids(viewer))
    with django_assert_max_num_queries(1):
        assert access.member_and_staff_cluster_ids(viewer) == expected


def test_applied_or_lapsed_memberships_do_not_make_a_viewer_cluster(world: World) -> None:
    # given the owner's org only applied to SYS; then SYS cluster-only orgs stay hidden
    sys_only = Organization.objects.create(
        legal_name="Sys Only", kind="sme", country="FR", profile_status="validated", visibility="cluster"
    )
    Membership.objects.create(organization=sys_only, cluster=world.clusters["sys"], status="admitted", fee_tier="sme")
    Membership.objects.create(
        organization=world.orgs["A"], cluster=world.clusters["sys"], status="applied", fee_tier="sme"
    )
    assert not access.can_view_organization(world.users["owner"], sys_only)
    Membership.objects.filter(organization=world.orgs["A"], cluster=world.clusters["sys"]).update(status="admitted")
    assert access.can_view_organization(world.users["owner"], sys_only)


def test_expired_agreement_hides_partner_visible_members(world: World) -> None:
    # given the MNC–IR agreement ended yesterday; then the IR member no longer sees MNC's partner-visible B
    agreement = world.agreements["mnc-ir"]
    agreement.until = timezone.localdate() - timedelta(days=1)
    agreement.save()
    assert not access.can_view_organization(world.users["ir_member"], world.orgs["B"])
    assert not access.can_view_organization(world.users["owner"], world.orgs["G"])
    # and an agreement that starts tomorrow is not active yet
    agreement.since, agreement.until = timezone.localdate() + timedelta(days=1), None
    agreement.save()
    assert not access.can_view_organization(world.users["ir_member"], world.orgs["B"])


def test_agreement_visibility_is_directional(world: World) -> None:
    # given the MNC–IR agreement (a=IR, b=MNC) lets only IR members see MNC's members
    agreement = world.agreements["mnc-ir"]
    agreement.b_members_see_a = False
    agreement.save()
    assert access.can_view_organization(world.users["ir_member"], world.orgs["B"])
    assert not access.can_view_organization(world.users["owner"], world.orgs["G"])


def test_edit_and_member_management_rights(world: World) -> None:
    u, a = world.users, world.orgs["A"]
    assert access.can_edit_organization(u["owner"], a)
    assert access.can_edit_organization(u["editor"], a)
    assert not access.can_edit_organization(u["member"], a)
    assert not access.can_edit_organization(u["mnc_broker"], a)
    assert not access.can_edit_organization(u["anonymous"], a)
    assert access.can_edit_organization(u["superuser"], a)
    assert access.can_manage_members(u["owner"], a)
    assert not access.can_manage_members(u["editor"], a)
    assert access.access_organization_for_edit(u["editor"], a.pk) == a
    with pytest.raises(PermissionDenied):
        access.access_organization_for_edit(u["member"], a.pk)  # visible, not editable
    with pytest.raises(Http404):
        access.access_organization_for_edit(u["sys_member"], world.orgs["C"].pk)  # not even visible


def test_membership_decision_access(world: World) -> None:
    u = world.users
    application = Membership.objects.get(organization=world.orgs["D"])
    assert access.access_membership_for_decision(u["mnc_broker"], application.pk) == application
    assert access.access_membership_for_decision(u["superuser"], application.pk) == application
    with pytest.raises(Http404):
        access.access_membership_for_decision(u["sys_broker"], application.pk)  # cannot even see the draft org
    atlas_membership = Membership.objects.get(organization=world.orgs["A"])
    with pytest.raises(PermissionDenied):
        access.access_membership_for_decision(u["owner"], atlas_membership.pk)  # own org: visible, not staff
    with pytest.raises(Http404):
        access.access_membership_for_decision(u["mnc_broker"], 987_654)


def test_staff_requires_mfa_until_totp_is_enrolled(world: World) -> None:
    broker = world.users["mnc_broker"]
    assert access.staff_requires_mfa(broker)
    assert not access.staff_requires_mfa(world.users["owner"])  # not staff
    assert not access.staff_requires_mfa(world.users["anonymous"])
    Authenticator.objects.create(user=broker, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert not access.staff_requires_mfa(broker)


def test_visibility_scope_describes_each_organization(world: World) -> None:
    c, o = world.clusters, world.orgs
    scope = access.organization_visibility_scope(o["B"])
    assert scope["listed"] is True
    assert scope["visibility"] == "partners"
    assert scope["cluster_ids"] == [c["mnc"].pk]
    assert scope["partner_cluster_ids"] == sorted([c["sys"].pk, c["ir"].pk])
    assert access.organization_visibility_scope(o["D"])["listed"] is False  # draft
    assert access.organization_visibility_scope(o["F"])["listed"] is False  # lapsed
    assert access.organization_visibility_scope(o["O"])["partner_cluster_ids"] == []  # no agreement


def assert_scope_agrees_with_database(users: list) -> None:
    """For each user, the scope rule (plus own organizations) must select exactly visible_organizations."""
    orgs = list(Organization.objects.all())
    scopes = access.organization_visibility_scopes(orgs)
    assert all(scopes[org.pk] == access.organization_visibility_scope(org) for org in orgs[:50])
    for user in users:
        own = set(user.organization_roles.values_list("organization_id", flat=True))
        viewer, staff = access.viewer_cluster_ids(user), access.staff_cluster_ids(user)
        by_scope = {
            pk
            for pk, scope in scopes.items()
            if pk in own or access.scope_allows(scope, viewer_clusters=viewer, staff_clusters=staff)
        }
        by_database = set(access.visible_organizations(user).values_list("pk", flat=True))
        assert by_scope == by_database, user.email


def test_visibility_scope_agrees_with_visible_organizations(world: World) -> None:
    users = [user for key, user in world.users.items() if key not in {"anonymous", "superuser"}]
    assert_scope_agrees_with_database(users)
    # and still after an agreement becomes one-directional
    world.agreements["mnc-sys"].b_members_see_a = False
    world.agreements["mnc-sys"].save()
    assert_scope_agrees_with_database(users)


def test_staff_of_two_clusters_sees_both_pipelines(world: World) -> None:
    ClusterStaff.objects.create(user=world.users["mnc_broker"], cluster=world.clusters["oth"], role="broker")
    assert _visible(world, "mnc_broker") == EXPECTED["mnc_broker"] | {"O"}
