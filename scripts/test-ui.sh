#!/usr/bin/env bash
# End-to-end tests of the real app window: WebKitWebDriver through
# tauri-driver, under Xvfb, with a real Secret Service in a private D-Bus
# session and a fresh data folder. Screenshots land in target/ui-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup-ui.sh
# Same targets and features as `cargo test --workspace --all-targets`, so
# nothing is compiled twice.
cargo build --workspace --all-targets --locked
if ! command -v tauri-driver >/dev/null; then
    cargo install tauri-driver --locked
fi
if [[ ! -x target/ui-venv/bin/python ]]; then
    python3 -m venv target/ui-venv
fi
target/ui-venv/bin/pip install -q --disable-pip-version-check -r tests/ui/requirements.txt

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export SHAREGUARD_APP="$root/target/debug/shareguard-app"
export XDG_DATA_HOME="$scratch/data"
export HOME="$scratch/home"
mkdir -p "$HOME" "$XDG_DATA_HOME"
dbus-run-session -- bash -c '
    eval "$(printf %s shareguard-test | gnome-keyring-daemon --unlock --components=secrets)"
    export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
    xvfb-run -a -s "-screen 0 1920x1080x24" target/ui-venv/bin/python tests/ui/test_app.py
'
