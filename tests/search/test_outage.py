"""Elasticsearch goes away while people keep working: the database accepts every write, the outbox
keeps every change, searches fail cleanly, and `search_index sync` converges once it is back.

The outage is real: in CI (where this session owns the local node) the node process is stopped and
started again; on a developer machine, where colleagues' sessions share that node, the client's
route to it is cut instead (a local TCP relay is closed, so connections are refused, then reopened).
Set MAILLAGE_TEST_STOP_NODE=1 to force the real stop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command

from matchmaking.models import Visibility
from matchmaking.services import organizations as org_services
from search import lifecycle, node, queries
from search.client import get_client, reset_client
from search.indexing import ORGANIZATIONS
from search.models import PendingIndexChange
from tests.fixtures.search import SearchWorld

pytestmark = [pytest.mark.elasticsearch, pytest.mark.django_db]


class Relay:
    """A TCP relay 127.0.0.1:<port> -> the node; `down()` refuses connections on the same port, `up()` reopens."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.server: socket.socket | None = None
        self.connections: list[socket.socket] = []

    def up(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self.server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone leaves the port listening.
            with contextlib.suppress(OSError):
                self.server.shutdown(socket.SHUT_RDWR)
            self.server.close()
            self.server = None
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.connections.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _addr = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _stop_real_node() -> bool:
    if settings.ELASTICSEARCH_URL:
        return False
    flag = os.environ.get("MAILLAGE_TEST_STOP_NODE")
    if flag is not None:
        return flag.lower() in {"1", "true", "yes"}
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


class Outage:
    def __init__(self, settings_fixture: Any) -> None:
        self.real = _stop_real_node()
        self.settings = settings_fixture
        self.relay: Relay | None = None
        self.previous_url = settings.ELASTICSEARCH_URL
        if not self.real:
            url = urlsplit(get_client().transport.node_pool.get().base_url)
            self.relay = Relay((url.hostname or "127.0.0.1", url.port or 9200))
            self.relay.up()
            self.settings.ELASTICSEARCH_URL = f"http://127.0.0.1:{self.relay.port}"

    def down(self) -> None:
        if self.real:
            node.stop()
            reset_client()
        else:
            assert self.relay is not None
            self.relay.down()

    def up(self) -> None:
        if self.real:
            node.ensure()
            reset_client()
            get_client().cluster.health(wait_for_status="yellow", timeout="60s")
        else:
            assert self.relay is not None
            self.relay.up()

    def close(self) -> None:
        if self.relay is not None:
            self.relay.down()
        # Restored here, not by the `settings` fixture: that one is torn down after the world's cleanup.
        self.settings.ELASTICSEARCH_URL = self.previous_url


@pytest.fixture
def outage(settings: Any) -> Iterator[Outage]:
    handle = Outage(settings)
    yield handle
    handle.close()


def test_writes_during_an_outage_are_applied_when_elasticsearch_returns(
    search_world: SearchWorld, outage: Outage, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    w = search_world
    caplog.set_level(logging.DEBUG, logger="search.indexing")
    # given a working index
    assert w.atlas.pk in queries.search_organizations(w.sys_member).ids

    breizh_id = w.breizh.pk
    # when Elasticsearch goes away and people keep editing
    outage.down()
    with django_capture_on_commit_callbacks(execute=True):
        org_services.update_organization(
            user=w.mnc_member, organization=w.atlas, data={"description_fr": "Désormais spécialiste des hydroliennes."}
        )
    with django_capture_on_commit_callbacks(execute=True):
        org_services.update_organization(
            user=w.sys_member, organization=w.quantix, data={"visibility": Visibility.CLUSTER}
        )
    with django_capture_on_commit_callbacks(execute=True):
        org_services.delete_organization(user=w.ir_member, organization=w.breizh)

    # then the database took every write, the outbox holds every change, and searches fail cleanly
    w.atlas.refresh_from_db()
    assert "hydroliennes" in w.atlas.description_fr
    pending = {row.object_id: row for row in PendingIndexChange.objects.all()}
    assert set(pending) == {w.atlas.pk, w.quantix.pk, breizh_id}
    assert all(row.attempts >= 1 and row.last_error for row in pending.values())
    assert "Elasticsearch unavailable" in caplog.text
    with pytest.raises(queries.SearchUnavailable):
        queries.search_organizations(w.sys_member, text="hydroliennes")

    # when it comes back and the worker runs once
    outage.up()
    call_command("search_index", "sync")

    # then nothing is pending, nothing is stale, and results are those of the database
    assert not PendingIndexChange.objects.exists()
    report = lifecycle.DriftChecker(ORGANIZATIONS).check()
    assert report.ok, report.summary()
    assert queries.search_organizations(w.sys_member, text="hydroliennes").ids == [w.atlas.pk]
    visible = set(queries.search_organizations(w.mnc_member, size=100).ids)
    assert w.quantix.pk not in visible
    assert breizh_id not in visible
