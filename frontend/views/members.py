"""People of an organization: members, roles, invitations, and accepting an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from matchmaking import access, selectors
from matchmaking.forms import InvitationForm, MemberRoleForm, add_service_errors
from matchmaking.models import Invitation, Organization, OrganizationMember
from matchmaking.services import people


def _organization_for_owner(request: HttpRequest, pk: int) -> Organization:
    org = access.access_organization(request.user, pk)
    if not access.can_manage_members(request.user, org):
        raise PermissionDenied(_("Only an owner may manage the people of this organization."))
    return org


@login_required
def organization_members(request: HttpRequest, pk: int) -> HttpResponse:
    org = _organization_for_owner(request, pk)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = people.invite_member(
                user=request.user, organization=org, email=form.cleaned_data["email"], role=form.cleaned_data["role"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("An invitation is emailed to %(email)s.") % {"email": invitation.email})
            return redirect("organization_members", pk=org.pk)
    people_rows = [
        {"member": member, "form": MemberRoleForm(initial={"role": member.role}, prefix=f"m{member.pk}")}
        for member in selectors.organization_people(org)
    ]
    return render(
        request,
        "frontend/members/list.html",
        {"org": org, "form": form, "people": people_rows, "invitations": selectors.open_invitations(org)},
    )


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    org = _organization_for_owner(request, pk)
    member = get_object_or_404(OrganizationMember.objects.select_related("user"), pk=member_pk, organization=org)
    form = MemberRoleForm(request.POST, prefix=f"m{member.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose owner, editor or member."))
    else:
        try:
            people.change_member_role(user=request.user, member=member, role=form.cleaned_data["role"])
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("%(name)s's role is changed.") % {"name": member.user.display_name})
    return redirect("organization_members", pk=org.pk)


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Owners remove anyone; any member may leave (the service keeps at least one owner)."""
    org = access.access_organization(request.user, pk)
    member = get_object_or_404(OrganizationMember.objects.select_related("user"), pk=member_pk, organization=org)
    try:
        people.remove_member(user=request.user, member=member)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("organization_detail", pk=org.pk)
    if member.user_id == request.user.pk:
        messages.success(request, _("You left %(name)s.") % {"name": org.name})
        return redirect("my_organizations")
    messages.success(request, _("%(name)s is removed.") % {"name": member.user.display_name})
    return redirect("organization_members", pk=org.pk)


@login_required
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = Invitation.objects.select_related("organization", "invited_by").filter(token=token[:64]).first()
    error = None
    if request.method == "POST":
        try:
            member = people.accept_invitation(user=request.user, token=token)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except PermissionDenied as exc:
            error = str(exc) or _("This invitation was sent to another email address.")
        else:
            messages.success(request, _("Welcome to %(name)s.") % {"name": member.organization.name})
            return redirect("organization_detail", pk=member.organization_id)
    status = 200 if invitation is not None and error is None else 400 if invitation is not None else 404
    return render(request, "frontend/members/accept.html", {"invitation": invitation, "error": error}, status=status)
