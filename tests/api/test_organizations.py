"""Organizations: who sees what, who changes what, and what bad input gets back."""

from __future__ import annotations

from typing import Any

import pytest

from matchmaking.models import Organization, OrganizationMember, OrganizationRole, ProfileStatus
from matchmaking.signals import organizations_changed
from tests.api.conftest import VALID_SIREN, World

pytestmark = pytest.mark.django_db


def names(response: Any) -> list[str]:
    return [row["legal_name"] for row in response.json()["results"]]


# --- Seeing -------------------------------------------------------------------------


def test_outsider_lists_only_organizations_visible_to_everyone(world: World, as_user: Any) -> None:
    response = as_user(world.outsider).get("/api/organizations/")

    assert response.status_code == 200
    assert names(response) == ["Ouvert SARL"]


def test_member_lists_own_cluster_and_partner_clusters(world: World, as_user: Any) -> None:
    # Atlas is in MNC; MNC has an agreement with Systematic (Orion); Discret is IR-only.
    response = as_user(world.member).get("/api/organizations/")

    assert names(response) == ["Atlas Numérique", "Orion Systèmes", "Ouvert SARL"]


def test_staff_also_see_applicants_and_can_filter_on_profile_status(world: World, as_user: Any) -> None:
    client = as_user(world.mnc_broker)

    assert "Candidat SARL" in names(client.get("/api/organizations/"))
    assert names(client.get("/api/organizations/?profile_status=draft")) == ["Candidat SARL"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=FR", ["Orion Systèmes", "Ouvert SARL"]),
        ("country=fr", ["Orion Systèmes", "Ouvert SARL"]),
        ("kind=sme&country=MA", ["Atlas Numérique"]),
        ("mine=true", ["Atlas Numérique"]),
        ("ordering=-legal_name", ["Ouvert SARL", "Orion Systèmes", "Atlas Numérique"]),
    ],
)
def test_filters_and_ordering(world: World, as_user: Any, query: str, expected: list[str]) -> None:
    assert names(as_user(world.member).get(f"/api/organizations/?{query}")) == expected


