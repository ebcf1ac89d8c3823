"""Invitations, roles and removal: the owner invariant and the verified-email rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from matchmaking.models import Invitation, OrganizationMember, OrganizationRole
from matchmaking.services import people
from tests.matchmaking.conftest import World


def test_invite_and_accept(world: World, make_user: Any, django_capture_on_commit_callbacks: Any) -> None:
    # given the owner invites a new person as editor
    atlas = world.orgs["A"]
    with django_capture_on_commit_callbacks(execute=True):
        invitation = people.invite_member(
            user=world.users["owner"], organization=atlas, email=" New.Person@Example.ORG ", role="editor"
        )
    # then one email carries the accept link, valid 14 days
    assert invitation.email == "new.person@example.org"
    assert len(invitation.token) >= 40
    assert abs((invitation.expires_at - timezone.now()) - timedelta(days=14)) < timedelta(minutes=1)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.org"]
    assert f"/invitations/{invitation.token}/" in mail.outbox[0].body
    # when the invitee (verified email, different case) accepts; then an editor
    invitee = make_user("NEW.person@example.org")
    member = people.accept_invitation(user=invitee, token=invitation.token)
    assert member.role == OrganizationRole.EDITOR
    assert member.organization == atlas
    invitation.refresh_from_db()
    assert invitation.accepted_by == invitee
    with pytest.raises(ValidationError):  # single use
        people.accept_invitation(user=invitee, token=invitation.token)


def test_accept_requires_the_invited_verified_email(world: World, make_user: Any) -> None:
    invitation = people.invite_member(
        user=world.users["owner"], organization=world.orgs["A"], email="someone@example.org", role="member"
    )
    with pytest.raises(PermissionDenied):  # another person
        people.accept_invitation(user=world.users["outsider"], token=invitation.token)
    unverified = make_user("someone@example.org", verified=False)
    with pytest.raises(PermissionDenied):  # right address, not verified yet
        people.accept_invitation(user=unverified, token=invitation.token)
    EmailAddress.objects.filter(user=unverified).update(verified=True)
    assert people.accept_invitation(user=unverified, token=invitation.token).role == "member"


def test_accept_refuses_expired_and_unknown_tokens(world: World, make_user: Any) -> None:
    invitation = people.invite_member(
        user=world.users["owner"], organization=world.orgs["A"], email="late@example.org", role="member"
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    late = make_user("late@example.org")
    with pytest.raises(ValidationError):
        people.accept_invitation(user=late, token=invitation.token)
    for token in ["nope", "", "x" * 500]:
        with pytest.raises(ValidationError):
            people.accept_invitation(user=late, token=token)
    assert not OrganizationMember.objects.filter(user=late).exists()


def test_invite_rules(world: World) -> None:
    atlas = world.orgs["A"]
    for who in ["editor", "member", "mnc_admin"]:
        with pytest.raises(PermissionDenied):
            people.invite_member(user=world.users[who], organization=atlas, email="a@example.org", role="member")
    with pytest.raises(ValidationError):
        people.invite_member(user=world.users["owner"], organization=atlas, email="not-an-email", role="member")
    with pytest.raises(ValidationError):
        people.invite_member(user=world.users["owner"], organization=atlas, email="a@example.org", role="king")
    with pytest.raises(ValidationError):  # already a member
        people.invite_member(user=world.users["owner"], organization=atlas, email="EDITOR@atlas.example", role="member")
    first = people.invite_member(user=world.users["owner"], organization=atlas, email="a@example.org", role="member")
    second = people.invite_member(user=world.users["owner"], organization=atlas, email="A@example.org", role="editor")
    assert first.pk == second.pk  # renewed, not duplicated
    assert Invitation.objects.get(pk=first.pk).role == "editor"
    assert first.token != second.token


def test_roles_and_the_last_owner(world: World) -> None:
    atlas = world.orgs["A"]
    owner_row = OrganizationMember.objects.get(organization=atlas, user=world.users["owner"])
    editor_row = OrganizationMember.objects.get(organization=atlas, user=world.users["editor"])
    with pytest.raises(PermissionDenied):
        people.change_member_role(user=world.users["editor"], member=editor_row, role="owner")
    with pytest.raises(ValidationError):  # the only owner cannot step down
        people.change_member_role(user=world.users["owner"], member=owner_row, role="member")
    with pytest.raises(ValidationError):
        people.remove_member(user=world.users["owner"], member=owner_row)
    people.change_member_role(user=world.users["owner"], member=editor_row, role="owner")
    people.change_member_role(user=world.users["editor"], member=owner_row, role="member")  # now possible
    owner_row.refresh_from_db()
    assert owner_row.role == "member"
    with pytest.raises(ValidationError):
        people.change_member_role(user=world.users["editor"], member=editor_row, role="queen")


def test_remove_member_and_leave(world: World) -> None:
    atlas = world.orgs["A"]
    member_row = OrganizationMember.objects.get(organization=atlas, user=world.users["member"])
    editor_row = OrganizationMember.objects.get(organization=atlas, user=world.users["editor"])
    with pytest.raises(PermissionDenied):
        people.remove_member(user=world.users["member"], member=editor_row)
    people.remove_member(user=world.users["member"], member=member_row)  # leaving is allowed
    people.remove_member(user=world.users["owner"], member=editor_row)
    assert list(OrganizationMember.objects.filter(organization=atlas).values_list("role", flat=True)) == ["owner"]
