"""Index lifecycle: zero-downtime rebuilds, changes made during a rebuild, drift check and repair, the
command's output, and deep pagination over more than 10,000 documents."""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from matchmaking.models import Organization
from search import indexing, lifecycle, queries
from search.client import get_client
from search.indexing import ORGANIZATIONS
from search.models import PendingIndexChange
from tests.fixtures.search import SearchWorld, make_org

pytestmark = [pytest.mark.elasticsearch, pytest.mark.django_db]


def test_rebuild_while_searching_never_fails_and_keeps_changes_made_during_it(search_world: SearchWorld) -> None:
    w = search_world
    before = lifecycle.aliased_indices(ORGANIZATIONS.alias)
    errors: list[BaseException] = []
    empty: list[int] = []
    counts: list[int] = []
    stop = threading.Event()

    def search_continuously() -> None:
        # A superuser viewer needs no database query, so this thread only talks to Elasticsearch.
        while not stop.is_set():
            try:
                result = queries.search_organizations(w.superuser, text="paiement", facets=False)
                counts.append(result.total)
                if result.total == 0:
                    empty.append(1)
            except BaseException as exc:
                errors.append(exc)

    changed = threading.Event()

    def change_during_load(done: int) -> None:
        # Called by the bulk loader after documents were read from the database: a change now
        # is exactly what a naive rebuild would lose.
        if changed.is_set():
            return
        changed.set()
        Organization.objects.filter(pk=w.atlas.pk).update(description_fr="Spécialiste des hydroliennes.")
        Organization.objects.filter(pk=w.atlas.pk).update(version=w.atlas.version + 1)
        indexing.record_changes("organization", [w.atlas.pk])
        indexing.flush("organization")

    searcher = threading.Thread(target=search_continuously)
    searcher.start()
    try:
        report = lifecycle.Rebuilder(ORGANIZATIONS).rebuild(progress=change_during_load, threads=1)
    finally:
        stop.set()
        searcher.join()

    assert not errors, errors[:3]
    assert not empty
    assert len(counts) > 3
    assert report.indexed == 5
    # The throughput counts the time until the new index was live, not the default 1 s grace
    # before the old one was deleted
    assert report.seconds - report.live_seconds >= 1.0
    assert report.rate == report.indexed / report.live_seconds
    assert changed.is_set()
    after = lifecycle.aliased_indices(ORGANIZATIONS.alias)
    assert after == [report.index]
    assert not set(before) & set(after)
    assert not get_client().indices.exists(index=before[0])  # old index deleted
    assert lifecycle.aliased_indices(ORGANIZATIONS.building_alias) == []
    assert queries.search_organizations(w.superuser, text="hydroliennes").ids == [w.atlas.pk]
    assert lifecycle.DriftChecker(ORGANIZATIONS).check().ok


def test_pending_changes_are_replayed_after_the_swap(search_world: SearchWorld) -> None:
    w = search_world
    Organization.objects.filter(pk=w.quantix.pk).update(legal_name="Quantix Hydrogène", version=w.quantix.version + 3)
    indexing.record_changes("organization", [w.quantix.pk])  # left pending (flush only after commit)
    report = lifecycle.Rebuilder(ORGANIZATIONS).rebuild(threads=1, grace_seconds=0)
    assert report.replayed == 1
    assert not PendingIndexChange.objects.exists()


def test_check_finds_and_repair_fixes_drift(search_world: SearchWorld) -> None:
    w = search_world
    client = get_client()
    # given changes that never reached the index (written around the services): a new member,
    # a changed one, and a document whose organization does not exist
    newcomer = make_org("Nouvelle Recrue", w.mnc, description_fr="Arrivée sans bruit.")
    Organization.objects.filter(pk=w.quantix.pk).update(version=w.quantix.version + 1, legal_name="Quantix Nouveau")
    client.index(
        index=ORGANIZATIONS.alias,
        id="999999",
        document={"org_id": 999999, "access": ["all"], "version": 1},
        version=1,
        version_type="external",
        refresh=True,
    )
    report = lifecycle.DriftChecker(ORGANIZATIONS).check()
    assert report.missing == [newcomer.pk]
    assert report.stale == [w.quantix.pk]
    assert report.extra == [999999]
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("search_index", "check", "--kind", "organization", stdout=out)
    assert "missing 1, stale 1, extra 1" in out.getvalue()
    out = StringIO()
    call_command("search_index", "repair", "--kind", "organization", stdout=out)
    assert "repaired 3 document(s)" in out.getvalue()
    assert lifecycle.DriftChecker(ORGANIZATIONS).check().ok


