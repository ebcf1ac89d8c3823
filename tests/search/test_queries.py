"""Queries against the real node: full text (accents, word forms, synonyms, typos), ranking, highlights,
facets with multi-select counts, geography, sorting, pagination, suggestions and per-viewer visibility."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from matchmaking import access
from search import queries
from search.queries import GeoFilter, OrganizationFilters, search_organizations, suggest
from tests.fixtures.search import SearchWorld

pytestmark = [pytest.mark.elasticsearch, pytest.mark.django_db]


def names(world: SearchWorld, result: queries.OrganizationSearchResult) -> list[str]:
    return [world.name_of(hit.id) for hit in result.hits]


def facet(result: queries.OrganizationSearchResult, name: str) -> dict[str, int]:
    found = next(f for f in result.facets if f.name == name)
    return {v.value: v.count for v in found.values}


# --- Text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paiement mobile sécurisé", "atlas"),  # the brief's example
        ("paiements", "atlas"),  # French plural -> singular
        ("reseaux optiques", "quantix"),  # accents do not matter
        ("networks", "breizh"),  # English plural
        ("cybersécurité", "breizh"),  # French synonym of the English text
        ("e-payment", "atlas"),  # English synonym of "paiement électronique"/monétique
        ("Atlsa Paiement", "atlas"),  # one typo in a name
        ("ATLASPAY", "atlas"),
        ("cybersecurity SME Brittany", "breizh"),
    ],
)
def test_full_text_finds_the_right_partner_first(shared_world: SearchWorld, text: str, expected: str) -> None:
    result = search_organizations(shared_world.superuser, text=text)
    assert result.hits, f"nothing found for {text!r}"
    assert names(shared_world, result)[0] == expected
    assert not result.relaxed, f"{text!r} only matched partially"


def test_a_multi_word_synonym_finds_and_highlights_the_other_language(shared_world: SearchWorld) -> None:
    # Given Atlas's competence "sécurité des systèmes d'information", a form of the rule that also
    # names "information system security" (one concept term in the searched groups)
    w = shared_world

    # When searching the English form
    result = search_organizations(w.superuser, text="information system security")

    # Then Atlas is found, not the profiles holding only "security" or "information"
    assert names(w, result) == ["atlas"]
    assert not result.relaxed
    # and its French competence is highlighted (highlights come from the synonym graph)
    competences = result.hits[0].highlights.get("competences", [])
    assert any("<mark>sécurité</mark>" in fragment for fragment in competences), competences


def test_phrase_ranks_above_scattered_words(shared_world: SearchWorld, django_db_blocker: Any) -> None:
    w = shared_world
    result = search_organizations(w.superuser, text="paiement mobile")
    assert names(w, result)[0] == "atlas"


def test_every_significant_word_must_be_found_somewhere_in_the_profile(shared_world: SearchWorld) -> None:
    w = shared_world
    # "paiement" alone: Atlas and the other payment profile; with "banques" only Atlas
    # holds both (in different fields: a competence and its description).
    assert "atlas" in names(w, search_organizations(w.superuser, text="paiement"))
    both = search_organizations(w.superuser, text="paiement banques")
    assert names(w, both) == ["atlas"]
    assert not both.relaxed


def test_stop_words_are_not_required(shared_world: SearchWorld) -> None:
    w = shared_world
    with_stop_words = search_organizations(w.superuser, text="le paiement pour les banques")
    assert names(w, with_stop_words) == ["atlas"]
    assert not with_stop_words.relaxed
    # A search made only of stop words still searches them.
    assert queries.significant_words("the of") == "the of"


def test_when_no_profile_holds_every_word_the_best_partial_matches_come_back(shared_world: SearchWorld) -> None:
    w = shared_world
    result = search_organizations(w.superuser, text="photonique monétique")
    assert result.relaxed
    assert {"atlas", "photonics"} <= set(names(w, result))
    exact = search_organizations(w.superuser, text="photonique")
    assert not exact.relaxed


def test_filters_that_empty_a_matching_search_do_not_turn_it_partial(shared_world: SearchWorld) -> None:
    w = shared_world
    result = search_organizations(w.superuser, text="paiement banques", filters=OrganizationFilters(country=("FR",)))
    assert result.total == 0
    assert not result.relaxed  # the empty state offers to remove the filter instead
    country = next(f for f in result.facets if f.name == "country")
    assert {v.value: v.count for v in country.values}["MA"] == 1


def test_highlights_are_escaped_and_marked(shared_world: SearchWorld) -> None:
    result = search_organizations(shared_world.superuser, text="monétique")
    hit = result.hits[0]
    fragments = [f for values in hit.highlights.values() for f in values]
    assert any("<mark>" in f for f in fragments)
    assert all("<script" not in f for f in fragments)


def test_highlight_of_hostile_stored_text_is_escaped() -> None:
    raw = f"<script>alert(1)</script> {queries.documents.HIGHLIGHT_PRE}paiement{queries.documents.HIGHLIGHT_POST}"
    assert queries._safe_highlight(raw) == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>paiement</mark>"


# --- Facets ------------------------------------------------------------------------------


def test_facets_count_what_the_viewer_may_see(shared_world: SearchWorld) -> None:
    result = search_organizations(shared_world.superuser)
    assert result.total == 5
    assert facet(result, "cluster") == {"MNC": 2, "SYS": 1, "IR": 2}
    assert facet(result, "country") == {"MA": 2, "FR": 3}
    assert facet(result, "kind") == {"sme": 2, "startup": 2, "research_lab": 1}
    assert facet(result, "trl") == {"1-3": 1, "7-9": 2, "4-6": 1}
    assert facet(result, "track_record") == {"true": 1, "false": 4}
    assert facet(result, "language")["fr"] == 5


def test_renamed_cluster_shows_in_facets_at_once(shared_world: SearchWorld) -> None:
    w = shared_world
    before = next(f for f in search_organizations(w.superuser).facets if f.name == "cluster")
    assert "Maroc Numeric Cluster (renamed)" not in [v.label for v in before.values]
    cluster = w.mnc
    cluster.name = "Maroc Numeric Cluster (renamed)"
    cluster.save()
    after = next(f for f in search_organizations(w.superuser).facets if f.name == "cluster")
    assert "Maroc Numeric Cluster (renamed)" in [v.label for v in after.values]


def test_facet_labels_follow_the_readers_language(shared_world: SearchWorld) -> None:
    def labels() -> dict[str, str]:
        country = next(f for f in search_organizations(shared_world.superuser).facets if f.name == "country")
        return {v.value: v.label for v in country.values}

    with translation.override("fr"):
        in_french = labels()
    with translation.override("en"):
        in_english = labels()

    assert (in_french["MA"], in_french["FR"]) == ("Maroc", "France")
    assert in_english["MA"] == "Morocco"


def test_multi_select_facets_ignore_their_own_selection(shared_world: SearchWorld) -> None:
    # given a cluster selected; then the cluster facet still counts the other clusters, others are narrowed
    result = search_organizations(shared_world.superuser, filters=OrganizationFilters(cluster=("MNC",)))
    assert result.total == 2
    assert facet(result, "cluster") == {"MNC": 2, "SYS": 1, "IR": 2}
    assert facet(result, "country") == {"MA": 2}
    labels = {v.value: (v.label, v.selected) for f in result.facets if f.name == "cluster" for v in f.values}
    assert labels["MNC"] == ("Maroc Numeric Cluster", True)
    both = search_organizations(shared_world.superuser, filters=OrganizationFilters(cluster=("MNC", "SYS")))
    assert both.total == 3


def test_filters_combine(shared_world: SearchWorld) -> None:
    w = shared_world
    f = OrganizationFilters(
        kind=("startup",), opportunity_kind=("business_offer",), trl=("7-9",), language=("en",), country=("FR",)
    )
    assert names(w, search_organizations(w.superuser, filters=f)) == ["quantix"]
    assert names(w, search_organizations(w.superuser, filters=OrganizationFilters(track_record=("true",)))) == [
        "breizh"
    ]
    assert names(w, search_organizations(w.superuser, filters=OrganizationFilters(theme=("software",)))) == ["casanet"]


def test_geographic_filter(shared_world: SearchWorld) -> None:
    w = shared_world
    near_casa = OrganizationFilters(near=GeoFilter.near_city("Casablanca", 120))
    assert sorted(names(w, search_organizations(w.superuser, filters=near_casa))) == ["atlas", "casanet"]
    brittany = OrganizationFilters(near=GeoFilter(lat=48.11, lon=-1.68, km=200))
    assert sorted(names(w, search_organizations(w.superuser, filters=brittany))) == ["breizh", "photonics"]
    with pytest.raises(ValidationError):
        GeoFilter.near_city("Atlantis", 10)


# --- Sorting and pages ----------------------------------------------------------------------


def test_sort_by_name_ignores_accents_and_case(shared_world: SearchWorld) -> None:
    w = shared_world
    result = search_organizations(w.superuser, sort="name")
    assert names(w, result) == ["atlas", "breizh", "casanet", "photonics", "quantix"]


def test_cursor_pages_walk_every_hit_once(shared_world: SearchWorld) -> None:
    w = shared_world
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = search_organizations(w.superuser, sort="name", size=2, cursor=cursor)
        seen += page.ids
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5


def test_cursor_of_another_query_is_refused(shared_world: SearchWorld) -> None:
    page = search_organizations(shared_world.superuser, sort="name", size=2)
    assert page.next_cursor
    with pytest.raises(ValidationError):
        search_organizations(shared_world.superuser, sort="updated", size=2, cursor=page.next_cursor)
    with pytest.raises(ValidationError):
        search_organizations(shared_world.superuser, size=2, cursor="not-a-cursor")


def test_page_numbers_stop_at_ten_thousand(shared_world: SearchWorld) -> None:
    with pytest.raises(ValidationError):
        search_organizations(shared_world.superuser, page=501, size=20)


# --- Suggestions -------------------------------------------------------------------------------


def test_suggest_names_and_competences(shared_world: SearchWorld) -> None:
    w = shared_world
    found = suggest(w.superuser, "atl")
    assert any(s.kind == "organization" and s.organization_id == w.atlas.pk for s in found)
    # one option per organization: its best-matching competence or theme label
    competences = [s.text for s in suggest(w.superuser, "cyber") if s.kind == "competence"]
    assert competences
    assert all(text.lower().startswith("cyber") for text in competences)
    assert any(s.organization_id == w.breizh.pk for s in suggest(w.superuser, "breiz cyber"))
    assert suggest(w.superuser, "réseaux op") or suggest(w.superuser, "reseaux op")


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("Réseaux op", ["reseaux", "op"]),
        ("paiement d’entreprise", ["paiement", "entreprise"]),
        ("L'Atl", ["atl"]),
        ("a b cd", ["cd"]),
        ("a", ["a"]),
        ("الدار البيضاء", ["الدار", "البيضاء"]),
    ],
)
def test_suggestion_words_are_folded_like_the_index(typed: str, words: list[str]) -> None:
    assert queries.prefix_words(typed) == words


def test_suggest_respects_visibility(shared_world: SearchWorld) -> None:
    w = shared_world
    # photonics is visible to its own cluster only
    assert any(s.organization_id == w.photonics.pk for s in suggest(w.ir_member, "laboratoire"))
    assert not any(s.organization_id == w.photonics.pk for s in suggest(w.mnc_member, "laboratoire"))
    assert [s.text for s in suggest(w.mnc_member, "photon")] == []


# --- Visibility per role -----------------------------------------------------------------------


VISIBLE = {
    "mnc_member": {"atlas", "casanet", "quantix", "breizh"},
    "sys_member": {"atlas", "quantix", "breizh"},
    "ir_member": {"atlas", "breizh", "photonics"},
    "ir_staff": {"atlas", "breizh", "photonics"},
    "outsider": {"breizh"},
    "superuser": {"atlas", "casanet", "quantix", "breizh", "photonics"},
}


@pytest.mark.parametrize("viewer", sorted(VISIBLE))
def test_each_role_sees_exactly_what_access_allows(shared_world: SearchWorld, viewer: str) -> None:
    w = shared_world
    user = getattr(w, viewer)
    found = set(names(w, search_organizations(user, size=100)))
    assert found == VISIBLE[viewer]
    # and the same as the database rule, minus what is never indexed (own drafts, applications)
    listed = {w.atlas.pk, w.casanet.pk, w.quantix.pk, w.breizh.pk, w.photonics.pk}
    allowed = set(access.visible_organizations(user).filter(pk__in=listed).values_list("pk", flat=True))
    assert {getattr(w, name).pk for name in found} == allowed


def test_anonymous_sees_nothing(shared_world: SearchWorld) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert search_organizations(AnonymousUser(), text="paiement").total == 0
    assert suggest(AnonymousUser(), "atl") == []


def test_facet_counts_never_reveal_hidden_organizations(shared_world: SearchWorld) -> None:
    result = search_organizations(shared_world.outsider)
    assert facet(result, "cluster") == {"IR": 1}


# --- Calls ------------------------------------------------------------------------------------------


def test_search_calls(shared_world: SearchWorld) -> None:
    w = shared_world
    result = queries.search_calls(w.outsider, "cybersecurity 5G")
    assert [hit.id for hit in result.hits] == [w.call.pk]
    assert {v.value for f in result.facets for v in f.values} >= {"horizon_europe", "IR"}
    assert queries.search_calls(w.outsider, "", queries.CallFilters(programme=("national",))).total == 0
    assert queries.search_calls(w.outsider, "", queries.CallFilters(open_only=True)).total == 1


@pytest.mark.parametrize("text", ["paiement", ""])  # a search, and browsing (two searches in one request)
@override_settings(ELASTICSEARCH_URL="http://127.0.0.1:9")
def test_unreachable_engine_is_reported_not_crashed(shared_world: SearchWorld, text: str) -> None:
    with pytest.raises(queries.SearchUnavailable):
        search_organizations(shared_world.superuser, text=text)


def one_facet_terms(name: str) -> dict[str, object]:
    """The reference count of one facet: only its values, kept by a pattern."""
    return {"terms": {"field": "facet_values", "include": f"{name}\x1f.*", "size": 1_000}}


@pytest.mark.parametrize("text", ["", "paiement", "réseaux"])
@pytest.mark.parametrize(
    "filters",
    [
        OrganizationFilters(cluster=("MNC", "IR", "SYS"), country=("MA", "FR")),
        # a boolean facet, whose own field names its values 1/0
        OrganizationFilters(track_record=("false",), country=("MA", "FR"), cluster=("MNC", "IR")),
    ],
    ids=["clusters-countries", "track-record"],
)
def test_split_counts_match_one_search_with_filter_wrappers(
    shared_world: SearchWorld, text: str, filters: OrganizationFilters
) -> None:
    # Selected facets are counted on their own fields, browsing in searches of their own; the
    # counts must say exactly what one search with filter-wrapped aggregations says.
    w = shared_world
    tokens = queries.viewer_access_tokens(w.superuser)
    assert tokens is not None
    body = queries.build_organization_search(
        tokens=tokens, text=text, filters=OrganizationFilters(), sort="relevance", size=20, facets=False
    )
    # The reference: one search, the selections in its post_filter, each facet counted under a
    # filter of the other selections.
    selections = {n: queries.facet_filter(n, filters.selected(n)) for n in queries.FACETS}
    body["post_filter"] = {"bool": {"filter": [f for f in selections.values() if f]}}
    body["aggs"] = {
        name: {
            "filter": {"bool": {"filter": [f for other, f in selections.items() if f and other != name]}},
            "aggs": {"values": one_facet_terms(name)},
        }
        for name in queries.FACETS
    }
    # With words, one search; browsing, the page (with every facet's counts) and each selected
    # facet counted by a search of its own
    parts = queries.organization_searches(tokens=tokens, text=text, filters=filters, sort="relevance", size=20)
    assert len(parts) == (1 if text else 1 + len(filters.key()))
    single = queries._run(queries.ORGANIZATIONS.alias, body)
    split = search_organizations(w.superuser, text=text, filters=filters)
    assert split.total == single["hits"]["total"]["value"] > 0
    assert split.ids == [int(hit["_source"]["org_id"]) for hit in single["hits"]["hits"]]
    for name in queries.FACETS:
        buckets = single["aggregations"][name]["values"]["buckets"]
        expected = {b["key"].removeprefix(f"{name}\x1f"): b["doc_count"] for b in buckets}
        assert {k: v for k, v in facet(split, name).items() if v} == expected, name


@pytest.mark.parametrize("text", ["paiement", "réseaux", "cybersécurité"])
def test_counts_of_all_facets_at_once_match_one_aggregation_per_facet(shared_world: SearchWorld, text: str) -> None:
    # Without selections, one aggregation over `facet_values` counts every facet; the reference
    # counts each facet with an aggregation of its own.
    w = shared_world
    tokens = queries.viewer_access_tokens(w.superuser)
    assert tokens is not None
    body = queries.build_organization_search(
        tokens=tokens, text=text, filters=OrganizationFilters(), sort="relevance", size=20, facets=False
    )
    body["aggs"] = {name: one_facet_terms(name) for name in queries.FACETS}
    reference = queries._run(queries.ORGANIZATIONS.alias, body)["aggregations"]

    result = search_organizations(w.superuser, text=text)

    assert result.total > 0
    for name in queries.FACETS:
        expected = {b["key"].removeprefix(f"{name}\x1f"): b["doc_count"] for b in reference[name]["buckets"]}
        assert facet(result, name) == expected, name
    assert {name for name in queries.FACETS if facet(result, name)} >= {"cluster", "country", "kind", "track_record"}


def test_facet_buckets_keep_each_facets_size_and_order() -> None:
    # Buckets come most frequent first; each facet keeps at most its own size
    combined = {
        "facet_values": {
            "buckets": [{"key": f"country\x1fC{i:03d}", "doc_count": 500 - i} for i in range(80)]
            + [{"key": "track_record\x1ftrue", "doc_count": 3}, {"key": "unknown\x1fx", "doc_count": 2}]
        }
    }

    buckets = queries.facet_buckets(combined)

    assert [b["key"] for b in buckets["country"]["buckets"]] == [f"C{i:03d}" for i in range(50)]
    assert buckets["track_record"]["buckets"] == [{"key": "true", "doc_count": 3}]
    assert {name for name, counts in buckets.items() if counts["buckets"]} == {"country", "track_record"}
    assert set(buckets) == set(queries.FACETS)  # the unknown facet left out


def test_facet_buckets_read_a_facet_from_its_own_field() -> None:
    # An aggregation named after a facet counts its own field's values (under a filter of the
    # other selections, or not); booleans are read by the name Elasticsearch gives them.
    every = [{"key": "country\x1fFR", "doc_count": 2}, {"key": "kind\x1fsme", "doc_count": 2}]
    own = [{"key": "MA", "doc_count": 7}, {"key": "FR", "doc_count": 2}]
    aggregations = {
        "facet_values": {"buckets": every},
        "country": {"doc_count": 9, "values": {"buckets": own}},
        "track_record": {"buckets": [{"key": 1, "key_as_string": "true", "doc_count": 5}]},
    }

    buckets = queries.facet_buckets(aggregations)

    assert buckets["country"] == {"buckets": [{"key": "MA", "doc_count": 7}, {"key": "FR", "doc_count": 2}]}
    assert buckets["track_record"] == {"buckets": [{"key": "true", "doc_count": 5}]}
    assert buckets["kind"] == {"buckets": [{"key": "sme", "doc_count": 2}]}


def test_a_facets_own_counts_replace_those_under_every_selection() -> None:
    # With words and selections, one search counts every facet under all the selections and
    # each selected facet under the others: the latter are the selected facet's counts, even
    # when they are none.
    under_all = [{"key": "country\x1fMA", "doc_count": 4}, {"key": "kind\x1fsme", "doc_count": 4}]
    aggregations = {
        "facet_values": {"doc_count": 4, "values": {"buckets": under_all}},
        "country": {"doc_count": 0, "values": {"buckets": []}},
    }

    buckets = queries.facet_buckets(aggregations)

    assert buckets["country"] == {"buckets": []}
    assert buckets["kind"] == {"buckets": [{"key": "sme", "doc_count": 4}]}
