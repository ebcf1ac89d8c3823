"""Cluster directory: the clusters, their agreements and the members a viewer may see."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from frontend.views.common import paginate
from matchmaking import selectors
from matchmaking.models import Cluster, MembershipStatus, Organization, OrganizationRole


def cluster_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frontend/clusters/list.html",
        {"clusters": selectors.clusters_with_counts(), "agreements": selectors.active_agreements()},
    )


def _organizations_that_may_apply(request: HttpRequest, cluster: Cluster) -> list[Organization]:
    """The viewer's organizations (as owner or editor) that are neither members of nor applicants to `cluster`."""
    if not request.user.is_authenticated:
        return []
    return list(
        Organization.objects.filter(
            members__user=request.user, members__role__in=[OrganizationRole.OWNER, OrganizationRole.EDITOR]
        )
        .exclude(
            memberships__cluster=cluster,
            memberships__status__in=[MembershipStatus.APPLIED, MembershipStatus.ADMITTED],
        )
        .order_by("legal_name")
    )


def cluster_detail(request: HttpRequest, code: str) -> HttpResponse:
    cluster = get_object_or_404(selectors.clusters_with_counts(), code__iexact=code)
    agreements = selectors.active_agreements().filter(Q(cluster_a=cluster) | Q(cluster_b=cluster))
    members = selectors.cluster_directory(user=request.user, cluster=cluster)
    return render(
        request,
        "frontend/clusters/detail.html",
        {
            "cluster": cluster,
            "agreements": agreements,
            "members_page": paginate(request, members, per_page=30),
            "visible_count": members.count(),
            "can_apply_with": _organizations_that_may_apply(request, cluster),
        },
    )
