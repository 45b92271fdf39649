#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build ting-web for the browser. Idempotent: run it
# as often as you like, it only installs what is missing.
#
#   scripts/wasm-toolchain.sh            # compiler for wasm32, wasm-bindgen CLI, interop test deps
#
# 1. A Rust compiler for wasm32-unknown-unknown. Prefers rustup's target
#    (`rustup target add wasm32-unknown-unknown`); where rustup cannot download it (closed network),
#    falls back to Debian's `rustc-web cargo-web rust-web-src lld` (Rust with std sources, built with
#    `-Zbuild-std`, linked by lld's `wasm-ld`). scripts/build-wasm.sh picks the same way.
# 2. `wasm-bindgen` CLI of exactly the version ting-web pins (`wasm-bindgen = "=X"` in
#    crates/ting-web/Cargo.toml), into ~/.cargo/bin. A cold `cargo install` takes ~9 min on 2 cores.
#    `--locked` is not used: a locked dependency of the CLI may be missing from a registry mirror.
# 3. Node.js (>= 18, for `node --test`) and the npm dependencies of tests/interop, if it has any.
#
# Environment: TING_SKIP_APT=1 never calls apt-get (then a missing package is an error);
# TING_WASM_COMPILER=rustup|debian insists on one compiler (default auto: rustup if it can).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$repo"

log() { printf 'wasm-toolchain: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

apt_updated=0
apt_install() {
    [[ "${TING_SKIP_APT:-0}" == 1 ]] && die "missing Debian packages: $* (TING_SKIP_APT=1)"
    command -v apt-get >/dev/null || die "missing $* and no apt-get on this machine"
    local sudo=""
    [[ "$(id -u)" != 0 ]] && sudo="sudo"
    if [[ "$apt_updated" == 0 ]]; then
        $sudo apt-get update -q
        apt_updated=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@"
}

# --- 1. compiler for wasm32 ----------------------------------------------------------------------
has_rustup_target() {
    command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -x wasm32-unknown-unknown >/dev/null
}

compiler="${TING_WASM_COMPILER:-auto}"
if [[ "$compiler" != debian ]] && has_rustup_target; then
    log "rustup target wasm32-unknown-unknown: installed"
elif [[ "$compiler" != debian ]] && command -v rustup >/dev/null \
    && timeout 300 rustup target add wasm32-unknown-unknown >&2 && has_rustup_target; then
    log "rustup target wasm32-unknown-unknown: added"
elif [[ "$compiler" == rustup ]]; then
    die "TING_WASM_COMPILER=rustup but rustup cannot add wasm32-unknown-unknown"
else
    if [[ "$compiler" == debian ]]; then
        log "TING_WASM_COMPILER=debian: using Debian's rustc-web (-Zbuild-std)"
    else
        log "rustup cannot provide wasm32-unknown-unknown; using Debian's rustc-web (-Zbuild-std)"
    fi
    missing=()
    for pkg in rustc-web cargo-web rust-web-src lld; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        apt_install "${missing[@]}"
    else
        log "Debian rustc-web cargo-web rust-web-src lld: installed"
    fi
    [[ -x /usr/bin/rustc && -x /usr/bin/cargo ]] || die "/usr/bin/rustc or /usr/bin/cargo missing after install"
    command -v wasm-ld >/dev/null || die "wasm-ld (lld) missing after install"
fi

# --- 2. wasm-bindgen CLI, same version as the crate ---------------------------------------------
want="$(sed -n 's/^wasm-bindgen *= *"=\([0-9][0-9.]*\)".*/\1/p' "$repo/crates/ting-web/Cargo.toml")"
[[ -n "$want" ]] || die "no exact 'wasm-bindgen = \"=X\"' pin in crates/ting-web/Cargo.toml"
have="$("$HOME/.cargo/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$have" == "$want" ]]; then
    log "wasm-bindgen $want: installed"
else
    command -v cargo >/dev/null || die "cargo not found (install rustup's stable toolchain)"
    log "installing wasm-bindgen-cli $want (have: ${have:-none}); this takes several minutes"
    # Own target dir so the install neither invalidates nor is invalidated by the project builds.
    CARGO_TARGET_DIR="${TING_WASM_BINDGEN_TARGET_DIR:-${TMPDIR:-/tmp}/ting-wasm-bindgen-cli}" \
        cargo install wasm-bindgen-cli --version "=$want" --force --root "$HOME/.cargo"
fi

# --- 3. Node.js and the interop test's npm dependencies ------------------------------------------
node_major="$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\).*/\1/p' || true)"
if [[ -z "$node_major" || "$node_major" -lt 18 ]]; then
    apt_install nodejs npm
else
    log "node v$node_major: installed"
fi
pkg_json="$repo/tests/interop/package.json"
if [[ -f "$pkg_json" ]] && node -e 'const p=require(process.argv[1]);process.exit(Object.keys({...p.dependencies,...p.devDependencies}).length?0:1)' "$pkg_json"; then
    if [[ ! -d "$repo/tests/interop/node_modules" ]]; then
        log "npm install in tests/interop"
        (cd "$repo/tests/interop" && npm install --no-audit --no-fund)
    fi
fi
log "ready"
