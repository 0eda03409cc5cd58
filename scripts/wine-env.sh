# Sourced by the Windows scripts: finds the mingw-w64 toolchain and Wine, and
# prepares a Wine prefix of the project's own under target/wine/ in which the
# Windows builds run. Nothing here is shipped or needed on real Windows.
#
# Debian 12's Wine 8.0 lacks bcryptprimitives.dll, which Rust's standard
# library loads for ProcessPrng (every Windows 10 and 11 has it): the prefix
# gets a small stand-in built from tests/wine/bcryptprimitives.c.

windows_target=x86_64-pc-windows-gnu

wine_fail() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

wine_require() {
    local missing=()
    command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
    command -v makensis >/dev/null || missing+=(nsis)
    wine=$(command -v wine64 || true)
    [[ -n "$wine" ]] || wine=/usr/lib/wine/wine64 # Debian 12 keeps it off the PATH
    [[ -x "$wine" ]] || missing+=(wine64)
    if ((${#missing[@]})); then
        wine_fail "needs ${missing[*]}: apt-get install ${missing[*]}"
    fi
    if ! rustup target list --installed 2>/dev/null | grep -qx "$windows_target"; then
        wine_fail "needs Rust's Windows target: rustup target add $windows_target"
    fi
}

# The Wine server of $wine, to wait for or end a prefix's programs.
wine_server() {
    "$(command -v wineserver || echo "$(dirname "$wine")/wineserver")" "$@"
}

# Sets WINEPREFIX (target/wine/<name>, default "prefix") and friends and
# makes the prefix once (about 5 s).
wine_prefix() {
    local root=$1 name=${2:-prefix}
    export WINEPREFIX="$root/target/wine/$name"
    export WINEDEBUG=-all
    # No Mono or Gecko installers: nothing here needs them.
    export WINEDLLOVERRIDES="mscoree,mshtml="
    export WINEARCH=win64
    local dll="$root/target/wine/bcryptprimitives.dll"
    local src="$root/tests/wine/bcryptprimitives.c"
    if [[ ! -f "$dll" || "$src" -nt "$dll" ]]; then
        mkdir -p "$(dirname "$dll")"
        x86_64-w64-mingw32-gcc -O2 -shared -o "$dll" "$src" "$root/tests/wine/bcryptprimitives.def" -lbcrypt
    fi
    if [[ ! -f "$WINEPREFIX/system.reg" ]]; then
        "$wine" wineboot --init >/dev/null 2>&1 || wine_fail "wineboot could not make $WINEPREFIX"
        # wineboot returns before its server has written the registry.
        wine_server -w
    fi
    cp "$dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
}
