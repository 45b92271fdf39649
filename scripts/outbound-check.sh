#!/usr/bin/env bash
# R10: no outbound connections. Runs the server and the native CLI client in a network namespace
# that has only loopback (no route out), with a logging DNS stub on 127.0.0.53:53 as its only
# resolver, and every process under `strace -f -e trace=connect,sendto,sendmsg`. Exercises chat
# (login, room, invite, messages, a file) and a meeting (two participants, media both ways). Fails if the DNS stub saw any query or strace saw a
# connect()/sendto() to anything but 127.0.0.1/::1 (or a unix socket).
#
# Falls back to strace only (no namespace) when `ip netns` is not permitted.
# The meeting step covers the server's media UDP socket and the clients' ICE: any STUN lookup or
# packet to a public address would show up in the same strace filter.
#
# Usage: scripts/outbound-check.sh   (needs root for the namespace; builds with cargo)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build -q --locked -p ting-server -p ting-client --bins
BIN="$CARGO_TARGET_DIR/debug"
WORK="$(mktemp -d /tmp/ting-outbound.XXXXXX)"
NS="ting-outbound-$$"
PW="outbound-check-password"
PORT=38123
cleanup() {
    pkill -KILL -f "ting serve --data-dir $WORK/data" 2>/dev/null || true
    [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
    [ -n "${DNS_PID:-}" ] && kill "$DNS_PID" 2>/dev/null || true
    pkill -f "ting-outbound-dns $WORK" 2>/dev/null || true
    if [ -n "${USE_NS:-}" ]; then ip netns del "$NS" 2>/dev/null || true; rm -rf "/etc/netns/$NS"; fi
}
trap cleanup EXIT

RUN=()
if ip netns add "$NS" 2>/dev/null; then
    USE_NS=1
    ip netns exec "$NS" ip link set lo up
    mkdir -p "/etc/netns/$NS"
    echo "nameserver 127.0.0.53" > "/etc/netns/$NS/resolv.conf"
    RUN=(ip netns exec "$NS")
    # The logging DNS stub: records every query, answers none.
    "${RUN[@]}" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.53", 53))
log = open(sys.argv[1], "a", buffering=1)
while True:
    data, peer = s.recvfrom(4096)
    log.write("query from %s: %r\n" % (peer, data[12:80]))
' "$WORK/dns.log" ting-outbound-dns "$WORK" &
    DNS_PID=$!
    echo "outbound-check: network namespace $NS (loopback only) with a logging DNS stub"
else
    echo "outbound-check: network namespaces are not permitted here; strace only"
fi
touch "$WORK/dns.log"
if [ -n "${USE_NS:-}" ]; then
    # Positive control: a lookup inside the namespace must reach the logging stub (and fail).
    for _ in $(seq 20); do
        "${RUN[@]}" getent hosts control.ting-outbound.invalid >/dev/null 2>&1 || true
        [ -s "$WORK/dns.log" ] && break
        sleep 0.2
    done
    [ -s "$WORK/dns.log" ] || { echo "outbound-check: the DNS stub saw no control query; the check would prove nothing"; exit 1; }
    : > "$WORK/dns.log"
fi

TRACE=(strace -f -qq -e trace=connect,sendto,sendmsg -e signal=none)
echo "$PW" | "${RUN[@]}" "$BIN/ting" admin --data-dir "$WORK/data" create-user alice --password-stdin >/dev/null
echo "$PW" | "${RUN[@]}" "$BIN/ting" admin --data-dir "$WORK/data" create-user bob --password-stdin >/dev/null
"${RUN[@]}" "${TRACE[@]}" -o "$WORK/server.trace" "$BIN/ting" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do
    "${RUN[@]}" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null && break
    sleep 0.2
done

client() { # DIR ARGS…
    local dir="$1"; shift
    TING_PASSWORD="$PW" "${RUN[@]}" "${TRACE[@]}" -o "$WORK/client.$(date +%s%N).trace" \
        "$BIN/ting-client" --dir "$WORK/$dir" "$@"
}

exercise() {
    local url="http://127.0.0.1:$PORT"
    client a login --server "$url" --username alice
    client b login --server "$url" --username bob
    client a create-room --name Ops
    client a invite Ops bob
    client a send Ops "hello bob"
    client b sync
    client b messages Ops | grep -q "hello bob"
    head -c 200000 /dev/urandom > "$WORK/file.bin"
    client a send-file Ops "$WORK/file.bin" --media-type application/octet-stream
    client b sync
    # A meeting: both join, exchange SFrame-encrypted media over the server's UDP socket,
    # verify each other's frames and leave.
    client a meet Ops --seconds 30 --expect-peers 1 &
    local first=$!
    client b meet Ops --seconds 30 --expect-peers 1
    wait "$first"
}
exercise >"$WORK/exercise.log" 2>&1 || { cat "$WORK/exercise.log"; echo "outbound-check: the chat steps failed"; exit 1; }

# SERVER_PID is the strace wrapper; stop the traced server itself, then let strace finish.
pkill -TERM -f "ting serve --data-dir $WORK/data" || true
for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
kill "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
# Any address family inet/inet6 other than loopback is an outbound attempt.
BAD="$(grep -hE 'sa_family=AF_INET6?' "$WORK"/*.trace \
    | grep -vE 'inet_addr\("127\.[0-9.]+"\)|inet_pton\(AF_INET6, "::1"|inet_pton\(AF_INET6, "::ffff:127\.' || true)"
FAIL=0
if [ -n "$BAD" ]; then
    echo "outbound-check: FAIL — connection attempts to non-loopback addresses:"; echo "$BAD" | head -20; FAIL=1
fi
if [ -s "$WORK/dns.log" ]; then
    echo "outbound-check: FAIL — DNS queries were made:"; head -20 "$WORK/dns.log"; FAIL=1
fi
CONNECTS="$(cat "$WORK"/*.trace | grep -c 'connect(' || true)"
if [ "$FAIL" = 0 ]; then
    echo "ok: no outbound connection or DNS query (server + 2 clients; $CONNECTS connect() calls, all loopback)"
    rm -rf "$WORK"
fi
exit "$FAIL"
