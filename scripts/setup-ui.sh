#!/usr/bin/env bash
# Installs the frontend's locked npm packages (once) and builds ui/dist, which
# the desktop app embeds at compile time.
set -euo pipefail
cd "$(dirname "$0")/../ui"
# `npm install` (not `npm ci`): this npm records only the current platform's
# optional packages (rollup, esbuild binaries) in the lock file, which `npm ci`
# then rejects; `install` follows the lock and fills those in.
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm install --no-audit --no-fund
fi
npm run build
