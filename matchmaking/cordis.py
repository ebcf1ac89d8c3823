"""Reading CORDIS open data (EU research projects and their participants).

Pure parsing, no database: the readers turn the files described in
`shared/data/cordis/README.md` into `ProjectRecord`/`ParticipationRecord`
values, and `matchmaking.services.cordis` writes them. Three sources:

- the H2020 participation graph (`h2020-participations.csv.gz`, one row per
  organisation and project, no names) with its programme parts;
- the Horizon Europe export (`organization.csv`, `project.csv`), comma- or
  semicolon-separated, with amounts that may use a decimal comma;
- the Horizon Europe New Zealand compilation (`data.json`, real names).

Data © European Union, CORDIS, licence CC BY 4.0.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.conf import settings

logger = logging.getLogger(__name__)

H2020 = "H2020"
HORIZON = "HORIZON"

H2020_PARTICIPATIONS = "h2020-participations.csv.gz"
H2020_PROGRAMME_PARTS = "h2020-programme-parts.csv.gz"
HORIZON_EUROPE_SAMPLE = "horizon-europe-sample"
HORIZON_EUROPE_NZ = Path("horizon-europe-nz") / "data.json"

# CORDIS uses the EU's own codes for two countries; members use ISO 3166.
_COUNTRY_ALIASES = {"EL": "GR", "UK": "GB"}
# H2020 marks a missing value with "NA", which is also Namibia's code: only
# numbers and dates treat it as missing, never the country column.
_MISSING = {"", "NA", "N/A", "NULL", "NONE", "NAN"}
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
_PIC = re.compile(r"^\d{9}$")

# Model column widths, so that an over-long value is cut instead of failing a whole batch.
_ACRONYM_MAX, _TITLE_MAX, _PART_MAX, _NAME_MAX, _ROLE_MAX = 60, 500, 120, 300, 20


class CordisFormatError(ValueError):
    """A CORDIS file does not have the columns or structure the reader expects."""


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    framework: str
    reference: str
    acronym: str = ""
    title: str = ""
    programme_part: str = ""
    start_date: date | None = None
    end_date: date | None = None
    total_cost: Decimal | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.framework, self.reference)

    def merged(self, other: ProjectRecord) -> ProjectRecord:
        """Fill this record's blanks from another record of the same project."""
        values: dict[str, Any] = {}
        for name in ("acronym", "title", "programme_part", "start_date", "end_date", "total_cost"):
            if getattr(self, name) in ("", None) and getattr(other, name) not in ("", None):
                values[name] = getattr(other, name)
        return replace(self, **values) if values else self


@dataclass(frozen=True, slots=True)
class ParticipationRecord:
    framework: str
    reference: str
    pic: str
    role: str
    name: str = ""
    activity_type: str = ""
    country: str = ""
    contribution: Decimal | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.framework, self.reference, self.pic, self.role)


@dataclass
class CordisBatch:
    """Projects and participations read from one or more sources, deduplicated by key."""

    projects: dict[tuple[str, str], ProjectRecord] = field(default_factory=dict)
    participations: dict[tuple[str, str, str, str], ParticipationRecord] = field(default_factory=dict)
    skipped: int = 0

    def add_project(self, record: ProjectRecord) -> None:
        known = self.projects.get(record.key)
        self.projects[record.key] = record if known is None else known.merged(record)

    def add_participation(self, record: ParticipationRecord) -> None:
        known = self.participations.get(record.key)
        if known is not None and not record.name and known.name:
            record = replace(record, name=known.name)
        self.participations[record.key] = record
        if record.key[:2] not in self.projects:
            self.projects[record.key[:2]] = ProjectRecord(record.framework, record.reference)

    def extend(self, other: CordisBatch) -> None:
        for project in other.projects.values():
            self.add_project(project)
        for participation in other.participations.values():
            self.add_participation(participation)
        self.skipped += other.skipped

    def only_projects_of(self, pics: Iterable[str]) -> CordisBatch:
        """The projects (with their whole consortia) in which any of `pics` took part."""
        wanted = set(pics)
        keys = {p.key[:2] for p in self.participations.values() if p.pic in wanted}
        return CordisBatch(
            projects={k: v for k, v in self.projects.items() if k in keys},
            participations={k: v for k, v in self.participations.items() if k[:2] in keys},
        )


# --- Value parsing -------------------------------------------------------------


