"""get_client() and index_name(): settings decide the cluster, the prefix isolates deployments."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from elasticsearch import Elasticsearch
from pytest_django.fixtures import Settings

from search import client as search_client
from search import node


def test_index_name_applies_the_prefix(settings: Settings) -> None:
    settings.ELASTICSEARCH_INDEX_PREFIX = "Prod"

    assert search_client.index_name("organizations") == "prod-organizations"


def test_test_sessions_get_their_own_prefix(es_index_prefix: str) -> None:
    assert search_client.index_name("organizations") == f"{es_index_prefix}-organizations"
    assert es_index_prefix.startswith("test")


def test_an_external_cluster_is_used_with_its_credentials(settings: Settings) -> None:
    settings.ELASTICSEARCH_URL = "https://search.example.invalid:9243"
    settings.ELASTICSEARCH_API_KEY = "a2V5OnNlY3JldA=="

    client = search_client.get_client()

    assert client.transport.node_pool.get().base_url == "https://search.example.invalid:9243"
    assert client._headers["authorization"] == "ApiKey a2V5OnNlY3JldA=="
    assert search_client.get_client() is client


def test_a_missing_ca_file_is_a_configuration_error(settings: Settings, tmp_path: Path) -> None:
    settings.ELASTICSEARCH_URL = "https://search.example.invalid:9243"
    settings.ELASTICSEARCH_CA_CERTS = str(tmp_path / "missing-ca.pem")

    with pytest.raises(ImproperlyConfigured, match="ELASTICSEARCH_CA_CERTS"):
        search_client.get_client()


def test_without_url_or_local_node_the_error_says_how_to_start_it(settings: Settings, tmp_path: Path) -> None:
    settings.ELASTICSEARCH_URL = ""
    settings.MAILLAGE_CACHE_DIR = tmp_path

    with pytest.raises(search_client.LocalNodeNotRunning, match=r"manage\.py search_node ensure"):
        search_client.get_client()


@pytest.mark.elasticsearch
@pytest.mark.skipif(bool(search_client.settings.ELASTICSEARCH_URL), reason="uses the local node")
def test_the_local_node_url_comes_from_its_state_file(es_node: Elasticsearch) -> None:
    state = node.read_state()
    assert state is not None

    assert search_client.get_client().transport.node_pool.get().base_url == state.url
