#!/usr/bin/env bash
# Builds the Linux .deb of the desktop app with the Tauri CLI (debug profile,
# so it reuses the test build's dependencies; no signing, no download) and
# checks what it contains: package fields, the binary, the .desktop entry, the
# icons and the run-time dependencies. The AppImage is not built here: its
# bundler downloads linuxdeploy. The .msi and .dmg are built on Windows and
# macOS (see README.md, "Installers").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

fail() {
    echo "build-bundles: $*" >&2
    exit 1
}

bash scripts/setup-ui.sh

# The package name is the bundler's kebab-case of productName.
package=share-guard
product=$(node -p 'require("./tauri.conf.json").productName')
version=$(node -p 'require("./tauri.conf.json").version')
arch=$(dpkg --print-architecture)
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
    node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory')
deb="$target_dir/debug/bundle/deb/${product}_${version}_${arch}.deb"

rm -f "$target_dir"/debug/bundle/deb/*.deb
(cd src-tauri && "$root/ui/node_modules/.bin/tauri" build --debug --bundles deb --ci --no-sign -- --locked)
[[ -f "$deb" ]] || fail "the bundler did not produce $deb"

info=$(dpkg-deb --info "$deb") || fail "$deb is not a valid Debian package"
contents=$(dpkg-deb --contents "$deb") || fail "cannot list the files of $deb"
field() { dpkg-deb --field "$deb" "$1"; }

[[ "$(field Package)" == "$package" ]] || fail "Package is '$(field Package)', expected '$package'"
[[ "$(field Version)" == "$version" ]] || fail "Version is '$(field Version)', expected '$version'"
[[ "$(field Architecture)" == "$arch" ]] || fail "Architecture is '$(field Architecture)', expected '$arch'"
depends=$(field Depends)
for dep in libwebkit2gtk-4.1 libgtk-3 libayatana-appindicator3; do
    [[ "$depends" == *"$dep"* ]] || fail "Depends lacks $dep: '$depends'"
done

has_file() { grep -Eq "^\S+ +\S+ +[0-9]+ +\S+ +\S+ +(\./)?$1\$" <<<"$contents"; }
grep -Eq '^-rwxr-xr-x .* (\./)?usr/bin/shareguard-app$' <<<"$contents" ||
    fail "usr/bin/shareguard-app is missing or not executable"
desktop_path="usr/share/applications/$product.desktop"
has_file "$desktop_path" || fail "$desktop_path is missing"
for size in 32x32 128x128; do
    has_file "usr/share/icons/hicolor/$size/apps/shareguard-app\\.png" ||
        fail "the $size icon is missing under usr/share/icons/hicolor"
done

desktop=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "$desktop_path" 2>/dev/null ||
    dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./$desktop_path") || fail "cannot read $desktop_path"
grep -qx 'Name=ShareGuard' <<<"$desktop" || fail "$desktop_path has no 'Name=ShareGuard' line"
grep -qx 'Exec=shareguard-app.*' <<<"$desktop" || fail "$desktop_path has no 'Exec=shareguard-app' line"
grep -qx 'Icon=shareguard-app' <<<"$desktop" || fail "$desktop_path has no 'Icon=shareguard-app' line"

echo
echo "$info" | sed -n '/Package:/,$p'
echo
echo "deb: $deb"
echo "size: $(stat -c %s "$deb") bytes ($(du -h "$deb" | cut -f1))"
