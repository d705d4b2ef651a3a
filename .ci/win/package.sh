#!/usr/bin/env bash
# The Windows package: a release certprobe.exe (cross-built with Debian's rustc-web, as in
# .ci/windows.sh) and the Japanese how-to (.ci/win/使い方.txt, with Windows line ends) in
#   target/win/package/certprobe-<version>-windows-x86_64.zip
# Prints the zip's path. Needs the packages .ci/windows.sh installs (and python3 for the zip, which
# marks the Japanese file name as UTF-8 so Explorer shows it).
set -euo pipefail

cd "$(dirname "$0")/../.."
root=$(pwd)
target=x86_64-pc-windows-gnu
target_dir="$root/target/win"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
name="certprobe-$version-windows-x86_64"

export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc

printf '== windows: release build of certprobe.exe\n' >&2
/usr/bin/cargo build --release --bin certprobe --target "$target" -Zbuild-std --target-dir "$target_dir" >&2

out="$target_dir/package"
stage="$out/$name"
rm -rf "$stage"
mkdir -p "$stage"
cp "$target_dir/$target/release/certprobe.exe" "$stage/certprobe.exe"
# Notepad on every supported Windows reads UTF-8 with a byte-order mark and CRLF line ends.
{ printf '\357\273\277'; sed 's/$/\r/' .ci/win/使い方.txt; } >"$stage/使い方.txt"

zip_file="$out/$name.zip"
rm -f "$zip_file"
python3 - "$out" "$name" "$zip_file" <<'PY'
import os, sys, zipfile
out, name, zip_file = sys.argv[1:]
with zipfile.ZipFile(zip_file, "w", zipfile.ZIP_DEFLATED) as z:
    for f in sorted(os.listdir(os.path.join(out, name))):
        z.write(os.path.join(out, name, f), f"{name}/{f}")
PY
printf '== windows: %s (%s bytes; certprobe.exe %s bytes)\n' "$zip_file" "$(stat -c %s "$zip_file")" \
    "$(stat -c %s "$stage/certprobe.exe")" >&2
echo "$zip_file"
