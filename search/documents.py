"""What the index holds: the mappings (elasticsearch-dsl `Document`s) and how a database row becomes a document.

Only what a viewer may be shown is indexed: an organization is in the index
exactly when `matchmaking.access.organization_visibility_scope(org)["listed"]`
is true, together with the scope itself, so queries can filter per viewer
without asking the database. The scope is flattened into `access` tokens
(see `access_tokens`): one `terms` filter, shared by searches and
suggestions, that `tests/search/test_documents.py` checks against
`access.scope_allows`.

Text fields are indexed three ways (folded words, French stems, English
stems) because a profile mixes both languages and we cannot trust a language
tag on every sentence. Searches score a few grouped fields (`topics`,
`details`, names, context) rather than every text in every analysis: at
100,000 profiles the number of fields a query touches is what its time
follows (see `search.queries`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from django.db.models import F, Lookup, Q, TextField
from django.db.models.functions import Cast
from django.utils import translation
from elasticsearch.dsl import (
    Boolean,
    Date,
    Document,
    GeoPoint,
    Integer,
    Keyword,
    Long,
    Text,
)

from matchmaking import access
from matchmaking.models import (
    OFFER_KINDS,
    Call,
    Cluster,
    EUParticipation,
    LabelDecision,
    MembershipStatus,
    Opportunity,
    Organization,
    OrganizationKind,
    ProfileStatus,
    ProjectLabel,
    Theme,
)
from search import analysis
from search.geo import city_location, region_aliases

# --- Analysis components (defined in search/analysis.py) ----------------------

FOLDED = analysis.FOLDED_ANALYZER
FOLDED_SEARCH = analysis.FOLDED_SEARCH_ANALYZER
FRENCH = analysis.FRENCH_ANALYZER
ENGLISH = analysis.ENGLISH_ANALYZER
FRENCH_SEARCH = analysis.FRENCH_SEARCH_ANALYZER
CONCEPTS = analysis.CONCEPTS_ANALYZER
CONCEPTS_SEARCH = analysis.CONCEPTS_SEARCH_ANALYZER
ENGLISH_SEARCH = analysis.ENGLISH_SEARCH_ANALYZER
FOLDED_NORMALIZER = analysis.FOLDED_NORMALIZER

# Highlight markers: private-use characters cannot come from a keyboard and are
# stripped from indexed text, so after HTML-escaping a snippet they are the only
# places a <mark> may appear.
HIGHLIGHT_PRE = "\ue000"
HIGHLIGHT_POST = "\ue001"
_MARKERS = re.compile("[\ue000\ue001]")

TRL_RANGES: tuple[tuple[str, int, int], ...] = (("1-3", 1, 3), ("4-6", 4, 6), ("7-9", 7, 9))
PUBLIC_SCOPE = "public"
EVERYTHING_SCOPE = "all"  # carried by every document; only superusers query with it


def bilingual_text(**kwargs: Any) -> Text:
    """Folded words, plus French and English stems with search-time synonyms."""
    return Text(
        analyzer=FOLDED,
        search_analyzer=FOLDED_SEARCH,
        fields={
            "fr": Text(analyzer=FRENCH, search_analyzer=FRENCH_SEARCH),
            "en": Text(analyzer=ENGLISH, search_analyzer=ENGLISH_SEARCH),
        },
        **kwargs,
    )


def stemmed_text(**kwargs: Any) -> Text:
    """French and English stems only (sub-fields `.fr`, `.en`), for texts matched as a whole
    against other profiles (recommendations); the main field is not indexed."""
    return Text(
        index=False,
        fields={
            "fr": Text(analyzer=FRENCH, search_analyzer=FRENCH_SEARCH),
            "en": Text(analyzer=ENGLISH, search_analyzer=ENGLISH_SEARCH),
        },
        **kwargs,
    )


class OrganizationDocument(Document):
    """One listed organization with its offers and needs (flattened: facets count organizations)."""

    org_id = Long()  # sort tiebreaker for search_after: sorting on _id is not allowed
    name = Keyword(index=False, doc_values=False)  # acronym, or legal name when there is none: what cards show
    # Names join the topics too, so "Atlas paiement" finds Atlas Paiement's payment offers:
    # a search needs every word within one analysis of the profile.
    legal_name = Text(analyzer=FOLDED, copy_to="topics")
    acronym = Text(analyzer=FOLDED, copy_to="topics")
    name_sort = Keyword(normalizer=FOLDED_NORMALIZER)
    # What searches score: each text once more in one of two groups (`copy_to`), so a query
    # looks at a handful of fields instead of every text in three analyses. The per-text
    # fields stay for recommendations (offers against needs), similar profiles and highlights.
    # French stems only: the light French stemmer also reduces English plurals ("networks"),
    # and one analysis per group halves the fields a query scores. `index_phrases` makes a
    # two-word phrase as typed one term here. Multi-word synonyms are concepts in both groups:
    # "systèmes embarqués", "embedded systems" and "logiciel embarqué" are also one indexed term,
    # which a query for any of them looks up instead of a phrase per form (search/analysis.py).
    topics = Text(analyzer=CONCEPTS, search_analyzer=CONCEPTS_SEARCH, index_phrases=True)
    details = Text(analyzer=CONCEPTS, search_analyzer=CONCEPTS_SEARCH)
    # Descriptions are searched through `details` only (analysing them twice cost a tenth of a
    # rebuild); the French analyzer here serves highlighting, which re-reads the text with it.
    description_fr = Text(index=False, analyzer=FRENCH, copy_to="details")
    description_en = Text(index=False, analyzer=FRENCH, copy_to="details")
    competences = bilingual_text(copy_to="topics")
    offer_titles = bilingual_text(copy_to="topics")
    offer_texts = stemmed_text(copy_to="details")
    need_titles = bilingual_text(copy_to="topics")
    need_texts = stemmed_text(copy_to="details")
    tags = bilingual_text(copy_to="topics")
    opportunity_kinds = Keyword()  # a facet (see facet_values)
    trls = Integer()
    trl_ranges = Keyword()  # a facet (see facet_values)
    themes = Keyword()  # a facet (see facet_values)
    theme_labels = Text(analyzer=FOLDED, copy_to="topics")
    # Words about the organization that are not its own text (its kind, clusters,
    # region, country, in both languages), so "cybersecurity SME Brittany" works.
    # Searched through `details` only.
    context = Text(index=False, copy_to="details")
    cluster_ids = Integer()
    cluster_codes = Keyword()  # a facet (see facet_values)
    partner_cluster_ids = Integer()
    membership_cluster_ids = Integer()
    visibility = Keyword()
    access = Keyword()
    country = Keyword()  # a facet (see facet_values)
    city = Text(analyzer=FOLDED, fields={"keyword": Keyword()})
    location = GeoPoint()
    kind = Keyword()  # a facet (see facet_values)
    size_band = Keyword()  # a facet (see facet_values)
    languages = Keyword()  # a facet (see facet_values)
    has_track_record = Boolean()  # a facet (see facet_values)
    # Every facet value once more, as "facet\x1fvalue" (`facet_values`): every facet is counted
    # there at once. A facet's own field filters, and counts that facet alone (a selected
    # facet under the other selections: one value per profile to read instead of all of them).
    # Doc values only: nothing searches it.
    facet_values = Keyword(index=False)
    eu_projects_count = Integer()
    validated = Boolean()
    labels_count = Integer()
    is_fictional = Boolean()
    updated_at = Date()
    version = Long()


class CallDocument(Document):
    """A call for projects. Calls are visible to every signed-in user, so they carry no scope."""

    call_id = Long()
    programme = Keyword()
    topic_code = Text(analyzer=FOLDED, fields={"keyword": Keyword(normalizer=FOLDED_NORMALIZER)})
    title = Text(
        analyzer=FOLDED,
        fields={
            "fr": Text(analyzer=FRENCH, search_analyzer=FRENCH_SEARCH),
            "en": Text(analyzer=ENGLISH, search_analyzer=ENGLISH_SEARCH),
            "keyword": Keyword(normalizer=FOLDED_NORMALIZER),
        },
    )
    text = bilingual_text()
    opens_on = Date()
    deadline = Date()
    published_by = Keyword()
    allowed_countries = Keyword()
    required_kinds = Keyword()
    min_partners = Integer()
    updated_at = Date()
    version = Long()


ORGANIZATION_MAPPING: dict[str, Any] = OrganizationDocument._doc_type.mapping.to_dict()
CALL_MAPPING: dict[str, Any] = CallDocument._doc_type.mapping.to_dict()


# --- Visibility as index data -------------------------------------------------


def access_tokens(scope: access.VisibilityScope) -> list[str]:
    """The scope as tokens: a viewer may see a document iff they share one token with it.

    Mirrors `access.scope_allows` for listed organizations (unlisted ones are
    not indexed): staff of any cluster with a membership; everyone for
    `everyone`; members of an admitted cluster; members of partner clusters
    for `partners`. `viewer_tokens` is the other half.
    """
    tokens = [EVERYTHING_SCOPE]
    tokens += [f"s:{cid}" for cid in scope["membership_cluster_ids"]]
    if scope["visibility"] == "everyone":
        tokens.append(PUBLIC_SCOPE)
    tokens += [f"c:{cid}" for cid in scope["cluster_ids"]]
    if scope["visibility"] == "partners":
        tokens += [f"p:{cid}" for cid in scope["partner_cluster_ids"]]
    return tokens


def viewer_tokens(
    *, viewer_clusters: Iterable[int], staff_clusters: Iterable[int], superuser: bool = False
) -> list[str]:
    if superuser:
        return [EVERYTHING_SCOPE]
    tokens = [PUBLIC_SCOPE]
    for cid in sorted(set(viewer_clusters)):
        tokens += [f"c:{cid}", f"p:{cid}"]
    tokens += [f"s:{cid}" for cid in sorted(set(staff_clusters))]
    return tokens


# --- Rows to documents ----------------------------------------------------------


def sort_key(value: str) -> str:
    """Accent-free lowercase, computed here: keyword normalizers cannot use the folding plugin filter."""
    if value.isascii():  # most names: nothing to decompose
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def clean_text(value: Any) -> str:
    if not value:
        return ""
    text = str(value)
    # The markers are almost never there: testing is a fifth of the cost of substituting.
    return _MARKERS.sub("", text) if "\ue000" in text or "\ue001" in text else text


def clean_list(values: Any) -> list[str]:
    if not isinstance(values, list | tuple):
        return []
    return [cleaned for v in values if v and (cleaned := clean_text(v).strip())]


def trl_range(trl: int) -> str | None:
    for label, low, high in TRL_RANGES:
        if low <= trl <= high:
            return label
    return None


@dataclass(frozen=True)
class DocumentAction:
    """What the index should hold for one object: `document` is None when it must not be there."""

    object_id: int
    version: int
    document: dict[str, Any] | None


class InSubquery(Lookup):
    """`field IN (subquery)`, written `field = ANY(ARRAY(subquery))` on PostgreSQL.

    Beside another condition (`a OR field IN (subquery)`), PostgreSQL's planner scans the whole
    table and probes a hash of the subquery's rows; with the subquery as an array it reads the
    field's index. For a rebuild's chunk of track records: 1 ms instead of 26, over 145,000
    participations (most of the database's share of a rebuild).
    """

    lookup_name = "in_subquery"

    def _sides(self, compiler: Any, connection: Any) -> tuple[str, str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return lhs, rhs, [*lhs_params, *rhs_params]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, rhs, params = self._sides(compiler, connection)
        return f"{lhs} IN {rhs}", params

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, rhs, params = self._sides(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", params


def _track_records(orgs: list[OrganizationRow], chunk: list[int]) -> dict[int, set[int]]:
    """EU projects per organization, linked by foreign key or by PIC (CORDIS rows not yet matched to a member).

    `chunk`: the sorted ids `orgs` were read for (a range when dense). The PICs are a subquery
    over the same rows: as a list, up to 500 parameters bound client-side cost a twelfth of the
    time spent building documents.
    """
    by_pic = {org.pic: org.pk for org in orgs if org.pic}
    projects: dict[int, set[int]] = defaultdict(set)
    chunk_pics = Organization.objects.filter(_ids_filter("pk", chunk), pic__isnull=False).order_by().values("pic")
    rows = EUParticipation.objects.filter(
        _ids_filter("organization_id", chunk) | Q(InSubquery(F("pic"), chunk_pics))
    ).values_list("organization_id", "pic", "project_id")
    for org_id, pic, project_id in rows:
        owner = org_id if org_id is not None else by_pic.get(pic)
        if owner is not None:
            projects[owner].add(project_id)
        if pic in by_pic and by_pic[pic] != owner:
            projects[by_pic[pic]].add(project_id)
    return projects


def _label_counts(org_ids: list[int]) -> dict[int, int]:
    through = ProjectLabel.organizations.through
    counts: dict[int, int] = defaultdict(int)
    wanted = set(org_ids)
    for org_id in through.objects.filter(
        _ids_filter("organization_id", org_ids), projectlabel__decision=LabelDecision.AWARDED
    ).values_list("organization_id", flat=True):
        if org_id in wanted:
            counts[org_id] += 1
    return counts


@dataclass(frozen=True)
class ClusterInfo:
    code: str
    name: str
    region: str
    country: str


def cluster_infos() -> dict[int, ClusterInfo]:
    return {
        c.pk: ClusterInfo(c.code, c.name, c.region, c.country)
        for c in Cluster.objects.only("pk", "code", "name", "region", "country")
    }


def _both_languages(value: Any) -> list[str]:
    with translation.override("fr"):
        french = str(value)
    with translation.override("en"):
        english = str(value)
    return [french] if french == english else [french, english]


_KIND_WORDS = {kind: _both_languages(label) for kind, label in OrganizationKind.choices}
_COUNTRY_WORDS = {"MA": ["Maroc", "Morocco"], "FR": ["France"]}


@functools.lru_cache(maxsize=256)  # a handful of cluster combinations, 100,000 organizations
def _cluster_words(clusters: tuple[ClusterInfo, ...]) -> tuple[str, ...]:
    words: list[str] = []
    for info in clusters:
        words += [info.code, info.name]
        if info.region:
            words += [info.region, *region_aliases(info.region)]
    return tuple(words)


def context_words(org: OrganizationRow, clusters: list[ClusterInfo]) -> list[str]:
    words = list(_KIND_WORDS.get(org.kind, []))
    words += _COUNTRY_WORDS.get(org.country, [])
    words += _cluster_words(tuple(clusters))
    if org.city:
        words.append(clean_text(org.city))
    return words


class OpportunityRow(NamedTuple):  # tuples: a rebuild makes 250,000 of them
    kind: str
    title: str
    text: str
    trl: int | None
    tags: Any


class ThemeRow(NamedTuple):
    code: str
    label_fr: str
    label_en: str


def _ids_filter(field: str, org_ids: list[int]) -> Q:
    """`field IN ids`, or a range when the sorted ids are dense (rebuild chunks), filtered again in Python.

    Binding 500 parameters client-side cost a tenth of a rebuild's Python time;
    a range has two, and reads at most twice the rows.
    """
    if org_ids and org_ids == sorted(org_ids) and org_ids[-1] - org_ids[0] < 2 * len(org_ids):
        return Q(**{f"{field}__gte": org_ids[0], f"{field}__lte": org_ids[-1]})
    return Q(**{f"{field}__in": org_ids})


def _opportunity_rows(org_ids: list[int]) -> dict[int, list[OpportunityRow]]:
    # Plain rows, not prefetch_related: model instances per offer cost more than the rest of a rebuild.
    wanted = set(org_ids)
    rows: dict[int, list[OpportunityRow]] = defaultdict(list)
    # Tags as JSON text decoded by orjson: the JSON field's own decoding was a tenth of the
    # Python time of a rebuild. Ordered by primary key (the order they were entered):
    # sorting 250,000 titles was most of the database's share of a rebuild.
    for org_id, kind, title, text, trl, tags in (
        Opportunity.objects.filter(_ids_filter("organization_id", org_ids))
        .order_by("organization_id", "pk")
        .values_list("organization_id", "kind", "title", "text", "trl", Cast("tags", TextField()))
    ):
        if org_id in wanted:
            rows[org_id].append(OpportunityRow(kind, title, text, trl, orjson.loads(tags) if tags else []))
    return rows


def _theme_rows(org_ids: list[int], themes: dict[int, ThemeRow]) -> dict[int, list[ThemeRow]]:
    through = Organization.themes.through
    wanted = set(org_ids)
    rows: dict[int, list[ThemeRow]] = defaultdict(list)
    for org_id, theme_id in through.objects.filter(_ids_filter("organization_id", org_ids)).values_list(
        "organization_id", "theme_id"
    ):
        if theme_id in themes and org_id in wanted:
            rows[org_id].append(themes[theme_id])
    return rows


def all_themes() -> dict[int, ThemeRow]:
    return {
        pk: ThemeRow(code, fr, en)
        for pk, code, fr, en in Theme.objects.values_list("pk", "code", "label_fr", "label_en")
    }


def organization_document(
    org: OrganizationRow,
    scope: access.VisibilityScope,
    *,
    clusters: dict[int, ClusterInfo],
    opportunities: list[OpportunityRow],
    themes: list[ThemeRow],
    eu_projects: int = 0,
    labels: int = 0,
) -> dict[str, Any]:
    """The document of one listed organization."""
    offers = [o for o in opportunities if o.kind in OFFER_KINDS]
    needs = [o for o in opportunities if o.kind not in OFFER_KINDS]
    trls = sorted({o.trl for o in opportunities if o.trl})
    competences = clean_list(org.competences)
    name = clean_text(org.name)
    location = None
    if org.latitude is not None and org.longitude is not None:
        location = {"lat": org.latitude, "lon": org.longitude}
    else:
        location = city_location(org.city)
    tokens = access_tokens(scope)
    document = {
        "org_id": org.pk,
        "name": name,
        "legal_name": clean_text(org.legal_name),
        "acronym": clean_text(org.acronym),
        "name_sort": sort_key(name),
        "description_fr": clean_text(org.description_fr),
        "description_en": clean_text(org.description_en),
        "competences": competences,
        "offer_titles": [clean_text(o.title) for o in offers],
        "offer_texts": [clean_text(o.text) for o in offers if o.text],
        "need_titles": [clean_text(o.title) for o in needs],
        "need_texts": [clean_text(o.text) for o in needs if o.text],
        "tags": sorted({tag for o in opportunities for tag in clean_list(o.tags)}),
        "opportunity_kinds": sorted({o.kind for o in opportunities}),
        "trls": trls,
        "trl_ranges": sorted({r for r in (trl_range(t) for t in trls) if r}),
        "themes": sorted(theme.code for theme in themes),
        "theme_labels": [label for theme in themes for label in (theme.label_fr, theme.label_en)],
        "context": context_words(org, [clusters[cid] for cid in scope["cluster_ids"] if cid in clusters]),
        "cluster_ids": scope["cluster_ids"],
        "cluster_codes": sorted(clusters[cid].code for cid in scope["cluster_ids"] if cid in clusters),
        "partner_cluster_ids": scope["partner_cluster_ids"],
        "membership_cluster_ids": scope["membership_cluster_ids"],
        "visibility": scope["visibility"],
        "access": tokens,
        "country": org.country,
        "city": clean_text(org.city),
        "location": location,
        "kind": org.kind,
        "size_band": org.size_band or None,
        "languages": sorted(set(clean_list(org.languages))),
        "has_track_record": eu_projects > 0,
        "eu_projects_count": eu_projects,
        "validated": org.profile_status == ProfileStatus.VALIDATED,
        "labels_count": labels,
        "is_fictional": org.is_fictional,
        "updated_at": org.updated_at.isoformat() if isinstance(org.updated_at, datetime) else None,
        "version": org.version,
    }
    document["facet_values"] = facet_values(document)
    return document


# Facet name -> the document field it counts and filters on (`search.queries.FACETS` labels them).
FACET_FIELDS = {
    "cluster": "cluster_codes",
    "country": "country",
    "kind": "kind",
    "size_band": "size_band",
    "theme": "themes",
    "opportunity_kind": "opportunity_kinds",
    "trl": "trl_ranges",
    "language": "languages",
    "track_record": "has_track_record",
}
FACET_SEPARATOR = "\x1f"
_FACET_PREFIXES = [(f"{name}{FACET_SEPARATOR}", field) for name, field in FACET_FIELDS.items()]


def facet_value(value: Any) -> str:
    """A field value as a facet value: booleans as "true"/"false" (as Elasticsearch names them)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def facet_values(document: dict[str, Any]) -> list[str]:
    """Every facet value of a document as "facet\x1fvalue".

    One terms aggregation over these counts every facet: nine aggregations, one per field,
    cost twice the time over the hits of a broad search.
    """
    out: list[str] = []
    for prefix, field in _FACET_PREFIXES:
        value = document.get(field)
        if isinstance(value, list):
            out += [prefix + facet_value(item) for item in value]
        elif value is not None:
            out.append(prefix + facet_value(value))
    return out


class OrganizationRow(NamedTuple):
    """The columns of an organization a document is made of.

    Plain rows, not model instances: an instance (its JSON fields decoded by the standard
    library) cost 23–26 µs against 10 for a row, and documents are built a fifth faster
    (80–84 against 104–107 µs each).
    """

    pk: int
    legal_name: str
    acronym: str
    kind: str
    size_band: str
    country: str
    city: str
    latitude: float | None
    longitude: float | None
    pic: str | None
    description_fr: str
    description_en: str
    visibility: str
    profile_status: str
    is_fictional: bool
    updated_at: datetime | None
    version: int
    competences: list[Any]
    languages: list[Any]

    @property
    def name(self) -> str:
        return self.acronym or self.legal_name  # as `Organization.name`


def _organization_rows(org_ids: list[int]) -> list[OrganizationRow]:
    wanted = set(org_ids)
    columns = OrganizationRow._fields[:-2]  # the JSON lists come as text, decoded by orjson
    rows = (
        Organization.objects.filter(_ids_filter("pk", org_ids))
        .order_by("pk")
        .values_list(*columns, Cast("competences", TextField()), Cast("languages", TextField()))
    )
    return [
        OrganizationRow._make((*row[:-2], orjson.loads(row[-2] or "[]"), orjson.loads(row[-1] or "[]")))
        for row in rows
        if row[0] in wanted
    ]


def organization_actions(organization_ids: Iterable[int], chunk_size: int = 500) -> Iterator[DocumentAction]:
    """The current database state of these organizations, as index actions, read in chunks.

    Ids missing from the database (deleted) come out as deletions with version 0,
    which the indexer sends without a version check: nothing newer can exist.
    """
    ids = sorted({int(i) for i in organization_ids})
    clusters = cluster_infos()
    themes = all_themes()
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        orgs = _organization_rows(chunk)
        opportunities = _opportunity_rows(chunk)
        org_themes = _theme_rows(chunk, themes)
        projects = _track_records(orgs, chunk)
        labels = _label_counts(chunk)  # the sorted chunk is a range; the rows' ids come in no order
        scopes = access.organization_visibility_scopes(orgs)
        found = {org.pk for org in orgs}
        for missing in chunk:
            if missing not in found:
                yield DocumentAction(missing, 0, None)
        for org in orgs:
            scope = scopes[org.pk]
            if not scope["listed"]:
                yield DocumentAction(org.pk, org.version, None)
                continue
            doc = organization_document(
                org,
                scope,
                clusters=clusters,
                opportunities=opportunities.get(org.pk, []),
                themes=org_themes.get(org.pk, []),
                eu_projects=len(projects.get(org.pk, ())),
                labels=labels.get(org.pk, 0),
            )
            yield DocumentAction(org.pk, org.version, doc)


def call_version(call: Call) -> int:
    """Calls have no version column: their last-update time in microseconds orders their states."""
    return int(call.updated_at.timestamp() * 1_000_000)


def call_document(call: Call, cluster_codes: dict[int, str]) -> dict[str, Any]:
    return {
        "call_id": call.pk,
        "programme": call.programme,
        "topic_code": clean_text(call.topic_code),
        "title": clean_text(call.title),
        "text": clean_text(call.text),
        "opens_on": call.opens_on.isoformat(),
        "deadline": call.deadline.isoformat(),
        "published_by": cluster_codes.get(call.published_by_id) if call.published_by_id else None,
        "allowed_countries": clean_list(call.allowed_countries),
        "required_kinds": clean_list(call.required_kinds),
        "min_partners": call.min_partners,
        "updated_at": call.updated_at.isoformat(),
        "version": call_version(call),
    }


def call_actions(call_ids: Iterable[int], chunk_size: int = 500) -> Iterator[DocumentAction]:
    ids = sorted({int(i) for i in call_ids})
    cluster_codes = dict(Cluster.objects.values_list("pk", "code"))
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        calls = {call.pk: call for call in Call.objects.filter(pk__in=chunk)}
        for call_id in chunk:
            call = calls.get(call_id)
            if call is None:
                yield DocumentAction(call_id, 0, None)
            else:
                yield DocumentAction(call.pk, call_version(call), call_document(call, cluster_codes))


def listed_organization_ids() -> list[int]:
    """Candidates for the index; `organization_actions` applies the exact rule (it may still say "delete")."""
    return list(
        Organization.objects.filter(
            profile_status=ProfileStatus.VALIDATED, memberships__status=MembershipStatus.ADMITTED
        )
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def all_call_ids() -> list[int]:
    return list(Call.objects.order_by("pk").values_list("pk", flat=True))
