"""Text analysis of the search indices: accent-blind, French and English, with bilingual synonyms.

Why a plugin. The local node (the `integ-test-zip` distribution) lacks the
analysis-common module: no language analyzers, no asciifolding, stemmers,
elision, synonyms or edge n-grams. Rather than an index definition that only
runs on a full cluster, every such component comes from the project's own
stable plugin `maillage-analysis` (search/es_plugin, built and installed by
search/node.py; production clusters install the same zip, see README). Those
components are thin wrappers over the Lucene classes every node already
ships, so behaviour is identical everywhere, and only built-in pieces
(`standard` tokenizer, `lowercase`) are used besides them.

Design. Profiles mix French and English, often in one field, and carry no
reliable language tag per sentence. So a text field is indexed three ways
and queries search all three, letting BM25 sort it out:

- the main field with `maillage_folded`: words lowercased, French elision
  removed ("l'ingénierie" -> "ingenierie"), accents folded ("Réseaux" ->
  "reseaux"); no stemming, so exact word forms score highest and fuzzy
  matching on names works on real words;
- a `.fr` sub-field with `maillage_french` (same, then the light French
  stemmer: "paiements" -> "paie" <- "paiement");
- an `.en` sub-field with `maillage_english` (same, then possessive removal
  and KStem: "networks" -> "network").

Folding runs *before* stemming so that an accented and an unaccented
spelling always reach the same stem. A single field with a French and an
English stemmer chained was rejected: whichever runs first breaks the other
language's plurals ("companies"/"company" or "énergies"/"énergie").

Synonyms (`matchmaking.taxonomy.synonym_groups()`, "a, b, c" lines) are
applied at query time by the `*_search` analyzers (the grouped fields'
concepts below aside): a graph of multi-word synonyms cannot be indexed
faithfully, and index-time expansion would bloat every document. The rules
live in the index settings, so a change to them takes effect with the next
(zero-downtime) rebuild. Each search analyzer's synonym filter parses the
rules with the *same* chain as its field (`analysis: folded|french|english`),
so "e-payment" is the two-token path "e payment" and "paiement électronique"
the French stems "paie electron", exactly as the indexed text.

The two grouped fields that every search scores over all its hits (`topics`,
`details`) take multi-word synonyms another way, as concepts: every form of
two words or more of rule n ("réseau mobile", "mobile network", "réseau
cellulaire") is the term `§n`, added to the indexed text where such a form
occurs (`maillage_french_concepts`); in a query, a form of the rule (one word
or more) becomes the rule's one-word forms and `§n`
(`maillage_french_concepts_search`). The graph asked for a phrase per
multi-word form, checked by positions over every hit: a ninth of a search's
node CPU. Which profiles match is unchanged: a profile has `§n` exactly where
it holds a multi-word form of rule n. Highlights still come from the graph,
over fields indexed without concepts.

`maillage_autocomplete` (edge n-grams 2..20 of folded words) is available to
mappings; the project's own suggestions no longer index n-grams: they run
prefix queries on the folded name and competence fields (cheaper rebuilds).
Exact values: `maillage_exact` (the whole value as one token, lowercased and
folded) for text fields compared as a whole. Keyword fields (facets,
sorting, term filters) use the `maillage_lowercase` normalizer: plugin
filters are not allowed in normalizers, so accent folding of keyword values
happens in Python with `fold()`, which mirrors `maillage_exact`.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from elasticsearch import ApiError, Elasticsearch

logger = logging.getLogger(__name__)

PLUGIN_NAME = "maillage-analysis"

# Components of the plugin (names as registered on the cluster).
ASCIIFOLDING_FILTER = "maillage_asciifolding"
ELISION_FILTER = "maillage_elision"
FRENCH_STEM_FILTER = "maillage_french_stem"
ENGLISH_POSSESSIVE_FILTER = "maillage_english_possessive"
ENGLISH_STEM_FILTER = "maillage_english_stem"
EDGE_NGRAM_FILTER_TYPE = "maillage_edge_ngram"
SYNONYM_GRAPH_FILTER_TYPE = "maillage_synonym_graph"
SYNONYM_CONCEPTS_FILTER_TYPE = "maillage_synonym_concepts"
KEYWORD_TOKENIZER = "maillage_keyword"

# Analyzers and normalizer defined by `index_settings()`: use these in mappings.
FOLDED_ANALYZER = "maillage_folded"
FOLDED_SEARCH_ANALYZER = "maillage_folded_search"
FRENCH_ANALYZER = "maillage_french"
FRENCH_SEARCH_ANALYZER = "maillage_french_search"
ENGLISH_ANALYZER = "maillage_english"
ENGLISH_SEARCH_ANALYZER = "maillage_english_search"
# The grouped fields every search scores: French stems, synonyms as concept terms (see below).
CONCEPTS_ANALYZER = "maillage_french_concepts"
CONCEPTS_SEARCH_ANALYZER = "maillage_french_concepts_search"
AUTOCOMPLETE_ANALYZER = "maillage_autocomplete"
AUTOCOMPLETE_SEARCH_ANALYZER = FOLDED_ANALYZER
EXACT_ANALYZER = "maillage_exact"
# Elasticsearch rejects plugin filters in normalizers ("Custom normalizer [...] may
# not use filter [...]"), so keyword fields can only be lowercased on the cluster;
# where accents must not matter in a keyword (sort keys, exact filters), index
# `fold(value)` and query with `fold(value)`.
LOWERCASE_NORMALIZER = "maillage_lowercase"
FOLDED_NORMALIZER = LOWERCASE_NORMALIZER  # the name search/documents.py uses

# Index-level filter instances (configured components).
_SYNONYMS_FOLDED = "maillage_synonyms_folded"
_SYNONYMS_FRENCH = "maillage_synonyms_french"
_SYNONYMS_ENGLISH = "maillage_synonyms_english"
_CONCEPTS_INDEX = "maillage_synonym_concepts_index"
_CONCEPTS_SEARCH = "maillage_synonym_concepts_search"
_AUTOCOMPLETE_NGRAMS = "maillage_autocomplete_ngrams"

AUTOCOMPLETE_MIN_GRAM = 2
AUTOCOMPLETE_MAX_GRAM = 20

# The chains below are mirrored in search/es_plugin/.../Chains.java, which parses
# synonym rules: change both together.
_FOLDED_CHAIN = ["lowercase", ELISION_FILTER, ASCIIFOLDING_FILTER]
_FRENCH_CHAIN = [*_FOLDED_CHAIN, FRENCH_STEM_FILTER]
_ENGLISH_CHAIN = [*_FOLDED_CHAIN, ENGLISH_POSSESSIVE_FILTER, ENGLISH_STEM_FILTER]


# Letters that Unicode decomposition does not reduce to ASCII but Lucene's
# ASCIIFoldingFilter does (the ones found in French, English and names).
_FOLD_SPECIAL = str.maketrans(
    {"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "ı": "i", "ŀ": "l"}
)


def fold(value: str) -> str:
    """Lowercase and strip accents like `maillage_exact` does: "Œuvre Économique" -> "oeuvre economique".

    For keyword values (sort keys, exact filters) that must ignore accents;
    non-Latin scripts (Arabic) pass through unchanged, as on the cluster.
    """
    decomposed = unicodedata.normalize("NFKD", value.lower().translate(_FOLD_SPECIAL))
    # Only the Latin combining accents: Arabic vowel marks are kept, as on the cluster.
    return "".join(char for char in decomposed if not "\u0300" <= char <= "\u036f")


class AnalysisPluginMissing(ImproperlyConfigured):
    """The cluster lacks the maillage-analysis plugin (or an up-to-date version of it)."""


def synonym_rules() -> list[str]:
    """The bilingual synonym rules kept with the taxonomy, e.g. "cybersécurité, cybersecurity"."""
    from matchmaking.taxonomy import synonym_groups

    return list(synonym_groups())


def _custom(tokenizer: str, filters: list[str]) -> dict[str, Any]:
    return {"type": "custom", "tokenizer": tokenizer, "filter": filters}


def analysis_settings(synonyms: list[str] | None = None) -> dict[str, Any]:
    """The `analysis` section of the index settings (synonyms default to `synonym_rules()`)."""
    rules = synonym_rules() if synonyms is None else list(synonyms)

    def synonym_filter(chain: str) -> dict[str, Any]:
        return {"type": SYNONYM_GRAPH_FILTER_TYPE, "analysis": chain, "synonyms": rules}

    def concepts_filter(mode: str) -> dict[str, Any]:
        return {"type": SYNONYM_CONCEPTS_FILTER_TYPE, "analysis": "french", "mode": mode, "synonyms": rules}

    return {
        "filter": {
            _SYNONYMS_FOLDED: synonym_filter("folded"),
            _SYNONYMS_FRENCH: synonym_filter("french"),
            _SYNONYMS_ENGLISH: synonym_filter("english"),
            _CONCEPTS_INDEX: concepts_filter("index"),
            _CONCEPTS_SEARCH: concepts_filter("search"),
            _AUTOCOMPLETE_NGRAMS: {
                "type": EDGE_NGRAM_FILTER_TYPE,
                "min_gram": AUTOCOMPLETE_MIN_GRAM,
                "max_gram": AUTOCOMPLETE_MAX_GRAM,
            },
        },
        "analyzer": {
            FOLDED_ANALYZER: _custom("standard", _FOLDED_CHAIN),
            FOLDED_SEARCH_ANALYZER: _custom("standard", [*_FOLDED_CHAIN, _SYNONYMS_FOLDED]),
            FRENCH_ANALYZER: _custom("standard", _FRENCH_CHAIN),
            FRENCH_SEARCH_ANALYZER: _custom("standard", [*_FRENCH_CHAIN, _SYNONYMS_FRENCH]),
            ENGLISH_ANALYZER: _custom("standard", _ENGLISH_CHAIN),
            ENGLISH_SEARCH_ANALYZER: _custom("standard", [*_ENGLISH_CHAIN, _SYNONYMS_ENGLISH]),
            CONCEPTS_ANALYZER: _custom("standard", [*_FRENCH_CHAIN, _CONCEPTS_INDEX]),
            CONCEPTS_SEARCH_ANALYZER: _custom("standard", [*_FRENCH_CHAIN, _CONCEPTS_SEARCH]),
            AUTOCOMPLETE_ANALYZER: _custom("standard", [*_FOLDED_CHAIN, _AUTOCOMPLETE_NGRAMS]),
            EXACT_ANALYZER: _custom(KEYWORD_TOKENIZER, ["lowercase", ASCIIFOLDING_FILTER]),
        },
        "normalizer": {
            LOWERCASE_NORMALIZER: {"type": "custom", "filter": ["lowercase"]},
        },
    }


def index_settings(synonyms: list[str] | None = None) -> dict[str, Any]:
    """Index settings to merge into an index body's "settings": `{"analysis": ...}`."""
    return {"analysis": analysis_settings(synonyms)}


