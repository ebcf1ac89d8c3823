"""Documents and mapping: what an organization becomes in the index, and what is never indexed."""

from __future__ import annotations

from itertools import product

import pytest
from django.db import connection
from django.db.models import F

from matchmaking import access
from matchmaking.models import EUParticipation, EUProject, Organization, Visibility
from search import analysis, documents, lifecycle
from search.client import get_client
from search.indexing import CALLS, ORGANIZATIONS
from tests.fixtures.search import SearchWorld

pytestmark = [pytest.mark.elasticsearch, pytest.mark.django_db]


def indexed_ids() -> set[int]:
    client = get_client()
    client.indices.refresh(index=ORGANIZATIONS.alias)
    hits = client.search(index=ORGANIZATIONS.alias, size=100, query={"match_all": {}}, source=False)
    return {int(hit["_id"]) for hit in hits["hits"]["hits"]}


def test_only_listed_organizations_are_indexed(shared_world: SearchWorld) -> None:
    # given the world built and indexed; when we list the index; then drafts, lapsed and applicants are absent
    w = shared_world
    assert indexed_ids() == {w.atlas.pk, w.casanet.pk, w.quantix.pk, w.breizh.pk, w.photonics.pk}


def test_document_carries_profile_offers_scope_and_track_record(shared_world: SearchWorld) -> None:
    w = shared_world
    source = get_client().get(index=ORGANIZATIONS.alias, id=str(w.atlas.pk))
    doc = source["_source"]
    assert source["_version"] == w.atlas.version
    assert doc["org_id"] == w.atlas.pk
    assert doc["name"] == "ATLASPAY"
    assert doc["legal_name"] == "Atlas Paiement Mobile"
    assert doc["cluster_codes"] == ["MNC"]
    assert doc["cluster_ids"] == [w.mnc.pk]
    assert sorted(doc["partner_cluster_ids"]) == sorted([w.systematic.pk, w.ir.pk])
    assert doc["visibility"] == "partners"
    assert doc["themes"] == ["e-payment", "mobile-services"]
    assert doc["opportunity_kinds"] == ["rd_partner_search", "technology_offer"]
    assert doc["trls"] == [3, 8]
    assert doc["trl_ranges"] == ["1-3", "7-9"]
    assert doc["offer_titles"] == ["Plateforme de paiement mobile"]
    assert doc["need_titles"] == ["Partenaire pour la détection de fraude"]
    assert doc["location"] == {"lat": pytest.approx(33.5731), "lon": pytest.approx(-7.5898)}
    assert doc["languages"] == ["ar", "en", "fr"]
    assert doc["has_track_record"] is False
    assert set(doc["facet_values"]) >= {
        "cluster\x1fMNC",
        "theme\x1fe-payment",
        "opportunity_kind\x1ftechnology_offer",
        "trl\x1f7-9",
        "language\x1far",
        "track_record\x1ffalse",
    }
    breizh = get_client().get(index=ORGANIZATIONS.alias, id=str(w.breizh.pk))["_source"]
    assert breizh["has_track_record"] is True
    assert "track_record\x1ftrue" in breizh["facet_values"]
    assert breizh["eu_projects_count"] == 1
    assert "public" in breizh["access"]


def test_mapping_uses_project_analyzers() -> None:
    props = documents.ORGANIZATION_MAPPING["properties"]
    assert props["details"]["analyzer"] == analysis.CONCEPTS_ANALYZER
    assert props["details"]["search_analyzer"] == analysis.CONCEPTS_SEARCH_ANALYZER
    assert props["competences"]["fields"]["en"]["search_analyzer"] == "maillage_english_search"
    assert props["name_sort"]["normalizer"] == analysis.FOLDED_NORMALIZER
    assert props["location"]["type"] == "geo_point"
    assert props["topics"]["analyzer"] == analysis.CONCEPTS_ANALYZER
    assert props["description_fr"]["analyzer"] == analysis.FRENCH_ANALYZER  # highlights: no concepts
    assert props["competences"]["copy_to"] in ("topics", ["topics"])
    assert "call_id" in documents.CALL_MAPPING["properties"]


