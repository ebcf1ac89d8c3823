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
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
LOADERS = 2
USERS_PER_CONVERSATION = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


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
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.callback(_stop, process)
    _wait_port(port)
    return f"redis://127.0.0.1:{port}/0"


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        # SIGINT: uvicorn shuts down cleanly (and a cProfile run writes its output).
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _database(stack: ExitStack, workdir: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    import psycopg

    base, _, _name = url.rpartition("/")
    name = f"maillage_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return f"{base}/{name}"


def _seed(conversations: int) -> list[dict[str, Any]]:
    """Users, organizations, conversations and sessions; returns one row per client."""
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import connections
    from django.utils import timezone

    from matchmaking.models import Organization, OrganizationMember, User
    from messaging import services

    half = USERS_PER_CONVERSATION // 2
    users = User.objects.bulk_create(
        [User(email=f"bench{n}@bench.example", full_name=f"Bench {n}") for n in range(conversations * 2 * half)]
    )
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_update(users, ["password"])
    organizations = Organization.objects.bulk_create(
        [Organization(legal_name=f"Bench org {n}", kind="sme", country="FR") for n in range(conversations * 2)]
    )
    OrganizationMember.objects.bulk_create(
        [OrganizationMember(user=users[n], organization=organizations[n // half]) for n in range(len(users))]
    )
    rows: list[dict[str, Any]] = []
    sessions: list[Session] = []
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    for c in range(conversations):
        pair = organizations[2 * c : 2 * c + 2]
        conversation = services.open_direct_conversation(organizations=pair, opened_by_kind="bench", opened_by_id=c)
        for user in users[2 * c * half : 2 * (c + 1) * half]:
            key = uuid.uuid4().hex
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
            sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
            rows.append({"user": user.pk, "session": key, "conversation": conversation.pk})
    Session.objects.bulk_create(sessions)
    connections.close_all()
    return rows


def _report(result: dict[str, Any]) -> list[str]:
    lines = []
    p1, p2 = result["phase1"], result["phase2"]
    lat1 = sorted(p1["latencies"])
    lat2 = sorted(p2["latencies"])
    mb = result["peak_rss"] / 2**20
    lines.append(f"database: {result['database']}; channel layer: Redis ({result['layer']})")
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
    conversations = max(1, clients // USERS_PER_CONVERSATION)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="maillage-bench-msg-")))
        redis_url = _start_redis(stack)
        database_url = _database(stack, workdir)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "maillage.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Keep connections between database_sync_to_async calls, as a
            # production deployment would (see README-messaging).
            "DATABASE_CONN_MAX_AGE": "600",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        }
        os.environ.update(env)
        print(f"database {database_url.split('@')[-1]}, redis {redis_url}; migrating...", flush=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        print(f"seeding {clients} users in {conversations} conversations...", flush=True)
        rows = _seed(conversations)
        port = _free_port()
        profile = os.environ.get("MESSAGING_BENCH_PROFILE")  # a cProfile output path, to find hot spots
        server = subprocess.Popen(
            [
                sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []),
                "-m", "uvicorn", "maillage.asgi:application",
                "--host", "127.0.0.1", "--port", str(port),
                "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio",
                "--lifespan", "off", "--no-access-log", "--log-level", "warning",
            ],
            cwd=ROOT, env=env,
        )  # fmt: skip
        stack.callback(_stop, server)
        _wait_port(port)
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
            stack.callback(_stop, process)
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
            "layer": "channels_redis",
            "clients": sum(o["clients"] for o in outputs),
            "conversations": conversations,
            "connect_seconds": connect_seconds,
            "phase1_seconds": phase1,
            "phase2_seconds": phase2,
            "peak_rss": sampler.peak,
            "server_cpu": server_cpu,
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
