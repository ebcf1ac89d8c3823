"""Fixtures for page tests: three clusters, people in every role, organizations in every state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone

from matchmaking.models import (
    Cluster,
    ClusterAgreement,
    ClusterStaff,
    Membership,
    Organization,
    OrganizationRole,
    ProfileStatus,
    StaffRole,
    User,
    Visibility,
)
from tests.fixtures import people


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """allauth keeps rate-limit counters and used TOTP codes in the cache (Redis in CI), shared by the whole run:
    start every page test from a clean slate so earlier sign-ups and logins do not trip the limits."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def clusters(db: Any) -> dict[str, Cluster]:
    mnc = Cluster.objects.create(code="MNC", name="Maroc Numeric Cluster", country="MA", region="Casablanca")
    systematic = Cluster.objects.create(code="systematic", name="Systematic Paris-Region", country="FR")
    ir = Cluster.objects.create(code="images-reseaux", name="Images & Réseaux", country="FR", region="Bretagne")
    ClusterAgreement.objects.create(cluster_a=mnc, cluster_b=systematic, since=timezone.localdate().replace(year=2011))
    return {"mnc": mnc, "systematic": systematic, "ir": ir}


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    return people.make_user


@pytest.fixture
def make_org(db: Any) -> Callable[..., Organization]:
    return people.make_org


def activate_totp(user: User) -> str:
    """Give the user a TOTP authenticator the way allauth stores it; returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    return secret


@pytest.fixture
def world(
    clusters: dict[str, Cluster], make_user: Callable[..., User], make_org: Callable[..., Organization]
) -> dict[str, Any]:
    """People in every role around an MNC member, a pending applicant, and an invisible draft."""
    owner = make_user("owner@atlas.example")
    editor = make_user("editor@atlas.example")
    member = make_user("member@atlas.example")
    outsider = make_user("outsider@example.org")
    staff = make_user("staff@mnc.example")
    ClusterStaff.objects.create(user=staff, cluster=clusters["mnc"], role=StaffRole.BROKER)
    staff_secret = activate_totp(staff)
    staff_without_totp = make_user("newstaff@mnc.example")
    ClusterStaff.objects.create(user=staff_without_totp, cluster=clusters["mnc"], role=StaffRole.BROKER)
    applicant = make_user("applicant@nova.example")

    atlas = make_org(
        "Atlas Numérique",
        people={owner: OrganizationRole.OWNER, editor: OrganizationRole.EDITOR, member: OrganizationRole.MEMBER},
        admitted_in=[clusters["mnc"]],
        siren="732829320",
        visibility=Visibility.CLUSTER,
    )
    nova = make_org(
        "Nova Pay",
        people={applicant: OrganizationRole.OWNER},
        applied_to=[clusters["mnc"]],
        status=ProfileStatus.SUBMITTED,
    )
    hidden = make_org("Hidden Draft", people={applicant: OrganizationRole.OWNER}, status=ProfileStatus.DRAFT)
    return {
        "owner": owner,
        "editor": editor,
        "member": member,
        "outsider": outsider,
        "staff": staff,
        "staff_secret": staff_secret,
        "staff_without_totp": staff_without_totp,
        "applicant": applicant,
        "atlas": atlas,
        "nova": nova,
        "hidden": hidden,
        "application": Membership.objects.get(organization=nova),
        **clusters,
    }
