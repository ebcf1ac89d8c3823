"""Messaging under load: one ASGI server process, Redis channel layer, 1,000 websocket clients.

What it does, all on loopback and bounded in time (about 3 minutes):
1. a throwaway database (SQLite file in a temporary directory, or a fresh
   PostgreSQL database when DATABASE_URL points to PostgreSQL) and a private
   Redis server (or REDIS_URL when redis-server is not installed);
2. 1,000 users with sessions, in 100 direct conversations of 10 users
   (two organizations of five users each);
3. one uvicorn process serving `maillage.asgi`, its RSS sampled with psutil;
4. two load-generator processes (`messaging_load.py`) of 500 clients each,
   every client authenticated by its session cookie;
5. phase 1: 500 messages/s in aggregate for 60 s: send-to-receive latency
   p50/p99 at every other participant, messages lost, duplicates;
6. phase 2: the same load for 30 s while 20 % of the clients drop (TCP
   abort) and reconnect with `sync`; lost and duplicated messages.

Aims (issue #4): p99 ≤ 50 ms, 0 lost, peak RSS ≤ 350 MB, 0 lost or
duplicated across reconnects. Tune with MESSAGING_BENCH_CLIENTS,
MESSAGING_BENCH_RATE, MESSAGING_BENCH_SECONDS for a quick run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil

from tests.messaging import servers

ROOT = Path(__file__).resolve().parents[2]
LOADERS = 2


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.cpu_samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        self.process.cpu_percent()
        while not self.stop.wait(0.25):
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)


def _start_redis(stack: ExitStack) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        url = os.environ.get("REDIS_URL", "")
        if not url:
            raise SystemExit("bench_messaging needs redis-server installed or REDIS_URL set")
        return url
    port = servers.free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.callback(servers.stop, process)
    servers.wait_port(port, process)
    return f"redis://127.0.0.1:{port}/0"


def _report(result: dict[str, Any]) -> list[str]:
    lines = []
    p1, p2 = result["phase1"], result["phase2"]
    lat1 = sorted(p1["latencies"])
    lat2 = sorted(p2["latencies"])
    mb = result["peak_rss"] / 2**20
    lines.append(f"database: {result['database']}; channel layer: Redis ({result['layer']})")
    lines.append(
        f"machine: {os.cpu_count()} cores, load average {result['load'][0]:.1f} before / "
        f"{result['load'][1]:.1f} after the run (other processes compete for the same cores)"
    )
    lines.append(
        f"clients: {result['clients']} in {result['conversations']} conversations, "
        f"connected in {result['connect_seconds']:.1f} s; {LOADERS} load-generator processes"
    )
    lines.append(
        f"phase 1: {p1['sent']} messages in {result['phase1_seconds']:.0f} s "
        f"({p1['sent'] / result['phase1_seconds']:.0f} msg/s), {p1['acked']} acked, "
        f"{len(lat1)} deliveries timed"
    )
    lines.append(
        f"  send-to-receive latency: p50 {1000 * _percentile(lat1, 0.5):.1f} ms, "
        f"p99 {1000 * _percentile(lat1, 0.99):.1f} ms, max {1000 * (lat1[-1] if lat1 else float('nan')):.1f} ms"
        f"  (aim p99 <= 50 ms)"
    )
    acks = sorted(p1["ack_latencies"])
    lines.append(
        f"  send-to-ack latency (sender): p50 {1000 * _percentile(acks, 0.5):.1f} ms, "
        f"p99 {1000 * _percentile(acks, 0.99):.1f} ms; load generators' CPU {p1['cpu_seconds']:.0f} s"
    )
    lines.append(
        f"  messages lost: {p1['lost']} of {p1['expected']} deliveries; duplicates: {p1['duplicates']}  (must be 0)"
    )
    lines.append(f"  server peak RSS: {mb:.0f} MB (aim <= 350 MB); server CPU {result['server_cpu']:.0f} s")
    lines.append(
        f"phase 2: {p2['sent']} messages in {result['phase2_seconds']:.0f} s while "
        f"{p2['reconnects']} clients dropped and reconnected ({p2['resent']} unacked messages resent)"
    )
    lines.append(
        f"  lost: {p2['lost']} of {p2['expected']} deliveries; duplicated: {p2['duplicates']}  (must be 0); "
        f"latency p50 {1000 * _percentile(lat2, 0.5):.1f} ms, p99 {1000 * _percentile(lat2, 0.99):.1f} ms"
    )
    lines.append(f"  protocol errors seen by clients: {result['errors'] or 'none'}")
    ok = p1["lost"] == 0 and p2["lost"] == 0 and p1["duplicates"] == 0 and p2["duplicates"] == 0
    lines.append(
        f"result: {'OK' if ok else 'FAILED'} (loss/duplicates); aims: "
        f"p99 {'met' if _percentile(lat1, 0.99) <= 0.05 else 'NOT met'}, "
        f"RSS {'met' if mb <= 350 else 'NOT met'}"
    )
    return lines


def main() -> int:
    clients = int(os.environ.get("MESSAGING_BENCH_CLIENTS", "1000"))
    rate = float(os.environ.get("MESSAGING_BENCH_RATE", "500"))
    phase1 = float(os.environ.get("MESSAGING_BENCH_SECONDS", "60"))
    phase2 = phase1 / 2
    conversations = max(1, clients // servers.USERS_PER_CONVERSATION)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="maillage-bench-msg-")))
        redis_url = _start_redis(stack)
        database_url = servers.throwaway_database(stack, workdir)
        env = servers.server_env(database_url, redis_url)
        print(f"database {database_url.split('@')[-1]}, redis {redis_url}; migrating and seeding...", flush=True)
        rows = servers.prepare(env, conversations)
        port = servers.free_port()
        # MESSAGING_BENCH_PROFILE: a cProfile output path, to find hot spots.
        server = servers.start_uvicorn(stack, env, port, profile=os.environ.get("MESSAGING_BENCH_PROFILE"))
        print(f"server pid {server.pid} on port {port}", flush=True)
        sampler = RssSampler(server.pid)
        sampler.start()
        stack.callback(sampler.stop.set)
        # Each loader owns whole conversations, so its loss accounting is complete.
        per_loader: list[list[dict[str, Any]]] = [[] for _ in range(LOADERS)]
        for row in rows:
            per_loader[row["conversation"] % LOADERS].append(row)
        loaders = []
        for n, loader_rows in enumerate(per_loader):
            config_path = workdir / f"loader{n}.json"
            config_path.write_text(
                json.dumps(
                    {
                        "url": f"ws://127.0.0.1:{port}/ws/",
                        "origin": f"http://127.0.0.1:{port}",
                        "rate": rate / LOADERS,
                        "phase1_seconds": phase1,
                        "phase2_seconds": phase2,
                        "drop_fraction": 0.2,
                        "seed": n + 1,
                        "clients": loader_rows,
                    }
                )
            )
            command = [sys.executable, "-m", "tests.benchmarks.messaging_load", str(config_path)]
            process = subprocess.Popen(
                [*command, str(workdir / f"out{n}.json")],
                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            stack.callback(servers.stop, process)
            loaders.append(process)
        print(f"connecting {clients} websocket clients...", flush=True)
        started = time.monotonic()
        for process in loaders:
            assert process.stdout is not None
            line = process.stdout.readline()
            if line.strip() != "READY":
                raise RuntimeError(f"load generator failed to start: {line!r}")
        connect_seconds = time.monotonic() - started
        cpu_before = sampler.cpu_seconds()
        load_before = os.getloadavg()[0]
        go = time.monotonic() + 0.5
        for process in loaders:
            assert process.stdin is not None
            process.stdin.write(f"GO {go}\n")
            process.stdin.flush()
        print(
            f"phase 1: {rate:.0f} msg/s for {phase1:.0f} s, then phase 2 with reconnects for {phase2:.0f} s...",
            flush=True,
        )
        for process in loaders:
            process.wait(timeout=phase1 + phase2 + 180)
            if process.returncode != 0:
                raise RuntimeError(f"load generator exited with {process.returncode}")
        server_cpu = sampler.cpu_seconds() - cpu_before
        outputs = [json.loads((workdir / f"out{n}.json").read_text()) for n in range(LOADERS)]
        merged: dict[str, Any] = {
            "database": "PostgreSQL" if database_url.startswith("postgres") else "SQLite (WAL)",
            "layer": "channels_redis pub/sub",
            "clients": sum(o["clients"] for o in outputs),
            "conversations": conversations,
            "connect_seconds": connect_seconds,
            "phase1_seconds": phase1,
            "phase2_seconds": phase2,
            "peak_rss": sampler.peak,
            "server_cpu": server_cpu,
            "load": (load_before, os.getloadavg()[0]),
            "errors": {},
        }
        for phase in ("phase1", "phase2"):
            merged[phase] = {}
            for key in outputs[0][phase]:
                values = [o[phase][key] for o in outputs]
                if isinstance(values[0], list):
                    merged[phase][key] = [item for value in values for item in value]
                else:
                    merged[phase][key] = sum(values)
        for output in outputs:
            for code, count in output["errors"].items():
                merged["errors"][code] = merged["errors"].get(code, 0) + count
        lines = _report(merged)
        print("\n".join(lines), flush=True)
        (ROOT / "var").mkdir(exist_ok=True)
        (ROOT / "var" / "bench-messaging.txt").write_text("\n".join(lines) + "\n")
        p1, p2 = merged["phase1"], merged["phase2"]
        return 0 if p1["lost"] == p2["lost"] == p1["duplicates"] == p2["duplicates"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
