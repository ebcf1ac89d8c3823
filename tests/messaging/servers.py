"""Real server processes for the multi-process tests (tests/messaging, tests/deploy) and the
load benchmark, and what those tests share: the Redis check, a signed-in websocket client.

Each caller gets a throwaway database (a SQLite file, or a fresh PostgreSQL
database when DATABASE_URL points to PostgreSQL), migrated and seeded in
subprocesses so that the caller's own Django setup (the test database) is
never involved, and uvicorn processes serving `maillage.asgi` on loopback.

`python -m tests.messaging.servers seed CONVERSATIONS` (run with the
server's environment) creates CONVERSATIONS direct conversations of ten
users (two organizations of five) with sessions, and prints one JSON row
per user: {"user", "email", "session", "conversation"}.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
USERS_PER_CONVERSATION = 10


def redis_available(url: str) -> bool:
    if not url:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def require_redis() -> str:
    """REDIS_URL, once a Redis answers there (missing: a failure in CI, a skip elsewhere)."""
    from tests.conftest import require_service

    url = os.environ.get("REDIS_URL", "")
    require_service("Redis", redis_available(url), "start redis-server and set REDIS_URL")
    return url


def seeded_servers_env(
    stack: ExitStack, workdir: Path, redis_url: str, conversations: int
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """A throwaway database, migrated and seeded, and the environment of servers using it."""
    env = server_env(throwaway_database(stack, workdir), redis_url)
    return env, prepare(env, conversations)


async def open_client(port: int, session: str) -> tuple[ClientConnection, dict[str, Any]]:
    """A websocket client signed in by its session cookie, and the server's hello."""
    ws = await connect(
        f"ws://127.0.0.1:{port}/ws/",
        origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={session}"},
    )
    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return ws, hello


async def next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next event of `kind` the client receives (others are skipped)."""
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if event["type"] == kind:
            return dict(event)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[Any] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        # SIGINT: uvicorn shuts down cleanly (and a cProfile run writes its output).
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def throwaway_database(stack: ExitStack, workdir: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{workdir / 'messaging.sqlite3'}"
    import psycopg

    base = url.split("?", 1)[0].rsplit("/", 1)[0]
    # CREATE/DROP DATABASE from the maintenance database, which always exists.
    admin = f"{base}/postgres"
    name = f"maillage_msg_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return f"{base}/{name}"


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "maillage.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Channel names and rate-limit counters of this run only, whatever else shares the Redis
        # (user ids restart at 1 in every throwaway database).
        "CHANNEL_LAYER_PREFIX": f"msg-{uuid.uuid4().hex[:8]}",
        "RATE_LIMIT_NAMESPACE": f"msg-{uuid.uuid4().hex[:8]}",
        # Keep connections between database_sync_to_async calls, as a
        # production deployment does.
        "DATABASE_CONN_MAX_AGE": "600",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": "messaging-" + uuid.uuid4().hex,
    }


def prepare(env: dict[str, str], conversations: int) -> list[dict[str, Any]]:
    """Migrate the database and seed it; returns one row per user."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    result = subprocess.run(
        [sys.executable, "-m", "tests.messaging.servers", "seed", str(conversations)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def start_uvicorn(
    stack: ExitStack, env: dict[str, str], port: int, profile: str | None = None
) -> subprocess.Popen[Any]:
    command = [
        sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []),
        "-m", "uvicorn", "maillage.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio",
        "--lifespan", "off", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    stack.callback(stop, process)
    wait_port(port, process)
    return process


def _seed(conversations: int) -> None:
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from matchmaking.models import Organization, OrganizationMember, User
    from messaging import services

    half = USERS_PER_CONVERSATION // 2
    users = User.objects.bulk_create(
        [User(email=f"user{n}@load.example", full_name=f"User {n}") for n in range(conversations * 2 * half)]
    )
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_update(users, ["password"])
    organizations = Organization.objects.bulk_create(
        [Organization(legal_name=f"Load org {n}", kind="sme", country="FR") for n in range(conversations * 2)]
    )
    OrganizationMember.objects.bulk_create(
        [OrganizationMember(user=users[n], organization=organizations[n // half]) for n in range(len(users))]
    )
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    sessions = []
    for c in range(conversations):
        pair = organizations[2 * c : 2 * c + 2]
        conversation = services.open_direct_conversation(organizations=pair, opened_by_kind="load", opened_by_id=c)
        for user in users[2 * c * half : 2 * (c + 1) * half]:
            key = uuid.uuid4().hex
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
            sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
            row = {"user": user.pk, "email": user.email, "session": key, "conversation": conversation.pk}
            print(json.dumps(row))
    Session.objects.bulk_create(sessions)


if __name__ == "__main__":
    if sys.argv[1:2] == ["seed"]:
        _seed(int(sys.argv[2]))
