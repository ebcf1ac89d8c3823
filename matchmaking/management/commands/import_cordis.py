"""manage.py import_cordis: load EU track records (CORDIS) and link them to members by PIC."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matchmaking import cordis
from matchmaking.services.cordis import import_cordis


class _Progress:
    """Count, rate and ETA, at most once a second (and at the end)."""

    def __init__(self, command: BaseCommand, label: str) -> None:
        self.command, self.label = command, label
        self.started = self.last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 1.0:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate else 0.0
        percent = 100.0 * done / total if total else 100.0
        self.command.stdout.write(f"  {self.label}: {done:,}/{total:,} ({percent:.0f}%) {rate:,.0f}/s ETA {eta:.0f}s")


class Command(BaseCommand):
    help = (
        "Import EU projects and participations from CORDIS files (H2020 participation graph, "
        "Horizon Europe export in comma or semicolon form, Horizon Europe NZ data.json) and link "
        "them to member organizations by PIC. Idempotent: re-running updates in place."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data-dir", type=Path, help="Directory holding the CORDIS files (default: settings.CORDIS_DATA_DIR)."
        )
        parser.add_argument("--h2020", type=Path, help="H2020 participations CSV (.csv or .csv.gz).")
        parser.add_argument("--programme-parts", type=Path, help="H2020 programme parts CSV (rcn, programme_part).")
        parser.add_argument(
            "--horizon-europe", type=Path, help="Directory of a Horizon Europe export (organization.csv, project.csv)."
        )
        parser.add_argument("--nz", type=Path, help="Horizon Europe NZ compilation (data.json).")
        parser.add_argument("--limit", type=int, help="Read only the first N rows (projects for JSON) of each file.")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        base: Path = options["data_dir"] or cordis.data_dir()
        explicit = any(options[name] for name in ("h2020", "programme_parts", "horizon_europe", "nz"))
        # Named files only when any is given; otherwise every default file that exists.
        h2020 = options["h2020"] or (None if explicit else base / cordis.H2020_PARTICIPATIONS)
        parts = options["programme_parts"] or (None if explicit else base / cordis.H2020_PROGRAMME_PARTS)
        horizon = options["horizon_europe"] or (None if explicit else base / cordis.HORIZON_EUROPE_SAMPLE)
        nz = options["nz"] or (None if explicit else base / cordis.HORIZON_EUROPE_NZ)
        limit: int | None = options["limit"]
        if options["batch_size"] < 1 or (limit is not None and limit < 1):
            raise CommandError("--batch-size and --limit must be positive")

        for path in (p for p in (h2020, parts, horizon, nz) if p is not None and explicit):
            if not path.exists():
                raise CommandError(f"{path} does not exist")
        if not explicit and not base.exists():
            raise CommandError(f"CORDIS data directory {base} does not exist (set CORDIS_DATA_DIR or pass files)")

        batch = cordis.CordisBatch()
        started = time.monotonic()
        try:
            if h2020 is not None and h2020.exists():
                self.stdout.write(f"Reading {h2020}")
                batch.extend(cordis.read_h2020(h2020, parts if parts and parts.exists() else None, limit=limit))
            if horizon is not None and horizon.exists():
                self.stdout.write(f"Reading {horizon}")
                batch.extend(cordis.read_horizon_europe_export(horizon, limit=limit))
            if nz is not None and nz.exists():
                self.stdout.write(f"Reading {nz}")
                batch.extend(cordis.read_horizon_europe_nz(nz, limit=limit))
        except (cordis.CordisFormatError, OSError, UnicodeDecodeError) as exc:
            raise CommandError(str(exc)) from exc
        if not batch.participations:
            raise CommandError("No participations found in the given files")
        self.stdout.write(
            f"Read {len(batch.projects):,} projects and {len(batch.participations):,} participations "
            f"in {time.monotonic() - started:.1f}s; writing"
        )

        result = import_cordis(batch, batch_size=options["batch_size"], progress=_Progress(self, "participations"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.projects:,} projects and {result.participations:,} participations "
                f"({batch.skipped:,} rows skipped) in {result.seconds:.1f}s ({result.rate:,.0f}/s); "
                f"{result.linked_participations:,} linked to members, "
                f"{len(result.changed_organization_ids):,} members' track records changed"
            )
        )
