#!/usr/bin/env bash
# Installs the frontend's locked npm packages (once) and builds ui/dist, which
# the desktop app embeds at compile time.
set -euo pipefail
cd "$(dirname "$0")/../ui"
# `npm ci`: exactly the committed lock, which records every platform's
# optional packages (rollup's and esbuild's native binaries), so the same
# versions install on Linux, Windows and macOS and nothing tracked changes.
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
fi
npm run build
