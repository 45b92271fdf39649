#!/usr/bin/env bash
# Runs Ting with its embedded defaults (SQLite in ./ting-data, http://127.0.0.1:8080) and the web
# app built in. Builds the web app first when web/dist is missing or older than its sources, and
# opens it in a browser when there is a desktop to open it on. Arguments go to `ting serve`.
#
#   scripts/run.sh
#   scripts/run.sh --listen 127.0.0.1:9000
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$repo"

./scripts/build-web.sh --if-stale
cargo build --release -p ting-server --bin ting
bin="${CARGO_TARGET_DIR:-$repo/target}/release/ting"

if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]] && command -v xdg-open >/dev/null; then
    url="http://127.0.0.1:8080"
    for ((i = 1; i < $#; i++)); do
        [[ "${!i}" == "--listen" ]] && { j=$((i + 1)); url="http://${!j}"; }
    done
    ( for _ in $(seq 60); do
          if curl -fsS "$url/healthz" >/dev/null 2>&1; then xdg-open "$url" >/dev/null 2>&1; break; fi
          sleep 1
      done ) &
fi
exec "$bin" serve "$@"
