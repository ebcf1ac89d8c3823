"""The one place that answers "may this user see or do this?" in matchmaking.

Views, the API, websocket consumers and the search index all ask here, so a
visibility rule changes in one place. The rules:

* A user sees their own organizations (any state), every organization with a
  membership (any status) in a cluster they are staff of, and the *listed*
  organizations (profile validated and admitted in at least one cluster) whose
  visibility allows it:

  - ``everyone``: any authenticated user;
  - ``partners``: the viewer shares an admitted cluster with the organization,
    or an active :class:`~matchmaking.models.ClusterAgreement` lets members of
    one of the viewer's clusters see one of the organization's admitted clusters;
  - ``cluster``: the viewer shares an admitted cluster.

* "The viewer's clusters" are the clusters where one of the viewer's
  organizations is admitted, plus the clusters the viewer is staff of.
* Superusers see everything; anonymous users see nothing.

``organization_visibility_scope`` exports the same rule as data for the search
index; ``scope_allows`` is its reference evaluation, and a test checks that
both agree with ``visible_organizations``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypedDict

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404

from maillage.db import CompiledQuery
from matchmaking.models import (
    Cluster,
    ClusterAgreement,
    ClusterStaff,
    Membership,
    MembershipStatus,
    Organization,
    OrganizationMember,
    OrganizationRole,
    ProfileStatus,
    Visibility,
)

EDITOR_ROLES = frozenset({OrganizationRole.OWNER, OrganizationRole.EDITOR})


def _is_authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", True))


def _is_superuser(user: Any) -> bool:
    return _is_authenticated(user) and bool(getattr(user, "is_superuser", False))


# --- Clusters of a user ------------------------------------------------------


def staff_cluster_ids(user: Any, role: str | None = None) -> frozenset[int]:
    """Clusters the user is staff of (optionally only with `role`)."""
    if not _is_authenticated(user):
        return frozenset()
    rows = ClusterStaff.objects.filter(user_id=user.pk)
    if role is not None:
        rows = rows.filter(role=role)
    return frozenset(rows.values_list("cluster_id", flat=True))


def is_cluster_staff(user: Any, cluster: Cluster | int, role: str | None = None) -> bool:
    cluster_id = cluster if isinstance(cluster, int) else cluster.pk
    return cluster_id in staff_cluster_ids(user, role)


def member_cluster_ids(user: Any) -> frozenset[int]:
    """Clusters where one of the user's organizations is admitted."""
    if not _is_authenticated(user):
        return frozenset()
    return frozenset(
        Membership.objects.filter(organization__members__user_id=user.pk, status=MembershipStatus.ADMITTED).values_list(
            "cluster_id", flat=True
        )
    )


def member_and_staff_cluster_queries(users: dict[str, Any], leading: Sequence[Any] = ()) -> list[QuerySet[Any]]:
    """Rows `(*leading, cluster_id, is_staff)`, the member clusters', then the staff clusters', of
    the users `users` selects: a lookup on `user_id` (`{"user_id": 5}`, `{"user_id__in": <subquery>}`).

    `leading` are columns put first: placeholders, for a union with another query's rows (a
    flat union: PostgreSQL types the NULLs of a nested one as text).
    """
    # The user's organizations as a subquery, not joins through Organization: PostgreSQL
    # planned the three-table join on every request (0.3 ms, three times the semi-join's
    # 0.1 ms; the answer itself takes 0.03 ms).
    organizations = OrganizationMember.objects.filter(**users).values("organization_id")
    member = (
        Membership.objects.filter(organization_id__in=organizations, status=MembershipStatus.ADMITTED)
        .order_by()
        .values_list(*leading, "cluster_id", Value(False, output_field=BooleanField()))
    )
    staff = (
        ClusterStaff.objects.filter(**users)
        .order_by()
        .values_list(*leading, "cluster_id", Value(True, output_field=BooleanField()))
    )
    return [member, staff]


