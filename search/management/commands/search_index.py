"""`manage.py search_index <action>`: the index's life from the command line.

create   new empty index behind the alias if the alias is missing
ensure   create and fill the index if missing, then apply pending changes
rebuild  zero-downtime rebuild: new index, bulk load, atomic alias swap
status   alias -> index, document counts, pending outbox rows
check    database vs index: missing, stale (version) and extra documents
repair   check, then fix what differs
sync     apply pending outbox rows once; with --watch, keep doing it (the worker)
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from search import indexing, lifecycle
from search.indexing import SPECS, IndexSpec


class Progress:
    """Prints count, rate and ETA about once a second on long runs."""

    def __init__(self, out: Any, label: str, total: int | None) -> None:
        self.out = out
        self.label = label
        self.total = total
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last < 1.0 and done != self.total:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        line = f"  {self.label}: {done:,}"
        if self.total:
            remaining = (self.total - done) / rate if rate > 0 else 0
            line += f"/{self.total:,} ({100 * done / self.total:.0f}%), ETA {remaining:.0f}s"
        self.out.write(f"{line}, {rate:,.0f} docs/s")


class Command(BaseCommand):
    help = "Create, rebuild, check, repair and follow the search indices."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "ensure", "rebuild", "status", "check", "repair", "sync"])
        parser.add_argument(
            "--kind", choices=sorted(SPECS), action="append", help="Only this index (repeatable); default: all."
        )
        parser.add_argument("--watch", action="store_true", help="sync: keep applying pending changes (worker).")
        parser.add_argument("--interval", type=float, default=2.0, help="sync --watch: seconds between polls.")
        parser.add_argument("--max-backoff", type=float, default=60.0, help="sync --watch: longest wait after errors.")
        parser.add_argument("--keep-old", action="store_true", help="rebuild: keep the previous index.")

    def handle(self, *args: Any, **options: Any) -> None:
        specs = [SPECS[kind] for kind in (options["kind"] or SPECS)]
        action = options["action"]
        try:
            if action == "sync":
                self.do_sync(specs, watch=options["watch"], interval=options["interval"], cap=options["max_backoff"])
                return
            for spec in specs:
                getattr(self, f"do_{action}")(spec, **options)
        except indexing.UNAVAILABLE_ERRORS as exc:
            raise CommandError(f"Elasticsearch is not reachable: {exc}") from exc

    # --- actions ---------------------------------------------------------------------

    def do_create(self, spec: IndexSpec, **options: Any) -> None:
        if lifecycle.aliased_indices(spec.alias):
            self.stdout.write(f"{spec.alias}: exists ({', '.join(lifecycle.aliased_indices(spec.alias))})")
            return
        name = lifecycle.IndexCreator(spec).create()
        lifecycle.AliasSwapper(spec).swap(name)
        self.stdout.write(self.style.SUCCESS(f"{spec.alias} -> {name} (empty; run `search_index rebuild` to fill)"))

    def do_ensure(self, spec: IndexSpec, **options: Any) -> None:
        report = lifecycle.ensure(spec, progress=Progress(self.stdout, spec.kind, None))
        if report is not None:
            self._rebuilt(report)
        result = indexing.flush(spec.kind)
        self.stdout.write(
            f"{spec.alias}: ready; {result.applied} pending change(s) applied, {result.failed} still pending"
        )

    def do_rebuild(self, spec: IndexSpec, **options: Any) -> None:
        total = len(spec.source_ids())
        self.stdout.write(f"Rebuilding {spec.alias} from the database ({total:,} candidates)…")
        report = lifecycle.Rebuilder(spec).rebuild(
            progress=Progress(self.stdout, spec.kind, total), keep_old=options["keep_old"]
        )
        self._rebuilt(report)

    def _rebuilt(self, report: lifecycle.RebuildReport) -> None:
        for error in report.errors:
            self.stderr.write(f"  error: {error}")
        style = self.style.SUCCESS if not report.errors else self.style.WARNING
        removed = f", removed {', '.join(report.removed)}" if report.removed else ""
        self.stdout.write(
            style(
                f"{report.kind}: {report.indexed:,} documents into {report.index}, live after "
                f"{report.live_seconds:.1f}s ({report.rate:,.0f} docs/s), done in {report.seconds:.1f}s, "
                f"{len(report.errors)} error(s), "
                f"{report.replayed} change(s) replayed{removed}"
            )
        )

    def do_status(self, spec: IndexSpec, **options: Any) -> None:
        state = lifecycle.status(spec)
        target = ", ".join(state.indices) or "MISSING (run `search_index ensure`)"
        building = f", rebuild in progress into {', '.join(state.building)}" if state.building else ""
        documents = "-" if state.documents is None else f"{state.documents:,}"
        self.stdout.write(
            f"{state.alias} -> {target}: {documents} documents, {state.pending} pending change(s){building}"
        )

    def do_check(self, spec: IndexSpec, **options: Any) -> None:
        report = lifecycle.DriftChecker(spec).check()
        self._print_drift(report)
        if not report.ok:
            sys.exit(1)

    def _print_drift(self, report: lifecycle.DriftReport) -> None:
        for label, ids in (("missing", report.missing), ("stale", report.stale), ("extra", report.extra)):
            if ids:
                shown = ", ".join(str(i) for i in ids[:20]) + (" …" if len(ids) > 20 else "")
                self.stdout.write(f"  {label}: {shown}")
        style = self.style.SUCCESS if report.ok else self.style.WARNING
        self.stdout.write(style(report.summary()))

    def do_repair(self, spec: IndexSpec, **options: Any) -> None:
        report = lifecycle.DriftChecker(spec).check()
        self._print_drift(report)
        if report.ok:
            return
        fixed = lifecycle.Repairer(spec).repair(report)
        after = lifecycle.DriftChecker(spec).check()
        style = self.style.SUCCESS if after.ok else self.style.ERROR
        self.stdout.write(style(f"{spec.kind}: repaired {fixed} document(s); now {after.summary()}"))
        if not after.ok:
            sys.exit(1)

    def do_sync(self, specs: list[IndexSpec], *, watch: bool, interval: float, cap: float) -> None:
        kinds = [spec.kind for spec in specs]
        if not watch:
            results = indexing.sync(kinds)
            applied = sum(r.applied for r in results.values())
            failed = sum(r.failed for r in results.values())
            self.stdout.write(f"sync: {applied} change(s) applied, {failed} still pending")
            if failed:
                sys.exit(1)
            return
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"search worker: applying pending index changes every {interval:g}s (Ctrl-C stops)")
        delay = interval
        while not stopping:
            try:
                results = indexing.sync(kinds)
                unavailable = any(r.unavailable for r in results.values())
                applied = sum(r.applied for r in results.values())
                if applied:
                    self.stdout.write(f"applied {applied} change(s)")
            except Exception as exc:  # the worker must outlive a database or network hiccup
                self.stderr.write(f"sync failed: {exc}")
                unavailable = True
            # Exponential backoff while Elasticsearch is away, back to the poll interval once it answers.
            delay = min(cap, delay * 2) if unavailable else interval
            waited = 0.0
            while waited < delay and not stopping:
                time.sleep(min(0.2, delay - waited))
                waited += 0.2
        self.stdout.write("search worker stopped")
