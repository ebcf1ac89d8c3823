"""Identifier validators: good and bad SIREN, SIRET, ICE and PIC (checksums, letters, Arabic digits, lengths)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from matchmaking.demo import ice_for, pic_for, siren_for, siret_for
from matchmaking.validators import (
    validate_country_code,
    validate_ice,
    validate_language_codes,
    validate_pic,
    validate_siren,
    validate_siret,
    validate_string_list,
)

GOOD_SIREN = "732829320"
GOOD_SIRET = "73282932000074"


@pytest.mark.parametrize("value", [GOOD_SIREN, "552100554", siren_for(0), siren_for(123_456, 3)])
def test_good_siren(value: str) -> None:
    validate_siren(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("732829321", "invalid_checksum"),  # last digit changed: Luhn fails
        ("73282932", "invalid_format"),  # 8 digits
        ("7328293200", "invalid_format"),  # 10 digits
        ("73282932A", "invalid_format"),  # letter
        ("٧٣٢٨٢٩٣٢٠", "invalid_format"),  # Arabic-Indic digits are digits to Python, not to SIREN
        ("732 829 320", "invalid_format"),  # validators see compact values; services strip spaces first
        ("", "invalid_format"),
    ],
)
def test_bad_siren(value: str, code: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_siren(value)
    assert error.value.code == code


@pytest.mark.parametrize("value", [GOOD_SIRET, siret_for(siren_for(42), 7)])
def test_good_siret(value: str) -> None:
    validate_siret(value)


@pytest.mark.parametrize(
    "value", ["73282932000075", "7328293200007", "732829320000744", "7328293200007X", "٧٣٢٨٢٩٣٢٠٠٠٠٧٤"]
)
def test_bad_siret(value: str) -> None:
    with pytest.raises(ValidationError):
        validate_siret(value)


@pytest.mark.parametrize("value", [ice_for(0), ice_for(99, 2), ice_for(7)])
def test_good_ice(value: str) -> None:
    validate_ice(value)


@pytest.mark.parametrize(
    "value",
    [
        ice_for(0)[:-1] + str((int(ice_for(0)[-1]) + 1) % 10),  # check digits wrong
        ice_for(0)[:-1],  # 14 digits
        ice_for(0) + "0",  # 16 digits
        "00152532600008A",
        "٠٠١٥٢٥٣٢٦٠٠٠٠٨٨",
    ],
)
def test_bad_ice(value: str) -> None:
    with pytest.raises(ValidationError):
        validate_ice(value)


@pytest.mark.parametrize("value", ["999999998", pic_for(1)])
def test_good_pic(value: str) -> None:
    validate_pic(value)


@pytest.mark.parametrize("value", ["12345678", "1234567890", "12345678A", "١٢٣٤٥٦٧٨٩", " 99999999", "999999998\n"])
def test_bad_pic(value: str) -> None:
    with pytest.raises(ValidationError):
        validate_pic(value)


def test_country_and_lists() -> None:
    validate_country_code("MA")
    for bad in ["ma", "MAR", "", "M1", "MA\n"]:
        with pytest.raises(ValidationError):
            validate_country_code(bad)
    validate_language_codes(["fr", "ar", "en"])
    for bad_list in [["fra"], "fr", [1], [""], ["x" * 121]]:
        with pytest.raises(ValidationError):
            validate_language_codes(bad_list)
    validate_string_list(["cybersécurité", "الأمن السيبراني"])
    with pytest.raises(ValidationError):
        validate_string_list(["a"] * 101)