def parse_amount(text: Any) -> Decimal | None:
    """An amount in EUR from CORDIS: "317625", "1499998.0", "2835524,25", "1.234.567,89"."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return Decimal(str(text)).quantize(Decimal("0.01"))
    value = str(text).strip().replace("\u00a0", "").replace(" ", "").replace("\u202f", "")
    if value.upper() in _MISSING:
        return None
    if "," in value and "." in value:
        # The separator that comes last is the decimal one; the other groups thousands.
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif value.count(",") == 1:
        value = value.replace(",", ".")  # the semicolon export's decimal comma
    elif value.count(",") > 1:
        value = value.replace(",", "")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return amount.quantize(Decimal("0.01"))


def parse_date(text: Any) -> date | None:
    value = str(text or "").strip()
    if value.upper() in _MISSING:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def normalize_country(code: Any) -> str:
    value = str(code or "").strip().upper()
    value = _COUNTRY_ALIASES.get(value, value)
    return value if len(value) == 2 and value.isalpha() else ""


def normalize_role(role: Any) -> str:
    """ "associatedPartner" → "associated_partner"; "Coordinator" → "coordinator"."""
    value = _CAMEL.sub(r"_\1", str(role or "").strip()).lower().replace(" ", "_").replace("-", "_")
    return value[:_ROLE_MAX] or "participant"


def normalize_pic(value: Any) -> str:
    pic = str(value or "").strip()
    if pic.endswith(".0"):  # a PIC that went through a spreadsheet as a float
        pic = pic[:-2]
    return pic if _PIC.match(pic) else ""


def _text(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


# --- Files -----------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def read_csv(path: Path | str, *, limit: int | None = None) -> Iterator[dict[str, str]]:
    """Rows of a CORDIS CSV, comma- or semicolon-separated (sniffed from the header)."""
    path = Path(path)
    csv.field_size_limit(10 * 1024 * 1024)  # project objectives are long texts
    with _open_text(path) as handle:
        header = handle.readline()
        if not header.strip():
            return
        delimiter = ";" if header.count(";") > header.count(",") else ","
        columns = next(csv.reader([header], delimiter=delimiter))
        reader = csv.DictReader(handle, fieldnames=[c.strip() for c in columns], delimiter=delimiter)
        for count, row in enumerate(reader):
            if limit is not None and count >= limit:
                return
            yield row


def _require_columns(row: dict[str, str], columns: Iterable[str], path: Path | str) -> None:
    missing = [c for c in columns if c not in row]
    if missing:
        raise CordisFormatError(f"{path}: missing column(s) {', '.join(missing)}")


def read_h2020_programme_parts(path: Path | str, *, limit: int | None = None) -> dict[str, str]:
    """rcn → programme parts, joined ("LEIT, SC6") since a project may have several."""
    parts: dict[str, set[str]] = defaultdict(set)
    for index, row in enumerate(read_csv(path, limit=limit)):
        if index == 0:
            _require_columns(row, ("rcn", "programme_part"), path)
        rcn, part = (row.get("rcn") or "").strip(), (row.get("programme_part") or "").strip()
        if rcn and part and part.upper() not in _MISSING:
            parts[rcn].add(part)
    return {rcn: ", ".join(sorted(values))[:_PART_MAX] for rcn, values in parts.items()}


def read_h2020(
    participations: Path | str, programme_parts: Path | str | None = None, *, limit: int | None = None
) -> CordisBatch:
    """The H2020 participation graph: projects by rcn, participants by PIC (no names)."""
    parts = read_h2020_programme_parts(programme_parts) if programme_parts else {}
    batch = CordisBatch()
    for index, row in enumerate(read_csv(participations, limit=limit)):
        if index == 0:
            _require_columns(row, ("rcn", "role", "pic", "type", "contribution", "country"), participations)
        rcn, pic = (row.get("rcn") or "").strip(), normalize_pic(row.get("pic"))
        if not rcn or not pic:
            batch.skipped += 1
            continue
        batch.add_project(
            ProjectRecord(
                framework=H2020,
                reference=rcn,
                programme_part=parts.get(rcn, ""),
                start_date=parse_date(row.get("start_date")),
                end_date=parse_date(row.get("end_date")),
                total_cost=parse_amount(row.get("total_cost")),
            )
        )
        batch.add_participation(
            ParticipationRecord(
                framework=H2020,
                reference=rcn,
                pic=pic,
                role=normalize_role(row.get("role")),
                activity_type=(row.get("type") or "").strip().upper()[:3],
                country=normalize_country(row.get("country")),
                contribution=parse_amount(row.get("contribution")),
            )
        )
    return batch


def _horizon_project(reference: str, source: Mapping[str, Any], *, part: str, start: str, end: str) -> ProjectRecord:
    """A Horizon Europe project from the CSV export or the JSON compilation; they name three columns differently."""
    return ProjectRecord(
        framework=HORIZON,
        reference=reference,
        acronym=_text(source.get("acronym"), _ACRONYM_MAX),
        title=_text(source.get("title"), _TITLE_MAX),
        programme_part=_text(source.get(part), _PART_MAX),
        start_date=parse_date(source.get(start)),
        end_date=parse_date(source.get(end)),
        total_cost=parse_amount(source.get("totalCost")),
    )


def read_horizon_europe_export(directory: Path | str, *, limit: int | None = None) -> CordisBatch:
    """The Horizon Europe export: `organization.csv` (required) and `project.csv` (optional)."""
    directory = Path(directory)
    organizations = directory / "organization.csv"
    if not organizations.exists():
        raise CordisFormatError(f"{organizations} not found")
    batch = CordisBatch()
    projects = directory / "project.csv"
    if projects.exists():
        for index, row in enumerate(read_csv(projects, limit=limit)):
            if index == 0:
                _require_columns(row, ("id", "acronym", "title"), projects)
            reference = (row.get("id") or "").strip()
            if not reference:
                batch.skipped += 1
                continue
            batch.add_project(_horizon_project(reference, row, part="legalBasis", start="startDate", end="endDate"))
    for index, row in enumerate(read_csv(organizations, limit=limit)):
        if index == 0:
            _require_columns(row, ("projectID", "organisationID", "name", "role", "country"), organizations)
        reference, pic = (row.get("projectID") or "").strip(), normalize_pic(row.get("organisationID"))
        if not reference or not pic:
            batch.skipped += 1
            continue
        acronym = _text(row.get("projectAcronym"), _ACRONYM_MAX)
        batch.add_project(ProjectRecord(framework=HORIZON, reference=reference, acronym=acronym))
        batch.add_participation(
            ParticipationRecord(
                framework=HORIZON,
                reference=reference,
                pic=pic,
                role=normalize_role(row.get("role")),
                name=_text(row.get("name"), _NAME_MAX),
                activity_type=(row.get("activityType") or "").strip().upper()[:3],
                country=normalize_country(row.get("country")),
                contribution=parse_amount(row.get("ecContribution")),
            )
        )
    return batch


def read_horizon_europe_nz(path: Path | str, *, limit: int | None = None) -> CordisBatch:
    """The New Zealand compilation: projects with their complete consortia and real names."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CordisFormatError(f"{path}: not valid JSON ({exc})") from exc
    projects = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(projects, list):
        raise CordisFormatError(f"{path}: expected an object with a 'projects' list")
    batch = CordisBatch()
    for project in projects[:limit]:
        reference = str(project.get("id") or "").strip() if isinstance(project, dict) else ""
        if not reference:
            batch.skipped += 1
            continue
        batch.add_project(_horizon_project(reference, project, part="clusterCode", start="start", end="end"))
        for organisation in project.get("organisations") or []:
            pic = normalize_pic(organisation.get("id"))
            if not pic:
                batch.skipped += 1
                continue
            batch.add_participation(
                ParticipationRecord(
                    framework=HORIZON,
                    reference=reference,
                    pic=pic,
                    role=normalize_role(organisation.get("role")),
                    name=_text(organisation.get("name"), _NAME_MAX),
                    country=normalize_country(organisation.get("countryCode")),
                    contribution=parse_amount(organisation.get("contribution")),
                )
            )
    return batch


