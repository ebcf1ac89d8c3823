"""Pages per role: who gets in, who gets a 403/404, and what each one sees."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from matchmaking.models import (
    Invitation,
    Membership,
    MembershipStatus,
    Opportunity,
    Organization,
    OrganizationMember,
    OrganizationRole,
    ProfileStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _french() -> Any:
    with translation.override("fr"):
        yield


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Anonymous visitors -------------------------------------------------------


@pytest.mark.parametrize("name", ["my_organizations", "organization_create", "staff_queue"])
def test_anonymous_visitor_is_sent_to_login(world: dict[str, Any], name: str) -> None:
    # Given an anonymous visitor
    client = Client()
    # When they open a page for signed-in people
    response = client.get(reverse(name))
    # Then they are redirected to the login page, which will bring them back
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=" in response["Location"]


def test_anonymous_visitor_is_sent_to_login_from_a_profile(world: dict[str, Any]) -> None:
    response = Client().get(reverse("organization_detail", kwargs={"pk": world["atlas"].pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_public_pages_open_to_everyone(world: dict[str, Any]) -> None:
    client = Client()
    for url in [
        reverse("home"),
        reverse("cluster_list"),
        reverse("call_list"),
        reverse("cluster_detail", args=["MNC"]),
    ]:
        assert client.get(url).status_code == 200, url


def test_anonymous_cluster_page_lists_no_member(world: dict[str, Any]) -> None:
    response = Client().get(reverse("cluster_detail", args=["MNC"]))
    assert "Atlas Numérique" not in response.content.decode()


# --- Seeing organizations -------------------------------------------------------


def test_outsider_gets_404_on_an_invisible_organization(world: dict[str, Any]) -> None:
    # Given an outsider and a draft organization that is not theirs
    client = client_for(world["outsider"])
    # When they open it
    response = client.get(reverse("organization_detail", kwargs={"pk": world["hidden"].pk}))
    # Then it does not exist for them, on the styled 404 page
    assert response.status_code == 404
    assert "Maillage" in response.content.decode()


def test_outsider_gets_404_on_cluster_only_profile(world: dict[str, Any]) -> None:
    response = client_for(world["outsider"]).get(reverse("organization_detail", kwargs={"pk": world["atlas"].pk}))
    assert response.status_code == 404


def test_member_sees_profile_without_identifiers(world: dict[str, Any]) -> None:
    response = client_for(world["member"]).get(reverse("organization_detail", kwargs={"pk": world["atlas"].pk}))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Atlas Numérique" in body
    assert "732829320" not in body
    assert reverse("organization_edit", kwargs={"pk": world["atlas"].pk}) not in body


def test_editor_and_staff_see_identifiers(world: dict[str, Any]) -> None:
    url = reverse("organization_detail", kwargs={"pk": world["atlas"].pk})
    assert "732829320" in client_for(world["editor"]).get(url).content.decode()
    assert "732829320" in client_for(world["staff"]).get(url).content.decode()


def test_fictional_profile_is_marked(world: dict[str, Any]) -> None:
    Organization.objects.filter(pk=world["atlas"].pk).update(is_fictional=True)
    body = client_for(world["member"]).get(reverse("organization_detail", kwargs={"pk": world["atlas"].pk})).content
    assert "badge-demo" in body.decode()


def test_cluster_page_lists_only_members_visible_to_the_viewer(world: dict[str, Any], make_org: Any) -> None:
    # Given an MNC member visible to everyone and Atlas, visible to its own cluster only
    make_org("Open Data Maroc", admitted_in=[world["mnc"]], visibility="everyone")
    url = reverse("cluster_detail", args=["MNC"])
    # When an outsider looks at the MNC page, they see the open profile only
    outsider_body = client_for(world["outsider"]).get(url).content.decode()
    assert "Open Data Maroc" in outsider_body
    assert "Atlas Numérique" not in outsider_body
    # And a member of an MNC organization sees both
    member_body = client_for(world["member"]).get(url).content.decode()
    assert "Open Data Maroc" in member_body
    assert "Atlas Numérique" in member_body


def test_back_to_search_link_when_coming_from_search(world: dict[str, Any]) -> None:
    from django.urls import NoReverseMatch

    try:
        reverse("search")
    except NoReverseMatch:
        pytest.skip("the search page is not installed")
    url = reverse("organization_detail", kwargs={"pk": world["atlas"].pk})
    client = client_for(world["member"])
    assert "Retour à la recherche" in client.get(url + "?from=search").content.decode()
    assert "Retour à la recherche" not in client.get(url).content.decode()


# --- Editing ------------------------------------------------------------------


def _profile_post(org: Organization, **changes: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "legal_name": org.legal_name,
        "acronym": org.acronym,
        "kind": org.kind,
        "size_band": org.size_band,
        "country": org.country,
        "city": org.city,
        "website": org.website,
        "latitude": "",
        "longitude": "",
        "siren": org.siren or "",
        "siret": org.siret or "",
        "ice": org.ice or "",
        "pic": org.pic or "",
        "description_fr": org.description_fr,
        "description_en": org.description_en,
        "competences": ", ".join(org.competences),
        "languages": ", ".join(org.languages),
        "visibility": org.visibility,
    }
    data.update(changes)
    return data


def test_editor_can_edit_the_profile(world: dict[str, Any]) -> None:
    # Given an editor of Atlas
    client = client_for(world["editor"])
    url = reverse("organization_edit", kwargs={"pk": world["atlas"].pk})
    assert client.get(url).status_code == 200
    # When they change the city and competences
    response = client.post(url, _profile_post(world["atlas"], city="Rabat", competences="5G, paiement mobile"))
    # Then the profile is saved through the service
    assert response.status_code == 302
    atlas = Organization.objects.get(pk=world["atlas"].pk)
    assert atlas.city == "Rabat"
    assert atlas.competences == ["5G", "paiement mobile"]
    assert atlas.version > world["atlas"].version


def test_member_cannot_edit(world: dict[str, Any]) -> None:
    client = client_for(world["member"])
    url = reverse("organization_edit", kwargs={"pk": world["atlas"].pk})
    assert client.get(url).status_code == 403
    assert client.post(url, _profile_post(world["atlas"], city="Nowhere")).status_code == 403
    assert Organization.objects.get(pk=world["atlas"].pk).city == world["atlas"].city


def test_outsider_cannot_even_see_the_edit_page(world: dict[str, Any]) -> None:
    assert (
        client_for(world["outsider"]).get(reverse("organization_edit", kwargs={"pk": world["hidden"].pk})).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siren", "732829321", "SIREN"),
        ("siren", "12345", "SIREN"),
        ("siret", "73282932000075", "SIRET"),
        ("ice", "001561191000067", "ICE"),
        ("pic", "12AB", "PIC"),
        ("country", "Maroc", "MA"),
        ("languages", "français", "fr"),
    ],
)
def test_bad_input_is_shown_and_nothing_is_saved(world: dict[str, Any], field: str, value: str, message: str) -> None:
    # Given a signed-in person creating an organization
    client = client_for(world["outsider"])
    before = Organization.objects.count()
    data = {
        "legal_name": "Bad Input SARL",
        "kind": "sme",
        "country": "MA",
        "visibility": "partners",
        field: value,
    }
    # When a field is wrong
    response = client.post(reverse("organization_create"), data)
    # Then the form comes back with the error next to the field, and nothing is created
    assert response.status_code == 200
    body = response.content.decode()
    assert "field-error" in body
    assert message in body
    assert Organization.objects.count() == before
    assert not OrganizationMember.objects.filter(user=world["outsider"]).exists()


def test_taken_siren_is_refused(world: dict[str, Any]) -> None:
    response = client_for(world["outsider"]).post(
        reverse("organization_create"),
        {"legal_name": "Copycat", "kind": "sme", "country": "FR", "visibility": "partners", "siren": "732 829 320"},
    )
    assert response.status_code == 200
    assert Organization.objects.filter(siren="732829320").count() == 1


def test_creator_becomes_owner(world: dict[str, Any]) -> None:
    client = client_for(world["outsider"])
    response = client.post(
        reverse("organization_create"),
        {
            "legal_name": "Sahara Labs",
            "kind": "startup",
            "country": "MA",
            "visibility": "partners",
            "ice": "001561191000066",
        },
    )
    org = Organization.objects.get(legal_name="Sahara Labs")
    assert response.status_code == 302
    assert response["Location"] == reverse("organization_detail", kwargs={"pk": org.pk})
    assert OrganizationMember.objects.get(organization=org, user=world["outsider"]).role == OrganizationRole.OWNER
    assert org.profile_status == ProfileStatus.DRAFT


def test_offers_and_needs_add_edit_delete(world: dict[str, Any]) -> None:
    client = client_for(world["editor"])
    pk = world["atlas"].pk
    # A bad TRL is refused and nothing is saved
    response = client.post(
        reverse("opportunity_create", kwargs={"pk": pk}), {"kind": "technology_offer", "title": "Paiement", "trl": "12"}
    )
    assert response.status_code == 200
    assert not Opportunity.objects.exists()
    # A good one is saved, edited, then deleted
    client.post(
        reverse("opportunity_create", kwargs={"pk": pk}),
        {
            "kind": "technology_offer",
            "title": "Paiement mobile",
            "trl": "6",
            "tags": "fintech, NFC",
            "expires_on": "2030-01-31",
        },
    )
    item = Opportunity.objects.get()
    assert item.tags == ["fintech", "NFC"]
    client.post(
        reverse("opportunity_edit", kwargs={"pk": pk, "opportunity_pk": item.pk}),
        {"kind": "technology_request", "title": "Paiement mobile", "trl": "7", "tags": "fintech"},
    )
    item.refresh_from_db()
    assert (item.kind, item.trl) == ("technology_request", 7)
    profile = client.get(reverse("organization_detail", kwargs={"pk": pk})).content.decode()
    assert "Paiement mobile" in profile
    client.post(reverse("opportunity_delete", kwargs={"pk": pk, "opportunity_pk": item.pk}))
    assert not Opportunity.objects.exists()


def test_member_cannot_add_offers(world: dict[str, Any]) -> None:
    response = client_for(world["member"]).post(
        reverse("opportunity_create", kwargs={"pk": world["atlas"].pk}), {"kind": "technology_offer", "title": "X"}
    )
    assert response.status_code == 403
    assert not Opportunity.objects.exists()


def test_submit_for_validation(world: dict[str, Any]) -> None:
    client = client_for(world["applicant"])
    client.post(reverse("organization_submit", kwargs={"pk": world["hidden"].pk}))
    assert Organization.objects.get(pk=world["hidden"].pk).profile_status == ProfileStatus.SUBMITTED


# --- Applying and the staff queue ----------------------------------------------


def test_owner_applies_to_a_cluster(world: dict[str, Any]) -> None:
    client = client_for(world["applicant"])
    url = reverse("organization_apply", kwargs={"pk": world["hidden"].pk})
    response = client.post(url, {"cluster": world["systematic"].pk, "fee_tier": "startup", "motivation": "Marchés"})
    assert response.status_code == 302
    membership = Membership.objects.get(organization=world["hidden"], cluster=world["systematic"])
    assert (membership.status, membership.fee_tier, membership.applied_by) == ("applied", "startup", world["applicant"])


def test_application_needs_a_fee_tier(world: dict[str, Any]) -> None:
    client = client_for(world["applicant"])
    response = client.post(
        reverse("organization_apply", kwargs={"pk": world["hidden"].pk}), {"cluster": world["systematic"].pk}
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(organization=world["hidden"]).exists()


def test_staff_queue_is_for_staff_only(world: dict[str, Any]) -> None:
    assert client_for(world["owner"]).get(reverse("staff_queue")).status_code == 403


def test_staff_without_totp_is_sent_to_activate_it(world: dict[str, Any]) -> None:
    # Given MNC staff without an authenticator
    client = client_for(world["staff_without_totp"])
    # When they open the staff pages
    for url in [reverse("staff_queue"), reverse("staff_membership", kwargs={"pk": world["application"].pk})]:
        response = client.get(url)
        # Then they are sent to activate TOTP first
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")
    # And cannot decide either
    client.post(reverse("staff_membership", kwargs={"pk": world["application"].pk}), {"decision": "admit"})
    assert Membership.objects.get(pk=world["application"].pk).status == MembershipStatus.APPLIED


def test_staff_with_totp_sees_the_queue_and_admits(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(world["staff"])
    queue = client.get(reverse("staff_queue")).content.decode()
    assert "Nova Pay" in queue
    url = reverse("staff_membership", kwargs={"pk": world["application"].pk})
    assert "Nova Pay" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"decision": "admit", "board_note": "Bienvenue."})
    assert response.status_code == 302
    membership = Membership.objects.get(pk=world["application"].pk)
    assert (membership.status, membership.board_note, membership.decided_by) == (
        "admitted",
        "Bienvenue.",
        world["staff"],
    )
    assert [m.to for m in mail.outbox] == [["applicant@nova.example"]]


def test_rejection_needs_a_note(world: dict[str, Any]) -> None:
    client = client_for(world["staff"])
    url = reverse("staff_membership", kwargs={"pk": world["application"].pk})
    response = client.post(url, {"decision": "reject", "board_note": ""})
    assert response.status_code == 200
    assert Membership.objects.get(pk=world["application"].pk).status == MembershipStatus.APPLIED


def test_staff_of_another_cluster_cannot_decide(world: dict[str, Any], make_user: Any) -> None:
    from matchmaking.models import ClusterStaff

    from .conftest import activate_totp

    other = make_user("staff@systematic.example")
    ClusterStaff.objects.create(user=other, cluster=world["systematic"])
    activate_totp(other)
    response = client_for(other).post(
        reverse("staff_membership", kwargs={"pk": world["application"].pk}), {"decision": "admit"}
    )
    assert response.status_code == 404
    assert Membership.objects.get(pk=world["application"].pk).status == MembershipStatus.APPLIED


def test_staff_validates_a_submitted_profile(world: dict[str, Any]) -> None:
    client_for(world["staff"]).post(reverse("staff_validate_profile", kwargs={"pk": world["nova"].pk}))
    assert Organization.objects.get(pk=world["nova"].pk).profile_status == ProfileStatus.VALIDATED


# --- People and invitations -------------------------------------------------------


def test_owner_invites_and_the_invitee_accepts(
    world: dict[str, Any], make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    owner = client_for(world["owner"])
    url = reverse("organization_members", kwargs={"pk": world["atlas"].pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(url, {"email": "newcomer@atlas.example", "role": "editor"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="newcomer@atlas.example")
    assert invitation.token in mail.outbox[0].body

    newcomer = make_user("newcomer@atlas.example")
    client = client_for(newcomer)
    accept_url = reverse("invitation_accept", kwargs={"token": invitation.token})
    assert "Atlas" in client.get(accept_url).content.decode()
    assert client.post(accept_url).status_code == 302
    assert OrganizationMember.objects.get(user=newcomer, organization=world["atlas"]).role == "editor"


def test_invitation_for_someone_else_is_refused(world: dict[str, Any]) -> None:
    invitation = Invitation.objects.create(
        organization=world["atlas"],
        email="someone@else.example",
        token="tok-123",
        invited_by=world["owner"],
        expires_at="2999-01-01T00:00:00Z",
    )
    response = client_for(world["outsider"]).post(reverse("invitation_accept", kwargs={"token": invitation.token}))
    assert response.status_code == 400
    assert not OrganizationMember.objects.filter(user=world["outsider"]).exists()


def test_unknown_invitation_token_is_404(world: dict[str, Any]) -> None:
    assert client_for(world["outsider"]).get(reverse("invitation_accept", kwargs={"token": "nope"})).status_code == 404


def test_only_owners_manage_people(world: dict[str, Any]) -> None:
    url = reverse("organization_members", kwargs={"pk": world["atlas"].pk})
    assert client_for(world["editor"]).get(url).status_code == 403
    assert client_for(world["owner"]).get(url).status_code == 200


def test_last_owner_cannot_step_down(world: dict[str, Any]) -> None:
    owner_row = OrganizationMember.objects.get(user=world["owner"], organization=world["atlas"])
    client_for(world["owner"]).post(
        reverse("member_role", kwargs={"pk": world["atlas"].pk, "member_pk": owner_row.pk}),
        {f"m{owner_row.pk}-role": "member"},
    )
    owner_row.refresh_from_db()
    assert owner_row.role == OrganizationRole.OWNER


def test_my_organizations_and_home_dashboard(world: dict[str, Any]) -> None:
    client = client_for(world["owner"])
    assert "Atlas Numérique" in client.get(reverse("my_organizations")).content.decode()
    assert "Atlas Numérique" in client.get(reverse("home")).content.decode()


# --- Error pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "status"),
    [("bad_request", 400), ("permission_denied", 403), ("page_not_found", 404), ("server_error", 500)],
)
def test_error_pages_are_styled(rf: Any, handler: str, status: int) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.views import defaults

    request = rf.get("/fr/quelque-part/")
    request.user = AnonymousUser()
    view = getattr(defaults, handler)
    response = view(request) if handler == "server_error" else view(request, Exception("x"))
    body = response.content.decode()
    assert response.status_code == status
    assert "frontend/site.css" in body
    assert "Maillage" in body


def test_cluster_page_offers_to_apply_with_own_organizations(world: dict[str, Any]) -> None:
    client = client_for(world["applicant"])
    body = client.get(reverse("cluster_detail", args=["systematic"])).content.decode()
    # Hidden Draft may apply; Nova Pay too (it applied to MNC, not Systematic)
    assert f"/organizations/{world['hidden'].pk}/apply/?cluster=systematic" in body
    # But not again to MNC, where Nova Pay is waiting
    mnc = client.get(reverse("cluster_detail", args=["MNC"])).content.decode()
    assert f"/organizations/{world['nova'].pk}/apply/" not in mnc


@pytest.mark.parametrize(
    "path",
    [
        "/fr/organizations/99999999999999999999999/",
        "/fr/organizations/99999999999999999999999/edit/",
        "/fr/staff/applications/99999999999999999999999/",
        "/fr/invitations/" + "x" * 500 + "/",
        "/fr/clusters/MNC/?page=abc",
    ],
)
def test_hostile_urls_are_4xx_or_handled(world: dict[str, Any], path: str) -> None:
    response = client_for(world["staff"]).get(path)
    assert response.status_code in {200, 404}
