"""Messaging pages (namespace "messaging"): inbox, conversation, brokered opening, notifications.

Server-rendered first (they work without JavaScript: posting is a plain
form), then kept live by `messaging.js` over the page's one websocket
(`live.js`). Access is decided by `messaging.access`, as for the API and
the websocket.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from frontend.views.common import paginate
from matchmaking import access as matchmaking_access
from matchmaking.models import Organization
from messaging import access, events, ratelimit, selectors, services
from messaging.api.serializers import conversation_title

HISTORY_PAGE = 50


def _uid(request: HttpRequest) -> int:
    return int(request.user.pk)  # type: ignore[arg-type]


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.inbox(_uid(request)), per_page=30)
    rows = [{"participant": p, "title": conversation_title(p)} for p in page.object_list]
    return render(
        request,
        "frontend/messaging/inbox.html",
        {"page": page, "rows": rows, "can_broker": access.is_broker(request.user)},
    )


def _page_strings() -> dict[str, str]:
    return {
        "send_failed": _("Not sent: %(reason)s"),
        "sending": _("Sending…"),
        "edited": _("edited"),
        "deleted": _("Message deleted"),
        "edit": _("Edit"),
        "delete": _("Delete"),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "confirm_delete": _("Delete this message for everyone?"),
        "typing": _("%(name)s is typing…"),
        "load_older": _("Load older messages"),
        "you": _("You"),
    }


@login_required
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    participant = access.access_participant(request.user, pk)
    if request.method == "POST":
        return _post_without_javascript(request, pk)
    history = selectors.history(pk, limit=HISTORY_PAGE)
    participant_row = selectors.inbox(_uid(request)).get(pk=participant.pk)
    last_order = participant.conversation.last_order
    if history and history[-1].order > participant.last_read_order:
        # Opening the page shows the latest messages: they count as read.
        services.mark_read(user=request.user, conversation_id=pk, up_to_order=history[-1].order)
    config = {
        "conversation": pk,
        "user": _uid(request),
        "lastOrder": last_order,
        "maxBytes": events.MAX_TEXT_BYTES,
        "editWindowSeconds": int(access.EDIT_WINDOW.total_seconds()),
        "historyUrl": reverse("messaging-api:messages", args=[pk]),
        "strings": _page_strings(),
    }
    return render(
        request,
        "frontend/messaging/conversation.html",
        {
            "conversation": participant.conversation,
            "title": conversation_title(participant_row),
            "participants": selectors.participants(pk),
            "history": history,
            "has_older": bool(history) and history[0].order > 1,
            "config": config,
            "client_key": uuid.uuid4().hex,
            "max_bytes": events.MAX_TEXT_BYTES,
        },
    )


def _post_without_javascript(request: HttpRequest, pk: int) -> HttpResponse:
    text = request.POST.get("text", "")
    client_key = request.POST.get("client_key", "") or uuid.uuid4().hex
    if not ratelimit.allow_message(_uid(request)):
        flash.error(request, _("You are sending messages too fast; wait a few seconds."))
    else:
        try:
            services.post_message(user=request.user, conversation_id=pk, text=text, client_key=client_key)
        except ValidationError as error:
            flash.error(request, " ".join(error.messages))
    return redirect("messaging:conversation", pk=pk)


class BrokeredForm(forms.Form):
    first = forms.ModelChoiceField(queryset=Organization.objects.none(), label=gettext_lazy("Organization"))
    second = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label=gettext_lazy("Second organization (optional)"),
        help_text=gettext_lazy("Leave empty to talk with one organization only."),
    )
    title = forms.CharField(max_length=200, required=False, label=gettext_lazy("Subject"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The first party is a member of the broker's cluster, the second any
        # organization the broker may see (both checked again by the service).
        self.fields["first"].queryset = access.brokerable_organizations(user).order_by("legal_name")  # type: ignore[attr-defined]
        self.fields["second"].queryset = matchmaking_access.visible_organizations(user).order_by("legal_name")  # type: ignore[attr-defined]


@login_required
def brokered_new(request: HttpRequest) -> HttpResponse:
    if not access.is_broker(request.user):
        raise PermissionDenied
    form = BrokeredForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        organizations = [org for org in (form.cleaned_data["first"], form.cleaned_data["second"]) if org]
        try:
            opened = services.open_brokered_conversation(
                staff_user=request.user, organizations=organizations, title=form.cleaned_data["title"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            flash.success(request, _("Conversation opened."))
            return redirect("messaging:conversation", pk=opened.pk)
    return render(request, "frontend/messaging/brokered_new.html", {"form": form})


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.notifications(_uid(request)), per_page=30)
    return render(request, "frontend/messaging/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    services.mark_notifications_read(user=request.user)
    return redirect("messaging:notifications")
