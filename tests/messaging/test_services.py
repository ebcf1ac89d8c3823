"""Messaging services against the real database, broadcasts observed after commit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from matchmaking.models import OrganizationMember, Visibility
from messaging import events, selectors, services
from messaging.demo import seed_conversations
from messaging.models import Conversation, ConversationKind, Message, Notification, Participant
from tests.messaging.conftest import World, make_org, make_user

pytestmark = pytest.mark.django_db


def post(world: World, user: Any, text: str, key: str) -> Message:
    message, _ = services.post_message(user=user, conversation_id=world.conversation.pk, text=text, client_key=key)
    return message


def test_orders_are_consecutive_and_text_is_stored_as_typed(world: World) -> None:
    texts = ["Bonjour 👋", "مرحبا بكم", "<script>alert('x')</script>", "tab\tand\nnewline"]
    messages = [post(world, world.amina, text, f"k{n}") for n, text in enumerate(texts)]
    assert [m.order for m in messages] == [1, 2, 3, 4]
    assert list(Message.objects.order_by("order").values_list("text", flat=True)) == texts
    world.conversation.refresh_from_db()
    assert world.conversation.last_order == 4


def test_same_client_key_is_one_message(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        first, created = services.post_message(
            user=world.amina, conversation_id=world.conversation.pk, text="x", client_key="dup"
        )
        again, created_again = services.post_message(
            user=world.amina, conversation_id=world.conversation.pk, text="x", client_key="dup"
        )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Message.objects.count() == 1
    assert len(callbacks) == 1  # broadcast once
    # The same key from someone else is a different message
    other = post(world, world.louis, "x", "dup")
    assert other.order == 2


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "invalid"),
        ("  \n\t ", "invalid"),
        ("bell\x07", "invalid"),
        ("nul\x00", "invalid"),
        ("\ud800 lone surrogate", "invalid"),
        ("x" * (events.MAX_TEXT_BYTES + 1), "too_long"),
        ("€" * (events.MAX_TEXT_BYTES // 3 + 1), "too_long"),
    ],
)
def test_bad_text_is_refused(world: World, text: str, code: str) -> None:
    with pytest.raises(ValidationError) as error:
        post(world, world.amina, text, "k")
    assert error.value.error_list[0].code == code
    assert Message.objects.count() == 0


def test_outsiders_cannot_post_or_read(world: World) -> None:
    with pytest.raises(Http404):
        post(world, world.eve, "hello", "k")
    with pytest.raises(Http404):
        services.mark_read(user=world.eve, conversation_id=world.conversation.pk, up_to_order=1)


def test_edit_and_delete_window_and_ownership(world: World) -> None:
    message = post(world, world.amina, "first", "k")
    with pytest.raises(PermissionDenied):
        services.edit_message(
            user=world.louis, conversation_id=world.conversation.pk, message_id=message.pk, text="hijack"
        )
    edited = services.edit_message(
        user=world.amina, conversation_id=world.conversation.pk, message_id=message.pk, text="second"
    )
    assert edited.text == "second"
    assert edited.edited_at is not None
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    with pytest.raises(PermissionDenied):
        services.delete_message(user=world.amina, conversation_id=world.conversation.pk, message_id=message.pk)
    fresh = post(world, world.amina, "oops", "k2")
    deleted = services.delete_message(user=world.amina, conversation_id=world.conversation.pk, message_id=fresh.pk)
    assert deleted.text == ""
    assert deleted.deleted_at is not None
    assert selectors.message_payload(deleted)["deleted"] is True


def test_unread_counts_in_one_query_and_read_marker_only_moves_forward(
    world: World, django_assert_num_queries: Any
) -> None:
    for n in range(3):
        post(world, world.amina, f"m{n}", f"k{n}")
    second = services.open_direct_conversation(organizations=[world.atlas, world.outsider_org])
    services.post_message(user=world.eve, conversation_id=second.pk, text="hi", client_key="e1")
    with django_assert_num_queries(1):
        counts = selectors.unread_counts(world.amina.pk)
    assert counts == {second.pk: 1}  # her own messages are not unread for her
    assert selectors.unread_counts(world.louis.pk) == {world.conversation.pk: 3}
    state = services.mark_read(user=world.louis, conversation_id=world.conversation.pk, up_to_order=2)
    assert state == {"conversation": world.conversation.pk, "order": 2, "unread": 1, "unread_total": 1}
    state = services.mark_read(user=world.louis, conversation_id=world.conversation.pk, up_to_order=1)
    assert state["order"] == 2  # never back
    state = services.mark_read(user=world.louis, conversation_id=world.conversation.pk, up_to_order=999)
    assert state["order"] == 3
    assert state["unread_total"] == 0


def test_inbox_lists_unread_and_preview_without_n_plus_one(world: World, django_assert_max_num_queries: Any) -> None:
    for n in range(3):
        services.open_direct_conversation(organizations=[world.seine, make_org(f"Org {n}", world.mnc, "MA")])
    post(world, world.amina, "dernier message", "k")
    with django_assert_max_num_queries(2):
        rows = list(selectors.inbox(world.louis.pk))
        names = [[o.name for o in row.conversation.organizations.all()] for row in rows]
    assert len(rows) == 4
    assert len(names) == 4
    first: Any = rows[0]
    assert (first.conversation_id, first.unread, first.last_text) == (world.conversation.pk, 1, "dernier message")


def test_participants_follow_organization_membership(world: World) -> None:
    # Given a new colleague joins Seine
    newcomer = make_user("new@seine.example")
    member = OrganizationMember.objects.create(user=newcomer, organization=world.seine)
    assert Participant.objects.active().filter(conversation=world.conversation, user=newcomer).exists()
    # When they leave
    member.delete()
    participant = Participant.objects.get(conversation=world.conversation, user=newcomer)
    assert participant.left_at is not None
    with pytest.raises(Http404):
        post(world, newcomer, "still there?", "k")


def test_direct_conversation_is_idempotent_per_opener(world: World) -> None:
    again = services.open_direct_conversation(
        organizations=[world.seine, world.atlas], opened_by_kind="introduction", opened_by_id=1
    )
    assert again.pk == world.conversation.pk
    with pytest.raises(ValidationError):
        services.open_direct_conversation(organizations=[world.atlas, world.atlas])
    users = set(Participant.objects.active().filter(conversation=world.conversation).values_list("user", flat=True))
    assert users == {world.amina.pk, world.karim.pk, world.louis.pk}


def test_consortium_conversation_follows_its_partners(world: World) -> None:
    conversation = services.open_consortium_conversation(
        organizations=[world.atlas, world.seine], title="HORIZON-CL4 consortium", opened_by_id=7
    )
    assert conversation.kind == ConversationKind.CONSORTIUM
    services.set_conversation_organizations(
        conversation_id=conversation.pk, organizations=[world.atlas, world.outsider_org]
    )
    active = set(Participant.objects.active().filter(conversation=conversation).values_list("user", flat=True))
    assert active == {world.amina.pk, world.karim.pk, world.eve.pk}


def test_only_brokers_of_a_party_open_brokered_conversations(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.open_brokered_conversation(staff_user=world.louis, organizations=[world.atlas])
    with pytest.raises(PermissionDenied):  # neither party is an MNC member
        services.open_brokered_conversation(staff_user=world.broker, organizations=[world.seine])
    conversation = services.open_brokered_conversation(
        staff_user=world.broker, organizations=[world.atlas, world.seine], title="Mise en relation"
    )
    hidden = make_org("Discrète", world.systematic, "FR", visibility=Visibility.CLUSTER)
    with pytest.raises(PermissionDenied):  # a party the broker may not see
        services.open_brokered_conversation(staff_user=world.broker, organizations=[world.atlas, hidden])
    staff = Participant.objects.get(conversation=conversation, user=world.broker)
    assert staff.organization is None
    assert conversation.kind == ConversationKind.BROKERED
    assert conversation.participants.count() == 4


def test_notify_user_persists_then_broadcasts_after_commit(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        notification = services.notify_user(
            user_id=world.louis.pk, kind="introduction.accepted", payload={"title": "Atlas a accepté", "url": "/fr/"}
        )
    assert Notification.objects.get().pk == notification.pk
    assert len(callbacks) == 1
    assert selectors.unread_notification_count(world.louis.pk) == 1
    assert services.mark_notifications_read(user=world.louis) == 1
    assert selectors.unread_notification_count(world.louis.pk) == 0


def test_demo_conversations_are_seeded_once(world: World) -> None:
    from matchmaking.models import Cluster, IntroductionRequest

    Cluster.objects.create(code="images-reseaux", name="Images & Réseaux", country="FR")
    created = seed_conversations()
    assert created == 3 - 1  # no Images & Réseaux member with users: that script is skipped
    assert seed_conversations() == 0
    # each one opened the way real ones are: by an accepted introduction
    accepted = IntroductionRequest.objects.filter(state="accepted")
    assert accepted.count() == 2
    demo = Conversation.objects.filter(opened_by_kind="introduction", opened_by_id__in=accepted.values("pk"))
    assert demo.count() == 2
    assert Message.objects.filter(conversation__in=demo).count() == 4 + 2


def test_deleting_people_and_organizations_keeps_history(world: World) -> None:
    post(world, world.louis, "avant le départ", "k1")
    world.louis.delete()
    world.atlas.delete()
    message = Message.objects.get()
    assert (message.author_id, message.text) == (None, "avant le départ")
    assert selectors.message_payload(Message.objects.select_related("author").get())["author"]["name"] == ""
    assert not Participant.objects.active().filter(conversation=world.conversation).exists()
