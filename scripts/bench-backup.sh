#!/usr/bin/env bash
# Backup and restore figures: a release `ting serve` on a throwaway data directory gets N blobs
# of SIZE bytes (random bytes, uploaded through the HTTP API like encrypted files; 10 x 100 MB
# = 1 GB by default), then `ting backup` runs against it and `ting restore` into an empty
# directory. Prints MB/s of each; the baseline in the same run is a plain `cp -r` of the data
# directory (what the disk allows). See docs/benchmarks.md, "Backup and restore".
#
#   scripts/bench-backup.sh                 # 10 x 100 MB
#   N=4 SIZE=50000000 scripts/bench-backup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
n="${N:-10}"
size="${SIZE:-100000000}"
cargo build --release --locked -p ting-server --bin ting >/dev/null
ting="$CARGO_TARGET_DIR/release/ting"
work="$(mktemp -d /tmp/ting-bench-backup-XXXXXX)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
export TING_AUTH_ARGON2_MEMORY_KIB=256 TING_AUTH_ARGON2_ITERATIONS=1 TING_FILES_MAX_BLOB_BYTES="$size"

"$ting" serve --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/serve.out" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do grep -q ':' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base="http://$(head -1 "$work/serve.out" | grep -oE '127\.0\.0\.1:[0-9]+')"
echo "bench password 123" | "$ting" admin --data-dir "$work/data" create-user bench --password-stdin >/dev/null
key="$(head -c 32 /dev/urandom | base64 -w0)"
token="$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"bench\",\"password\":\"bench password 123\",\"device_name\":\"bench\",\"signature_key\":\"$key\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
auth=(-H "authorization: Bearer $token")
room="$(curl -sf "${auth[@]}" "$base/api/v1/rooms" -H 'content-type: application/json' -d '{"kind":"room"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
head -c "$size" /dev/urandom >"$work/chunk"
for i in $(seq "$n"); do
  blob="$(curl -sf "${auth[@]}" "$base/api/v1/rooms/$room/blobs" -H 'content-type: application/json' \
    -d "{\"size\":$size}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  curl -sf "${auth[@]}" -X PATCH "$base/api/v1/blobs/$blob" -H 'upload-offset: 0' \
    -H 'content-type: application/octet-stream' --data-binary @"$work/chunk" >/dev/null
done
sync
total=$(du -sb "$work/data" | cut -f1)
mb() { python3 -c "print(f'{$1/1e6:.0f}')"; }
secs() { python3 -c "import time; print(time.time())"; }

t0=$(secs); cp -r "$work/data" "$work/copy"; sync; t1=$(secs)
"$ting" backup --data-dir "$work/data" --out "$work/backup.tar"; sync; t2=$(secs)
"$ting" restore --data-dir "$work/restored" --from "$work/backup.tar"; sync; t3=$(secs)
python3 - "$total" "$t0" "$t1" "$t2" "$t3" <<'PY'
import sys
total, t0, t1, t2, t3 = int(sys.argv[1]), *map(float, sys.argv[2:])
mb = total / 1e6
for name, s in [("cp -r (baseline)", t1 - t0), ("ting backup", t2 - t1), ("ting restore", t3 - t2)]:
    print(f"{name:18} {mb:7.0f} MB in {s:6.2f} s = {mb / s:6.0f} MB/s  ({s / (t1 - t0):.2f} x baseline time)")
PY