def test_cluster_filter(world: World, as_user: Any) -> None:
    response = as_user(world.member).get(f"/api/organizations/?cluster={world.systematic.pk}")

    assert names(response) == ["Orion Systèmes"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cluster=abc", "cluster"),
        ("cluster=99999999999999999999999", "cluster"),
        ("kind=spaceship", "kind"),
        ("ordering=password", "ordering"),
        ("country=%00%00", "country"),
        ("mine=perhaps", "mine"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(world: World, as_user: Any, query: str, field: str) -> None:
    response = as_user(world.member).get(f"/api/organizations/?{query}")

    assert response.status_code == 400
    assert field in response.json()


def test_pagination(world: World, as_user: Any) -> None:
    client = as_user(world.mnc_broker)

    first = client.get("/api/organizations/?page_size=2").json()
    second = client.get(first["next"]).json()

    assert first["count"] == 4
    assert len(first["results"]) == 2
    assert len(second["results"]) == 2
    assert second["next"] is None
    assert client.get("/api/organizations/?page=99").status_code == 404
    assert client.get("/api/organizations/?page=abc").status_code == 404


def test_outsider_gets_404_on_an_invisible_organization(world: World, as_user: Any) -> None:
    response = as_user(world.outsider).get(f"/api/organizations/{world.hidden.pk}/")

    assert response.status_code == 404


def test_detail_shows_offers_and_hides_identifiers_from_plain_viewers(world: World, as_user: Any) -> None:
    body = as_user(world.orion_owner).get(f"/api/organizations/{world.atlas.pk}/").json()

    assert [o["title"] for o in body["opportunities"]] == ["Edge AI"]
    assert body["themes"] == ["cybersecurity"]
    assert [c["code"] for c in body["clusters"]] == ["MNC"]
    assert "siren" not in body
    assert body["can_edit"] is False
    assert body["my_role"] is None


@pytest.mark.parametrize("who", ["editor", "mnc_broker"])
def test_editors_and_staff_see_identifiers(world: World, as_user: Any, who: str) -> None:
    body = as_user(getattr(world, who)).get(f"/api/organizations/{world.atlas.pk}/").json()

    assert body["siren"] == VALID_SIREN


def test_plain_member_sees_but_cannot_edit(world: World, as_user: Any) -> None:
    body = as_user(world.member).get(f"/api/organizations/{world.atlas.pk}/").json()

    assert body["my_role"] == "member"
    assert body["can_edit"] is False
    assert "siren" not in body


# --- Creating -----------------------------------------------------------------------


def test_create_organization_makes_the_user_owner(world: World, as_user: Any) -> None:
    # Given an outsider
    client = as_user(world.outsider)
    received: list[list[int]] = []

    def receiver(sender: Any, organization_ids: list[int], **kwargs: Any) -> None:
        received.append(organization_ids)

    organizations_changed.connect(receiver)
    try:
        # When they create an organization, with Arabic text and a spaced SIREN
        response = client.post(
            "/api/organizations/",
            {
                "legal_name": "Sahara Tech",
                "acronym": "صحراء",
                "kind": "startup",
                "country": "MA",
                "siren": "552 100 554",
                "competences": ["IoT", "ذكاء اصطناعي"],
                "languages": ["ar", "fr"],
                "themes": ["cybersecurity"],
                "description_en": "We build sensors 🌵 for ‏arid‏ farms.",
            },
            format="json",
        )
    finally:
        organizations_changed.disconnect(receiver)

    # Then it exists as a draft they own, and index followers were told
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["acronym"] == "صحراء"
    assert body["siren"] == "552100554"
    assert body["profile_status"] == "draft"
    assert body["my_role"] == "owner"
    assert body["description_en"] == "We build sensors 🌵 for ‏arid‏ farms."
    org = Organization.objects.get(pk=body["id"])
    assert OrganizationMember.objects.get(organization=org).role == OrganizationRole.OWNER
    assert received == [[org.pk]]


def test_bad_siren_is_a_field_error_and_nothing_is_saved(world: World, as_user: Any) -> None:
    response = as_user(world.outsider).post(
        "/api/organizations/",
        {"legal_name": "Faux SA", "kind": "sme", "country": "FR", "siren": "732829321"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"siren": ["SIREN check digit is wrong (Luhn)."]}
    assert not Organization.objects.filter(legal_name="Faux SA").exists()


def test_siren_already_used_is_a_field_error(world: World, as_user: Any) -> None:
    response = as_user(world.outsider).post(
        "/api/organizations/",
        {"legal_name": "Copie SA", "kind": "sme", "country": "FR", "siren": VALID_SIREN},
        format="json",
    )

    assert response.status_code == 400
    assert "siren" in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "sme", "country": "FR"}, "legal_name"),
        ({"legal_name": 42, "kind": "sme", "country": "FR"}, "legal_name"),
        ({"legal_name": ["A"], "kind": "sme", "country": "FR"}, "legal_name"),
        ({"legal_name": {"fr": "A"}, "kind": "sme", "country": "FR"}, "legal_name"),
        ({"legal_name": "A", "kind": "spaceship", "country": "FR"}, "kind"),
        ({"legal_name": "A", "kind": "sme", "country": "France"}, "country"),
        ({"legal_name": "A", "kind": "sme", "country": "ZZ9"}, "country"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "competences": "IoT, AI"}, "competences"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "competences": {"a": 1}}, "competences"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "competences": [1, 2]}, "competences"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "competences": [""]}, "competences"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "competences": ["x" * 121]}, "competences"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "competences": ["x"] * 101}, "competences"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "languages": ["french"]}, "languages"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "languages": ["FR"]}, "languages"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "themes": ["no-such-theme"]}, "themes"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "latitude": "48.8"}, "latitude"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "latitude": 91}, "latitude"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "longitude": True}, "longitude"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "website": "javascript:alert(1)"}, "website"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "siret": 73282932000074}, "siret"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "ice": "12345"}, "ice"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "pic": "12345678X"}, "pic"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "visibility": "secret"}, "visibility"),
        ({"legal_name": "A", "kind": "sme", "country": "FR", "is_fictional": True}, "is_fictional"),
        ({"legal_name": "A\x00B", "kind": "sme", "country": "FR"}, "legal_name"),
    ],
)
def test_invalid_fields_are_400_with_the_field_named(world: World, as_user: Any, body: Any, field: str) -> None:
    before = Organization.objects.count()

    response = as_user(world.outsider).post("/api/organizations/", body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert Organization.objects.count() == before


def test_read_only_fields_sent_back_are_ignored(world: World, as_user: Any) -> None:
    response = as_user(world.outsider).post(
        "/api/organizations/",
        {"legal_name": "A", "kind": "sme", "country": "FR", "id": 1, "profile_status": "validated"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["profile_status"] == "draft"
    assert response.json()["id"] != 1


def test_a_list_instead_of_an_object_is_a_400(world: World, as_user: Any) -> None:
    response = as_user(world.outsider).post("/api/organizations/", [{"legal_name": "A"}], format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


# --- Changing -----------------------------------------------------------------------


def test_editor_updates_the_profile(world: World, as_user: Any) -> None:
    response = as_user(world.editor).patch(
        f"/api/organizations/{world.atlas.pk}/",
        {"city": "Rabat", "competences": ["5G", "cloud"], "id": 12345},
        format="json",
    )

    assert response.status_code == 200, response.json()
    world.atlas.refresh_from_db()
    assert world.atlas.city == "Rabat"
    assert world.atlas.competences == ["5G", "cloud"]
    assert world.atlas.version == 2


def test_member_cannot_edit_403(world: World, as_user: Any) -> None:
    response = as_user(world.member).patch(f"/api/organizations/{world.atlas.pk}/", {"city": "X"}, format="json")

    assert response.status_code == 403
    world.atlas.refresh_from_db()
    assert world.atlas.city == ""


def test_outsider_cannot_edit_an_invisible_organization_404(world: World, as_user: Any) -> None:
    response = as_user(world.outsider).patch(f"/api/organizations/{world.hidden.pk}/", {"city": "X"}, format="json")

    assert response.status_code == 404


def test_put_is_not_offered(world: World, as_user: Any) -> None:
    response = as_user(world.owner).put(f"/api/organizations/{world.atlas.pk}/", {}, format="json")

    assert response.status_code == 405


def test_only_the_owner_deletes(world: World, as_user: Any) -> None:
    assert as_user(world.editor).delete(f"/api/organizations/{world.atlas.pk}/").status_code == 403
    assert as_user(world.owner).delete(f"/api/organizations/{world.atlas.pk}/").status_code == 204
    assert not Organization.objects.filter(pk=world.atlas.pk).exists()


def test_submit_then_staff_validate(world: World, as_user: Any) -> None:
    # Given a draft applicant
    # When its owner submits it
    submitted = as_user(world.applicant_owner).post(f"/api/organizations/{world.applicant.pk}/submit/")
    assert submitted.status_code == 200
    assert submitted.json()["profile_status"] == "submitted"

    # Then staff of another cluster cannot validate it (they do not even see it)
    assert as_user(world.ir_admin).post(f"/api/organizations/{world.applicant.pk}/validate/").status_code == 404

    # And staff of the cluster it applied to can
    validated = as_user(world.mnc_broker).post(f"/api/organizations/{world.applicant.pk}/validate/")
    assert validated.status_code == 200
    assert validated.json()["profile_status"] == "validated"


def test_submitting_twice_is_a_clear_400(world: World, as_user: Any) -> None:
    client = as_user(world.applicant_owner)
    client.post(f"/api/organizations/{world.applicant.pk}/submit/")

    response = client.post(f"/api/organizations/{world.applicant.pk}/submit/")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Only a draft profile can be submitted."]}


def test_owner_cannot_validate_own_profile(world: World, as_user: Any) -> None:
    response = as_user(world.applicant_owner).post(f"/api/organizations/{world.applicant.pk}/validate/")

    assert response.status_code == 403
    world.applicant.refresh_from_db()
    assert world.applicant.profile_status == ProfileStatus.DRAFT
