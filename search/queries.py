"""The queries: partners, calls and suggestions, filtered by what the viewer may see.

Callers get small dataclasses (ids, display fields, HTML-safe highlights,
facet counts, an opaque cursor), never raw Elasticsearch responses.

User text only ever reaches `match`-family queries (`multi_match`,
`match_phrase`), which analyze it as plain words, and, for suggestions,
`prefix` queries on words folded in Python: no query-string syntax exists for
it to break. Control characters are dropped,
whitespace collapsed, and text longer than `MAX_QUERY_LENGTH` is refused
with a ValidationError (a 400 in the API) rather than silently truncated, so
the user knows what was searched.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from elasticsearch import ApiError, TransportError
from elasticsearch import ConnectionError as ESConnectionError

from matchmaking import access
from matchmaking.countries import COUNTRY_NAMES
from matchmaking.models import Cluster, OpportunityKind, OrganizationKind, Programme, SizeBand, Theme
from search import documents
from search.analysis import fold
from search.client import LocalNodeNotRunning, get_client
from search.geo import CITIES, city_key
from search.indexing import CALLS, ORGANIZATIONS

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 500
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_FROM = 10_000  # beyond this, pages come from cursors (search_after)
MAX_KM = 20_000
SUGGEST_MAX_PREFIX = 50  # longer "prefixes" are searches, not suggestions
SUGGEST_NAME_FIELDS = ["legal_name", "acronym"]
SUGGEST_TERM_FIELDS = ["competences", "theme_labels"]
CURSOR_SALT = "search.cursor"


class SearchUnavailable(Exception):
    """Elasticsearch could not answer; pages and the API turn this into a 503 with a clear message."""


# --- Input ------------------------------------------------------------------------------


def normalize_text(text: str | None) -> str:
    """Plain words from anything a user may type; a ValidationError when it is too long."""
    if not text:
        return ""
    cleaned = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Zl", "Zp"} or ch in "\ue000\ue001" else ch for ch in str(text)
    )
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > MAX_QUERY_LENGTH:
        raise ValidationError(
            _("The search text is too long: at most %(max)d characters.") % {"max": MAX_QUERY_LENGTH},
            code="too_long",
        )
    return cleaned


@dataclass(frozen=True)
class GeoFilter:
    lat: float
    lon: float
    km: float
    label: str = ""

    @classmethod
    def near_city(cls, city: str, km: float) -> GeoFilter:
        found = CITIES.get(city_key(city))
        if found is None:
            raise ValidationError(_("Unknown city: %(city)s.") % {"city": city[:80]}, code="unknown_city")
        return cls(lat=found[1], lon=found[2], km=km, label=found[0])

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValidationError(_("Latitude or longitude out of range."), code="invalid_point")
        if not (0 < self.km <= MAX_KM):
            raise ValidationError(_("The distance must be between 0 and %(max)d km.") % {"max": MAX_KM})


@dataclass(frozen=True)
class OrganizationFilters:
    """Facet selections (values OR-ed within a facet, facets AND-ed) and the geographic filter."""

    cluster: tuple[str, ...] = ()
    country: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    size_band: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    opportunity_kind: tuple[str, ...] = ()
    trl: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    track_record: tuple[str, ...] = ()
    near: GeoFilter | None = None

    def selected(self, facet: str) -> tuple[str, ...]:
        value: tuple[str, ...] = getattr(self, facet)
        return value

    def is_empty(self) -> bool:
        return self.near is None and not any(self.selected(name) for name in FACETS)

    def key(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: sorted(self.selected(name)) for name in FACETS if self.selected(name)}
        if self.near is not None:
            data["near"] = [self.near.lat, self.near.lon, self.near.km]
        return data


@dataclass(frozen=True)
class FacetSpec:
    name: str
    field: str
    label: Any  # lazy translation
    size: int = 50


FACETS: dict[str, FacetSpec] = {
    spec.name: spec
    for spec in (
        FacetSpec(name, documents.FACET_FIELDS[name], label)
        for name, label in (
            ("cluster", gettext_lazy("Cluster")),
            ("country", gettext_lazy("Country")),
            ("kind", gettext_lazy("Kind of organization")),
            ("size_band", gettext_lazy("Size")),
            ("theme", gettext_lazy("Theme")),
            ("opportunity_kind", gettext_lazy("Offers and needs")),
            ("trl", gettext_lazy("Technology readiness (TRL)")),
            ("language", gettext_lazy("Languages")),
            ("track_record", gettext_lazy("EU project track record")),
        )
    )
}
# Buckets of the one aggregation over `facet_values`: at least every value of every facet
# (clusters, countries, kinds, themes... a taxonomy, not user data), so the counts are exact.
FACET_VALUES_SIZE = 2_000
SORTS = ("relevance", "name", "updated")

LANGUAGE_NAMES = {
    "fr": gettext_lazy("French"),
    "en": gettext_lazy("English"),
    "ar": gettext_lazy("Arabic"),
    "es": gettext_lazy("Spanish"),
    "de": gettext_lazy("German"),
    "it": gettext_lazy("Italian"),
    "pt": gettext_lazy("Portuguese"),
    "zgh": gettext_lazy("Tamazight"),
    "ber": gettext_lazy("Tamazight"),
}
TRL_LABELS = {
    "1-3": gettext_lazy("TRL 1–3 (research)"),
    "4-6": gettext_lazy("TRL 4–6 (development)"),
    "7-9": gettext_lazy("TRL 7–9 (market-ready)"),
}
TRACK_RECORD_LABELS = {"true": gettext_lazy("Has EU projects"), "false": gettext_lazy("No EU project yet")}


# --- Results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    values: list[FacetValue]


@dataclass(frozen=True)
class OrganizationHit:
    id: int
    name: str
    legal_name: str
    acronym: str
    kind: str
    size_band: str | None
    country: str
    city: str
    cluster_codes: list[str]
    themes: list[str]
    competences: list[str]
    has_track_record: bool
    eu_projects_count: int
    score: float | None
    # HTML-safe: the indexed text escaped, with only <mark> added around matches.
    highlights: dict[str, list[str]]
    summary: str  # plain text, for cards without a highlight

    @property
    def snippets(self) -> list[SafeString]:
        out: list[SafeString] = []
        for fragments in self.highlights.values():
            out += [mark_safe(fragment) for fragment in fragments]  # noqa: S308 - escaped in _safe_highlight
        return out[:3]


@dataclass
class OrganizationSearchResult:
    total: int
    hits: list[OrganizationHit]
    facets: list[Facet]
    text: str
    sort: str
    size: int
    next_cursor: str | None = None
    page: int | None = None
    suggestions: list[str] = field(default_factory=list)
    # No profile held every word: these hits hold some of them.
    relaxed: bool = False

    @property
    def ids(self) -> list[int]:
        return [hit.id for hit in self.hits]


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # "organization" or "competence"
    organization_id: int | None = None


@dataclass(frozen=True)
class CallHit:
    id: int
    topic_code: str
    title: str
    programme: str
    opens_on: str
    deadline: str
    published_by: str | None
    highlights: dict[str, list[str]]


@dataclass
class CallSearchResult:
    total: int
    hits: list[CallHit]
    facets: list[Facet]
    text: str


# --- Viewer ----------------------------------------------------------------------------------


def viewer_access_tokens(viewer: Any) -> list[str] | None:
    """The viewer's tokens for the `access` field, or None for a viewer who may see nothing."""
    if viewer is None or not getattr(viewer, "is_authenticated", False) or not getattr(viewer, "is_active", True):
        return None
    if getattr(viewer, "is_superuser", False):
        return documents.viewer_tokens(viewer_clusters=(), staff_clusters=(), superuser=True)
    member_clusters, staff_clusters = access.member_and_staff_cluster_ids(viewer)
    return documents.viewer_tokens(
        viewer_clusters=member_clusters | staff_clusters,  # = access.viewer_cluster_ids
        staff_clusters=staff_clusters,
        superuser=bool(getattr(viewer, "is_superuser", False)),
    )


