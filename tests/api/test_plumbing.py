"""maillage/api.py: the shared parsers and exception handler, for every app's API."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.db import IntegrityError
from rest_framework.exceptions import ParseError

from maillage.api import FormParser, JSONParser, PayloadTooLarge, exception_handler

LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class Unsized(io.BytesIO):
    """A stream that lies about nothing and tells nothing: no Content-Length to trust."""


def test_json_parser_stops_reading_past_the_limit() -> None:
    stream = Unsized(b'"' + b"a" * (LIMIT + 100) + b'"')

    with pytest.raises(PayloadTooLarge):
        JSONParser().parse(stream)

    assert stream.tell() == LIMIT + 1  # never more than one byte past the limit held in memory


def test_json_parser_accepts_a_body_at_the_limit() -> None:
    body = b'"' + b"a" * (LIMIT - 2) + b'"'

    assert len(JSONParser().parse(io.BytesIO(body))) == LIMIT - 2


def test_json_parser_honours_a_declared_charset() -> None:
    data = JSONParser().parse(io.BytesIO('{"a": "Société"}'.encode("latin-1")), parser_context={"encoding": "latin-1"})

    assert data == {"a": "Société"}


def test_json_parser_accepts_a_utf8_byte_order_mark() -> None:
    assert JSONParser().parse(io.BytesIO(b'\xef\xbb\xbf{"a": 1}')) == {"a": 1}


@pytest.mark.parametrize(
    "body",
    [b'{"a": "\\ud83d"}', b"[" * 33 + b"]" * 33, b'{"a": -Infinity}', b"\xc3\x28"],
)
def test_json_parser_refusals_are_parse_errors(body: bytes) -> None:
    with pytest.raises(ParseError):
        JSONParser().parse(io.BytesIO(body))


def test_json_parser_accepts_32_levels() -> None:
    body = b"[" * 32 + b'"deep"' + b"]" * 32

    assert JSONParser().parse(io.BytesIO(body))


def test_form_parser_has_the_same_limit() -> None:
    with pytest.raises(PayloadTooLarge):
        FormParser().parse(Unsized(b"a=" + b"b" * LIMIT), parser_context={"encoding": "utf-8"})


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (RequestDataTooBig(), 413, None),
        (TooManyFieldsSent(), 400, None),
        (IntegrityError("unique"), 409, None),
        (ValidationError({"siren": "Bad."}), 400, {"siren": ["Bad."]}),
        (ValidationError({NON_FIELD_ERRORS: "Whole."}), 400, {"non_field_errors": ["Whole."]}),
        (ValidationError("Plain."), 400, {"non_field_errors": ["Plain."]}),
        (ValidationError(["One.", "Two."]), 400, {"non_field_errors": ["One.", "Two."]}),
    ],
)
def test_exception_handler_maps_request_and_domain_errors(exc: Exception, status: int, body: Any) -> None:
    response = exception_handler(exc, {})

    assert response is not None
    assert response.status_code == status
    if body is not None:
        assert response.data == body
    else:
        assert "detail" in response.data


def test_unexpected_errors_are_left_alone() -> None:
    assert exception_handler(RuntimeError("bug"), {}) is None


def test_server_errors_under_api_are_json(rf: Any) -> None:
    from maillage.api import server_error

    response = server_error(rf.get("/api/organizations/"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
