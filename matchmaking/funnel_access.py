"""Who may see or act on introductions, consortia and saved searches.

The funnel's counterpart of `matchmaking/access.py` (which answers for
organizations and memberships and is reused here): the API, the pages and
the notification payloads all ask these functions, so a rule lives once.

Anonymity (as in the Enterprise Europe Network): while an anonymous request
is not accepted, the target's people see the requester only as "an
organization from <country>, <kind>". `requester_label` / `requester_public`
are the only way views and serializers show a requester.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from matchmaking import access
from matchmaking.countries import country_name
from matchmaking.models import (
    Cluster,
    Consortium,
    ConsortiumPartner,
    IntroductionRequest,
    IntroductionState,
    Membership,
    MembershipStatus,
    OrganizationMember,
    PartnerState,
    SavedSearch,
)


def _authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", True))


def _superuser(user: Any) -> bool:
    return _authenticated(user) and bool(getattr(user, "is_superuser", False))


def organization_ids(user: Any) -> frozenset[int]:
    """Organizations the user acts for (any role)."""
    if not _authenticated(user):
        return frozenset()
    return frozenset(OrganizationMember.objects.filter(user_id=user.pk).values_list("organization_id", flat=True))


def is_member_of(user: Any, organization_id: int) -> bool:
    return (
        _authenticated(user)
        and OrganizationMember.objects.filter(user_id=user.pk, organization_id=organization_id).exists()
    )


# --- Introductions -------------------------------------------------------------


def brokering_cluster_ids(request: IntroductionRequest) -> frozenset[int]:
    """Clusters with a broker policy where the requester or the target is admitted."""
    return frozenset(
        Membership.objects.filter(
            organization_id__in=[request.requester_id, request.target_id],
            status=MembershipStatus.ADMITTED,
            cluster__brokered_introductions=True,
        ).values_list("cluster_id", flat=True)
    )


def involved_cluster_ids(request: IntroductionRequest) -> frozenset[int]:
    """Clusters where either side is admitted: their staff follow the request on the dashboard."""
    return frozenset(
        Membership.objects.filter(
            organization_id__in=[request.requester_id, request.target_id], status=MembershipStatus.ADMITTED
        ).values_list("cluster_id", flat=True)
    )


def can_broker(user: Any, request: IntroductionRequest) -> bool:
    """Staff of a brokering cluster of either side (or a superuser) may approve, annotate or decline."""
    if _superuser(user):
        return True
    return bool(access.staff_cluster_ids(user) & brokering_cluster_ids(request))


def introductions_visible_to(user: Any) -> QuerySet[IntroductionRequest]:
    """Requests a user may read: their organizations' (sent or received) and those their clusters' staff follow.

    A target does not see a request still waiting for a broker: the broker may decline it.
    """
    base = IntroductionRequest.objects.select_related("requester", "target", "opportunity", "requested_by", "broker")
    if not _authenticated(user):
        return base.none()
    if _superuser(user):
        return base
    orgs = organization_ids(user)
    condition = Q(requester_id__in=orgs) | (Q(target_id__in=orgs) & ~Q(state=IntroductionState.PENDING_BROKER))
    staff = access.staff_cluster_ids(user)
    if staff:
        followed = Membership.objects.filter(cluster_id__in=staff, status=MembershipStatus.ADMITTED).values(
            "organization_id"
        )
        condition |= Q(requester_id__in=followed) | Q(target_id__in=followed)
    return base.filter(condition)


def access_introduction(user: Any, request_id: Any) -> IntroductionRequest:
    """The request if the user may read it; Http404 otherwise (existence does not leak)."""
    try:
        return introductions_visible_to(user).get(pk=int(request_id))
    except (IntroductionRequest.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404("No such introduction request.") from exc


def requester_revealed(request: IntroductionRequest, user: Any) -> bool:
    """Whether `user` may know who sent the request."""
    if not request.anonymous or request.state == IntroductionState.ACCEPTED:
        return True
    if _superuser(user) or is_member_of(user, request.requester_id):
        return True
    # Brokers screen the request, so they must know both sides.
    return can_broker(user, request)


def anonymous_label(request: IntroductionRequest) -> str:
    org = request.requester
    return _("an organization from %(country)s, %(kind)s") % {
        "country": country_name(org.country),
        "kind": str(org.get_kind_display()),
    }


def requester_label(request: IntroductionRequest, user: Any) -> str:
    return str(request.requester) if requester_revealed(request, user) else anonymous_label(request)


def requester_public(request: IntroductionRequest, user: Any) -> dict[str, Any]:
    """What `user` may know about the requester, for serializers and templates alike."""
    org = request.requester
    if requester_revealed(request, user):
        return {"id": org.pk, "name": str(org), "country": org.country, "kind": org.kind, "anonymous": False}
    return {"id": None, "name": anonymous_label(request), "country": org.country, "kind": org.kind, "anonymous": True}


def broker_queue(user: Any) -> QuerySet[IntroductionRequest]:
    """Requests waiting for a broker of one of the user's clusters, oldest first."""
    base = IntroductionRequest.objects.filter(state=IntroductionState.PENDING_BROKER).select_related(
        "requester", "target", "opportunity", "requested_by"
    )
    if _superuser(user):
        return base.order_by("created_at", "pk")
    staff = access.staff_cluster_ids(user)
    if not staff:
        return base.none()
    brokered = Cluster.objects.filter(pk__in=staff, brokered_introductions=True).values_list("pk", flat=True)
    members = Membership.objects.filter(cluster_id__in=brokered, status=MembershipStatus.ADMITTED).values(
        "organization_id"
    )
    return base.filter(Q(requester_id__in=members) | Q(target_id__in=members)).order_by("created_at", "pk")


