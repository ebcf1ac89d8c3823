"""Memberships: apply, the board's decision, lapse; who sees and decides what."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from matchmaking.models import Membership, MembershipStatus, Organization, StaffRole
from tests.api.conftest import World, make_staff

pytestmark = pytest.mark.django_db


def test_members_see_their_organizations_memberships(world: World, as_user: Any) -> None:
    body = as_user(world.member).get("/api/memberships/").json()

    assert [(m["organization"]["legal_name"], m["cluster"]["code"], m["status"]) for m in body["results"]] == [
        ("Atlas Numérique", "MNC", "admitted")
    ]


def test_staff_see_their_clusters_memberships_and_filter_them(world: World, as_user: Any) -> None:
    client = as_user(world.mnc_broker)

    everything = client.get("/api/memberships/").json()
    pending = client.get("/api/memberships/?status=applied").json()

    assert {m["organization"]["legal_name"] for m in everything["results"]} == {"Atlas Numérique", "Candidat SARL"}
    assert [m["id"] for m in pending["results"]] == [world.application.pk]


def test_outsider_sees_no_membership(world: World, as_user: Any) -> None:
    client = as_user(world.outsider)

    assert client.get("/api/memberships/").json()["count"] == 0
    assert client.get(f"/api/memberships/{world.application.pk}/").status_code == 404


def test_owner_applies_to_a_cluster(world: World, as_user: Any) -> None:
    response = as_user(world.owner).post(
        "/api/memberships/",
        {"organization": world.atlas.pk, "cluster": world.ir.pk, "fee_tier": "sme", "motivation": "Bretagne 🌊"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "applied"
    assert Membership.objects.get(organization=world.atlas, cluster=world.ir).motivation == "Bretagne 🌊"


@pytest.mark.parametrize(
    ("who", "body", "status", "field"),
    [
        ("member", {"fee_tier": "sme"}, 403, None),
        ("outsider", {"fee_tier": "sme"}, 400, "organization"),
        ("owner", {"fee_tier": "gold"}, 400, "fee_tier"),
        ("owner", {"fee_tier": "sme", "cluster": 999999}, 400, "cluster"),
        ("owner", {"fee_tier": "sme", "cluster": "IR"}, 400, "cluster"),
        ("owner", {"fee_tier": "sme", "organization": 2**64}, 400, "organization"),
        ("owner", {"fee_tier": "sme", "motivation": 5}, 400, "motivation"),
        ("owner", {"fee_tier": "sme", "cluster": "MNC-already"}, 400, "cluster"),
    ],
)
def test_bad_applications(world: World, as_user: Any, who: str, body: Any, status: int, field: str | None) -> None:
    payload = {"organization": world.atlas.pk, "cluster": world.ir.pk, **body}

    response = as_user(getattr(world, who)).post("/api/memberships/", payload, format="json")

    assert response.status_code == status, response.json()
    if field:
        assert field in response.json()
    assert not Membership.objects.filter(organization=world.atlas, cluster=world.ir).exists()


def test_applying_again_while_admitted_is_a_clear_400(world: World, as_user: Any) -> None:
    response = as_user(world.owner).post(
        "/api/memberships/", {"organization": world.atlas.pk, "cluster": world.mnc.pk, "fee_tier": "sme"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["This organization is already a member of this cluster."]}


def test_staff_admit_and_the_applicant_is_emailed(
    world: World, as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a pending application to MNC
    # When an MNC broker admits it
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(world.mnc_broker).post(
            f"/api/memberships/{world.application.pk}/decide/",
            {"admit": True, "board_note": "Bienvenue — مرحبا"},
            format="json",
        )

    # Then it is admitted, the profile validated, the applicant told
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "admitted"
    assert Organization.objects.get(pk=world.applicant.pk).profile_status == "validated"
    assert [m.to for m in mail.outbox] == [["owner@applicant.test"]]


def test_staff_of_another_cluster_cannot_decide(world: World, as_user: Any) -> None:
    response = as_user(world.ir_admin).post(
        f"/api/memberships/{world.application.pk}/decide/", {"admit": True}, format="json"
    )

    assert response.status_code in {403, 404}
    world.application.refresh_from_db()
    assert world.application.status == MembershipStatus.APPLIED


def test_staff_without_an_authenticator_app_cannot_decide(world: World, as_user: Any) -> None:
    # Given an MNC broker who has not enrolled two-factor authentication
    broker = make_staff("new-broker@mnc.test", world.mnc, StaffRole.BROKER, with_totp=False)

    # When they try to admit through the API (as the staff pages, the API asks for the second factor)
    response = as_user(broker).post(f"/api/memberships/{world.application.pk}/decide/", {"admit": True}, format="json")

    # Then they are refused with a reason, and nothing changes
    assert response.status_code == 403
    assert "authenticator" in response.json()["detail"]
    world.application.refresh_from_db()
    assert world.application.status == MembershipStatus.APPLIED


def test_applicant_cannot_admit_itself_403(world: World, as_user: Any) -> None:
    response = as_user(world.applicant_owner).post(
        f"/api/memberships/{world.application.pk}/decide/", {"admit": True}, format="json"
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "admit"),
        ({"admit": "yes"}, "admit"),
        ({"admit": 1}, "admit"),
        ({"admit": False}, "board_note"),  # a rejection needs the board's reason
        ({"admit": True, "board_note": ["ok"]}, "board_note"),
    ],
)
def test_bad_decisions_are_400(world: World, as_user: Any, body: Any, field: str) -> None:
    response = as_user(world.mnc_admin).post(f"/api/memberships/{world.application.pk}/decide/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    world.application.refresh_from_db()
    assert world.application.status == MembershipStatus.APPLIED


def test_staff_lapse_an_admitted_membership(world: World, as_user: Any) -> None:
    membership = Membership.objects.get(organization=world.atlas, cluster=world.mnc)

    response = as_user(world.mnc_admin).post(
        f"/api/memberships/{membership.pk}/lapse/", {"note": "Cotisation impayée"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "lapsed"
    assert as_user(world.owner).post(f"/api/memberships/{membership.pk}/lapse/", {}, format="json").status_code == 403