# --- Defaults and demo support ------------------------------------------------------


def data_dir() -> Path:
    """Where the CORDIS files live: settings.CORDIS_DATA_DIR (env CORDIS_DATA_DIR)."""
    return Path(settings.CORDIS_DATA_DIR)


@functools.lru_cache(maxsize=4)
def _h2020_pic_profiles(path: Path) -> tuple[tuple[str, str, str, int], ...]:
    projects: Counter[tuple[str, str, str]] = Counter()
    for row in read_csv(path):
        pic = normalize_pic(row.get("pic"))
        if pic:
            key = (pic, normalize_country(row.get("country")), (row.get("type") or "").strip().upper())
            projects[key] += 1
    return tuple((pic, country, kind, count) for (pic, country, kind), count in projects.items())


def sample_pics(
    n: int,
    country: str | None = None,
    *,
    activity_type: str | None = None,
    min_projects: int = 2,
    max_projects: int = 12,
    path: Path | None = None,
) -> list[str]:
    """Real PICs from the H2020 file, for demo organizations that should have a track record.

    Deterministic: PICs (of `country`, ISO code, and CORDIS `activity_type` such
    as "PRC" when given) with between `min_projects` and `max_projects` H2020
    projects, the size of an SME's or lab's record, most projects first; topped
    up from outside that range when too few. Returns [] with a warning when the
    data file is missing, so that demo seeding still works without it.
    """
    path = path or data_dir() / H2020_PARTICIPATIONS
    if not path.exists():
        logger.warning("CORDIS data not found at %s: no real PICs for demo organizations", path)
        return []
    wanted_country = normalize_country(country) if country else None
    candidates = [
        (pic, count)
        for pic, pic_country, kind, count in _h2020_pic_profiles(path)
        if (wanted_country is None or pic_country == wanted_country)
        and (activity_type is None or kind == activity_type.upper())
    ]
    in_range = sorted((c for c in candidates if min_projects <= c[1] <= max_projects), key=lambda c: (-c[1], c[0]))
    rest = sorted((c for c in candidates if not min_projects <= c[1] <= max_projects), key=lambda c: (c[1], c[0]))
    chosen: list[str] = []
    for pic, _count in [*in_range, *rest]:
        if pic not in chosen:
            chosen.append(pic)
        if len(chosen) >= n:
            break
    return chosen
