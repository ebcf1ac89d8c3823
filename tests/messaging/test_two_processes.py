"""Two ASGI server processes sharing one Redis deliver to each other's clients."""

from __future__ import annotations

import asyncio
import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.messaging import servers

pytestmark = pytest.mark.redis


async def scenario(ports: tuple[int, int], rows: list[dict[str, Any]]) -> None:
    # Given two members of one conversation, each on a different server process,
    # and a member of another conversation
    first, second = rows[0], rows[5]  # one user of each organization
    stranger = rows[10]
    assert first["conversation"] == second["conversation"] != stranger["conversation"]
    conversation = first["conversation"]
    a, hello_a = await servers.open_client(ports[0], first["session"])
    b, _ = await servers.open_client(ports[1], second["session"])
    c, _ = await servers.open_client(ports[1], stranger["session"])
    assert hello_a["conversations"] == {str(conversation): 0}
    for ws in (a, b):
        await ws.send(json.dumps({"type": "sync", "conversations": {str(conversation): 0}}))
        await servers.next_of(ws, "sync.done")
    # When each sends, the other, on the other process, receives it
    await a.send(
        json.dumps({"type": "message.send", "conversation": conversation, "text": "from A", "client_key": "a1"})
    )
    assert (await servers.next_of(a, "message.ack"))["order"] == 1
    received = await servers.next_of(b, "message.new")
    assert (received["message"]["text"], received["message"]["order"]) == ("from A", 1)
    await b.send(
        json.dumps({"type": "message.send", "conversation": conversation, "text": "from B", "client_key": "b1"})
    )
    received = await servers.next_of(a, "message.new")
    while received["message"]["order"] == 1:  # A's own message comes back first
        received = await servers.next_of(a, "message.new")
    assert (received["message"]["text"], received["message"]["order"]) == ("from B", 2)
    # And the stranger on B's process sees nothing of it
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(c.recv(), 0.5)
    for ws in (a, b, c):
        await ws.close()


def test_two_server_processes_share_one_redis(tmp_path: Path) -> None:
    redis_url = servers.require_redis()
    with ExitStack() as stack:
        env, rows = servers.seeded_servers_env(stack, tmp_path, redis_url, conversations=2)
        ports = (servers.free_port(), servers.free_port())
        for port in ports:
            servers.start_uvicorn(stack, env, port)
        asyncio.run(scenario(ports, rows))
