"""Search API: query-parameter validation and response shapes (they document the OpenAPI schema)."""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from matchmaking.models import OpportunityKind, OrganizationKind, Programme, SizeBand
from search import queries
from search.geo import city_choices

MAX_VALUES = 20


def clean_query_text(value: str) -> str:
    """The length limit and cleaning of `search.queries`, reported on the `q` parameter."""
    try:
        return queries.normalize_text(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


class MultiValueField(serializers.ListField):
    """`?x=a&x=b` or `?x=a,b`; each value a short token."""

    def __init__(self, *, choices: list[str] | None = None, **kwargs: Any) -> None:
        child: serializers.Field = (
            serializers.ChoiceField(choices=choices)
            if choices
            else serializers.RegexField(r"^[\w.\-]{1,64}$", error_messages={"invalid": _("Invalid value.")})
        )
        super().__init__(child=child, required=False, max_length=MAX_VALUES, **kwargs)

    def get_value(self, dictionary: Any) -> Any:
        value = super().get_value(dictionary)
        if isinstance(value, list):
            return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
        return value


class QueryParams(serializers.Serializer):
    """Query-parameter validation, its fields shared rather than deep-copied per request.

    DRF deep-copies every declared field for each serializer instance, which rebuilt the
    choice tables of the country, theme and city fields on every search (a tenth of the
    endpoint's own Python time). Validating query parameters never changes a field, so
    each instance gets shallow copies (its own binding: name, parent).
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


class OrganizationSearchParams(QueryParams):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=queries.MAX_QUERY_LENGTH * 4,  # the exact limit applies after cleaning, in queries
        help_text=_("Words to look for (plain text, any characters; at most 500)."),
    )
    cluster = MultiValueField(help_text=_("Cluster codes, e.g. MNC."))
    country = MultiValueField(help_text=_("ISO country codes, e.g. MA, FR."))
    kind = MultiValueField(choices=list(OrganizationKind.values))
    size_band = MultiValueField(choices=list(SizeBand.values))
    theme = MultiValueField(help_text=_("Shared theme codes."))
    opportunity_kind = MultiValueField(choices=list(OpportunityKind.values))
    trl = MultiValueField(choices=list(queries.TRL_LABELS))
    language = MultiValueField(help_text=_("ISO 639-1 codes, e.g. fr, en, ar."))
    track_record = MultiValueField(choices=["true", "false"])
    near = serializers.ChoiceField(
        choices=[key for key, _label in city_choices()], required=False, help_text=_("A city of the gazetteer.")
    )
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
    km = serializers.FloatField(required=False, min_value=0.1, max_value=queries.MAX_KM, default=50)
    sort = serializers.ChoiceField(choices=list(queries.SORTS), default="relevance")
    page = serializers.IntegerField(required=False, min_value=1, max_value=queries.MAX_FROM)
    cursor = serializers.CharField(required=False, max_length=4000, help_text=_("`next_cursor` of the previous page."))
    size = serializers.IntegerField(required=False, min_value=1, max_value=queries.MAX_PAGE_SIZE, default=20)

    def validate_q(self, value: str) -> str:
        return clean_query_text(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError({"lat": [_("Give both lat and lon.")]})
        if "near" in attrs and "lat" in attrs:
            raise serializers.ValidationError({"near": [_("Give either a city or a point, not both.")]})
        return attrs

    def filters(self) -> queries.OrganizationFilters:
        data = self.validated_data
        near = None
        if data.get("near"):
            near = queries.GeoFilter.near_city(data["near"], data["km"])
        elif "lat" in data:
            near = queries.GeoFilter(lat=data["lat"], lon=data["lon"], km=data["km"])
        values = {name: tuple(dict.fromkeys(data.get(name) or [])) for name in queries.FACETS}
        return queries.OrganizationFilters(near=near, **values)


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the field, not Field.label
    count = serializers.IntegerField()
    selected = serializers.BooleanField()


class FacetSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the field, not Field.label
    values = FacetValueSerializer(many=True)


class OrganizationHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    legal_name = serializers.CharField()
    acronym = serializers.CharField()
    kind = serializers.CharField()
    size_band = serializers.CharField(allow_null=True)
    country = serializers.CharField()
    city = serializers.CharField()
    cluster_codes = serializers.ListField(child=serializers.CharField())
    themes = serializers.ListField(child=serializers.CharField())
    competences = serializers.ListField(child=serializers.CharField())
    has_track_record = serializers.BooleanField()
    eu_projects_count = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True)
    highlights = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("HTML-safe fragments: the text is escaped and matches are wrapped in <mark>."),
    )
    summary = serializers.CharField()
    url = serializers.CharField(help_text=_("Profile page, linking back to the search."))


class OrganizationSearchResultSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    text = serializers.CharField(help_text=_("The words searched, after cleaning."))
    sort = serializers.CharField()
    size = serializers.IntegerField()
    page = serializers.IntegerField(allow_null=True)
    next_cursor = serializers.CharField(allow_null=True, help_text=_("Pass as `cursor` for the next page."))
    relaxed = serializers.BooleanField(
        help_text=_("True when no organization holds every word: the hits hold some of them.")
    )
    hits = OrganizationHitSerializer(many=True)
    facets = FacetSerializer(many=True)


class SuggestParams(QueryParams):
    q = serializers.CharField(required=True, allow_blank=True, trim_whitespace=False, max_length=2000)
    size = serializers.IntegerField(required=False, min_value=1, max_value=20, default=6)

    def validate_q(self, value: str) -> str:
        return clean_query_text(value)


class SuggestionSerializer(serializers.Serializer):
    text = serializers.CharField()
    kind = serializers.ChoiceField(choices=["organization", "competence"])
    organization_id = serializers.IntegerField(allow_null=True)


class SuggestResultSerializer(serializers.Serializer):
    suggestions = SuggestionSerializer(many=True)


class CallSearchParams(QueryParams):
    q = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=2000)
    programme = MultiValueField(choices=list(Programme.values))
    published_by = MultiValueField(help_text=_("Cluster codes."))
    open = serializers.BooleanField(required=False, default=False, help_text=_("Only calls open now."))
    size = serializers.IntegerField(required=False, min_value=1, max_value=queries.MAX_PAGE_SIZE, default=20)

    def validate_q(self, value: str) -> str:
        return clean_query_text(value)

    def filters(self) -> queries.CallFilters:
        data = self.validated_data
        return queries.CallFilters(
            programme=tuple(data.get("programme") or []),
            published_by=tuple(data.get("published_by") or []),
            open_only=bool(data.get("open")),
        )


class CallHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    topic_code = serializers.CharField()
    title = serializers.CharField()
    programme = serializers.CharField()
    opens_on = serializers.CharField()
    deadline = serializers.CharField()
    published_by = serializers.CharField(allow_null=True)
    highlights = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class CallSearchResultSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    text = serializers.CharField()
    hits = CallHitSerializer(many=True)
    facets = FacetSerializer(many=True)
