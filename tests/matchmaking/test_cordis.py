"""CORDIS track records: parsing the real file formats, importing, linking by PIC, the selector."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from matchmaking import cordis
from matchmaking.models import EUParticipation, EUProject, Organization
from matchmaking.selectors import track_record
from matchmaking.services.cordis import import_cordis, import_h2020_track_records, link_participations
from matchmaking.signals import organizations_changed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cordis"
H2020 = FIXTURES / cordis.H2020_PARTICIPATIONS
PARTS = FIXTURES / cordis.H2020_PROGRAMME_PARTS
HORIZON = FIXTURES / cordis.HORIZON_EUROPE_SAMPLE
NZ = FIXTURES / cordis.HORIZON_EUROPE_NZ

# From the H2020 slice: rcn 212469 has a Moroccan participant among French and other partners.
MOROCCAN_PROJECT = "212469"


def _h2020_rows() -> list[dict[str, str]]:
    return list(cordis.read_csv(H2020))


@pytest.fixture
def signals() -> Iterator[list[list[int]]]:
    received: list[list[int]] = []

    def receiver(sender: Any, organization_ids: list[int], **kwargs: Any) -> None:
        received.append(list(organization_ids))

    organizations_changed.connect(receiver, dispatch_uid="test_cordis")
    yield received
    organizations_changed.disconnect(dispatch_uid="test_cordis")


def _member(name: str, pic: str | None, country: str = "FR") -> Organization:
    return Organization.objects.create(legal_name=name, kind="sme", country=country, pic=pic)


# --- Values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("317625", Decimal("317625.00")),
        ("1499998.0", Decimal("1499998.00")),
        ("2835524,25", Decimal("2835524.25")),
        ("1.234.567,89", Decimal("1234567.89")),
        ("1,234,567.89", Decimal("1234567.89")),
        (" 12 500,5 ", Decimal("12500.50")),
        (2999968.75, Decimal("2999968.75")),
        (0, Decimal("0.00")),
        ("NA", None),
        ("", None),
        (None, None),
        ("n/a", None),
        ("twelve", None),
        ("NaN", None),
    ],
)
def test_amounts_in_every_cordis_spelling(text: Any, expected: Decimal | None) -> None:
    assert cordis.parse_amount(text) == expected


def test_codes_are_normalized_but_namibia_is_a_country() -> None:
    assert cordis.normalize_country("EL") == "GR"
    assert cordis.normalize_country("UK") == "GB"
    assert cordis.normalize_country("NA") == "NA"
    assert cordis.normalize_country("") == ""
    assert cordis.normalize_role("associatedPartner") == "associated_partner"
    assert cordis.normalize_role("thirdParty") == "third_party"
    assert cordis.normalize_role("Coordinator") == "coordinator"
    assert cordis.normalize_pic("999981634.0") == "999981634"
    assert cordis.normalize_pic("12345") == ""


# --- Readers --------------------------------------------------------------------------


def test_h2020_slice_gives_one_project_per_rcn_and_one_participation_per_row() -> None:
    # Given the first rows of the real H2020 participation graph
    rows = _h2020_rows()

    # When it is read with its programme parts
    batch = cordis.read_h2020(H2020, PARTS)

    # Then every row is a participation and every rcn a project, with its programme part
    assert len(batch.participations) == len(rows)
    assert set(ref for _fw, ref in batch.projects) == {row["rcn"] for row in rows}
    first = rows[0]
    project = batch.projects[(cordis.H2020, first["rcn"])]
    assert project.programme_part == "SC4"  # rcn 221856 in h2020-programme-parts
    assert str(project.start_date) == first["start_date"]
    participation = batch.participations[(cordis.H2020, first["rcn"], first["pic"], first["role"])]
    assert participation.activity_type == first["type"]
    assert participation.contribution == Decimal(first["contribution"])
    # EL and UK become ISO codes; "NA" contributions are missing, not zero.
    assert all(p.country not in {"EL", "UK"} for p in batch.participations.values())
    missing = [r for r in rows if r["contribution"] == "NA"]
    for row in missing:
        assert batch.participations[(cordis.H2020, row["rcn"], row["pic"], row["role"])].contribution is None


def test_limit_reads_only_the_first_rows() -> None:
    batch = cordis.read_h2020(H2020, limit=10)
    assert len(batch.participations) == 10


def test_horizon_europe_export_reads_comma_form_with_decimal_comma_amounts() -> None:
    # When the comma-separated sample is read
    batch = cordis.read_horizon_europe_export(HORIZON)

    # Then names, roles, projects (acronym, title, legal basis) come through
    wageningen = batch.participations[(cordis.HORIZON, "101116741", "999981634", "coordinator")]
    assert wageningen.name == "WAGENINGEN UNIVERSITY"
    assert wageningen.activity_type == "HES"
    assert wageningen.contribution == Decimal("1499998.00")
    project = batch.projects[(cordis.HORIZON, "101116741")]
    assert project.acronym == "DOE"
    assert project.title.startswith("Digitizing Other Economies")
    assert project.programme_part == "HORIZON.1.1"
    # A row whose totalCost has the decimal-comma quirk ("2835524,25") is read like the others.
    sissa = batch.participations[(cordis.HORIZON, "101167314", "999850878", "participant")]
    assert sissa.contribution == Decimal("2835524.25")


def test_semicolon_export_with_decimal_commas_gives_the_same_records(tmp_path: Path) -> None:
    # Given the official semicolon form of the same export, amounts written with a decimal comma
    for name in ("organization.csv", "project.csv"):
        with (HORIZON / name).open(newline="", encoding="utf-8") as source:
            rows = list(csv.reader(source))
        header = rows[0]
        amount_columns = {header.index(c) for c in ("ecContribution", "netEcContribution", "totalCost") if c in header}
        with (tmp_path / name).open("w", newline="", encoding="utf-8") as target:
            writer = csv.writer(target, delimiter=";", lineterminator="\r\n")
            writer.writerow(header)
            for row in rows[1:]:
                writer.writerow([v.replace(".", ",") if i in amount_columns else v for i, v in enumerate(row)])

    # When both forms are read
    comma = cordis.read_horizon_europe_export(HORIZON)
    semicolon = cordis.read_horizon_europe_export(tmp_path)

    # Then they are the same, amounts included
    assert semicolon.participations == comma.participations
    assert semicolon.projects == comma.projects


def test_crafted_semicolon_rows_with_quoted_decimal_commas(tmp_path: Path) -> None:
    # Given a hand-written semicolon export: quoted decimal comma, BOM, camelCase role, EL country
    (tmp_path / "organization.csv").write_text(
        "\ufeffprojectID;projectAcronym;organisationID;name;shortName;SME;activityType;country;role;ecContribution\n"
        '101000001;TESTPROJ;999000001;"ACME; SOCIETE ANONYME";ACME;True;PRC;FR;coordinator;"2835524,25"\n'
        "101000001;TESTPROJ;999000002;PANEPISTIMIO;UOA;False;HES;EL;associatedPartner;0\n"
        "101000001;TESTPROJ;bad-pic;NOBODY;;False;OTH;FR;participant;12\n",
        encoding="utf-8",
    )

    # When it is read
    batch = cordis.read_horizon_europe_export(tmp_path)

    # Then amounts, names with separators, roles and countries are right; the bad PIC is skipped
    acme = batch.participations[(cordis.HORIZON, "101000001", "999000001", "coordinator")]
    assert acme.name == "ACME; SOCIETE ANONYME"
    assert acme.contribution == Decimal("2835524.25")
    greek = batch.participations[(cordis.HORIZON, "101000001", "999000002", "associated_partner")]
    assert greek.country == "GR"
    assert batch.skipped == 1
    assert batch.projects[(cordis.HORIZON, "101000001")].acronym == "TESTPROJ"


def test_missing_columns_are_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "organization.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(cordis.CordisFormatError, match="missing column"):
        cordis.read_horizon_europe_export(tmp_path)


def test_nz_compilation_keeps_real_names_and_whole_consortia() -> None:
    # Given the first two projects of the NZ compilation
    data = json.loads(NZ.read_text(encoding="utf-8"))

    # When it is read
    batch = cordis.read_horizon_europe_nz(NZ)

    # Then every organisation entry is a participation, with its name and normalized role
    assert len(batch.projects) == 2
    assert len(batch.participations) == sum(len(p["organisations"]) for p in data["projects"])
    first = data["projects"][0]
    coordinator = first["coordinator"]
    record = batch.participations[(cordis.HORIZON, first["id"], coordinator["id"], "coordinator")]
    assert record.name == coordinator["name"]
    assert record.country == coordinator["countryCode"]
    roles = {p.role for p in batch.participations.values()}
    assert "associated_partner" in roles
    project = batch.projects[(cordis.HORIZON, first["id"])]
    assert (project.acronym, project.programme_part) == (first["acronym"], first["clusterCode"])


def test_only_projects_of_keeps_whole_consortia() -> None:
    batch = cordis.read_h2020(H2020, PARTS)
    moroccan = next(p for p in batch.participations.values() if p.country == "MA")

    subset = batch.only_projects_of([moroccan.pic])

    assert {key[1] for key in subset.projects} == {
        p.reference for p in batch.participations.values() if p.pic == moroccan.pic
    }
    assert len(subset.participations) > len(subset.projects)  # partners came along


def test_sample_pics_are_real_deterministic_and_filtered() -> None:
    french = cordis.sample_pics(5, "FR", path=H2020)
    assert french == cordis.sample_pics(5, "FR", path=H2020)
    assert len(french) == 5
    rows = _h2020_rows()
    french_pics = {r["pic"] for r in rows if r["country"] == "FR"}
    assert set(french) <= french_pics
    assert set(cordis.sample_pics(50, "MA", path=H2020)) == {r["pic"] for r in rows if r["country"] == "MA"}
    assert cordis.sample_pics(3, "EL", path=H2020) == cordis.sample_pics(3, "GR", path=H2020)
    assert cordis.sample_pics(3, path=FIXTURES / "missing.csv.gz") == []


# --- Import ------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_links_members_by_pic_and_signals_them_once(signals: list[list[int]]) -> None:
    # Given two members whose PICs appear in the data, and one without a PIC
    batch = cordis.read_h2020(H2020, PARTS)
    batch.extend(cordis.read_horizon_europe_nz(NZ))
    rows = _h2020_rows()
    pic_a, pic_b = rows[0]["pic"], rows[1]["pic"]
    member_a, member_b = _member("A", pic_a), _member("B", pic_b)
    bystander = _member("C", None)

    # When the batch is imported
    result = import_cordis(batch, batch_size=50)

    # Then every project and participation is stored, members are linked, and they are signalled once
    assert EUProject.objects.count() == len(batch.projects) == result.projects
    assert EUParticipation.objects.count() == len(batch.participations) == result.participations
    assert set(EUParticipation.objects.filter(pic=pic_a).values_list("organization_id", flat=True)) == {member_a.pk}
    assert signals == [sorted([member_a.pk, member_b.pk])]
    member_a.refresh_from_db()
    bystander.refresh_from_db()
    assert member_a.version == 2
    assert bystander.version == 1
    assert EUParticipation.objects.filter(pic=rows[2]["pic"], organization__isnull=True).exists()

    # When the same data is imported again
    again = import_cordis(batch)

    # Then nothing changes and nobody is signalled
    assert EUParticipation.objects.count() == again.participations == result.participations
    assert signals == [sorted([member_a.pk, member_b.pk])]
    member_a.refresh_from_db()
    assert member_a.version == 2


@pytest.mark.django_db
def test_reimport_updates_values_in_place() -> None:
    batch = cordis.read_horizon_europe_nz(NZ)
    import_cordis(batch)
    first = next(iter(batch.participations.values()))
    EUParticipation.objects.filter(pic=first.pic).update(name="stale", contribution=None)

    import_cordis(batch)

    stored = EUParticipation.objects.get(project__reference=first.reference, pic=first.pic, role=first.role)
    assert stored.name == first.name
    assert stored.contribution == first.contribution


@pytest.mark.django_db
def test_pic_set_after_the_import_is_linked(signals: list[list[int]]) -> None:
    import_cordis(cordis.read_h2020(H2020, PARTS))
    pic = _h2020_rows()[0]["pic"]
    member = _member("Late", None)
    signals.clear()

    Organization.objects.filter(pk=member.pk).update(pic=pic)
    changed = link_participations([member.pk])

    assert changed == [member.pk]
    assert signals == [[member.pk]]
    assert EUParticipation.objects.filter(organization=member).count() == sum(
        1 for r in _h2020_rows() if r["pic"] == pic
    )
    assert link_participations([member.pk]) == []


@pytest.mark.django_db
def test_demo_members_with_sampled_pics_get_whole_consortia(signals: list[list[int]]) -> None:
    # Given demo members carrying real PICs sampled from the H2020 file
    pics = cordis.sample_pics(2, "MA", path=H2020)
    members = [_member(f"Demo {i}", pic, country="MA") for i, pic in enumerate(pics)]

    # When only their projects are imported
    result = import_h2020_track_records(pics, directory=FIXTURES)

    # Then each has a track record with its partners, and nothing else was imported
    assert result is not None
    assert signals == [sorted(m.pk for m in members)]
    for member in members:
        record = track_record(member)
        assert record.project_count >= 1
        assert record.partner_countries
    rows = _h2020_rows()
    projects = {r["rcn"] for r in rows if r["pic"] in pics}
    assert EUParticipation.objects.count() == sum(1 for r in rows if r["rcn"] in projects)
    assert import_h2020_track_records(pics, directory=FIXTURES / "missing") is None


# --- Selector ------------------------------------------------------------------------


@pytest.mark.django_db
def test_track_record_lists_projects_roles_parts_and_partner_countries() -> None:
    # Given the Moroccan participant of a real H2020 project, as a member
    rows = [r for r in _h2020_rows() if r["rcn"] == MOROCCAN_PROJECT]
    moroccan = next(r for r in rows if r["country"] == "MA")
    member = _member("Moroccan member", moroccan["pic"], country="MA")
    import_cordis(cordis.read_h2020(H2020, PARTS))

    # When its track record is read
    record = track_record(member)

    # Then the project is there with its role, programme part and the partners' countries (not its own row)
    project = next(p for p in record.projects if p.reference == MOROCCAN_PROJECT)
    assert project.roles == (moroccan["role"],)
    partners = [r for r in rows if r["pic"] != moroccan["pic"]]
    assert project.partner_count == len({r["pic"] for r in partners})
    assert set(project.partner_countries) == {cordis.normalize_country(r["country"]) for r in partners}
    assert record.project_count == len({r["rcn"] for r in _h2020_rows() if r["pic"] == moroccan["pic"]})
    assert record.roles[moroccan["role"]] >= 1
    assert sum(record.partner_countries.values()) >= len(project.partner_countries)


@pytest.mark.django_db
def test_track_record_of_an_organization_without_pic_is_empty() -> None:
    import_cordis(cordis.read_h2020(H2020, limit=20))
    record = track_record(_member("No PIC", None))
    assert record.project_count == 0
    assert record.partner_countries == {}


# --- Command -------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_imports_named_files_with_progress_and_summary() -> None:
    out = StringIO()
    call_command(
        "import_cordis",
        "--h2020", str(H2020),
        "--programme-parts", str(PARTS),
        "--horizon-europe", str(HORIZON),
        "--nz", str(NZ),
        "--batch-size", "100",
        stdout=out,
    )  # fmt: skip
    output = out.getvalue()
    assert "participations:" in output
    assert "/s ETA" in output
    assert output.strip().splitlines()[-1].startswith("Imported ")
    assert EUProject.objects.filter(framework=cordis.HORIZON).exists()
    assert EUProject.objects.filter(framework=cordis.H2020).exists()


@pytest.mark.django_db
def test_command_uses_the_data_dir_by_default(settings: Any) -> None:
    settings.CORDIS_DATA_DIR = FIXTURES
    out = StringIO()
    call_command("import_cordis", stdout=out)
    assert EUParticipation.objects.count() == len(cordis.read_h2020(H2020).participations) + len(
        cordis.read_horizon_europe_export(HORIZON).participations
    ) + len(cordis.read_horizon_europe_nz(NZ).participations)


@pytest.mark.django_db
def test_command_rejects_missing_files_and_changes_nothing(tmp_path: Path, settings: Any) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_cordis", "--h2020", str(tmp_path / "nope.csv"), stdout=StringIO())
    settings.CORDIS_DATA_DIR = tmp_path / "nowhere"
    with pytest.raises(CommandError, match="CORDIS_DATA_DIR"):
        call_command("import_cordis", stdout=StringIO())
    (tmp_path / "broken.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_cordis", "--h2020", str(tmp_path / "broken.csv"), stdout=StringIO())
    assert not EUParticipation.objects.exists()
