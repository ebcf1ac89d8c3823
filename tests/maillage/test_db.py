"""Queries compiled once and run again with other values give what the ORM gives."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from maillage.db import CompiledQuery
from matchmaking.models import Organization, User
from tests.conftest import require_service
from tests.fixtures.people import make_org, make_user

pytestmark = pytest.mark.django_db


def _by_email(email: str) -> QuerySet[Any]:
    return User.objects.filter(email=email)


def test_objects_are_the_rows_the_orm_returns_with_their_types() -> None:
    # Given two users, one inactive, with Arabic and accented names
    make_user("nadia@atlas.test", full_name="نادية Benaïssa")
    make_user("luc@orion.test", is_active=False)
    query = CompiledQuery(_by_email, str)

    # When the compiled query runs for each, then for nobody
    nadia, luc, nobody = (query.objects(email) for email in ("nadia@atlas.test", "luc@orion.test", "x@y.test"))

    # Then every field reads as through the ORM (booleans, dates, text intact)
    for found, email in ((nadia, "nadia@atlas.test"), (luc, "luc@orion.test")):
        expected = User.objects.get(email=email)
        assert [user.pk for user in found] == [expected.pk]
        for field in User._meta.concrete_fields:
            assert getattr(found[0], field.attname) == getattr(expected, field.attname), field.name
    assert nadia[0].full_name == "نادية Benaïssa"
    assert nadia[0].is_active is True
    assert luc[0].is_active is False
    assert nobody == []


def test_rows_convert_values_like_values_list() -> None:
    org = make_org("Atlas Pay", competences=["monétique", "paiement mobile"], is_fictional=True)
    query: CompiledQuery[Any] = CompiledQuery(
        lambda pk: Organization.objects.filter(pk=pk).values_list("legal_name", "competences", "is_fictional")
    )

    assert query.rows(org.pk) == list(
        Organization.objects.filter(pk=org.pk).values_list("legal_name", "competences", "is_fictional")
    )
    assert query.rows(org.pk)[0][1] == ["monétique", "paiement mobile"]
    assert query.rows(org.pk + 1000) == []


def test_compiled_once_per_database() -> None:
    built: list[int] = []

    def build(pk: int) -> QuerySet[Any]:
        built.append(pk)
        return User.objects.filter(pk=pk)

    query = CompiledQuery(build)
    first, second = make_user("a@atlas.test"), make_user("b@atlas.test")

    assert [u.pk for u in query.objects(first.pk)] == [first.pk]
    assert [u.pk for u in query.objects(second.pk)] == [second.pk]
    assert len(built) == 1


def test_a_value_compiled_into_the_sql_is_refused() -> None:
    # A placeholder that never reaches the parameters would be silently ignored
    query = CompiledQuery(lambda pk: User.objects.filter(pk__in=[1, 2]), int)

    with pytest.raises(ValueError, match="placeholder"):
        query.rows(1)


def test_wrong_number_of_values_and_objects_of_values_are_refused() -> None:
    query: CompiledQuery[Any] = CompiledQuery(lambda pk: User.objects.filter(pk=pk).values_list("email"))

    with pytest.raises(TypeError):
        query.rows(1, 2)
    with pytest.raises(TypeError):
        query.objects(1)
    with pytest.raises(ValueError, match="whole rows"):
        CompiledQuery(lambda pk: User.objects.filter(pk=pk).only("email")).objects(1)


def _prepared_statements(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{fragment}%"])
        return [row[0] for row in cursor.fetchall()]


def _require_postgresql() -> None:
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL to a PostgreSQL database")


def test_on_postgresql_the_statement_is_prepared_once_and_each_run_is_logged() -> None:
    _require_postgresql()
    make_user("nadia@atlas.test", full_name="نادية Benaïssa")
    query = CompiledQuery(lambda email: User.objects.filter(email=email, is_active=True), str)

    # When it runs twice with other values, under Django's query log
    with CaptureQueriesContext(connection) as captured:
        found = query.objects("nadia@atlas.test")
        nobody = query.objects("luc@orion.test")

    # Then the answers are right, both runs are logged, and the session holds one prepared statement
    assert [user.full_name for user in found] == ["نادية Benaïssa"]
    assert nobody == []
    assert len(captured.captured_queries) == 2
    assert len(_prepared_statements('"matchmaking_user"."email" = $1')) == 1


def test_prepared_statements_can_be_turned_off(settings: Any) -> None:
    _require_postgresql()
    settings.DATABASE_PREPARED_STATEMENTS = False  # behind PgBouncer in transaction mode
    make_user("luc@orion.test", full_name="Luc Moreau")
    query = CompiledQuery(lambda name: User.objects.filter(full_name=name), str)

    assert [user.email for user in query.objects("Luc Moreau")] == ["luc@orion.test"]
    assert [user.email for user in query.objects("Luc Moreau")] == ["luc@orion.test"]
    assert _prepared_statements('"matchmaking_user"."full_name" =') == []
