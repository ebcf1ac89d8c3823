"""Organization pages: profile, create, edit, offers/needs, submission, cluster applications.

Views stay thin: access through `matchmaking.access`, writes through the
services; a service's ValidationError becomes form errors, its
PermissionDenied the 403 page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.views.common import back_to_search_url, pending_invitations
from matchmaking import access, selectors
from matchmaking.forms import ApplicationForm, OpportunityForm, OrganizationForm, add_service_errors
from matchmaking.models import Cluster, MembershipStatus, Opportunity, Organization, OrganizationRole, ProfileStatus
from matchmaking.services import membership as membership_services
from matchmaking.services import organizations as organization_services


@login_required
def my_organizations(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frontend/organizations/mine.html",
        {"roles": selectors.user_organizations(request.user), "invitations": pending_invitations(request.user)},
    )


def _other_language_description(org: Organization) -> tuple[str, str] | None:
    """The description in the other language, when both exist (language code, text)."""
    english = (get_language() or "fr").startswith("en")
    code, text = ("fr", org.description_fr) if english else ("en", org.description_en)
    if text.strip() and (org.description_en if english else org.description_fr).strip():
        return code, text
    return None


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organization_detail(user=request.user, organization_id=pk)
    user = request.user
    can_edit = access.can_edit_organization(user, org)
    is_staff_viewer = access.can_staff_organization(user, org)
    opportunities = list(org.opportunities.all())
    memberships = list(org.memberships.all())
    role = access.organization_role(user, org)
    if not (can_edit or is_staff_viewer):
        # Outsiders learn where it is a member, not its pending or refused applications.
        memberships = [m for m in memberships if m.status == MembershipStatus.ADMITTED]
    return render(
        request,
        "frontend/organizations/detail.html",
        {
            "org": org,
            "role_label": OrganizationRole(role).label if role else None,
            "can_edit": can_edit,
            "can_manage": access.can_manage_members(user, org),
            "is_staff_viewer": is_staff_viewer,
            "show_identifiers": can_edit or is_staff_viewer,
            "offers": [o for o in opportunities if o.is_offer],
            "needs": [o for o in opportunities if not o.is_offer],
            "memberships": memberships,
            "description": org.description(),
            "other_description": _other_language_description(org),
            "back_url": back_to_search_url(request),
            "can_submit": can_edit and org.profile_status == ProfileStatus.DRAFT,
            "can_validate": is_staff_viewer and org.profile_status != ProfileStatus.VALIDATED,
        },
    )


@login_required
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = organization_services.create_organization(user=request.user, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("%(name)s is created. You are its owner; next, apply to a cluster.") % {"name": org.name}
            )
            return redirect("organization_detail", pk=org.pk)
    return render(request, "frontend/organizations/form.html", {"form": form, "creating": True})


@login_required
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = access.access_organization_for_edit(request.user, pk)
    form = OrganizationForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        try:
            organization_services.update_organization(user=request.user, organization=org, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The profile is saved."))
            return redirect("organization_detail", pk=org.pk)
    # The form changed the instance in memory; show the saved name in titles.
    org.refresh_from_db(fields=["legal_name", "acronym"])
    return render(
        request,
        "frontend/organizations/form.html",
        {"form": form, "org": org, "creating": False, "opportunities": org.opportunities.order_by("kind", "title")},
    )


@login_required
@require_POST
def organization_submit(request: HttpRequest, pk: int) -> HttpResponse:
    org = access.access_organization_for_edit(request.user, pk)
    try:
        organization_services.submit_profile(user=request.user, organization=org)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The profile is submitted; cluster staff will review it."))
    return redirect("organization_detail", pk=org.pk)


def _opportunity_page(request: HttpRequest, pk: int, opportunity: Opportunity | None) -> HttpResponse:
    org = access.access_organization_for_edit(request.user, pk)
    if opportunity is not None and opportunity.organization_id != org.pk:
        raise PermissionDenied
    form = OpportunityForm(request.POST or None, instance=opportunity)
    if request.method == "POST" and form.is_valid():
        try:
            organization_services.save_opportunity(
                user=request.user, organization=org, data=form.service_data(), opportunity=opportunity
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The offer or need is saved."))
            return redirect("organization_edit", pk=org.pk)
    return render(
        request, "frontend/organizations/opportunity_form.html", {"form": form, "org": org, "opportunity": opportunity}
    )


@login_required
def opportunity_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _opportunity_page(request, pk, None)


@login_required
def opportunity_edit(request: HttpRequest, pk: int, opportunity_pk: int) -> HttpResponse:
    access.access_organization_for_edit(request.user, pk)
    opportunity = get_object_or_404(Opportunity, pk=opportunity_pk, organization_id=pk)
    return _opportunity_page(request, pk, opportunity)


@login_required
@require_POST
def opportunity_delete(request: HttpRequest, pk: int, opportunity_pk: int) -> HttpResponse:
    org = access.access_organization_for_edit(request.user, pk)
    opportunity = get_object_or_404(Opportunity, pk=opportunity_pk, organization_id=org.pk)
    organization_services.delete_opportunity(user=request.user, opportunity=opportunity)
    messages.success(request, _("“%(title)s” is deleted.") % {"title": opportunity.title})
    return redirect("organization_edit", pk=org.pk)


@login_required
def organization_apply(request: HttpRequest, pk: int) -> HttpResponse:
    org = access.access_organization_for_edit(request.user, pk)
    # Clusters where it is neither admitted nor already waiting.
    blocked = org.memberships.filter(status__in=[MembershipStatus.APPLIED, MembershipStatus.ADMITTED])
    clusters = Cluster.objects.exclude(pk__in=blocked.values("cluster_id"))
    initial: dict[str, Any] = {}
    wanted = request.GET.get("cluster")
    if wanted:
        initial["cluster"] = clusters.filter(code__iexact=wanted).first()
    form = ApplicationForm(request.POST or None, clusters=clusters, initial=initial)
    if request.method == "POST" and form.is_valid():
        cluster = form.cleaned_data["cluster"]
        try:
            membership_services.apply_to_cluster(
                user=request.user,
                organization=org,
                cluster=cluster,
                fee_tier=form.cleaned_data["fee_tier"],
                motivation=form.cleaned_data["motivation"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The application to %(cluster)s is sent; its board will decide.") % {"cluster": cluster.name},
            )
            return redirect("organization_detail", pk=org.pk)
    return render(
        request,
        "frontend/organizations/apply.html",
        {"form": form, "org": org, "memberships": org.memberships.select_related("cluster")},
    )
