"""Import a cluster's member directory from CSV or JSON.

Usage::

    manage.py import_organizations FILE --cluster CODE [--dry-run] [--format csv|json]
                                        [--skip-invalid] [--send-invitations]

File format (CSV and JSON use the same field names):

* CSV: UTF-8 (a byte-order mark is tolerated), comma- or semicolon-separated
  (detected from the header line), one header line, one organization per line.
  List fields (`competences`, `themes`, `languages`) are `|`-separated.
* JSON: a list of objects; list fields are JSON lists of strings (a
  `|`-separated string is accepted too). Identifiers must be strings (a JSON
  number would lose leading zeros).

Fields (required: `legal_name`, `kind`, `country`; every other may be empty or absent):

==================  =====================================================================
legal_name          legal name (max. 300 characters; any script, e.g. Arabic)
acronym             short name
kind                startup, sme, midsize, large, university, research_lab, public_body, association
size_band           micro (1–9), small (10–49), medium (50–249), large (250–4,999), huge (5,000+)
country             ISO 3166-1 alpha-2 code, e.g. MA, FR
city                town
latitude/longitude  decimal degrees (dot as decimal separator)
website             http(s) URL
siren               France, 9 digits, Luhn check digit (spaces are ignored)
siret               France, 14 digits, Luhn check digit
ice                 Morocco, 15 digits with check digits
pic                 EU Participant Identification Code, 9 digits
description_fr      description in French
description_en      description in English
competences         keywords, `|`-separated in CSV
themes              shared theme codes (`manage.py shell -c "from matchmaking.taxonomy import THEME_CODES"`),
                    `|`-separated in CSV
languages           ISO 639-1 codes, e.g. fr|ar|en
visibility          everyone, partners (default), cluster
fee_tier            startup, sme, large (default: from kind and size)
contact_email       optional; an existing user with this address becomes owner of a new
                    organization, otherwise an invitation (role owner) is prepared
==================  =====================================================================

Behaviour: rows are matched to existing organizations by identifier, in the
order pic, siren, siret, ice (upsert: re-importing a file updates, it never
duplicates); a row without any identifier matches a member of the cluster
with the same legal name (case-insensitive) and country. Every imported organization gets a validated profile and an
*admitted* membership of the cluster (the file is the cluster's own
directory). Every row is validated with the model validators first; every
rejected row is reported with its line, field and reason. If any row is
rejected nothing is written, unless `--skip-invalid` is given, in which case
the valid rows are written, in one transaction. `--dry-run` validates and
reports without writing.
"""

from __future__ import annotations

import csv
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation

from matchmaking.models import (
    Cluster,
    ClusterStaff,
    FeeTier,
    Invitation,
    Membership,
    MembershipStatus,
    Organization,
    OrganizationMember,
    OrganizationRole,
    ProfileStatus,
    Theme,
    User,
)
from matchmaking.services.organizations import (
    IDENTIFIER_FIELDS,
    PROFILE_FIELDS,
    mark_organizations_changed,
    normalize_identifier,
)
from matchmaking.taxonomy import THEME_CODES, ensure_taxonomy

EXTRA_FIELDS = ("fee_tier", "contact_email")
ALL_FIELDS = frozenset(PROFILE_FIELDS + EXTRA_FIELDS)
REQUIRED_FIELDS = ("legal_name", "kind", "country")
LIST_FIELDS = frozenset({"competences", "themes", "languages"})
FLOAT_FIELDS = frozenset({"latitude", "longitude"})
NULLABLE_TEXT = frozenset(IDENTIFIER_FIELDS)
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_JSON_BYTES = 50 * 1024 * 1024  # JSON is parsed in memory
MAX_ROWS = 500_000
MAX_FIELD_CHARS = 100_000
CHUNK = 1000


@dataclass
class Rejection:
    line: int
    field: str
    reason: str


@dataclass
class Row:
    line: int
    data: dict[str, Any]
    org: Organization | None = None
    themes: list[str] = field(default_factory=list)
    fee_tier: str = ""
    contact_email: str = ""
    created: bool = False
    failed: set[str] = field(default_factory=set)  # fields already reported while reading


