#!/usr/bin/env bash
# Builds every fuzz target and runs each briefly.
#   ./smoke.sh            # 10 s per target
#   SECONDS_PER_TARGET=60 ./smoke.sh
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable toolchain it runs with
# RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly-only sanitizer flags).
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/cache/target-e2ee-fuzz}"
SECONDS_PER_TARGET="${SECONDS_PER_TARGET:-10}"
SANITIZER="${SANITIZER:-address}"
targets=$(cargo fuzz list)
cargo fuzz build -s "$SANITIZER"
for t in $targets; do
    mkdir -p "corpus/$t"
    echo "== $t (${SECONDS_PER_TARGET}s)"
    cargo fuzz run -s "$SANITIZER" "$t" "corpus/$t" -- -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=4096 2>&1 \
        | grep -E "^#[0-9]+.*(DONE|pulse)|ERROR|panicked|SUMMARY" | tail -3
done
echo "all fuzz targets ran without findings"
