#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration (real TCP/UDP to the
# simulated routers, real SQLite files), the labelled-population quality test
# (its confusion table is printed at the end), the desktop app's window
# driven end to end over WebDriver (scripts/test-ui.sh), the Linux .deb
# built and checked (scripts/build-bundles.sh), and the Windows builds: the
# CLI's end-to-end tests under Wine and the installer (scripts/test-windows.sh).
# Installs what it needs first (scripts/test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
disk_free() { echo "disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free, target/ $(du -sh target 2>/dev/null | cut -f1)"; }
disk_free
bash scripts/test-deps.sh
bash scripts/setup-ui.sh
cargo test --workspace --all-targets --locked
# The keyring tests against a real Secret Service (ignored in the plain run).
bash scripts/with-keyring.sh cargo test -p shareguard-secrets --test secret_service --locked -- --ignored
# The app's commands that keep notification secrets in that keyring (one at
# a time: they share its entries).
# `--workspace` keeps the features of the run above, so nothing is rebuilt.
bash scripts/with-keyring.sh cargo test --workspace --test ipc --locked -- --ignored --test-threads=1
bash scripts/test-ui.sh
bash scripts/build-bundles.sh
disk_free
# With SHAREGUARD_ONE_BUILD=1 (set by .ci/run) the disk holds one build at a
# time: the Linux build has served its tests, and the Windows build needs its
# room (together about 14 GB).
if [[ "${SHAREGUARD_ONE_BUILD:-}" == 1 ]]; then
    rm -rf target/debug
    disk_free
fi
bash scripts/test-windows.sh
disk_free
if [[ -f target/quality-report.txt ]]; then
    echo
    cat target/quality-report.txt
fi
