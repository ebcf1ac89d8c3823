"""Staff pages: the admission queue, one application with its board decision, profile validation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.decorators import staff_required
from frontend.views.common import paginate
from matchmaking import access, selectors
from matchmaking.forms import DecisionForm, add_service_errors
from matchmaking.models import Cluster, Membership, MembershipStatus, ProfileStatus
from matchmaking.services import membership as membership_services
from matchmaking.services import organizations as organization_services


def _staff_clusters(request: HttpRequest) -> list[Cluster]:
    if request.user.is_superuser:
        return list(Cluster.objects.all())
    return list(Cluster.objects.filter(pk__in=access.staff_cluster_ids(request.user)))


@staff_required
def staff_queue(request: HttpRequest) -> HttpResponse:
    clusters = _staff_clusters(request)
    queue = selectors.admission_queue(request.user)
    cluster_code = request.GET.get("cluster", "")
    if cluster_code:
        queue = queue.filter(cluster__code__iexact=cluster_code)
    recent = (
        Membership.objects.filter(cluster__in=clusters)
        .exclude(status=MembershipStatus.APPLIED)
        .filter(decided_at__isnull=False)
        .select_related("organization", "cluster", "decided_by")
        .order_by("-decided_at")[:10]
    )
    to_validate = (
        Membership.objects.filter(
            cluster__in=clusters,
            status=MembershipStatus.ADMITTED,
            organization__profile_status=ProfileStatus.SUBMITTED,
        )
        .select_related("organization", "cluster")
        .order_by("organization__legal_name")
    )
    return render(
        request,
        "frontend/staff/queue.html",
        {
            "clusters": clusters,
            "cluster_code": cluster_code,
            "queue_page": paginate(request, queue),
            "recent": recent,
            "to_validate": to_validate,
        },
    )


@staff_required
def staff_membership(request: HttpRequest, pk: int) -> HttpResponse:
    membership = access.access_membership_for_decision(request.user, pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if membership.status != MembershipStatus.APPLIED:
            messages.error(request, _("Only a pending application can be decided."))
            return redirect("staff_membership", pk=membership.pk)
        if form.is_valid():
            try:
                membership_services.decide_membership(
                    user=request.user,
                    membership=membership,
                    admit=form.admit,
                    board_note=form.cleaned_data["board_note"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                template = (
                    _("%(org)s is admitted to %(cluster)s; the applicant is notified by email.")
                    if form.admit
                    else _("The application of %(org)s to %(cluster)s is rejected; the applicant is notified by email.")
                )
                messages.success(
                    request, template % {"org": membership.organization.name, "cluster": membership.cluster.code}
                )
                return redirect("staff_queue")
    org = selectors.organization_detail(user=request.user, organization_id=membership.organization_id)
    opportunities = list(org.opportunities.all())
    return render(
        request,
        "frontend/staff/membership.html",
        {
            "membership": membership,
            "org": org,
            "form": form,
            "offers": [o for o in opportunities if o.is_offer],
            "needs": [o for o in opportunities if not o.is_offer],
            "other_memberships": [m for m in org.memberships.all() if m.pk != membership.pk],
            "people": selectors.organization_people(org),
        },
    )


@staff_required
@require_POST
def staff_validate_profile(request: HttpRequest, pk: int) -> HttpResponse:
    org = access.access_organization(request.user, pk)
    try:
        organization_services.validate_profile(user=request.user, organization=org)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The profile of %(name)s is validated.") % {"name": org.name})
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("organization_detail", pk=org.pk)
