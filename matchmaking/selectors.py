"""Reads shared by pages, the API and consumers; access is checked through `matchmaking.access`."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from matchmaking import access
from matchmaking.models import (
    Call,
    Cluster,
    ClusterAgreement,
    Invitation,
    Membership,
    MembershipStatus,
    Opportunity,
    Organization,
    OrganizationMember,
)


def admission_queue(user: Any) -> QuerySet[Membership]:
    """Pending applications to the clusters the user is staff of, oldest first."""
    clusters = access.staff_cluster_ids(user)
    if getattr(user, "is_superuser", False) and getattr(user, "is_authenticated", False):
        memberships = Membership.objects.all()
    elif clusters:
        memberships = Membership.objects.filter(cluster_id__in=clusters)
    else:
        return Membership.objects.none()
    return (
        memberships.filter(status=MembershipStatus.APPLIED)
        .select_related("organization", "cluster", "applied_by")
        .prefetch_related("organization__themes")
        .order_by("applied_at", "pk")
    )


def organization_detail(*, user: Any, organization_id: Any) -> Organization:
    """One organization the user may see, with everything a profile page shows (Http404 otherwise)."""
    access.access_organization(user, organization_id)  # 404 when missing or not visible
    return (
        Organization.objects.filter(pk=int(organization_id))
        .prefetch_related(
            "themes",
            Prefetch("opportunities", queryset=Opportunity.objects.order_by("kind", "title")),
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("cluster").order_by("cluster__code"),
            ),
        )
        .get()
    )


def user_organizations(user: Any) -> QuerySet[OrganizationMember]:
    """The user's roles, each with its organization and memberships (for dashboards and switchers)."""
    if not getattr(user, "is_authenticated", False):
        return OrganizationMember.objects.none()
    return (
        OrganizationMember.objects.filter(user_id=user.pk)
        .select_related("organization")
        .prefetch_related(Prefetch("organization__memberships", queryset=Membership.objects.select_related("cluster")))
        .order_by("organization__legal_name")
    )


def organization_people(organization: Organization) -> QuerySet[OrganizationMember]:
    return OrganizationMember.objects.filter(organization=organization).select_related("user").order_by("role", "pk")


def open_invitations(organization: Organization) -> QuerySet[Invitation]:
    from django.utils import timezone

    return Invitation.objects.filter(
        organization=organization, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def clusters_with_counts() -> QuerySet[Cluster]:
    """Clusters with `member_count` (admitted) and `pending_count` (applied)."""
    return Cluster.objects.annotate(
        member_count=Count("memberships", filter=Q(memberships__status=MembershipStatus.ADMITTED), distinct=True),
        pending_count=Count("memberships", filter=Q(memberships__status=MembershipStatus.APPLIED), distinct=True),
    ).prefetch_related("themes__shared_theme")


def cluster_directory(*, user: Any, cluster: Cluster) -> QuerySet[Organization]:
    """Admitted members of `cluster` that the user may see."""
    return (
        access.visible_organizations(user)
        .filter(memberships__cluster=cluster, memberships__status=MembershipStatus.ADMITTED)
        .prefetch_related("themes")
        .distinct()
        .order_by("legal_name")
    )


def active_agreements() -> QuerySet[ClusterAgreement]:
    return ClusterAgreement.objects.active().select_related("cluster_a", "cluster_b")


def open_calls() -> QuerySet[Call]:
    from django.utils import timezone

    return Call.objects.filter(opens_on__lte=timezone.localdate(), deadline__gt=timezone.now()).select_related(
        "published_by"
    )
