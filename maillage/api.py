"""Project-wide API plumbing shared by every app's `api/` package.

* `exception_handler` turns domain errors raised by services (Django's
  `ValidationError` / `PermissionDenied`) and request-level failures (body too
  large, bad encoding) into clear 4xx JSON responses, so views stay thin.
* `JSONParser` is DRF's parser hardened against hostile bodies: a size limit
  enforced while reading (a missing or lying Content-Length cannot bypass it),
  strict UTF-8, no lone surrogates anywhere (they would make the response
  encoder fail later), no NaN/Infinity, bounded nesting.
* `JSONRenderer` is DRF's, writing with orjson.
* `TokenAuthentication` is DRF's, with the token's user read by a query
  compiled once per process.
* `Pagination` is page-number pagination with a bounded, client-chosen size.
* The `Strict*Field` classes refuse JSON values of the wrong type instead of
  coercing them (DRF turns `123` into `"123"` and `"yes"` into `True`).

Error format (documented in the README): a 4xx body is either
``{"detail": "message"}`` or, for invalid input, an object mapping each field
to a list of messages, with ``non_field_errors`` for errors about the whole
body.
"""

from __future__ import annotations

import codecs
import functools
import logging
import re
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError
from django.db.models import IntegerField, QuerySet, Value
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import defaults
from rest_framework import authentication, exceptions, parsers, renderers, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils import encoders, json

from maillage.db import CompiledQuery
from matchmaking import access

logger = logging.getLogger(__name__)

# JSON nested deeper than this is not something any Maillage endpoint accepts;
# refusing it early keeps Python's recursion limit out of reach.
MAX_JSON_DEPTH = 32
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This change conflicts with existing data; reload and try again.")
    default_code = "conflict"


def body_limit() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(_("The request body is too large (at most %(limit)d bytes).") % {"limit": body_limit()})


def _read_limited(stream: Any) -> bytes:
    """Read the body, stopping one byte past the limit so a huge body is never held in memory."""
    limit = body_limit()
    if not limit:
        return bytes(stream.read())
    data = bytes(stream.read(limit + 1))
    if len(data) > limit:
        raise _too_large()
    return data


def _check_strings(value: Any, depth: int = 1) -> None:
    """Walk the parsed body: `depth` counts the objects and arrays around `value`, itself included."""
    if isinstance(value, str):
        if _SURROGATE_RE.search(value):
            raise exceptions.ParseError(_("The body contains an invalid Unicode character (a lone surrogate)."))
        return
    if not isinstance(value, dict | list):
        return
    if depth > MAX_JSON_DEPTH:
        raise exceptions.ParseError(_("JSON is nested too deeply (at most %(n)d levels).") % {"n": MAX_JSON_DEPTH})
    if isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, depth)
            _check_strings(item, depth + 1)
    else:
        for item in value:
            _check_strings(item, depth + 1)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a size limit, strict decoding and bounded nesting."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding") or settings.DEFAULT_CHARSET
        raw = _read_limited(stream)
        try:
            text = codecs.decode(raw, "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(
                _("The body is not valid %(encoding)s text.") % {"encoding": encoding.upper()}
            ) from exc
        try:
            data = json.loads(text, parse_constant=json.strict_constant)
        except RecursionError as exc:
            raise exceptions.ParseError(_("JSON is nested too deeply.")) from exc
        except ValueError as exc:
            raise exceptions.ParseError(_("Malformed JSON: %(error)s") % {"error": exc}) from exc
        _check_strings(data)
        return data


class FormParser(parsers.FormParser):
    """DRF's form parser with the same size limit as the JSON parser."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        import io

        return super().parse(io.BytesIO(_read_limited(stream)), media_type, parser_context)


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, writing with orjson: a tenth of the time on a page of search results.

    The same bytes as DRF's compact UTF-8 output: orjson writes what it writes alike (text,
    numbers, lists, dicts, booleans, null, UUIDs); DRF's encoder still writes the rest (dates,
    lazy translations, decimals, durations). Pretty-printing (`; indent=`) and anything orjson
    refuses go through DRF's own renderer.
    """

    _encoder = encoders.JSONEncoder()
    _options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        plain = self.compact and not self.ensure_ascii
        if data is None or not plain or self.get_indent(accepted_media_type or "", renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=self._encoder.default, option=self._options)
        except (orjson.JSONEncodeError, TypeError, ValueError):
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: line and paragraph separators escaped, so the JSON is also valid JavaScript.
        if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:
            out = out.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
        return out


_NULL = Value(None, output_field=IntegerField())


@functools.cache
def _user_columns() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields]


def _user_and_clusters_by_token(key: str) -> QuerySet[Any]:
    """Whose token this is (a row of the user's columns, then NULL, NULL), and that user's
    clusters (rows of NULLs, then cluster id and is-staff), in one statement."""
    columns = _user_columns()
    user = get_user_model().objects.filter(auth_token__key=key).values_list(*columns, _NULL, _NULL)
    token_user = Token.objects.filter(key=key).values("user_id")
    clusters = access.member_and_staff_cluster_queries({"user_id__in": token_user}, leading=[_NULL] * len(columns))
    return user.union(*clusters, all=True)


