"""Validators for identifiers and list fields.

National identifiers are checked with python-stdnum (Luhn for SIREN/SIRET,
the ICE check digits for Morocco) rather than hand-written arithmetic.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret
from stdnum.ma import ice as stdnum_ice

# ISO 3166-1 alpha-2 as used by CORDIS too (EL and UK are CORDIS spellings,
# kept so that imported track records keep their country).
# fullmatch with explicit ASCII classes: `\d` also matches Arabic-Indic digits and
# `$` accepts a trailing newline, neither of which an identifier may contain.
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_PIC_RE = re.compile(r"[0-9]{9}")
MAX_LIST_ITEMS = 100
MAX_ITEM_LENGTH = 120


def _digits_only(value: str, length: int, label: str) -> None:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) != length:
        raise ValidationError(
            _("%(label)s must be exactly %(length)d digits."),
            code="invalid_format",
            params={"label": label, "length": length},
        )


def validate_siren(value: str) -> None:
    _digits_only(value, 9, "SIREN")
    if not stdnum_siren.is_valid(value):
        raise ValidationError(_("SIREN check digit is wrong (Luhn)."), code="invalid_checksum")


def validate_siret(value: str) -> None:
    _digits_only(value, 14, "SIRET")
    if not stdnum_siret.is_valid(value):
        raise ValidationError(_("SIRET check digit is wrong (Luhn)."), code="invalid_checksum")


def validate_ice(value: str) -> None:
    _digits_only(value, 15, "ICE")
    if not stdnum_ice.is_valid(value):
        raise ValidationError(_("ICE check digits are wrong."), code="invalid_checksum")


def validate_pic(value: str) -> None:
    if not isinstance(value, str) or not _PIC_RE.fullmatch(value):
        raise ValidationError(_("The EU PIC must be exactly 9 digits."), code="invalid_format")


def validate_country_code(value: str) -> None:
    if not isinstance(value, str) or not _COUNTRY_RE.fullmatch(value):
        raise ValidationError(_("Use a two-letter country code in capitals, e.g. MA or FR."), code="invalid_country")


def validate_string_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("Expected a list of texts."), code="invalid_list")
    if len(value) > MAX_LIST_ITEMS:
        raise ValidationError(_("At most %(n)d entries."), code="too_many", params={"n": MAX_LIST_ITEMS})
    for item in value:
        if not item.strip():
            raise ValidationError(_("Entries cannot be empty."), code="empty_item")
        if len(item) > MAX_ITEM_LENGTH:
            raise ValidationError(
                _("Each entry is at most %(n)d characters."), code="item_too_long", params={"n": MAX_ITEM_LENGTH}
            )


def validate_language_codes(value: Any) -> None:
    validate_string_list(value)
    for item in value:
        if not _LANGUAGE_RE.fullmatch(item):
            raise ValidationError(
                _("“%(code)s” is not a two-letter language code (e.g. fr, en, ar)."),
                code="invalid_language",
                params={"code": item},
            )
