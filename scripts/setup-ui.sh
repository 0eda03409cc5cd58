#!/usr/bin/env bash
# Installs the frontend's locked npm packages (once) and builds ui/dist, which
# the desktop app embeds at compile time.
set -euo pipefail
cd "$(dirname "$0")/../ui"
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
fi
npm run build
