"""The life of an index: versioned physical indices behind an alias, one small class per role.

- `IndexCreator` creates a physical index `<alias>-<timestamp>` with the
  analysis settings and mapping.
- `Rebuilder` builds a complete new index beside the live one and swaps the
  alias atomically: searches never see a missing or half-filled index.
- `DriftChecker` compares the database with the index (ids and versions);
  `Repairer` applies the difference.
- `status` describes what is there.

Changes made while a rebuild runs are not lost: the new index is reachable as
`<alias>-building` for the whole load and `search.indexing.flush` writes to
both aliases (versions decide the order); after the swap the outbox is
replayed against the new index.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from elasticsearch import Elasticsearch, NotFoundError
from elasticsearch.helpers import scan

from search import analysis, indexing
from search.client import get_client
from search.indexing import IndexSpec

ProgressCallback = Callable[[int], None]


def _client(timeout: float = 120.0) -> Elasticsearch:
    return get_client().options(request_timeout=timeout)


def replicas() -> int:
    return int(getattr(settings, "ELASTICSEARCH_NUMBER_OF_REPLICAS", 0))


def aliased_indices(alias: str) -> list[str]:
    """Physical indices behind an alias (empty when the alias does not exist)."""
    try:
        return sorted(_client().indices.get_alias(name=alias).body)
    except NotFoundError:
        return []


class IndexCreator:
    """Creates physical indices with the project's analysis and mapping."""

    def __init__(self, spec: IndexSpec) -> None:
        self.spec = spec

    def body(self, *, loading: bool) -> dict[str, Any]:
        index_settings: dict[str, Any] = {
            "number_of_shards": 1,
            "number_of_replicas": 0 if loading else replicas(),
            "max_result_window": 10_000,
            **analysis.index_settings(),
        }
        if loading:
            # No refreshes while bulk loading: segments are built once at the end. The
            # translog is not synced per bulk request: a crash mid-load loses only an index
            # nobody reads yet (the rebuild fails and the live alias keeps the old one).
            index_settings["refresh_interval"] = "-1"
            index_settings["translog"] = {"durability": "async", "flush_threshold_size": "1gb"}
        mappings = {**self.spec.mapping, "_meta": {"definition": definition_hash(self.spec)}}
        return {"settings": index_settings, "mappings": mappings}

    def create(self, *, loading: bool = False) -> str:
        name = self.spec.new_index_name()
        analysis.check_plugin(_client())
        _client().indices.create(index=name, **self.body(loading=loading))
        return name

    def finish_loading(self, name: str) -> None:
        client = _client()
        client.indices.put_settings(
            index=name,
            settings={
                "index": {
                    "refresh_interval": None,
                    "number_of_replicas": replicas(),
                    "translog": {"durability": "request", "flush_threshold_size": None},
                }
            },
        )
        client.indices.refresh(index=name)
        client.cluster.health(index=name, wait_for_status="yellow", timeout="60s")