# Every component, exercised by cluster-level _analyze calls. Index-time-only
# (edge n-grams) and search-time-only (synonyms) filters cannot share a chain.
_REQUIRED_CHAINS: list[tuple[str, list[str | dict[str, Any]]]] = [
    (
        KEYWORD_TOKENIZER,
        [
            "lowercase",
            ELISION_FILTER,
            ASCIIFOLDING_FILTER,
            FRENCH_STEM_FILTER,
            ENGLISH_POSSESSIVE_FILTER,
            ENGLISH_STEM_FILTER,
            {"type": EDGE_NGRAM_FILTER_TYPE, "min_gram": 2, "max_gram": 3},
            {"type": SYNONYM_CONCEPTS_FILTER_TYPE, "analysis": "french", "mode": "index", "synonyms": ["a, b"]},
        ],
    ),
    ("standard", ["lowercase", {"type": SYNONYM_GRAPH_FILTER_TYPE, "analysis": "french", "synonyms": ["a, b"]}]),
]


def _component_name(component: str | dict[str, Any]) -> str:
    return component if isinstance(component, str) else str(component.get("type"))


def check_cluster_analysis(
    client: Elasticsearch, chains: list[tuple[str, list[str | dict[str, Any]]]] | None = None
) -> None:
    """Raise AnalysisPluginMissing, saying how to install the plugin, unless the cluster has its components.

    `chains` (tokenizer, filters) default to every component of the plugin.
    Cluster-level `_analyze` calls build each component, so this catches a
    missing plugin and a stale one that lacks a newer component, with no
    index needed and no cluster-monitoring privilege (unlike GET _nodes/plugins).
    """
    for tokenizer, filters in _REQUIRED_CHAINS if chains is None else chains:
        try:
            client.indices.analyze(tokenizer=tokenizer, filter=filters, text="L'Économie des Réseaux")
        except ApiError as error:
            if error.meta.status == 403:
                # A key limited to the project's indices may not run cluster-level _analyze: creating
                # the index still fails, less explicitly, if a component is missing.
                logger.warning("Cannot check the %s plugin (%s); relying on index creation.", PLUGIN_NAME, error)
                return
            if error.meta.status != 400:
                raise
            names = [tokenizer, *(_component_name(f) for f in filters)]
            raise AnalysisPluginMissing(_missing_plugin_message(names, error)) from error


def _error_reason(error: ApiError) -> str:
    """The innermost reason Elasticsearch gave (the outer one is often just "Can not build a custom analyzer")."""
    reason = str(error.message)
    cause = error.body.get("error") if isinstance(error.body, dict) else None
    while isinstance(cause, dict):
        reason = str(cause.get("reason", reason))
        cause = cause.get("caused_by")
    return reason


def _missing_plugin_message(names: list[str], error: ApiError) -> str:
    return (
        f"The Elasticsearch cluster lacks analysis components of the {PLUGIN_NAME} plugin "
        f"(checked {', '.join(names)}; the cluster said: {_error_reason(error)}). "
        f"Install the plugin on every node of the cluster: build it with "
        f"`python manage.py search_node build-plugin --output {PLUGIN_NAME}.zip`, then on each node run "
        f"`bin/elasticsearch-plugin install --batch file:///path/to/{PLUGIN_NAME}.zip` and restart the node. "
        f"Check with `GET _nodes/plugins`: every node must list {PLUGIN_NAME}. "
        "With ELASTICSEARCH_URL empty, `python manage.py search_node ensure` installs it on the local node."
    )


# The name the index lifecycle code calls.
check_plugin = check_cluster_analysis
