"""Home page: what Maillage is for newcomers; a dashboard for signed-in people."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from frontend.views.common import pending_invitations
from matchmaking import access, selectors


def home(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"clusters": selectors.clusters_with_counts()}
    if request.user.is_authenticated:
        context["roles"] = selectors.user_organizations(request.user)
        context["invitations"] = pending_invitations(request.user)
        context["staff_queue_size"] = (
            selectors.admission_queue(request.user).count() if access.staff_cluster_ids(request.user) else None
        )
        context["open_calls"] = selectors.open_calls()[:3]
    return render(request, "frontend/home.html", context)
