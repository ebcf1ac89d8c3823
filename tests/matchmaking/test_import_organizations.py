"""import_organizations: good CSV/JSON, semicolon+BOM, broken files, upserts, dry run, atomicity, --skip-invalid."""

from __future__ import annotations

import contextlib
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from matchmaking.models import Invitation, Membership, MembershipStatus, Organization, ProfileStatus
from tests.matchmaking.conftest import World

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "organizations"


def run(*args: Any, **options: Any) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_organizations", *[str(a) for a in args], stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def imported(world: World) -> list[Organization]:
    return list(
        Organization.objects.filter(memberships__cluster=world.clusters["ir"]).exclude(
            pk__in=[world.orgs[k].pk for k in "GHI"]
        )
    )


def test_good_csv_creates_admitted_validated_members(world: World, org_signals: Any) -> None:
    out, _err = run(FIXTURES / "good.csv", cluster="ir")  # cluster code is case-insensitive
    orgs = {org.legal_name: org for org in imported(world)}
    assert set(orgs) == {"Breizh Radio Lab SAS", "Kerlan Sécurité SARL", "أطلس للحلول الرقمية"}
    arabic = orgs["أطلس للحلول الرقمية"]
    assert arabic.country == "MA"
    assert arabic.ice == "170009000900472"
    assert sorted(arabic.themes.values_list("code", flat=True)) == ["cybersecurity", "e-payment"]
    assert arabic.visibility == "cluster"
    assert arabic.languages == ["ar", "fr"]
    radio = orgs["Breizh Radio Lab SAS"]
    assert radio.competences == ["5G", "Open RAN", "edge computing"]
    assert radio.latitude == pytest.approx(48.7326)
    kerlan = orgs["Kerlan Sécurité SARL"]
    assert kerlan.siren == "940090020"  # spaces stripped
    assert kerlan.visibility == "partners"  # empty cell: default
    assert "« red team »" in kerlan.description_fr
    for org in orgs.values():
        membership = Membership.objects.get(organization=org, cluster=world.clusters["ir"])
        assert membership.status == MembershipStatus.ADMITTED
        assert org.profile_status == ProfileStatus.VALIDATED
    assert Membership.objects.get(organization=kerlan).fee_tier == "sme"  # derived from kind
    assert Membership.objects.get(organization=radio).fee_tier == "startup"
    assert "3 of 3 rows valid for IR (3 new, 0 updated, 0 rejected)" in out
    assert org_signals.ids == {org.pk for org in orgs.values()}


def test_contact_without_account_gets_a_prepared_invitation_when_staff_exist(world: World) -> None:
    # IR has no staff in the world, so nothing can invite; with a staff member an invitation is prepared
    from matchmaking.models import ClusterStaff

    ClusterStaff.objects.create(user=world.users["mnc_broker"], cluster=world.clusters["ir"], role="admin")
    run(FIXTURES / "good.csv", cluster="IR")
    invitation = Invitation.objects.get()
    assert invitation.email == "contact@kerlan.example"
    assert invitation.role == "owner"


def test_semicolon_csv_with_bom_reimports_as_updates(world: World) -> None:
    run(FIXTURES / "good.csv", cluster="IR")
    versions = {org.pk: org.version for org in imported(world)}
    out, _err = run(FIXTURES / "semicolon_bom.csv", cluster="IR")
    assert "(0 new, 3 updated, 0 rejected)" in out
    after = imported(world)
    assert len(after) == 3  # no duplicates
    assert all(org.version > versions[org.pk] for org in after)
    assert {org.legal_name for org in after} >= {"أطلس للحلول الرقمية"}


def test_good_json_and_upsert_across_formats(world: World) -> None:
    run(FIXTURES / "good.csv", cluster="IR")
    out, _err = run(FIXTURES / "good.json", cluster="IR")
    # The JSON gives Kerlan another SIREN: a new organization; the other two match by identifier.
    assert "(1 new, 2 updated, 0 rejected)" in out
    assert Organization.objects.filter(legal_name="Kerlan Sécurité SARL").count() == 2
    assert Organization.objects.filter(legal_name="Breizh Radio Lab SAS").count() == 1


