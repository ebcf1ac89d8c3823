"""Matchmaking pages: introductions (anonymity, answers, broker queue), dashboard, calls, consortia, saved searches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from matchmaking.models import IntroductionRequest, IntroductionState, SavedSearch
from matchmaking.services import consortia, introductions
from tests.fixtures import funnel
from tests.fixtures.search import indices  # noqa: F401
from tests.frontend.conftest import activate_totp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def mm() -> dict[str, Any]:
    mnc = funnel.cluster("MNC", "MA", brokered=True)
    sys = funnel.cluster("SYS", "FR")
    funnel.agreement(mnc, sys)
    atlas, atlas_people = funnel.organization("Atlas Pay", mnc, country="MA", kind="sme", pic="999999001")
    seine, seine_people = funnel.organization("Seine Secure", sys, country="FR", kind="startup")
    lyon, lyon_people = funnel.organization("Lyon Labs", sys, country="FR", kind="university")
    broker = funnel.staff(mnc, "broker@mnc.example")
    activate_totp(broker)
    return {
        "atlas": atlas,
        "atlas_user": atlas_people[0],
        "seine": seine,
        "seine_user": seine_people[0],
        "lyon": lyon,
        "lyon_user": lyon_people[0],
        "broker": broker,
        "outsider": funnel.user(),
        "call": funnel.call(min_partners=3, min_countries=2),
    }


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, **kwargs: Any) -> str:
    with translation.override("en"):
        return reverse(f"matchmaking:{name}", kwargs=kwargs or None)


def test_request_form_sends_an_anonymous_request_the_target_sees_anonymously(mm: dict[str, Any]) -> None:
    # Given the Lyon member asks to meet Seine anonymously through the form
    client = client_for(mm["lyon_user"])
    form_url = url("introduction_new", target_pk=mm["seine"].pk)
    assert client.get(form_url).status_code == 200
    response = client.post(
        form_url,
        {"requester": mm["lyon"].pk, "purpose": "research", "message": "Let us talk about 5G.", "anonymous": "on"},
    )
    intro = IntroductionRequest.objects.get()
    assert response.status_code == 302
    assert intro.state == IntroductionState.PENDING_TARGET
    # Then Seine's page shows "an organization from France, University", never the name
    page = client_for(mm["seine_user"]).get(url("introduction_detail", pk=intro.pk)).content.decode()
    assert "an organization from France, University" in page
    assert "Lyon Labs" not in page
    listing = client_for(mm["seine_user"]).get(url("introduction_list")).content.decode()
    assert "Lyon Labs" not in listing
    # When Seine accepts, the requester is revealed
    response = client_for(mm["seine_user"]).post(url("introduction_action", pk=intro.pk, action="accept"))
    assert response.status_code == 302
    page = client_for(mm["seine_user"]).get(url("introduction_detail", pk=intro.pk)).content.decode()
    assert "Lyon Labs" in page


def test_form_errors_are_shown_not_raised(mm: dict[str, Any]) -> None:
    client = client_for(mm["lyon_user"])
    response = client.post(url("introduction_new", target_pk=mm["seine"].pk), {"requester": mm["lyon"].pk})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert client.post(url("introduction_action", pk=999, action="accept")).status_code == 404
    assert client.post(url("introduction_action", pk=1, action="explode")).status_code == 404


def test_strangers_get_404(mm: dict[str, Any]) -> None:
    intro = introductions.request_introduction(
        mm["lyon_user"], requester_id=mm["lyon"].pk, target_id=mm["seine"].pk, purpose="other", message="hi"
    )
    assert client_for(mm["outsider"]).get(url("introduction_detail", pk=intro.pk)).status_code == 404
    assert Client().get(url("introduction_detail", pk=intro.pk)).status_code == 302  # to the login page


def test_broker_queue_and_approval(mm: dict[str, Any]) -> None:
    intro = introductions.request_introduction(
        mm["atlas_user"], requester_id=mm["atlas"].pk, target_id=mm["seine"].pk, purpose="commercial", message="Hi"
    )
    broker = client_for(mm["broker"])
    queue = broker.get(url("broker_queue")).content.decode()
    assert "Atlas Pay" in queue
    assert "Seine Secure" in queue
    assert client_for(mm["seine_user"]).get(url("broker_queue")).status_code == 403
    broker.post(url("introduction_action", pk=intro.pk, action="approve"), {"note": "Known to us", "next": "queue"})
    intro.refresh_from_db()
    assert intro.state == IntroductionState.PENDING_TARGET
    dashboard = broker.get(url("dashboard"))
    assert dashboard.status_code == 200
    html = dashboard.content.decode()
    assert "<svg" in html
    assert 'id="stat-total">1<' in html
    assert "MNC" in html


def test_calls_and_consortium_workspace(mm: dict[str, Any]) -> None:
    client = client_for(mm["atlas_user"])
    page = client.get(url("call_detail", pk=mm["call"].pk))
    assert page.status_code == 200
    assert "Minimum distinct eligible countries" in page.content.decode()
    response = client.post(url("call_detail", pk=mm["call"].pk), {"coordinator": mm["atlas"].pk, "name": "Pay Safe"})
    assert response.status_code == 302
    consortium = mm["atlas"].coordinated_consortia.get()
    consortia.invite_partner(mm["atlas_user"], consortium.pk, organization_id=mm["seine"].pk, role_title="Security")
    # the live panel's JSON follows acceptance
    data = client.get(url("consortium_eligibility", pk=consortium.pk)).json()
    assert data["eligibility"]["eligible"] is False
    invite = consortium.partners.get()
    client_for(mm["seine_user"]).post(
        url("consortium_action", pk=consortium.pk, action="accept"), {"partner": invite.pk}
    )
    data = client.get(url("consortium_eligibility", pk=consortium.pk)).json()
    rules = {r["code"]: r for r in data["eligibility"]["rules"]}
    assert rules["min_countries"]["explanation"] == "needs 2 distinct eligible countries, has 2: FR, MA"
    assert rules["min_countries"]["ok"] is True
    assert rules["min_partners"]["explanation"] == "needs 3 partners, has 2: Atlas Pay, Seine Secure"
    html = client.get(url("consortium_detail", pk=consortium.pk)).content.decode()
    assert "needs 3 partners, has 2" in html
    assert "Export partners (CSV)" in html
    csv_response = client.get(url("consortium_csv", pk=consortium.pk))
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "999999001" in csv_response.content.decode()
    assert client_for(mm["outsider"]).get(url("consortium_csv", pk=consortium.pk)).status_code == 404
    assert client_for(mm["outsider"]).get(url("consortium_eligibility", pk=consortium.pk)).status_code == 404
    assert client.post(url("consortium_action", pk=consortium.pk, action="add-role"), {"title": ""}).status_code == 302


def test_saved_search_list_and_create(mm: dict[str, Any]) -> None:
    client = client_for(mm["lyon_user"])
    response = client.post(url("saved_search_create"), {"name": "Cyber", "querystring": "q=cybersecurity&country=FR"})
    assert response.status_code == 302
    saved = SavedSearch.objects.get()
    assert saved.query == "cybersecurity"
    assert saved.filters == {"country": ["FR"]}
    assert "Cyber" in client.get(url("saved_search_list")).content.decode()
    assert client_for(mm["outsider"]).post(url("saved_search_delete", pk=saved.pk)).status_code == 404
    client.post(url("saved_search_delete", pk=saved.pk))
    assert not SavedSearch.objects.exists()


@pytest.mark.elasticsearch
def test_recommendations_page_and_role_suggestions(mm: dict[str, Any], request: pytest.FixtureRequest) -> None:
    from search import indexing, lifecycle

    request.getfixturevalue("indices")
    funnel.opportunity(mm["atlas"], "technology_request", "Cybersecurity audit of payment terminals")
    funnel.opportunity(mm["seine"], "technology_offer", "Cybersecurity audit for payment systems")
    mm["lyon"].competences = ["cybersecurity", "cryptography"]
    mm["lyon"].save()
    for spec in indexing.SPECS.values():
        lifecycle.Rebuilder(spec).rebuild(threads=1)
    client = client_for(mm["atlas_user"])
    page = client.get(url("recommendations")).content.decode()
    assert "Seine Secure" in page
    assert "meets their offer" in page
    assert "Request an introduction" in page
    consortium = consortia.create_consortium(
        mm["atlas_user"], call_id=mm["call"].pk, coordinator_id=mm["atlas"].pk, name="Pay Safe"
    )
    consortia.add_role(mm["atlas_user"], consortium.pk, title="Crypto lab", competences=["cryptography"])
    page = client.get(url("consortium_detail", pk=consortium.pk)).content.decode()
    assert "Lyon Labs" in page
    assert "Covers the role&#x27;s competences: cryptography" in page


def test_invite_from_a_profile_page(mm: dict[str, Any]) -> None:
    # Given a consortium the Atlas owner steers
    consortium = consortia.create_consortium(
        mm["atlas_user"], call_id=mm["call"].pk, coordinator_id=mm["atlas"].pk, name="Pay Safe"
    )
    client = client_for(mm["atlas_user"])
    with translation.override("en"):
        profile = reverse("organization_detail", kwargs={"pk": mm["seine"].pk})
    # Then Seine's profile offers to invite it, and the invitation lands in the consortium
    assert "Invite to the consortium" in client.get(profile).content.decode()
    response = client.post(url("invite_from_profile", org_pk=mm["seine"].pk), {"consortium": consortium.pk})
    assert response.status_code == 302
    assert consortium.partners.get().organization == mm["seine"]
    assert "Invite to the consortium" not in client.get(profile).content.decode()
    # Someone who does not steer it cannot
    other = client_for(mm["seine_user"])
    response = other.post(url("invite_from_profile", org_pk=mm["lyon"].pk), {"consortium": consortium.pk})
    assert response.status_code in (403, 404)
    assert client.post(url("invite_from_profile", org_pk=mm["lyon"].pk), {"consortium": "x"}).status_code == 404
