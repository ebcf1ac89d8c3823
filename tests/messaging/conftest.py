"""Messaging test fixtures: two organizations in two clusters, their users, an outsider, helpers to connect."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from matchmaking.models import (
    Cluster,
    ClusterAgreement,
    ClusterStaff,
    FeeTier,
    Membership,
    MembershipStatus,
    Organization,
    OrganizationKind,
    OrganizationMember,
    ProfileStatus,
    User,
)
from messaging import services
from messaging.models import Conversation

# One prefix per test session, so parallel runs sharing a Redis never cross.
SESSION_PREFIX = f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def _isolated_layer_and_cache(settings: Any) -> Iterator[None]:
    """Fresh channel layer and cache for each test, on Redis when REDIS_URL is set.

    Channel names and rate-limit counters are namespaced per test (counters
    are keyed by user id, and ids repeat across tests), so nothing is ever
    flushed from a Redis that other test runs may share.
    """
    redis_url = os.environ.get("REDIS_URL")
    test_prefix = f"{SESSION_PREFIX}-{uuid.uuid4().hex[:6]}"
    if redis_url:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [redis_url], "prefix": test_prefix},
            }
        }
    settings.RATE_LIMIT_NAMESPACE = test_prefix
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


def make_user(email: str, name: str = "", **extra: Any) -> User:
    return User.objects.create_user(email=email, password="pw-123456!", full_name=name, **extra)


def make_org(name: str, cluster: Cluster, country: str, **extra: Any) -> Organization:
    org = Organization.objects.create(
        legal_name=name,
        acronym=name.split()[0],
        kind=OrganizationKind.SME,
        country=country,
        profile_status=ProfileStatus.VALIDATED,
        **extra,
    )
    Membership.objects.create(organization=org, cluster=cluster, status=MembershipStatus.ADMITTED, fee_tier=FeeTier.SME)
    return org


@dataclass
class World:
    mnc: Cluster
    systematic: Cluster
    atlas: Organization  # MNC member
    seine: Organization  # Systematic member
    outsider_org: Organization
    amina: User  # atlas
    karim: User  # atlas
    louis: User  # seine
    eve: User  # outsider
    broker: User  # MNC staff
    conversation: Conversation


@pytest.fixture
def world(db: Any) -> World:
    mnc = Cluster.objects.create(code="mnc", name="Maroc Numeric Cluster", country="MA")
    systematic = Cluster.objects.create(code="systematic", name="Systematic Paris-Region", country="FR")
    ClusterAgreement.objects.create(cluster_a=mnc, cluster_b=systematic, since=date(2011, 7, 1))
    atlas = make_org("Atlas Paiement", mnc, "MA")
    seine = make_org("Seine Sécurité", systematic, "FR")
    outsider_org = make_org("Ailleurs SAS", systematic, "FR")
    amina = make_user("amina@atlas.example", "Amina Alaoui")
    karim = make_user("karim@atlas.example", "Karim Bennani")
    louis = make_user("louis@seine.example", "Louis Martin")
    eve = make_user("eve@ailleurs.example", "Eve")
    broker = make_user("broker@mnc.example", "Broker MNC")
    OrganizationMember.objects.create(user=amina, organization=atlas, role="owner")
    OrganizationMember.objects.create(user=karim, organization=atlas)
    OrganizationMember.objects.create(user=louis, organization=seine, role="owner")
    OrganizationMember.objects.create(user=eve, organization=outsider_org, role="owner")
    ClusterStaff.objects.create(user=broker, cluster=mnc)
    conversation = services.open_direct_conversation(
        organizations=[atlas, seine], opened_by_kind="introduction", opened_by_id=1
    )
    return World(mnc, systematic, atlas, seine, outsider_org, amina, karim, louis, eve, broker, conversation)


def session_cookie(user: User) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def application() -> Any:
    from maillage.asgi import application as app

    return app


async def open_socket(user: User | None, *, origin: str = "http://testserver", hello: bool = True) -> Any:
    """A connected WebsocketCommunicator for `user` (anonymous when None); waits for `hello`."""
    headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
    if user is not None:
        key = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"sessionid={key}".encode()))
    communicator = WebsocketCommunicator(application(), "/ws/", headers=headers)
    connected, _ = await communicator.connect()
    if connected and user is not None and hello:
        first = await communicator.receive_json_from(timeout=3)
        assert first["type"] == "hello"
        communicator.hello = first
    communicator.connected = connected
    return communicator


async def receive(communicator: Any, wait: float = 3) -> dict[str, Any]:
    return dict(await communicator.receive_json_from(timeout=wait))


async def receive_type(communicator: Any, kind: str, wait: float = 3) -> dict[str, Any]:
    """The next event of that type, skipping others (e.g. typing, read updates)."""
    while True:
        event = await receive(communicator, wait)
        if event["type"] == kind:
            return event


async def send(communicator: Any, frame: dict[str, Any] | str) -> None:
    await communicator.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))


async def receive_counts(communicator: Any, wanted: dict[str, int], wait: float = 3) -> list[dict[str, Any]]:
    """Receive until `wanted` events of each type arrived (order between types is not fixed)."""
    left = dict(wanted)
    seen = []
    while any(n > 0 for n in left.values()):
        event = await receive(communicator, wait)
        seen.append(event)
        if event["type"] in left:
            left[event["type"]] -= 1
    return seen


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def asgi_server(transactional_db: Any, settings: Any, database_sessions_ended: None) -> Iterator[str]:
    """The real ASGI application (HTTP and websockets) served by uvicorn in a thread; yields its base URL.

    pytest-django's `live_server` speaks HTTP only. A thread (not a process)
    shares the test database, in-memory SQLite included.
    """
    import threading
    import time

    import uvicorn
    from channels.routing import ProtocolTypeRouter
    from django.core.asgi import get_asgi_application

    from maillage.asgi import application as project

    # Static files straight from the apps (no collectstatic in tests).
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    app = ProtocolTypeRouter({"http": get_asgi_application(), "websocket": project.application_mapping["websocket"]})
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="websockets-sansio")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