def _member_and_staff_clusters(user_id: int) -> QuerySet[Any]:
    member, staff = member_and_staff_cluster_queries({"user_id": user_id})
    return member.union(staff, all=True)


# Every search and recommendation asks this: compiling the union each time cost more
# Python time than the database took to answer it.
_MEMBER_AND_STAFF_CLUSTERS = CompiledQuery(_member_and_staff_clusters)

# Where `remember_clusters` keeps a user's clusters on the user object.
_CLUSTERS_ATTRIBUTE = "_maillage_member_and_staff_clusters"


def remember_clusters(user: Any, rows: Iterable[tuple[int, bool]]) -> None:
    """Keep the user's `(cluster_id, is_staff)` rows, read along with the user, on the user object.

    API token authentication reads the token's user and their clusters in one statement
    (`maillage.api`), and the request's searches then ask `member_and_staff_cluster_ids`:
    the user object lives for one request, so the clusters are those of its start.
    """
    setattr(user, _CLUSTERS_ATTRIBUTE, _split_clusters(rows))


def _split_clusters(rows: Iterable[tuple[int, bool]]) -> tuple[frozenset[int], frozenset[int]]:
    rows = list(rows)
    return (
        frozenset(cluster_id for cluster_id, is_staff in rows if not is_staff),
        frozenset(cluster_id for cluster_id, is_staff in rows if is_staff),
    )


def member_and_staff_cluster_ids(user: Any) -> tuple[frozenset[int], frozenset[int]]:
    """`member_cluster_ids` and `staff_cluster_ids` in one query (every search asks for both),
    or none when they came with the user (`remember_clusters`)."""
    if not _is_authenticated(user):
        return frozenset(), frozenset()
    remembered: tuple[frozenset[int], frozenset[int]] | None = getattr(user, _CLUSTERS_ATTRIBUTE, None)
    if remembered is not None:
        return remembered
    return _split_clusters(_MEMBER_AND_STAFF_CLUSTERS.rows(user.pk))


def viewer_cluster_ids(user: Any) -> frozenset[int]:
    """Clusters the user belongs to: admitted through an organization, or as staff."""
    return member_cluster_ids(user) | staff_cluster_ids(user)


def seen_cluster_ids(viewer_clusters: frozenset[int], on: Any = None) -> frozenset[int]:
    """Clusters whose partner-visible members the given clusters' members may see, by active agreement."""
    if not viewer_clusters:
        return frozenset()
    seen: set[int] = set()
    for a_id, b_id, a_sees_b, b_sees_a in ClusterAgreement.objects.active(on).values_list(
        "cluster_a_id", "cluster_b_id", "a_members_see_b", "b_members_see_a"
    ):
        if a_sees_b and a_id in viewer_clusters:
            seen.add(b_id)
        if b_sees_a and b_id in viewer_clusters:
            seen.add(a_id)
    return frozenset(seen)


def staff_requires_mfa(user: Any) -> bool:
    """True when the user is cluster staff and has not enrolled a TOTP authenticator yet."""
    if not _is_authenticated(user):
        return False
    if not ClusterStaff.objects.filter(user_id=user.pk).exists():
        return False
    from allauth.mfa.models import Authenticator

    return not Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


# --- Organizations: seeing ---------------------------------------------------


def _admitted_in(cluster_ids: frozenset[int] | None = None) -> Exists:
    memberships = Membership.objects.filter(organization_id=OuterRef("pk"), status=MembershipStatus.ADMITTED)
    if cluster_ids is not None:
        memberships = memberships.filter(cluster_id__in=cluster_ids)
    return Exists(memberships)


