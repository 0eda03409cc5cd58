#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration (real TCP/UDP to the
# simulated routers, real SQLite files) and the labelled-population quality
# test, whose confusion table is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets --locked
if [[ -f target/quality-report.txt ]]; then
    echo
    cat target/quality-report.txt
fi
