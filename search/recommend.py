"""Partner recommendations, similar organizations and consortium gap filling, as Elasticsearch queries.

Two-sided complementarity in one query per request: every need of the
organization becomes a `should` clause matched against the *offers* of the
others, every offer against their *needs*, and its competences and themes
against theirs. Each clause carries a `_name`, so the response says which
clauses matched each hit (`matched_queries`); highlights on the offer/need
titles say which of *their* items answered. The explanation of a suggestion
is assembled from those two facts, never re-computed in Python over the
database.

Ranking: BM25 text relevance of the clauses above (needs meeting offers
weigh most), plus constant boosts for a validated profile, cluster labels and
an EU track record (filters, no scripts: this Elasticsearch distribution
cannot run them; additive so that top-k pruning still applies, see STANDING). Preferences (countries, kinds,
other clusters only) are filters. Visibility is the search app's own
per-viewer filter (`queries.viewer_access_tokens` + `queries.visibility_filter`),
so a recommendation never shows what the viewer's search would not.

`similar_organizations` uses `more_like_this` on the organization's own
document (verified on the local node: it is part of the server core, not of
a module this distribution lacks).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from matchmaking import access, eligibility
from matchmaking.models import (
    OFFER_KINDS,
    Cluster,
    ClusterAgreement,
    Consortium,
    ConsortiumRole,
    MembershipStatus,
    Opportunity,
    Organization,
    OrganizationKind,
    PartnerState,
    RecommendationPreference,
    Theme,
)
from search import documents, queries
from search.indexing import ORGANIZATIONS
from search.queries import SearchUnavailable

__all__ = ["Recommendation", "SearchUnavailable", "recommend", "similar_organizations", "suggest_for_role"]

# A need meets an offer when they share half their significant words (all of them up to
# two): one word in common is not a match, and at 100,000 profiles clauses that any single
# word satisfies took several times longer (nothing to skip).
SHARED_WORDS = {"minimum_should_match": "2<50%"}
MAX_CLAUSES = 12  # per side: enough for rich profiles, bounded query size
MAX_TEXT = 80  # characters of an offer/need text added to its title as query: its gist, and a bounded query
# Stemmed sub-fields carry the matching (French and English forms, synonyms); the folded
# base fields add little for long query texts and double the number of term queries.
OFFER_FIELDS = [
    "offer_titles.fr^3",
    "offer_titles.en^3",
    "offer_texts.fr",
    "offer_texts.en",
    "competences.fr^1.5",
    "competences.en^1.5",
]
NEED_FIELDS = [
    "need_titles.fr^3",
    "need_titles.en^3",
    "need_texts.fr",
    "need_texts.en",
]
COMPETENCE_FIELDS = [
    "competences^2",
    "competences.fr^2",
    "competences.en^2",
    "offer_titles",
    "offer_titles.fr",
    "offer_titles.en",
    "tags",
    "tags.fr",
    "tags.en",
    "details",  # descriptions, offer and need texts, in French stems (which also fold English plurals)
]
SOURCE = [
    "org_id",
    "name",
    "country",
    "city",
    "kind",
    "cluster_ids",
    "cluster_codes",
    "partner_cluster_ids",
    "visibility",
    "themes",
    "competences",
    "offer_titles",
    "need_titles",
    "eu_projects_count",
    "labels_count",
    "validated",
]
# Standing boosts, added to the relevance of a candidate that already matches. Additive
# `constant_score` clauses (not a multiplying function_score) keep Lucene's top-k pruning
# (block-max WAND) working: at 100,000 profiles that is the difference between scoring the top
# candidates and scoring every profile that shares a common word.
STANDING = [
    {"constant_score": {"filter": {"term": {"validated": True}}, "boost": 0.5}},
    {"constant_score": {"filter": {"range": {"labels_count": {"gte": 1}}}, "boost": 1.0}},
    {"constant_score": {"filter": {"term": {"has_track_record": True}}, "boost": 1.5}},
]
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Recommendation:
    organization_id: int
    name: str
    country: str
    kind: str
    city: str = ""
    cluster_codes: list[str] = field(default_factory=list)
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)  # the named clauses that matched (for tests and the API)
    opportunity_id: int | None = None  # the viewer's need/offer that matched best: prefills an introduction
    eu_projects: int = 0

    @property
    def kind_label(self) -> str:
        try:
            return str(OrganizationKind(self.kind).label)
        except ValueError:
            return self.kind

    @property
    def country_label(self) -> str:
        return queries.facet_labels("country", [self.country]).get(self.country, self.country)


# --- Text helpers ------------------------------------------------------------------------------


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_STOP = frozenset(
    [
        "and",
        "the",
        "for",
        "with",
        "from",
        "that",
        "this",
        "your",
        "our",
        "their",
        "into",
        "over",
        "pour",
        "avec",
        "dans",
        "des",
        "les",
        "une",
        "sur",
        "par",
        "aux",
        "est",
    ]
)


def _stems(text: str) -> set[str]:
    """Crude language-neutral stems (folded, first 5 letters) to pair a matched need with the offer that met it."""
    return {word[:5] for word in _WORD.findall(_fold(text)) if len(word) > 2 and word not in _STOP}


def _plain(fragment: str) -> str:
    return fragment.replace(documents.HIGHLIGHT_PRE, "").replace(documents.HIGHLIGHT_POST, "")


def _marked(fragment: str) -> set[str]:
    """Stems of the words the highlighter marked: the words that made the clause match."""
    pattern = re.escape(documents.HIGHLIGHT_PRE) + "(.*?)" + re.escape(documents.HIGHLIGHT_POST)
    return {stem for part in re.findall(pattern, fragment) for stem in _stems(part)}


def _query_text(opp: Opportunity) -> str:
    """The title and the start of the text, without stop words: "the", "with", "de" match nearly
    every profile, and a clause holding them cannot skip any (at 100,000 profiles, 20 times the time)."""
    text = f"{opp.title} {opp.text[:MAX_TEXT]}" if opp.text else opp.title
    return queries.significant_words(queries.normalize_text(text[: queries.MAX_QUERY_LENGTH]))


def _quote(text: str, limit: int = 80) -> str:
    text = text.strip()
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


# --- The viewer and what they may see -------------------------------------------------------------


def _admitted_clusters(org: Organization) -> set[int]:
    return set(org.memberships.filter(status=MembershipStatus.ADMITTED).values_list("cluster_id", flat=True))


class _VisibilityExplainer:
    """Says which membership or agreement makes a suggested organization visible to the viewer."""

    def __init__(self, user: Any) -> None:
        self.viewer_clusters = set(access.viewer_cluster_ids(user))
        self.codes = dict(Cluster.objects.values_list("pk", "code"))
        self.agreements = list(
            ClusterAgreement.objects.active().values_list(
                "cluster_a_id", "cluster_b_id", "a_members_see_b", "b_members_see_a"
            )
        )

    def explain(self, source: dict[str, Any]) -> str | None:
        clusters = set(source.get("cluster_ids") or [])
        shared = sorted(self.codes.get(c, "?") for c in clusters & self.viewer_clusters)
        if shared:
            return _("Member of your cluster %(cluster)s") % {"cluster": ", ".join(shared)}
        if source.get("visibility") == "partners":
            for a, b, a_sees_b, b_sees_a in self.agreements:
                if a_sees_b and a in self.viewer_clusters and b in clusters:
                    return _("Visible through the %(mine)s–%(theirs)s partnership") % {
                        "mine": self.codes.get(a, "?"),
                        "theirs": self.codes.get(b, "?"),
                    }
                if b_sees_a and b in self.viewer_clusters and a in clusters:
                    return _("Visible through the %(mine)s–%(theirs)s partnership") % {
                        "mine": self.codes.get(b, "?"),
                        "theirs": self.codes.get(a, "?"),
                    }
        if source.get("visibility") == "everyone":
            return _("Profile open to every Maillage member")
        return None


def _standing_reasons(source: dict[str, Any]) -> list[str]:
    reasons = []
    projects = int(source.get("eu_projects_count") or 0)
    if projects:
        reasons.append(
            ngettext("EU track record: %(n)d project (CORDIS)", "EU track record: %(n)d projects (CORDIS)", projects)
            % {"n": projects}
        )
    labels = int(source.get("labels_count") or 0)
    if labels:
        reasons.append(ngettext("Holds %(n)d cluster label", "Holds %(n)d cluster labels", labels) % {"n": labels})
    return reasons


def _run(body: dict[str, Any]) -> list[dict[str, Any]]:
    response = queries._run(ORGANIZATIONS.alias, body)
    hits: list[dict[str, Any]] = response["hits"]["hits"]
    return hits


def _preference_filters(org: Organization, preference: RecommendationPreference | None) -> tuple[list[Any], list[Any]]:
    filters: list[Any] = []
    exclusions: list[Any] = [{"term": {"org_id": org.pk}}]
    if preference is not None:
        if preference.countries:
            filters.append({"terms": {"country": list(preference.countries)}})
        if preference.kinds:
            filters.append({"terms": {"kind": list(preference.kinds)}})
        if preference.other_clusters_only:
            mine = sorted(_admitted_clusters(org))
            if mine:
                exclusions.append({"terms": {"cluster_ids": mine}})
    return filters, exclusions


# --- Recommendations -------------------------------------------------------------------------------


def build_recommendation_query(
    *,
    tokens: list[str],
    org: Organization,
    needs: list[Opportunity],
    offers: list[Opportunity],
    competences: list[str],
    themes: list[str],
    preference: RecommendationPreference | None,
    size: int,
) -> dict[str, Any]:
    should: list[dict[str, Any]] = []
    for need in needs[:MAX_CLAUSES]:
        text = _query_text(need)
        if text:
            should.append(
                {
                    "multi_match": {
                        "query": text,
                        "fields": OFFER_FIELDS,
                        "_name": f"need:{need.pk}",
                        "boost": 3,
                        **SHARED_WORDS,
                    }
                }
            )
    for offer in offers[:MAX_CLAUSES]:
        text = _query_text(offer)
        if text:
            should.append(
                {
                    "multi_match": {
                        "query": text,
                        "fields": NEED_FIELDS,
                        "_name": f"offer:{offer.pk}",
                        "boost": 2,
                        **SHARED_WORDS,
                    }
                }
            )
    for i, competence in enumerate(competences[:MAX_CLAUSES]):
        text = queries.normalize_text(competence[:120])
        if text:
            should.append(
                {
                    "multi_match": {
                        "query": text,
                        "fields": ["competences.fr"],  # French stems fold plurals in both languages
                        "operator": "and",
                        "_name": f"competence:{i}",
                    }
                }
            )
    if themes:
        should.append({"terms": {"themes": themes, "_name": "themes", "boost": 0.5}})
    filters, exclusions = _preference_filters(org, preference)
    query: dict[str, Any] = {
        "bool": {
            "filter": [queries.visibility_filter(tokens), *filters],
            "must_not": exclusions,
            "must": [{"bool": {"should": should or [{"match_none": {}}], "minimum_should_match": 1}}],
            "should": STANDING,
        }
    }
    return {
        "query": query,
        "size": size,
        "_source": SOURCE,
        "track_total_hits": False,
        "highlight": {
            "pre_tags": [documents.HIGHLIGHT_PRE],
            "post_tags": [documents.HIGHLIGHT_POST],
            "number_of_fragments": 0,
            "require_field_match": False,
            "fields": {"offer_titles.fr": {}, "offer_titles.en": {}, "need_titles.fr": {}, "need_titles.en": {}},
        },
    }


def _best_title(subject: str, fragments: list[str]) -> str | None:
    """Among their highlighted titles, the one sharing most marked words with `subject`."""
    wanted = _stems(subject)
    best, best_score = None, 0
    for fragment in fragments:
        # Only a title whose matched words are words of this need/offer: another clause may have lit it up.
        score = len(_marked(fragment) & wanted)
        if score > best_score:
            best, best_score = _plain(fragment), score
    return best


def _fragments(highlight: dict[str, list[str]], base: str) -> list[str]:
    out: list[str] = []
    for name in (f"{base}.fr", f"{base}.en", base):
        for fragment in highlight.get(name, []):
            if _plain(fragment) not in {_plain(f) for f in out}:
                out.append(fragment)
    return out


def _complementarity_reasons(
    hit: dict[str, Any],
    *,
    by_name: dict[str, Opportunity],
    competences: list[str],
    theme_labels: dict[str, str],
) -> tuple[list[str], int | None]:
    source, matched = hit["_source"], list(hit.get("matched_queries") or [])
    highlight = hit.get("highlight") or {}
    offer_fragments = _fragments(highlight, "offer_titles")
    need_fragments = _fragments(highlight, "need_titles")
    reasons: list[str] = []
    first_opportunity: int | None = None
    for name in matched:
        opp = by_name.get(name)
        if opp is None:
            continue
        first_opportunity = first_opportunity or opp.pk
        subject = f"{opp.title} {opp.text}"
        if name.startswith("need:"):
            theirs = _best_title(subject, offer_fragments)
            reasons.append(
                _("Your need %(mine)s meets their offer %(theirs)s")
                % {"mine": _quote(opp.title), "theirs": _quote(theirs)}
                if theirs
                else _("Their offers answer your need %(mine)s") % {"mine": _quote(opp.title)}
            )
        else:
            theirs = _best_title(subject, need_fragments)
            reasons.append(
                _("Your offer %(mine)s meets their need %(theirs)s")
                % {"mine": _quote(opp.title), "theirs": _quote(theirs)}
                if theirs
                else _("Your offer %(mine)s answers one of their needs") % {"mine": _quote(opp.title)}
            )
    shared = [competences[int(name.split(":", 1)[1])] for name in matched if name.startswith("competence:")]
    if shared:
        reasons.append(_("Shared competences: %(list)s") % {"list": ", ".join(shared[:5])})
    common_themes = [theme_labels[t] for t in source.get("themes") or [] if t in theme_labels]
    if common_themes:
        reasons.append(_("Same theme: %(list)s") % {"list": ", ".join(common_themes[:3])})
    return reasons, first_opportunity


def _hit_to_recommendation(hit: dict[str, Any], reasons: list[str], opportunity_id: int | None) -> Recommendation:
    source = hit["_source"]
    return Recommendation(
        organization_id=int(source["org_id"]),
        name=source.get("name", ""),
        country=source.get("country", ""),
        kind=source.get("kind", ""),
        city=source.get("city", ""),
        cluster_codes=list(source.get("cluster_codes") or []),
        score=float(hit.get("_score") or 0.0),
        reasons=reasons,
        matched=list(hit.get("matched_queries") or []),
        opportunity_id=opportunity_id,
        eu_projects=int(source.get("eu_projects_count") or 0),
    )


def recommend(
    user: Any,
    organization: Organization,
    *,
    opportunity: Opportunity | None = None,
    preference: RecommendationPreference | None = None,
    limit: int = 20,
) -> list[Recommendation]:
    """Partners for `organization` (or for one of its needs/offers), best first, each with its reasons.

    Raises SearchUnavailable when Elasticsearch cannot answer.
    """
    tokens = queries.viewer_access_tokens(user)
    if tokens is None:
        return []
    opportunities = [opportunity] if opportunity is not None else list(organization.opportunities.all())
    opportunities = [o for o in opportunities if not o.is_expired]
    needs = [o for o in opportunities if o.kind not in OFFER_KINDS]
    offers = [o for o in opportunities if o.kind in OFFER_KINDS]
    focused = opportunity is not None
    competences = [] if focused else [c for c in organization.competences or [] if isinstance(c, str)]
    themes = [] if focused else list(organization.themes.values_list("code", flat=True))
    if preference is None:
        preference = RecommendationPreference.objects.filter(organization=organization).first()
    body = build_recommendation_query(
        tokens=tokens,
        org=organization,
        needs=needs,
        offers=offers,
        competences=competences,
        themes=themes,
        preference=preference,
        size=limit,
    )
    hits = _run(body)
    by_name = {f"need:{o.pk}": o for o in needs} | {f"offer:{o.pk}": o for o in offers}
    theme_labels = {t.code: t.label() for t in Theme.objects.filter(code__in=themes)}
    visibility = _VisibilityExplainer(user)
    results = []
    for hit in hits:
        reasons, opp_id = _complementarity_reasons(
            hit, by_name=by_name, competences=competences, theme_labels=theme_labels
        )
        reasons += _standing_reasons(hit["_source"])
        seen_by = visibility.explain(hit["_source"])
        if seen_by:
            reasons.append(seen_by)
        results.append(_hit_to_recommendation(hit, reasons, opp_id))
    return results


# --- Similar organizations ----------------------------------------------------------------------


MLT_FIELDS = [
    "details",
    "competences",
    "offer_titles",
    "need_titles",
    "theme_labels",
    "tags",
]


def similar_organizations(user: Any, organization: Organization, *, limit: int = 6) -> list[Recommendation]:
    """Organizations like this one (`more_like_this` on its document), among those the viewer may see."""
    tokens = queries.viewer_access_tokens(user)
    if tokens is None:
        return []
    like: list[Any] = [{"_index": ORGANIZATIONS.alias, "_id": str(organization.pk)}]
    # An organization not in the index (a draft seen by its owner) is described by its own text instead.
    text = " ".join(
        [organization.description_fr, organization.description_en, " ".join(organization.competences or [])]
        + [o.title for o in organization.opportunities.all()]
    ).strip()
    if text:
        like.append(queries.normalize_text(text[: queries.MAX_QUERY_LENGTH]))
    body = {
        "query": {
            "bool": {
                "must": [
                    {
                        "more_like_this": {
                            "fields": MLT_FIELDS,
                            "like": like,
                            "min_term_freq": 1,
                            "min_doc_freq": 1,
                            "max_query_terms": 30,
                            "minimum_should_match": "10%",
                        }
                    }
                ],
                "filter": [queries.visibility_filter(tokens)],
                "must_not": [{"term": {"org_id": organization.pk}}],
            }
        },
        "size": limit,
        "_source": SOURCE,
    }
    hits = _run(body)
    mine_themes = set(organization.themes.values_list("code", flat=True))
    mine_competences = {_fold(c): c for c in organization.competences or [] if isinstance(c, str)}
    theme_labels = {t.code: t.label() for t in Theme.objects.filter(code__in=mine_themes)}
    results = []
    for hit in hits:
        source = hit["_source"]
        reasons = []
        shared = [mine_competences[_fold(c)] for c in source.get("competences") or [] if _fold(c) in mine_competences]
        if shared:
            reasons.append(_("Shared competences: %(list)s") % {"list": ", ".join(shared[:5])})
        themes = [theme_labels[t] for t in source.get("themes") or [] if t in theme_labels]
        if themes:
            reasons.append(_("Same theme: %(list)s") % {"list": ", ".join(themes[:3])})
        if not reasons:
            reasons.append(_("Similar description"))
        results.append(_hit_to_recommendation(hit, reasons, None))
    return results


# --- Consortium gap filling ---------------------------------------------------------------------


def build_role_query(
    *,
    tokens: list[str],
    role: ConsortiumRole,
    call: Any,
    excluded: list[int],
    present_countries: list[str],
    missing_kinds: list[str],
    fallback_text: str,
    size: int,
) -> dict[str, Any]:
    should: list[dict[str, Any]] = []
    for i, competence in enumerate(role.competences[:MAX_CLAUSES]):
        text = queries.normalize_text(str(competence)[:120])
        if text:
            should.append({"multi_match": {"query": text, "fields": COMPETENCE_FIELDS, "_name": f"competence:{i}"}})
    if not should and fallback_text:
        should.append({"multi_match": {"query": fallback_text, "fields": COMPETENCE_FIELDS, "_name": "topic"}})
    filters: list[dict[str, Any]] = [queries.visibility_filter(tokens)]
    if role.kind:
        filters.append({"term": {"kind": role.kind}})
    if role.country:
        filters.append({"term": {"country": role.country}})
    allowed = [c.upper() for c in (call.allowed_countries or []) if isinstance(c, str)]
    if allowed:
        # Only partners that count toward the call's country minimum: gap filling keeps the consortium eligible.
        filters.append({"terms": {"country": allowed}})
    diversity: list[dict[str, Any]] = []
    if present_countries:
        diversity.append(
            {"bool": {"must_not": [{"terms": {"country": present_countries}}], "_name": "new_country", "boost": 2}}
        )
    if missing_kinds:
        diversity.append({"terms": {"kind": missing_kinds, "_name": "missing_kind", "boost": 2}})
    query: dict[str, Any] = {
        "bool": {
            "filter": filters,
            "must_not": [{"terms": {"org_id": excluded}}],
            "must": [{"bool": {"should": should, "minimum_should_match": 1}}] if should else [],
            "should": diversity + STANDING,
        }
    }
    return {
        "query": query,
        "size": size,
        "_source": SOURCE,
    }


def suggest_for_role(
    user: Any, consortium: Consortium, role: ConsortiumRole, *, limit: int = 10
) -> list[Recommendation]:
    """Organizations that fill an open role and keep the consortium eligible and diverse, each explained."""
    tokens = queries.viewer_access_tokens(user)
    if tokens is None:
        return []
    call = consortium.call
    partner_rows = list(
        consortium.partners.filter(state__in=[PartnerState.INVITED, PartnerState.ACCEPTED]).select_related(
            "organization"
        )
    )
    members = [consortium.coordinator] + [p.organization for p in partner_rows if p.state == PartnerState.ACCEPTED]
    report = eligibility.check(call, members)
    excluded = [consortium.coordinator_id] + [p.organization_id for p in partner_rows]
    fallback = queries.normalize_text(f"{call.title} {consortium.description}"[: queries.MAX_QUERY_LENGTH])
    body = build_role_query(
        tokens=tokens,
        role=role,
        call=call,
        excluded=excluded,
        present_countries=sorted({m.country for m in members if m.country}),
        missing_kinds=list(report.missing_kinds),
        fallback_text=fallback,
        size=limit,
    )
    hits = _run(body)
    results = []
    for hit in hits:
        source = hit["_source"]
        matched = list(hit.get("matched_queries") or [])
        reasons = []
        covered = [role.competences[int(n.split(":", 1)[1])] for n in matched if n.startswith("competence:")]
        if covered:
            reasons.append(_("Covers the role's competences: %(list)s") % {"list": ", ".join(covered)})
        elif "topic" in matched:
            reasons.append(_("Works on the call's topic"))
        candidate = eligibility.Participant(
            key=int(source["org_id"]),
            name=source.get("name", ""),
            country=source.get("country", ""),
            kind=source.get("kind", ""),
        )
        reasons += eligibility.contribution(call, members, candidate)
        reasons += _standing_reasons(source)
        results.append(_hit_to_recommendation(hit, reasons, None))
    return results
