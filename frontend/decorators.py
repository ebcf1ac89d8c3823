"""Access decorators for pages: staff pages need a cluster role and a TOTP authenticator."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from matchmaking import access

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Cluster staff (or superusers) only, and only once they protect their account with TOTP.

    Staff decide admissions for a whole cluster, so a stolen password must not
    be enough: without an authenticator they are sent to activate one first.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (access.staff_cluster_ids(user) or getattr(user, "is_superuser", False)):
            raise PermissionDenied(_("This page is for cluster staff."))
        if access.staff_requires_mfa(user):
            messages.warning(
                request,
                _("Cluster staff must protect their account with an authenticator app before using staff pages."),
            )
            return redirect("mfa_activate_totp")
        return view(request, *args, **kwargs)

    return wrapper
