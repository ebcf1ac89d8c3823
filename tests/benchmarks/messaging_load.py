"""Load generator for `bench_messaging`: many authenticated websocket clients in one asyncio process.

Run by the benchmark, not by hand: `python -m tests.benchmarks.messaging_load CONFIG OUT`.
It imports no Django: it is a plain client of the `/ws/` protocol
(`messaging/events.py`), like a browser.

Protocol with the parent: prints "READY" once every client is connected
and synced, waits for "GO <monotonic start>" on stdin (CLOCK_MONOTONIC is
system-wide on Linux, so both loaders start together and latencies measured
across processes compare), then runs the two phases and writes a JSON
result to OUT.

Each message's text carries its send time; every other participant's
client measures send-to-receive latency. Every client records the orders it
received per conversation: a repeated order is a duplicate, a missing one
below the last acknowledged order is a loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake


@dataclass
class Client:
    index: int
    user_id: int
    session: str
    conversation: int
    ws: ClientConnection | None = None
    seen: set[int] = field(default_factory=set)
    contiguous: int = 0  # every order up to this one was received
    duplicates: int = 0
    pending: dict[str, str] = field(default_factory=dict)  # client_key -> text, until acked
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    online: bool = False
    reconnects: int = 0


class Loader:
    def __init__(self, config: dict[str, Any]) -> None:
        self.url: str = config["url"]
        self.origin: str = config["origin"]
        self.rate: float = config["rate"]
        self.phase1: float = config["phase1_seconds"]
        self.phase2: float = config["phase2_seconds"]
        self.drop_fraction: float = config["drop_fraction"]
        self.clients = [Client(i, c["user"], c["session"], c["conversation"]) for i, c in enumerate(config["clients"])]
        self.by_conversation: dict[int, list[Client]] = {}
        for client in self.clients:
            self.by_conversation.setdefault(client.conversation, []).append(client)
        self.acked_max: dict[int, int] = {}
        self.latencies: list[float] = []
        self.phase2_latencies: list[float] = []
        self.ack_latencies: list[float] = []
        self.measuring = 0  # 0: none, 1: phase 1, 2: phase 2
        self.sent = 0
        self.acked = 0
        self.errors: dict[str, int] = {}
        self.resent = 0
        self.failed_attempts = 0
        self.random = random.Random(config.get("seed", 7))

    async def open(self, client: Client) -> None:
        client.synced.clear()
        client.ws = await connect(
            self.url,
            origin=self.origin,  # type: ignore[arg-type]
            additional_headers={"Cookie": f"sessionid={client.session}"},
            compression=None,
            max_size=2**20,
            ping_interval=None,
            open_timeout=60,
        )
        hello = json.loads(await client.ws.recv())
        assert hello["type"] == "hello", hello
        asyncio.get_running_loop().create_task(self.read(client, client.ws))
        await client.ws.send(
            json.dumps({"type": "sync", "conversations": {str(client.conversation): client.contiguous}})
        )
        await client.synced.wait()
        client.online = True
        # Messages sent before a drop and never acknowledged are sent again
        # with the same client key: the server stores each once.
        for key, text in list(client.pending.items()):
            self.resent += 1
            await client.ws.send(
                json.dumps(
                    {"type": "message.send", "conversation": client.conversation, "text": text, "client_key": key}
                )
            )

    async def read(self, client: Client, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                now = time.monotonic()
                event = json.loads(raw)
                kind = event["type"]
                if kind == "message.new":
                    message = event["message"]
                    order = message["order"]
                    if order in client.seen:
                        client.duplicates += 1
                        continue
                    client.seen.add(order)
                    while client.contiguous + 1 in client.seen:
                        client.contiguous += 1
                    sent_at, sender, _seq = message["text"].split("|", 2)
                    if int(sender) != client.index and self.measuring:
                        target = self.latencies if self.measuring == 1 else self.phase2_latencies
                        target.append(now - float(sent_at))
                elif kind == "message.ack":
                    text = client.pending.pop(event["client_key"], None)
                    if text is not None:
                        self.acked += 1
                        if self.measuring == 1:
                            self.ack_latencies.append(now - float(text.split("|", 1)[0]))
                    conversation = event["conversation"]
                    if event["order"] > self.acked_max.get(conversation, 0):
                        self.acked_max[conversation] = event["order"]
                elif kind == "sync.done":
                    client.synced.set()
                elif kind == "error":
                    self.errors[event["code"]] = self.errors.get(event["code"], 0) + 1
        except ConnectionClosed:
            pass

    async def connect_all(self) -> None:
        gate = asyncio.Semaphore(25)

        async def one(client: Client) -> None:
            async with gate:
                await self.open(client)

        await asyncio.gather(*(one(c) for c in self.clients))

    async def send_one(self, client: Client, seq: int) -> None:
        key = f"c{client.index}-{seq}"
        text = f"{time.monotonic():.6f}|{client.index}|{seq}"
        client.pending[key] = text
        self.sent += 1
        assert client.ws is not None
        frame = {"type": "message.send", "conversation": client.conversation, "text": text, "client_key": key}
        with contextlib.suppress(ConnectionClosed):  # dropped: resent after the reconnect
            await client.ws.send(json.dumps(frame))

    async def drive(self, start: float, seconds: float) -> None:
        """Send at `rate` messages per second, round-robin over the online clients."""
        done = 0
        cursor = 0
        count = len(self.clients)
        end = start + seconds
        while (now := time.monotonic()) < end:
            due = int((now - start) * self.rate) - done
            for _ in range(due):
                for _attempt in range(count):
                    client = self.clients[cursor % count]
                    cursor += 1
                    if client.online:
                        break
                done += 1
                await self.send_one(client, done + int(start * 1000) * 10_000)
            await asyncio.sleep(0.005)

    async def drop_and_reconnect(self, client: Client, delay: float) -> None:
        await asyncio.sleep(delay)
        client.online = False
        assert client.ws is not None
        client.ws.transport.abort()  # a network drop, not a clean close
        await asyncio.sleep(0.5 + self.random.random() * 1.5)
        client.reconnects += 1
        # Like the browser client: retry with backoff while the server is busy.
        for attempt in range(8):
            try:
                await self.open(client)
                return
            except (TimeoutError, OSError, InvalidHandshake, ConnectionClosed):
                self.failed_attempts += 1
                await asyncio.sleep(min(5.0, 0.25 * 2**attempt))
        raise RuntimeError(f"client {client.index} could not reconnect")

    async def drain(self, quiet: float = 2.0, limit: float = 20.0) -> None:
        """Wait until every message is acknowledged and delivery has gone quiet."""
        deadline = time.monotonic() + limit
        last = -1
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            received = sum(len(c.seen) for c in self.clients)
            pending = sum(len(c.pending) for c in self.clients)
            if received != last or pending:
                last = received
                stable_since = time.monotonic()
            elif time.monotonic() - stable_since >= quiet:
                return
            await asyncio.sleep(0.1)

    def losses(self) -> tuple[int, int, int]:
        """(expected deliveries, lost, duplicates) against the highest acknowledged order."""
        expected = lost = duplicates = 0
        for conversation, clients in self.by_conversation.items():
            top = self.acked_max.get(conversation, 0)
            for client in clients:
                have = sum(1 for order in client.seen if order <= top)
                expected += top
                lost += top - have
                duplicates += client.duplicates
        return expected, lost, duplicates

    async def run(self) -> dict[str, Any]:
        started = time.monotonic()
        await self.connect_all()
        connect_seconds = time.monotonic() - started
        print("READY", flush=True)
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        start = float(line.split()[1])
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        # Phase 1: steady load.
        self.measuring = 1
        await self.drive(start, self.phase1)
        self.measuring = 0
        await self.drain()
        phase1 = self.losses()
        sent1, acked1 = self.sent, self.acked
        for client in self.clients:
            client.duplicates = 0
        # Phase 2: the same load while a fifth of the clients drop and reconnect.
        start2 = time.monotonic()
        victims = self.random.sample(self.clients, int(len(self.clients) * self.drop_fraction))
        drops = [
            asyncio.create_task(self.drop_and_reconnect(c, self.random.random() * self.phase2 * 0.6)) for c in victims
        ]
        self.measuring = 2
        await self.drive(start2, self.phase2)
        self.measuring = 0
        await asyncio.gather(*drops)
        await self.drain()
        phase2 = self.losses()
        for client in self.clients:
            if client.ws is not None:
                await client.ws.close()
        return {
            "clients": len(self.clients),
            "connect_seconds": connect_seconds,
            "phase1": {
                "sent": sent1,
                "acked": acked1,
                "expected": phase1[0],
                "lost": phase1[1],
                "duplicates": phase1[2],
                "latencies": self.latencies,
                "ack_latencies": self.ack_latencies,
                "cpu_seconds": time.process_time(),
            },
            "phase2": {
                "sent": self.sent - sent1,
                "acked": self.acked - acked1,
                "expected": phase2[0],
                "lost": phase2[1],
                "duplicates": phase2[2],
                "reconnects": sum(c.reconnects for c in self.clients),
                "resent": self.resent,
                "failed_attempts": self.failed_attempts,
                "latencies": self.phase2_latencies,
            },
            "errors": self.errors,
        }


def main() -> None:
    config_path, out_path = sys.argv[1], sys.argv[2]
    with open(config_path) as handle:
        config = json.load(handle)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(Loader(config).run())
    with open(out_path, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
