"""The local single-node Elasticsearch used when ELASTICSEARCH_URL is empty.

`ensure()` is the entry point (`manage.py search_node ensure`, `manage.py
serve`, the test fixtures): it returns a running, healthy node, provisioning
it on first use:

1. download the `integ-test-zip` distribution of Elasticsearch ES_VERSION
   with Maven into `MAILLAGE_CACHE_DIR/dl/` (the zip ships no JDK: the node
   runs on the machine's newest Java 17, 21 or 25 JDK, see `find_java_home`);
2. unpack it once;
3. compile the Maillage analysis plugin (search/es_plugin/src, a stable
   plugin built against the node's own jars) and install it. This
   distribution lacks the analysis-common module, so folding, elision,
   stemming, synonyms and edge n-grams come from that plugin; it is rebuilt
   and reinstalled whenever its sources change (keyed by their hash);
4. start the node on 127.0.0.1 (first free port from 9200) with a 1 GB heap
   and wait for `cluster.health` to be yellow (`GET /` answers 405 on this
   distribution, so ping/info cannot be used).

Elasticsearch refuses to run as root: as root, the node runs as the system
user `maillage-es`, which owns the node's directories. When the cache
directory is not reachable by that user (the default ~/.cache/maillage under
a 0700 /root), the node's files live in /var/lib/maillage-es/node-<hash>
instead, and only the download, the built plugin and the state file stay in
the cache directory.

Several processes (test sessions of different engineers, `make demo`) may
call `ensure()` at once: an exclusive file lock around "check, provision,
start" makes exactly one of them start the node and the others reuse it. The
state file (`es-node.json` in the cache directory) records the pid, port and
the plugin hash the node runs with; a state file whose process is gone is
stale and replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

ES_VERSION = "8.19.9"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
CLUSTER_NAME = "maillage-local"
NODE_USER = "maillage-es"
HEAP = "1g"
PORT_RANGE = range(9200, 9300)
# ES 8.19 runs on the LTS JDKs 17, 21 and 25; the plugin is compiled with `--release 17` on any.
SUPPORTED_JAVA_MAJORS = (17, 21, 25)
DEFAULT_JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
JVM_DIR = Path("/usr/lib/jvm")  # where Debian's and Temurin's packages install their JDKs

PLUGIN_NAME = "maillage-analysis"
PLUGIN_VERSION = "1.0.0"
PLUGIN_SOURCES = Path(__file__).resolve().parent / "es_plugin" / "src"
# Bump when the way the plugin zip is assembled changes (not its sources).
_PLUGIN_BUILD_FORMAT = "1"
_PLUGIN_INTERFACES = {
    "TokenFilterFactory": "org.elasticsearch.plugin.analysis.TokenFilterFactory",
    "TokenizerFactory": "org.elasticsearch.plugin.analysis.TokenizerFactory",
    "CharFilterFactory": "org.elasticsearch.plugin.analysis.CharFilterFactory",
    "AnalyzerFactory": "org.elasticsearch.plugin.analysis.AnalyzerFactory",
}
_COMPILE_JARS = (
    "elasticsearch-plugin-api-*.jar",
    "elasticsearch-plugin-analysis-api-*.jar",
    "lucene-analysis-common-*.jar",
    "lucene-core-*.jar",
)

START_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 60
LOCK_TIMEOUT_SECONDS = 900
# A reused node may be busy (GC, recovery) for a moment; only after this long
# without a healthy answer is it considered hung and restarted.
REUSE_HEALTH_WAIT_SECONDS = 60

Log = Callable[[str], None]


class NodeError(RuntimeError):
    """The local node cannot be provisioned, started or stopped; the message says what to do."""


@dataclass(frozen=True)
class NodeState:
    pid: int
    port: int
    home: str
    version: str
    plugin_hash: str
    started_at: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class NodeStatus:
    state: NodeState | None
    running: bool
    health: dict[str, Any] | None

    @property
    def summary(self) -> str:
        if self.state is None:
            return "The local Elasticsearch node is not running (no state file)."
        if not self.running:
            return f"The local Elasticsearch node is not running (stale state file: pid {self.state.pid} is gone)."
        if self.health is None:
            return f"The local Elasticsearch node (pid {self.state.pid}) runs at {self.state.url} but is not healthy."
        return (
            f"The local Elasticsearch {self.state.version} node runs at {self.state.url} "
            f"(pid {self.state.pid}, status {self.health.get('status')})."
        )


def _print_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Paths -------------------------------------------------------------------


def cache_dir() -> Path:
    return Path(settings.MAILLAGE_CACHE_DIR).expanduser()


def state_path() -> Path:
    return cache_dir() / "es-node.json"


def _lock_path() -> Path:
    return cache_dir() / "es-node.lock"


def _zip_path() -> Path:
    return cache_dir() / "dl" / f"elasticsearch-{ES_VERSION}.zip"


def _is_root() -> bool:
    return os.geteuid() == 0


def runtime_dir() -> Path:
    """Directory holding the unpacked node, its data and logs (owned by the node's user)."""
    base = cache_dir() / "es-node"
    if not _is_root() or _node_user_can_traverse(cache_dir()):
        return base
    digest = hashlib.sha256(str(cache_dir().resolve()).encode()).hexdigest()[:12]
    return Path("/var/lib") / NODE_USER / f"node-{digest}"


def _home(runtime: Path) -> Path:
    return runtime / f"elasticsearch-{ES_VERSION}"


def _pid_file(runtime: Path) -> Path:
    return runtime / "es.pid"


# --- State file and lock -------------------------------------------------------


def read_state() -> NodeState | None:
    try:
        data = json.loads(state_path().read_text())
        return NodeState(**data)
    except (OSError, ValueError, TypeError):
        return None


def _write_state(state: NodeState) -> None:
    path = state_path()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(asdict(state), indent=2))
    # Readers (get_client in other processes) must never see a half-written file.
    tmp.replace(path)


