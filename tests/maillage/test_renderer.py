"""The API's JSON renderer writes the same bytes as DRF's, faster."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFRenderer

from maillage.api import JSONRenderer

PAYLOAD: dict[Any, Any] = {
    "text": 'Réseaux & مرحبا 🚀 "quoted" <mark>x</mark> \\ \n\t',
    "separators": "line\u2028paragraph\u2029end",
    "numbers": [0, -1, 2**53, 1.5, 0.1, 1234.5678, True, False, None],
    "lazy": gettext_lazy("Cluster"),
    "when": dt.datetime(2026, 11, 26, 9, 30, 15, 123456, tzinfo=dt.UTC),
    "naive": dt.datetime(2026, 11, 26, 9, 30),
    "day": dt.date(2026, 11, 26),
    "time": dt.time(9, 30, 15, 5000),
    "duration": dt.timedelta(minutes=90),
    "amount": Decimal("12.50"),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "nested": {"empty": [], "tuple": (1, "a"), "deep": {"k": [{"v": "é"}]}},
    7: "integer key",
}


def test_same_bytes_as_drf() -> None:
    assert JSONRenderer().render(PAYLOAD) == DRFRenderer().render(PAYLOAD)


def test_floats_keep_their_value() -> None:
    # Only the spelling of exponents may differ (1e-7 for 1e-07); the value read back is the same
    floats = {"f": [1e-7, 3.0e21, -2.5e-300, 0.1 + 0.2]}
    assert json.loads(JSONRenderer().render(floats)) == json.loads(DRFRenderer().render(floats)) == floats


def test_separators_are_escaped_for_javascript() -> None:
    out = JSONRenderer().render({"s": "a\u2028b\u2029c"})
    assert out == b'{"s":"a\\u2028b\\u2029c"}'


@pytest.mark.parametrize("media_type", ["application/json; indent=4", "application/json; indent=2"])
def test_pretty_printing_is_drfs(media_type: str) -> None:
    assert JSONRenderer().render(PAYLOAD, media_type) == DRFRenderer().render(PAYLOAD, media_type)


def test_what_orjson_refuses_goes_through_drf() -> None:
    # Integers beyond 64 bits: orjson refuses them, DRF writes them
    huge = {"n": 2**70}
    assert JSONRenderer().render(huge) == b'{"n":1180591620717411303424}'
    assert JSONRenderer().render(None) == b""
