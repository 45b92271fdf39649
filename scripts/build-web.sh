#!/usr/bin/env bash
# Builds the browser app into web/dist: the ting-web wasm module (web/pkg) and the Vite bundle.
#
#   scripts/build-web.sh            # always rebuilds
#   scripts/build-web.sh --if-stale # only if web/dist is missing or older than its sources
#
# The `ting` binary embeds web/dist when it is built (crates/ting-server/build.rs), so build the
# server after this; scripts/run.sh does both. Installs what is missing (wasm toolchain, node)
# through scripts/wasm-toolchain.sh; npm packages come from web/package-lock.json (`npm ci`).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$repo"

if [[ "${1:-}" == "--if-stale" && -f web/dist/index.html ]]; then
    newer="$(find web/src web/index.html web/package-lock.json web/vite.config.ts \
        crates/ting-web/src crates/ting-e2ee/src -newer web/dist/index.html -print -quit 2>/dev/null || true)"
    if [[ -z "$newer" ]]; then
        echo "build-web: web/dist is up to date" >&2
        exit 0
    fi
    echo "build-web: $newer changed; rebuilding" >&2
fi

./scripts/wasm-toolchain.sh
./scripts/build-wasm.sh --target web web/pkg
cd web
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
fi
npm run build
echo "build-web: web/dist built" >&2
