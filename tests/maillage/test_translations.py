"""The French catalogs are complete: French is the interface's first language.

`make messages` extracts new strings with an empty translation, and gettext marks a
changed one fuzzy (compiled catalogs skip fuzzy entries): either way French users
would read English. The compiled catalog must also match its source.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
APPS = ["maillage", "matchmaking", "search", "messaging", "frontend"]
CATALOGS = sorted((LOCALE / "fr" / "LC_MESSAGES").glob("*.po"))


def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def entries(path: Path) -> list[dict[str, str | bool]]:
    """Each entry's msgid, its (first) translation, whether all its forms are translated,
    and its fuzzy flag; the header is left out."""
    out: list[dict[str, str | bool]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, list[str]] = {}
        current = None
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) (".*")$', line)
            if match:
                current = match.group(1)
                fields[current] = [match.group(2)]
            elif line.startswith('"') and current is not None:
                fields[current].append(line)
        if "msgid" not in fields:
            continue
        msgid = _unquote(fields["msgid"])
        if not msgid:
            continue  # the header
        translations = [_unquote(v) for k, v in fields.items() if k.startswith("msgstr")]
        out.append({"msgid": msgid, "msgstr": translations[0], "translated": all(translations), "fuzzy": fuzzy})
    return out


def test_the_reader_finds_the_french_catalogs_entries() -> None:
    assert "django.po" in [path.name for path in CATALOGS]
    found = entries(LOCALE / "fr" / "LC_MESSAGES" / "django.po")
    assert len(found) > 100
    assert {"msgid": "Invalid token.", "msgstr": "Jeton invalide.", "translated": True, "fuzzy": False} in found


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.name)
def test_every_string_is_translated_to_french(path: Path) -> None:
    found = entries(path)
    missing = [e["msgid"] for e in found if not e["translated"]]
    fuzzy = [e["msgid"] for e in found if e["fuzzy"]]
    assert not missing, f"untranslated in {path.name}: {missing}"
    assert not fuzzy, f"fuzzy (left out of the compiled catalog) in {path.name}: {fuzzy}"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.name)
def test_the_compiled_catalog_matches_its_source(path: Path) -> None:
    with path.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        entry["msgid"]
        for entry in entries(path)
        if entry["translated"] and compiled.gettext(str(entry["msgid"])) != entry["msgstr"]
    ]
    assert not stale, f"{path.with_suffix('.mo').name} is older than its source (make messages): {stale}"


def test_the_french_catalog_holds_every_string_of_the_code(tmp_path: Path) -> None:
    """What `make messages` would extract today is already in the catalog (so translated, above)."""
    for name in APPS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "es_plugin"))
    shutil.copytree(LOCALE, tmp_path / "locale")
    shutil.copy(ROOT / "manage.py", tmp_path)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "maillage.settings"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "-v", "0"],
        cwd=tmp_path, env=env, check=True, timeout=120,
    )  # fmt: skip
    extracted = {e["msgid"] for e in entries(tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po")}
    catalog = {e["msgid"] for e in entries(LOCALE / "fr" / "LC_MESSAGES" / "django.po")}
    assert len(extracted) > 100
    assert not sorted(map(str, extracted - catalog)), "run `make messages` and translate the new strings"
