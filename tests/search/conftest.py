"""Fixtures for the search tests (the session-wide `es_node` lives in tests/fixtures/elasticsearch.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk

from search import analysis
from search.client import index_name
from tests.fixtures.search import _module_world, search_world, shared_world  # noqa: F401

MakeIndex = Callable[..., str]


@pytest.fixture
def make_index(es_node: Elasticsearch) -> Iterator[MakeIndex]:
    """Create a small real index with the project's analysis settings and some documents.

    `make_index(properties, docs, synonyms=None)` returns the index name; the
    index is deleted after the test.
    """
    created: list[str] = []

    def make(properties: dict[str, Any], docs: list[dict[str, Any]], synonyms: list[str] | None = None) -> str:
        name = index_name(f"analysis-{uuid.uuid4().hex[:10]}")
        es_node.indices.create(
            index=name,
            settings={"number_of_shards": 1, "number_of_replicas": 0, **analysis.index_settings(synonyms)},
            mappings={"properties": properties},
        )
        created.append(name)
        bulk(es_node, ({"_index": name, "_id": str(i), **doc} for i, doc in enumerate(docs)), refresh=True)
        return name

    yield make
    for name in created:
        es_node.indices.delete(index=name, ignore_unavailable=True)
