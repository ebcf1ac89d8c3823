"""The French/English analysis, proved on the real node with `_analyze` and small real indices."""

from __future__ import annotations

from typing import Any

import pytest
from elasticsearch import Elasticsearch

from search import analysis
from tests.search.conftest import MakeIndex

pytestmark = pytest.mark.elasticsearch

# The shape search/documents.py gives text: folded words, plus French and English stems.
TEXT = {
    "type": "text",
    "analyzer": analysis.FOLDED_ANALYZER,
    "search_analyzer": analysis.FOLDED_SEARCH_ANALYZER,
    "fields": {
        "fr": {
            "type": "text",
            "analyzer": analysis.FRENCH_ANALYZER,
            "search_analyzer": analysis.FRENCH_SEARCH_ANALYZER,
        },
        "en": {
            "type": "text",
            "analyzer": analysis.ENGLISH_ANALYZER,
            "search_analyzer": analysis.ENGLISH_SEARCH_ANALYZER,
        },
    },
}
NAME = {
    "type": "text",
    "analyzer": analysis.FOLDED_ANALYZER,
    "fields": {
        "exact": {"type": "text", "analyzer": analysis.EXACT_ANALYZER},
        "prefix": {
            "type": "text",
            "analyzer": analysis.AUTOCOMPLETE_ANALYZER,
            "search_analyzer": analysis.AUTOCOMPLETE_SEARCH_ANALYZER,
        },
    },
}
PROFILE = {"name": NAME, "description": TEXT}


def tokens(client: Elasticsearch, index: str, analyzer: str, text: str) -> list[str]:
    response = client.indices.analyze(index=index, analyzer=analyzer, text=text)
    return [token["token"] for token in response["tokens"]]


def find(client: Elasticsearch, index: str, text: str) -> set[str]:
    """Names of the profiles a full-text query finds, searching the three forms of the description."""
    response = client.search(
        index=index,
        query={
            "multi_match": {
                "query": text,
                "fields": ["description", "description.fr", "description.en"],
                "type": "most_fields",
            }
        },
    )
    return {hit["_source"]["name"] for hit in response["hits"]["hits"]}


def profiles(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"name": name, "description": description} for name, description in pairs]