def visible_organizations(user: Any) -> QuerySet[Organization]:
    """Every organization the user may see (see the module docstring for the rules)."""
    if not _is_authenticated(user):
        return Organization.objects.none()
    if _is_superuser(user):
        return Organization.objects.all()

    staff = staff_cluster_ids(user)
    mine = member_cluster_ids(user)
    viewer = staff | mine
    seen = seen_cluster_ids(viewer)

    own = Exists(OrganizationMember.objects.filter(organization_id=OuterRef("pk"), user_id=user.pk))
    condition = Q(own)
    if staff:
        condition |= Q(Exists(Membership.objects.filter(organization_id=OuterRef("pk"), cluster_id__in=staff)))
    listed = Q(profile_status=ProfileStatus.VALIDATED) & Q(_admitted_in())
    shown = Q(visibility=Visibility.EVERYONE)
    if viewer:
        shown |= Q(visibility__in=[Visibility.PARTNERS, Visibility.CLUSTER]) & Q(_admitted_in(viewer))
    if seen:
        shown |= Q(visibility=Visibility.PARTNERS) & Q(_admitted_in(seen))
    condition |= listed & shown
    return Organization.objects.filter(condition)


def can_view_organization(user: Any, org: Organization) -> bool:
    if not _is_authenticated(user) or org.pk is None:
        return False
    return visible_organizations(user).filter(pk=org.pk).exists()