# --- Query building -----------------------------------------------------------------------------

# A query touches few fields: its time follows the number of (field, term) pairs it scores
# on every hit. Texts are searched through their groups (see search/documents.py), in
# French stems, which also reduce English plurals ("networks" -> "network"): `topics`
# (names, competences, offer/need titles, themes, tags) and `details` (descriptions,
# offer/need texts, and the kind, clusters, region and country, so "cybersecurity SME
# Brittany" finds Breton SMEs). Names also as folded words, for exact names and typos.
MATCH_FIELDS = ["acronym^8", "legal_name^6", "topics^3", "details"]
# One typo is tolerated in names only: fuzzy expansion over texts cost a quarter of the
# query time for matches the stems and synonyms mostly already make.
FUZZY_FIELDS = ["acronym^4", "legal_name^4"]
# Phrases rank higher where they say most (names, competences, titles). Over the long
# texts too, the phrase bonus cost more than the rest of the query on two-word searches.
PHRASE_FIELDS = ["topics"]
HIGHLIGHT_FIELDS = {
    # shown name -> fields whose fragments count for it (French stems: plurals match)
    "description": ["description_fr", "description_en"],
    "competences": ["competences.fr"],
    "offers": ["offer_titles.fr"],
    "needs": ["need_titles.fr"],
}
# Words that say nothing about a partner. They are left out of the words a hit must
# contain ("logiciel de gestion" needs "logiciel" and "gestion"), unless the search is made
# of nothing else; the phrase bonus still uses the text as typed, stop words included.
_STOP_WORDS_TEXT = (
    "a à au aux avec ce ces d dans de des du en et l la le les leur un une ou par pour sur "
    "an and are as at by for from in into is of on or the to with"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def significant_words(text: str) -> str:
    """`text` without its stop words, or unchanged when it holds nothing else."""
    kept = [word for word in text.split() if word.lower().strip("'’") not in STOP_WORDS]
    return " ".join(kept) if kept else text


def text_query(text: str, *, relaxed: bool = False) -> dict[str, Any]:
    """Every significant word somewhere in the profile (any of its fields), or a near-miss on a name.

    `relaxed`: all the words but one; used when no profile holds them all.
    """
    words = significant_words(text)
    # cross_fields: a word may be in any field of one analysis (a name, a competence, the region).
    match: dict[str, Any] = {"multi_match": {"query": words, "fields": MATCH_FIELDS, "type": "cross_fields"}}
    if relaxed:
        match["multi_match"]["minimum_should_match"] = "1<-1"  # all the words but one
    else:
        match["multi_match"]["operator"] = "and"
    fuzzy = {
        "multi_match": {
            "query": text,
            "fields": FUZZY_FIELDS,
            "operator": "and",
            # One typo (the ask) in words of four letters or more: two edits on long
            # words made the automata of this clause a fifth of the whole query's time.
            "fuzziness": "AUTO:4,100",
            "prefix_length": 1,
            "max_expansions": 20,
            "boost": 0.5,
        }
    }
    return {"bool": {"should": [match, fuzzy], "minimum_should_match": 1}}


def highlight_query(text: str) -> dict[str, Any]:
    """The words (stems and synonyms included) in the highlighted fields, without fuzzy expansion.

    Fuzzy terms make the unified highlighter run an automaton over every
    token of every highlighted field; typos are tolerated in names only, and
    names are not highlighted. The highlighted fields are indexed in French
    stems without synonym concepts, so the words come from the French search
    analysis, whose synonyms are the forms themselves (phrases included).
    """
    words = significant_words(text)
    return {"multi_match": {"query": words, "fields": ["topics", "details"], "analyzer": documents.FRENCH_SEARCH}}


def ranking_boosts(text: str) -> list[dict[str, Any]]:
    """A word as typed (no synonyms) ranks above its synonyms, and a phrase above scattered words.

    Without synonyms: "networks" should put a network company above a "réseaux" one,
    and a synonym phrase ("embedded systems" for "systèmes embarqués") already matched
    in the main clause; each one here would be one more phrase query over every hit.
    """
    as_typed = {"query": text, "fields": PHRASE_FIELDS, "analyzer": documents.FRENCH}
    if len(text.split()) > 1:
        # Several words: the phrase as typed (one term lookup with `index_phrases`); scoring
        # each typed word again over every hit cost a tenth of a two-word search.
        return [{"multi_match": {**as_typed, "type": "phrase", "boost": 4}}]
    return [{"multi_match": {**as_typed, "boost": 2}}]


def facet_filter(name: str, values: Sequence[str]) -> dict[str, Any] | None:
    if not values:
        return None
    spec = FACETS[name]
    if name == "track_record":
        wanted = {v == "true" for v in values}
        if len(wanted) == 2:
            return None
        return {"term": {spec.field: wanted.pop()}}
    return {"terms": {spec.field: list(values)}}


def visibility_filter(tokens: list[str]) -> dict[str, Any]:
    return {"terms": {"access": tokens}}


def geo_filter(near: GeoFilter) -> dict[str, Any]:
    return {"geo_distance": {"distance": f"{near.km}km", "location": {"lat": near.lat, "lon": near.lon}}}


def sort_clause(sort: str, has_text: bool) -> list[Any]:
    if sort == "name":
        return [{"name_sort": "asc"}, {"org_id": "asc"}]
    if sort == "updated" or not has_text:
        return [{"updated_at": {"order": "desc", "missing": "_last"}}, {"org_id": "asc"}]
    return [{"_score": "desc"}, {"org_id": "asc"}]


def narrowing_filters(tokens: list[str], filters: OrganizationFilters) -> list[dict[str, Any]]:
    """What every search and count of a request is under: the viewer's access and the place."""
    out = [visibility_filter(tokens)]
    if filters.near is not None:
        out.append(geo_filter(filters.near))
    return out


def build_organization_search(
    *,
    tokens: list[str],
    text: str,
    filters: OrganizationFilters,
    sort: str,
    size: int,
    from_: int = 0,
    search_after: list[Any] | None = None,
    facets: bool = True,
    relaxed: bool = False,
) -> dict[str, Any]:
    query: dict[str, Any] = {"bool": {"filter": narrowing_filters(tokens, filters)}}
    if text:
        query["bool"]["must"] = [text_query(text, relaxed=relaxed)]
        query["bool"]["should"] = ranking_boosts(text)
    facet_filters = {name: facet_filter(name, filters.selected(name)) for name in FACETS}
    active = {name: f for name, f in facet_filters.items() if f is not None}
    body: dict[str, Any] = {
        "query": query,
        "size": size,
        "sort": sort_clause(sort, bool(text)),
        "track_total_hits": True,
        "_source": [
            "org_id",
            "name",
            "legal_name",
            "acronym",
            "kind",
            "size_band",
            "country",
            "city",
            "cluster_codes",
            "themes",
            "competences",
            "has_track_record",
            "eu_projects_count",
            "description_fr",
            "description_en",
        ],
    }
    if active and text:
        # post_filter, not query: each facet's counts in the same search ignore the facet's own
        # selection (counting them in searches of their own would score the words again).
        body["post_filter"] = {"bool": {"filter": list(active.values())}}
    elif active:
        # Browsing: the selections narrow the profiles before anything is sorted or counted;
        # each selected facet is counted by a search of its own (`organization_searches`).
        query["bool"]["filter"] += list(active.values())
    if search_after is not None:
        body["search_after"] = search_after
    elif from_:
        body["from"] = from_
    if facets:
        # Every facet counted over the page's hits (under all the selections);
        # `organization_searches` adds each selected facet's counts under the other selections.
        body["aggs"] = {"facet_values": facet_terms()}
    if text:
        body["highlight"] = {
            "pre_tags": [documents.HIGHLIGHT_PRE],
            "post_tags": [documents.HIGHLIGHT_POST],
            "encoder": "default",
            "fragment_size": 160,
            "number_of_fragments": 2,
            "no_match_size": 0,
            "require_field_match": False,
            "highlight_query": highlight_query(text),
            "fields": {f: {} for fields in HIGHLIGHT_FIELDS.values() for f in fields},
        }
    return body


def organization_searches(
    *,
    tokens: list[str],
    text: str,
    filters: OrganizationFilters,
    sort: str,
    size: int,
    from_: int = 0,
    search_after: list[Any] | None = None,
    facets: bool = True,
    relaxed: bool = False,
) -> list[dict[str, Any]]:
    """The searches answering one request, sent together (`_msearch`); `merge_responses` joins them.

    Each facet's counts ignore the facet's own selection. The first search gives the page,
    the total and every facet's counts under all the selections (one aggregation over
    `facet_values`); a selected facet is counted again under the other selections, on its
    own field's doc values (a value per profile to read instead of every facet's: 40-55 %
    less time than from `facet_values` over the same profiles).

    With words, one search: the selections are its `post_filter` (the page and the total are
    under them, the aggregations are not), and each selected facet is counted in a filter of
    the other selections. A count in a search of its own would score the words again.

    Browsing (no words): the selections are in the page's query, and each selected facet is
    counted by a `size: 0` search whose query holds the other selections, so it visits only
    the profiles it counts (request-cacheable: it depends on the viewer's access, the other
    selections and the place). The page and the counts under all the selections were two
    searches over the same profiles: one visit now. With two selections, the searches of
    such a request, run one at a time, took almost a third less (12.9 to 8.9 ms on average
    over the bench's twelve such requests).
    """
    page = build_organization_search(
        tokens=tokens,
        text=text,
        filters=filters,
        sort=sort,
        size=size,
        from_=from_,
        search_after=search_after,
        facets=facets,
        relaxed=relaxed,
    )
    active = {name: f for name in FACETS if (f := facet_filter(name, filters.selected(name))) is not None}
    if not facets or not active:
        return [page]
    if text:
        page["aggs"] = {"facet_values": counted_under(list(active.values()))} | {
            name: counted_under(other_selections(name, active), name) for name in active
        }
        return [page]
    narrowing = narrowing_filters(tokens, filters)
    return [page] + [
        {
            "size": 0,
            "track_total_hits": False,
            "query": {"bool": {"filter": narrowing + other_selections(name, active)}},
            "aggs": {name: own_terms(name)},
        }
        for name in active
    ]


def other_selections(name: str, active: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The filters of every selected facet but `name` (a facet's counts ignore its own selection)."""
    return [f for other, f in active.items() if other != name]


def counted_under(filters: list[dict[str, Any]], name: str | None = None) -> dict[str, Any]:
    """Counts over the hits that pass `filters` (in a filter wrapper when there are any): the
    named facet's (`own_terms`), or every facet's (`facet_terms`)."""
    terms = facet_terms() if name is None else own_terms(name)
    if not filters:
        return terms
    return {"filter": {"bool": {"filter": filters}}, "aggs": {"values": terms}}


def facet_terms() -> dict[str, Any]:
    """A `terms` aggregation counting every facet's values at once (over `facet_values`).

    Nine aggregations, one per facet field, cost twice the time over a broad search's hits.
    """
    return {"terms": {"field": "facet_values", "size": FACET_VALUES_SIZE}}


def own_terms(name: str) -> dict[str, Any]:
    """One facet's counts, from its own field.

    Not from `facet_values` with an `include` pattern: the node compiled the pattern into
    an automaton on every search (a quarter of its CPU per request), and a list of values
    still read every facet's values of each profile. The size covers every value, so the
    counts are exact on any number of shards.
    """
    return {"terms": {"field": FACETS[name].field, "size": FACET_VALUES_SIZE}}


def facet_buckets(aggregations: Mapping[str, Any]) -> dict[str, Any]:
    """Per-facet buckets (value, count; most frequent first, at most the facet's size).

    From `organization_searches`' aggregations into `{facet: {"buckets": [...]}}`: the one
    named `facet_values` gives every facet's counts ("facet\x1fvalue" keys); one named after
    a facet (possibly under a filter wrapper) gives that facet's from its own field, which
    replace the facet's counts in the other.
    """
    every = aggregations.get("facet_values")
    counts: dict[str, list[dict[str, Any]]] = {name: [] for name in FACETS} if every is not None else {}
    for bucket in _buckets(every or {}):  # most frequent first, then by value
        name, _separator, value = str(bucket["key"]).partition(documents.FACET_SEPARATOR)
        if name in counts and len(counts[name]) < FACETS[name].size:
            counts[name].append({"key": value, "doc_count": bucket["doc_count"]})
    for name, aggregation in aggregations.items():
        if name in FACETS:
            counts[name] = [
                # Boolean fields name their values 1/0, and "true"/"false" as strings (as facet_values does).
                {"key": str(bucket.get("key_as_string", bucket["key"])), "doc_count": bucket["doc_count"]}
                for bucket in _buckets(aggregation)[: FACETS[name].size]
            ]
    return {name: {"buckets": buckets} for name, buckets in counts.items()}


def _buckets(aggregation: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(aggregation.get("values", aggregation).get("buckets", []))  # unwrapped from its filter


def merge_responses(responses: list[dict[str, Any]]) -> dict[str, Any]:
    """One response from `organization_searches`' parts: the page, the total and the facets'
    counts of the first, then each selected facet's counts under the other selections."""
    page, *per_selection = responses
    aggregations = facet_buckets(page.get("aggregations", {}))
    for part in per_selection:
        aggregations.update(facet_buckets(part.get("aggregations", {})))
    return {**page, "aggregations": aggregations}


# --- Cursors ------------------------------------------------------------------------------


def _fingerprint(text: str, filters: OrganizationFilters, sort: str, size: int) -> str:
    raw = json.dumps([text, filters.key(), sort, size], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def encode_cursor(sort_values: list[Any], fingerprint: str) -> str:
    return signing.dumps({"a": sort_values, "f": fingerprint}, salt=CURSOR_SALT, compress=True)


def decode_cursor(cursor: str, fingerprint: str) -> list[Any]:
    try:
        data = signing.loads(cursor, salt=CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise ValidationError(_("Invalid page cursor."), code="invalid_cursor") from exc
    if not isinstance(data, dict) or not isinstance(data.get("a"), list):
        raise ValidationError(_("Invalid page cursor."), code="invalid_cursor")
    if data.get("f") != fingerprint:
        raise ValidationError(
            _("This page cursor belongs to another search; start again from the first page."), code="stale_cursor"
        )
    values: list[Any] = data["a"]
    return values


# --- Running queries ----------------------------------------------------------------------


def _run(index: str, body: dict[str, Any], *, retry: bool = True) -> dict[str, Any]:
    """One search. Every search asks for the shard request cache (here and in `_run_together`):
    a repeated request (same words, filters, page and viewer access) is answered from it until
    the index next refreshes, which empties it."""
    try:
        response = get_client().search(index=index, request_cache=True, **body)
        if retry and response.body.get("_shards", {}).get("failed"):
            # The alias moved to a new index while this search ran on the old one (a rebuild's
            # swap): the same search on the alias now reaches the new index.
            return _run(index, body, retry=False)
    except (ESConnectionError, TransportError, LocalNodeNotRunning) as exc:
        logger.warning("Search unavailable: %s", exc)
        raise SearchUnavailable(str(exc)) from exc
    except ApiError as exc:
        if exc.meta.status == 404 and retry:
            return _run(index, body, retry=False)
        if exc.meta.status == 404:
            logger.error("Search index %s is missing: run `manage.py search_index ensure`.", index)
            raise SearchUnavailable("index missing") from exc
        logger.exception("Search query rejected by Elasticsearch")
        raise SearchUnavailable(str(exc)) from exc
    result: dict[str, Any] = response.body
    return result


def _run_together(index: str, bodies: list[dict[str, Any]], *, retry: bool = True) -> list[dict[str, Any]]:
    """Several searches in one round trip (`_msearch`): the cluster runs them side by side."""
    searches = [part for body in bodies for part in ({"index": index, "request_cache": True}, body)]
    try:
        responses: list[dict[str, Any]] = get_client().msearch(searches=searches).body["responses"]
    except (ESConnectionError, TransportError, LocalNodeNotRunning) as exc:
        logger.warning("Search unavailable: %s", exc)
        raise SearchUnavailable(str(exc)) from exc
    except ApiError as exc:
        logger.exception("Search query rejected by Elasticsearch")
        raise SearchUnavailable(str(exc)) from exc
    failed = [r for r in responses if "error" in r or r.get("_shards", {}).get("failed")]
    if failed and retry:
        # As in `_run`: an alias swapped by a rebuild while these ran, or an index being replaced.
        return _run_together(index, bodies, retry=False)
    if failed:
        logger.error("Search failed: %s", str(failed[0].get("error") or failed[0].get("_shards"))[:500])
        raise SearchUnavailable("search failed")
    return responses


def _safe_highlight(fragment: str) -> str:
    """Escape everything, then turn only our private markers into <mark>."""
    escaped = escape(fragment)  # what Django's escape() does, without its lazy-string wrapper
    if escaped.count(documents.HIGHLIGHT_PRE) != escaped.count(documents.HIGHLIGHT_POST):
        return escaped.replace(documents.HIGHLIGHT_PRE, "").replace(documents.HIGHLIGHT_POST, "")
    return escaped.replace(documents.HIGHLIGHT_PRE, "<mark>").replace(documents.HIGHLIGHT_POST, "</mark>")


def _highlights(raw: Mapping[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for shown, fields in HIGHLIGHT_FIELDS.items():
        seen: list[str] = []
        for name in fields:
            for fragment in raw.get(name, []):
                safe = _safe_highlight(fragment)
                if safe not in seen:
                    seen.append(safe)
        if seen:
            out[shown] = seen[:2]
    return out


def _summary(source: Mapping[str, Any], descriptions: tuple[str, str]) -> str:
    """The description in `descriptions[0]` (the reader's language), else the other, shortened."""
    text = source.get(descriptions[0]) or source.get(descriptions[1]) or ""
    return text if len(text) <= 220 else text[:217].rsplit(" ", 1)[0] + "…"


def _descriptions() -> tuple[str, str]:
    """The description fields in the order a summary looks for them, in the active language."""
    english = (get_language() or "fr").startswith("en")
    return ("description_en", "description_fr") if english else ("description_fr", "description_en")


def _organization_hit(hit: Mapping[str, Any], descriptions: tuple[str, str]) -> OrganizationHit:
    source = hit["_source"]
    return OrganizationHit(
        id=int(source["org_id"]),
        name=source.get("name", ""),
        legal_name=source.get("legal_name", ""),
        acronym=source.get("acronym", ""),
        kind=source.get("kind", ""),
        size_band=source.get("size_band"),
        country=source.get("country", ""),
        city=source.get("city", ""),
        cluster_codes=list(source.get("cluster_codes") or []),
        themes=list(source.get("themes") or []),
        competences=list(source.get("competences") or [])[:8],
        has_track_record=bool(source.get("has_track_record")),
        eu_projects_count=int(source.get("eu_projects_count") or 0),
        score=hit.get("_score"),
        highlights=_highlights(hit.get("highlight") or {}),
        summary=_summary(source, descriptions),
    )


@dataclass(frozen=True)
class _ReferenceLabels:
    loaded_at: float
    clusters: dict[str, str]  # code -> name
    themes: dict[str, tuple[str, str]]  # code -> (French, English)


_reference_labels: _ReferenceLabels | None = None
REFERENCE_LABELS_SECONDS = 60.0


def reference_labels() -> _ReferenceLabels:
    """Cluster names and theme labels for facets, read once a minute rather than twice per search.

    There are a few dozen of each and they rarely change; `forget_reference_labels`
    (on save/delete, see search/apps.py) makes this process see a change at once,
    other processes within a minute.
    """
    global _reference_labels
    now = time.monotonic()
    if _reference_labels is None or now - _reference_labels.loaded_at > REFERENCE_LABELS_SECONDS:
        _reference_labels = _ReferenceLabels(
            loaded_at=now,
            clusters=dict(Cluster.objects.values_list("code", "name")),
            themes={code: (fr, en) for code, fr, en in Theme.objects.values_list("code", "label_fr", "label_en")},
        )
    return _reference_labels


def forget_reference_labels(**kwargs: Any) -> None:
    global _reference_labels
    _reference_labels = None


def facet_labels(name: str, values: Iterable[str]) -> dict[str, str]:
    values = list(values)
    if name == "cluster":
        names = reference_labels().clusters
        return {v: names.get(v, v) for v in values}
    if name == "theme":
        english = (get_language() or "fr").startswith("en")
        themes = reference_labels().themes
        return {v: themes[v][1 if english else 0] if v in themes else v for v in values}
    table = translated_labels(name, get_language() or settings.LANGUAGE_CODE)
    return {v: table.get(v, v) for v in values}


@functools.cache
def translated_labels(name: str, language: str) -> dict[str, str]:
    """A facet's labels in one language, translated once per process rather than per search."""
    with translation.override(language):
        return {value: str(label) for value, label in _LABEL_TABLES.get(name, {}).items()}


# Lazy labels, translated when shown (`translated_labels`).
_LABEL_TABLES: dict[str, Mapping[str, Any]] = {
    "country": COUNTRY_NAMES,
    "kind": dict(OrganizationKind.choices),
    "size_band": dict(SizeBand.choices),
    "opportunity_kind": dict(OpportunityKind.choices),
    "trl": TRL_LABELS,
    "language": LANGUAGE_NAMES,
    "track_record": TRACK_RECORD_LABELS,
}


def _facets(aggregations: Mapping[str, Any], filters: OrganizationFilters) -> list[Facet]:
    out: list[Facet] = []
    for name, spec in FACETS.items():
        buckets = aggregations.get(name, {}).get("buckets", [])
        selected = set(filters.selected(name))
        counts: dict[str, int] = {}
        for bucket in buckets:
            counts[str(bucket["key"])] = int(bucket["doc_count"])
        for value in selected:  # a selected value stays visible (with 0) so it can be unticked
            counts.setdefault(value, 0)
        labels = facet_labels(name, counts)
        values = [
            FacetValue(value=v, label=labels[v], count=c, selected=v in selected)
            for v, c in sorted(counts.items(), key=lambda item: (-item[1], labels[item[0]].lower()))
        ]
        out.append(Facet(name=name, label=str(spec.label), values=values))
    return out


def _selections_emptied(aggregations: Mapping[str, Any], filters: OrganizationFilters) -> bool:
    """True when a selected facet's own counts (which ignore that selection) show hits: the text matched."""
    for name in FACETS:
        if filters.selected(name) and any(b["doc_count"] for b in aggregations.get(name, {}).get("buckets", [])):
            return True
    return False


def search_organizations(
    viewer: Any,
    *,
    text: str | None = "",
    filters: OrganizationFilters | None = None,
    sort: str = "relevance",
    page: int | None = None,
    cursor: str | None = None,
    size: int = DEFAULT_PAGE_SIZE,
    facets: bool = True,
) -> OrganizationSearchResult:
    """Partners the viewer may see, with facets. Pages: `page` (first 10,000 hits) or `cursor` (any depth).

    Raises ValidationError for bad input and SearchUnavailable when the index cannot answer.
    """
    filters = filters or OrganizationFilters()
    clean = normalize_text(text)
    if sort not in SORTS:
        raise ValidationError(_("Unknown sort order."), code="invalid_sort")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(_("The page size must be between 1 and %(max)d.") % {"max": MAX_PAGE_SIZE})
    if page is not None and cursor:
        raise ValidationError(_("Give either a page number or a cursor, not both."), code="page_and_cursor")
    if page is not None and (page < 1 or (page - 1) * size + size > MAX_FROM):
        raise ValidationError(
            _("Page numbers reach the first %(max)d results; use the cursor to go further.") % {"max": MAX_FROM},
            code="page_too_deep",
        )
    fingerprint = _fingerprint(clean, filters, sort, size)
    search_after = decode_cursor(cursor, fingerprint) if cursor else None
    tokens = viewer_access_tokens(viewer)
    if tokens is None:
        return OrganizationSearchResult(total=0, hits=[], facets=[], text=clean, sort=sort, size=size)

    def run(relaxed: bool) -> dict[str, Any]:
        bodies = organization_searches(
            tokens=tokens,
            text=clean,
            filters=filters,
            sort=sort,
            size=size,
            from_=((page or 1) - 1) * size,
            search_after=search_after,
            facets=facets,
            relaxed=relaxed,
        )
        if len(bodies) == 1:
            response = _run(ORGANIZATIONS.alias, bodies[0])
            return {**response, "aggregations": facet_buckets(response.get("aggregations", {}))}
        return merge_responses(_run_together(ORGANIZATIONS.alias, bodies))

    response = run(relaxed=False)
    # No profile holds every word: rather than nothing, the profiles holding all but one of
    # them. Not when the text matched and the facet selections emptied the page: the empty
    # state then offers to remove a filter.
    relaxed = (
        not response["hits"]["total"]["value"]
        and len(significant_words(clean).split()) > 1
        and not _selections_emptied(response.get("aggregations", {}), filters)
    )
    if relaxed:
        response = run(relaxed=True)
    raw_hits = response["hits"]["hits"]
    descriptions = _descriptions()  # the language once per search, not per hit
    total = int(response["hits"]["total"]["value"])
    next_cursor = None
    if len(raw_hits) == size and raw_hits[-1].get("sort") is not None:
        next_cursor = encode_cursor(raw_hits[-1]["sort"], fingerprint)
    return OrganizationSearchResult(
        total=total,
        hits=[_organization_hit(hit, descriptions) for hit in raw_hits],
        facets=_facets(response.get("aggregations", {}), filters) if facets else [],
        text=clean,
        sort=sort,
        size=size,
        next_cursor=next_cursor,
        page=page if cursor is None else None,
        relaxed=relaxed,
    )


_WORD = re.compile(r"\w+")
_ELIDED = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)  # "l'", "d’", "qu'"


def prefix_words(text: str) -> list[str]:
    """The typed words as the folded fields index them: lowercase, no accents, no elided article.

    One-letter words are left out (they would expand to most of the vocabulary) unless
    nothing else was typed; at most five words.
    """
    words = [fold(word) for word in _WORD.findall(_ELIDED.sub("", text))]
    longer = [word for word in words if len(word) > 1]
    return (longer or words)[:5]


def suggest(viewer: Any, prefix: str | None, *, size: int = 6) -> list[Suggestion]:
    """Organization names and competences/themes with words starting like `prefix`, among what the viewer may see.

    Every typed word must start a word of the suggestion (accents ignored), so "paiem"
    suggests "Atlas Paiement Mobile". Competences and themes come from the highlighted
    values of the best-matching organizations. The last word is a prefix query on the
    fields' own terms: no edge n-grams to index (they were a sixth of a rebuild).
    """
    clean = normalize_text(prefix)[:SUGGEST_MAX_PREFIX].strip()
    tokens = viewer_access_tokens(viewer)
    if not clean or tokens is None:
        return []
    visible = visibility_filter(tokens)

    words = prefix_words(clean)
    if not words:
        return []

    def body(fields: list[str], count: int, source: list[str] | bool) -> dict[str, Any]:
        every_word = [{"bool": {"should": [{"prefix": {name: word}} for name in fields]}} for word in words]
        return {
            "size": count,
            "_source": source,
            "query": {"bool": {"filter": [visible], "must": every_word}},
            "highlight": {
                "pre_tags": [documents.HIGHLIGHT_PRE],
                "post_tags": [documents.HIGHLIGHT_POST],
                "fields": {name: {"number_of_fragments": 0} for name in fields},
            },
        }

    names = _run(ORGANIZATIONS.alias, body(SUGGEST_NAME_FIELDS, size, ["legal_name", "acronym"]))
    out: list[Suggestion] = []
    for hit in names["hits"]["hits"]:
        source = hit.get("_source") or {}
        text = source.get("legal_name") or source.get("acronym") or ""
        if source.get("acronym") and source["acronym"] != text:
            text = f"{text} ({source['acronym']})"
        out.append(Suggestion(text=text, kind="organization", organization_id=int(hit["_id"])))
    terms = _run(ORGANIZATIONS.alias, body(SUGGEST_TERM_FIELDS, 30, False))
    seen: set[str] = set()
    competences: list[Suggestion] = []
    for hit in terms["hits"]["hits"]:
        highlight = hit.get("highlight") or {}
        for fragment in [f for name in SUGGEST_TERM_FIELDS for f in highlight.get(name, [])]:
            text = fragment.replace(documents.HIGHLIGHT_PRE, "").replace(documents.HIGHLIGHT_POST, "")
            if text.lower() not in seen:
                seen.add(text.lower())
                competences.append(Suggestion(text=text, kind="competence"))
    return out + competences[:size]


# --- Calls -------------------------------------------------------------------------------------

CALL_FIELDS = ["topic_code^4", "title^3", "title.fr^3", "title.en^3", "text", "text.fr", "text.en"]


@dataclass(frozen=True)
class CallFilters:
    programme: tuple[str, ...] = ()
    published_by: tuple[str, ...] = ()
    open_only: bool = False


def search_calls(
    viewer: Any, text: str | None = "", filters: CallFilters | None = None, *, size: int = DEFAULT_PAGE_SIZE
) -> CallSearchResult:
    """Calls for projects; every signed-in user may see every call."""
    filters = filters or CallFilters()
    clean = normalize_text(text)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(_("The page size must be between 1 and %(max)d.") % {"max": MAX_PAGE_SIZE})
    if viewer_access_tokens(viewer) is None:
        return CallSearchResult(total=0, hits=[], facets=[], text=clean)
    query: dict[str, Any] = {"bool": {"filter": []}}
    if clean:
        query["bool"]["must"] = [
            {
                "bool": {
                    "should": [
                        {"multi_match": {"query": clean, "fields": CALL_FIELDS, "tie_breaker": 0.3}},
                        {"multi_match": {"query": clean, "fields": ["title", "topic_code"], "fuzziness": "AUTO"}},
                    ],
                    "minimum_should_match": 1,
                }
            }
        ]
        query["bool"]["should"] = [{"match_phrase": {"title": {"query": clean, "boost": 3}}}]
    if filters.open_only:
        query["bool"]["filter"] += [{"range": {"deadline": {"gt": "now"}}}, {"range": {"opens_on": {"lte": "now"}}}]
    post: list[dict[str, Any]] = []
    if filters.programme:
        post.append({"terms": {"programme": list(filters.programme)}})
    if filters.published_by:
        post.append({"terms": {"published_by": list(filters.published_by)}})
    body: dict[str, Any] = {
        "query": query,
        "size": size,
        "track_total_hits": True,
        "sort": [{"_score": "desc"}, {"deadline": "asc"}, {"call_id": "asc"}] if clean else [{"deadline": "asc"}],
        "aggs": {
            "programme": {
                "filter": {"bool": {"filter": post[1:] if filters.programme else post}},
                "aggs": {"values": {"terms": {"field": "programme"}}},
            },
            "published_by": {
                "filter": {"bool": {"filter": post[:1] if filters.programme else []}},
                "aggs": {"values": {"terms": {"field": "published_by"}}},
            },
        },
    }
    if post:
        body["post_filter"] = {"bool": {"filter": post}}
    if clean:
        body["highlight"] = {
            "pre_tags": [documents.HIGHLIGHT_PRE],
            "post_tags": [documents.HIGHLIGHT_POST],
            "fields": {"title": {"number_of_fragments": 0}, "text": {"fragment_size": 160, "number_of_fragments": 2}},
        }
    response = _run(CALLS.alias, body)
    hits = []
    for hit in response["hits"]["hits"]:
        source = hit["_source"]
        raw = hit.get("highlight") or {}
        hits.append(
            CallHit(
                id=int(source["call_id"]),
                topic_code=source.get("topic_code", ""),
                title=source.get("title", ""),
                programme=source.get("programme", ""),
                opens_on=source.get("opens_on", ""),
                deadline=source.get("deadline", ""),
                published_by=source.get("published_by"),
                highlights={k: [_safe_highlight(f) for f in v] for k, v in raw.items()},
            )
        )
    aggregations = response.get("aggregations", {})
    programme_labels = dict(Programme.choices)
    facets = [
        Facet(
            name="programme",
            label=_("Programme"),
            values=[
                FacetValue(
                    value=b["key"],
                    label=str(programme_labels.get(b["key"], b["key"])),
                    count=b["doc_count"],
                    selected=b["key"] in filters.programme,
                )
                for b in aggregations.get("programme", {}).get("values", {}).get("buckets", [])
            ],
        ),
        Facet(
            name="published_by",
            label=_("Published by"),
            values=[
                FacetValue(
                    value=b["key"],
                    label=facet_labels("cluster", [b["key"]])[b["key"]],
                    count=b["doc_count"],
                    selected=b["key"] in filters.published_by,
                )
                for b in aggregations.get("published_by", {}).get("values", {}).get("buckets", [])
            ],
        ),
    ]
    return CallSearchResult(total=int(response["hits"]["total"]["value"]), hits=hits, facets=facets, text=clean)
