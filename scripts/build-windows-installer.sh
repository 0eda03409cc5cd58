#!/usr/bin/env bash
# Builds ShareGuard's Windows installer on Linux: the desktop app and the CLI
# cross-built for x86_64-pc-windows-gnu, packed by Debian's makensis with
# packaging/windows/installer.nsi. Then checks it under Wine: a silent
# install into a fresh per-user folder, the installed CLI run from there, the
# uninstall entry and the PATH entry, and a silent uninstall that leaves
# nothing of the program behind.
#
#   scripts/build-windows-installer.sh            debug build (what the tests built)
#   scripts/build-windows-installer.sh --release  the shipped build
#
# The installer lands in target/windows-installer/. Tauri's own NSIS bundler
# is not used: on Linux it downloads its NSIS plugin (nsis_tauri_utils.dll)
# from GitHub at build time; see README.md, "Installers".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source scripts/wine-env.sh
wine_require

profile=debug
cargo_profile=()
if [[ "${1:-}" == --release ]]; then
    profile=release
    cargo_profile=(--release)
fi

bash scripts/setup-ui.sh >/dev/null
cargo build --target "$windows_target" --locked "${cargo_profile[@]}" -p shareguard-app -p shareguard-cli
built="$root/target/$windows_target/$profile"
version=$(node -p 'require("./tauri.conf.json").version')

# The GNU build loads WebView2's loader from a DLL next to the exe; the
# webview2-com-sys build script leaves it in its output folder.
loader=$(find "$built/build" -path '*webview2-com-sys*' -path '*x64*' -name WebView2Loader.dll -print -quit)
[[ -f "$loader" ]] || wine_fail "WebView2Loader.dll was not found under $built/build"

# Debug builds carry line tables; the installer gets stripped copies.
stage="$root/target/windows-installer/stage-$profile"
rm -rf "$stage"
mkdir -p "$stage"
x86_64-w64-mingw32-strip -o "$stage/shareguard-app.exe" "$built/shareguard-app.exe"
x86_64-w64-mingw32-strip -o "$stage/shareguard.exe" "$built/shareguard.exe"
cp "$loader" "$stage/WebView2Loader.dll"

out="$root/target/windows-installer/ShareGuard_${version}_x64-setup.exe"
[[ $profile == release ]] || out="${out%.exe}-debug.exe"
rm -f "$out"
makensis -V2 -INPUTCHARSET UTF8 \
    -DVERSION="$version" \
    -DAPP_EXE="$stage/shareguard-app.exe" \
    -DCLI_EXE="$stage/shareguard.exe" \
    -DLOADER_DLL="$stage/WebView2Loader.dll" \
    -DICON="$root/icons/icon.ico" \
    -DPNG="$root/icons/128x128.png" \
    -DOUTFILE="$out" \
    packaging/windows/installer.nsi
[[ -f "$out" ]] || wine_fail "makensis did not write $out"

# Check it under Wine, in a fresh prefix of its own.
rm -rf "$root/target/wine/installer"
wine_prefix "$root" installer
local_app_data=$("$wine" cmd /c echo %LOCALAPPDATA% 2>/dev/null | tr -d '\r')
installed_win="$local_app_data\\Programs\\ShareGuard"
installed=$("$wine" winepath -u "$installed_win" 2>/dev/null | tr -d '\r')
installed=${installed%/}

"$wine" "$out" /S
for f in ShareGuard.exe ShareGuard.png bin/shareguard.exe WebView2Loader.dll uninstall.exe; do
    [[ -f "$installed/$f" ]] || wine_fail "the installer did not put $f into $installed"
done
reg() { "$wine" reg query "$@" 2>/dev/null | tr -d '\r'; }
uninstall_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\ShareGuard'
reg "$uninstall_key" /v DisplayVersion | grep -q "$version" ||
    wine_fail "Settings > Apps would not list ShareGuard $version"
reg 'HKCU\Software\Classes\AppUserModelId\net.shareguard.app' /v DisplayName | grep -q ShareGuard ||
    wine_fail "the app's notification identity (AppUserModelId) was not registered"
reg 'HKCU\Environment' /v Path | grep -qiF "$installed_win\bin" ||
    wine_fail "the installer did not put $installed_win\bin on the user's PATH"
cli_version=$("$wine" "$installed/bin/shareguard.exe" --version | tr -d '\r')
[[ "$cli_version" == *"$version"* ]] || wine_fail "the installed CLI says '$cli_version'"
# The installed CLI runs the demo: simulated routers, a scan, results.
"$wine" "$installed/bin/shareguard.exe" demo --json --db 'C:\demo.db' >"$root/target/windows-installer/demo.json"
node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (d.results.length !== 600) process.exit(1)' \
    "$root/target/windows-installer/demo.json" || wine_fail "the installed CLI's demo did not list 600 subscribers"

"$wine" "$installed/uninstall.exe" /S "_?=$installed_win"
rm -f "$installed/uninstall.exe" # _?= keeps the running uninstaller itself
[[ ! -e "$installed" ]] || [[ -z "$(ls -A "$installed")" ]] || wine_fail "the uninstaller left $(ls "$installed") behind"
! reg "$uninstall_key" >/dev/null || wine_fail "the uninstaller left its entry in Settings > Apps"
! reg 'HKCU\Software\Classes\AppUserModelId\net.shareguard.app' >/dev/null ||
    wine_fail "the uninstaller left the notification identity registered"
! reg 'HKCU\Environment' /v Path | grep -qiF "$installed_win" || wine_fail "the uninstaller left $installed_win\bin on the PATH"
wine_server -k || true

echo "Windows installer: $out"
echo "size: $(stat -c %s "$out") bytes ($(du -h "$out" | cut -f1)); app $(stat -c %s "$stage/shareguard-app.exe") bytes, CLI $(stat -c %s "$stage/shareguard.exe") bytes"
