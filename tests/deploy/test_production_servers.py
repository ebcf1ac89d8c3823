"""The production topology, run for real: HTTP by gunicorn with the image's command
(deploy/Dockerfile), websockets by uvicorn with the deploy files' command, one Redis.

A message posted over HTTP to a gunicorn worker reaches a websocket client of the
uvicorn process, and what the API answers comes from the same database.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import subprocess
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.test_deploy_files import dockerfile_command
from tests.messaging import servers

pytestmark = pytest.mark.redis

CSRF = "a" * 32  # an unmasked CSRF secret, sent as cookie and header alike


def start_gunicorn(stack: ExitStack, env: dict[str, str], port: int, tmp_path: Path) -> None:
    """deploy/Dockerfile's command, on loopback, with two workers."""
    args = dockerfile_command()
    args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
    args[args.index("--worker-tmp-dir") + 1] = str(tmp_path)  # /dev/shm in the image
    command = [sys.executable, "-m", *args, "--workers", "2", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=servers.ROOT, env=env)
    stack.callback(servers.stop, process)
    servers.wait_port(port, process)


def call(port: int, method: str, path: str, session: str | None = None, body: Any = None) -> tuple[int, Any, str]:
    """One request on a fresh connection: (status, decoded JSON body, Connection header)."""
    headers = {"Accept": "application/json", "Host": "127.0.0.1"}
    if session is not None:
        headers["Cookie"] = f"sessionid={session}; csrftoken={CSRF}"
        headers["X-CSRFToken"] = CSRF
    data = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json; charset=utf-8"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null"), response.getheader("Connection", "")
    finally:
        conn.close()


async def scenario(http_port: int, ws_port: int, rows: list[dict[str, Any]]) -> None:
    sender, reader = rows[0], rows[5]  # one member of each organization of the conversation
    conversation = sender["conversation"]
    ws, _hello = await servers.open_client(ws_port, reader["session"])
    await ws.send(json.dumps({"type": "sync", "conversations": {str(conversation): 0}}))
    await servers.next_of(ws, "sync.done")

    # When a member posts over HTTP, to gunicorn
    text = "Proposition de consortium ✓ — مرحبا بكم"
    path = f"/api/messaging/conversations/{conversation}/messages/"
    status, posted, connection = await asyncio.to_thread(
        call, http_port, "POST", path, sender["session"], {"text": text, "client_key": uuid.uuid4().hex}
    )
    assert status == 201, posted
    assert posted["text"] == text
    # A synchronous worker answers one request per connection: the next one queues anew.
    assert connection.lower() == "close"

    # Then the other member's websocket, on the uvicorn process, receives it intact
    received = await servers.next_of(ws, "message.new")
    assert received["message"]["text"] == text
    assert received["message"]["order"] == posted["order"]
    await ws.close()

    # And reading over HTTP gives it back from the same database; without a session, nothing
    status, listed, _ = await asyncio.to_thread(call, http_port, "GET", path, reader["session"])
    assert status == 200
    assert [m["text"] for m in listed["results"]] == [text]
    status, refused, _ = await asyncio.to_thread(call, http_port, "GET", path)
    assert status in {401, 403}
    assert "results" not in refused


def test_gunicorn_for_http_and_uvicorn_for_websockets_share_the_database_and_redis(tmp_path: Path) -> None:
    redis_url = servers.require_redis()
    with ExitStack() as stack:
        env, rows = servers.seeded_servers_env(stack, tmp_path, redis_url, conversations=1)
        http_port, ws_port = servers.free_port(), servers.free_port()
        start_gunicorn(stack, env, http_port, tmp_path)
        servers.start_uvicorn(stack, env, ws_port)
        asyncio.run(scenario(http_port, ws_port, rows))
