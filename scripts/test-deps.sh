#!/usr/bin/env bash
# Makes sure this machine has what the test command needs beyond Rust and
# Node.js: Debian packages (WebKitGTK and its WebDriver, Xvfb, a Secret
# Service, poppler, and for the Windows tests mingw-w64, Wine and NSIS) and
# Rust's Windows target. As root with apt it installs what is missing;
# otherwise it prints the one line to run and fails.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
packages=(
    # The desktop app links WebKitGTK.
    build-essential pkg-config file libssl-dev
    libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev
    # The window tests: a display server, WebKitWebDriver, a Secret Service,
    # xdotool (to type into the system's save dialog), imagemagick (screenshots).
    xvfb xauth webkit2gtk-driver dbus gnome-keyring xdotool imagemagick
    # The report tests read PDFs back.
    poppler-utils
    # Windows: cross-build with mingw-w64, run under Wine, pack with NSIS.
    gcc-mingw-w64-x86-64 wine64 nsis
)
missing=()
if command -v dpkg-query >/dev/null; then
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
fi
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        echo "The tests need these Debian packages. Install them with:" >&2
        echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

target=x86_64-pc-windows-gnu
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