def test_existing_membership_is_admitted_by_import(world: World) -> None:
    # given an org that applied to IR; when IR imports it (matched by SIREN); then admitted, not duplicated
    org = world.orgs["E"]
    Organization.objects.filter(pk=org.pk).update(siren="940090012")
    Membership.objects.create(organization=org, cluster=world.clusters["ir"], status="applied", fee_tier="sme")
    run(FIXTURES / "good.csv", cluster="IR")
    org.refresh_from_db()
    assert org.legal_name == "Breizh Radio Lab SAS"
    assert Membership.objects.get(organization=org, cluster=world.clusters["ir"]).status == "admitted"
    assert Membership.objects.get(organization=org, cluster=world.clusters["mnc"]).status == "applied"


def test_dry_run_writes_nothing(world: World) -> None:
    before = Organization.objects.count()
    out, _err = run(FIXTURES / "good.json", cluster="IR", dry_run=True)
    assert out.startswith("Dry run, nothing written: 3 of 3 rows valid")
    assert Organization.objects.count() == before


def test_bad_identifiers_are_all_reported_and_nothing_is_written(world: World) -> None:
    before = Organization.objects.count()
    with pytest.raises(CommandError, match="Nothing imported: 1 of 6 rows valid"):
        run(FIXTURES / "bad_identifiers.csv", cluster="IR")
    _out, err = _capture_errors(FIXTURES / "bad_identifiers.csv")
    assert "line 2: siren: SIREN check digit is wrong (Luhn)." in err
    assert "line 3: siren: SIREN must be exactly 9 digits." in err
    assert "line 4: ice: ICE must be exactly 15 digits." in err  # Arabic-Indic digits
    assert "line 5: pic: The EU PIC must be exactly 9 digits." in err
    assert "line 6: kind:" in err
    assert "line 6: latitude:" in err
    assert "line 6: legal_name: This field is required." in err
    assert "line 7" not in err
    assert Organization.objects.count() == before


