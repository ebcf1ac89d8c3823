"""A small world for API tests: three clusters, people in every role, organizations in every state.

Written directly with the ORM: this is the *given* of each test, not the thing
under test (the API and the services it calls are).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from matchmaking.models import (
    Call,
    Cluster,
    ClusterAgreement,
    ClusterStaff,
    ClusterTheme,
    FeeTier,
    Membership,
    MembershipStatus,
    Opportunity,
    OpportunityKind,
    Organization,
    OrganizationRole,
    ProfileStatus,
    Programme,
    StaffRole,
    Theme,
    User,
    Visibility,
)
from tests.fixtures.people import make_org, make_user

VALID_SIREN = "732829320"


@dataclass
class World:
    mnc: Cluster
    systematic: Cluster
    ir: Cluster
    theme: Theme
    atlas: Organization  # MNC member, validated, partner-visible, has a SIREN
    orion: Organization  # Systematic member (MNC partner), validated, partner-visible
    hidden: Organization  # Images & Réseaux member, visible to its own cluster only
    open_co: Organization  # Images & Réseaux member, visible to everyone
    applicant: Organization  # draft, applied to MNC
    application: Membership  # applicant -> MNC, pending
    owner: User  # owner of atlas
    editor: User  # editor of atlas
    member: User  # plain member of atlas
    orion_owner: User
    applicant_owner: User
    outsider: User  # signed in, no organization
    mnc_admin: User
    mnc_broker: User
    ir_admin: User
    call: Call  # published by MNC, open now


def make_staff(email: str, cluster: Cluster, role: str, *, with_totp: bool = True) -> User:
    """Cluster staff; with an authenticator app by default, as the site requires of staff."""
    user = make_user(email)
    ClusterStaff.objects.create(user=user, cluster=cluster, role=role)
    if with_totp:
        TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    """allauth's rate limits (sign-in attempts) live in the cache, which outlives each test's rollback.

    The API throttles' counters are per test already (`RATE_LIMIT_NAMESPACE`, tests/conftest.py).
    """
    cache.clear()


@pytest.fixture
def world(db: Any) -> World:
    mnc = Cluster.objects.create(code="MNC", name="Maroc Numeric Cluster", country="MA", region="Casablanca")
    systematic = Cluster.objects.create(code="systematic", name="Systematic Paris-Region", country="FR")
    ir = Cluster.objects.create(code="images-reseaux", name="Images & Réseaux", country="FR", region="Bretagne")
    ClusterAgreement.objects.create(
        cluster_a=mnc, cluster_b=systematic, since=timezone.localdate() - timedelta(days=400)
    )
    theme = Theme.objects.create(code="cybersecurity", label_fr="Cybersécurité", label_en="Cybersecurity")
    ClusterTheme.objects.create(cluster=mnc, code="cyber", label="Cybersécurité", shared_theme=theme)

    owner, editor, member = (
        make_user("owner@atlas.test"),
        make_user("editor@atlas.test"),
        make_user("member@atlas.test"),
    )
    orion_owner, applicant_owner = make_user("owner@orion.test"), make_user("owner@applicant.test")
    outsider = make_user("outsider@example.test")
    mnc_admin = make_staff("admin@mnc.test", mnc, StaffRole.ADMIN)
    mnc_broker = make_staff("broker@mnc.test", mnc, StaffRole.BROKER)
    ir_admin = make_staff("admin@ir.test", ir, StaffRole.ADMIN)

    atlas = make_org(
        "Atlas Numérique",
        acronym="ATLAS",
        people={owner: OrganizationRole.OWNER, editor: OrganizationRole.EDITOR, member: OrganizationRole.MEMBER},
        admitted_in=[mnc],
        siren=VALID_SIREN,
    )
    atlas.themes.add(theme)
    Opportunity.objects.create(organization=atlas, kind=OpportunityKind.TECHNOLOGY_OFFER, title="Edge AI", tags=["ai"])
    orion = make_org(
        "Orion Systèmes", country="FR", people={orion_owner: OrganizationRole.OWNER}, admitted_in=[systematic]
    )
    hidden = make_org("Discret SAS", country="FR", admitted_in=[ir], visibility=Visibility.CLUSTER)
    open_co = make_org("Ouvert SARL", country="FR", admitted_in=[ir], visibility=Visibility.EVERYONE)
    applicant = make_org("Candidat SARL", status=ProfileStatus.DRAFT, people={applicant_owner: OrganizationRole.OWNER})
    application = Membership.objects.create(
        organization=applicant, cluster=mnc, status=MembershipStatus.APPLIED, fee_tier=FeeTier.STARTUP
    )
    call = Call.objects.create(
        programme=Programme.NATIONAL,
        topic_code="MNC-2026-IOT",
        title="Appel à projets IoT",
        opens_on=timezone.localdate() - timedelta(days=5),
        deadline=timezone.now() + timedelta(days=30),
        published_by=mnc,
        min_partners=2,
        min_countries=1,
    )
    return World(
        mnc=mnc,
        systematic=systematic,
        ir=ir,
        theme=theme,
        atlas=atlas,
        orion=orion,
        hidden=hidden,
        open_co=open_co,
        applicant=applicant,
        application=application,
        owner=owner,
        editor=editor,
        member=member,
        orion_owner=orion_owner,
        applicant_owner=applicant_owner,
        outsider=outsider,
        mnc_admin=mnc_admin,
        mnc_broker=mnc_broker,
        ir_admin=ir_admin,
        call=call,
    )


def client() -> APIClient:
    # Messages follow Accept-Language (French by default); tests read them in English.
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def anonymous() -> APIClient:
    return client()


@pytest.fixture
def as_user() -> Any:
    """`as_user(user)`: a client signed in with a session, as the website does."""

    def make(user: User) -> APIClient:
        signed_in = client()
        signed_in.force_login(user)
        return signed_in

    return make
