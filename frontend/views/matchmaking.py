"""Matchmaking pages: recommendations, introductions, the broker queue and dashboard, calls, consortia, saved searches.

Views are thin: they parse the form, call one service, and render. Access is
checked by `matchmaking.funnel_access` / `matchmaking.access` (404 for what
the user may not see, 403 for what they may see but not do), and the
requester of an anonymous introduction is shown only through
`funnel_access.requester_public`.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from frontend.decorators import staff_required
from frontend.views.common import paginate
from matchmaking import access, funnel_access, funnel_selectors
from matchmaking.forms import add_service_errors
from matchmaking.models import (
    OFFER_KINDS,
    Call,
    Cluster,
    Consortium,
    ConsortiumPartner,
    IntroductionPurpose,
    IntroductionRequest,
    IntroductionState,
    Organization,
    OrganizationKind,
    PartnerState,
    Programme,
)
from matchmaking.services import consortia as consortium_services
from matchmaking.services import introductions as introduction_services
from matchmaking.services import recommendations as recommendation_services
from matchmaking.services import saved_searches as saved_search_services

logger = logging.getLogger(__name__)
S = IntroductionState


def _my_organizations(request: HttpRequest) -> list[Organization]:
    return list(Organization.objects.filter(members__user_id=request.user.pk or 0).order_by("legal_name").distinct())


def _pick_organization(request: HttpRequest, value: Any) -> Organization | None:
    """One of the user's organizations: the one asked for, else the first."""
    mine = _my_organizations(request)
    if not mine:
        return None
    for org in mine:
        if str(org.pk) == str(value):
            return org
    if value not in (None, ""):
        raise Http404("Not one of your organizations.")
    return mine[0]


def _conversation_url(conversation_id: int | None) -> str | None:
    if not conversation_id:
        return None
    for name in ("messaging:conversation", "messaging:conversation_detail"):
        try:
            return reverse(name, kwargs={"pk": conversation_id})
        except NoReverseMatch:
            try:
                return reverse(name, kwargs={"conversation_id": conversation_id})
            except NoReverseMatch:
                continue
    return None


# --- Recommendations ------------------------------------------------------------------


class PreferenceForm(forms.Form):
    countries = forms.CharField(
        label=gettext_lazy("Partner countries"),
        required=False,
        help_text=gettext_lazy("Two-letter codes separated by commas, e.g. FR, DE. Empty: any country."),
    )
    other_clusters_only = forms.BooleanField(label=gettext_lazy("Only organizations of other clusters"), required=False)
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Kinds of organization"),
        choices=OrganizationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: any kind."),
    )


@login_required
def recommendations(request: HttpRequest) -> HttpResponse:
    from search import recommend

    org = _pick_organization(request, request.GET.get("org"))
    if org is None:
        messages.info(request, _("Create or join an organization to get partner recommendations."))
        return redirect("my_organizations")
    needs = [o for o in org.opportunities.all().order_by("title") if o.kind not in OFFER_KINDS]
    need = None
    if request.GET.get("need"):
        need = next((o for o in needs if str(o.pk) == request.GET["need"]), None)
        if need is None:
            raise Http404("No such need.")
    preference = recommendation_services.preferences_for(org.pk)
    form = PreferenceForm(
        initial={
            "countries": ", ".join(preference.countries),
            "other_clusters_only": preference.other_clusters_only,
            "kinds": preference.kinds,
        }
    )
    results: list[Any] = []
    error = None
    try:
        results = recommend.recommend(request.user, org, opportunity=need, preference=preference)
    except recommend.SearchUnavailable:
        error = _("Recommendations are unavailable right now: the search service does not answer. Try again soon.")
    return render(
        request,
        "frontend/matchmaking/recommendations.html",
        {
            "org": org,
            "my_orgs": _my_organizations(request),
            "needs": needs,
            "need": need,
            "results": results,
            "form": form,
            "can_edit": access.can_edit_organization(request.user, org),
            "error": error,
        },
    )


