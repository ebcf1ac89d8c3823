# shellcheck shell=bash
# Shared service set-up for CI (.ci/run) and `make bench`: source this file,
# then call the functions. Every function is idempotent, so running CI twice
# on the same machine, or `make bench` with services already up, is fine.
#
# Nothing here uses systemd: CI machines and containers often run without it,
# so PostgreSQL is driven with Debian's pg_ctlcluster and Redis is started as
# a plain daemon on loopback.

MAILLAGE_PG_HOST="${MAILLAGE_PG_HOST:-127.0.0.1}"
MAILLAGE_PG_PORT="${MAILLAGE_PG_PORT:-5432}"
MAILLAGE_REDIS_PORT="${MAILLAGE_REDIS_PORT:-6379}"

maillage_log() {
    printf '[services] %s\n' "$*" >&2
}

maillage_is_root() {
    [ "$(id -u)" -eq 0 ]
}

# Install Debian packages that are missing; `apt-get update` runs once per call.
maillage_apt_install() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    export DEBIAN_FRONTEND=noninteractive
    maillage_log "apt-get update"
    apt-get update -qq
    if [ "${#missing[@]}" -eq 0 ]; then
        maillage_log "packages already installed: $*"
        return 0
    fi
    maillage_log "installing: ${missing[*]}"
    apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
}

maillage_pg_ready() {
    pg_isready -q -h "$MAILLAGE_PG_HOST" -p "$MAILLAGE_PG_PORT" 2>/dev/null
}

# Start the Debian PostgreSQL cluster (creating it if the package did not).
maillage_start_postgres() {
    if maillage_pg_ready; then
        maillage_log "PostgreSQL already accepting connections on $MAILLAGE_PG_HOST:$MAILLAGE_PG_PORT"
        return 0
    fi
    if ! command -v pg_lsclusters >/dev/null 2>&1; then
        maillage_log "PostgreSQL is not installed (apt-get install postgresql)"
        return 1
    fi
    if ! maillage_is_root; then
        maillage_log "PostgreSQL is down and starting it needs root; start it yourself"
        return 1
    fi
    local version cluster
    read -r version cluster _ < <(pg_lsclusters -h | awk -v port="$MAILLAGE_PG_PORT" '$3 == port {print; exit}') || true
    if [ -z "${version:-}" ]; then
        version="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -1)"
        cluster=main
        maillage_log "creating PostgreSQL cluster $version/$cluster"
        pg_createcluster --port "$MAILLAGE_PG_PORT" "$version" "$cluster" >/dev/null
    fi
    maillage_log "starting PostgreSQL $version/$cluster"
    pg_ctlcluster "$version" "$cluster" start || service postgresql start
    local _i
    for _i in $(seq 1 60); do
        maillage_pg_ready && return 0
        sleep 0.5
    done
    maillage_log "PostgreSQL did not become ready"
    return 1
}

maillage_psql() {
    # Peer authentication as the postgres superuser, independent of cwd permissions.
    (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$MAILLAGE_PG_PORT" "$@")
}

# Create (or refresh) a login role with CREATEDB and a database it owns.
# CREATEDB lets pytest-django create test_<name> and the benchmark its own database.
maillage_ensure_database() {
    local name="$1" user="$2" password="$3"
    if ! maillage_is_root; then
        maillage_log "not root: assuming role $user and database $name exist"
        return 0
    fi
    maillage_psql -d postgres <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') THEN
        CREATE ROLE "$user" LOGIN CREATEDB PASSWORD '$password';
    ELSE
        ALTER ROLE "$user" LOGIN CREATEDB PASSWORD '$password';
    END IF;
END
\$\$;
SQL
    if [ "$(maillage_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" != "1" ]; then
        maillage_log "creating database $name"
        maillage_psql -d postgres -c "CREATE DATABASE \"$name\" OWNER \"$user\""
    else
        maillage_log "database $name exists"
    fi
}

maillage_redis_ready() {
    redis-cli -h 127.0.0.1 -p "$MAILLAGE_REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

# Start Redis on loopback without persistence (a channel layer and cache only).
maillage_start_redis() {
    if maillage_redis_ready; then
        maillage_log "Redis already answering on 127.0.0.1:$MAILLAGE_REDIS_PORT"
        return 0
    fi
    if ! command -v redis-server >/dev/null 2>&1; then
        maillage_log "Redis is not installed (apt-get install redis-server)"
        return 1
    fi
    maillage_log "starting Redis on 127.0.0.1:$MAILLAGE_REDIS_PORT"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$MAILLAGE_REDIS_PORT" \
        --save "" --appendonly no --dir /tmp --logfile /tmp/maillage-redis.log
    local _i
    for _i in $(seq 1 40); do
        maillage_redis_ready && return 0
        sleep 0.25
    done
    maillage_log "Redis did not become ready"
    return 1
}

# For `make bench` on a developer machine: bring up what is installed, never
# fail (the benchmark prints a clear line for anything unreachable), and
# export the URLs the benchmarks read unless the caller already set them.
maillage_bench_services() {
    if command -v pg_lsclusters >/dev/null 2>&1 || maillage_pg_ready; then
        if maillage_start_postgres && maillage_ensure_database maillage maillage maillage; then
            export BENCH_POSTGRES_URL="${BENCH_POSTGRES_URL:-postgres://maillage:maillage@$MAILLAGE_PG_HOST:$MAILLAGE_PG_PORT/maillage}"
        fi
    else
        maillage_log "PostgreSQL not installed: the PostgreSQL comparison lines will say so"
    fi
    if command -v redis-server >/dev/null 2>&1 && maillage_start_redis; then
        export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:$MAILLAGE_REDIS_PORT/0}"
    fi
    return 0
}
