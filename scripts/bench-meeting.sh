#!/usr/bin/env bash
# Meeting benchmark: headless participants over loopback through `ting serve`, and — when
# STR0M_CHAT_BIN is set — through str0m's own example SFU (its `chat` example) under the same
# load in the same run, for one sender to N receivers and N-by-N meetings. Prints a Markdown
# table with ratios Ting / str0m-chat.
#
#   scripts/bench-meeting.sh                                   # Ting only
#   STR0M_CHAT_BIN=/path/to/chat scripts/bench-meeting.sh      # Ting and the reference
#   NS="2 5" TOPOLOGIES=one-to-n SECS=10 scripts/bench-meeting.sh
#
# STR0M_CHAT_BIN is str0m's `examples/chat.rs`, built by whoever runs the benchmark from
# str0m's published source (this script neither fetches nor builds it), with two local changes
# so it runs on loopback: the media socket bound to 127.0.0.1 instead of the first
# non-loopback address, and the HTTPS listener on $CHAT_ADDR (127.0.0.1:PORT) instead of
# 0.0.0.0:3000. See docs/benchmarks.md, "Meetings".
#
# The SFU is pinned to CPU $SERVER_CPU and the load tool to $LOAD_CPU with taskset.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    "") ;;
    *) echo "bench-meeting: no arguments; settings come from the environment (see --help)" >&2; exit 2 ;;
esac

target="${CARGO_TARGET_DIR:-target}"
out="${OUT:-$target/bench-meeting}"
ns="${NS:-2 5 10 25 50}"
topologies="${TOPOLOGIES:-one-to-n n-by-n}"
fps="${FPS:-10}"
filler="${VIDEO_FILLER:-600}"
secs="${SECS:-20}"
server_cpu="${SERVER_CPU:-0}"
load_cpu="${LOAD_CPU:-1}"

want=4096
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
    ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi

if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --release -p ting-client -p ting-server --bins
fi
if [ -n "${STR0M_CHAT_BIN:-}" ] && [ ! -x "$STR0M_CHAT_BIN" ]; then
    echo "STR0M_CHAT_BIN=$STR0M_CHAT_BIN is not an executable" >&2
    exit 1
fi
mkdir -p "$out"
rm -f "$out"/meeting-*.json

run() { # target topology n binary
    local tgt=$1 topo=$2 n=$3 bin=$4
    echo "== $tgt $topo N=$n, $fps fps per track, video filler $filler B, $secs s"
    taskset -c "$load_cpu" "$target/release/ting-load" meeting \
        --target "$tgt" --topology "$topo" --n "$n" --fps "$fps" --video-filler "$filler" \
        --secs "$secs" --spawn-server "$bin" --pin-server "$server_cpu" \
        --json "$out/meeting-$topo-$n-$tgt.json" | tee "$out/meeting-$topo-$n-$tgt.txt" ||
        echo "(run failed or was not clean: exit $?)"
}

for topo in $topologies; do
    for n in $ns; do
        run ting "$topo" "$n" "$target/release/ting"
        if [ -n "${STR0M_CHAT_BIN:-}" ]; then
            run str0m-chat "$topo" "$n" "$STR0M_CHAT_BIN"
        fi
    done
done

echo
shopt -s nullglob
reports=("$out"/meeting-*.json)
if [ ${#reports[@]} -gt 0 ]; then
    "$target/release/ting-load" meeting-table "${reports[@]}" | tee "$out/table.md"
fi
