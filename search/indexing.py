"""How the index follows the database: a transactional outbox, flushed after commit.

1. `matchmaking` sends `organizations_changed` / `calls_changed` inside the
   transaction that changed the data. `record_changes` upserts one
   `PendingIndexChange` row per object in that same transaction (so the note
   commits or rolls back with the change) and schedules `flush` with
   `transaction.on_commit`: nothing touches the network while the
   transaction is open, and a rolled-back change leaves no trace.
2. `flush` reads the *current* database state of the pending objects (never
   the state carried by the signal), writes it with external versioning
   (`version_type=external_gte`, version = `Organization.version`), so an older
   state that arrives late loses to a newer one, and deletes the rows whose
   token has not changed meanwhile.
3. When Elasticsearch is unreachable the flush logs a warning, counts the
   attempt on the rows and returns: the request that changed the database
   succeeds. `manage.py search_index sync` (once, or `--watch` as a worker) and
   the next successful flush apply what is pending.

Flushes refresh the index (`refresh=True`) before returning: a profile made
private, or a member who lapses, must vanish from other people's results as
soon as the change is saved. `wait_for` would do the same at up to one
refresh interval of latency per request, and would block indefinitely on an
index whose refresh is disabled (as during a bulk load). These writes are
human-paced and small, so the cost of an explicit refresh is negligible;
bulk loads use their own path without it.

During a rebuild the new index is reachable through a second alias
(`<alias>-building`); flushes write to both, so a change made while the
bulk load runs reaches the new index whatever the order (versions decide).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, cast

import orjson
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch import ConnectionError as ESConnectionError
from elasticsearch.helpers import streaming_bulk

from search import documents
from search.client import LocalNodeNotRunning, get_client, index_name
from search.models import IndexKind, PendingIndexChange

logger = logging.getLogger(__name__)

# Errors that mean "Elasticsearch is not there right now": keep the rows, retry later.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    ESConnectionError,
    TransportError,
    LocalNodeNotRunning,
    ApiError,
)
FLUSH_BATCH = 500
# Flushes run in the request that saved the change: when Elasticsearch hangs instead of
# refusing, the user waits at most this long (the change stays pending, nothing is lost).
FLUSH_REQUEST_TIMEOUT = 5.0


# --- What is indexed, per kind --------------------------------------------------


@dataclass(frozen=True)
class IndexSpec:
    """One logical index: its alias, mapping, and how to read its documents from the database."""

    kind: str
    base: str
    mapping: dict[str, Any]
    actions: Callable[[Iterable[int]], Iterator[documents.DocumentAction]]
    source_ids: Callable[[], list[int]]
    id_field: str

    @property
    def alias(self) -> str:
        return index_name(self.base)

    @property
    def building_alias(self) -> str:
        return f"{self.alias}-building"

    def new_index_name(self) -> str:
        return f"{self.alias}-{timezone.now():%Y%m%d%H%M%S%f}"


ORGANIZATIONS = IndexSpec(
    kind=IndexKind.ORGANIZATION,
    base="organizations",
    mapping=documents.ORGANIZATION_MAPPING,
    actions=documents.organization_actions,
    source_ids=documents.listed_organization_ids,
    id_field="org_id",
)
CALLS = IndexSpec(
    kind=IndexKind.CALL,
    base="calls",
    mapping=documents.CALL_MAPPING,
    actions=documents.call_actions,
    source_ids=documents.all_call_ids,
    id_field="call_id",
)
SPECS: dict[str, IndexSpec] = {spec.kind: spec for spec in (ORGANIZATIONS, CALLS)}


# --- Signal receivers: the outbox -------------------------------------------------


def record_changes(kind: str, object_ids: Iterable[Any]) -> None:
    """Note durably, in the caller's transaction, that these objects' index entries must be refreshed."""
    ids = sorted({int(i) for i in object_ids if i is not None})
    if not ids:
        return
    PendingIndexChange.objects.bulk_create(
        [PendingIndexChange(kind=kind, object_id=i, token=uuid.uuid4()) for i in ids],
        update_conflicts=True,
        unique_fields=["kind", "object_id"],
        update_fields=["token"],
    )
    transaction.on_commit(partial(flush_after_commit, kind, ids))


def on_organizations_changed(sender: Any, organization_ids: Iterable[Any] = (), **kwargs: Any) -> None:
    record_changes(IndexKind.ORGANIZATION, organization_ids)


def on_calls_changed(sender: Any, call_ids: Iterable[Any] = (), **kwargs: Any) -> None:
    record_changes(IndexKind.CALL, call_ids)


BACKLOG_BATCH = 100
BACKLOG_AGE_SECONDS = 30


def flush_after_commit(kind: str, ids: list[int]) -> None:
    """The on-commit half: never raises, because the database change it follows is already committed.

    When Elasticsearch answers again, a small batch of older pending changes rides along, so
    a deployment without the worker still catches up; changes younger than
    `BACKLOG_AGE_SECONDS` are left to their own flush.
    """
    try:
        result = flush(kind, ids)
        if not result.unavailable:
            flush_backlog(kind)
    except Exception:
        logger.exception("Search index flush failed; the changes stay in the outbox for `search_index sync`.")


def flush_backlog(kind: str, limit: int = BACKLOG_BATCH) -> FlushResult:
    cutoff = timezone.now() - timedelta(seconds=BACKLOG_AGE_SECONDS)
    old = (
        PendingIndexChange.objects.filter(kind=kind)
        .filter(Q(last_attempt_at__lt=cutoff) | Q(last_attempt_at__isnull=True, created_at__lt=cutoff))
        .order_by("pk")
        .values_list("object_id", flat=True)[:limit]
    )
    ids = list(old)
    return flush(kind, ids) if ids else FlushResult()


# --- Writing to the index -----------------------------------------------------------


@dataclass
class FlushResult:
    applied: int = 0
    failed: int = 0
    errors: dict[int, str] = field(default_factory=dict)
    unavailable: bool = False


def _write_client() -> Elasticsearch:
    return get_client().options(request_timeout=FLUSH_REQUEST_TIMEOUT, max_retries=0)


def _operations(spec: IndexSpec, action: documents.DocumentAction, targets: list[str]) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for target in targets:
        meta: dict[str, Any] = {"_index": target, "_id": str(action.object_id)}
        if action.document is not None:
            meta.update(version=action.version, version_type="external_gte")
            ops += [{"index": meta}, action.document]
        else:
            if action.version > 0:
                meta.update(version=action.version, version_type="external_gte")
            ops.append({"delete": meta})
    return ops


def _item_error(item: dict[str, Any], primary: str) -> str | None:
    """None when the item reached the state we wanted; else a short reason."""
    (op, result), *_ = item.items()
    status = int(result.get("status", 500))
    if status < 300:
        return None
    error = result.get("error") or {}
    error_type = error.get("type", "") if isinstance(error, dict) else str(error)
    if status == 409 and error_type == "version_conflict_engine_exception":
        return None  # a newer state is already there
    if op == "delete" and status == 404 and error_type in {"", "not_found"}:
        return None  # already absent
    if status == 404 and error_type == "index_not_found_exception" and result.get("_index") != primary:
        return None  # no rebuild in progress
    reason = error.get("reason", "") if isinstance(error, dict) else ""
    return f"{status} {error_type}: {reason}"[:500]


def apply_actions(spec: IndexSpec, actions: list[documents.DocumentAction], *, refresh: bool = True) -> dict[int, str]:
    """Write these states to the live alias (and to an index being built); returns errors by object id.

    `require_alias` keeps a write from auto-creating an index named like the
    alias when the index is missing; the missing index is then reported as an
    error and the rows stay pending.
    """
    if not actions:
        return {}
    targets = [spec.alias, spec.building_alias]
    operations: list[dict[str, Any]] = []
    owners: list[int] = []
    for action in actions:
        ops = _operations(spec, action, targets)
        operations += ops
        for op in ops:
            if "index" in op or "delete" in op:
                owners.append(action.object_id)
    response = _write_client().bulk(operations=operations, refresh=refresh, require_alias=True)
    errors: dict[int, str] = {}
    for owner, item in zip(owners, response["items"], strict=True):
        problem = _item_error(item, spec.alias)
        if problem is not None:
            errors.setdefault(owner, problem)
    return errors


def flush(kind: str, ids: Iterable[int] | None = None, *, batch_size: int = FLUSH_BATCH) -> FlushResult:
    """Apply pending changes of one kind (only `ids`, or all) to the index; see the module docstring."""
    spec = SPECS[kind]
    result = FlushResult()
    pending = PendingIndexChange.objects.filter(kind=kind)
    if ids is not None:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return result
        pending = pending.filter(object_id__in=wanted)
    last_pk = 0
    while True:
        rows: list[dict[str, Any]] = [
            dict(row)
            for row in pending.filter(pk__gt=last_pk).order_by("pk").values("pk", "object_id", "token")[:batch_size]
        ]
        if not rows:
            return result
        last_pk = rows[-1]["pk"]
        try:
            actions = list(spec.actions([row["object_id"] for row in rows]))
            errors = apply_actions(spec, actions)
        except UNAVAILABLE_ERRORS as exc:
            message = f"{type(exc).__name__}: {exc}"[:500]
            _log_unavailable("Elasticsearch unavailable, %d %s change(s) kept pending: %s", len(rows), kind, message)
            _mark_failed(rows, {row["object_id"]: message for row in rows})
            result.failed += len(rows)
            result.unavailable = True
            return result
        done = [row for row in rows if row["object_id"] not in errors]
        _delete_unchanged(done)
        result.applied += len(done)
        result.failed += len(errors)
        result.errors.update(errors)
        if errors:
            first = next(iter(errors.values()))
            logger.warning("Index rejected %d %s change(s): %s", len(errors), kind, first)
            _mark_failed([row for row in rows if row["object_id"] in errors], errors)
            if "index_not_found" in first:
                # The alias itself is missing (run `search_index ensure`): like an outage, stop here.
                result.unavailable = True
                return result


_last_unavailable_warning = 0.0
UNAVAILABLE_WARNING_INTERVAL = 60.0


def _log_unavailable(message: str, *args: Any) -> None:
    """A warning per minute at most: a batch job writing while the node is down would flood the log."""
    global _last_unavailable_warning
    now = time.monotonic()
    level = logging.DEBUG
    if now - _last_unavailable_warning >= UNAVAILABLE_WARNING_INTERVAL:
        _last_unavailable_warning = now
        level = logging.WARNING
    logger.log(level, message, *args)


def _delete_unchanged(rows: list[dict[str, Any]]) -> None:
    """Delete rows unless the object changed again since we read them (their token moved on)."""
    if not rows:
        return
    condition = Q()
    for row in rows:
        condition |= Q(pk=row["pk"], token=row["token"])
    PendingIndexChange.objects.filter(condition).delete()


def _mark_failed(rows: list[dict[str, Any]], errors: dict[int, str]) -> None:
    now = timezone.now()
    for row in rows:
        PendingIndexChange.objects.filter(pk=row["pk"]).update(
            attempts=F("attempts") + 1, last_error=errors.get(row["object_id"], ""), last_attempt_at=now
        )


def sync(kinds: Iterable[str] | None = None) -> dict[str, FlushResult]:
    """Apply everything pending (the worker's unit of work)."""
    return {kind: flush(kind) for kind in (kinds or SPECS)}


def pending_counts() -> dict[str, int]:
    return {kind: PendingIndexChange.objects.filter(kind=kind).count() for kind in SPECS}


# --- Bulk loading (rebuilds and the benchmark) -------------------------------------


def bulk_actions(spec: IndexSpec, index: str, docs: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in docs:
        object_id = doc[spec.id_field]
        yield {
            "_index": index,
            "_id": str(object_id),
            "version": int(doc.get("version") or 1),
            "version_type": "external_gte",
            "_source": doc,
        }


def ndjson_body(spec: IndexSpec, index: str, docs: list[dict[str, Any]]) -> bytes:
    """A `_bulk` request body indexing `docs` (external versions: an older state never wins)."""
    lines: list[bytes] = []
    for doc in docs:
        action = {"_index": index, "_id": str(doc[spec.id_field]), "version": int(doc.get("version") or 1)}
        lines.append(orjson.dumps({"index": {**action, "version_type": "external_gte"}}))
        lines.append(orjson.dumps(doc))
    lines.append(b"")
    return b"\n".join(lines)


def _bulk_errors(body: dict[str, Any]) -> list[str]:
    """Failed items of a bulk response filtered to its errors; a version conflict is not one
    (the index already holds that state or a newer one)."""
    out: list[str] = []
    for item in body.get("items", []):
        for detail in item.values():
            error = detail.get("error")
            if error and error.get("type") != "version_conflict_engine_exception":
                out.append(str(error)[:300])
    return out


def documents_from_database(spec: IndexSpec, ids: Iterable[int] | None = None) -> Iterator[dict[str, Any]]:
    """Documents of every indexable object (in id order), read from the database in chunks."""
    for action in spec.actions(spec.source_ids() if ids is None else ids):
        if action.document is not None:
            yield action.document


@contextlib.contextmanager
def fewer_young_collections(threshold: int = 50_000) -> Iterator[None]:
    """Collect the youngest generation every `threshold` allocations instead of Python's 700.

    A document is dozens of new lists, dicts and tuples: at 700, the collector ran every few
    documents and traversed the batches in flight each time, a sixth of a rebuild's Python
    time (150 against 123 µs per document, 4 % more documents per second). Reference
    cycles are still collected, in larger batches.
    """
    previous = gc.get_threshold()
    gc.set_threshold(threshold, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@fewer_young_collections()
def bulk_index_documents(
    docs: Iterable[dict[str, Any]],
    *,
    spec: IndexSpec = ORGANIZATIONS,
    index: str | None = None,
    chunk_size: int = 2000,
    threads: int = 2,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, list[str]]:
    """Index plain documents (as `documents.organization_document` builds them) into `index` (default: the alias).

    Returns (indexed count, errors). Version conflicts count as indexed: the
    index already holds that state or a newer one. Used by rebuilds and by the
    benchmark, which feeds generated documents without a database.
    """
    client = get_client().options(request_timeout=120.0)
    target = index or spec.alias
    indexed = 0
    errors: list[str] = []

    def record(results: Iterable[tuple[bool, Any]], report: bool = True) -> None:
        nonlocal indexed
        for ok, item in results:
            if ok:
                indexed += 1
            else:
                (_op, detail), *_ = item.items()
                if int(detail.get("status", 0)) == 409:
                    indexed += 1  # that state or a newer one is already there
                elif len(errors) < 20:
                    errors.append(str(detail.get("error"))[:300])
            if report and progress is not None:
                progress(indexed)

    if threads <= 1:
        actions = bulk_actions(spec, target, docs)
        record(streaming_bulk(client, actions, chunk_size=chunk_size, raise_on_error=False, max_retries=2))
        return indexed, errors
    # Documents are read and serialised here, in the calling thread (a database connection
    # must not wander into a worker thread), while sender threads post the previous bodies:
    # reading and indexing overlap, and the bounded queue keeps memory flat. Bodies are
    # NDJSON bytes made with orjson, and only errors come back (`filter_path`): the generic
    # bulk helpers' per-action bookkeeping was a third of a rebuild's Python time.
    bodies: queue.Queue[tuple[int, bytes] | None] = queue.Queue(maxsize=threads + 1)
    failure: list[BaseException] = []
    lock = threading.Lock()

    def send() -> None:
        nonlocal indexed
        while (item := bodies.get()) is not None:
            if failure:
                continue  # drain: the reader stops at its next batch
            count, body = item
            try:
                # The client sends pre-encoded NDJSON as is (its stubs only name the list form).
                response = client.bulk(operations=cast(Any, body), filter_path="errors,items.*.error")
            except BaseException as exc:
                failure.append(exc)
                continue
            failed = _bulk_errors(response.body) if response.body.get("errors") else []
            with lock:
                indexed += count - len(failed)
                errors.extend(failed[: max(0, 20 - len(errors))])

    senders = [threading.Thread(target=send, name=f"search-bulk-{i}", daemon=True) for i in range(threads)]
    for sender in senders:
        sender.start()
    iterator = iter(docs)
    try:
        while not failure and (batch := list(itertools.islice(iterator, chunk_size))):
            bodies.put((len(batch), ndjson_body(spec, target, batch)))
            if progress is not None:
                progress(indexed)
    finally:
        for _sender in senders:
            bodies.put(None)
        for sender in senders:
            sender.join()
    if failure:
        raise failure[0]
    if progress is not None:
        progress(indexed)
    return indexed, errors