def is_staff_anywhere(user: Any) -> bool:
    return _superuser(user) or bool(access.staff_cluster_ids(user))


# --- Consortia ------------------------------------------------------------------


def consortia_visible_to(user: Any) -> QuerySet[Consortium]:
    """Consortia of the user's organizations: coordinated, or partnered (invited or accepted)."""
    base = Consortium.objects.select_related("call", "coordinator")
    if not _authenticated(user):
        return base.none()
    if _superuser(user):
        return base
    orgs = organization_ids(user)
    partnered = ConsortiumPartner.objects.filter(
        organization_id__in=orgs, state__in=[PartnerState.INVITED, PartnerState.ACCEPTED]
    ).values("consortium_id")
    return base.filter(Q(coordinator_id__in=orgs) | Q(pk__in=partnered))


def access_consortium(user: Any, consortium_id: Any) -> Consortium:
    try:
        return consortia_visible_to(user).get(pk=int(consortium_id))
    except (Consortium.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404("No such consortium.") from exc


def can_coordinate(user: Any, consortium: Consortium) -> bool:
    """Owners and editors of the coordinating organization steer the consortium."""
    if _superuser(user):
        return True
    return access.organization_role(user, consortium.coordinator) in access.EDITOR_ROLES


def access_consortium_for_coordination(user: Any, consortium_id: Any) -> Consortium:
    consortium = access_consortium(user, consortium_id)
    if not can_coordinate(user, consortium):
        raise PermissionDenied(_("Only the coordinator's owners and editors may change this consortium."))
    return consortium


def is_consortium_member(user: Any, consortium: Consortium) -> bool:
    """Coordinator's people and accepted partners' people: they share the consortium conversation."""
    if _superuser(user):
        return True
    orgs = organization_ids(user)
    if consortium.coordinator_id in orgs:
        return True
    return ConsortiumPartner.objects.filter(
        consortium=consortium, organization_id__in=orgs, state=PartnerState.ACCEPTED
    ).exists()


# --- Saved searches -------------------------------------------------------------


def access_saved_search(user: Any, saved_search_id: Any) -> SavedSearch:
    """Saved searches are private to their owner."""
    if not _authenticated(user):
        raise Http404("No such saved search.")
    try:
        return SavedSearch.objects.get(pk=int(saved_search_id), user_id=user.pk)
    except (SavedSearch.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404("No such saved search.") from exc
