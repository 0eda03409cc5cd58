#!/usr/bin/env bash
# Windows, from Linux: cross-builds the CLI and the desktop app for
# x86_64-pc-windows-gnu with mingw-w64, runs the CLI's end-to-end tests
# (demo, sim and scans over TCP, pinned TLS, disconnects over RADIUS and the
# API, the monitor, PDF and CSV reports, output into a closed pipe), the
# store's tests and the keyring round trip (Wine's Credential Manager) as
# Windows programs under Wine, starts the desktop app there to see its
# start-up error in a Windows message box (Wine has no WebView2), then
# builds the Windows installer and
# installs, runs and uninstalls it there (scripts/build-windows-installer.sh).
#
# Needs: rustup target add x86_64-pc-windows-gnu;
#        apt-get install gcc-mingw-w64-x86-64 wine64 nsis
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source scripts/wine-env.sh
wine_require
wine_prefix "$root"

started=$SECONDS
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine"
cargo test --target "$windows_target" --locked \
    -p shareguard-cli -p shareguard-store -p shareguard-secrets
echo "Windows tests under Wine: $((SECONDS - started)) s"

started=$SECONDS
cargo build --target "$windows_target" --locked -p shareguard-app
echo "Windows desktop app cross-built: $((SECONDS - started)) s"
# Started under Wine, which has no WebView2: a failed start in a message box.
xvfb-run -a -s "-screen 0 1280x800x24" bash tests/wine/startup-error.sh "$wine" \
    "target/$windows_target/debug/shareguard-app.exe" target/ui-artifacts/windows-startup-error.png
wine_server -k || true

bash scripts/build-windows-installer.sh
