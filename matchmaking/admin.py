"""Django admin for platform administrators: useful lists, filters, search, and actions that call the services.

Admin edits bypass the services' permission checks (the admin is for
platform staff), but not their side effects: every save or delete that
touches indexed data bumps the organization's version and sends
`organizations_changed` / `calls_changed`, exactly like the services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from matchmaking import models as m
from matchmaking.services.membership import decide_membership, lapse_membership
from matchmaking.services.organizations import mark_organizations_changed, validate_profile
from matchmaking.signals import calls_changed, organizations_changed

admin.site.site_header = _("Maillage administration")
admin.site.site_title = _("Maillage")
admin.site.index_title = _("Platform administration")


def _service_errors(request: HttpRequest, label: str, exc: Exception) -> None:
    text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, f"{label}: {text}")


# --- People -----------------------------------------------------------------


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = m.User
        fields = ("email",)


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = m.User
        fields = "__all__"


class OrganizationRoleInline(admin.TabularInline):
    model = m.OrganizationMember
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["organization"]
    verbose_name = _("organization role")
    verbose_name_plural = _("organization roles")


class StaffRoleInline(admin.TabularInline):
    model = m.ClusterStaff
    fk_name = "user"
    extra = 0
    verbose_name = _("cluster staff role")
    verbose_name_plural = _("cluster staff roles")


@admin.register(m.User)
class UserAdmin(DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "preferred_language", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "preferred_language", "staff_roles__cluster"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "first_name", "last_name", "preferred_language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [OrganizationRoleInline, StaffRoleInline]


# --- Taxonomy and clusters ----------------------------------------------------


@admin.register(m.Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["code", "label_fr", "label_en", "parent", "organization_count"]
    list_filter = ["parent"]
    search_fields = ["code", "label_fr", "label_en"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[m.Theme]:
        return super().get_queryset(request).annotate(_organizations=Count("organizations"))

    @admin.display(description=_("organizations"), ordering="_organizations")
    def organization_count(self, obj: Any) -> int:
        return int(obj._organizations)


class ClusterThemeInline(admin.TabularInline):
    model = m.ClusterTheme
    extra = 0
    autocomplete_fields = ["shared_theme"]


class ClusterStaffInline(admin.TabularInline):
    model = m.ClusterStaff
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(m.Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "region", "brokered_introductions", "member_count", "pending_count"]
    list_filter = ["country", "brokered_introductions"]
    search_fields = ["code", "name", "region"]
    inlines = [ClusterThemeInline, ClusterStaffInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[m.Cluster]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _members=Count("memberships", filter=Q(memberships__status=m.MembershipStatus.ADMITTED)),
                _pending=Count("memberships", filter=Q(memberships__status=m.MembershipStatus.APPLIED)),
            )
        )

    @admin.display(description=_("members"), ordering="_members")
    def member_count(self, obj: Any) -> int:
        return int(obj._members)

    @admin.display(description=_("pending applications"), ordering="_pending")
    def pending_count(self, obj: Any) -> int:
        return int(obj._pending)


def _cluster_member_ids(*cluster_ids: int) -> list[int]:
    return list(
        m.Membership.objects.filter(cluster_id__in=cluster_ids, status=m.MembershipStatus.ADMITTED)
        .values_list("organization_id", flat=True)
        .distinct()
    )


@admin.register(m.ClusterAgreement)
class ClusterAgreementAdmin(admin.ModelAdmin):
    list_display = ["__str__", "cluster_a", "cluster_b", "since", "until", "a_members_see_b", "b_members_see_a"]
    list_filter = ["cluster_a", "cluster_b"]
    search_fields = ["cluster_a__name", "cluster_b__name", "description"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Agreements change who sees the partner-visible members of both clusters.
        with transaction.atomic():
            before = set()
            if change:
                old = m.ClusterAgreement.objects.get(pk=obj.pk)
                before = {old.cluster_a_id, old.cluster_b_id}
            super().save_model(request, obj, form, change)
            mark_organizations_changed(_cluster_member_ids(*(before | {obj.cluster_a_id, obj.cluster_b_id})))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            ids = _cluster_member_ids(obj.cluster_a_id, obj.cluster_b_id)
            super().delete_model(request, obj)
            mark_organizations_changed(ids)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            clusters = {c for pair in queryset.values_list("cluster_a_id", "cluster_b_id") for c in pair}
            ids = _cluster_member_ids(*clusters)
            super().delete_queryset(request, queryset)
            mark_organizations_changed(ids)


# --- Organizations --------------------------------------------------------------


class OpportunityInline(admin.StackedInline):
    model = m.Opportunity
    extra = 0
    fields = [("kind", "trl", "expires_on"), "title", "text", "tags"]


class OrganizationMemberInline(admin.TabularInline):
    model = m.OrganizationMember
    extra = 0
    autocomplete_fields = ["user"]


class MembershipInline(admin.TabularInline):
    model = m.Membership
    extra = 0
    fields = ["cluster", "status", "fee_tier", "applied_at", "decided_at", "decided_by", "board_note"]
    readonly_fields = ["decided_by"]


class IndexedAdminMixin:
    """Bump the organization's version and notify index followers after admin edits and deletions."""

    def organization_ids(self, obj: Any) -> list[int]:
        return [obj.organization_id]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_related(request, form, formsets, change)  # type: ignore[misc]
            mark_organizations_changed(self.organization_ids(form.instance))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            ids = self.organization_ids(obj)
            super().delete_model(request, obj)  # type: ignore[misc]
            mark_organizations_changed(ids)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            ids = sorted({i for obj in queryset for i in self.organization_ids(obj)})
            super().delete_queryset(request, queryset)  # type: ignore[misc]
            mark_organizations_changed(ids)


