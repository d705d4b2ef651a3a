#!/usr/bin/env bash
# Windows stage: build certprobe for x86_64-pc-windows-gnu, run the Windows tests under Wine, build
# the release package (certprobe.exe and 使い方.txt in a zip) and run the packaged exe under Wine.
#
# Uses Debian's rustc-web (its std sources let -Zbuild-std build std for the target), mingw-w64 as the
# linker and Wine as the test runner. Every run gets a private Wine prefix in a temporary folder,
# removed when the stage ends, so nothing one run adds to the certificate stores or the registry
# reaches the next. Exits non-zero when anything fails.
#
# Environment:
#   CERTPROBE_NO_APT=1        do not install packages (they must already be there)
#   CERTPROBE_KEEP_PREFIX=1   keep the Wine prefix after the run (its path is printed)
#   CERTPROBE_NO_PACKAGE=1    skip the release build and the package
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
target=x86_64-pc-windows-gnu
target_dir="$root/target/win"

log() { printf '== windows: %s\n' "$*"; }

# 1. Packages (Debian bookworm names).
packages=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine wine64 python3 tinyproxy)
if [ "${CERTPROBE_NO_APT:-0}" != 1 ]; then
    missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        sudo_cmd=()
        [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
        "${sudo_cmd[@]}" apt-get update -q
        "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
fi
for tool in /usr/bin/cargo /usr/bin/rustc /usr/bin/rustdoc x86_64-w64-mingw32-gcc wine python3 tinyproxy; do
    command -v "$tool" >/dev/null || { echo "windows: $tool is missing" >&2; exit 1; }
done

# 2. A private Wine prefix for this run, removed at the end (also on failure or interrupt).
WINEPREFIX=$(mktemp -d "${TMPDIR:-/tmp}/certprobe-wine.XXXXXX")
export WINEPREFIX
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
# The tests check that Wine is recognised (and that store keys are refused there).
export CERTPROBE_EXPECT_WINE=1
package_tmp=""
proxy_dir=""
proxy_pid=""
cleanup() {
    [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true
    [ -z "$proxy_dir" ] || rm -rf "$proxy_dir"
    # Stop this prefix's wineserver (and the processes it runs) before removing the prefix.
    wineserver -k 2>/dev/null || true
    wineserver -w 2>/dev/null || true
    [ -z "$package_tmp" ] || rm -rf "$package_tmp"
    if [ "${CERTPROBE_KEEP_PREFIX:-0}" = 1 ]; then
        log "kept Wine prefix $WINEPREFIX"
    else
        rm -rf "$WINEPREFIX"
    fi
}
trap cleanup EXIT
log "creating private Wine prefix $WINEPREFIX"
wineboot --init >/dev/null 2>&1
wineserver -w
# Wine links the user's Documents, Desktop, … to the Unix home folder; the double-click tests write
# into Documents, so these become folders inside the prefix.
for link in "$WINEPREFIX"/drive_c/users/*/*; do
    if [ -L "$link" ]; then
        rm "$link"
        mkdir "$link"
    fi
done

# 3. bcryptprimitives.dll: Debian's Wine 8.0 lacks it and Rust's std imports ProcessPrng from it.
dll_dir="$target_dir/bcryptprimitives"
mkdir -p "$dll_dir"
x86_64-w64-mingw32-gcc -shared -O2 -Wall -Werror -o "$dll_dir/bcryptprimitives.dll" .ci/win/bcryptprimitives.c
sys32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -f "$sys32/bcryptprimitives.dll" ] || ! cmp -s "$dll_dir/bcryptprimitives.dll" "$sys32/bcryptprimitives.dll"; then
    # Only replace a file that is ours: a Wine that ships the DLL keeps its own.
    if [ -f "$sys32/bcryptprimitives.dll" ] && ! grep -q SystemFunction036 "$sys32/bcryptprimitives.dll"; then
        log "prefix already has a bcryptprimitives.dll of its own; keeping it"
    else
        cp "$dll_dir/bcryptprimitives.dll" "$sys32/bcryptprimitives.dll"
    fi
fi

# tinyproxy on 127.0.0.1 for the PAC test (tests/windows.rs): the PAC script the test serves sends
# the service's host through it.
proxy_dir=$(mktemp -d "${TMPDIR:-/tmp}/certprobe-tinyproxy.XXXXXX")
proxy_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 30\nMaxClients 20\nLogLevel Info\nLogFile "%s"\n' \
    "$proxy_port" "$proxy_dir/tinyproxy.log" >"$proxy_dir/tinyproxy.conf"
tinyproxy -d -c "$proxy_dir/tinyproxy.conf" >"$proxy_dir/stdout.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 50); do
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$proxy_port" \
        2>/dev/null && break
    sleep 0.1
done
export CERTPROBE_WIN_TINYPROXY="127.0.0.1:$proxy_port"
CERTPROBE_WIN_TINYPROXY_LOG=$(winepath -w "$proxy_dir/tinyproxy.log")
export CERTPROBE_WIN_TINYPROXY_LOG

# 4. Build and test with Debian's toolchain (rustup's cargo stays first on PATH for the Linux stage).
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
cargo=(/usr/bin/cargo)
common=(--target "$target" -Zbuild-std --target-dir "$target_dir")

# One feature set for everything (test builds unify dev-dependency features): `cargo test` also
# builds certprobe.exe for the integration tests, so no separate `cargo build` is needed.
log "unit tests of the platform module and the store findings under Wine"
"${cargo[@]}" test "${common[@]}" --lib -- platform:: cert::store::

# The tests run with the Unix locale C.UTF-8: Wine takes the Windows UI language from the Unix
# locale of the process that starts it (not from HKCU\Control Panel\International, which it
# rewrites), so this run is an English Windows.
log "Windows tests under Wine (tests/windows.rs), English Windows"
env -u LANGUAGE LC_ALL=C.UTF-8 CERTPROBE_EXPECT_UI_LANG=en \
    "${cargo[@]}" test "${common[@]}" --test windows -- --test-threads=1

# The same tests under a Japanese Windows UI language. The tests remove LC_ALL, LC_MESSAGES and
# LANG from certprobe's environment, so what certprobe sees is Windows' UI language alone.
log "Windows tests under Wine (tests/windows.rs), Japanese Windows"
env -u LANGUAGE LC_ALL=ja_JP.UTF-8 CERTPROBE_EXPECT_UI_LANG=ja \
    "${cargo[@]}" test "${common[@]}" --test windows -- --test-threads=1 ui_language

# What the tests added to the stores is gone again (the registry is on disk once wineserver ends;
# Wine keeps a user store's certificates as "Blob" values under Software\Microsoft\SystemCertificates).
check_stores_clean() {
    wineserver -w
    local leftover
    leftover=$(grep -c '^"Blob"=' "$WINEPREFIX/user.reg" 2>/dev/null || true)
    log "certificates left in the prefix's user stores: ${leftover:-0}"
    if [ "${leftover:-0}" != 0 ]; then
        echo "windows: the tests left ${leftover} certificate(s) in the user's stores" >&2
        exit 1
    fi
}
check_stores_clean

exe="$target_dir/$target/debug/certprobe.exe"
log "smoke: certprobe.exe under Wine"
wine "$exe" --version
wine "$exe" --help >/dev/null

# 5. The package: a release certprobe.exe and the Japanese how-to in a zip.
if [ "${CERTPROBE_NO_PACKAGE:-0}" != 1 ]; then
    zip_file=$(.ci/win/package.sh)
    package_tmp=$(mktemp -d "${TMPDIR:-/tmp}/certprobe-package.XXXXXX")
    python3 -m zipfile -e "$zip_file" "$package_tmp"
    packaged=$(find "$package_tmp" -name certprobe.exe | head -n 1)
    [ -n "$packaged" ] || { echo "windows: no certprobe.exe in $zip_file" >&2; exit 1; }
    log "the packaged exe under Wine (tests/windows.rs with CERTPROBE_EXE)"
    env -u LANGUAGE LC_ALL=C.UTF-8 CERTPROBE_EXPECT_UI_LANG=en CERTPROBE_EXE="$(winepath -w "$packaged")" \
        "${cargo[@]}" test "${common[@]}" --test windows -- --test-threads=1 exe_
    env -u LANGUAGE LC_ALL=ja_JP.UTF-8 CERTPROBE_EXPECT_UI_LANG=ja CERTPROBE_EXE="$(winepath -w "$packaged")" \
        "${cargo[@]}" test "${common[@]}" --test windows -- --test-threads=1 ui_language
    check_stores_clean
fi

log "passed"