def _remove_state() -> None:
    with contextlib.suppress(FileNotFoundError):
        state_path().unlink()


@contextlib.contextmanager
def _locked(log: Log) -> Iterator[None]:
    """Exclusive lock across processes: one provisions/starts/stops, the others wait and then reuse."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    # os.open descriptors are close-on-exec: the node we start never inherits (and holds) the lock.
    fd = os.open(_lock_path(), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("Another process is starting or stopping the local Elasticsearch node; waiting for it...")
            deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise NodeError(
                            f"Timed out after {LOCK_TIMEOUT_SECONDS} s waiting for the lock {_lock_path()} "
                            "held by another process (see `ps aux | grep manage.py`)."
                        ) from None
                    time.sleep(0.5)
        yield
    finally:
        os.close(fd)


# --- Processes -----------------------------------------------------------------


def _process_cmdline(pid: int) -> str | None:
    """Command line of a live (non-zombie) process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        # The state letter follows the parenthesised command name, which may contain spaces.
        if stat[stat.rindex(")") + 2] in "ZX":
            return None
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, ValueError, IndexError):
        return None


def _is_node_process(pid: int, home: Path | str) -> bool:
    cmdline = _process_cmdline(pid)
    return cmdline is not None and "org.elasticsearch" in cmdline and str(home) in cmdline


