#!/usr/bin/env bash
# The Windows desktop app under Wine, inside a display (run by
# scripts/test-windows.sh through xvfb-run). Wine has no WebView2, so the app
# cannot make its window: it must say so in a Windows message box, since a
# release build has no console, naming the WebView2 runtime, and exit with 1
# once the owner presses OK. The box is saved as a screenshot.
#
#   startup-error.sh WINE APP_EXE SCREENSHOT
set -euo pipefail
wine=$1 app=$2 shot=$3
out=$(mktemp)
"$wine" "$app" >"$out" 2>&1 &
pid=$!
window=
for _ in $(seq 1 60); do
    window=$(xdotool search --name '^ShareGuard could not start$' 2>/dev/null | head -n 1 || true)
    [[ -n "$window" ]] && break
    sleep 1
done
if [[ -z "$window" ]]; then
    kill "$pid" 2>/dev/null || true
    echo "startup-error: no message box titled 'ShareGuard could not start' within 60 s" >&2
    cat "$out" >&2
    exit 1
fi
sleep 1
mkdir -p "$(dirname "$shot")"
import -window root "$shot"
if ! kill -0 "$pid" 2>/dev/null; then
    echo "startup-error: the app ended before the owner closed the message box" >&2
    exit 1
fi
xdotool windowfocus --sync "$window" key Return
status=0
wait "$pid" || status=$?
[[ $status -eq 1 ]] || { echo "startup-error: the app exited with $status, not 1" >&2; exit 1; }
grep -q "WebView2 Runtime" "$out" || {
    echo "startup-error: the message does not name the WebView2 runtime:" >&2
    cat "$out" >&2
    exit 1
}
echo "startup error shown in a message box: $(tr -d '\r' <"$out")"
