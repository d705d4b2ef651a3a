#!/usr/bin/env bash
# Instructions executed by a whole local check (README "Performance", chain validation table):
#
#   scripts/callgrind-local.sh [BINARY...]     (default: target/release/certprobe)
#
# Runs each binary once under callgrind with
#   check --only local --cert client-chain.pem --key client.key --trust root.pem
# (fixtures/pki, the built-in profile, the platform store on: SSL_CERT_FILE / SSL_CERT_DIR as
# the environment sets them) and prints the total instruction count (Ir), then the functions
# with the most inclusive instructions. Needs valgrind (Debian package `valgrind`).
# Build first: cargo build --release.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install -y valgrind)" >&2; exit 2; }
bins=("$@")
[[ ${#bins[@]} -eq 0 ]] && bins=(target/release/certprobe)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pki=fixtures/pki
echo "SSL_CERT_FILE=${SSL_CERT_FILE:-} SSL_CERT_DIR=${SSL_CERT_DIR:-}"
for bin in "${bins[@]}"; do
    out="$work/callgrind.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" \
        check --only local --cert "$pki/client-chain.pem" --key "$pki/client.key" \
        --trust "$pki/root.pem" > "$work/stdout" 2> "$work/stderr" || true
    total=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
    printf '%s: %s instructions (%.2f M)\n' "$bin" "$total" "$(echo "$total / 1000000" | bc -l)"
    if command -v callgrind_annotate >/dev/null; then
        callgrind_annotate --inclusive=yes "$out" 2>/dev/null | grep -E '^ *[0-9,]+ ' | head -25
    fi
done