@admin.register(m.Organization)
class OrganizationAdmin(IndexedAdminMixin, admin.ModelAdmin):
    list_display = [
        "legal_name",
        "acronym",
        "kind",
        "country",
        "city",
        "profile_status",
        "visibility",
        "clusters",
        "is_fictional",
    ]
    list_filter = [
        "profile_status",
        "visibility",
        "kind",
        "size_band",
        "country",
        "is_fictional",
        "memberships__cluster",
        "memberships__status",
        "themes",
    ]
    search_fields = ["legal_name", "acronym", "city", "siren", "siret", "ice", "pic", "competences"]
    filter_horizontal = ["themes"]
    readonly_fields = ["version", "validated_at", "validated_by", "created_at", "updated_at"]
    list_select_related = True
    inlines = [OrganizationMemberInline, MembershipInline, OpportunityInline]
    actions = ["validate_profiles"]
    fieldsets = (
        (None, {"fields": ("legal_name", "acronym", "kind", "size_band", "website", "is_fictional")}),
        (_("Place"), {"fields": ("country", "city", "latitude", "longitude")}),
        (_("Identifiers"), {"fields": ("siren", "siret", "ice", "pic")}),
        (
            _("Profile"),
            {"fields": ("description_fr", "description_en", "competences", "themes", "languages", "visibility")},
        ),
        (_("Status"), {"fields": ("profile_status", "validated_at", "validated_by", "version")}),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )

    def organization_ids(self, obj: Any) -> list[int]:
        return [obj.pk]

    # Deleted organizations are announced before the rows go (nothing is left to bump afterwards).
    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            organizations_changed.send(sender=m.Organization, organization_ids=[obj.pk])
            admin.ModelAdmin.delete_model(self, request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            organizations_changed.send(
                sender=m.Organization, organization_ids=list(queryset.values_list("pk", flat=True))
            )
            admin.ModelAdmin.delete_queryset(self, request, queryset)

    def get_queryset(self, request: HttpRequest) -> QuerySet[m.Organization]:
        return super().get_queryset(request).prefetch_related("memberships__cluster")

    @admin.display(description=_("clusters"))
    def clusters(self, obj: m.Organization) -> str:
        return ", ".join(f"{ms.cluster.code} ({ms.get_status_display()})" for ms in obj.memberships.all())

    @admin.action(description=_("Validate the selected profiles"))
    def validate_profiles(self, request: HttpRequest, queryset: QuerySet[m.Organization]) -> None:
        done = 0
        for org in queryset:
            try:
                validate_profile(user=request.user, organization=org)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                _service_errors(request, str(org), exc)
        if done:
            messages.success(request, ngettext("%d profile validated.", "%d profiles validated.", done) % done)


@admin.register(m.Opportunity)
class OpportunityAdmin(IndexedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "kind", "organization", "trl", "expires_on", "updated_at"]
    list_filter = ["kind", "trl", "organization__country", "organization__memberships__cluster"]
    search_fields = ["title", "text", "organization__legal_name", "organization__acronym"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]


@admin.register(m.OrganizationMember)
class OrganizationMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "joined_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__full_name", "organization__legal_name", "organization__acronym"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


@admin.register(m.Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role", ("accepted_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "organization__legal_name"]
    autocomplete_fields = ["organization", "invited_by", "accepted_by"]
    readonly_fields = ["token", "created_at"]
    list_select_related = ["organization", "invited_by"]


@admin.register(m.ClusterStaff)
class ClusterStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "cluster", "role"]
    list_filter = ["cluster", "role"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "cluster"]


