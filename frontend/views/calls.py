"""Calls for projects and funding, with their eligibility rules."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from matchmaking.models import Call, OrganizationKind


@dataclass(frozen=True)
class CallRow:
    call: Call
    required_kinds: list[str]
    allowed_countries: list[str]


def call_list(request: HttpRequest) -> HttpResponse:
    now, today = timezone.now(), timezone.localdate()
    kinds = dict(OrganizationKind.choices)
    groups: dict[str, list[CallRow]] = {"open": [], "upcoming": [], "closed": []}
    for call in Call.objects.select_related("published_by").order_by("deadline"):
        row = CallRow(
            call=call,
            required_kinds=[str(kinds.get(kind, kind)) for kind in call.required_kinds or []],
            allowed_countries=list(call.allowed_countries or []),
        )
        group = "closed" if call.deadline <= now else "upcoming" if call.opens_on > today else "open"
        groups[group].append(row)
    return render(
        request,
        "frontend/calls/list.html",
        {"open_rows": groups["open"], "upcoming_rows": groups["upcoming"], "closed_rows": groups["closed"]},
    )
