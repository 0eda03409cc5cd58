#!/usr/bin/env bash
# Runs a command with a real Secret Service: a private D-Bus session with an
# unlocked gnome-keyring in a scratch HOME (cargo and rustup keep their own).
set -euo pipefail
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export HOME="$scratch"
exec dbus-run-session -- bash -c '
    eval "$(printf %s shareguard-test | gnome-keyring-daemon --unlock --components=secrets)"
    exec "$@"
' keyring-session "$@"
