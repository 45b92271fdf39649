#!/usr/bin/env bash
# Chat delivery benchmark (issue 4): builds the release binaries and runs `ting-load chat` against
# a freshly spawned server on 127.0.0.1 for 100 and 1000 devices in rooms of 10. Each run is
# bounded (messages per device, a per-phase time cap) and takes about two minutes.
#
#   scripts/bench-chat.sh            # both runs, reports in $OUT (default target/bench-chat)
#   scripts/bench-chat.sh 100        # only N = 100
#
# Every device holds a WebSocket, and the server one per device too: raise the open-file limit.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
out="${OUT:-$target/bench-chat}"
rate="${RATE:-50}"     # messages/s over all devices; rooms of 10 => 9 deliveries per message

want=$((4 * 1000 + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
    ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
echo "open files limit: $(ulimit -n)"

cargo build --release -p ting-client -p ting-server
mkdir -p "$out"

run() { # devices messages-per-device
    local n=$1 m=$2
    echo "== N=$n, room size 10, $m messages per device per phase, $rate msg/s"
    "$target/release/ting-load" chat \
        --devices "$n" --room-size 10 --messages "$m" --rate "$rate" \
        --duration-secs 120 --spawn-server "$target/release/ting" \
        --json "$out/chat-$n.json" | tee "$out/chat-$n.txt"
}

# Same message count and rate in both runs (2000 messages, 18000 deliveries per phase), so
# the two differ only in the number of connected devices and rooms.
case "${1:-all}" in
    100) run 100 20 ;;
    1000) run 1000 2 ;;
    all) run 100 20; run 1000 2 ;;
    *) echo "usage: $0 [100|1000]" >&2; exit 64 ;;
esac
