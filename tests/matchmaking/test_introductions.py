"""The introduction funnel: direct and brokered paths, anonymity, limits, expiry, notifications, access."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone, translation

from matchmaking import funnel_access
from matchmaking.models import IntroductionEvent, IntroductionRequest, IntroductionState, Organization
from matchmaking.services import introductions
from messaging.models import Conversation, Notification
from tests.fixtures import funnel

pytestmark = pytest.mark.django_db
S = IntroductionState


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def world() -> dict[str, Any]:
    """MNC (brokered) and Systematic (direct) with an agreement; one member each, plus an unrelated member."""
    mnc = funnel.cluster("MNC", "MA", brokered=True)
    sys = funnel.cluster("SYS", "FR")
    other = funnel.cluster("OTH", "FR")
    funnel.agreement(mnc, sys)
    atlas, atlas_people = funnel.organization("Atlas Pay", mnc, country="MA", kind="sme")
    seine, seine_people = funnel.organization("Seine Secure", sys, country="FR", kind="startup")
    lyon, lyon_people = funnel.organization("Lyon Labs", sys, country="FR")
    _stranger, stranger_people = funnel.organization("Stranger", other, country="FR", visibility="cluster")
    broker = funnel.staff(mnc, "broker@mnc.example")
    sys_staff = funnel.staff(sys, "staff@sys.example")
    return {
        "mnc": mnc,
        "sys": sys,
        "atlas": atlas,
        "atlas_user": atlas_people[0],
        "seine": seine,
        "seine_user": seine_people[0],
        "lyon": lyon,
        "lyon_user": lyon_people[0],
        "stranger_user": stranger_people[0],
        "broker": broker,
        "sys_staff": sys_staff,
    }


def _request(w: dict[str, Any], src: str = "seine", dst: str = "lyon", **kw: Any) -> IntroductionRequest:
    data = {"purpose": "technology", "message": "We would like to meet."} | kw
    return introductions.request_introduction(w[f"{src}_user"], requester_id=w[src].pk, target_id=w[dst].pk, **data)


def test_direct_request_goes_straight_to_the_target_and_is_notified(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # Given two Systematic members (no broker policy)
    with django_capture_on_commit_callbacks(execute=True):
        request = _request(world)
    # Then the target's people are told live and by email
    assert request.state == S.PENDING_TARGET
    assert Notification.objects.filter(user=world["lyon_user"], kind="introduction.pending_target").exists()
    assert [m.to for m in mail.outbox] == [[world["lyon_user"].email]]
    assert list(request.events.values_list("from_state", "to_state")) == [("", S.PENDING_TARGET)]


def test_brokered_request_waits_for_the_broker_then_reaches_the_target(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # Given an MNC member (brokered cluster) asking a Systematic member
    with django_capture_on_commit_callbacks(execute=True):
        request = _request(world, "atlas", "seine")
    assert request.state == S.PENDING_BROKER
    # Then only the MNC broker is told, and the target does not see it yet
    assert Notification.objects.filter(user=world["broker"], kind="introduction.pending_broker").exists()
    assert not Notification.objects.filter(user=world["seine_user"]).exists()
    with pytest.raises(Http404):
        funnel_access.access_introduction(world["seine_user"], request.pk)
    assert request in funnel_access.broker_queue(world["broker"])
    assert not funnel_access.broker_queue(world["sys_staff"]).exists()

    # When the broker approves with a note (the requester reads its notifications in English)
    world["atlas_user"].preferred_language = "en"
    world["atlas_user"].save()
    with django_capture_on_commit_callbacks(execute=True):
        introductions.approve(world["broker"], request.pk, note="Serious company, met them at GITEX.")
    request.refresh_from_db()
    # Then the target gets it, with the broker's note kept on the request
    assert request.state == S.PENDING_TARGET
    assert request.broker == world["broker"]
    assert "GITEX" in request.broker_note
    assert Notification.objects.filter(user=world["seine_user"], kind="introduction.pending_target").exists()
    told = Notification.objects.get(user=world["atlas_user"], kind="introduction.pending_target")
    assert told.payload["title"] == "A broker forwarded your introduction request to Seine Secure"


def test_broker_can_annotate_and_decline(world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    request = _request(world, "seine", "atlas")  # to an MNC member: brokered too
    assert request.state == S.PENDING_BROKER
    introductions.annotate(world["broker"], request.pk, note="Checking with the board.")
    with django_capture_on_commit_callbacks(execute=True):
        introductions.broker_decline(world["broker"], request.pk, reason="Atlas is not taking requests this month.")
    request.refresh_from_db()
    assert request.state == S.BROKER_DECLINED
    assert Notification.objects.filter(user=world["seine_user"], kind="introduction.broker_declined").exists()
    assert list(request.events.values_list("to_state", flat=True)) == [
        S.PENDING_BROKER,
        S.PENDING_BROKER,
        S.BROKER_DECLINED,
    ]


def test_only_brokers_of_the_clusters_involved_may_broker(world: dict[str, Any]) -> None:
    request = _request(world, "atlas", "seine")
    # Systematic staff can read it (their member is involved) but the MNC policy belongs to MNC's brokers.
    with pytest.raises(PermissionDenied):
        introductions.approve(world["sys_staff"], request.pk)
    with pytest.raises(Http404):
        introductions.approve(world["stranger_user"], request.pk)
    with pytest.raises(PermissionDenied):
        introductions.approve(world["atlas_user"], request.pk)


def test_acceptance_opens_a_direct_conversation(world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    request = _request(world)
    with django_capture_on_commit_callbacks(execute=True):
        request = introductions.accept(world["lyon_user"], request.pk)
    assert request.state == S.ACCEPTED
    assert request.conversation_id is not None
    conversation = Conversation.objects.get(pk=request.conversation_id)
    assert set(conversation.organizations.all()) == {world["seine"], world["lyon"]}
    assert Notification.objects.filter(user=world["seine_user"], kind="introduction.accepted").exists()
    # A second answer loses
    with pytest.raises(ValidationError):
        introductions.decline(world["lyon_user"], request.pk, reason="changed my mind")


def test_decline_needs_a_reason_and_only_the_target_answers(world: dict[str, Any]) -> None:
    request = _request(world)
    with pytest.raises(PermissionDenied):
        introductions.accept(world["seine_user"], request.pk)
    with pytest.raises(ValidationError):
        introductions.decline(world["lyon_user"], request.pk, reason="  ")
    request = introductions.decline(world["lyon_user"], request.pk, reason="Not our market.")
    assert request.state == S.DECLINED
    assert request.decline_reason == "Not our market."


def test_anonymous_requester_is_hidden_until_acceptance(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # Given an anonymous request
    with django_capture_on_commit_callbacks(execute=True):
        request = _request(world, anonymous=True)
    target_user = world["lyon_user"]
    # Then the target sees only the country and kind
    shown = funnel_access.requester_public(request, target_user)
    assert shown == {
        "id": None,
        "name": "an organization from France, Startup",
        "country": "FR",
        "kind": "startup",
        "anonymous": True,
    }
    payload = Notification.objects.get(user=target_user).payload
    assert "Seine" not in str(payload)
    assert "Seine" not in f"{mail.outbox[0].subject} {mail.outbox[0].body}"
    # while the requester's own people and the staff see who it is
    assert funnel_access.requester_public(request, world["seine_user"])["name"] == "Seine Secure"
    # When accepted, the requester is revealed
    request = introductions.accept(target_user, request.pk)
    assert funnel_access.requester_public(request, target_user)["name"] == "Seine Secure"


def test_daily_limit_per_requesting_organization(world: dict[str, Any], settings: Any) -> None:
    settings.INTRODUCTIONS_PER_DAY = 2
    targets = [funnel.organization(f"Target {i}", world["sys"])[0] for i in range(3)]
    for target in targets[:2]:
        introductions.request_introduction(
            world["seine_user"], requester_id=world["seine"].pk, target_id=target.pk, purpose="research", message="Hi"
        )
    with pytest.raises(ValidationError) as caught:
        introductions.request_introduction(
            world["seine_user"],
            requester_id=world["seine"].pk,
            target_id=targets[2].pk,
            purpose="research",
            message="Hi",
        )
    assert "daily limit" in caught.value.messages[0]
    assert "2 introduction requests" in caught.value.messages[0]
    # Requests older than 24 hours no longer count
    IntroductionRequest.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    introductions.request_introduction(
        world["seine_user"], requester_id=world["seine"].pk, target_id=targets[2].pk, purpose="research", message="Hi"
    )


def test_bad_input_and_access(world: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _request(world, purpose="spam")
    with pytest.raises(ValidationError):
        _request(world, message="")
    with pytest.raises(ValidationError):
        _request(world, "seine", "seine")
    # acting for someone else's organization
    with pytest.raises(PermissionDenied):
        introductions.request_introduction(
            world["lyon_user"],
            requester_id=world["seine"].pk,
            target_id=world["atlas"].pk,
            purpose="other",
            message="x",
        )
    # a target the requester cannot see (cluster-only profile in another cluster) looks missing
    stranger = Organization.objects.get(legal_name="Stranger")
    with pytest.raises(Http404):
        introductions.request_introduction(
            world["seine_user"], requester_id=world["seine"].pk, target_id=stranger.pk, purpose="other", message="x"
        )
    # an opportunity of a third organization
    opp = funnel.opportunity(world["atlas"], "technology_offer", "Payment SDK")
    with pytest.raises(ValidationError):
        _request(world, opportunity_id=opp.pk)
    # duplicate open request
    _request(world)
    with pytest.raises(ValidationError):
        _request(world)


def test_strangers_cannot_read_requests(world: dict[str, Any]) -> None:
    request = _request(world)
    with pytest.raises(Http404):
        funnel_access.access_introduction(world["stranger_user"], request.pk)
    with pytest.raises(Http404):
        funnel_access.access_introduction(world["atlas_user"], "not-a-number")
    assert funnel_access.access_introduction(world["sys_staff"], request.pk) == request


def test_withdraw(world: dict[str, Any]) -> None:
    request = _request(world)
    with pytest.raises(PermissionDenied):
        introductions.withdraw(world["lyon_user"], request.pk)
    assert introductions.withdraw(world["seine_user"], request.pk).state == S.WITHDRAWN
    with pytest.raises(ValidationError):
        introductions.withdraw(world["seine_user"], request.pk)


def test_reminder_once_then_expiry(
    world: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.INTRODUCTION_EXPIRY_DAYS = 21
    settings.INTRODUCTION_REMINDER_DAYS_BEFORE = 3
    request = _request(world)
    mail.outbox.clear()
    # Not yet in the reminder window
    assert introductions.remind_due(timezone.now() + timedelta(days=10)) == 0
    # Eighteen days on: one reminder, not two
    later = timezone.now() + timedelta(days=18, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert introductions.remind_due(later) == 1
        assert introductions.remind_due(later) == 0
    assert Notification.objects.filter(user=world["lyon_user"], kind="introduction.reminder").count() == 1
    assert len(mail.outbox) == 1
    assert "Rappel" in mail.outbox[0].subject  # in the recipient's language (French by default)
    # After the deadline it expires and both sides are told
    with django_capture_on_commit_callbacks(execute=True):
        assert introductions.expire_due(timezone.now() + timedelta(days=22)) == 1
        assert introductions.expire_due(timezone.now() + timedelta(days=22)) == 0
    request.refresh_from_db()
    assert request.state == S.EXPIRED
    assert Notification.objects.filter(user=world["seine_user"], kind="introduction.expired").exists()
    assert IntroductionEvent.objects.filter(request=request, to_state=S.EXPIRED, actor=None).exists()


def test_dashboard_figures_follow_the_funnel(world: dict[str, Any]) -> None:
    from matchmaking import funnel_selectors

    # Given one brokered request approved then accepted, and one direct request declined
    brokered = _request(world, "atlas", "seine")
    introductions.approve(world["broker"], brokered.pk)
    introductions.accept(world["seine_user"], brokered.pk)
    direct = _request(world)
    introductions.decline(world["lyon_user"], direct.pk, reason="No")
    # When the MNC broker and a superuser look at the dashboard
    mnc_view = funnel_selectors.funnel_stats(world["broker"])
    everything = funnel_selectors.funnel_stats(funnel.user(is_superuser=True))
    # Then MNC staff see only requests involving MNC members; counts, rates and flows add up
    assert mnc_view.total == 1
    assert mnc_view.by_state == {S.ACCEPTED: 1}
    assert mnc_view.brokered == 1
    assert mnc_view.conversations_opened == 1
    assert mnc_view.flows == [("MNC", "SYS", 1)]
    assert everything.total == 2
    assert everything.accepted_rate == 0.5
    assert everything.median_response_hours is not None
    assert sum(req for _day, req, _acc in everything.daily) == 2
    chart = funnel_selectors.chart_bars(everything.daily)
    assert chart["peak"] == 2
    assert funnel_selectors.funnel_stats(world["stranger_user"]).total == 0