class Progress:
    """Counts, rate and ETA on stderr, at most every half second (a TTY gets one rewritten line)."""

    def __init__(self, stream: Any, label: str, total: int | None) -> None:
        self.stream, self.label, self.total = stream, label, total
        self.started = self.last = time.monotonic()
        self.done = self.written = 0
        self.enabled = total is None or total >= 2000
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self.last >= 0.5:
            self.last = now
            self._write(now)

    def finish(self) -> None:
        if self.enabled and self.done and self.written != self.done:
            self._write(time.monotonic(), final=True)

    def _write(self, now: float, final: bool = False) -> None:
        self.written = self.done
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed
        text = f"{self.label}: {self.done:,}"
        if self.total:
            eta = (self.total - self.done) / rate if rate else 0
            text += f"/{self.total:,} ({100 * self.done / self.total:.0f}%), {rate:,.0f} rows/s, ETA {eta:.0f}s"
        else:
            text += f" rows, {rate:,.0f} rows/s"
        end = "\n" if final or not self.tty else ""
        self.stream.write(("\r" if self.tty else "") + text + end)
        self.stream.flush()


class Command(BaseCommand):
    help = "Import a cluster's member directory (CSV or JSON); see the module docstring for the format."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or JSON file")
        parser.add_argument("--cluster", required=True, help="Code of the cluster whose directory this is, e.g. MNC")
        parser.add_argument("--format", choices=["csv", "json"], help="Default: from the file extension")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Write the valid rows even if some are rejected"
        )
        parser.add_argument(
            "--send-invitations", action="store_true", help="Email the prepared invitations to contacts"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Operators read this report next to English code and docs; one language, not a mix.
        with translation.override("en"):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        started = time.monotonic()
        path = Path(options["file"])
        cluster = Cluster.objects.filter(code__iexact=options["cluster"].strip()).first()
        if cluster is None:
            known = ", ".join(Cluster.objects.values_list("code", flat=True)) or "none yet; run seed_demo"
            raise CommandError(f"Unknown cluster {options['cluster']!r} (known: {known}).")
        fmt = options["format"] or path.suffix.lower().lstrip(".")
        if fmt not in {"csv", "json"}:
            raise CommandError("Cannot tell the format from the file name; pass --format csv or --format json.")
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        limit = MAX_JSON_BYTES if fmt == "json" else MAX_FILE_BYTES
        if size > limit:
            raise CommandError(
                f"{path} is {size / 1e6:.0f} MB; the limit for {fmt.upper()} is {limit / 1e6:.0f} MB. "
                "Split the file (CSV can be larger than JSON)."
            )

        raw_rows = list(self._read_csv(path) if fmt == "csv" else self._read_json(path))
        rejections: list[Rejection] = []
        rows = self._validate(raw_rows, rejections, cluster)
        for rejection in sorted(rejections, key=lambda r: (r.line, r.field)):
            self.stderr.write(f"line {rejection.line}: {rejection.field}: {rejection.reason}")

        rejected_lines = {r.line for r in rejections}
        valid = [row for row in rows if row.line not in rejected_lines]
        creates = sum(1 for row in valid if row.created)
        summary = (
            f"{len(valid)} of {len(raw_rows)} rows valid for {cluster.code} ({creates} new, "
            f"{len(valid) - creates} updated, {len(rejected_lines)} rejected)"
        )
        if options["dry_run"]:
            self.stdout.write(f"Dry run, nothing written: {summary}, checked in {time.monotonic() - started:.1f}s.")
            return
        if rejected_lines and not options["skip_invalid"]:
            raise CommandError(
                f"Nothing imported: {summary}. Fix the rows above, or pass --skip-invalid to import "
                f"the {len(valid)} valid rows."
            )
        invitations = self._write(valid, cluster, send=options["send_invitations"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {summary}; {invitations} invitation(s) prepared in {time.monotonic() - started:.1f}s."
            )
        )

    # --- reading --------------------------------------------------------------

    def _read_csv(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        csv.field_size_limit(MAX_FIELD_CHARS)
        try:
            with path.open("rb") as raw:
                total_lines = sum(1 for _ in raw)
            with path.open(encoding="utf-8-sig", newline="") as handle:
                header_line = handle.readline()
                if not header_line.strip():
                    raise CommandError(f"{path} is empty: expected a header line ({', '.join(REQUIRED_FIELDS)}, ...).")
                delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
                header = next(csv.reader([header_line], delimiter=delimiter))
                columns = self._check_columns([name.strip().lower() for name in header])
                reader = csv.reader(handle, delimiter=delimiter, strict=True)
                progress = Progress(self.stderr, "Reading", max(total_lines - 1, 0))
                count = 0
                for values in reader:
                    line = reader.line_num + 1  # +1: the header was read outside the reader
                    progress.step()
                    if not any(value.strip() for value in values):
                        continue
                    count += 1
                    if count > MAX_ROWS:
                        raise CommandError(f"More than {MAX_ROWS:,} rows; split the file.")
                    if len(values) != len(columns):
                        yield line, {"__error__": f"expected {len(columns)} columns, found {len(values)}"}
                        continue
                    yield line, dict(zip(columns, values, strict=True))
                progress.finish()
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8 (CSV UTF-8 in spreadsheets)."
            ) from exc
        except csv.Error as exc:
            raise CommandError(f"Malformed CSV in {path}: {exc}.") from exc

    def _read_json(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text (byte {exc.start}).") from exc
        decoder = json.JSONDecoder()
        # Decode the top-level list item by item so that each record keeps its line number.
        position = _skip_ws(text, 0)
        if position >= len(text) or text[position] != "[":
            try:
                json.loads(text)
            except json.JSONDecodeError as exc:
                raise CommandError(f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from exc
            raise CommandError("The JSON file must contain a list of objects ([{...}, {...}]).")
        position = _skip_ws(text, position + 1)
        count = 0
        while position < len(text) and text[position] != "]":
            try:
                item, end = decoder.raw_decode(text, position)
            except json.JSONDecodeError as exc:
                raise CommandError(f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from exc
            line = text.count("\n", 0, position) + 1
            count += 1
            if count > MAX_ROWS:
                raise CommandError(f"More than {MAX_ROWS:,} records; split the file.")
            if not isinstance(item, dict):
                yield line, {"__error__": "expected an object ({...})"}
            else:
                unknown = sorted(str(key) for key in item if key not in ALL_FIELDS)
                if unknown:
                    yield line, {"__error__": f"unknown field(s): {', '.join(unknown)}"}
                else:
                    yield line, item
            position = _skip_ws(text, end)
            if position < len(text) and text[position] == ",":
                position = _skip_ws(text, position + 1)
            elif position < len(text) and text[position] != "]":
                lineno = text.count("\n", 0, position) + 1
                raise CommandError(f"Malformed JSON at line {lineno}: expected ',' or ']' between records.")
        if position >= len(text):
            raise CommandError("Malformed JSON: the list is not closed with ']'.")
        if _skip_ws(text, position + 1) != len(text):
            raise CommandError("Malformed JSON: unexpected content after the list.")

    def _check_columns(self, columns: list[str]) -> list[str]:
        unknown = [c for c in columns if c not in ALL_FIELDS]
        missing = [c for c in REQUIRED_FIELDS if c not in columns]
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        problems = []
        if missing:
            problems.append(f"missing required column(s): {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s): {', '.join(unknown)}")
        if duplicated:
            problems.append(f"repeated column(s): {', '.join(duplicated)}")
        if problems:
            raise CommandError(
                "Header line: " + "; ".join(problems) + f". Allowed columns: {', '.join(sorted(ALL_FIELDS))}."
            )
        return columns

    # --- validating -------------------------------------------------------------

    def _validate(
        self, raw_rows: list[tuple[int, dict[str, Any]]], rejections: list[Rejection], cluster: Cluster
    ) -> list[Row]:
        known_themes = THEME_CODES | set(Theme.objects.values_list("code", flat=True))
        rows: list[Row] = []
        for line, data in raw_rows:
            if "__error__" in data:
                rejections.append(Rejection(line, "row", data["__error__"]))
                continue
            row = Row(line=line, data={})
            for key, value in data.items():
                try:
                    normalized = _normalize(key, value)
                    if normalized == "" and key in {"visibility", "fee_tier"}:
                        continue  # empty means "default" (new) or "unchanged" (existing)
                    row.data[key] = normalized
                except ValidationError as exc:
                    row.failed.add(key)
                    rejections.append(Rejection(line, key, " ".join(exc.messages)))
            rows.append(row)

        # Existing organizations by identifier, fetched in bulk rather than row by row.
        existing: dict[str, dict[str, int]] = {}
        for name in IDENTIFIER_FIELDS:
            values = sorted({row.data[name] for row in rows if row.data.get(name)})
            existing[name] = {}
            for start in range(0, len(values), 900):  # stay under SQLite's bound-parameter limit
                pairs = Organization.objects.filter(**{f"{name}__in": values[start : start + 900]}).values_list(
                    name, "pk"
                )
                existing[name].update((str(value), int(pk)) for value, pk in pairs)
        # Rows without any identifier match this cluster's members by legal name and country,
        # so that re-importing such a row updates it instead of adding a duplicate.
        by_name: dict[tuple[str, str], int] = {}
        for pk, legal_name, country in Organization.objects.filter(memberships__cluster=cluster).values_list(
            "pk", "legal_name", "country"
        ):
            by_name.setdefault((legal_name.casefold(), country), pk)
        matched_ids = {existing[name].get(row.data.get(name) or "") for row in rows for name in IDENTIFIER_FIELDS}
        matched_ids |= {by_name.get(_name_key(row.data)) for row in rows}
        orgs_by_id = Organization.objects.in_bulk([pk for pk in matched_ids if pk])
        seen_in_file: dict[tuple[str, str], int] = {}

        progress = Progress(self.stderr, "Validating", len(rows))
        for row in rows:
            progress.step()
            data = row.data
            missing = [name for name in REQUIRED_FIELDS if not data.get(name) and name not in row.failed]
            for name in missing:
                rejections.append(Rejection(row.line, name, "This field is required."))
            match_id = next(
                (existing[name][data[name]] for name in IDENTIFIER_FIELDS if data.get(name) in existing[name]), None
            )
            if not any(data.get(name) for name in IDENTIFIER_FIELDS):
                match_id = by_name.get(_name_key(data))
                first_line = seen_in_file.setdefault(("legal_name", repr(_name_key(data))), row.line)
                if first_line != row.line:
                    rejections.append(
                        Rejection(row.line, "legal_name", f"same name and country as line {first_line}, no identifier.")
                    )
            row.created = match_id is None
            org = Organization(pk=None) if match_id is None else _copy(orgs_by_id[match_id])
            for name in PROFILE_FIELDS:
                if name in data and name != "themes":
                    setattr(org, name, data[name])
            themes = data.get("themes") or []
            unknown_themes = [code for code in themes if code not in known_themes]
            if unknown_themes:
                rejections.append(Rejection(row.line, "themes", f"unknown theme code(s): {', '.join(unknown_themes)}"))
            row.themes = themes
            for name in IDENTIFIER_FIELDS:
                value = data.get(name)
                if not value:
                    continue
                owner = existing[name].get(value)
                if owner is not None and owner != match_id:
                    rejections.append(
                        Rejection(row.line, name, f"{value} already belongs to another organization (id {owner}).")
                    )
                first_line = seen_in_file.setdefault((name, value), row.line)
                if first_line != row.line:
                    rejections.append(Rejection(row.line, name, f"{value} is repeated (first on line {first_line})."))
            try:
                org.full_clean(exclude=["themes"], validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    if name in missing or name in row.failed:
                        continue
                    rejections.append(Rejection(row.line, name, " ".join(messages)))
            except (TypeError, ValueError) as exc:
                rejections.append(Rejection(row.line, "row", str(exc)))
            fee_tier = data.get("fee_tier") or _default_fee_tier(org)
            if fee_tier not in FeeTier.values:
                rejections.append(Rejection(row.line, "fee_tier", f"choose one of {', '.join(FeeTier.values)}."))
            row.fee_tier = fee_tier
            row.contact_email = data.get("contact_email") or ""
            row.org = org
        progress.finish()
        return rows

    # --- writing ----------------------------------------------------------------

    def _write(self, rows: list[Row], cluster: Cluster, *, send: bool) -> int:
        now = timezone.now()
        invitations = 0
        progress = Progress(self.stderr, "Writing", len(rows))
        with transaction.atomic():
            if set().union(*(row.themes for row in rows)) - set(Theme.objects.values_list("code", flat=True)):
                ensure_taxonomy()
            theme_ids = dict(Theme.objects.values_list("code", "pk"))
            inviter = (
                ClusterStaff.objects.filter(cluster=cluster).order_by("-role", "pk").values_list("user", flat=True)
            ).first()
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                orgs = [row.org for row in chunk if row.org is not None]
                for org in orgs:
                    org.profile_status = ProfileStatus.VALIDATED
                    org.validated_at = org.validated_at or now
                new = [org for org, row in zip(orgs, chunk, strict=True) if row.created]
                old = [org for org, row in zip(orgs, chunk, strict=True) if not row.created]
                Organization.objects.bulk_create(new)
                # One UPDATE per row: bulk_update's CASE expressions over ~20 columns are far slower.
                fields = [*(f for f in PROFILE_FIELDS if f != "themes"), "profile_status", "validated_at", "updated_at"]
                for org in old:
                    org.save(update_fields=fields)
                ids = [org.pk for org in orgs]
                through = Organization.themes.through
                replaced = [
                    row.org.pk for row in chunk if row.org is not None and not row.created and "themes" in row.data
                ]
                through.objects.filter(organization_id__in=replaced).delete()
                through.objects.bulk_create(
                    [
                        through(organization_id=row.org.pk, theme_id=theme_ids[code])
                        for row in chunk
                        if row.org is not None and ("themes" in row.data or row.created)
                        for code in dict.fromkeys(row.themes)
                    ]
                )
                self._memberships(chunk, cluster, now)
                invitations += self._contacts(chunk, inviter, send)
                mark_organizations_changed(ids, sender=Organization)
                progress.step(len(chunk))
        progress.finish()
        return invitations

    def _memberships(self, chunk: list[Row], cluster: Cluster, now: Any) -> None:
        by_org = {
            m.organization_id: m
            for m in Membership.objects.filter(cluster=cluster, organization_id__in=[r.org.pk for r in chunk if r.org])
        }
        create, update = [], []
        for row in chunk:
            assert row.org is not None
            membership = by_org.get(row.org.pk)
            if membership is None:
                create.append(
                    Membership(
                        organization=row.org,
                        cluster=cluster,
                        status=MembershipStatus.ADMITTED,
                        fee_tier=row.fee_tier,
                        applied_at=now,
                        decided_at=now,
                        board_note="Imported from the cluster's member directory.",
                    )
                )
            elif membership.status != MembershipStatus.ADMITTED or "fee_tier" in row.data:
                membership.status = MembershipStatus.ADMITTED
                membership.fee_tier = row.fee_tier
                membership.decided_at = now
                update.append(membership)
        Membership.objects.bulk_create(create)
        Membership.objects.bulk_update(update, ["status", "fee_tier", "decided_at"])

    def _contacts(self, chunk: list[Row], inviter: int | None, send: bool) -> int:
        from matchmaking import emails
        from matchmaking.services.people import INVITATION_VALIDITY

        prepared = 0
        for row in chunk:
            if not row.contact_email or row.org is None:
                continue
            user = User.objects.filter(email__iexact=row.contact_email).first()
            members = OrganizationMember.objects.filter(organization=row.org)
            if user is not None:
                if not members.exists():
                    OrganizationMember.objects.create(user=user, organization=row.org, role=OrganizationRole.OWNER)
                continue
            if inviter is None or members.exists():
                continue
            already = Invitation.objects.filter(
                organization=row.org, email__iexact=row.contact_email, accepted_at__isnull=True
            ).exists()
            if already:
                continue
            invitation = Invitation.objects.create(
                organization=row.org,
                email=row.contact_email,
                role=OrganizationRole.OWNER,
                token=secrets.token_urlsafe(32),
                invited_by_id=inviter,
                expires_at=timezone.now() + INVITATION_VALIDITY,
            )
            prepared += 1
            if send:
                invitation_id = invitation.pk
                transaction.on_commit(lambda i=invitation_id: emails.send_invitation(i))  # type: ignore[misc]
        return prepared


def _name_key(data: dict[str, Any]) -> tuple[str, str]:
    name, country = data.get("legal_name"), data.get("country")
    return (name.casefold() if isinstance(name, str) else "", country if isinstance(country, str) else "")


def _skip_ws(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _copy(org: Organization) -> Organization:
    clone = Organization.objects.model()
    clone.__dict__.update({k: v for k, v in org.__dict__.items() if k != "_state"})
    clone._state.adding = False
    clone._state.db = org._state.db
    return clone


def _default_fee_tier(org: Organization) -> str:
    if org.kind == "startup":
        return FeeTier.STARTUP
    if org.kind == "large" or org.size_band in {"large", "huge"}:
        return FeeTier.LARGE
    return FeeTier.SME


def _normalize(key: str, value: Any) -> Any:
    """One raw cell or JSON value -> the model's Python value; ValidationError with a readable reason."""
    if value is None:
        value = ""
    if key in LIST_FIELDS:
        if isinstance(value, str):
            return [part.strip() for part in value.split("|") if part.strip()]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return [item.strip() for item in value if item.strip()]
        raise ValidationError("expected a list of texts (or a '|'-separated text).")
    if key in FLOAT_FIELDS:
        if isinstance(value, bool):
            raise ValidationError("expected a number.")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            try:
                return float(text)
            except ValueError:
                raise ValidationError(f"“{text[:40]}” is not a number (use a dot as decimal separator).") from None
        raise ValidationError("expected a number.")
    if not isinstance(value, str):
        if key in NULLABLE_TEXT and isinstance(value, int) and not isinstance(value, bool):
            raise ValidationError("identifiers must be text in JSON (quote them: a number loses leading zeros).")
        raise ValidationError("expected text.")
    if key in NULLABLE_TEXT:
        return normalize_identifier(value)
    text = value.strip()
    if key == "country":
        return text.upper()
    if key in {"kind", "size_band", "visibility", "fee_tier"}:
        return text.lower()
    if key == "contact_email" and text:
        try:
            validate_email(text)
        except ValidationError:
            raise ValidationError(f"“{text[:80]}” is not a valid email address.") from None
        return text.lower()
    return text
