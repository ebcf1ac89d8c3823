"""Consortia: roles, invitations, live eligibility as partners accept, conversation, CSV export, access."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from matchmaking import funnel_access
from matchmaking.models import ConsortiumRole, PartnerState
from matchmaking.services import consortia
from messaging.models import Conversation, Notification
from tests.fixtures import funnel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def world() -> dict[str, Any]:
    mnc = funnel.cluster("MNC", "MA")
    sys = funnel.cluster("SYS", "FR")
    ir = funnel.cluster("IR", "FR")
    funnel.agreement(mnc, sys)
    funnel.agreement(mnc, ir)
    funnel.agreement(sys, ir)
    call = funnel.call(min_partners=3, min_countries=3, allowed_countries=[], required_kinds=["university"])
    coord, coord_people = funnel.organization("Atlas Pay", mnc, country="MA", kind="sme", people=2, pic="999999001")
    seine, seine_people = funnel.organization("Seine Secure", sys, country="FR", kind="startup", pic="999999002")
    brest, brest_people = funnel.organization("UBO Brest", ir, country="DE", kind="university")
    return {
        "call": call,
        "coord": coord,
        "owner": coord_people[0],
        "plain_member": coord_people[1],
        "seine": seine,
        "seine_user": seine_people[0],
        "brest": brest,
        "brest_user": brest_people[0],
        "outsider": funnel.user(),
    }


def _consortium(w: dict[str, Any]) -> Any:
    return consortia.create_consortium(
        w["owner"], call_id=w["call"].pk, coordinator_id=w["coord"].pk, name="Secure Payments Africa", acronym="SPA"
    )


def test_eligibility_updates_as_partners_accept(world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    # Given a consortium with only its coordinator
    consortium = _consortium(world)
    report = consortia.eligibility_report(consortium)
    assert not report.eligible
    assert report.rule("min_countries").explanation == "needs 3 distinct eligible countries, has 1: MA"
    # When a partner is invited (not yet accepted), nothing changes
    with django_capture_on_commit_callbacks(execute=True):
        invite = consortia.invite_partner(world["owner"], consortium.pk, organization_id=world["seine"].pk)
    assert Notification.objects.filter(user=world["seine_user"], kind="consortium.invitation").exists()
    assert consortia.eligibility_report(consortium).partner_count == 1
    # When both partners accept, the consortium becomes eligible
    with django_capture_on_commit_callbacks(execute=True):
        consortia.respond(world["seine_user"], invite.pk, accept=True)
    assert Notification.objects.filter(user=world["owner"], kind="consortium.accepted").exists()
    uni = consortia.invite_partner(world["owner"], consortium.pk, organization_id=world["brest"].pk)
    report = consortia.eligibility_report(consortium)
    assert report.rule("required_kinds").missing == ("university",)
    consortia.respond(world["brest_user"], uni.pk, accept=True)
    report = consortia.eligibility_report(consortium)
    assert report.eligible
    assert report.countries == ("DE", "FR", "MA")


def test_role_invitation_fills_the_role_and_leaving_frees_it(world: dict[str, Any]) -> None:
    consortium = _consortium(world)
    role = consortia.add_role(
        world["owner"], consortium.pk, title="Research partner", competences="5G, edge computing", kind="university"
    )
    assert role.competences == ["5G", "edge computing"]
    invite = consortia.invite_partner(world["owner"], consortium.pk, organization_id=world["brest"].pk, role_id=role.pk)
    assert invite.role_title == "Research partner"
    consortia.respond(world["brest_user"], invite.pk, accept=True)
    role.refresh_from_db()
    assert role.filled_by == world["brest"]
    assert consortia.open_roles(consortium) == []
    consortia.leave(world["brest_user"], invite.pk)
    role.refresh_from_db()
    assert role.filled_by is None
    invite.refresh_from_db()
    assert invite.state == PartnerState.LEFT


def test_bad_roles_are_refused(world: dict[str, Any]) -> None:
    consortium = _consortium(world)
    with pytest.raises(ValidationError):
        consortia.add_role(world["owner"], consortium.pk, title="", kind="university")
    with pytest.raises(ValidationError):
        consortia.add_role(world["owner"], consortium.pk, title="X", kind="pirate")
    with pytest.raises(ValidationError):
        consortia.add_role(world["owner"], consortium.pk, title="X", country="France")
    assert not ConsortiumRole.objects.exists()


def test_only_the_coordinator_editors_steer(world: dict[str, Any]) -> None:
    consortium = _consortium(world)
    with pytest.raises(PermissionDenied):
        consortia.add_role(world["plain_member"], consortium.pk, title="X")
    with pytest.raises(Http404):
        consortia.invite_partner(world["outsider"], consortium.pk, organization_id=world["seine"].pk)
    invite = consortia.invite_partner(world["owner"], consortium.pk, organization_id=world["seine"].pk)
    # The invited organization sees the consortium but cannot steer it
    assert funnel_access.access_consortium(world["seine_user"], consortium.pk) == consortium
    with pytest.raises(PermissionDenied):
        consortia.invite_partner(world["seine_user"], consortium.pk, organization_id=world["brest"].pk)
    # Someone else cannot answer the invitation
    with pytest.raises(PermissionDenied):
        consortia.respond(world["brest_user"], invite.pk, accept=True)
    with pytest.raises(Http404):
        funnel_access.access_consortium(world["brest_user"], consortium.pk)


def test_invitations_are_not_duplicated(world: dict[str, Any]) -> None:
    consortium = _consortium(world)
    invite = consortia.invite_partner(world["owner"], consortium.pk, organization_id=world["seine"].pk)
    with pytest.raises(ValidationError):
        consortia.invite_partner(world["owner"], consortium.pk, organization_id=world["seine"].pk)
    with pytest.raises(ValidationError):
        consortia.invite_partner(world["owner"], consortium.pk, organization_id=world["coord"].pk)
    consortia.respond(world["seine_user"], invite.pk, accept=False)
    with pytest.raises(ValidationError):
        consortia.respond(world["seine_user"], invite.pk, accept=True)
    # A declined organization may be invited again
    again = consortia.invite_partner(world["owner"], consortium.pk, organization_id=world["seine"].pk)
    assert again.pk == invite.pk
    assert again.state == PartnerState.INVITED


def test_closed_call_refuses_new_consortia(world: dict[str, Any]) -> None:
    from django.utils import timezone

    world["call"].deadline = timezone.now()
    world["call"].save()
    with pytest.raises(ValidationError):
        _consortium(world)


def test_conversation_follows_accepted_partners(world: dict[str, Any]) -> None:
    consortium = _consortium(world)
    conversation_id = consortia.open_conversation(world["owner"], consortium.pk)
    assert consortia.open_conversation(world["owner"], consortium.pk) == conversation_id
    invite = consortia.invite_partner(world["owner"], consortium.pk, organization_id=world["seine"].pk)
    with pytest.raises(PermissionDenied):
        consortia.open_conversation(world["seine_user"], consortium.pk)  # invited, not yet a member
    consortia.respond(world["seine_user"], invite.pk, accept=True)
    conversation = Conversation.objects.get(pk=conversation_id)
    assert set(conversation.organizations.all()) == {world["coord"], world["seine"]}


def test_partner_csv_lists_names_countries_pics_and_roles(world: dict[str, Any]) -> None:
    consortium = _consortium(world)
    invite = consortia.invite_partner(
        world["owner"], consortium.pk, organization_id=world["seine"].pk, role_title="=HYPERLINK(evil)"
    )
    consortia.respond(world["seine_user"], invite.pk, accept=True)
    _c, text = consortia.partner_csv(world["seine_user"], consortium.pk)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Name", "Acronym", "Country", "Kind", "PIC", "Role", "Status"]
    assert rows[1][:5] == ["Atlas Pay", "", "MA", "SME", "999999001"]
    assert rows[1][5] == "Coordinator"
    assert rows[2][0] == "Seine Secure"
    assert rows[2][4] == "999999002"
    assert rows[2][5] == "'=HYPERLINK(evil)"  # inert in spreadsheets
    with pytest.raises(Http404):
        consortia.partner_csv(world["outsider"], consortium.pk)
