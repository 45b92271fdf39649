#!/usr/bin/env bash
# Builds everything the native <-> wasm interop test needs and runs it.
#
#   tests/interop/run.sh
#
# 1. scripts/wasm-toolchain.sh   (idempotent: wasm32 compiler, wasm-bindgen CLI, node)
# 2. scripts/build-wasm.sh --target nodejs tests/interop/pkg
# 3. cargo build -p ting-e2ee --example interop_peer   (native, debug)
# 4. node --test tests/interop/   (prints node's test summary; exits non-zero on any failure)
#
# Environment: CARGO_TARGET_DIR (native build; the wasm build uses "$CARGO_TARGET_DIR-wasm"
# unless TING_WASM_TARGET_DIR is set), TING_INTEROP_SKIP_BUILD=1 to only run the test.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"

t0=$(date +%s)
if [[ "${TING_INTEROP_SKIP_BUILD:-0}" != 1 ]]; then
    "$repo/scripts/wasm-toolchain.sh"
    "$repo/scripts/build-wasm.sh" --target nodejs "$here/pkg"
    (cd "$repo" && CARGO_TARGET_DIR="$target_dir" cargo build -p ting-e2ee --example interop_peer)
fi
t1=$(date +%s)

export TING_INTEROP_PEER="${TING_INTEROP_PEER:-$target_dir/debug/examples/interop_peer}"
[[ -x "$TING_INTEROP_PEER" ]] || { echo "interop: no native peer at $TING_INTEROP_PEER" >&2; exit 1; }
[[ -f "$here/pkg/ting_web.js" ]] || { echo "interop: no wasm build in $here/pkg" >&2; exit 1; }

cd "$here"
status=0
node --test --test-reporter=spec interop.test.mjs || status=$?
t2=$(date +%s)
echo "interop: build $((t1 - t0))s, test $((t2 - t1))s, exit $status" >&2
exit "$status"