class DecisionForm(forms.Form):
    board_note = forms.CharField(label=_("Board decision note"), widget=forms.Textarea, required=False)


@admin.register(m.Membership)
class MembershipAdmin(IndexedAdminMixin, admin.ModelAdmin):
    list_display = ["organization", "cluster", "status", "fee_tier", "applied_at", "decided_at", "decided_by"]
    list_filter = ["status", "cluster", "fee_tier"]
    search_fields = ["organization__legal_name", "organization__acronym", "board_note", "motivation"]
    autocomplete_fields = ["organization", "applied_by", "decided_by"]
    list_select_related = ["organization", "cluster", "decided_by"]
    date_hierarchy = "applied_at"
    actions = ["admit", "reject", "lapse"]

    def _decide(self, request: HttpRequest, queryset: QuerySet[m.Membership], verb: str) -> HttpResponse | None:
        """First show a page asking for the board's note, then apply the decision through the services."""
        form = DecisionForm(request.POST if "confirm" in request.POST else None)
        if not form.is_bound or not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": self.DECISION_TITLES[verb],
                "opts": self.model._meta,
                "memberships": queryset.select_related("organization", "cluster"),
                "form": form,
                "action": verb,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/matchmaking/membership/decision.html", context)
        note = form.cleaned_data["board_note"]
        done = 0
        for membership in queryset.select_related("organization", "cluster"):
            try:
                if verb == "lapse":
                    lapse_membership(user=request.user, membership=membership, note=note)
                else:
                    decide_membership(user=request.user, membership=membership, admit=verb == "admit", board_note=note)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                _service_errors(request, str(membership), exc)
        if done:
            messages.success(request, ngettext("%d membership updated.", "%d memberships updated.", done) % done)
        return None

    DECISION_TITLES = {
        "admit": _("Admit the selected applications"),
        "reject": _("Reject the selected applications"),
        "lapse": _("Mark the selected memberships as lapsed"),
    }

    @admin.action(description=_("Admit the selected applications (emails the applicants)"))
    def admit(self, request: HttpRequest, queryset: QuerySet[m.Membership]) -> HttpResponse | None:
        return self._decide(request, queryset, "admit")

    @admin.action(description=_("Reject the selected applications (emails the applicants)"))
    def reject(self, request: HttpRequest, queryset: QuerySet[m.Membership]) -> HttpResponse | None:
        return self._decide(request, queryset, "reject")

    @admin.action(description=_("Mark the selected memberships as lapsed"))
    def lapse(self, request: HttpRequest, queryset: QuerySet[m.Membership]) -> HttpResponse | None:
        return self._decide(request, queryset, "lapse")