def test_calls_are_indexed(shared_world: SearchWorld) -> None:
    doc = get_client().get(index=CALLS.alias, id=str(shared_world.call.pk))["_source"]
    assert doc["topic_code"] == "HORIZON-CL3-2027-CS-01"
    assert doc["published_by"] == "IR"


def test_track_records_count_projects_linked_by_organization_or_by_pic(db: None) -> None:
    # given projects linked by foreign key, by PIC only (a CORDIS row not yet matched), and
    # another organization's project, read for a chunk of ids as rebuilds read them
    linked = Organization.objects.create(legal_name="Linked", pic="999999101")
    by_pic = Organization.objects.create(legal_name="By PIC", pic="999999102")
    other = Organization.objects.create(legal_name="Other", pic="999999103")
    projects = [EUProject.objects.create(framework="H2020", reference=f"9990{n}", acronym=f"P{n}") for n in range(4)]
    EUParticipation.objects.create(project=projects[0], pic="999999101", organization=linked, role="participant")
    EUParticipation.objects.create(project=projects[1], pic="999999101", organization=linked, role="coordinator")
    EUParticipation.objects.create(project=projects[2], pic="999999102", role="participant")
    EUParticipation.objects.create(project=projects[3], pic="999999103", role="participant")
    chunk = sorted([linked.pk, by_pic.pk])

    # when reading the chunk's track records
    records = documents._track_records(documents._organization_rows(chunk), chunk)

    # then each organization has its own projects, and the organization outside the chunk none
    assert records == {linked.pk: {projects[0].pk, projects[1].pk}, by_pic.pk: {projects[2].pk}}
    assert other.pk not in records


def test_in_subquery_is_written_for_the_database_in_use(db: None) -> None:
    pics = Organization.objects.filter(pic__isnull=False).order_by().values("pic")
    sql = str(EUParticipation.objects.filter(documents.InSubquery(F("pic"), pics)).query)
    expected = "= ANY(ARRAY(SELECT" if connection.vendor == "postgresql" else "IN (SELECT"
    assert expected in sql


def test_highlight_markers_are_stripped_from_indexed_text() -> None:
    assert documents.clean_text("a\ue000b\ue001c") == "abc"


@pytest.mark.parametrize(
    ("visibility", "admitted", "partners", "viewer", "staff"),
    list(
        product(
            [Visibility.EVERYONE, Visibility.PARTNERS, Visibility.CLUSTER],
            [[1], [1, 2]],
            [[], [3]],
            [frozenset(), frozenset({1}), frozenset({3}), frozenset({4})],
            [frozenset(), frozenset({1}), frozenset({5})],
        )
    ),
)
def test_access_tokens_agree_with_the_reference_rule(
    visibility: str, admitted: list[int], partners: list[int], viewer: frozenset[int], staff: frozenset[int]
) -> None:
    # given a listed organization's scope and a viewer; then the token match is access.scope_allows
    scope: access.VisibilityScope = {
        "listed": True,
        "visibility": visibility,
        "cluster_ids": admitted,
        "partner_cluster_ids": partners,
        "membership_cluster_ids": [*admitted, 5],
    }
    allowed = access.scope_allows(scope, viewer_clusters=viewer | staff, staff_clusters=staff)
    tokens = set(documents.viewer_tokens(viewer_clusters=viewer | staff, staff_clusters=staff))
    assert bool(tokens & set(documents.access_tokens(scope))) == allowed


def test_status_reports_alias_and_counts(shared_world: SearchWorld) -> None:
    state = lifecycle.status(ORGANIZATIONS)
    assert state.indices
    assert state.indices[0].startswith(ORGANIZATIONS.alias + "-")
    assert state.documents == 5
    assert state.pending == 0
    assert Organization.objects.count() == 8
