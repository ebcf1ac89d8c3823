"""Search API views: validate the query parameters, run one query from `search.queries`, serialize.

Visibility is applied inside the queries from the signed-in user; nothing in
the request can widen it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from search import queries
from search.api import serializers as s

ERRORS = {
    400: OpenApiResponse(description="Invalid parameters: `{parameter: [messages]}`."),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Not allowed."),
    503: OpenApiResponse(description="The search engine is unavailable; try again shortly."),
}


class SearchUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Search is temporarily unavailable. Please try again in a moment.")
    default_code = "search_unavailable"


def _validated(serializer_class: type[Any], request: Request) -> Any:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer


_PLACEHOLDER_ID = 999_999_999_999


def profile_urls() -> Callable[[int], str]:
    """Profile page URL of an organization, linking back to the search, in the request's language.

    One `reverse()` per response rather than per hit: resolving the URL pattern cost more
    than the rest of building a hit.
    """
    pattern = reverse("organization_detail", kwargs={"pk": _PLACEHOLDER_ID}) + "?from=search"
    return lambda organization_id: pattern.replace(str(_PLACEHOLDER_ID), str(int(organization_id)))


def organization_search_payload(result: queries.OrganizationSearchResult) -> dict[str, Any]:
    """The response body, shaped as `OrganizationSearchResultSerializer` documents it.

    Built directly from the result's dataclasses: running the DRF serializer over 20 hits
    and nine facets was a third of the endpoint's CPU time (tests check the payload
    against the serializer).
    """
    url = profile_urls()
    return {
        "total": result.total,
        "text": result.text,
        "sort": result.sort,
        "size": result.size,
        "page": result.page,
        "next_cursor": result.next_cursor,
        "relaxed": result.relaxed,
        "hits": [{**asdict_shallow(hit), "url": url(hit.id)} for hit in result.hits],
        "facets": [
            {"name": facet.name, "label": facet.label, "values": [asdict_shallow(value) for value in facet.values]}
            for facet in result.facets
        ],
    }


def asdict_shallow(instance: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict (its values are JSON-ready: str, numbers, lists, dicts)."""
    return {name: getattr(instance, name) for name in _field_names(instance.__class__)}


@functools.cache
def _field_names(cls: Any) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


class OrganizationSearchView(APIView):
    @extend_schema(
        operation_id="search_organizations",
        summary="Search partner organizations",
        description=(
            "Full text in French and English (accents, word forms, bilingual synonyms, one typo on names) "
            "across names, acronyms, descriptions, competences, offers and needs, with facet counts "
            "(each facet's counts ignore its own selection), a geographic filter (`near`=city or "
            "`lat`/`lon`, with `km`), sorting, and pagination by `page` (first 10,000 results) or by "
            "`cursor` (any depth). Only organizations the caller may see are returned. `q` is plain "
            "text: quotes, brackets, colons and stars have no special meaning."
        ),
        parameters=[s.OrganizationSearchParams],
        responses={200: s.OrganizationSearchResultSerializer, **ERRORS},
        tags=["search"],
    )
    def get(self, request: Request) -> Response:
        params = _validated(s.OrganizationSearchParams, request)
        data = params.validated_data
        try:
            result = queries.search_organizations(
                request.user,
                text=data.get("q", ""),
                filters=params.filters(),
                sort=data["sort"],
                page=data.get("page"),
                cursor=data.get("cursor"),
                size=data["size"],
            )
        except queries.SearchUnavailable as exc:
            raise SearchUnavailable() from exc
        return Response(organization_search_payload(result))


class SuggestView(APIView):
    @extend_schema(
        operation_id="search_suggest",
        summary="Suggestions as you type",
        description="Organization names and competences starting with `q` (accents ignored, one typo "
        "tolerated from 4 characters), among organizations the caller may see.",
        parameters=[s.SuggestParams],
        responses={200: s.SuggestResultSerializer, **ERRORS},
        tags=["search"],
    )
    def get(self, request: Request) -> Response:
        data = _validated(s.SuggestParams, request).validated_data
        try:
            suggestions = queries.suggest(request.user, data["q"], size=data["size"])
        except queries.SearchUnavailable as exc:
            raise SearchUnavailable() from exc
        return Response(s.SuggestResultSerializer({"suggestions": suggestions}).data)


class CallSearchView(APIView):
    @extend_schema(
        operation_id="search_calls",
        summary="Search calls for projects",
        description="Full text over topic codes, titles and texts, with programme and publisher facets.",
        parameters=[s.CallSearchParams],
        responses={200: s.CallSearchResultSerializer, **ERRORS},
        tags=["search"],
    )
    def get(self, request: Request) -> Response:
        params = _validated(s.CallSearchParams, request)
        data = params.validated_data
        try:
            result = queries.search_calls(request.user, data.get("q", ""), params.filters(), size=data["size"])
        except queries.SearchUnavailable as exc:
            raise SearchUnavailable() from exc
        return Response(s.CallSearchResultSerializer(result).data)
