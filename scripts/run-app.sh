#!/usr/bin/env bash
# Builds and starts the desktop app. With no router configured it offers the
# demo: simulated MikroTik routers on this computer.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "$(uname -s)" == Linux ]] && ! pkg-config --exists webkit2gtk-4.1 2>/dev/null; then
    pkgs="build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev"
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs
    else
        echo "The desktop app needs WebKitGTK to build. On Debian or Ubuntu run:" >&2
        echo "  sudo apt-get install $pkgs" >&2
        exit 1
    fi
fi
bash scripts/setup-ui.sh
exec cargo run --release -p shareguard-app
