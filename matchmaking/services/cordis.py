"""Writing CORDIS track records: EU projects and participations, linked to members by PIC.

`import_cordis` upserts a parsed `CordisBatch` (see `matchmaking.cordis`) in
one transaction, so a failed import leaves nothing half-written, and re-running
it changes nothing. Members whose track record changed get their version bumped
and `organizations_changed` sent inside that transaction: the search index
shows the "has an EU track record" facet and the projects after commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from matchmaking import cordis
from matchmaking.cordis import CordisBatch
from matchmaking.models import EUParticipation, EUProject, Organization
from matchmaking.services.organizations import mark_organizations_changed

# (done, total) after each written batch of participations.
ProgressCallback = Callable[[int, int], None]

_PROJECT_FIELDS = ["acronym", "title", "programme_part", "start_date", "end_date", "total_cost"]
_PARTICIPATION_FIELDS = ["name", "activity_type", "country", "contribution", "organization"]
# SQLite caps the number of bound parameters per statement; chunked IN lists stay below it.
_IN_CHUNK = 500


@dataclass
class ImportResult:
    projects: int = 0
    participations: int = 0
    linked_participations: int = 0
    changed_organization_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.participations / self.seconds if self.seconds > 0 else 0.0


def _chunks(values: list[str], size: int = _IN_CHUNK) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def import_cordis(
    batch: CordisBatch, *, batch_size: int = 2000, progress: ProgressCallback | None = None
) -> ImportResult:
    """Upsert the batch's projects and participations; link participations to members by PIC."""
    started = time.monotonic()
    result = ImportResult(projects=len(batch.projects), participations=len(batch.participations))
    with transaction.atomic():
        EUProject.objects.bulk_create(
            [
                EUProject(
                    framework=p.framework,
                    reference=p.reference,
                    acronym=p.acronym,
                    title=p.title,
                    programme_part=p.programme_part,
                    start_date=p.start_date,
                    end_date=p.end_date,
                    total_cost=p.total_cost,
                )
                for p in batch.projects.values()
            ],
            batch_size=batch_size,
            update_conflicts=True,
            unique_fields=["framework", "reference"],
            update_fields=_PROJECT_FIELDS,
        )
        # bulk_create does not return ids of updated rows on every backend: read them back.
        project_ids: dict[tuple[str, str], int] = {}
        for framework in {key[0] for key in batch.projects}:
            for reference, pk in EUProject.objects.filter(framework=framework).values_list("reference", "pk"):
                project_ids[(framework, reference)] = pk

        member_by_pic = dict(Organization.objects.filter(pic__isnull=False).exclude(pic="").values_list("pic", "pk"))
        incoming_pics = sorted({p.pic for p in batch.participations.values()} & member_by_pic.keys())
        # What members' records looked like before, to tell who actually gained (or changed) a record.
        before: set[tuple[int, str, str, int | None]] = set()
        for pics in _chunks(incoming_pics):
            before.update(
                EUParticipation.objects.filter(pic__in=pics).values_list("project_id", "pic", "role", "organization_id")
            )

        rows: list[EUParticipation] = []
        changed: set[int] = set()
        for record in batch.participations.values():
            project_id = project_ids[(record.framework, record.reference)]
            organization_id = member_by_pic.get(record.pic)
            if organization_id is not None:
                result.linked_participations += 1
                if (project_id, record.pic, record.role, organization_id) not in before:
                    changed.add(organization_id)
            rows.append(
                EUParticipation(
                    project_id=project_id,
                    pic=record.pic,
                    role=record.role,
                    name=record.name,
                    activity_type=record.activity_type,
                    country=record.country,
                    contribution=record.contribution,
                    organization_id=organization_id,
                )
            )
        total = len(rows)
        for start in range(0, total, batch_size):
            EUParticipation.objects.bulk_create(
                rows[start : start + batch_size],
                update_conflicts=True,
                unique_fields=["project", "pic", "role"],
                update_fields=_PARTICIPATION_FIELDS,
            )
            if progress is not None:
                progress(min(start + batch_size, total), total)
        mark_organizations_changed(changed, sender=EUParticipation)
        result.changed_organization_ids = sorted(changed)
    result.seconds = time.monotonic() - started
    return result


def link_participations(organization_ids: Iterable[int]) -> list[int]:
    """Re-link existing participations to these members by their current PIC.

    For services that set or change an organization's PIC after an import:
    participations of the new PIC are attached, those of an old PIC detached.
    Returns the ids whose track record changed (already signalled).
    """
    changed: set[int] = set()
    with transaction.atomic():
        for organization in Organization.objects.filter(pk__in=list(organization_ids)).only("pk", "pic"):
            detached = EUParticipation.objects.filter(organization=organization)
            if organization.pic:
                detached = detached.exclude(pic=organization.pic)
                attached = EUParticipation.objects.filter(pic=organization.pic).exclude(organization=organization)
                if attached.update(organization=organization):
                    changed.add(organization.pk)
            if detached.update(organization=None):
                changed.add(organization.pk)
        mark_organizations_changed(changed, sender=EUParticipation)
    return sorted(changed)


def import_h2020_track_records(pics: Iterable[str], directory: Path | None = None) -> ImportResult | None:
    """Import the H2020 projects (whole consortia) of these PICs: real track records for demo members.

    For `seed_demo` with PICs from `matchmaking.cordis.sample_pics`. Returns
    None when the H2020 file is missing (the demo then has no track records).
    """
    base = directory or cordis.data_dir()
    participations = base / cordis.H2020_PARTICIPATIONS
    if not participations.exists():
        return None
    parts = base / cordis.H2020_PROGRAMME_PARTS
    batch = cordis.read_h2020(participations, parts if parts.exists() else None).only_projects_of(pics)
    return import_cordis(batch)
