#!/usr/bin/env bash
# Builds ting-web for wasm32-unknown-unknown and generates its JS glue with wasm-bindgen.
#
#   scripts/build-wasm.sh [--target web|nodejs|bundler|deno|no-modules|experimental-nodejs-module]
#                         [--debug] [OUT_DIR]
#
#   scripts/build-wasm.sh                              # browser ES module into web/pkg
#   scripts/build-wasm.sh --target nodejs tests/interop/pkg
#
# OUT_DIR defaults to web/pkg (relative paths are relative to the repository root). It holds
# `ting_web.js`, `ting_web_bg.wasm` and TypeScript declarations `ting_web.d.ts`.
#
# Compiler: rustup's wasm32-unknown-unknown target where it is installed; otherwise Debian's
# rustc-web with `-Zbuild-std` and lld's `wasm-ld` (scripts/wasm-toolchain.sh installs either).
# Release builds are optimized for size (opt-level "s", fat LTO, 1 codegen unit, no name
# section; see below); --debug keeps names for readable stack traces. The wasm build has its own target dir,
# TING_WASM_TARGET_DIR, default "${CARGO_TARGET_DIR:-<repo>/target}-wasm", so it never evicts the
# native build's artifacts. TING_WASM_COMPILER=rustup|debian forces one compiler (default: auto,
# rustup's target if installed).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

bindgen_target=web
profile=release
out=""
while (($#)); do
    case "$1" in
        --target) bindgen_target="${2:?--target needs a value}"; shift 2 ;;
        --target=*) bindgen_target="${1#--target=}"; shift ;;
        --debug) profile=debug; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        -*) echo "build-wasm: unknown option $1" >&2; exit 2 ;;
        *) [[ -z "$out" ]] || { echo "build-wasm: one OUT_DIR only" >&2; exit 2; }; out="$1"; shift ;;
    esac
done
out="${out:-web/pkg}"
[[ "$out" = /* ]] || out="$repo/$out"

target_dir="${TING_WASM_TARGET_DIR:-${CARGO_TARGET_DIR:-$repo/target}-wasm}"

# Size over speed for the browser, without touching the workspace's [profile.release]: the
# overrides apply to this build only (and each can be overridden from the environment).
# Measured on ting-web: opt-level 3 + thin LTO gives 2.7 MB (826 kB gzipped) after
# wasm-bindgen; opt-level "s" + fat LTO + 1 codegen unit gives 2.0 MB (631 kB gzipped).
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-s}"
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-fat}"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-1}"
triple=wasm32-unknown-unknown
cargo_profile=()
[[ "$profile" == release ]] && cargo_profile=(--release)

cd "$repo"
start=$(date +%s)
compiler="${TING_WASM_COMPILER:-auto}"
case "$compiler" in
    auto)
        if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -x "$triple" >/dev/null; then
            compiler=rustup
        else
            compiler=debian
        fi
        ;;
    rustup|debian) ;;
    *) echo "build-wasm: TING_WASM_COMPILER must be auto, rustup or debian" >&2; exit 2 ;;
esac
if [[ "$compiler" == rustup ]]; then
    echo "build-wasm: rustup target $triple" >&2
    CARGO_TARGET_DIR="$target_dir" cargo build "${cargo_profile[@]}" --target "$triple" -p ting-web
elif [[ -x /usr/bin/rustc && -x /usr/bin/cargo ]] && command -v wasm-ld >/dev/null && [[ -d /usr/lib/rustlib/src/rust/library ]]; then
    echo "build-wasm: Debian rustc-web with -Zbuild-std" >&2
    # RUSTC_BOOTSTRAP enables -Zbuild-std on a stable compiler; only for this build.
    CARGO_TARGET_DIR="$target_dir" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld \
        /usr/bin/cargo build "${cargo_profile[@]}" -Zbuild-std=std,panic_abort --target "$triple" -p ting-web
else
    echo "build-wasm: no wasm32 compiler; run scripts/wasm-toolchain.sh" >&2
    exit 1
fi
built=$(date +%s)

wasm="$target_dir/$triple/$profile/ting_web.wasm"
want="$(sed -n 's/^wasm-bindgen *= *"=\([0-9][0-9.]*\)".*/\1/p' crates/ting-web/Cargo.toml)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$have" != "$want" ]]; then
    echo "build-wasm: wasm-bindgen CLI is '${have:-missing}', ting-web pins $want; run scripts/wasm-toolchain.sh" >&2
    exit 1
fi
mkdir -p "$out"
# Generated files stay out of git (as wasm-pack does).
printf '*\n' > "$out/.gitignore"
bindgen_flags=()
# The name section (function names for stack traces) is ~40 % of the module; keep it in debug.
[[ "$profile" == release ]] && bindgen_flags=(--remove-name-section --remove-producers-section)
wasm-bindgen --target "$bindgen_target" "${bindgen_flags[@]}" --out-dir "$out" --out-name ting_web "$wasm"

raw=$(stat -c %s "$wasm")
bg=$(stat -c %s "$out/ting_web_bg.wasm")
gz=$(gzip -9 -c "$out/ting_web_bg.wasm" | wc -c)
printf 'build-wasm: %s (%s, %s) in %ss: raw %s B, after wasm-bindgen %s B, gzip -9 %s B\n' \
    "${out#"$repo"/}" "$bindgen_target" "$profile" "$((built - start))" "$raw" "$bg" "$gz" >&2
