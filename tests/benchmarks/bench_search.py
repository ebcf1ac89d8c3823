"""Search figures (issue 3): rebuild throughput and memory, query latency, PostgreSQL ratios.

1. Generate BENCH_ORGS (100,000) fictional organizations with
   `matchmaking.demo.generate_organizations` (fixed seed: the same data every
   run) and load them, with their offers/needs, themes and memberships, into a
   throwaway database: `<db>_bench` on PostgreSQL (BENCH_POSTGRES_URL, else a
   postgres DATABASE_URL; the role needs CREATEDB), or a SQLite file under
   var/bench/ when no PostgreSQL is reachable. About 5% of them carry real
   PICs from the CORDIS H2020 file, imported with `import_cordis`'s service, so
   the track-record facet has real data.
2. Full rebuild of the organization index through the production path
   (`search.lifecycle.Rebuilder`: new index, bulk load from the database,
   alias swap) in a child process: documents/s and the child's peak RSS. The
   node first indexes 30,000 of the documents into a scratch index (dropped):
   its JIT compiles the indexing path, as on a node that has been running.
3. A fixed mix of 200 queries (French, English, typos, names, facet filters,
   geographic radius, browsing without text) through
   `search.queries.search_organizations`: p50/p95 at full size, on a warm node.
   The warm-up answers other draws of the mix (untimed, three threads) by blocks
   of 1,000 until the node's CPU per query stops falling (5,000 to 40,000
   queries; the report shows the trace), so its JIT reaches its steady state
   and its filter caches are warm, as on a node that has served for days; the
   request cache (answers kept per identical request) is then cleared, so no
   timed query finds an answer the warm-up (whose draws share queries with the
   mix) or an earlier phase left.
4. The same queries through `GET /api/search/organizations` (token auth)
   against the production HTTP server on 127.0.0.1 (gunicorn's synchronous
   workers, one per core plus one, as deploy/Dockerfile runs them), 8
   concurrent clients, each warmed up with 25 queries of another draw, the
   request cache cleared again before the timed part: p50/p95.
5. The same queries on PostgreSQL with ILIKE, then with full-text search
   (tsvector over the same text fields, GIN index): p50/p95 and ratios to the
   search service. PostgreSQL answers hits + total only (no facets, no typo
   tolerance), which favours it.

Indices live under their own prefix (maillage-bench) on the project's node
(or ELASTICSEARCH_URL) and are deleted at the end, as is the bench database
(BENCH_KEEP=1 keeps both). For iteration, `--quick` (or BENCH_QUICK=1) reuses
the database and index a BENCH_KEEP=1 run left behind and only times the
queries (service and HTTP; BENCH_ONLY=service,http,rebuild,postgres picks
phases); the default run is always the full one. The report is printed and saved to
var/bench/bench-search.txt. `make bench` starts PostgreSQL when it is
installed but down (see .ci/services.sh).
"""

from __future__ import annotations

import gc
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "var" / "bench"
REPORT = OUT_DIR / "bench-search.txt"
N_ORGS = int(os.environ.get("BENCH_ORGS", "100000"))
SEED = int(os.environ.get("BENCH_SEED", "2026"))
N_QUERIES = 200
CLIENTS = 8
HTTP_WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", str((os.cpu_count() or 2) + 1)))  # one per core, plus one
INDEX_PREFIX = "maillage-bench"
LOAD_CHUNK = 5000
TRACK_RECORD_SHARE = 20  # one organization in 20 gets a real CORDIS PIC
PAGE_SIZE = 20
WARM_UP = 25  # untimed requests per HTTP client first (other draws): connection, workers' imports, caches
# The node's warm-up (other draws of the mix, untimed): blocks of WARM_UP_BLOCK queries from
# WARM_UP_THREADS threads until the node's CPU per query stops falling (no block of the last
# WARM_UP_SETTLED at least WARM_UP_GAIN lower than every block before them), within the bounds.
WARM_UP_BLOCK = 1_000
WARM_UP_THREADS = 3
WARM_UP_SETTLED = 3
WARM_UP_GAIN = 0.03
WARM_UP_MIN, WARM_UP_MAX = 5_000, 40_000
CONTEXT_FILE = OUT_DIR / "bench-context.json"  # what a BENCH_KEEP=1 run leaves for --quick runs

AIMS = {"rebuild": 4000.0, "service_p95": 20.0, "http_p95": 60.0}


# --- Reporting ------------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def save(self) -> Path:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        REPORT.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return REPORT


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Latencies:
    label: str
    millis: list[float] = field(default_factory=list)
    errors: int = 0
    note: str = ""

    @property
    def p50(self) -> float:
        return percentile(self.millis, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.millis, 0.95)


# --- Database ------------------------------------------------------------------------------


