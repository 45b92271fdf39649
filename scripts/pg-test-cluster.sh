#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL cluster for the store tests (never for production).
#
#   eval "$(scripts/pg-test-cluster.sh start [DIR])"   # prints `export TING_TEST_POSTGRES_URL=…`
#   cargo test -p ting-store                            # each test makes its own database
#   scripts/pg-test-cluster.sh stop [DIR]               # stops it and deletes DIR
#   scripts/pg-test-cluster.sh status [DIR]             # prints the exports again if running
#
# DIR defaults to $TING_PG_TEST_DIR, else /tmp/ting-pg-test. `start` is idempotent: if DIR already
# holds a running cluster it only prints its exports again; a stopped one is restarted, a missing
# one is created (initdb, ~1 s). `stop` on a missing or stopped cluster succeeds. In a CI job or a
# script, stop it from a trap:
#
#   eval "$(scripts/pg-test-cluster.sh start)"; trap 'scripts/pg-test-cluster.sh stop' EXIT
#
# stdout carries only shell for `eval` (exports, or `false` on failure so that `eval` fails too);
# messages go to stderr. The cluster listens on 127.0.0.1 only, on a free port, with trust
# authentication for the superuser `postgres`, fsync off (data may be lost on a crash: tests
# only), and its unix socket in DIR. It runs as the user `postgres` when started as root
# (PostgreSQL refuses to run as root); that user is created if missing. Binaries come from PATH
# or the newest /usr/lib/postgresql/*/bin; if there are none, `apt-get install -y postgresql`
# (Debian then also sets up and may start its own system cluster on port 5432: it is not used).
set -euo pipefail

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

die() {
    echo "pg-test-cluster: $*" >&2
    echo false # makes `eval "$(… start)"` fail
    exit 1
}
say() { echo "pg-test-cluster: $*" >&2; }

command="${1:-}"
dir="${2:-${TING_PG_TEST_DIR:-/tmp/ting-pg-test}}"
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
data="$dir/data"

find_bin() {
    if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        dirname "$(command -v pg_ctl)"
        return
    fi
    local newest
    newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$newest" && -x "$newest/pg_ctl" && -x "$newest/initdb" ]]; then
        echo "$newest"
    fi
}

bin="$(find_bin)"
if [[ -z "$bin" && "$command" == start ]]; then
    [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed; run as root to apt-get install it"
    say "installing PostgreSQL with apt-get (its system cluster is not used)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
        || die "apt-get install postgresql failed"
    bin="$(find_bin)"
    [[ -n "$bin" ]] || die "no initdb/pg_ctl after installing postgresql"
fi

# Who runs the server: the invoking user, or `postgres` if that is root.
run_user=""
if [[ $EUID -eq 0 ]]; then
    run_user=postgres
    if ! id "$run_user" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$run_user" >&2 \
            || die "cannot create the user $run_user"
    fi
fi
as_owner() {
    if [[ -n "$run_user" ]]; then
        runuser -u "$run_user" -- "$@"
    else
        "$@"
    fi
}

running() { [[ -n "$bin" && -f "$data/PG_VERSION" ]] && as_owner "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1; }

print_exports() {
    local port
    port="$(cat "$dir/port")"
    echo "export TING_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
    echo "export TING_PG_TEST_DIR=$dir"
    echo "# stop with: $self stop $dir"
}

# A port nobody listens on (the server's own bind is the final check; `start` retries).
free_port() {
    local port tries
    for ((tries = 0; tries < 50; tries++)); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

start() {
    if running; then
        say "already running in $dir"
        print_exports
        return
    fi
    [[ -n "$bin" ]] || die "no initdb/pg_ctl found"
    mkdir -p "$dir"
    if [[ -n "$run_user" ]]; then
        chown "$run_user" "$dir"
        if ! runuser -u "$run_user" -- test -x "$dir"; then
            rmdir "$dir" 2>/dev/null || true
            die "$run_user cannot reach $dir (choose a DIR under /tmp)"
        fi
    fi
    if [[ ! -f "$data/PG_VERSION" ]]; then
        rm -rf "$data"
        # A typical production collation (English, not byte order) so that tests catch ordering
        # that depends on it: ICU's en-US where initdb has ICU (PostgreSQL 15+), else the OS's
        # en_US.UTF-8 if installed, else C.UTF-8.
        local locale=(--locale=C.UTF-8)
        if locale -a 2>/dev/null | grep -qix 'en_US.utf-\?8'; then locale=(--locale=en_US.UTF-8); fi
        if "$bin/initdb" --help 2>/dev/null | grep -q -- '--icu-locale'; then
            locale+=(--locale-provider=icu --icu-locale=en-US)
        fi
        as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 "${locale[@]}" \
            --no-sync >"$dir/initdb.log" 2>&1 || die "initdb failed, see $dir/initdb.log"
        cat >"$data/pg_hba.conf" <<'EOF'
# Throwaway test cluster: trust, loopback and the private unix socket only.
local all all trust
host all all 127.0.0.1/32 trust
EOF
        chown --reference="$data/PG_VERSION" "$data/pg_hba.conf"
    fi
    local port attempt
    for attempt in 1 2 3 4 5; do
        port="$(free_port)" || die "no free port found"
        echo "$port" >"$dir/port"
        if as_owner "$bin/pg_ctl" start -w -t 20 -D "$data" -l "$dir/server.log" -o \
            "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            >/dev/null 2>&1; then
            say "started PostgreSQL $("$bin/postgres" --version | awk '{print $3}') in $dir on 127.0.0.1:$port"
            print_exports
            return
        fi
        say "start on port $port failed (attempt $attempt), see $dir/server.log"
    done
    die "could not start PostgreSQL, see $dir/server.log"
}

stop() {
    if running; then
        as_owner "$bin/pg_ctl" stop -m fast -w -D "$data" >/dev/null 2>&1 \
            || { echo "pg-test-cluster: pg_ctl stop failed" >&2; exit 1; }
        say "stopped the cluster in $dir"
    fi
    # Only ever delete a directory this script made (it has data/PG_VERSION or a port file).
    if [[ -f "$data/PG_VERSION" || -f "$dir/port" ]]; then
        rm -rf "$dir"
    fi
}

case "$command" in
    start) start ;;
    stop) stop ;;
    status)
        if running; then print_exports; else say "not running in $dir"; exit 1; fi
        ;;
    *)
        echo "usage: $0 start|stop|status [DIR]" >&2
        exit 2
        ;;
esac