@dataclass
class RebuildReport:
    kind: str
    index: str
    indexed: int
    live_seconds: float  # until searches read the new index (alias swapped, changes replayed)
    seconds: float  # the whole rebuild, the grace before the old index is deleted included
    errors: list[str] = field(default_factory=list)
    replayed: int = 0
    removed: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Documents per second until the new index was live (the grace after it is idle time)."""
        return self.indexed / self.live_seconds if self.live_seconds > 0 else 0.0


class AliasSwapper:
    """Points the alias at a new index in one atomic `update_aliases` call."""

    def __init__(self, spec: IndexSpec) -> None:
        self.spec = spec

    def point_building_alias(self, name: str) -> None:
        actions: list[dict[str, Any]] = [
            {"remove": {"index": old, "alias": self.spec.building_alias}}
            for old in aliased_indices(self.spec.building_alias)
        ]
        actions.append({"add": {"index": name, "alias": self.spec.building_alias}})
        _client().indices.update_aliases(actions=actions)

    def swap(self, name: str) -> list[str]:
        """Live alias -> `name`; the building alias is dropped in the same step. Returns the old indices."""
        client = _client()
        old = [index for index in aliased_indices(self.spec.alias) if index != name]
        actions: list[dict[str, Any]] = [{"remove": {"index": index, "alias": self.spec.alias}} for index in old]
        if not old and client.indices.exists(index=self.spec.alias) and not aliased_indices(self.spec.alias):
            # A concrete index squats the alias's name (e.g. created by a stray write): replace it atomically.
            actions.append({"remove_index": {"index": self.spec.alias}})
        actions += [
            {"remove": {"index": index, "alias": self.spec.building_alias}}
            for index in aliased_indices(self.spec.building_alias)
        ]
        actions.append({"add": {"index": name, "alias": self.spec.alias, "is_write_index": True}})
        client.indices.update_aliases(actions=actions)
        return old


class Rebuilder:
    """New index, bulk load, atomic alias swap, outbox replay, old index deleted."""

    def __init__(self, spec: IndexSpec) -> None:
        self.spec = spec
        self.creator = IndexCreator(spec)
        self.swapper = AliasSwapper(spec)

    def rebuild(
        self,
        docs: Iterable[dict[str, Any]] | None = None,
        *,
        progress: ProgressCallback | None = None,
        chunk_size: int = 2000,
        threads: int = 2,
        keep_old: bool = False,
        grace_seconds: float = 1.0,
    ) -> RebuildReport:
        """`grace_seconds`: searches that resolved the alias just before the swap still run on
        the old index; it is deleted only after they had time to finish."""
        started = time.perf_counter()
        name = self.creator.create(loading=True)
        try:
            # The building alias exists before the first row is read, so every
            # change committed after that point is also flushed into the new index.
            self.swapper.point_building_alias(name)
            source = docs if docs is not None else indexing.documents_from_database(self.spec)
            indexed, errors = indexing.bulk_index_documents(
                source, spec=self.spec, index=name, chunk_size=chunk_size, threads=threads, progress=progress
            )
            self.creator.finish_loading(name)
        except BaseException:
            _client().indices.delete(index=name, ignore_unavailable=True)
            raise
        old = self.swapper.swap(name)
        replayed = indexing.flush(self.spec.kind).applied if docs is None else 0
        live_seconds = time.perf_counter() - started
        if not keep_old and old:
            time.sleep(grace_seconds)
            for index in old:
                _client().indices.delete(index=index, ignore_unavailable=True)
        return RebuildReport(
            kind=self.spec.kind,
            index=name,
            indexed=indexed,
            live_seconds=live_seconds,
            seconds=time.perf_counter() - started,
            errors=errors,
            replayed=replayed,
            removed=[] if keep_old else old,
        )


def definition_hash(spec: IndexSpec) -> str:
    """Fingerprint of the mapping and analysis settings (synonyms included), stored in the index's `_meta`."""
    raw = json.dumps([spec.mapping, analysis.index_settings()], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def live_definition_hash(spec: IndexSpec) -> str | None:
    try:
        mappings = _client().indices.get_mapping(index=spec.alias).body
    except NotFoundError:
        return None
    for index in mappings.values():
        meta = index.get("mappings", {}).get("_meta") or {}
        return str(meta.get("definition")) if meta.get("definition") else None
    return None


def ensure(spec: IndexSpec, *, progress: ProgressCallback | None = None) -> RebuildReport | None:
    """Create and fill the index when its alias is missing, or rebuild it (without downtime) when
    its mapping or analysis settings (e.g. the synonyms of the taxonomy) changed; otherwise leave it."""
    if aliased_indices(spec.alias) and live_definition_hash(spec) == definition_hash(spec):
        return None
    return Rebuilder(spec).rebuild(progress=progress)


# --- Drift ----------------------------------------------------------------------------


@dataclass
class DriftReport:
    kind: str
    database: int
    index: int
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.extra)

    def summary(self) -> str:
        return (
            f"{self.kind}: database {self.database}, index {self.index}, missing {len(self.missing)}, "
            f"stale {len(self.stale)}, extra {len(self.extra)}"
        )


class DriftChecker:
    """Database (what should be indexed, with versions) against the index (what is, with versions)."""

    def __init__(self, spec: IndexSpec) -> None:
        self.spec = spec

    def expected(self) -> dict[int, int]:
        return {
            action.object_id: action.version
            for action in self.spec.actions(self.spec.source_ids())
            if action.document is not None
        }

    def indexed(self) -> dict[int, int]:
        found: dict[int, int] = {}
        for hit in scan(
            _client(),
            index=self.spec.alias,
            query={"query": {"match_all": {}}, "_source": ["version"]},
            size=2000,
            version=True,
        ):
            found[int(hit["_id"])] = int(hit.get("_version") or hit["_source"].get("version") or 0)
        return found

    def check(self) -> DriftReport:
        expected = self.expected()
        indexed = self.indexed()
        return DriftReport(
            kind=self.spec.kind,
            database=len(expected),
            index=len(indexed),
            missing=sorted(set(expected) - set(indexed)),
            stale=sorted(i for i in expected.keys() & indexed.keys() if expected[i] != indexed[i]),
            extra=sorted(set(indexed) - set(expected)),
        )


class Repairer:
    """Applies a drift report: (re)index missing and stale documents, delete extra ones."""

    def __init__(self, spec: IndexSpec) -> None:
        self.spec = spec

    def repair(self, report: DriftReport) -> int:
        """Returns how many objects now match. A document *newer* than the database (a restored
        backup) cannot be written back with external versions: `search_index rebuild` fixes that."""
        ids = report.missing + report.stale + report.extra
        actions = list(self.spec.actions(ids))
        fixed = 0
        for start in range(0, len(actions), indexing.FLUSH_BATCH):
            batch = actions[start : start + indexing.FLUSH_BATCH]
            errors = indexing.apply_actions(self.spec, batch)
            fixed += len(batch) - len(errors)
        return fixed


# --- Status ---------------------------------------------------------------------------


@dataclass
class IndexStatus:
    kind: str
    alias: str
    indices: list[str]
    documents: int | None
    building: list[str]
    pending: int


def status(spec: IndexSpec) -> IndexStatus:
    indices = aliased_indices(spec.alias)
    count: int | None = None
    if indices:
        count = int(_client().count(index=spec.alias)["count"])
    return IndexStatus(
        kind=spec.kind,
        alias=spec.alias,
        indices=indices,
        documents=count,
        building=aliased_indices(spec.building_alias),
        pending=indexing.pending_counts().get(spec.kind, 0),
    )