def _capture_errors(path: Path, **options: Any) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with contextlib.suppress(CommandError):  # the report on stderr is what these tests read
        call_command("import_organizations", str(path), cluster="IR", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_skip_invalid_writes_only_the_valid_rows(world: World) -> None:
    out, _err = run(FIXTURES / "bad_identifiers.csv", cluster="IR", skip_invalid=True)
    assert "Imported 1 of 6 rows valid" in out
    assert [org.legal_name for org in imported(world)] == ["Good One SAS"]


def test_missing_and_unknown_columns(world: World) -> None:
    with pytest.raises(CommandError, match=r"missing required column\(s\): kind, country; unknown column\(s\): colour"):
        run(FIXTURES / "missing_columns.csv", cluster="IR")


def test_malformed_json_names_the_line(world: World) -> None:
    with pytest.raises(CommandError, match="Malformed JSON at line 3"):
        run(FIXTURES / "malformed.json", cluster="IR")


def test_wrong_types_in_json(world: World) -> None:
    _out, err = _capture_errors(FIXTURES / "wrong_types.json")
    assert "line 2: siren: identifiers must be text in JSON" in err
    assert "line 8: competences: expected a list of texts" in err
    assert "line 8: latitude:" in err
    assert "line 15: legal_name: expected text." in err
    assert "line 22: row: expected an object" in err
    assert "line 23: row: unknown field(s): colour" in err
    assert not imported(world)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\xff\xfelegal_name,kind,country\n", "not UTF-8"),
        (b'legal_name,kind,country\n"unterminated,sme,FR\n', "Malformed CSV|expected 3 columns"),
        (b"legal_name,kind,country\nA,sme\n", None),  # a short row is a rejected row, not a crash
    ],
)
def test_broken_csv_files_get_clear_errors(world: World, tmp_path: Path, content: bytes, message: str | None) -> None:
    path = tmp_path / "directory.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        run(path, cluster="IR")
    if message:
        import re

        assert re.search(message, str(error.value))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"legal_name": "x"}', "must contain a list"),
        ("[", "not closed"),
        ('[{"legal_name": "A", "kind": "sme", "country": "FR"}] trailing', "after the list"),
        ("not json at all", "Malformed JSON at line 1"),
    ],
)
def test_broken_json_files_get_clear_errors(world: World, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "directory.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        run(path, cluster="IR")


def test_command_errors_for_bad_arguments(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Unknown cluster"):
        run(FIXTURES / "good.csv", cluster="NOPE")
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.csv", cluster="IR")
    (tmp_path / "directory.xlsx").write_bytes(b"PK")
    with pytest.raises(CommandError, match="--format"):
        run(tmp_path / "directory.xlsx", cluster="IR")


def test_huge_json_is_refused_before_parsing(world: World, tmp_path: Path, monkeypatch: Any) -> None:
    from matchmaking.management.commands import import_organizations

    monkeypatch.setattr(import_organizations, "MAX_JSON_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"legal_name": "x" * 200, "kind": "sme", "country": "FR"}]), encoding="utf-8")
    with pytest.raises(CommandError, match="the limit for JSON"):
        run(path, cluster="IR")


def test_duplicate_identifier_inside_one_file(world: World, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("legal_name,kind,country,siren\nA,sme,FR,732829320\nB,sme,FR,732 829 320\n", encoding="utf-8")
    _out, err = _capture_errors(path)
    assert "line 3: siren: 732829320 is repeated (first on line 2)." in err


def test_identifier_of_another_organization_is_rejected(world: World, tmp_path: Path) -> None:
    # given A has a PIC and B a SIREN; a row matching A by PIC but carrying B's SIREN is a conflict
    Organization.objects.filter(pk=world.orgs["A"].pk).update(pic="999999998")
    Organization.objects.filter(pk=world.orgs["B"].pk).update(siren="732829320")
    path = tmp_path / "conflict.csv"
    path.write_text("legal_name,kind,country,pic,siren\nA2,sme,MA,999999998,732829320\n", encoding="utf-8")
    _out, err = _capture_errors(path)
    assert f"already belongs to another organization (id {world.orgs['B'].pk})" in err


def test_large_file_shows_progress(world: World, tmp_path: Path) -> None:
    import csv

    from matchmaking.demo import generate_organizations
    from matchmaking.management.commands.import_organizations import PROFILE_FIELDS

    path = tmp_path / "large.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PROFILE_FIELDS)
        for row in generate_organizations(2500, 11, clusters=["IMAGES-RESEAUX"], salt=4):
            writer.writerow(
                [
                    "|".join(v) if isinstance(v, list) else "" if v is None else v
                    for v in (row[f] for f in PROFILE_FIELDS)
                ]
            )
    out, err = run(path, cluster="IR")
    assert "2500 of 2500 rows valid" in out
    assert "Writing: 2,500/2,500 (100%)" in err
    assert "rows/s" in err


def test_rows_without_identifier_upsert_by_name_and_country(world: World, tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("legal_name,kind,country,city\nSans Numéro SARL,sme,MA,Rabat\n", encoding="utf-8")
    run(path, cluster="IR")
    path.write_text("legal_name,kind,country,city\nsans numéro sarl,sme,MA,Tanger\n", encoding="utf-8")
    out, _err = run(path, cluster="IR")
    assert "(0 new, 1 updated, 0 rejected)" in out
    org = Organization.objects.get(legal_name__iexact="sans numéro sarl")
    assert org.city == "Tanger"
    path.write_text("legal_name,kind,country\nDeux SARL,sme,MA\nDEUX SARL,sme,MA\n", encoding="utf-8")
    _out, err = _capture_errors(path)
    assert "line 3: legal_name: same name and country as line 2" in err
