"""Reads shared by pages, the API and consumers; access is checked through `matchmaking.access`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
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


# --- EU track record (CORDIS) -------------------------------------------------


@dataclass(frozen=True)
class TrackRecordProject:
    framework: str
    reference: str
    acronym: str
    title: str
    programme_part: str
    start_date: date | None
    end_date: date | None
    roles: tuple[str, ...]
    contribution: Decimal | None
    partner_count: int
    partner_countries: tuple[str, ...]


@dataclass(frozen=True)
class TrackRecord:
    """An organization's EU projects (CORDIS), newest first, with summary counts."""

    projects: tuple[TrackRecordProject, ...]
    roles: dict[str, int]
    programme_parts: dict[str, int]
    partner_countries: dict[str, int]

    @property
    def project_count(self) -> int:
        return len(self.projects)

    @property
    def coordinated(self) -> int:
        return self.roles.get("coordinator", 0)


def track_record(organization: Organization) -> TrackRecord:
    """EU projects the organization took part in, matched by FK link or by its current PIC.

    Matching the PIC as well covers a PIC entered after the last import. The
    caller checks that the viewer may see the organization.
    """
    from collections import Counter

    from matchmaking.models import EUParticipation

    mine = Q(organization=organization)
    if organization.pic:
        mine |= Q(pic=organization.pic)
    own = list(
        EUParticipation.objects.filter(mine)
        .select_related("project")
        .order_by("-project__start_date", "project__framework", "project__reference", "role")
    )
    own_pics = {p.pic for p in own}
    project_ids = list(dict.fromkeys(p.project_id for p in own))
    partners: dict[int, dict[str, str]] = {pk: {} for pk in project_ids}
    for start in range(0, len(project_ids), 500):
        rows = (
            EUParticipation.objects.filter(project_id__in=project_ids[start : start + 500])
            .exclude(pic__in=own_pics)
            .values_list("project_id", "pic", "country")
        )
        for project_id, pic, country in rows:
            partners[project_id].setdefault(pic, country)

    by_project: dict[int, list[Any]] = {}
    for participation in own:
        by_project.setdefault(participation.project_id, []).append(participation)
    roles: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    projects = []
    for project_id in project_ids:
        participations = by_project[project_id]
        project = participations[0].project
        project_roles = tuple(sorted({p.role for p in participations}))
        contributions = [p.contribution for p in participations if p.contribution is not None]
        partner_countries = tuple(sorted({c for c in partners[project_id].values() if c}))
        roles.update(project_roles)
        parts.update(part.strip() for part in project.programme_part.split(",") if part.strip())
        countries.update(partner_countries)
        projects.append(
            TrackRecordProject(
                framework=project.framework,
                reference=project.reference,
                acronym=project.acronym,
                title=project.title,
                programme_part=project.programme_part,
                start_date=project.start_date,
                end_date=project.end_date,
                roles=project_roles,
                contribution=sum(contributions, Decimal(0)) if contributions else None,
                partner_count=len(partners[project_id]),
                partner_countries=partner_countries,
            )
        )
    return TrackRecord(
        projects=tuple(projects),
        roles=dict(roles.most_common()),
        programme_parts=dict(parts.most_common()),
        partner_countries=dict(countries.most_common()),
    )