def _postgres_url() -> str | None:
    for name in ("BENCH_POSTGRES_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return None


def _with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def prepare_database(report: Report, reuse: bool = False) -> tuple[str, str | None]:
    """(DATABASE_URL for the bench, PostgreSQL URL or None). Recreates the throwaway database unless `reuse`."""
    url = _postgres_url()
    if url is not None:
        import psycopg

        base = urllib.parse.urlsplit(url).path.lstrip("/") or "maillage"
        bench_name = f"{base}_bench"
        if reuse:
            bench_url = _with_database(url, bench_name)
            return bench_url, bench_url
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{bench_name}"')
        except psycopg.Error as exc:
            report(f"PostgreSQL at {urllib.parse.urlsplit(url).hostname} not usable ({exc}); falling back to SQLite")
        else:
            bench_url = _with_database(url, bench_name)
            return bench_url, bench_url
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / "bench.sqlite3"
    if reuse:  # --quick: the database a BENCH_KEEP=1 run left behind
        return f"sqlite:///{path}", None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}", None


def drop_database(pg_url: str | None) -> None:
    if pg_url is None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT_DIR / 'bench.sqlite3'}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = urllib.parse.urlsplit(pg_url).path.lstrip("/")
    admin_url = _postgres_url()
    assert admin_url is not None
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _batched(iterable: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(iterable, size)):
        yield chunk


class _MutedSignals:
    """Keep index followers quiet while the bench loads data: the rebuild reads the database itself."""

    def __enter__(self) -> None:
        from matchmaking.signals import calls_changed, organizations_changed

        self.saved = [(signal, list(signal.receivers)) for signal in (organizations_changed, calls_changed)]
        for signal, _receivers in self.saved:
            signal.receivers = []
            signal.sender_receivers_cache.clear()

    def __exit__(self, *exc: object) -> None:
        for signal, receivers in self.saved:
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()


