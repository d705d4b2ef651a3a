#!/usr/bin/env bash
# Windows stage: build certprobe for x86_64-pc-windows-gnu and run the Windows tests under Wine.
#
# Uses Debian's rustc-web (its std sources let -Zbuild-std build std for the target), mingw-w64 as the
# linker and Wine as the test runner. Wine lives in its own prefix (WINEPREFIX, default under /tmp).
# Exits non-zero when anything fails.
#
# Environment:
#   WINEPREFIX          prefix to use (default /tmp/certprobe-wine); created when missing
#   CERTPROBE_NO_APT=1  do not install packages (they must already be there)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
target=x86_64-pc-windows-gnu
target_dir="$root/target/win"

log() { printf '== windows: %s\n' "$*"; }

# 1. Packages (Debian bookworm names).
packages=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine wine64)
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
for tool in /usr/bin/cargo /usr/bin/rustc /usr/bin/rustdoc x86_64-w64-mingw32-gcc wine; do
    command -v "$tool" >/dev/null || { echo "windows: $tool is missing" >&2; exit 1; }
done

# 2. Wine prefix.
export WINEPREFIX="${WINEPREFIX:-/tmp/certprobe-wine}"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
# The tests check that Wine is recognised (and that store keys are refused there).
export CERTPROBE_EXPECT_WINE=1
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    log "creating Wine prefix $WINEPREFIX"
    wineboot --init
    wineserver -w
fi

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

log "Windows tests under Wine (tests/windows.rs)"
"${cargo[@]}" test "${common[@]}" --test windows -- --test-threads=1

exe="$target_dir/$target/debug/certprobe.exe"
log "smoke: certprobe.exe under Wine"
wine "$exe" --version
wine "$exe" --help >/dev/null

log "passed"