def access_organization(user: Any, organization_id: Any) -> Organization:
    """The organization if the user may see it; Http404 otherwise, so existence does not leak."""
    try:
        return visible_organizations(user).get(pk=int(organization_id))
    except (Organization.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404("No such organization.") from exc


def organization_role(user: Any, org: Organization) -> str | None:
    """The user's role in the organization, or None."""
    if not _is_authenticated(user) or org.pk is None:
        return None
    return (
        OrganizationMember.objects.filter(organization_id=org.pk, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )


# --- Organizations: changing -------------------------------------------------


def can_edit_organization(user: Any, org: Organization) -> bool:
    if _is_superuser(user):
        return True
    return organization_role(user, org) in EDITOR_ROLES


def access_organization_for_edit(user: Any, organization_id: Any) -> Organization:
    """The organization if the user may edit it: 404 when not visible, PermissionDenied when only visible."""
    org = access_organization(user, organization_id)
    if not can_edit_organization(user, org):
        raise PermissionDenied("You may not edit this organization.")
    return org


def can_manage_members(user: Any, org: Organization) -> bool:
    if _is_superuser(user):
        return True
    return organization_role(user, org) == OrganizationRole.OWNER


def can_delete_organization(user: Any, org: Organization) -> bool:
    return can_manage_members(user, org)


def can_staff_organization(user: Any, org: Organization) -> bool:
    """Staff of a cluster where the organization has a membership (any status), or a superuser."""
    if _is_superuser(user):
        return True
    staff = staff_cluster_ids(user)
    return bool(staff) and Membership.objects.filter(organization_id=org.pk, cluster_id__in=staff).exists()


# --- Memberships ---------------------------------------------------------------


def visible_memberships(user: Any) -> QuerySet[Membership]:
    """Memberships of the user's organizations, and every membership in the clusters they are staff of."""
    if user.is_superuser:
        return Membership.objects.all()
    own = OrganizationMember.objects.filter(user_id=user.pk).values("organization_id")
    return Membership.objects.filter(Q(organization_id__in=own) | Q(cluster_id__in=staff_cluster_ids(user)))


def can_decide_membership(user: Any, membership: Membership) -> bool:
    return _is_superuser(user) or is_cluster_staff(user, membership.cluster_id)


def access_membership_for_decision(user: Any, membership_id: Any) -> Membership:
    """A membership its cluster's staff may decide on.

    Missing, or not even visible to the user: 404. Visible (e.g. the applicant
    looking at their own application) but not staff: PermissionDenied.
    """
    try:
        membership = Membership.objects.select_related("organization", "cluster").get(pk=int(membership_id))
    except (Membership.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404("No such membership.") from exc
    if can_decide_membership(user, membership):
        return membership
    if can_view_organization(user, membership.organization):
        raise PermissionDenied("Only the staff of this cluster may decide on this membership.")
    raise Http404("No such membership.")


# --- The same rule as data, for the search index -----------------------------


class VisibilityScope(TypedDict):
    listed: bool
    visibility: str
    cluster_ids: list[int]
    partner_cluster_ids: list[int]
    membership_cluster_ids: list[int]


def organization_visibility_scope(org: Organization) -> VisibilityScope:
    """What an index needs to filter an organization per viewer, without asking the database again.

    `cluster_ids`: clusters where it is admitted. `partner_cluster_ids`: other
    clusters whose members may see it through active agreements.
    `membership_cluster_ids`: clusters with any membership (their staff see it
    whatever its state). Owners and superusers are not encoded: they see their
    organization from the database, not from search results.
    """
    return organization_visibility_scopes([org])[org.pk]


class ScopedOrganization(Protocol):
    """What a scope is computed from: an `Organization`, or a row of its columns (index rebuilds)."""

    @property
    def pk(self) -> Any: ...

    @property
    def profile_status(self) -> str: ...

    @property
    def visibility(self) -> str: ...


def organization_visibility_scopes(orgs: Iterable[ScopedOrganization]) -> dict[int, VisibilityScope]:
    """`organization_visibility_scope` for many organizations in two queries (index rebuilds)."""
    orgs = list(orgs)
    rows: dict[int, list[tuple[int, str]]] = {org.pk: [] for org in orgs}
    ids = sorted(rows)
    # Rebuilds ask for dense id ranges: a range has two parameters where `IN` had 500.
    dense = bool(ids) and ids[-1] - ids[0] < 2 * len(ids)
    wanted = Q(organization_id__gte=ids[0], organization_id__lte=ids[-1]) if dense else Q(organization_id__in=ids)
    for org_id, cluster_id, status in Membership.objects.filter(wanted).values_list(
        "organization_id", "cluster_id", "status"
    ):
        if org_id in rows:
            rows[org_id].append((cluster_id, status))
    edges = list(
        ClusterAgreement.objects.active().values_list(
            "cluster_a_id", "cluster_b_id", "a_members_see_b", "b_members_see_a"
        )
    )
    seeing: dict[int, set[int]] = {}  # cluster -> clusters whose members see its partner-visible members
    for a_id, b_id, a_sees_b, b_sees_a in edges:
        if a_sees_b:
            seeing.setdefault(b_id, set()).add(a_id)
        if b_sees_a:
            seeing.setdefault(a_id, set()).add(b_id)
    scopes: dict[int, VisibilityScope] = {}
    for org in orgs:
        admitted = {cid for cid, status in rows[org.pk] if status == MembershipStatus.ADMITTED}
        partner = set().union(*(seeing.get(cid, set()) for cid in admitted)) - admitted
        scopes[org.pk] = {
            "listed": org.profile_status == ProfileStatus.VALIDATED and bool(admitted),
            "visibility": org.visibility,
            "cluster_ids": sorted(admitted),
            "partner_cluster_ids": sorted(partner),
            "membership_cluster_ids": sorted({cid for cid, _status in rows[org.pk]}),
        }
    return scopes


def scope_allows(scope: VisibilityScope, *, viewer_clusters: frozenset[int], staff_clusters: frozenset[int]) -> bool:
    """The reference evaluation of a scope for one viewer (own organizations and superusers aside).

    The search index's filter must be this expression: `viewer_clusters` is
    `viewer_cluster_ids(user)`, `staff_clusters` is `staff_cluster_ids(user)`.
    """
    if staff_clusters.intersection(scope["membership_cluster_ids"]):
        return True
    if not scope["listed"]:
        return False
    if scope["visibility"] == Visibility.EVERYONE:
        return True
    if viewer_clusters.intersection(scope["cluster_ids"]):
        return True
    return scope["visibility"] == Visibility.PARTNERS and bool(
        viewer_clusters.intersection(scope["partner_cluster_ids"])
    )
