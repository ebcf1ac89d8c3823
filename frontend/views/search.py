"""The partner search page: server-rendered first, enhanced by search.js.

The same GET parameters as `GET /api/search/organizations` (validated by the
same serializer), so a URL copied from the page works in the API and back.
With the header `X-Search-Partial: 1` the view answers only the live region
(facets and results), which search.js swaps in without a full reload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from search import queries
from search.api.serializers import OrganizationSearchParams
from search.geo import city_choices

SORT_LABELS = {"relevance": "Relevance", "name": "Name", "updated": "Last updated"}


@dataclass(frozen=True)
class ActiveFilter:
    label: str
    remove_url: str


def _url(params: QueryDict, **changes: Any) -> str:
    """This search with some parameters changed (None removes); always back to the first page."""
    query = params.copy()
    for key in ("cursor", "page", "partial"):
        query.pop(key, None)
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query.setlist(key, value if isinstance(value, list) else [value])
    encoded = query.urlencode()
    return reverse("search") + (f"?{encoded}" if encoded else "")


def _without_value(params: QueryDict, name: str, value: str) -> str:
    values = [part for item in params.getlist(name) for part in item.split(",") if part and part != value]
    return _url(params, **{name: values or None})


def _active_filters(params: QueryDict, result: queries.OrganizationSearchResult | None, filters: Any) -> list[Any]:
    active: list[ActiveFilter] = []
    if result is None or filters is None:
        return active
    labels = {(facet.name, v.value): v.label for facet in result.facets for v in facet.values}
    for name, spec in queries.FACETS.items():
        for value in filters.selected(name):
            label = labels.get((name, value), value)
            text = _("%(facet)s: %(value)s") % {"facet": spec.label, "value": label}
            active.append(ActiveFilter(text, _without_value(params, name, value)))
    if filters.near is not None:
        where = filters.near.label or f"{filters.near.lat:.3f}, {filters.near.lon:.3f}"
        active.append(
            ActiveFilter(
                _("Within %(km)g km of %(where)s") % {"km": filters.near.km, "where": where},
                _url(params, near=None, lat=None, lon=None, km=None),
            )
        )
    return active


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    params = request.GET
    form = OrganizationSearchParams(data=params)
    errors: list[str] = []
    unavailable = False
    result: queries.OrganizationSearchResult | None = None
    filters: queries.OrganizationFilters | None = None
    did_you_mean: list[queries.Suggestion] = []
    popular: list[queries.FacetValue] = []
    status = 200
    if form.is_valid():
        data = form.validated_data
        try:
            filters = form.filters()
            result = queries.search_organizations(
                request.user,
                text=data.get("q", ""),
                filters=filters,
                sort=data["sort"],
                cursor=data.get("cursor"),
                page=data.get("page"),
                size=data["size"],
            )
            if result.total == 0:
                did_you_mean, popular = _empty_state_hints(request, result.text)
        except ValidationError as exc:
            errors = list(exc.messages)
            status = 400
        except queries.SearchUnavailable:
            unavailable = True
            status = 503
    else:
        status = 400
        for field_name, messages in form.errors.items():
            for message in messages:
                shown_as_is = field_name in {"q", "non_field_errors"}
                errors.append(str(message) if shown_as_is else f"{field_name}: {message}")
    context = {
        "result": result,
        "errors": errors,
        "unavailable": unavailable,
        "q": params.get("q", ""),
        "sort": params.get("sort", "relevance"),
        "sorts": [(key, _(label)) for key, label in SORT_LABELS.items()],
        "cities": city_choices(),
        "near": params.get("near", ""),
        "km": params.get("km", "50"),
        "active_filters": _active_filters(params, result, filters),
        "clear_url": reverse("search"),
        "next_url": _url(params, cursor=result.next_cursor) if result and result.next_cursor else None,
        "first_url": _url(params) if params.get("cursor") or params.get("page") else None,
        "did_you_mean": [(s.text, _url(params, q=s.text)) for s in did_you_mean],
        "popular_themes": [(v.label, _url(QueryDict(), theme=v.value)) for v in popular],
        "without_text_url": _url(params, q=None) if params.get("q") else None,
        "api_url": reverse("api-search-organizations"),
        "suggest_url": reverse("api-search-suggest"),
    }
    template = "frontend/search/_live.html" if request.headers.get("X-Search-Partial") else "frontend/search/page.html"
    return render(request, template, context, status=status)


def _empty_state_hints(request: HttpRequest, text: str) -> tuple[list[queries.Suggestion], list[queries.FacetValue]]:
    """Names or competences close to what was typed, and the themes most represented among visible members."""
    suggestions = [s for s in queries.suggest(request.user, text, size=3)] if text else []
    overview = queries.search_organizations(request.user, text="", size=1)
    themes = next((facet.values for facet in overview.facets if facet.name == "theme"), [])
    return suggestions[:4], themes[:6]