def test_commands_report_status_and_rebuild_with_progress(search_world: SearchWorld) -> None:
    out = StringIO()
    call_command("search_index", "status", stdout=out)
    assert f"{ORGANIZATIONS.alias} -> {ORGANIZATIONS.alias}-" in out.getvalue()
    assert "5 documents, 0 pending change(s)" in out.getvalue()
    out = StringIO()
    call_command("search_index", "rebuild", "--kind", "organization", stdout=out)
    text = out.getvalue()
    assert "docs/s" in text
    assert "organization: 5 documents into" in text
    assert re.search(r"live after \d+\.\ds \(\d+ docs/s\), done in \d+\.\ds", text), text
    out = StringIO()
    call_command("search_index", "ensure", stdout=out)
    assert "ready" in out.getvalue()


def test_deep_pagination_beyond_ten_thousand(search_world: SearchWorld) -> None:
    # given 10,100 small documents, bulk-loaded as the benchmark does (plain dicts, no database)
    total = 10_100
    now = datetime.now(UTC).isoformat()
    docs: Any = (
        {
            "org_id": 100_000 + i,
            "name": f"Org {i:05d}",
            "legal_name": f"Org {i:05d}",
            "name_sort": f"org {i:05d}",
            "access": ["all"],
            "kind": "sme",
            "updated_at": now,
            "version": 1,
        }
        for i in range(total)
    )
    report = lifecycle.Rebuilder(ORGANIZATIONS).rebuild(docs, chunk_size=5000, grace_seconds=0)
    assert report.indexed == total
    superuser = search_world.superuser
    # when walking every page with the cursor
    seen = 0
    last = ""
    cursor = None
    pages = 0
    while True:
        page = queries.search_organizations(
            superuser, sort="name", size=queries.MAX_PAGE_SIZE, cursor=cursor, facets=False
        )
        assert page.total == total
        for hit in page.hits:
            assert hit.name > last
            last = hit.name
        seen += len(page.hits)
        pages += 1
        cursor = page.next_cursor
        if cursor is None or not page.hits:
            break
    # then every document came exactly once, past the 10,000 window
    assert seen == total
    assert pages == total // queries.MAX_PAGE_SIZE + 1


def test_ensure_rebuilds_when_the_index_definition_changed(search_world: SearchWorld) -> None:
    # given an index built from the current definition: ensure leaves it alone
    assert lifecycle.ensure(ORGANIZATIONS) is None
    # when the live index carries another definition (older mapping or synonyms)
    get_client().indices.put_mapping(index=ORGANIZATIONS.alias, meta={"definition": "older"})
    report = lifecycle.ensure(ORGANIZATIONS)
    # then it is rebuilt behind the alias
    assert report is not None
    assert report.indexed == 5
    assert lifecycle.live_definition_hash(ORGANIZATIONS) == lifecycle.definition_hash(ORGANIZATIONS)


@pytest.mark.parametrize("threads", [1, 2])
def test_bulk_loads_collect_young_objects_in_larger_batches(search_world: SearchWorld, threads: int) -> None:
    # given the collector's thresholds before a rebuild, and documents that note them as they are read
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []

    def documents() -> Iterator[dict[str, Any]]:
        for document in indexing.documents_from_database(ORGANIZATIONS):
            seen.append(gc.get_threshold())
            yield document

    # when rebuilding from them
    report = lifecycle.Rebuilder(ORGANIZATIONS).rebuild(documents(), threads=threads, grace_seconds=0)

    # then the youngest generation was collected less often while loading, and the thresholds are back
    assert report.indexed == len(seen) > 0
    assert {threshold[0] for threshold in seen} == {50_000}
    assert gc.get_threshold() == before
