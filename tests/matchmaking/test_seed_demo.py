"""seed_demo: counts, fictional marking, valid identifiers, idempotency, reset, visibility scope on demo data."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from matchmaking import access
from matchmaking.management.commands.seed_demo import DEMO_DOMAIN, DEMO_PASSWORD
from matchmaking.models import (
    Call,
    Cluster,
    ClusterAgreement,
    ClusterStaff,
    ClusterTheme,
    Membership,
    Opportunity,
    Organization,
    SharedResource,
    Theme,
    User,
)
from matchmaking.validators import validate_ice, validate_pic, validate_siren, validate_siret
from tests.matchmaking.test_access import assert_scope_agrees_with_database


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db: Any, settings: Any) -> str:
    settings.ELASTICSEARCH_INDEX_PREFIX = "test-matchmaking-domain"
    return seed("--no-track-records")  # track records: their own test below, they take a few seconds


def test_demo_contents(demo: str) -> None:
    clusters = {c.code: c for c in Cluster.objects.all()}
    assert set(clusters) == {"MNC", "SYSTEMATIC", "IMAGES-RESEAUX"}
    assert clusters["MNC"].brokered_introductions
    counts = {
        code: Membership.objects.filter(cluster=c).exclude(status="applied").count() for code, c in clusters.items()
    }
    assert 35 <= Membership.objects.filter(cluster=clusters["MNC"]).count() <= 45
    assert Membership.objects.filter(cluster=clusters["SYSTEMATIC"]).count() >= 300
    assert Membership.objects.filter(cluster=clusters["IMAGES-RESEAUX"]).count() >= 150
    assert all(counts.values())
    assert Organization.objects.count() == 490
    assert not Organization.objects.filter(is_fictional=False).exists()
    assert Organization.objects.filter(legal_name__regex=r"[\u0600-\u06FF]").count() >= 3  # Arabic script
    assert Membership.objects.filter(status="applied").count() >= 5  # the admission queues have work
    assert Opportunity.objects.filter(trl__isnull=False).count() > 300
    assert set(Opportunity.objects.values_list("kind", flat=True)) == {
        "technology_offer",
        "technology_request",
        "business_offer",
        "business_request",
        "rd_partner_search",
    }
    assert Theme.objects.count() >= 15
    assert ClusterTheme.objects.filter(cluster=clusters["MNC"]).count() == 4
    assert ClusterAgreement.objects.count() == 2
    assert Call.objects.filter(programme="horizon_europe", min_partners=3, min_countries=3).exists()
    assert Call.objects.filter(programme="national").exists()
    imaginlab = SharedResource.objects.get(name="ImaginLab")
    assert imaginlab.cluster.code == "IMAGES-RESEAUX"
    assert imaginlab.screened_by is not None
    assert imaginlab.screened_by.code == "MNC"
    assert ClusterStaff.objects.filter(cluster=clusters["MNC"]).count() == 2
    assert DEMO_PASSWORD in demo
    assert f"mnc.broker@{DEMO_DOMAIN}" in demo
    assert "TOTP" in demo


def test_demo_identifiers_and_profiles_are_valid(demo: str) -> None:
    for org in Organization.objects.all():
        org.full_clean()  # every model validator, including SIREN/SIRET Luhn and ICE check digits
        assert "(fictional demo profile)" in org.description_en
    assert Organization.objects.filter(siren__isnull=False).count() > 300
    for name, validate in [
        ("siren", validate_siren),
        ("siret", validate_siret),
        ("ice", validate_ice),
        ("pic", validate_pic),
    ]:
        values = list(Organization.objects.exclude(**{name: None}).values_list(name, flat=True))
        assert values, name
        for value in values:
            validate(str(value))


def test_demo_users_can_sign_in_with_verified_emails(demo: str) -> None:
    users = User.objects.filter(email__endswith=DEMO_DOMAIN)
    assert users.count() == 11
    for user in users:
        assert user.check_password(DEMO_PASSWORD)
        assert EmailAddress.objects.get(user=user).verified
    amina = User.objects.get(email=f"amina@{DEMO_DOMAIN}")
    assert amina.organization_roles.filter(role="owner").count() == 2


def test_seed_demo_is_idempotent_and_resettable(demo: str) -> None:
    again = seed()
    assert "already loaded" in again
    assert Organization.objects.count() == 490
    first_names = sorted(Organization.objects.values_list("legal_name", flat=True))
    seed("--reset", "--quiet-logins", "--no-track-records")
    assert Organization.objects.count() == 490
    assert User.objects.filter(email__endswith=DEMO_DOMAIN).count() == 11
    assert Call.objects.count() == 2
    assert sorted(Organization.objects.values_list("legal_name", flat=True)) == first_names  # deterministic


def test_visibility_scope_agrees_on_demo_data(demo: str) -> None:
    locals_ = ["amina", "karim", "julie", "gwenaelle", "newcomer", "mnc.broker", "systematic.broker", "ir.broker"]
    users = [User.objects.get(email=f"{local}@{DEMO_DOMAIN}") for local in locals_]
    assert_scope_agrees_with_database(users)
    # and the rules really discriminate on this data: a cluster-only I&R member is hidden from Systematic
    julie = users[2]
    # Ids are materialised: inside the test transaction PostgreSQL has no table
    # statistics and would plan the nested join subquery as a quadratic loop.
    hidden = set(
        Organization.objects.filter(
            visibility="cluster", memberships__cluster__code="IMAGES-RESEAUX", memberships__status="admitted"
        )
        .exclude(memberships__cluster__code="SYSTEMATIC")
        .values_list("pk", flat=True)
    )
    assert hidden
    assert not access.visible_organizations(julie).filter(pk__in=hidden).exists()


def test_some_demo_members_carry_a_real_eu_track_record(db: Any, settings: Any) -> None:
    from matchmaking import cordis
    from matchmaking.models import EUParticipation

    settings.ELASTICSEARCH_INDEX_PREFIX = "test-matchmaking-domain"
    output = seed("--quiet-logins")
    if not (cordis.data_dir() / cordis.H2020_PARTICIPATIONS).exists():
        assert "0 EU projects" in output  # without the CORDIS files the demo still loads
        return
    linked = EUParticipation.objects.filter(organization__is_fictional=True)
    assert linked.filter(organization__country="MA").exists()
    assert linked.filter(organization__country="FR").values("organization").distinct().count() >= 20
    amina = User.objects.get(email=f"amina@{DEMO_DOMAIN}")
    first_org = amina.organization_roles.order_by("pk").first()
    assert first_org is not None
    assert EUParticipation.objects.filter(organization=first_org.organization).exists()
