"""Organization services: create, update, submit, validate, offers/needs, delete; permissions and signals."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from matchmaking.models import (
    Opportunity,
    Organization,
    OrganizationMember,
    OrganizationRole,
    ProfileStatus,
    Theme,
)
from matchmaking.services import organizations as services
from tests.matchmaking.conftest import World

GOOD = {"legal_name": "Nova Pay SARL", "kind": "startup", "country": "ma", "themes": ["e-payment"]}


def test_create_organization_makes_the_creator_owner_and_normalizes(world: World, org_signals: Any) -> None:
    # given a signed-in user; when creating with spaced identifiers and a theme code
    user = world.users["outsider"]
    org = services.create_organization(
        user=user, data={**GOOD, "ice": " 170 000 000 000 133 ", "pic": "999 999 998", "competences": ["NFC"]}
    )
    # then the org is a draft owned by the creator, with cleaned identifiers and themes, and was announced
    assert org.profile_status == ProfileStatus.DRAFT
    assert org.country == "MA"
    assert org.ice == "170000000000133"
    assert org.pic == "999999998"
    assert list(org.themes.values_list("code", flat=True)) == ["e-payment"]
    assert OrganizationMember.objects.get(organization=org).role == OrganizationRole.OWNER
    assert org_signals.ids == {org.pk}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**GOOD, "siren": "123456789"}, "siren"),  # wrong Luhn
        ({**GOOD, "kind": "spaceship"}, "kind"),
        ({**GOOD, "themes": ["no-such-theme"]}, "themes"),
        ({**GOOD, "themes": "e-payment"}, "themes"),
        ({**GOOD, "profile_status": "validated"}, "profile_status"),  # read-only
        ({**GOOD, "colour": "blue"}, "colour"),  # unknown
        ({**GOOD, "latitude": 123}, "latitude"),
        ({**GOOD, "languages": ["français"]}, "languages"),
        ({"kind": "sme", "country": "FR"}, "legal_name"),
    ],
)
def test_create_organization_rejects_bad_input_and_writes_nothing(world: World, data: dict, field: str) -> None:
    before = Organization.objects.count()
    with pytest.raises(ValidationError) as error:
        services.create_organization(user=world.users["outsider"], data=data)
    assert field in error.value.message_dict
    assert Organization.objects.count() == before


def test_create_organization_rejects_a_taken_identifier(world: World) -> None:
    services.create_organization(user=world.users["outsider"], data={**GOOD, "siren": "732829320"})
    with pytest.raises(ValidationError) as error:
        services.create_organization(user=world.users["owner"], data={**GOOD, "siren": "732 829 320"})
    assert "siren" in error.value.message_dict


def test_anonymous_cannot_create(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.create_organization(user=world.users["anonymous"], data=GOOD)


def test_update_organization_by_editor_bumps_version_and_signals(world: World, org_signals: Any) -> None:
    atlas = world.orgs["A"]
    version = atlas.version
    updated = services.update_organization(
        user=world.users["editor"], organization=atlas, data={"city": " Rabat ", "themes": ["software", "cloud"]}
    )
    assert updated.city == "Rabat"
    assert set(updated.themes.values_list("code", flat=True)) == {"software", "cloud"}
    assert updated.version == version + 1
    assert org_signals.ids == {atlas.pk}


@pytest.mark.parametrize("who", ["member", "mnc_broker", "outsider", "sys_member"])
def test_update_organization_refused_to_others(world: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        services.update_organization(user=world.users[who], organization=world.orgs["A"], data={"city": "X"})
    world.orgs["A"].refresh_from_db()
    assert world.orgs["A"].city == ""


def test_update_organization_keeps_old_values_when_input_is_bad(world: World) -> None:
    with pytest.raises(ValidationError):
        services.update_organization(
            user=world.users["owner"], organization=world.orgs["A"], data={"city": "Rabat", "siret": "1234"}
        )
    world.orgs["A"].refresh_from_db()
    assert world.orgs["A"].city == ""


def test_submit_then_validate_profile(world: World, org_signals: Any) -> None:
    # given a draft org with a pending MNC application, owned by the editor
    draft = world.orgs["D"]
    OrganizationMember.objects.create(user=world.users["editor"], organization=draft, role=OrganizationRole.EDITOR)
    submitted = services.submit_profile(user=world.users["editor"], organization=draft)
    assert submitted.profile_status == ProfileStatus.SUBMITTED
    with pytest.raises(ValidationError):
        services.submit_profile(user=world.users["editor"], organization=draft)  # not a draft any more
    # when an SYS broker tries, then refused; when an MNC broker validates, then validated
    with pytest.raises(PermissionDenied):
        services.validate_profile(user=world.users["sys_broker"], organization=draft)
    validated = services.validate_profile(user=world.users["mnc_broker"], organization=draft)
    assert validated.profile_status == ProfileStatus.VALIDATED
    assert validated.validated_by == world.users["mnc_broker"]
    assert validated.validated_at is not None
    with pytest.raises(ValidationError):
        services.validate_profile(user=world.users["mnc_broker"], organization=draft)
    assert [ids for ids, _ in org_signals.calls] == [[draft.pk], [draft.pk]]


def test_submit_requires_a_description(world: World) -> None:
    org = services.create_organization(user=world.users["outsider"], data=GOOD)
    with pytest.raises(ValidationError) as error:
        services.submit_profile(user=world.users["outsider"], organization=org)
    assert "description_fr" in error.value.message_dict


def test_save_and_delete_opportunity(world: World, org_signals: Any) -> None:
    atlas = world.orgs["A"]
    offer = services.save_opportunity(
        user=world.users["owner"],
        organization=atlas,
        data={"kind": "technology_offer", "title": " Passerelle de paiement ", "trl": 7, "tags": ["PCI DSS"]},
    )
    assert offer.title == "Passerelle de paiement"
    offer = services.save_opportunity(
        user=world.users["editor"], organization=atlas, data={"trl": 8, "expires_on": "2030-01-31"}, opportunity=offer
    )
    offer.refresh_from_db()
    assert offer.trl == 8
    assert str(offer.expires_on) == "2030-01-31"
    services.delete_opportunity(user=world.users["owner"], opportunity=offer)
    assert not Opportunity.objects.filter(pk=offer.pk).exists()
    assert [ids for ids, _ in org_signals.calls] == [[atlas.pk]] * 3
    atlas.refresh_from_db()
    assert atlas.version == 4


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "technology_offer", "title": "x", "trl": 10},
        {"kind": "gift", "title": "x"},
        {"kind": "technology_offer", "title": ""},
        {"kind": "technology_offer", "title": "x", "tags": "not-a-list"},
        {"kind": "technology_offer", "title": "x", "expires_on": "31/01/2030"},
        {"kind": "technology_offer", "title": "x", "organization": 1},
    ],
)
def test_save_opportunity_rejects_bad_input(world: World, data: dict) -> None:
    with pytest.raises(ValidationError):
        services.save_opportunity(user=world.users["owner"], organization=world.orgs["A"], data=data)
    assert not Opportunity.objects.exists()


def test_opportunity_permissions(world: World) -> None:
    atlas, other = world.orgs["A"], world.orgs["B"]
    data = {"kind": "business_request", "title": "Distributeur"}
    with pytest.raises(PermissionDenied):
        services.save_opportunity(user=world.users["member"], organization=atlas, data=data)
    offer = services.save_opportunity(user=world.users["owner"], organization=atlas, data=data)
    with pytest.raises(PermissionDenied):  # an opportunity cannot be moved through another org
        services.save_opportunity(user=world.users["superuser"], organization=other, data={"trl": 3}, opportunity=offer)
    with pytest.raises(PermissionDenied):
        services.delete_opportunity(user=world.users["outsider"], opportunity=offer)


def test_delete_organization_owner_only(world: World, org_signals: Any) -> None:
    atlas = world.orgs["A"]
    for who in ["editor", "member", "mnc_admin"]:
        with pytest.raises(PermissionDenied):
            services.delete_organization(user=world.users[who], organization=atlas)
    pk = atlas.pk
    services.delete_organization(user=world.users["owner"], organization=atlas)
    assert not Organization.objects.filter(pk=pk).exists()
    assert org_signals.ids == {pk}


def test_themes_accept_ids_too(world: World) -> None:
    theme = Theme.objects.get(code="iot")
    org = services.create_organization(user=world.users["outsider"], data={**GOOD, "themes": [theme.pk]})
    assert list(org.themes.all()) == [theme]