@login_required
@require_POST
def preferences_save(request: HttpRequest, org_pk: int) -> HttpResponse:
    form = PreferenceForm(request.POST)
    if form.is_valid():
        try:
            recommendation_services.save_preferences(
                request.user,
                org_pk,
                countries=form.cleaned_data["countries"],
                other_clusters_only=form.cleaned_data["other_clusters_only"],
                kinds=form.cleaned_data["kinds"],
            )
            messages.success(request, _("Preferences saved."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Please correct the preferences."))
    return redirect(f"{reverse('matchmaking:recommendations')}?org={org_pk}")


# --- Introductions ---------------------------------------------------------------------


class IntroductionForm(forms.Form):
    requester = forms.TypedChoiceField(label=gettext_lazy("On behalf of"), coerce=int)
    opportunity = forms.TypedChoiceField(label=gettext_lazy("Concerning"), coerce=int, required=False, empty_value=None)
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=IntroductionPurpose.choices)
    message = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=introduction_services.MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Who you are, what you look for, why this organization."),
    )
    anonymous = forms.BooleanField(
        label=gettext_lazy("Stay anonymous until the request is accepted"),
        required=False,
        help_text=gettext_lazy("The organization sees only your country and kind of organization until it accepts."),
    )

    def __init__(self, *args: Any, requesters: list[Organization], target: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["requester"].choices = [(o.pk, str(o)) for o in requesters]  # type: ignore[attr-defined]
        choices: list[tuple[Any, str]] = [("", _("— General introduction —"))]
        for org in [*requesters, target]:
            for opp in org.opportunities.all().order_by("kind", "title"):
                choices.append((opp.pk, f"{org.name} · {opp.get_kind_display()}: {opp.title}"))
        self.fields["opportunity"].choices = choices  # type: ignore[attr-defined]


@login_required
def introduction_new(request: HttpRequest, target_pk: int) -> HttpResponse:
    target = access.access_organization(request.user, target_pk)
    requesters = [o for o in _my_organizations(request) if o.pk != target.pk]
    if not requesters:
        messages.info(request, _("You need an organization of your own to request an introduction."))
        return redirect("organization_detail", pk=target.pk)
    initial = {"opportunity": request.GET.get("opportunity") or None, "purpose": IntroductionPurpose.TECHNOLOGY}
    if request.GET.get("org"):
        initial["requester"] = request.GET["org"]
    form = IntroductionForm(request.POST or None, requesters=requesters, target=target, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            intro = introduction_services.request_introduction(
                request.user,
                requester_id=form.cleaned_data["requester"],
                target_id=target.pk,
                purpose=form.cleaned_data["purpose"],
                message=form.cleaned_data["message"],
                opportunity_id=form.cleaned_data["opportunity"],
                anonymous=form.cleaned_data["anonymous"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if intro.state == S.PENDING_BROKER:
                messages.success(
                    request,
                    _("Request sent. A cluster broker will review it before it reaches %(org)s.")
                    % {"org": target.name},
                )
            else:
                messages.success(request, _("Request sent to %(org)s.") % {"org": target.name})
            return redirect("matchmaking:introduction_detail", pk=intro.pk)
    return render(request, "frontend/matchmaking/introduction_form.html", {"form": form, "target": target})


def _row(request: HttpRequest, intro: IntroductionRequest) -> dict[str, Any]:
    return {"intro": intro, "requester": funnel_access.requester_public(intro, request.user)}


@login_required
def introduction_list(request: HttpRequest) -> HttpResponse:
    received = funnel_selectors.received(request.user).order_by("-created_at")
    sent = funnel_selectors.sent(request.user).order_by("-created_at")
    return render(
        request,
        "frontend/matchmaking/introductions.html",
        {
            "received": [_row(request, i) for i in received[:100]],
            "sent": [_row(request, i) for i in sent[:100]],
            "is_staff": funnel_access.is_staff_anywhere(request.user),
        },
    )


@login_required
def introduction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    intro = funnel_access.access_introduction(request.user, pk)
    user = request.user
    is_target = funnel_access.is_member_of(user, intro.target_id)
    is_requester = funnel_access.is_member_of(user, intro.requester_id)
    can_broker = funnel_access.can_broker(user, intro)
    events = list(intro.events.select_related("actor").order_by("at", "pk"))
    return render(
        request,
        "frontend/matchmaking/introduction_detail.html",
        {
            "intro": intro,
            "requester": funnel_access.requester_public(intro, user),
            "events": events,
            "can_answer": is_target and intro.state == S.PENDING_TARGET,
            "can_withdraw": is_requester and intro.is_open,
            "can_broker": can_broker and intro.state == S.PENDING_BROKER,
            "can_annotate": can_broker and intro.is_open,
            # Brokers' notes are for the target once forwarded, never for a requester to read back.
            "show_broker_note": bool(intro.broker_note) and (can_broker or is_target),
            "conversation_url": _conversation_url(intro.conversation_id) if intro.state == S.ACCEPTED else None,
        },
    )


_ACTIONS = {
    "accept": lambda user, pk, post: introduction_services.accept(user, pk, note=post.get("note", "")),
    "decline": lambda user, pk, post: introduction_services.decline(user, pk, reason=post.get("reason", "")),
    "withdraw": lambda user, pk, post: introduction_services.withdraw(user, pk),
    "approve": lambda user, pk, post: introduction_services.approve(user, pk, note=post.get("note", "")),
    "annotate": lambda user, pk, post: introduction_services.annotate(user, pk, note=post.get("note", "")),
    "broker-decline": lambda user, pk, post: introduction_services.broker_decline(
        user, pk, reason=post.get("reason", "")
    ),
}
_DONE = {
    "accept": gettext_lazy("Introduction accepted: a conversation is open between the two organizations."),
    "decline": gettext_lazy("Request declined."),
    "withdraw": gettext_lazy("Request withdrawn."),
    "approve": gettext_lazy("Request forwarded to the target."),
    "annotate": gettext_lazy("Note added."),
    "broker-decline": gettext_lazy("Request declined."),
}


@login_required
@require_POST
def introduction_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in _ACTIONS:
        raise Http404("Unknown action.")
    try:
        intro = _ACTIONS[action](request.user, pk, request.POST)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, str(_DONE[action]))
        url = _conversation_url(intro.conversation_id) if action == "accept" else None
        if url:
            return redirect(url)
    if action in ("approve", "broker-decline") and request.POST.get("next") == "queue":
        return redirect("matchmaking:broker_queue")
    return redirect("matchmaking:introduction_detail", pk=pk)


# --- Staff: broker queue and dashboard -------------------------------------------------


@staff_required
def broker_queue(request: HttpRequest) -> HttpResponse:
    queue = funnel_access.broker_queue(request.user)
    page = paginate(request, queue)
    return render(
        request,
        "frontend/matchmaking/broker_queue.html",
        {"page": page, "rows": [_row(request, i) for i in page.object_list]},
    )


@staff_required
def funnel_dashboard(request: HttpRequest) -> HttpResponse:
    if request.user.is_superuser:
        clusters = list(Cluster.objects.all())
    else:
        clusters = list(Cluster.objects.filter(pk__in=access.staff_cluster_ids(request.user)))
    cluster = next((c for c in clusters if c.code.lower() == request.GET.get("cluster", "").lower()), None)
    stats = funnel_selectors.funnel_stats(request.user, cluster=cluster)
    states = [(value, label, stats.by_state.get(value, 0)) for value, label in IntroductionState.choices]
    return render(
        request,
        "frontend/matchmaking/dashboard.html",
        {
            "stats": stats,
            "states": states,
            "chart": funnel_selectors.chart_bars(stats.daily),
            "clusters": clusters,
            "cluster": cluster,
            "accepted_percent": round(stats.accepted_rate * 100) if stats.accepted_rate is not None else None,
        },
    )


# --- Calls -------------------------------------------------------------------------------


@login_required
def call_search(request: HttpRequest) -> HttpResponse:
    """Calls searched by text, programme and state: through the search index, or the database when it is down."""
    from search import queries

    q = (request.GET.get("q") or "").strip()[: queries.MAX_QUERY_LENGTH]
    programme = request.GET.get("programme", "")
    programme = programme if programme in Programme.values else ""
    only_open = request.GET.get("open", "1") != "0"
    notice = None
    try:
        result = queries.search_calls(
            request.user,
            q,
            queries.CallFilters(programme=(programme,) if programme else (), open_only=only_open),
            size=queries.MAX_PAGE_SIZE,
        )
        ids = [hit.id for hit in result.hits]
        found = Call.objects.select_related("published_by").in_bulk(ids)
        calls: Any = [found[i] for i in ids if i in found]
    except (queries.SearchUnavailable, ValidationError):
        notice = _("The search service does not answer: showing a simple word match instead.")
        calls = Call.objects.select_related("published_by").order_by("deadline")
        if q:
            calls = calls.filter(Q(title__icontains=q) | Q(topic_code__icontains=q) | Q(text__icontains=q))
        if programme:
            calls = calls.filter(programme=programme)
        if only_open:
            calls = calls.filter(deadline__gt=timezone.now())
    page = paginate(request, calls, per_page=20)
    return render(
        request,
        "frontend/matchmaking/calls.html",
        {
            "page": page,
            "q": q,
            "programme": programme,
            "only_open": only_open,
            "programmes": Programme.choices,
            "notice": notice,
        },
    )


class ConsortiumForm(forms.Form):
    coordinator = forms.TypedChoiceField(label=gettext_lazy("Coordinator"), coerce=int)
    name = forms.CharField(label=gettext_lazy("Project name"), max_length=200)
    acronym = forms.CharField(label=gettext_lazy("Acronym"), max_length=40, required=False)
    description = forms.CharField(
        label=gettext_lazy("Idea"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


def _editable_orgs(request: HttpRequest) -> list[Organization]:
    return [o for o in _my_organizations(request) if access.can_edit_organization(request.user, o)]


@login_required
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    call = Call.objects.select_related("published_by").filter(pk=pk).first()
    if call is None:
        raise Http404("No such call.")
    editable = _editable_orgs(request)
    form = ConsortiumForm(request.POST or None)
    form.fields["coordinator"].choices = [(o.pk, str(o)) for o in editable]  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            consortium = consortium_services.create_consortium(
                request.user,
                call_id=call.pk,
                coordinator_id=form.cleaned_data["coordinator"],
                name=form.cleaned_data["name"],
                acronym=form.cleaned_data["acronym"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Consortium created. Add the roles you need, then invite partners."))
            return redirect("matchmaking:consortium_detail", pk=consortium.pk)
    kinds = dict(OrganizationKind.choices)
    return render(
        request,
        "frontend/matchmaking/call_detail.html",
        {
            "call": call,
            "required_kinds": [kinds.get(k, k) for k in call.required_kinds or []],
            "form": form if editable else None,
            "consortia": funnel_access.consortia_visible_to(request.user).filter(call=call),
        },
    )


# --- Consortia ------------------------------------------------------------------------------


class RoleForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Role"), max_length=200)
    competences = forms.CharField(
        label=gettext_lazy("Needed competences"),
        required=False,
        help_text=gettext_lazy("Separated by commas, e.g. 5G, edge computing."),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of organization"), required=False, choices=[("", "—"), *OrganizationKind.choices]
    )
    country = forms.CharField(label=gettext_lazy("Country"), required=False, max_length=2)


@login_required
def consortium_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frontend/matchmaking/consortia.html",
        {
            "consortia": funnel_selectors.my_consortia(request.user),
            "invitations": funnel_selectors.my_invitations(request.user),
        },
    )


def _partner_rows(consortium: Consortium) -> list[ConsortiumPartner]:
    return list(consortium.partners.select_related("organization", "role").order_by("state", "invited_at"))


@login_required
def consortium_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from search import recommend

    consortium = funnel_access.access_consortium(request.user, pk)
    coordinating = funnel_access.can_coordinate(request.user, consortium)
    report = consortium_services.eligibility_report(consortium)
    roles = list(consortium.roles.select_related("filled_by"))
    suggestions: dict[int, list[Any]] = {}
    suggestion_error = None
    if coordinating:
        for role in roles:
            if role.filled_by_id is None:
                try:
                    suggestions[role.pk] = recommend.suggest_for_role(request.user, consortium, role, limit=5)
                except recommend.SearchUnavailable:
                    suggestion_error = _(
                        "Partner suggestions are unavailable right now: the search service does not answer."
                    )
                    break
    my_orgs = funnel_access.organization_ids(request.user)
    my_invites = [
        p for p in _partner_rows(consortium) if p.organization_id in my_orgs and p.state == PartnerState.INVITED
    ]
    return render(
        request,
        "frontend/matchmaking/consortium_detail.html",
        {
            "consortium": consortium,
            "call": consortium.call,
            "report": report,
            "partners": _partner_rows(consortium),
            "roles": [(role, suggestions.get(role.pk, [])) for role in roles],
            "suggestion_error": suggestion_error,
            "coordinating": coordinating,
            "is_member": funnel_access.is_consortium_member(request.user, consortium),
            "my_invites": my_invites,
            "role_form": RoleForm(),
            "conversation_url": _conversation_url(consortium.conversation_id),
        },
    )


@login_required
@require_GET
def consortium_eligibility(request: HttpRequest, pk: int) -> JsonResponse:
    """The live eligibility panel polls this (and refreshes on consortium notifications)."""
    consortium = funnel_access.access_consortium(request.user, pk)
    report = consortium_services.eligibility_report(consortium)
    partners = [
        {"id": p.pk, "organization": p.organization.name, "country": p.organization.country, "state": p.state,
         "state_label": str(p.get_state_display()), "role": p.role_title}
        for p in _partner_rows(consortium)
    ]  # fmt: skip
    return JsonResponse({"eligibility": report.as_dict(), "partners": partners})


@login_required
@require_POST
def consortium_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user, post = request.user, request.POST
    try:
        if action == "add-role":
            form = RoleForm(post)
            if not form.is_valid():
                raise ValidationError(_("Please give the role a title."))
            consortium_services.add_role(user, pk, **form.cleaned_data)
            messages.success(request, _("Role added."))
        elif action == "delete-role":
            consortium_services.delete_role(user, post.get("role"))
        elif action == "invite":
            partner = consortium_services.invite_partner(
                user, pk, organization_id=post.get("organization"), role_id=post.get("role") or None,
                role_title=post.get("role_title", ""),
            )  # fmt: skip
            messages.success(request, _("%(org)s is invited.") % {"org": partner.organization.name})
        elif action == "remove":
            consortium_services.remove_partner(user, post.get("partner"))
        elif action in ("accept", "decline"):
            consortium_services.respond(user, post.get("partner"), accept=action == "accept")
            messages.success(request, _("Answer recorded."))
        elif action == "leave":
            consortium_services.leave(user, post.get("partner"))
            return redirect("matchmaking:consortium_list")
        elif action == "conversation":
            conversation_id = consortium_services.open_conversation(user, pk)
            url = _conversation_url(conversation_id)
            if url:
                return redirect(url)
        else:
            raise Http404("Unknown action.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if action == "decline":
        return redirect("matchmaking:consortium_list")
    return redirect("matchmaking:consortium_detail", pk=pk)


@login_required
@require_POST
def invite_from_profile(request: HttpRequest, org_pk: int) -> HttpResponse:
    """ "Invite to the consortium" on a profile page: back to the consortium, where the invitation shows."""
    consortium_id = request.POST.get("consortium")
    try:
        partner = consortium_services.invite_partner(request.user, consortium_id, organization_id=org_pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("organization_detail", pk=org_pk)
    messages.success(request, _("%(org)s is invited.") % {"org": partner.organization.name})
    return redirect("matchmaking:consortium_detail", pk=partner.consortium_id)


@login_required
def consortium_csv(request: HttpRequest, pk: int) -> HttpResponse:
    consortium, text = consortium_services.partner_csv(request.user, pk)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    slug = "".join(ch for ch in str(consortium) if ch.isalnum() or ch in "-_")[:40] or "consortium"
    response["Content-Disposition"] = f'attachment; filename="{slug}-partners.csv"'
    return response


# --- Saved searches ---------------------------------------------------------------------------


@login_required
def saved_search_list(request: HttpRequest) -> HttpResponse:
    searches = saved_search_services.list_for(request.user)
    return render(request, "frontend/matchmaking/saved_searches.html", {"searches": searches})


@login_required
@require_POST
def saved_search_create(request: HttpRequest) -> HttpResponse:
    """Posted by the "Save this search" form of the search page: the query and filters as they are in its URL."""
    try:
        saved = saved_search_services.create_from_querystring(
            request.user, name=request.POST.get("name", ""), querystring=request.POST.get("querystring", "")
        )
        messages.success(
            request, _("Search saved: you will be told when a new profile matches “%(name)s”.") % {"name": saved.name}
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("matchmaking:saved_search_list")


@login_required
@require_POST
def saved_search_delete(request: HttpRequest, pk: int) -> HttpResponse:
    saved_search_services.delete(request.user, pk)
    messages.success(request, _("Saved search deleted."))
    return redirect("matchmaking:saved_search_list")
