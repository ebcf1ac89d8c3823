"""The demo generator (no database) and the shared taxonomy."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from stdnum.fr import siren, siret
from stdnum.ma import ice

from matchmaking import taxonomy
from matchmaking.demo import CONTENT, generate_organizations
from matchmaking.models import ClusterTheme, Theme
from matchmaking.validators import validate_pic


def test_generator_is_deterministic_and_valid() -> None:
    day = date(2026, 6, 1)
    first = list(generate_organizations(800, 5, today=day))
    assert first == list(generate_organizations(800, 5, today=day))
    assert first != list(generate_organizations(800, 6, today=day))
    assert len({row["legal_name"] for row in first}) == 800
    for row in first:
        assert row["siren"] is None or siren.is_valid(row["siren"])
        assert row["siret"] is None or siret.is_valid(row["siret"])
        assert row["ice"] is None or ice.is_valid(row["ice"])
        if row["pic"]:
            validate_pic(row["pic"])
            assert row["pic"].startswith("8")  # never a real CORDIS PIC
        assert set(row["themes"]) <= taxonomy.THEME_CODES
        assert row["opportunities"]
    for name in ["pic", "siren", "siret", "ice"]:
        values = [row[name] for row in first if row[name]]
        assert len(values) == len(set(values)), name
    clusters = Counter(row["cluster"] for row in first)
    assert clusters["SYSTEMATIC"] > clusters["IMAGES-RESEAUX"] > clusters["MNC"] > 0


def test_generator_streams_large_populations_lazily() -> None:
    stream = generate_organizations(10**9, 1)
    assert next(stream)["legal_name"]  # a billion is fine: nothing is built ahead


def test_offers_and_needs_are_complementary_across_countries() -> None:
    rows = list(generate_organizations(600, 3))
    tags_needed_by_ma = {
        t
        for r in rows
        if r["country"] == "MA"
        for o in r["opportunities"]
        if not o["kind"].endswith("offer")
        for t in o["tags"]
    }
    tags_offered_by_fr = {
        t
        for r in rows
        if r["country"] == "FR"
        for o in r["opportunities"]
        if o["kind"].endswith("offer")
        for t in o["tags"]
    }
    assert tags_needed_by_ma & tags_offered_by_fr


def test_every_theme_has_content() -> None:
    for specs in taxonomy.CLUSTER_THEMES.values():
        for spec in specs:
            assert spec.shared in CONTENT
            assert spec.shared in taxonomy.THEME_CODES
            assert set(spec.related) <= taxonomy.THEME_CODES


def test_synonym_groups_are_bilingual() -> None:
    groups = taxonomy.synonym_groups()
    assert any("cybersécurité" in g and "cybersecurity" in g for g in groups)
    assert all(", " in g for g in groups)


def test_ensure_taxonomy_is_idempotent(db: Any) -> None:
    taxonomy.ensure_taxonomy()
    taxonomy.ensure_taxonomy()
    assert Theme.objects.count() == len(taxonomy.SHARED_THEMES)
    assert Theme.objects.get(code="mobile-networks").parent.code == "networks"  # type: ignore[union-attr]
    from matchmaking.models import Cluster

    Cluster.objects.create(code="MNC", name="MNC", country="MA")
    assert taxonomy.ensure_cluster_themes("MNC") == 4
    assert taxonomy.ensure_cluster_themes("MNC") == 4
    assert ClusterTheme.objects.count() == 4