def _terminate(pid: int, log: Log) -> None:
    """SIGTERM, then wait for the node to flush and exit; SIGKILL only if it hangs."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while _process_cmdline(pid) is not None:
        if time.monotonic() > deadline:
            log(f"Elasticsearch (pid {pid}) did not stop within {STOP_TIMEOUT_SECONDS} s; killing it.")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(1)
            break
        time.sleep(0.2)


def _health(port: int, wait_seconds: int = 0) -> dict[str, Any] | None:
    """Cluster health of *our* node on this port (checked by cluster name), or None."""
    url = f"http://127.0.0.1:{port}/_cluster/health?wait_for_status=yellow&timeout={wait_seconds}s"
    # No proxy: an http_proxy variable must not capture loopback requests.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=wait_seconds + 5) as response:
            health: dict[str, Any] = json.loads(response.read())
    except (OSError, ValueError):  # URLError and HTTPError (408 while not yet yellow) are OSErrors
        return None
    if health.get("cluster_name") != CLUSTER_NAME or health.get("status") not in {"green", "yellow"}:
        return None
    return health


def _wait_healthy(port: int, pid: int, home: Path, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = _health(port, wait_seconds=2)
        if health is not None:
            return health
        if not _is_node_process(pid, home):
            return None
        time.sleep(0.3)
    return None


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same options as the node's own bind, so a port in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _choose_port(preferred: int | None) -> int:
    candidates = ([preferred] if preferred else []) + list(PORT_RANGE)
    for port in candidates:
        if _port_free(port):
            return port
    raise NodeError(
        f"No free port for Elasticsearch in {PORT_RANGE.start}-{PORT_RANGE.stop - 1} on 127.0.0.1. "
        "Free one (see `ss -ltnp`), or set ELASTICSEARCH_URL to use an existing cluster."
    )


def _tail(path: Path, lines: int) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    # The JVM's start-up line alone is thousands of characters long.
    return "\n".join(line if len(line) <= 300 else line[:300] + " [...]" for line in content[-lines:])


def _logs_tail(runtime: Path) -> str:
    parts = []
    for name, lines in (("launcher.log", 20), (f"{CLUSTER_NAME}.log", 40)):
        text = _tail(runtime / "logs" / name, lines)
        if text:
            parts.append(f"--- {runtime / 'logs' / name} (last {lines} lines) ---\n{text}")
    return "\n".join(parts) or f"(no log found under {runtime / 'logs'})"


# --- Java, Maven, node user -----------------------------------------------------


def _java_major(java_home: Path) -> int | None:
    try:
        release = (java_home / "release").read_text()
        match = re.search(r'^JAVA_VERSION="(\d+)', release, re.MULTILINE)
        if match:
            return int(match.group(1))
    except OSError:
        pass
    try:
        output = subprocess.run(
            [str(java_home / "bin" / "java"), "-version"], capture_output=True, text=True, timeout=30, check=False
        ).stderr
    except OSError:
        return None
    match = re.search(r'version "(\d+)', output)
    return int(match.group(1)) if match else None


def find_java_home() -> Path:
    """The JDK the node runs on: JAVA_HOME when it is a supported JDK, else the newest one installed.

    Newest, because the node is faster on it: on JDK 25 it spent about an eighth less CPU
    per search than on 17 (Lucene reads its files through the foreign-memory API and
    vectorizes from JDK 21 on). Looked for under /usr/lib/jvm, then `java` on PATH.
    """
    explicit = os.environ.get("JAVA_HOME")
    candidates: list[tuple[str, Path]] = [("JAVA_HOME", Path(explicit))] if explicit else []
    installed = sorted(JVM_DIR.iterdir()) if JVM_DIR.is_dir() else []
    candidates += [("installed JDK", home) for home in installed]
    candidates.append(("default location", DEFAULT_JAVA_HOME))
    java_on_path = shutil.which("java")
    if java_on_path:
        candidates.append(("java on PATH", Path(java_on_path).resolve().parent.parent))
    found: list[tuple[int, Path]] = []
    rejected = []
    seen: set[Path] = set()
    for origin, home in candidates:
        resolved = home.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        if not (home / "bin" / "java").is_file():
            rejected.append(f"{origin}: {home} has no bin/java")
            continue
        if not (home / "bin" / "javac").is_file():
            rejected.append(f"{origin}: {home} is a JRE, not a JDK (no bin/javac)")
            continue
        major = _java_major(home)
        if major not in SUPPORTED_JAVA_MAJORS:
            rejected.append(f"{origin}: {home} is Java {major}")
            continue
        if origin == "JAVA_HOME":
            return home
        found.append((major, home))
    if found:
        return max(found, key=lambda item: item[0])[1]
    raise NodeError(
        "The local Elasticsearch node needs a Java 17, 21 or 25 JDK and none was found ("
        + ("; ".join(rejected) or "no JAVA_HOME, no java on PATH")
        + "). Install one (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`) or point JAVA_HOME at it; "
        "or set ELASTICSEARCH_URL to use an existing cluster."
    )


def _ensure_node_user() -> None:
    try:
        pwd.getpwnam(NODE_USER)
        return
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        raise NodeError(
            f"Elasticsearch refuses to run as root and the system user {NODE_USER!r} does not exist; "
            f"`useradd` is not available to create it. Create it yourself, or run as a normal user."
        )
    result = subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            NODE_USER,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise NodeError(f"Could not create the system user {NODE_USER!r}: {result.stderr.strip()}")


def _node_user_can_traverse(path: Path) -> bool:
    try:
        pwd.getpwnam(NODE_USER)
    except KeyError:
        _ensure_node_user()
    result = subprocess.run(["runuser", "-u", NODE_USER, "--", "test", "-x", str(path)], check=False)
    return result.returncode == 0


def _chown_to_node_user(path: Path) -> None:
    if _is_root():
        subprocess.run(["chown", "-R", f"{NODE_USER}:{NODE_USER}", str(path)], check=True)


# --- Download and unpack ---------------------------------------------------------


def _maven_artifact_dir() -> Path:
    group, artifact, version = ES_ARTIFACT.split(":")[:3]
    return Path.home() / ".m2" / "repository" / Path(*group.split(".")) / artifact / version


def _download(java_home: Path, log: Log) -> Path:
    target = _zip_path()
    if target.is_file() and zipfile.is_zipfile(target):
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise NodeError(
            f"Maven (`mvn`) is needed to download Elasticsearch ({ES_ARTIFACT}). Install it "
            f"(Debian/Ubuntu: `apt-get install maven`), or fetch that artifact yourself and save it as {target}; "
            "or set ELASTICSEARCH_URL to use an existing cluster."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
        cached = " (from the local Maven repository)" if _downloaded_megabytes() > 90 else " (about 97 MB)"
        log(f"Downloading Elasticsearch {ES_VERSION}{cached} with Maven: {ES_ARTIFACT}")
        started = time.monotonic()
        env = {**os.environ, "JAVA_HOME": str(java_home)}
        command = [mvn, "-q", "-B", "dependency:copy", f"-Dartifact={ES_ARTIFACT}", f"-DoutputDirectory={tmp}"]
        with open(Path(tmp) / "mvn.log", "w") as mvn_log:
            process = subprocess.Popen(command, stdout=mvn_log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
            last_report = started
            while process.poll() is None:
                time.sleep(0.5)
                if time.monotonic() - last_report >= 5:
                    last_report = time.monotonic()
                    log(f"  ... {_downloaded_megabytes():.0f} MB after {last_report - started:.0f} s")
        downloaded = Path(tmp) / target.name
        if process.returncode != 0 or not zipfile.is_zipfile(downloaded):
            raise NodeError(
                f"Maven could not download {ES_ARTIFACT} (exit code {process.returncode}). Check the network "
                f"access to Maven Central and your ~/.m2/settings.xml. Maven said:\n"
                f"{_tail(Path(tmp) / 'mvn.log', 30)}"
            )
        downloaded.replace(target)
    size = target.stat().st_size / 1e6
    log(f"Downloaded {size:.0f} MB in {time.monotonic() - started:.0f} s to {target}")
    return target


def _downloaded_megabytes() -> float:
    directory = _maven_artifact_dir()
    try:
        return sum(f.stat().st_size for f in directory.iterdir() if f.is_file()) / 1e6
    except OSError:
        return 0.0


def _unpack(archive: Path, runtime: Path, log: Log) -> None:
    home = _home(runtime)
    runtime.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=runtime, prefix=".unpack-") as tmp, zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        log(f"Unpacking Elasticsearch {ES_VERSION} ({len(members)} files) into {home}")
        next_report = 25
        for index, member in enumerate(members, start=1):
            extracted = Path(zf.extract(member, tmp))
            # zipfile drops Unix permissions; the scripts in bin/ must stay executable.
            mode = (member.external_attr >> 16) & 0o777
            if mode and not member.is_dir():
                extracted.chmod(mode)
            percent = index * 100 // len(members)
            if percent >= next_report:
                log(f"  ... {percent}%")
                next_report += 25
        unpacked = Path(tmp) / home.name
        if not (unpacked / "bin" / "elasticsearch").is_file():
            raise NodeError(f"{archive} does not contain {home.name}/bin/elasticsearch; delete it and retry.")
        # Rename last, so an interrupted unpack never looks like a complete one.
        unpacked.rename(home)


def _ensure_distribution(java_home: Path, log: Log) -> Path:
    runtime = runtime_dir()
    home = _home(runtime)
    if (home / "bin" / "elasticsearch").is_file():
        return home
    archive = _download(java_home, log)
    try:
        _unpack(archive, runtime, log)
    except zipfile.BadZipFile:
        archive.unlink(missing_ok=True)
        raise NodeError(f"The downloaded archive {archive} was corrupt and has been deleted; run again.") from None
    return home


# --- The analysis plugin -----------------------------------------------------------


def _plugin_source_files() -> list[Path]:
    return sorted(PLUGIN_SOURCES.rglob("*.java"))


def plugin_hash() -> str:
    """Hash of the plugin's sources and build recipe: a change rebuilds and reinstalls the plugin."""
    digest = hashlib.sha256(f"{_PLUGIN_BUILD_FORMAT}:{PLUGIN_VERSION}:{ES_VERSION}".encode())
    for path in _plugin_source_files():
        digest.update(str(path.relative_to(PLUGIN_SOURCES)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def plugin_version() -> str:
    """The plugin's version as `GET _nodes/plugins` shows it: changes with its sources."""
    return f"{PLUGIN_VERSION}-{plugin_hash()[:12]}"


def named_components() -> dict[str, dict[str, str]]:
    """`named_components.json` content, read from the sources' @NamedComponent annotations."""
    components: dict[str, dict[str, str]] = {}
    for path in _plugin_source_files():
        source = path.read_text()
        name = re.search(r'@NamedComponent\("([^"]+)"\)', source)
        if name is None:
            continue
        package = re.search(r"^package\s+([\w.]+);", source, re.MULTILINE)
        declaration = re.search(r"\bclass\s+(\w+)\s+implements\s+(\w+)", source)
        if package is None or declaration is None or declaration.group(2) not in _PLUGIN_INTERFACES:
            raise NodeError(f"{path}: a named component must implement one of {sorted(_PLUGIN_INTERFACES)}.")
        interface = _PLUGIN_INTERFACES[declaration.group(2)]
        components.setdefault(interface, {})[name.group(1)] = f"{package.group(1)}.{declaration.group(1)}"
    return components


def _zip_deterministic(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def build_plugin(output: Path, *, es_home: Path, java_home: Path, elasticsearch_version: str = ES_VERSION) -> Path:
    """Compile the plugin against `es_home`'s jars and write the installable zip to `output`.

    `elasticsearch_version` goes into the descriptor: a stable plugin installs on
    any cluster of the same major version that is not older than it.
    """
    lib = es_home / "lib"
    classpath = []
    for pattern in _COMPILE_JARS:
        jars = sorted(lib.glob(pattern))
        if not jars:
            raise NodeError(f"{lib} has no {pattern}: is {es_home} an Elasticsearch 8.x distribution?")
        classpath.append(str(jars[0]))
    version = plugin_version()
    with tempfile.TemporaryDirectory(prefix="maillage-plugin-") as tmp:
        classes = Path(tmp) / "classes"
        result = subprocess.run(
            [
                str(java_home / "bin" / "javac"),
                "--release",
                "17",
                "-encoding",
                "UTF-8",
                "-d",
                str(classes),
                "-cp",
                os.pathsep.join(classpath),
                *[str(p) for p in _plugin_source_files()],
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise NodeError(f"Compiling the {PLUGIN_NAME} plugin failed:\n{result.stdout}{result.stderr}")
        jar_buffer = Path(tmp) / f"{PLUGIN_NAME}-{version}.jar"
        with zipfile.ZipFile(jar_buffer, "w") as jar:
            _zip_deterministic(jar, "META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n")
            for class_file in sorted(classes.rglob("*.class")):
                _zip_deterministic(jar, class_file.relative_to(classes).as_posix(), class_file.read_bytes())
        descriptor = (
            "description=Maillage French/English analysis: ASCII folding, French elision, French and English stemming, "
            "query-time synonyms, edge n-grams\n"
            f"version={version}\n"
            f"name={PLUGIN_NAME}\n"
            "java.version=17\n"
            f"elasticsearch.version={elasticsearch_version}\n"
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(f".{output.name}.{os.getpid()}")
        with zipfile.ZipFile(partial, "w") as plugin_zip:
            _zip_deterministic(plugin_zip, jar_buffer.name, jar_buffer.read_bytes())
            _zip_deterministic(plugin_zip, "stable-plugin-descriptor.properties", descriptor.encode())
            _zip_deterministic(
                plugin_zip, "named_components.json", json.dumps(named_components(), indent=2, sort_keys=True).encode()
            )
        partial.replace(output)
    return output


def _ensure_plugin(home: Path, java_home: Path, log: Log) -> None:
    wanted = plugin_hash()
    marker = home.parent / f"{PLUGIN_NAME}.sha256"
    installed = home / "plugins" / PLUGIN_NAME
    if installed.is_dir() and marker.is_file() and marker.read_text().strip() == wanted:
        return
    plugin_zip = cache_dir() / "plugin" / wanted[:16] / f"{PLUGIN_NAME}.zip"
    if not plugin_zip.is_file():
        log(f"Building the {PLUGIN_NAME} Elasticsearch plugin from {PLUGIN_SOURCES}")
        build_plugin(plugin_zip, es_home=home, java_home=java_home)
    if installed.exists():
        shutil.rmtree(installed)
    log(f"Installing the {PLUGIN_NAME} plugin into the local node")
    env = _node_env(java_home)
    result = subprocess.run(
        [str(home / "bin" / "elasticsearch-plugin"), "install", "--batch", plugin_zip.as_uri()],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise NodeError(f"Installing the {PLUGIN_NAME} plugin failed:\n{result.stdout}{result.stderr}")
    marker.write_text(wanted)


# --- Start, stop, status ---------------------------------------------------------------


def _node_env(java_home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"JAVA_HOME", "ES_PATH_CONF", "ES_HOME"}}
    env["ES_JAVA_HOME"] = str(java_home)
    env["ES_JAVA_OPTS"] = f"-Xms{HEAP} -Xmx{HEAP}"
    return env


def _stop_orphan(runtime: Path, log: Log) -> None:
    """A node left running without a state file would hold the data directory's lock: stop it."""
    try:
        pid = int(_pid_file(runtime).read_text().strip())
    except (OSError, ValueError):
        return
    if _is_node_process(pid, _home(runtime)):
        log(f"Stopping an Elasticsearch node (pid {pid}) left running without a state file.")
        _terminate(pid, log)


def _start(home: Path, java_home: Path, preferred_port: int | None, log: Log) -> NodeState:
    runtime = home.parent
    data = runtime / f"data-{ES_VERSION}"
    logs = runtime / "logs"
    pid_file = _pid_file(runtime)
    _stop_orphan(runtime, log)
    for directory in (data, logs):
        directory.mkdir(parents=True, exist_ok=True)
    pid_file.unlink(missing_ok=True)
    _chown_to_node_user(runtime)
    port = _choose_port(preferred_port)
    command = [
        str(home / "bin" / "elasticsearch"),
        "-d",
        "-p",
        str(pid_file),
        f"-Ecluster.name={CLUSTER_NAME}",
        f"-Enode.name={CLUSTER_NAME}",
        "-Ediscovery.type=single-node",
        "-Expack.security.enabled=false",
        "-Ehttp.host=127.0.0.1",
        f"-Ehttp.port={port}",
        "-Etransport.host=127.0.0.1",
        f"-Epath.data={data}",
        f"-Epath.logs={logs}",
        # A nearly full developer disk must not turn the indices read-only.
        "-Ecluster.routing.allocation.disk.threshold_enabled=false",
        # A rebuild writes one index at a time: a larger indexing buffer makes a few large
        # segments instead of many small ones to merge (faster loads, and faster searches after).
        "-Eindices.memory.index_buffer_size=30%",
        # As many searches at once as cores (the default is one and a half times as many):
        # this node shares the cores with the web server and PostgreSQL, and searches
        # interleaved beyond that only waited on each other (HTTP p95 about 5 % lower).
        f"-Ethread_pool.search.size={os.cpu_count() or 1}",
    ]
    if _is_root():
        command = ["runuser", "-u", NODE_USER, "--", *command]
    log(f"Starting Elasticsearch {ES_VERSION} on 127.0.0.1:{port} (heap {HEAP}, logs in {logs})")
    started = time.monotonic()
    launcher_log = logs / "launcher.log"
    try:
        with open(launcher_log, "w") as output:
            # In daemon mode the launcher returns once the node is up (or has failed).
            result = subprocess.run(
                command,
                cwd=runtime,
                env=_node_env(java_home),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=START_TIMEOUT_SECONDS,
                check=False,
            )
    except subprocess.TimeoutExpired:
        result = None
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid = 0
    health = None
    if result is not None and result.returncode == 0 and pid:
        health = _wait_healthy(port, pid, home, START_TIMEOUT_SECONDS - (time.monotonic() - started))
    if health is None:
        if pid and _is_node_process(pid, home):
            _terminate(pid, log)
        reason = "timed out" if result is None else f"exit code {result.returncode}"
        raise NodeError(
            f"The local Elasticsearch node failed to start ({reason}). Its logs:\n{_logs_tail(runtime)}\n"
            "Common causes: not enough memory, a port conflict, or a damaged node directory "
            f"(delete {runtime} to provision a fresh one)."
        )
    log(f"Elasticsearch is ready at http://127.0.0.1:{port} (pid {pid}, {time.monotonic() - started:.1f} s)")
    return NodeState(
        pid=pid, port=port, home=str(home), version=ES_VERSION, plugin_hash=plugin_hash(), started_at=time.time()
    )


def ensure(log: Log | None = None) -> NodeState:
    """Return the running local node, provisioning and starting it if needed (safe to call concurrently)."""
    log = log or _print_log
    with _locked(log):
        state = read_state()
        if state is not None:
            if _is_node_process(state.pid, state.home):
                if state.version != ES_VERSION:
                    reason = f"it runs Elasticsearch {state.version}, the project pins {ES_VERSION}"
                elif state.plugin_hash != plugin_hash():
                    reason = f"the {PLUGIN_NAME} plugin sources changed"
                elif _wait_healthy(state.port, state.pid, Path(state.home), REUSE_HEALTH_WAIT_SECONDS) is not None:
                    return state
                else:
                    reason = f"it has not answered a health check for {REUSE_HEALTH_WAIT_SECONDS} s"
                log(f"Restarting the local Elasticsearch node (pid {state.pid}): {reason}.")
                _terminate(state.pid, log)
            else:
                log(f"The local Elasticsearch node (pid {state.pid}) is gone; starting a new one.")
            _remove_state()
        java_home = find_java_home()
        if _is_root():
            _ensure_node_user()
        home = _ensure_distribution(java_home, log)
        _ensure_plugin(home, java_home, log)
        new_state = _start(home, java_home, state.port if state else None, log)
        _write_state(new_state)
        return new_state


def stop(log: Log | None = None) -> bool:
    """Stop the local node cleanly; False when it was not running."""
    log = log or _print_log
    with _locked(log):
        state = read_state()
        stopped = False
        if state is not None and _is_node_process(state.pid, state.home):
            log(f"Stopping the local Elasticsearch node (pid {state.pid})...")
            _terminate(state.pid, log)
            stopped = True
        else:
            runtime = runtime_dir()
            with contextlib.suppress(OSError, ValueError):
                pid = int(_pid_file(runtime).read_text().strip())
                if _is_node_process(pid, _home(runtime)):
                    _stop_orphan(runtime, log)
                    stopped = True
        _remove_state()
        return stopped


def status() -> NodeStatus:
    state = read_state()
    if state is None:
        return NodeStatus(state=None, running=False, health=None)
    running = _is_node_process(state.pid, state.home)
    return NodeStatus(state=state, running=running, health=_health(state.port) if running else None)


def plugin_zip_for(output: Path, elasticsearch_version: str = ES_VERSION, log: Log | None = None) -> Path:
    """Build the plugin zip for a user's own cluster (provisions the distribution to compile against)."""
    log = log or _print_log
    with _locked(log):
        java_home = find_java_home()
        if _is_root():
            _ensure_node_user()
        home = _ensure_distribution(java_home, log)
    return build_plugin(output, es_home=home, java_home=java_home, elasticsearch_version=elasticsearch_version)
