#!/usr/bin/env bash
# Runs every Ting check and test on a fresh Debian machine with Rust:
# formatting, lints, the server's dependency-graph check (no decryption code), all unit and
# integration tests (store conformance on SQLite and on a throwaway PostgreSQL cluster started
# here), doc tests, the fuzz-target build and smoke run, the native ↔ browser (wasm) interop test
# and the web app's end-to-end tests in headless Chromium. Installs what the machine lacks (apt:
# postgresql, gdb, sqlite3, nodejs, strace, chromium, prometheus for promtool; npm packages from the lock files; the wasm
# toolchain). Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    if [ ${#missing[@]} -gt 0 ]; then
        step "installing ${missing[*]}"
        SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

step "toolchain"
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_install postgresql
fi
command -v gdb >/dev/null || apt_install gdb   # the canary test dumps the server's memory
command -v sqlite3 >/dev/null || apt_install sqlite3   # the upgrade test alters a fixture database
command -v node >/dev/null || apt_install nodejs
command -v npm >/dev/null || apt_install npm
[ -x /usr/bin/chromium ] || apt_install chromium   # the web app's end-to-end tests
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || apt_install fonts-noto-color-emoji   # emoji in screenshots
rustup component add rustfmt clippy >/dev/null 2>&1 || true
if ! cargo nextest --version >/dev/null 2>&1; then
    step "installing cargo-nextest"
    cargo install --locked cargo-nextest >/dev/null 2>&1 || cargo install cargo-nextest
fi
cargo --version

# Before any cargo build: the server binary embeds web/dist (crates/ting-server/build.rs).
step "web app: wasm module, type check and bundle"
scripts/build-web.sh --if-stale
(cd web && npm run --silent check)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "the server links no decryption code"
if cargo tree -p ting-server -e normal,build --prefix none --locked | grep -E '^(ting-e2ee|openmls|openmls_[a-z_]+|sframe) '; then
    echo "ting-server depends on client crypto: it must stay a blind relay" >&2
    exit 1
fi
echo "ok: ting-server's dependency graph has no ting-e2ee, openmls or sframe"

step "throwaway PostgreSQL cluster"
pg_dir="$(mktemp -d /tmp/ting-pg-XXXXXX)"
eval "$(scripts/pg-test-cluster.sh start "$pg_dir")"
trap 'scripts/pg-test-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
export TING_REQUIRE_POSTGRES=1

step "tests (cargo nextest)"
cargo nextest run --workspace --locked --no-fail-fast

step "doc tests"
cargo test --workspace --doc --locked

if [ -x crates/ting-e2ee/fuzz/smoke.sh ]; then
    step "fuzz targets: build and run briefly"
    if ! cargo fuzz --version >/dev/null 2>&1; then
        cargo install --locked cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz
    fi
    SECONDS_PER_TARGET="${TING_FUZZ_SECONDS:-10}" CARGO_TARGET_DIR="$CARGO_TARGET_DIR-fuzz" \
        crates/ting-e2ee/fuzz/smoke.sh
fi

step "no outbound connections (R10): server and clients in a loopback-only namespace"
command -v strace >/dev/null || apt_install strace
scripts/outbound-check.sh

if [ -x tests/interop/run.sh ]; then
    step "native <-> wasm interop (ting-web in Node)"
    tests/interop/run.sh
fi

step "web app in headless Chromium (tests/web)"
(cd tests/web && { [ -d node_modules ] || npm ci --no-audit --no-fund; })
TING_BIN="$CARGO_TARGET_DIR/debug/ting" node --test --test-concurrency=1 --test-reporter=spec tests/web/

step "monitoring: Prometheus alert rules, their unit tests and the Grafana dashboard (deploy/)"
scripts/check-monitoring.sh

step "all checks passed"