# --- Calls, labels, resources, EU track record ------------------------------------


@admin.register(m.Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["topic_code", "title", "programme", "opens_on", "deadline", "published_by", "min_partners"]
    list_filter = ["programme", "published_by"]
    search_fields = ["topic_code", "title", "text"]
    date_hierarchy = "deadline"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            calls_changed.send(sender=m.Call, call_ids=[obj.pk])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            calls_changed.send(sender=m.Call, call_ids=[obj.pk])
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            calls_changed.send(sender=m.Call, call_ids=list(queryset.values_list("pk", flat=True)))
            super().delete_queryset(request, queryset)


@admin.register(m.ProjectLabel)
class ProjectLabelAdmin(admin.ModelAdmin):
    list_display = ["project_title", "cluster", "decision", "decided_on", "decided_by"]
    list_filter = ["cluster", "decision"]
    search_fields = ["project_title", "evaluation_summary", "organizations__legal_name"]
    autocomplete_fields = ["organizations", "decided_by"]


class AccessRequestInline(admin.TabularInline):
    model = m.ResourceAccessRequest
    extra = 0
    autocomplete_fields = ["organization", "requested_by", "reviewed_by"]


@admin.register(m.SharedResource)
class SharedResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "cluster", "screened_by"]
    list_filter = ["cluster", "screened_by"]
    search_fields = ["name", "description"]
    inlines = [AccessRequestInline]


@admin.register(m.ResourceAccessRequest)
class ResourceAccessRequestAdmin(admin.ModelAdmin):
    list_display = ["organization", "resource", "status", "created_at", "reviewed_by", "reviewed_at"]
    list_filter = ["status", "resource"]
    search_fields = ["organization__legal_name", "purpose", "review_note"]
    autocomplete_fields = ["organization", "requested_by", "reviewed_by"]


class EUParticipationInline(admin.TabularInline):
    model = m.EUParticipation
    extra = 0
    raw_id_fields = ["organization"]


@admin.register(m.EUProject)
class EUProjectAdmin(admin.ModelAdmin):
    list_display = ["framework", "reference", "acronym", "title", "start_date", "end_date"]
    list_filter = ["framework"]
    search_fields = ["reference", "acronym", "title"]
    inlines = [EUParticipationInline]


@admin.register(m.EUParticipation)
class EUParticipationAdmin(admin.ModelAdmin):
    list_display = ["pic", "project", "role", "activity_type", "country", "organization"]
    list_filter = ["role", "activity_type", "country"]
    search_fields = ["pic", "project__acronym", "project__reference"]
    raw_id_fields = ["organization", "project"]
    list_select_related = ["project", "organization"]


# --- Models of the funnel, consortia and saved searches: plain but searchable lists ----

for _name, _search in [
    ("IntroductionRequest", ["requester__legal_name", "target__legal_name"]),
    ("IntroductionEvent", ["request__requester__legal_name"]),
    ("Consortium", ["name", "acronym"]),
    ("ConsortiumPartner", ["organization__legal_name", "consortium__name"]),
    ("ConsortiumRole", ["title", "consortium__name"]),
    ("SavedSearch", ["name", "query", "user__email"]),
    ("SavedSearchHit", ["saved_search__name", "organization__legal_name"]),
    ("RecommendationPreference", ["organization__legal_name"]),
]:
    _model = getattr(m, _name, None)
    if _model is not None and not admin.site.is_registered(_model):
        admin.site.register(_model, type(f"{_name}Admin", (admin.ModelAdmin,), {"search_fields": _search}))