def test_accents_do_not_matter(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    # Given profiles written with and without accents
    index = make_index(
        PROFILE,
        profiles(("IR", "Pôle Images & Réseaux"), ("Plain", "Ingenierie electronique"), ("Other", "Logiciel libre")),
    )

    # When searching with the other spelling, then each is found, and only it
    assert find(es_node, index, "reseaux") == {"IR"}
    assert find(es_node, index, "RÉSEAUX") == {"IR"}
    assert find(es_node, index, "ingénierie électronique") == {"Plain"}


def test_french_word_forms_match(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    index = make_index(
        PROFILE,
        profiles(("Pay", "Solution de paiement sécurisé"), ("Soc", "Une société d'ingénierie"), ("Other", "Capteurs")),
    )

    assert find(es_node, index, "paiements") == {"Pay"}
    assert find(es_node, index, "sociétés") == {"Soc"}
    assert find(es_node, index, "sécurisés") == {"Pay"}


def test_english_word_forms_match(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    index = make_index(
        PROFILE,
        profiles(("Net", "We design the network of a smart city"), ("Co", "Companies' secured payments"), ("X", "Fun")),
    )

    assert find(es_node, index, "networks") == {"Net"}
    assert find(es_node, index, "company's") == {"Co"}
    assert find(es_node, index, "securing") == {"Co"}


def test_elision_removes_french_articles(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    index = make_index(PROFILE, profiles(("Ing", "Bureau d’études et l'ingénierie des systèmes"), ("X", "Énergie")))

    assert tokens(es_node, index, analysis.FOLDED_ANALYZER, "L'ingénierie qu’il faut") == ["ingenierie", "il", "faut"]
    assert tokens(es_node, index, analysis.FRENCH_ANALYZER, "l'ingénierie") == ["ingeni"]
    assert find(es_node, index, "ingénierie") == {"Ing"}
    assert find(es_node, index, "études") == {"Ing"}


def test_taxonomy_synonyms_match_across_languages(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    # Given the real synonym list kept with the taxonomy
    index = make_index(
        PROFILE,
        profiles(
            ("Cyber EN", "Cybersecurity audits for SMEs"),
            ("Cyber FR", "Expert en cybersécurité industrielle"),
            ("Pay EN", "An e-payment gateway"),
            ("Food", "Agroalimentaire"),
        ),
    )

    # Then each language's term finds the other's
    assert find(es_node, index, "cybersécurité") == {"Cyber EN", "Cyber FR"}
    assert find(es_node, index, "cybersecurity") == {"Cyber EN", "Cyber FR"}
    # and a multi-word rule lines up with a hyphenated term
    assert find(es_node, index, "paiement électronique") == {"Pay EN"}


def test_synonym_rules_are_parsed_like_the_text(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    # Given a rule mixing a single word, a hyphenated term and a multi-word phrase
    index = make_index(
        PROFILE,
        profiles(
            ("Monetique", "Leader de la monétique au Maroc"),
            ("Epay", "Secure e-payment for merchants"),
            ("Paiement", "Des paiements électroniques sans contact"),
            ("Pay only", "Paiement en espèces"),
        ),
        synonyms=["monétique, e-payment, paiement électronique"],
    )

    # Then any of them finds all three, but not a profile with only one word of a phrase
    everyone = {"Monetique", "Epay", "Paiement"}
    assert find(es_node, index, "monétique") == everyone
    assert find(es_node, index, "e-payment") == everyone
    assert find(es_node, index, "paiement électronique") >= everyone
    assert "Pay only" not in find(es_node, index, "monetique")
    # and the French search analyzer expands "monétique" to the French stems of the phrase
    assert {"monet", "paie", "electron", "e", "payment"} <= set(
        tokens(es_node, index, analysis.FRENCH_SEARCH_ANALYZER, "monétique")
    )


def test_synonyms_are_not_applied_when_indexing(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    index = make_index(PROFILE, [], synonyms=["monétique, e-payment"])

    assert tokens(es_node, index, analysis.FRENCH_ANALYZER, "monétique") == ["monet"]


def test_forms_of_a_rule_with_the_same_stems_give_one_term(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    # Given a rule naming singular and plural forms, which the French stemmer reduces to two stems
    index = make_index(
        PROFILE,
        profiles(("Net FR", "Opérateur de réseaux"), ("Net EN", "Private network"), ("Food", "Agroalimentaire")),
        synonyms=["réseau, network, réseaux, networks"],
    )

    # When a plural is analysed for search, then each stem comes once (a repeat is one more
    # identical clause per field, scored over every profile with the word)
    assert sorted(tokens(es_node, index, analysis.FRENCH_SEARCH_ANALYZER, "réseaux")) == ["network", "reseau"]
    assert sorted(tokens(es_node, index, analysis.FRENCH_SEARCH_ANALYZER, "networks")) == ["network", "reseau"]
    # while the folded analysis, which keeps plurals apart, keeps the four forms
    assert len(tokens(es_node, index, analysis.FOLDED_SEARCH_ANALYZER, "réseaux")) == 4
    # and matching is unchanged
    assert find(es_node, index, "réseaux") == {"Net FR", "Net EN"}


# The grouped fields' analysis (`topics`, `details`): the same text twice, with synonyms from the graph
# and as concepts; `index_phrases` as on `topics`.
GRAPH_AND_CONCEPTS = {
    "name": {"type": "keyword"},
    "graph": {
        "type": "text",
        "analyzer": analysis.FRENCH_ANALYZER,
        "search_analyzer": analysis.FRENCH_SEARCH_ANALYZER,
    },
    "concepts": {
        "type": "text",
        "analyzer": analysis.CONCEPTS_ANALYZER,
        "search_analyzer": analysis.CONCEPTS_SEARCH_ANALYZER,
        "index_phrases": True,
    },
}
CONCEPT_RULES = [
    "systèmes embarqués, embedded systems, logiciel embarqué",
    "réseau, network, réseaux, networks",
    "cybersécurité, cybersecurity, cyber security",
    "monétique, e-payment => paiement électronique",
    "contenu numérique, digital content",
    "numérique, digital",
]


def test_multi_word_synonyms_are_one_concept_term(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    index = make_index(GRAPH_AND_CONCEPTS, [], synonyms=CONCEPT_RULES)

    def analyzed(analyzer: str, text: str) -> list[str]:
        return tokens(es_node, index, analyzer, text)

    # The text keeps its words and gets the concept of each multi-word form it holds, after them
    assert analyzed(analysis.CONCEPTS_ANALYZER, "Des systèmes embarqués en réseau") == [
        "des", "system", "embarqu", "en", "reseau", "§0",
    ]  # fmt: skip
    assert analyzed(analysis.CONCEPTS_ANALYZER, "Digital content numérique") == ["digital", "content", "num", "§4"]
    # A query's form becomes its rule's one-word forms and its concept, on one position
    assert analyzed(analysis.CONCEPTS_SEARCH_ANALYZER, "embedded systems temps réel") == ["§0", "temp", "reel"]
    assert analyzed(analysis.CONCEPTS_SEARCH_ANALYZER, "cyber security") == ["cybersecurit", "cybersecurity", "§2"]
    # with the longest form winning, and no concept for a rule of one-word forms
    assert analyzed(analysis.CONCEPTS_SEARCH_ANALYZER, "contenu numérique") == ["§4"]
    assert analyzed(analysis.CONCEPTS_SEARCH_ANALYZER, "réseaux") == ["reseau", "network"]
    # "a => b" rules: the query's "a" becomes "b"
    assert analyzed(analysis.CONCEPTS_SEARCH_ANALYZER, "monétique") == ["§3"]


def test_concepts_match_the_profiles_the_synonym_graph_matches(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    texts = {
        "Embedded": "Embedded systems for aircraft",
        "Embarqué": "Nos systèmes embarqués et le logiciel embarqué associé",
        "Scattered": "Des systèmes critiques embarqués à bord",
        "Net": "Opérateur de réseaux mobiles, network slicing",
        "Cyber": "Cyber security audits; cybersécurité industrielle",
        "Cyber words": "Sécurité du cyber espace",
        "Pay": "Paiement électronique et monétique",
        "Monétique": "Monétique seule",
        "Digital": "Digital content numérique et contenu numérique",
        "Food": "Agroalimentaire",
    }
    docs = [{"name": name, "graph": text, "concepts": text} for name, text in texts.items()]
    index = make_index(GRAPH_AND_CONCEPTS, docs, synonyms=CONCEPT_RULES)

    def found(field: str, text: str) -> set[str]:
        query = {"match": {field: {"query": text, "operator": "and"}}}
        response = es_node.search(index=index, query=query, size=20)
        return {hit["_source"]["name"] for hit in response["hits"]["hits"]}

    queries = {
        "systèmes embarqués": {"Embedded", "Embarqué"},
        "logiciel embarqué aircraft": {"Embedded"},
        "réseau mobile": {"Net"},
        "cybersécurité": {"Cyber"},
        "cyber security audits": {"Cyber"},
        "monétique": {"Pay"},
        "paiement électronique": {"Pay"},
        "numérique": {"Digital"},
        "contenu numérique": {"Digital"},
        "systèmes": {"Embedded", "Embarqué", "Scattered"},
    }
    for text, expected in queries.items():
        assert (text, found("concepts", text)) == (text, expected)
        assert (text, found("graph", text)) == (text, expected)


def test_arabic_text_round_trips_and_is_searchable(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    name = "شركة الأمن السيبراني"
    description = "حلول الأمن السيبراني والدفع الإلكتروني للشركات الصغيرة"
    index = make_index(PROFILE, profiles((name, description), ("Latin", "Cybersécurité")))

    assert tokens(es_node, index, analysis.FRENCH_ANALYZER, "الأمن السيبراني") == ["الأمن", "السيبراني"]
    assert find(es_node, index, "الأمن السيبراني") == {name}
    stored = es_node.get(index=index, id="0")["_source"]
    assert stored == {"name": name, "description": description}


def test_one_typo_still_finds_a_name(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    index = make_index(
        PROFILE, profiles(("Systematic Paris-Région", ""), ("Images & Réseaux", ""), ("Pôle Mer Bretagne", ""))
    )

    def fuzzy(text: str) -> set[str]:
        response = es_node.search(
            index=index, query={"match": {"name": {"query": text, "fuzziness": "AUTO", "operator": "and"}}}
        )
        return {hit["_source"]["name"] for hit in response["hits"]["hits"]}

    assert fuzzy("Sytematic") == {"Systematic Paris-Région"}
    assert fuzzy("images et reseuax") == set()  # "et" is not in the name: all words must match
    assert fuzzy("images reseuax") == {"Images & Réseaux"}
    assert fuzzy("pole mee") == {"Pôle Mer Bretagne"}


def test_suggestions_as_you_type_match_prefixes(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    index = make_index(PROFILE, profiles(("Images & Réseaux", ""), ("Résilience Énergie", ""), ("Agro", "")))

    def suggest(prefix: str) -> set[str]:
        response = es_node.search(index=index, query={"match": {"name.prefix": {"query": prefix, "operator": "and"}}})
        return {hit["_source"]["name"] for hit in response["hits"]["hits"]}

    assert suggest("rés") == {"Images & Réseaux", "Résilience Énergie"}
    assert suggest("rese") == {"Images & Réseaux"}
    assert suggest("images res") == {"Images & Réseaux"}


def test_exact_name_ignores_case_and_accents_only(es_node: Elasticsearch, make_index: MakeIndex) -> None:
    index = make_index(PROFILE, profiles(("Images & Réseaux", ""), ("Images", "")))

    response = es_node.search(index=index, query={"match": {"name.exact": "IMAGES & RESEAUX"}})

    assert [hit["_source"]["name"] for hit in response["hits"]["hits"]] == ["Images & Réseaux"]


@pytest.mark.parametrize("text", ["Images & Réseaux", "Œuvre Économique", "Straße ﬁbre", "ÀÉÎÕÜ Ç", "شركة"])
def test_python_fold_agrees_with_the_cluster(es_node: Elasticsearch, make_index: MakeIndex, text: str) -> None:
    index = make_index(PROFILE, [])

    assert [analysis.fold(text)] == tokens(es_node, index, analysis.EXACT_ANALYZER, text)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Œuvre", "OEuvre"),  # one character becomes two; the case is the lowercase filter's business
        ("straße", "strasse"),
        ("ﬁbre ﬀ", "fibre ff"),  # ligatures
        ("⑽ ½", "(10) ½"),  # four characters for one; and one Lucene leaves alone
        ("Réseau🚀é", "Reseau🚀e"),  # a surrogate pair between folded letters stays whole
        ("ǅungla Ǆ ℡", "Dzungla DZ ℡"),
        ("ÀÉÎÕÜ Ç", "AEIOU C"),
        ("ａｂｃ", "abc"),  # full-width letters
        ("شركة", "شركة"),  # Arabic is not Latin: unchanged
        ("plain ascii", "plain ascii"),
    ],
)
def test_folding_gives_lucenes_ascii_folding(es_node: Elasticsearch, text: str, folded: str) -> None:
    # The plugin folds from a table filled from Lucene's ASCIIFoldingFilter (whose one huge
    # method the JVM never compiles); these are that filter's outputs.
    response = es_node.indices.analyze(tokenizer="maillage_keyword", filter=[analysis.ASCIIFOLDING_FILTER], text=text)
    assert [token["token"] for token in response["tokens"]] == [folded]


def test_cluster_analysis_check_passes_with_the_plugin(es_node: Elasticsearch) -> None:
    analysis.check_cluster_analysis(es_node)


def test_cluster_analysis_check_explains_how_to_install_a_missing_plugin(es_node: Elasticsearch) -> None:
    with pytest.raises(analysis.AnalysisPluginMissing) as raised:
        analysis.check_cluster_analysis(es_node, chains=[("standard", ["maillage_no_such_filter"])])

    message = str(raised.value)
    assert "maillage-analysis" in message
    assert "failed to find global filter under [maillage_no_such_filter]" in message
    assert "search_node build-plugin" in message
    assert "bin/elasticsearch-plugin install --batch" in message
    assert "GET _nodes/plugins" in message
