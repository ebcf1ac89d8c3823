"""Admission workflow: apply, board decision (with the email), lapse, re-apply; permissions and signals."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from matchmaking import access, selectors
from matchmaking.models import Membership, MembershipStatus, OrganizationMember, OrganizationRole, ProfileStatus
from matchmaking.services import membership as services
from matchmaking.services import organizations as org_services
from tests.matchmaking.conftest import World


def test_admission_end_to_end_with_email(
    world: World, org_signals: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a new organization created by an outsider, with an English-speaking editor
    founder = world.users["outsider"]
    org = org_services.create_organization(
        user=founder,
        data={"legal_name": "Nova & Fils", "kind": "startup", "country": "MA", "description_fr": "Paiement."},
    )
    OrganizationMember.objects.create(user=world.users["editor"], organization=org, role=OrganizationRole.EDITOR)
    assert not access.can_view_organization(world.users["mnc_broker"], org)

    # when it applies to MNC
    membership = services.apply_to_cluster(
        user=founder, organization=org, cluster=world.clusters["mnc"], fee_tier="startup", motivation=" Grandir "
    )
    # then MNC staff see it in their queue (and the org), SYS staff do not
    assert membership.status == MembershipStatus.APPLIED
    assert membership.motivation == "Grandir"
    assert membership in selectors.admission_queue(world.users["mnc_broker"])
    assert membership not in selectors.admission_queue(world.users["sys_broker"])
    assert access.can_view_organization(world.users["mnc_broker"], org)

    # when the MNC broker records the board's admission
    with django_capture_on_commit_callbacks(execute=True):
        decided = services.decide_membership(
            user=world.users["mnc_broker"], membership=membership, admit=True, board_note="Bienvenue."
        )
    # then admitted, recorded, profile validated, visible to MNC members, and both editors are emailed
    assert decided.status == MembershipStatus.ADMITTED
    assert decided.decided_by == world.users["mnc_broker"]
    assert decided.decided_at is not None
    org.refresh_from_db()
    assert org.profile_status == ProfileStatus.VALIDATED
    assert access.can_view_organization(world.users["owner"], org)
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {founder.email, world.users["editor"].email}
    assert "Nova & Fils" in by_recipient[founder.email].body  # not HTML-escaped
    assert "Bienvenue." in by_recipient[founder.email].body
    assert "membre" in by_recipient[founder.email].subject  # French by default
    assert "member" in by_recipient[world.users["editor"].email].subject  # preferred language: English
    assert org_signals.ids == {org.pk}
    assert len(org_signals.calls) == 3  # create, apply, decide


def test_rejection_needs_a_note_and_is_emailed(world: World, django_capture_on_commit_callbacks: Any) -> None:
    application = Membership.objects.get(organization=world.orgs["D"])
    OrganizationMember.objects.create(user=world.users["owner"], organization=world.orgs["D"], role="owner")
    with pytest.raises(ValidationError):
        services.decide_membership(user=world.users["mnc_broker"], membership=application, admit=False, board_note=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_membership(
            user=world.users["mnc_admin"], membership=application, admit=False, board_note="Dossier incomplet."
        )
    application.refresh_from_db()
    assert application.status == MembershipStatus.REJECTED
    assert [m.to for m in mail.outbox] == [[world.users["owner"].email]]
    assert "Dossier incomplet." in mail.outbox[0].body
    world.orgs["D"].refresh_from_db()
    assert world.orgs["D"].profile_status == ProfileStatus.DRAFT  # rejection validates nothing


@pytest.mark.parametrize("who", ["sys_broker", "owner", "outsider", "anonymous"])
def test_only_the_clusters_staff_decide(world: World, who: str) -> None:
    application = Membership.objects.get(organization=world.orgs["E"])
    with pytest.raises(PermissionDenied):
        services.decide_membership(user=world.users[who], membership=application, admit=True, board_note="")
    application.refresh_from_db()
    assert application.status == MembershipStatus.APPLIED


def test_only_pending_applications_are_decided_and_no_email_on_failure(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    admitted = Membership.objects.get(organization=world.orgs["A"])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.decide_membership(user=world.users["mnc_broker"], membership=admitted, admit=False, board_note="x")
    assert mail.outbox == []


def test_apply_rules(world: World) -> None:
    u, c, o = world.users, world.clusters, world.orgs
    with pytest.raises(PermissionDenied):  # a plain member may not apply for the org
        services.apply_to_cluster(user=u["member"], organization=o["A"], cluster=c["sys"], fee_tier="sme")
    with pytest.raises(ValidationError):  # already admitted
        services.apply_to_cluster(user=u["owner"], organization=o["A"], cluster=c["mnc"], fee_tier="sme")
    with pytest.raises(ValidationError):  # bad fee tier
        services.apply_to_cluster(user=u["owner"], organization=o["A"], cluster=c["sys"], fee_tier="gold")
    first = services.apply_to_cluster(user=u["editor"], organization=o["A"], cluster=c["sys"], fee_tier="sme")
    with pytest.raises(ValidationError):  # already pending
        services.apply_to_cluster(user=u["owner"], organization=o["A"], cluster=c["sys"], fee_tier="sme")
    assert first.applied_by == u["editor"]
    assert Membership.objects.filter(organization=o["A"]).count() == 2


def test_lapse_then_reapply_reuses_the_row(world: World, org_signals: Any) -> None:
    u, c, o = world.users, world.clusters, world.orgs
    membership = Membership.objects.get(organization=o["A"], cluster=c["mnc"])
    with pytest.raises(PermissionDenied):
        services.lapse_membership(user=u["sys_broker"], membership=membership)
    services.lapse_membership(user=u["mnc_broker"], membership=membership, note="Cotisation impayée.")
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.LAPSED
    assert "Cotisation impayée." in membership.board_note
    assert not access.can_view_organization(u["outsider"], o["A"])  # no longer listed
    with pytest.raises(ValidationError):
        services.lapse_membership(user=u["mnc_broker"], membership=membership)
    again = services.apply_to_cluster(user=u["owner"], organization=o["A"], cluster=c["mnc"], fee_tier="sme")
    assert again.pk == membership.pk
    assert again.status == MembershipStatus.APPLIED
    assert again.decided_at is None
    assert org_signals.ids == {o["A"].pk}


def test_reapply_after_rejection(world: World) -> None:
    rejected = Membership.objects.get(organization=world.orgs["R"])
    OrganizationMember.objects.create(user=world.users["owner"], organization=world.orgs["R"], role="owner")
    again = services.apply_to_cluster(
        user=world.users["owner"], organization=world.orgs["R"], cluster=world.clusters["mnc"], fee_tier="startup"
    )
    assert again.pk == rejected.pk
    assert again.fee_tier == "startup"


def test_a_failing_mail_server_does_not_undo_or_break_the_decision(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given an SMTP server that refuses connections
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    OrganizationMember.objects.create(user=world.users["owner"], organization=world.orgs["E"], role="owner")
    application = Membership.objects.get(organization=world.orgs["E"])
    # when staff admit; then no exception escapes the after-commit email, and the decision stands
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_membership(user=world.users["mnc_broker"], membership=application, admit=True, board_note="")
    application.refresh_from_db()
    assert application.status == MembershipStatus.ADMITTED


def test_a_new_application_is_emailed_to_the_clusters_staff(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    # given an organization that is not yet a member of MNC
    founder = world.users["outsider"]
    org = org_services.create_organization(
        user=founder, data={"legal_name": "Nova & Fils", "kind": "startup", "country": "MA"}
    )
    mnc_staff = set(world.clusters["mnc"].staff.values_list("user__email", flat=True))
    assert mnc_staff

    # when it applies to MNC
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.apply_to_cluster(
            user=founder, organization=org, cluster=world.clusters["mnc"], fee_tier="startup", motivation="Grandir"
        )

    # then every MNC staff member, and nobody else, is told, with the motivation and a link to the review page
    assert {message.to[0] for message in mail.outbox} == mnc_staff
    message = mail.outbox[0]
    assert "Nova & Fils" in message.subject
    assert "Grandir" in message.body
    assert f"/staff/applications/{membership.pk}/" in message.body
