"""The one way to reach Elasticsearch: `get_client()` and `index_name()`.

Everything in the project that talks to Elasticsearch goes through this
module, so the connection settings (external cluster or the local node),
timeouts and index naming are decided in one place.

- `ELASTICSEARCH_URL` set: that cluster, with `ELASTICSEARCH_API_KEY` or
  `ELASTICSEARCH_USERNAME`/`ELASTICSEARCH_PASSWORD`, and `ELASTICSEARCH_CA_CERTS`
  for a private CA.
- `ELASTICSEARCH_URL` empty: the local node that `search.node` provisions; its
  URL is read from the node's state file. The node is *not* started here:
  starting it takes seconds (minutes on first download), which must never
  happen inside a web request. `manage.py search_node ensure`, `manage.py
  serve` and the test fixtures start it.

Clients are cached per connection configuration, and the local node's state
file is re-read only when it changes, so a node restarted on another port
is picked up without restarting the process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from elasticsearch import Elasticsearch
from elasticsearch.dsl import connections

# A search request that takes longer than this is a bug or an outage; callers
# that legitimately need more (bulk rebuilds) use `client.options(request_timeout=...)`.
REQUEST_TIMEOUT_SECONDS = 10.0
# One retry covers a connection dropped by an idle keep-alive; more would only
# delay the error when the node is down (the index outbox takes over then).
MAX_RETRIES = 1


class LocalNodeNotRunning(ImproperlyConfigured):
    """ELASTICSEARCH_URL is empty and the local node has never been started."""


@dataclass(frozen=True)
class _Config:
    url: str
    api_key: str
    username: str
    password: str
    ca_certs: str


_lock = threading.Lock()
_clients: dict[_Config, Elasticsearch] = {}
_local_url_cache: tuple[Path, float, str] | None = None


def _local_url() -> str:
    """URL of the local node, from its state file (re-read when the file changes)."""
    global _local_url_cache
    from search import node  # the node module imports settings-heavy code; keep the client import light

    path = node.state_path()
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise LocalNodeNotRunning(
            "ELASTICSEARCH_URL is empty and the local Elasticsearch node is not running. "
            "Start it with `python manage.py search_node ensure` (or set ELASTICSEARCH_URL "
            "to use an existing cluster)."
        ) from None
    cached = _local_url_cache
    if cached is not None and cached[0] == path and cached[1] == mtime:
        return cached[2]
    state = node.read_state()
    if state is None:
        raise LocalNodeNotRunning(
            f"The local Elasticsearch node's state file {path} is unreadable. "
            "Run `python manage.py search_node ensure` to (re)start the node."
        )
    _local_url_cache = (path, mtime, state.url)
    return state.url


def _config() -> _Config:
    url = settings.ELASTICSEARCH_URL.strip()
    if not url:
        return _Config(url=_local_url(), api_key="", username="", password="", ca_certs="")
    return _Config(
        url=url,
        api_key=settings.ELASTICSEARCH_API_KEY,
        username=settings.ELASTICSEARCH_USERNAME,
        password=settings.ELASTICSEARCH_PASSWORD,
        ca_certs=settings.ELASTICSEARCH_CA_CERTS,
    )


def _build(config: _Config) -> Elasticsearch:
    kwargs: dict[str, object] = {
        "request_timeout": REQUEST_TIMEOUT_SECONDS,
        "max_retries": MAX_RETRIES,
        "retry_on_timeout": False,
    }
    if config.api_key:
        kwargs["api_key"] = config.api_key
    elif config.username:
        kwargs["basic_auth"] = (config.username, config.password)
    if config.ca_certs:
        if not Path(config.ca_certs).is_file():
            raise ImproperlyConfigured(f"ELASTICSEARCH_CA_CERTS={config.ca_certs!r} is not a readable file.")
        kwargs["ca_certs"] = config.ca_certs
    kwargs["serializers"] = _fast_serializers()
    return Elasticsearch(config.url, **kwargs)  # type: ignore[arg-type]


def _fast_serializers() -> dict[str, object]:
    """orjson for request and response bodies: JSON encoding was a sixth of a rebuild's Python time."""
    from elasticsearch.serializer import OrjsonSerializer

    class CompatibilityModeOrjsonSerializer(OrjsonSerializer):
        mimetype = "application/vnd.elasticsearch+json"

    return {
        OrjsonSerializer.mimetype: OrjsonSerializer(),
        CompatibilityModeOrjsonSerializer.mimetype: CompatibilityModeOrjsonSerializer(),
    }


def get_client() -> Elasticsearch:
    """The shared Elasticsearch client for the current settings.

    Also registered as elasticsearch-dsl's "default" connection, so
    `Document`/`Search` objects work without passing `using=`.
    """
    config = _config()
    with _lock:
        client = _clients.get(config)
        if client is None:
            client = _clients[config] = _build(config)
        # Cheap, and keeps elasticsearch-dsl on the client of the *current* settings.
        connections.add_connection("default", client)
    return client


def reset_client() -> None:
    """Forget cached clients (after settings changes in tests, or a node restart)."""
    global _local_url_cache
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
        _local_url_cache = None


def index_name(base: str) -> str:
    """Physical name for a logical index (or alias) name: `<prefix>-<base>`.

    The prefix (ELASTICSEARCH_INDEX_PREFIX) separates deployments sharing a
    cluster, and concurrent test sessions sharing the local node.
    """
    prefix = settings.ELASTICSEARCH_INDEX_PREFIX.strip().lower()
    return f"{prefix}-{base}" if prefix else base
