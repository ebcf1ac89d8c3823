"""URL converters shared by every URLconf (pages and API); registered in maillage/urls.py.

Django's `int` converter accepts any number of digits; an id beyond the
database's 64-bit integers then fails inside the query (OverflowError on
SQLite, DataError on PostgreSQL) and turns into a 500. Ids are limited to 18
digits here so such URLs are plain 404s.
"""

from __future__ import annotations


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(value)