def settle_database() -> None:
    """Statistics and visibility maps for the freshly loaded tables, before anything is timed.

    Autovacuum would otherwise analyse and vacuum these tables in the middle of the
    rebuild and the queries, and the rebuild's reads would be planned without statistics.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def load_organizations(report: Report, n: int) -> dict[str, Any]:
    """Bulk-load n generated organizations; returns the viewer and a few names for name queries."""
    from django.db import transaction
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from matchmaking import cordis
    from matchmaking.demo import generate_organizations
    from matchmaking.management.commands.seed_demo import AGREEMENTS, CLUSTERS
    from matchmaking.models import (
        Cluster,
        ClusterAgreement,
        Membership,
        MembershipStatus,
        Opportunity,
        Organization,
        OrganizationMember,
        OrganizationRole,
        ProfileStatus,
        User,
    )
    from matchmaking.services.cordis import import_cordis
    from matchmaking.taxonomy import ensure_cluster_themes, ensure_taxonomy

    started = time.perf_counter()
    themes = ensure_taxonomy()
    clusters: dict[str, Cluster] = {}
    for spec in CLUSTERS:
        clusters[spec["code"]], _ = Cluster.objects.update_or_create(code=spec["code"], defaults=spec)
        ensure_cluster_themes(spec["code"])
    for a, b, since, text in AGREEMENTS:
        ClusterAgreement.objects.update_or_create(
            cluster_a=clusters[a], cluster_b=clusters[b], defaults={"since": since, "description": text}
        )
    fields = {f.name for f in Organization._meta.concrete_fields} - {"id"}
    fee = {"startup": "startup", "large": "large", "midsize": "large"}
    now = timezone.now()
    through = Organization.themes.through
    counts = {"organizations": 0, "opportunities": 0, "memberships": 0}
    names: list[str] = []
    rows_iter = generate_organizations(n, SEED, clusters=list(clusters))
    with _MutedSignals():
        for rows in _batched(rows_iter, LOAD_CHUNK):
            with transaction.atomic():
                orgs = Organization.objects.bulk_create(
                    [
                        Organization(
                            **{k: v for k, v in row.items() if k in fields},
                            validated_at=now if row["profile_status"] == ProfileStatus.VALIDATED else None,
                            is_fictional=True,
                        )
                        for row in rows
                    ]
                )
                links, opportunities, memberships = [], [], []
                for org, row in zip(orgs, rows, strict=True):
                    links += [through(organization_id=org.pk, theme_id=themes[t]) for t in row["themes"]]
                    opportunities += [Opportunity(organization_id=org.pk, **o) for o in row["opportunities"]]
                    memberships.append(
                        Membership(
                            organization_id=org.pk,
                            cluster=clusters[row["cluster"]],
                            status=row["membership_status"],
                            fee_tier=fee.get(row["kind"], "sme"),
                            applied_at=now,
                            decided_at=now if row["membership_status"] != MembershipStatus.APPLIED else None,
                        )
                    )
                through.objects.bulk_create(links)
                Opportunity.objects.bulk_create(opportunities)
                Membership.objects.bulk_create(memberships)
            counts["organizations"] += len(orgs)
            counts["opportunities"] += len(opportunities)
            counts["memberships"] += len(memberships)
            if len(names) < 40:
                names += [row["acronym"] for row in rows[:40:4] if row["acronym"].isascii()]
            done = counts["organizations"]
            rate = done / (time.perf_counter() - started)
            print(f"  loaded {done:,}/{n:,} organizations ({rate:,.0f}/s)", flush=True)

        # Real track records for some organizations: real PICs, real CORDIS projects.
        track = "no CORDIS data"
        h2020 = cordis.data_dir() / cordis.H2020_PARTICIPATIONS
        if h2020.exists():
            pics = cordis.sample_pics(max(1, n // TRACK_RECORD_SHARE), min_projects=1, max_projects=40)
            owners = list(Organization.objects.exclude(pic=None).order_by("pk")[: len(pics)])
            for org, pic in zip(owners, pics, strict=False):
                org.pic = pic
            Organization.objects.bulk_update(owners, ["pic"], batch_size=2000)
            parts = cordis.data_dir() / cordis.H2020_PROGRAMME_PARTS
            result = import_cordis(cordis.read_h2020(h2020, parts if parts.exists() else None))
            track = f"{len(result.changed_organization_ids):,} with a real CORDIS track record"

    viewer_org = Organization.objects.filter(
        memberships__cluster=clusters["MNC"], memberships__status=MembershipStatus.ADMITTED
    ).order_by("pk")[0]
    viewer = User.objects.create_user(email="bench.viewer@bench.example", password=None)
    OrganizationMember.objects.create(user=viewer, organization=viewer_org, role=OrganizationRole.OWNER)
    token = Token.objects.create(user=viewer)
    settle_database()
    seconds = time.perf_counter() - started
    report(
        f"Data: {counts['organizations']:,} organizations, {counts['opportunities']:,} offers/needs, "
        f"{counts['memberships']:,} memberships ({track}); loaded in {seconds:.0f}s"
    )
    viewer_clusters = [clusters["MNC"].pk]
    partner_clusters = [c.pk for code, c in clusters.items() if code != "MNC"]  # both agreements let MNC see
    return {
        "viewer_id": viewer.pk,
        "token": token.key,
        "names": names[:30],
        "viewer_clusters": viewer_clusters,
        "partner_clusters": partner_clusters,
    }


# --- Queries ----------------------------------------------------------------------------------

TEXTS_FR = [
    "paiement mobile sécurisé",
    "cybersécurité",
    "sécurité des systèmes d'information",
    "réseaux 5G",
    "intelligence artificielle",
    "objets connectés",
    "monétique",
    "plateforme USSD",
    "cloud souverain",
    "photonique",
    "santé numérique",
    "logiciel de gestion",
    "vidéo à la demande",
    "ville intelligente",
    "formation en ligne",
    "calcul quantique",
    "systèmes embarqués",
    "logiciel libre",
    "banque mobile",
    "réalité virtuelle",
    "paiements en ligne",
    "réseaux de capteurs",
]
TEXTS_EN = [
    "cybersecurity SME Brittany",
    "mobile payment",
    "e-payment security",
    "machine learning",
    "network testing",
    "IoT sensors",
    "cloud hosting",
    "digital health",
    "quantum computing",
    "embedded software",
    "video streaming",
    "smart city mobility",
    "e-learning platform",
    "open source",
    "mobile banking app",
    "data analytics",
    "LTE test network",
    "augmented reality",
    "fintech startup Casablanca",
    "ERP software",
    "networks",
]
TYPOS = [
    "cybersecurite",
    "paiment mobile",
    "reseaux",
    "inteligence artificielle",
    "cybersecurty",
    "monetique",
    "photonqiue",
    "systemes embarques",
    "machne learning",
    "paiements",
]
FILTER_CHOICES: list[dict[str, Any]] = [
    {"cluster": ["MNC"]},
    {"cluster": ["SYSTEMATIC", "IMAGES-RESEAUX"]},
    {"country": ["FR"]},
    {"country": ["MA"]},
    {"kind": ["startup", "sme"]},
    {"kind": ["university", "research_lab"]},
    {"size_band": ["small"]},
    {"opportunity_kind": ["technology_offer"]},
    {"opportunity_kind": ["rd_partner_search"]},
    {"trl": ["4-6"]},
    {"trl": ["7-9"]},
    {"language": ["en"]},
    {"theme": ["cybersecurity"]},
    {"theme": ["e-payment"]},
    {"track_record": ["true"]},
    {"near": ("rennes", 50.0)},
    {"near": ("casablanca", 30.0)},
    {"near": ("paris", 20.0)},
]


@dataclass(frozen=True)
class BenchQuery:
    text: str
    filters: tuple[tuple[str, Any], ...]
    sort: str = "relevance"

    def filter_dict(self) -> dict[str, Any]:
        return dict(self.filters)


def query_mix(names: list[str], rng: random.Random) -> list[BenchQuery]:
    """200 queries: French, English, typos, names (some misspelt), browsing; 0-2 facet filters each."""

    def misspell(word: str) -> str:
        if len(word) < 5:
            return word
        i = rng.randrange(1, len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]

    queries: list[BenchQuery] = []
    for _ in range(N_QUERIES):
        roll = rng.random()
        if roll < 0.30:
            text = rng.choice(TEXTS_FR)
        elif roll < 0.55:
            text = rng.choice(TEXTS_EN)
        elif roll < 0.67:
            text = rng.choice(TYPOS)
        elif roll < 0.85 and names:
            name = rng.choice(names)
            text = misspell(name) if rng.random() < 0.3 else name
        else:
            text = ""
        n_filters = rng.choices([0, 1, 2], weights=[45, 40, 15])[0] if text else rng.choice([1, 2])
        chosen: dict[str, Any] = {}
        for option in rng.sample(FILTER_CHOICES, k=n_filters):
            chosen.update(option)
        sort = "name" if (not text or rng.random() < 0.05) else "relevance"
        queries.append(BenchQuery(text, tuple(sorted(chosen.items())), sort))
    return queries


def service_filters(query: BenchQuery) -> Any:
    from search.queries import GeoFilter, OrganizationFilters

    values = query.filter_dict()
    near = values.pop("near", None)
    geo = GeoFilter.near_city(near[0], near[1]) if near else None
    return OrganizationFilters(near=geo, **{k: tuple(v) for k, v in values.items()})


def http_path(query: BenchQuery) -> str:
    params: list[tuple[str, str]] = [("q", query.text), ("sort", query.sort), ("size", str(PAGE_SIZE))]
    for name, value in query.filters:
        if name == "near":
            params += [("near", value[0]), ("km", str(value[1]))]
        else:
            params += [(name, v) for v in value]
    return "/api/search/organizations?" + urllib.parse.urlencode(params)


# --- 2. Rebuild --------------------------------------------------------------------------------

REBUILD_CHILD = """
import json, resource, django
django.setup()
from search import indexing, lifecycle
from search.client import get_client
report = lifecycle.Rebuilder(indexing.ORGANIZATIONS).rebuild()
count = get_client().count(index=indexing.ORGANIZATIONS.alias)["count"]
print("BENCH-RESULT " + json.dumps({
    "indexed": report.indexed, "seconds": report.seconds, "live_seconds": report.live_seconds,
    "errors": len(report.errors),
    "count": count, "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


WARM_UP_DOCUMENTS = 30_000


def warm_up_indexing() -> None:
    """Index the first documents into a scratch index, then drop it: the node's JIT compiles
    the indexing path first, as on a node that has been running (a rebuild is rarely its first work)."""
    import itertools

    from search import indexing
    from search.client import get_client
    from search.lifecycle import IndexCreator

    creator = IndexCreator(indexing.ORGANIZATIONS)
    scratch = creator.create(loading=True)
    try:
        docs = itertools.islice(indexing.documents_from_database(indexing.ORGANIZATIONS), WARM_UP_DOCUMENTS)
        indexing.bulk_index_documents(docs, index=scratch)
    finally:
        get_client().indices.delete(index=scratch, ignore_unavailable=True)


def run_rebuild(env: dict[str, str]) -> dict[str, Any]:
    warm_up_indexing()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", REBUILD_CHILD], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    lines = [line for line in result.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if result.returncode != 0 or not lines:
        output = f"{result.stdout[-2000:]}{result.stderr[-4000:]}"
        raise RuntimeError(f"rebuild failed (exit {result.returncode}):\n{output}")
    data: dict[str, Any] = json.loads(lines[-1].removeprefix("BENCH-RESULT "))
    data["wall"] = wall
    return data


# --- 3. Service --------------------------------------------------------------------------------


def clear_request_cache() -> None:
    """Forget the answers Elasticsearch keeps per request: timed queries must not find the
    answers of the warm-up (whose draws share many queries with the timed mix) or of the
    previous phase (the same mix)."""
    from search.client import get_client
    from search.indexing import ORGANIZATIONS

    get_client().indices.clear_cache(index=ORGANIZATIONS.alias, request=True)


def node_cpu_millis() -> int | None:
    """CPU time used by the cluster's nodes so far (ms), or None when the cluster does not say."""
    from search.client import get_client

    try:
        stats = get_client().nodes.stats(metric="process", filter_path="nodes.*.process.cpu.total_in_millis")
        return sum(int(n["process"]["cpu"]["total_in_millis"]) for n in stats.body["nodes"].values())
    except Exception:  # a managed cluster may refuse node stats: fall back to a fixed warm-up
        return None


def service_search(viewer_id: int) -> Callable[[BenchQuery], int]:
    """One query of the mix through the search service as the bench's viewer: its total."""
    from matchmaking.models import User
    from search.queries import search_organizations

    viewer = User.objects.get(pk=viewer_id)

    def one(query: BenchQuery) -> int:
        filters = service_filters(query)
        return search_organizations(viewer, text=query.text, filters=filters, sort=query.sort, size=PAGE_SIZE).total

    return one


def warm_up_node(names: list[str], viewer_id: int) -> str:
    """Answer other draws of the mix, untimed, until the node's CPU per query stops falling.

    A node's cost per query keeps falling for its first 15,000-20,000 queries (the JIT
    compiles the search, highlighting and aggregation paths; the filter caches fill), the
    more so just after a start: a production node has served for days. Returns the trace.
    """
    from concurrent.futures import ThreadPoolExecutor

    one = service_search(viewer_id)

    def draws() -> Iterator[BenchQuery]:
        seed = SEED + 1000
        while True:
            yield from query_mix(names, random.Random(seed))
            seed += 1

    pending = draws()
    per_query: list[float] = []
    answered = 0
    with ThreadPoolExecutor(WARM_UP_THREADS) as pool:
        while answered < WARM_UP_MAX:
            before = node_cpu_millis()
            list(pool.map(one, islice(pending, WARM_UP_BLOCK)))
            after = node_cpu_millis()
            answered += WARM_UP_BLOCK
            if before is None or after is None:
                if answered >= WARM_UP_MIN:
                    return f"{answered:,} queries (the cluster gives no CPU figures)"
                continue
            per_query.append((after - before) / WARM_UP_BLOCK)
            recent, earlier = per_query[-WARM_UP_SETTLED:], per_query[:-WARM_UP_SETTLED]
            if answered >= WARM_UP_MIN and earlier and min(recent) > min(earlier) * (1 - WARM_UP_GAIN):
                break
    trace = " ".join(f"{ms:.1f}" for ms in per_query)
    return f"{answered:,} queries; node CPU per query by block of {WARM_UP_BLOCK:,}, ms: {trace}"


def run_service(queries: list[BenchQuery], viewer_id: int) -> Latencies:
    from search.queries import SearchUnavailable

    one = service_search(viewer_id)
    latencies = Latencies("search service (in process)")
    totals: list[int] = []

    clear_request_cache()
    for query in queries:
        started = time.perf_counter()
        try:
            totals.append(one(query))
        except SearchUnavailable:
            # The node is shared (tests stop and restart it): count the failure, restart, carry on.
            latencies.errors += 1
            ensure_search()
            continue
        latencies.millis.append((time.perf_counter() - started) * 1000.0)
    empty = sum(1 for t in totals if t == 0)
    latencies.note = f"median hits {statistics.median(totals):,.0f}, {empty} queries with no hit"
    if latencies.errors:
        latencies.note += f"; {latencies.errors} failed (node unavailable)"
    return latencies


# --- 4. HTTP -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_http(queries: list[BenchQuery], token: str, env: dict[str, str], warm_up: list[BenchQuery]) -> Latencies:
    port = _free_port()
    server_env = {
        **env,
        "API_THROTTLE_USER": "1000000/hour",
        "API_THROTTLE_ANON": "1000000/hour",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
    }
    command = [
        sys.executable, "-m", "gunicorn", "maillage.wsgi",
        "--bind", f"127.0.0.1:{port}", "--workers", str(HTTP_WORKERS), "--log-level", "warning",
    ]  # fmt: skip
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = OUT_DIR / "gunicorn.log"
    # A file, not a pipe: an unread pipe fills up and blocks the workers mid-request.
    log = log_path.open("wb")
    server = subprocess.Popen(command, env=server_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    latencies = Latencies(f"HTTP API, {CLIENTS} clients, gunicorn x{HTTP_WORKERS} workers")
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", http_path(queries[0]), headers=headers)
                response = conn.getresponse()
                body = response.read()
                conn.close()
                if response.status == 200:
                    break
                raise RuntimeError(f"HTTP {response.status}: {body[:300]!r}")
            except (ConnectionError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    output = log_path.read_text(errors="replace")
                    raise RuntimeError(f"gunicorn did not come up:\n{output[-3000:]}") from None
                time.sleep(0.3)

        lock = threading.Lock()
        statuses: dict[str, int] = {}
        samples: list[str] = []

        def client(share: list[BenchQuery], warm: list[BenchQuery]) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            local: list[float] = []
            for i, query in enumerate([*warm, *share]):
                if i == len(warm):
                    warmed.wait(timeout=300)  # the timed part starts for every client at once
                started = time.perf_counter()
                try:
                    conn.request("GET", http_path(query), headers=headers)
                    response = conn.getresponse()
                    body = response.read()
                    status = str(response.status)
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    status, body = type(exc).__name__, b""
                elapsed = (time.perf_counter() - started) * 1000.0
                if status != "200":
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1
                        if len(samples) < 3:
                            samples.append(f"{status} {http_path(query)[:120]} -> {body[:200]!r}")
                if i >= len(warm) and status == "200":
                    local.append(elapsed)
            conn.close()
            with lock:
                latencies.millis.extend(local)

        # Each query once, spread over the clients, all clients at once: 8 requests in flight throughout.
        warmed = threading.Barrier(CLIENTS + 1, action=clear_request_cache)
        threads = [
            threading.Thread(target=client, args=(queries[i::CLIENTS], warm_up[i::CLIENTS][:WARM_UP]))
            for i in range(CLIENTS)
        ]
        # The load generator's own garbage collections would stop its eight clients at once
        # (this process holds the whole bench's data): no collection while they run.
        gc.collect()
        gc.disable()
        try:
            for thread in threads:
                thread.start()
            warmed.wait(timeout=300)
            started = time.perf_counter()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
        finally:
            gc.enable()
        latencies.errors = sum(statuses.values())
        for sample in samples:
            print(f"  non-200 sample: {sample}", flush=True)
        count = len(latencies.millis)
        failures = ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items())) or "none"
        latencies.note = f"{count:,} requests in {seconds:.1f}s ({count / seconds:,.0f}/s); failures: {failures}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    return latencies


# --- 5. PostgreSQL ---------------------------------------------------------------------------------

_TEXT_COLUMNS = ("o.legal_name", "o.acronym", "o.description_fr", "o.description_en", "o.competences::text")


def _pg_filters(query: BenchQuery, ctx: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """WHERE clauses for visibility and facet filters, equivalent to the index's."""
    clauses = [
        "o.profile_status = 'validated'",
        "EXISTS (SELECT 1 FROM matchmaking_membership m WHERE m.organization_id = o.id AND m.status = 'admitted')",
        "(o.visibility = 'everyone'"
        " OR EXISTS (SELECT 1 FROM matchmaking_membership m WHERE m.organization_id = o.id"
        "  AND m.status = 'admitted' AND m.cluster_id = ANY(%s))"
        " OR (o.visibility = 'partners' AND EXISTS (SELECT 1 FROM matchmaking_membership m"
        "  WHERE m.organization_id = o.id AND m.status = 'admitted' AND m.cluster_id = ANY(%s))))",
    ]
    params: list[Any] = [ctx["viewer_clusters"], ctx["partner_clusters"]]
    for name, value in query.filters:
        if name == "cluster":
            clauses.append(
                "EXISTS (SELECT 1 FROM matchmaking_membership m JOIN matchmaking_cluster c ON c.id = m.cluster_id"
                " WHERE m.organization_id = o.id AND m.status = 'admitted' AND c.code = ANY(%s))"
            )
            params.append(list(value))
        elif name in {"country", "kind", "size_band"}:
            clauses.append(f"o.{name} = ANY(%s)")
            params.append(list(value))
        elif name == "theme":
            clauses.append(
                "EXISTS (SELECT 1 FROM matchmaking_organization_themes ot JOIN matchmaking_theme t"
                " ON t.id = ot.theme_id WHERE ot.organization_id = o.id AND t.code = ANY(%s))"
            )
            params.append(list(value))
        elif name == "opportunity_kind":
            clauses.append(
                "EXISTS (SELECT 1 FROM matchmaking_opportunity p WHERE p.organization_id = o.id AND p.kind = ANY(%s))"
            )
            params.append(list(value))
        elif name == "trl":
            ranges = [tuple(int(x) for x in v.split("-")) for v in value]
            ors = " OR ".join("p.trl BETWEEN %s AND %s" for _ in ranges)
            clauses.append(
                f"EXISTS (SELECT 1 FROM matchmaking_opportunity p WHERE p.organization_id = o.id AND ({ors}))"  # noqa: S608
            )
            params += [bound for pair in ranges for bound in pair]
        elif name == "language":
            clauses.append("o.languages::jsonb ?| %s")
            params.append(list(value))
        elif name == "track_record":
            clauses.append(
                "EXISTS (SELECT 1 FROM matchmaking_euparticipation e WHERE e.organization_id = o.id"
                " OR (o.pic IS NOT NULL AND e.pic = o.pic))"
            )
        elif name == "near":
            from search.geo import CITIES

            _label, lat, lon = CITIES[value[0]]
            clauses.append(
                "o.latitude IS NOT NULL AND 6371 * 2 * asin(sqrt(power(sin(radians(o.latitude - %s) / 2), 2)"
                " + cos(radians(%s)) * cos(radians(o.latitude)) * power(sin(radians(o.longitude - %s) / 2), 2)))"
                " <= %s"
            )
            params += [lat, lat, lon, value[1]]
    return clauses, params


def pg_ilike_sql(query: BenchQuery, ctx: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses, params = _pg_filters(query, ctx)
    for word in [w for w in query.text.split() if len(w) > 1]:
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        fields = " OR ".join(f"{column} ILIKE %s" for column in _TEXT_COLUMNS)
        clauses.append(
            f"({fields} OR EXISTS (SELECT 1 FROM matchmaking_opportunity p WHERE p.organization_id = o.id"  # noqa: S608
            " AND (p.title ILIKE %s OR p.text ILIKE %s)))"
        )
        params += [pattern] * (len(_TEXT_COLUMNS) + 2)
    sql = (
        "SELECT o.id, o.legal_name, count(*) OVER () AS total FROM matchmaking_organization o "  # noqa: S608
        f"WHERE {' AND '.join(clauses)} ORDER BY o.legal_name LIMIT {PAGE_SIZE}"
    )
    return sql, params


def pg_fts_sql(query: BenchQuery, ctx: dict[str, Any], unaccent: bool) -> tuple[str, list[Any]]:
    clauses, params = _pg_filters(query, ctx)
    if query.text.strip():
        tsquery = "plainto_tsquery('simple', unaccent(%s))" if unaccent else "plainto_tsquery('simple', %s)"
        clauses.append(f"f.document @@ {tsquery}")
        params.append(query.text)
        order = f"ts_rank(f.document, {tsquery}) DESC, o.id"
        order_params = [query.text]
    else:
        order, order_params = "o.legal_name", []
    sql = (
        "SELECT o.id, o.legal_name, count(*) OVER () AS total FROM matchmaking_organization o "  # noqa: S608
        "JOIN bench_organization_fts f ON f.organization_id = o.id "
        f"WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT {PAGE_SIZE}"
    )
    return sql, params + order_params


def build_fts(conn: Any) -> tuple[bool, float]:
    """tsvector over the same text fields the index searches (names, descriptions, competences, offers/needs)."""
    started = time.perf_counter()
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        unaccent = True
    except Exception:  # the extension is optional: without it accents are simply not folded
        conn.rollback()
        unaccent = False
    fold = "unaccent" if unaccent else ""
    conn.execute("DROP TABLE IF EXISTS bench_organization_fts")
    conn.execute(
        "CREATE TABLE bench_organization_fts AS SELECT o.id AS organization_id, "  # noqa: S608
        f"to_tsvector('simple', {fold}(concat_ws(' ', o.legal_name, o.acronym, o.description_fr, o.description_en,"
        " o.competences::text, (SELECT string_agg(p.title || ' ' || p.text, ' ') FROM matchmaking_opportunity p"
        " WHERE p.organization_id = o.id)))) AS document FROM matchmaking_organization o"
    )
    conn.execute("ALTER TABLE bench_organization_fts ADD PRIMARY KEY (organization_id)")
    conn.execute("CREATE INDEX bench_organization_fts_gin ON bench_organization_fts USING gin (document)")
    conn.execute("ANALYZE")
    conn.commit()
    return unaccent, time.perf_counter() - started


def run_postgres(pg_url: str, queries: list[BenchQuery], ctx: dict[str, Any]) -> tuple[Latencies, Latencies, str]:
    import psycopg

    with psycopg.connect(pg_url, connect_timeout=5) as conn:
        unaccent, fts_seconds = build_fts(conn)
        results = []
        for label, build in (
            ("PostgreSQL ILIKE", lambda q: pg_ilike_sql(q, ctx)),
            ("PostgreSQL full-text (GIN)", lambda q: pg_fts_sql(q, ctx, unaccent)),
        ):
            latencies = Latencies(label)
            totals = []
            for query in queries[:10]:
                conn.execute(*build(query)).fetchall()
            for query in queries:
                sql, params = build(query)
                started = time.perf_counter()
                rows = conn.execute(sql, params).fetchall()
                latencies.millis.append((time.perf_counter() - started) * 1000.0)
                totals.append(rows[0][2] if rows else 0)
            empty = sum(1 for t in totals if t == 0)
            latencies.note = f"median hits {statistics.median(totals):,.0f}, {empty} queries with no hit"
            results.append(latencies)
            conn.rollback()
    note = f"tsvector 'simple'{' + unaccent' if unaccent else ''}, built with its GIN index in {fts_seconds:.0f}s"
    return results[0], results[1], note


# --- Clean-up ------------------------------------------------------------------------------------


def delete_bench_indices() -> None:
    from search.client import get_client

    client = get_client()
    names = list(client.indices.get(index=f"{INDEX_PREFIX}-*", expand_wildcards="all", allow_no_indices=True))
    for name in names:
        client.indices.delete(index=name, ignore_unavailable=True)


# --- Main ----------------------------------------------------------------------------------------


def ensure_search() -> None:
    """The project's local node, unless ELASTICSEARCH_URL points elsewhere (it is shared: make sure it runs)."""
    from django.conf import settings

    if not settings.ELASTICSEARCH_URL:
        from search import node

        node.ensure()


def _row(label: str, p50: float, p95: float, aim: str = "", extra: str = "") -> str:
    return f"  {label:<44} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms  {aim:<18} {extra}".rstrip()


def main() -> int:
    quick = "--quick" in sys.argv or os.environ.get("BENCH_QUICK") == "1"
    if quick and not CONTEXT_FILE.exists():
        print("--quick needs a previous run with BENCH_KEEP=1 (database and index kept); running in full.")
        quick = False
    default_phases = "service,http" if quick else "rebuild,service,http,postgres"
    phases = set(os.environ.get("BENCH_ONLY", default_phases).split(","))
    report = Report()
    report(f"Maillage search benchmark - {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    report(
        f"{N_ORGS:,} generated organizations (seed {SEED}), {N_QUERIES} queries, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} (other work on the machine skews the figures)"
    )

    if quick:
        report("QUICK RUN (--quick): database and index of a previous BENCH_KEEP=1 run reused; not the full figures")
    database_url, pg_url = prepare_database(report, reuse=quick)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ELASTICSEARCH_INDEX_PREFIX": INDEX_PREFIX,
        "DJANGO_SETTINGS_MODULE": "maillage.settings",
        "MAILLAGE_DISABLE_RATE_LIMITS": "true",
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    backend = "PostgreSQL" if pg_url else "SQLite (no PostgreSQL reachable)"
    report(f"Database: {backend}; Elasticsearch: {settings.ELASTICSEARCH_URL or 'local node (search.node)'}")
    ensure_search()
    call_command("migrate", verbosity=0, interactive=False)

    keep = quick or os.environ.get("BENCH_KEEP") == "1"
    rate = float("nan")
    service = http = Latencies("not run")
    try:
        if quick:
            ctx = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))
        else:
            CONTEXT_FILE.unlink(missing_ok=True)
            ctx = load_organizations(report, N_ORGS)
            if keep:
                CONTEXT_FILE.write_text(json.dumps(ctx), encoding="utf-8")
        queries = query_mix(ctx["names"], random.Random(SEED))
        # The HTTP clients' own warm-up (connections, the server processes' first requests).
        warm_up = query_mix(ctx["names"], random.Random(SEED + 1))

        if "rebuild" in phases:
            ensure_search()
            rebuild = run_rebuild(env)
            # Throughput until searches read the new index; after that the command only waits (a
            # grace for searches still on the old index) and deletes the old index.
            live = rebuild["live_seconds"]
            rate = rebuild["indexed"] / live if live else 0.0
            report()
            report("Index rebuild (search.lifecycle.Rebuilder, child process)")
            report(
                f"  {rebuild['indexed']:,} documents live in {live:.1f}s: {rate:,.0f} docs/s "
                f"(aim >= {AIMS['rebuild']:,.0f}); {rebuild['count']:,} in the index, {rebuild['errors']} errors"
            )
            report(
                f"  the command ended after {rebuild['seconds']:.1f}s (old index deleted after its grace), "
                f"{rebuild['indexed'] / rebuild['seconds']:,.0f} docs/s over that time"
            )
            report(f"  peak RSS of the rebuild process: {rebuild['max_rss_kb'] / 1024:,.0f} MB")

        ensure_search()
        report()
        report(f"Query latency, {N_QUERIES} queries with facets (FR/EN, typos, names, filters, geo), {N_ORGS:,} docs")
        if phases & {"service", "http"}:
            report(f"  node warm-up: {warm_up_node(ctx['names'], ctx['viewer_id'])}")
        if "service" in phases:
            service = run_service(queries, ctx["viewer_id"])
            aim = f"(aim p95 <= {AIMS['service_p95']:.0f})"
            report(_row(service.label, service.p50, service.p95, aim, service.note))
        if "http" in phases:
            http = run_http(queries, ctx["token"], env, warm_up)
            report(_row(http.label, http.p50, http.p95, f"(aim p95 <= {AIMS['http_p95']:.0f})", http.note))
        if "postgres" not in phases:
            pass
        elif pg_url:
            ilike, fts, note = run_postgres(pg_url, queries, ctx)
            report(_row(ilike.label, ilike.p50, ilike.p95, "", ilike.note))
            report(_row(fts.label, fts.p50, fts.p95, "", fts.note))
            report(f"  ({note}; PostgreSQL returns hits + total only: no facets, no typo tolerance)")
            report()
            report("Ratios: PostgreSQL time / search service time (above 1: the search service is faster)")
            for other in (ilike, fts):
                p50, p95 = other.p50 / service.p50, other.p95 / service.p95
                report(f"  {other.label:<44} p50 x{p50:7.2f}       p95 x{p95:7.2f}")
        else:
            report("  PostgreSQL ILIKE / full-text: not run: no PostgreSQL reachable. Set BENCH_POSTGRES_URL")
            report("  (a role with CREATEDB) or run `make bench`, which starts the local PostgreSQL if installed.")
        checks = [
            ("rebuild docs/s", rate >= AIMS["rebuild"]),
            ("service p95", service.p95 <= AIMS["service_p95"]),
            ("HTTP p95", http.p95 <= AIMS["http_p95"]),
        ]
        # Only the phases that ran (BENCH_ONLY): one that did not is neither met nor missed.
        checks = [(name, ok) for name, ok in checks if name.split()[0].lower() in phases]
        report()
        report(
            "Aims: "
            + (", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in checks) or "none in the phases run")
        )
        report(f"Load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        if not keep:
            try:
                ensure_search()
                delete_bench_indices()
            except Exception as exc:  # clean-up must not hide the real error
                print(f"(could not delete the bench indices: {exc})")
            from django.db import connections

            connections.close_all()
            try:
                drop_database(pg_url)
            except Exception as exc:
                print(f"(could not drop the bench database: {exc})")
        path = report.save()
        print(f"\nSaved to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