# Asked on every API request, so compiled once (see maillage/db.py). One statement rather
# than the user's, then their clusters' (which every search asks for): a round trip less.
_USER_AND_CLUSTERS_BY_TOKEN: CompiledQuery[Any] = CompiledQuery(_user_and_clusters_by_token, str)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (`Authorization: Token <key>`), its user read by a precompiled query.

    The user's clusters come with it (`access.remember_clusters`): every search asks for them.
    `request.auth` is the token's key (DRF's own gives the `Token` row, which nothing here reads).
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, str]:
        rows = _USER_AND_CLUSTERS_BY_TOKEN.rows(key)
        user_rows = [row[:-2] for row in rows if row[0] is not None]
        if not user_rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = get_user_model().from_db(DEFAULT_DB_ALIAS, _user_columns(), user_rows[0])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        access.remember_clusters(user, (row[-2:] for row in rows if row[0] is None))
        return user, key


class Pagination(PageNumberPagination):
    """`?page=N`, and `?page_size=N` up to 100, so clients choose a sensible batch."""

    page_size_query_param = "page_size"
    max_page_size = 100


# --- Strict fields -------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A text field that refuses numbers and booleans instead of turning them into text."""

    default_error_messages = {"invalid": _("Expected a text value.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictIntegerField(serializers.IntegerField):
    """An integer field that refuses strings, floats and booleans."""

    default_error_messages = {"invalid": _("Expected an integer.")}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictFloatField(serializers.FloatField):
    """A number field that refuses strings and booleans."""

    default_error_messages = {"invalid": _("Expected a number.")}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        value = float(super().to_internal_value(data))
        if value != value or value in (float("inf"), float("-inf")):
            self.fail("invalid")
        return value


class StrictBooleanField(serializers.BooleanField):
    """A boolean field that accepts only JSON true/false."""

    default_error_messages = {"invalid": _("Expected true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictChoiceField(serializers.ChoiceField):
    default_error_messages = {"invalid_choice": _("“{input}” is not one of the allowed values.")}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


def id_field(**kwargs: Any) -> StrictIntegerField:
    """A database id: a positive integer that fits a 64-bit column (bigger values would overflow the driver)."""
    return StrictIntegerField(min_value=1, max_value=2**63 - 1, **kwargs)


class StrictSerializer(serializers.Serializer[Any]):
    """A serializer that names the fields it does not know instead of silently dropping them.

    `read_only_names` lists the output-only fields of the matching resource
    (e.g. `id`, `profile_status`): a client sending them back (a PATCH built
    from a GET response) is ignored, not refused, since that round trip is
    common and harmless. Anything else unknown is a typo worth a 400.
    """

    read_only_names: frozenset[str] = frozenset()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(self.fields) | self.read_only_names
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


# --- Errors --------------------------------------------------------------------


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """`handler404`: an unknown URL under /api/ gets JSON like every other API error; pages keep the 404 page."""
    if _is_api(request):
        return JsonResponse({"detail": str(_("Not found."))}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: API clients get a JSON body they can parse; pages keep the 500 page."""
    if _is_api(request):
        return JsonResponse(
            {"detail": str(_("A server error occurred."))}, status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    return defaults.server_error(request)


def _field_key(name: str) -> str:
    return str(api_settings.NON_FIELD_ERRORS_KEY) if name == NON_FIELD_ERRORS else name


def validation_error_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    """Django's ValidationError as DRF's `{"field": ["message", ...]}` shape."""
    if hasattr(exc, "error_dict"):
        return {_field_key(field): [str(m) for e in errs for m in e.messages] for field, errs in exc.error_dict.items()}
    return {str(api_settings.NON_FIELD_ERRORS_KEY): [str(m) for m in exc.messages]}


class Throttled(exceptions.Throttled):
    """DRF's 429 in the request's language: DRF puts the wait into its English sentence
    before looking it up, so no catalog translates it ("Requête ralentie. Expected available...")."""

    def __init__(self, wait: int) -> None:
        super().__init__(
            detail=ngettext(
                "Too many requests. Try again in %(wait)d second.",
                "Too many requests. Try again in %(wait)d seconds.",
                wait,
            )
            % {"wait": wait}
        )
        self.wait = wait  # DRF's handler sends it as Retry-After


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn domain errors raised by services into clear 4xx responses.

    Services raise Django's `ValidationError` / `PermissionDenied`; views stay
    thin by letting them bubble up to here instead of catching them one by one.
    """
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=validation_error_detail(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(detail=str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = _too_large()
    elif isinstance(exc, TooManyFieldsSent):
        exc = exceptions.ParseError(_("The request has too many fields."))
    elif isinstance(exc, UnicodeDecodeError):
        exc = exceptions.ParseError(_("The request is not valid UTF-8 text."))
    elif isinstance(exc, exceptions.Throttled) and (wait := getattr(exc, "wait", None)) is not None:
        exc = Throttled(int(wait))
    elif isinstance(exc, IntegrityError):
        # Services validate uniqueness first; this is the race between two writers.
        logger.warning("API write hit a database constraint: %s", exc)
        exc = Conflict()
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES (this
    # module) while it is being imported, so a top-level import would be circular.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == status.HTTP_400_BAD_REQUEST and isinstance(response.data, list):
        response.data = {str(api_settings.NON_FIELD_ERRORS_KEY): response.data}
    return response


__all__ = [
    "Conflict",
    "FormParser",
    "JSONParser",
    "Pagination",
    "PayloadTooLarge",
    "StrictBooleanField",
    "StrictCharField",
    "StrictChoiceField",
    "StrictFloatField",
    "StrictIntegerField",
    "StrictSerializer",
    "Throttled",
    "exception_handler",
    "id_field",
    "page_not_found",
    "server_error",
    "validation_error_detail",
]
