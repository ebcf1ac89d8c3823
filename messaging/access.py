"""Who may read, post in, or open a conversation: the one place that decides.

Used by the REST API, the pages and the websocket consumer alike. A
conversation the user does not take part in raises `Http404`, exactly like
one that does not exist, so that ids do not leak existence.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, NamedTuple

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import Http404
from django.utils import timezone

from matchmaking import access as matchmaking_access
from matchmaking.models import ClusterStaff, Membership, MembershipStatus, Organization
from messaging.models import Conversation, Message, Participant

EDIT_WINDOW = timedelta(minutes=15)


def _user_id(user: Any) -> int | None:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    return int(user.pk)


def access_participant(user: Any, conversation_id: Any) -> Participant:
    """The user's active participation in the conversation, or Http404.

    One query; the participant comes with its conversation, user and
    organization so that callers (posting, read markers) need no more reads.
    """
    user_id = _user_id(user)
    if user_id is None or not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise Http404("No such conversation.")
    try:
        return Participant.objects.select_related("conversation", "user", "organization").get(
            conversation_id=conversation_id, user_id=user_id, left_at__isnull=True
        )
    except Participant.DoesNotExist:
        raise Http404("No such conversation.") from None


class Poster(NamedTuple):
    """Who posts, as the per-message hot path needs it (see `posting_participant`)."""

    user_id: int
    organization_id: int | None
    organization_name: str | None


def posting_participant(user: Any, conversation_id: Any) -> Poster:
    """`access_participant` for the per-message hot path: same rule, one plain query, no model instances.

    Posting runs hundreds of times a second on the database thread; the
    ORM's compilation of a three-way select_related, and building the
    (wide) model instances, cost more than the query itself.
    """
    user_id = _user_id(user)
    if user_id is None or not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise Http404("No such conversation.")
    participant_table = connection.ops.quote_name(Participant._meta.db_table)
    organization_table = connection.ops.quote_name(Organization._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.organization_id, o.acronym, o.legal_name FROM {participant_table} p "  # noqa: S608
            f"LEFT JOIN {organization_table} o ON o.id = p.organization_id "
            "WHERE p.conversation_id = %s AND p.user_id = %s AND p.left_at IS NULL",
            [conversation_id, user_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such conversation.")
    organization_id, acronym, legal_name = row
    # Organization.name, without building an Organization.
    return Poster(user_id, organization_id, (acronym or legal_name) if organization_id is not None else None)


def access_conversation(user: Any, conversation_id: Any) -> Conversation:
    """The conversation if the user takes part in it, or Http404."""
    return access_participant(user, conversation_id).conversation


def can_post(user: Any, conversation: Conversation) -> bool:
    user_id = _user_id(user)
    return (
        user_id is not None and Participant.objects.active().filter(conversation=conversation, user_id=user_id).exists()
    )


def can_change_message(user: Any, message: Message) -> bool:
    """Own message, not deleted, within the edit window."""
    user_id = _user_id(user)
    return (
        user_id is not None
        and message.author_id == user_id
        and message.deleted_at is None
        and timezone.now() - message.created_at <= EDIT_WINDOW
    )


def brokerable_organizations(user: Any) -> Any:
    """Organizations a staff user may bring into a brokered conversation.

    Platform administrators: any. Cluster staff: admitted members of their
    clusters (the other party, if any, may come from any cluster).
    """
    user_id = _user_id(user)
    if user_id is None:
        return Organization.objects.none()
    if user.is_superuser:
        return Organization.objects.all()
    clusters = ClusterStaff.objects.filter(user_id=user_id).values("cluster_id")
    return Organization.objects.filter(
        memberships__cluster_id__in=clusters, memberships__status=MembershipStatus.ADMITTED
    ).distinct()


def is_broker(user: Any) -> bool:
    user_id = _user_id(user)
    return user_id is not None and (user.is_superuser or ClusterStaff.objects.filter(user_id=user_id).exists())


def can_open_brokered(user: Any, organizations: Iterable[Organization]) -> bool:
    """A broker may open a conversation when one party is their cluster's member and they may see every party.

    Visibility is matchmaking's rule (profiles, clusters, agreements), so a
    broker cannot reach an organization they could not find.
    """
    user_id = _user_id(user)
    if user_id is None:
        return False
    if user.is_superuser:
        return True
    org_ids = {org.pk for org in organizations}
    if matchmaking_access.visible_organizations(user).filter(pk__in=org_ids).count() != len(org_ids):
        return False
    return Membership.objects.filter(
        organization_id__in=org_ids,
        status=MembershipStatus.ADMITTED,
        cluster__staff__user_id=user_id,
    ).exists()
