"""Reads of the funnel shared by pages and the API: inboxes, the staff dashboard's figures."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from matchmaking import access, funnel_access
from matchmaking.models import (
    Cluster,
    Consortium,
    ConsortiumPartner,
    IntroductionEvent,
    IntroductionRequest,
    IntroductionState,
    Membership,
    MembershipStatus,
    PartnerState,
)

S = IntroductionState


def received(user: Any) -> QuerySet[IntroductionRequest]:
    """Requests to the user's organizations (those a broker has not screened yet stay hidden)."""
    orgs = funnel_access.organization_ids(user)
    return funnel_access.introductions_visible_to(user).filter(target_id__in=orgs).exclude(state=S.PENDING_BROKER)


def sent(user: Any) -> QuerySet[IntroductionRequest]:
    return funnel_access.introductions_visible_to(user).filter(requester_id__in=funnel_access.organization_ids(user))


def my_consortia(user: Any) -> QuerySet[Consortium]:
    return funnel_access.consortia_visible_to(user).order_by("-created_at")


def my_invitations(user: Any) -> QuerySet[ConsortiumPartner]:
    return ConsortiumPartner.objects.filter(
        organization_id__in=funnel_access.organization_ids(user), state=PartnerState.INVITED
    ).select_related("consortium__call", "consortium__coordinator", "organization")


@dataclass
class FunnelStats:
    total: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    brokered: int = 0
    accepted_rate: float | None = None
    median_response_hours: float | None = None
    median_broker_hours: float | None = None
    flows: list[tuple[str, str, int]] = field(default_factory=list)  # requester cluster → target cluster, count
    daily: list[tuple[str, int, int]] = field(default_factory=list)  # day, requested, accepted
    conversations_opened: int = 0


def _cluster_codes(org_ids: set[int]) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = defaultdict(list)
    for org_id, code in Membership.objects.filter(
        organization_id__in=org_ids, status=MembershipStatus.ADMITTED
    ).values_list("organization_id", "cluster__code"):
        codes[org_id].append(code)
    return codes


def dashboard_requests(user: Any, cluster_ids: frozenset[int] | None = None) -> QuerySet[IntroductionRequest]:
    """Requests that involve a member of the staff user's clusters (any request for superusers)."""
    qs = IntroductionRequest.objects.all()
    if getattr(user, "is_superuser", False):
        scope = cluster_ids
    else:
        staff = access.staff_cluster_ids(user)
        scope = (cluster_ids & staff) if cluster_ids else staff
        if not scope:
            return qs.none()
    if scope:
        members = Membership.objects.filter(cluster_id__in=scope, status=MembershipStatus.ADMITTED).values(
            "organization_id"
        )
        qs = qs.filter(requester_id__in=members) | qs.filter(target_id__in=members)
    return qs


def funnel_stats(user: Any, *, days: int = 30, cluster: Cluster | None = None) -> FunnelStats:
    """Counts, response times, cross-cluster flows and a daily series for the staff dashboard."""
    requests = list(
        dashboard_requests(user, frozenset({cluster.pk}) if cluster else None).values(
            "pk", "requester_id", "target_id", "state", "created_at", "decided_at", "conversation_id"
        )
    )
    stats = FunnelStats(total=len(requests))
    if not requests:
        return stats
    stats.by_state = dict(Counter(r["state"] for r in requests))
    ids = [r["pk"] for r in requests]
    events = IntroductionEvent.objects.filter(request_id__in=ids).values_list(
        "request_id", "from_state", "to_state", "at"
    )
    first_at: dict[int, Any] = {}
    forwarded_at: dict[int, Any] = {}
    brokered: set[int] = set()
    for request_id, from_state, to_state, at in events:
        if not from_state:
            first_at[request_id] = at
        if to_state == S.PENDING_BROKER:
            brokered.add(request_id)
        if from_state == S.PENDING_BROKER and to_state == S.PENDING_TARGET:
            forwarded_at[request_id] = at
    stats.brokered = len(brokered)
    answered = [r for r in requests if r["state"] in (S.ACCEPTED, S.DECLINED) and r["decided_at"]]
    if answered:
        stats.accepted_rate = sum(1 for r in answered if r["state"] == S.ACCEPTED) / len(answered)
        hours = [
            (r["decided_at"] - forwarded_at.get(r["pk"], r["created_at"])).total_seconds() / 3600 for r in answered
        ]
        stats.median_response_hours = round(statistics.median(hours), 1)
    broker_hours = [(forwarded_at[pk] - first_at[pk]).total_seconds() / 3600 for pk in forwarded_at if pk in first_at]
    if broker_hours:
        stats.median_broker_hours = round(statistics.median(broker_hours), 1)
    stats.conversations_opened = sum(1 for r in requests if r["conversation_id"])

    codes = _cluster_codes({r["requester_id"] for r in requests} | {r["target_id"] for r in requests})
    flows: Counter[tuple[str, str]] = Counter()
    for r in requests:
        for a in codes.get(r["requester_id"], ["—"]):
            for b in codes.get(r["target_id"], ["—"]):
                flows[(a, b)] += 1
    stats.flows = sorted(((a, b, n) for (a, b), n in flows.items()), key=lambda x: (-x[2], x[0], x[1]))

    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    requested: Counter[Any] = Counter()
    accepted: Counter[Any] = Counter()
    for r in requests:
        day = timezone.localtime(r["created_at"]).date()
        if day >= start:
            requested[day] += 1
        if r["state"] == S.ACCEPTED and r["decided_at"]:
            decided = timezone.localtime(r["decided_at"]).date()
            if decided >= start:
                accepted[decided] += 1
    stats.daily = [
        (
            (start + timedelta(days=i)).isoformat(),
            requested[start + timedelta(days=i)],
            accepted[start + timedelta(days=i)],
        )
        for i in range(days)
    ]
    return stats


def chart_bars(daily: list[tuple[str, int, int]], *, width: int = 600, height: int = 160) -> dict[str, Any]:
    """Geometry of an inline-SVG bar chart (requested vs accepted per day), computed here so templates stay dumb."""
    peak = max([1, *(max(req, acc) for _day, req, acc in daily)])
    slot = width / max(1, len(daily))
    bar = max(1.0, slot / 2 - 1)
    bars = []
    for i, (day, req, acc) in enumerate(daily):
        x = i * slot
        h_req = round(req / peak * (height - 20), 1)
        h_acc = round(acc / peak * (height - 20), 1)
        bars.append(
            {
                "day": day,
                "requested": req,
                "accepted": acc,
                "x_req": round(x, 1),
                "x_acc": round(x + bar + 1, 1),
                "w": round(bar, 1),
                "y_req": round(height - h_req, 1),
                "h_req": h_req,
                "y_acc": round(height - h_acc, 1),
                "h_acc": h_acc,
            }
        )
    return {"width": width, "height": height, "peak": peak, "bars": bars}
