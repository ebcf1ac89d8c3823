"""ORM queries compiled once per process and run again with other values.

Building a queryset and compiling it to SQL costs more Python time than the
database takes to answer a small indexed query. On paths every request takes
(whose API token this is, which clusters the viewer belongs to), a
`CompiledQuery` compiles its queryset on first use and afterwards only swaps
the values in: the ORM stays the one statement of the query, and the SQL is
the ORM's own (per database vendor, so SQLite and PostgreSQL each get theirs).

On PostgreSQL the statement is also prepared on each connection it runs on (the
connections live in the pool): planning the token's user-and-clusters statement took
PostgreSQL six times as long as running it. Django turns psycopg's automatic preparation
off for every query, for connection poolers in transaction mode (PgBouncer before 1.21);
`DATABASE_PREPARED_STATEMENTS=false` keeps these statements unprepared too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable
from django.db.models.sql import Query

M = TypeVar("M", bound=Model)


def _placeholder(kind: type, index: int) -> Any:
    """A value of `kind` standing for parameter `index` while compiling: no row holds such a value.

    The compiled parameters are matched by value: the ORM converts what it is given (`int(...)`,
    `str(...)`), so identity would not survive.
    """
    if kind is int:
        return -918_273_645 - index
    if kind is str:
        return f"\x00compiled-query-parameter-{index}\x00"
    raise TypeError(f"placeholders are int or str, not {kind.__name__}")


@dataclass(frozen=True)
class _Compiled(Generic[M]):
    sql: str
    params: tuple[Any, ...]
    query: Query
    columns: list[Any]  # the selected expressions, for the ORM's value conversions
    model: type[M]
    attnames: list[str] | None  # whole rows of `model`: its fields in column order


class CompiledQuery(Generic[M]):
    """`build(*placeholders)` returns a queryset; `rows()`/`objects()` run its SQL with other values.

    `kinds` are the types of `build`'s arguments (int or str); each argument must reach the
    SQL as a parameter (checked when compiling). The queryset's other values are compiled
    in as the ORM sends them.
    """

    def __init__(self, build: Callable[..., QuerySet[M, Any]], *kinds: type) -> None:
        self._build = build
        self._placeholders = tuple(_placeholder(kind, i) for i, kind in enumerate(kinds or (int,)))
        self._compiled: dict[str, _Compiled[M]] = {}
        self._lock = threading.Lock()

    def _sql(self, alias: str) -> _Compiled[M]:
        vendor = connections[alias].vendor
        compiled = self._compiled.get(vendor)
        if compiled is None:
            with self._lock:
                queryset = self._build(*self._placeholders)
                query = queryset.query
                compiler = query.get_compiler(using=alias)
                sql, params = compiler.as_sql()
                found = {p for p in params if p in self._placeholders}
                if found != set(self._placeholders):
                    raise ValueError(f"{queryset.model.__name__} query: not every placeholder became a parameter")
                attnames = None
                if queryset._iterable_class is ModelIterable:
                    if query.select_related or query.deferred_loading[0] or not query.default_cols:
                        raise ValueError("objects() needs whole rows of one model (no select_related, only, defer)")
                    attnames = [field.attname for field in queryset.model._meta.concrete_fields]
                columns = [expression for expression, _sql, _alias in compiler.select]
                compiled = _Compiled(sql, tuple(params), query, columns, queryset.model, attnames)
                self._compiled[vendor] = compiled
        return compiled

    def _execute(self, values: tuple[Any, ...], alias: str) -> tuple[list[Any], _Compiled[M]]:
        if len(values) != len(self._placeholders):
            raise TypeError(f"expected {len(self._placeholders)} values, got {len(values)}")
        compiled = self._sql(alias)
        value_of = dict(zip(self._placeholders, values, strict=True))
        bound = tuple(value_of.get(p, p) if type(p) in (int, str) else p for p in compiled.params)
        with _cursor(alias) as cursor:
            cursor.execute(compiled.sql, bound)
            rows: list[Any] = list(cursor.fetchall())
        # The conversions the ORM applies to what the driver returns (SQLite booleans and
        # dates, JSON): made for this thread's connection.
        compiler = compiled.query.get_compiler(using=alias)
        converters = compiler.get_converters(compiled.columns)
        if converters:
            rows = list(compiler.apply_converters(rows, converters))
        return rows, compiled

    def rows(self, *values: Any, alias: str = DEFAULT_DB_ALIAS) -> list[tuple[Any, ...]]:
        """The rows as tuples of column values, as the database driver returns them."""
        return [tuple(row) for row in self._execute(values, alias)[0]]

    def objects(self, *values: Any, alias: str = DEFAULT_DB_ALIAS) -> list[M]:
        """The rows as model instances (the queryset must select whole rows of its model)."""
        rows, compiled = self._execute(values, alias)
        if compiled.attnames is None:
            raise TypeError("objects() needs a queryset of model instances, not values")
        return [compiled.model.from_db(alias, compiled.attnames, row) for row in rows]


_NEVER_AUTOMATICALLY = 2**31 - 1  # executions before psycopg would prepare a statement on its own


class _PreparingCursor(psycopg.Cursor[Any]):
    """psycopg's server-side binding cursor, preparing what it runs (once per connection:
    psycopg keeps each connection's prepared statements)."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> _PreparingCursor:
        super().execute(query, params, prepare=True, binary=binary)
        return self


def _cursor(alias: str) -> Any:
    """A cursor of Django's (its query log and execute wrappers apply); on PostgreSQL one that
    binds the values on the server and prepares the statement."""
    connection = connections[alias]
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # psycopg prepares nothing, even when asked, on a connection whose threshold is None
        # (Django's setting). Django's own cursors bind on the client and never prepare; this
        # threshold only lets `_PreparingCursor` prepare, nothing is prepared automatically.
        raw.prepare_threshold = _NEVER_AUTOMATICALLY
    with connection.wrap_database_errors:
        cursor: Any = _PreparingCursor(raw)  # a DB-API cursor, for Django's wrapper (its stubs say otherwise)
    return connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)
