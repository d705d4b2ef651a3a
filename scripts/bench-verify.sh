#!/usr/bin/env bash
# `certprobe verify` against `openssl verify` on the same chain (README "Performance", chain
# validation table): paired runs, alternating, whole-process wall time; prints the medians and
# the median of the per-pair ratios.
#
#   scripts/bench-verify.sh [BINARY] [PAIRS]     (default: target/release/certprobe 40)
#
# Both with the platform store on (SSL_CERT_FILE / SSL_CERT_DIR as the environment sets them)
# and `root.pem` of fixtures/pki as an extra anchor.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/certprobe}"
pairs="${2:-40}"
python3 - "$bin" "$pairs" <<'EOF'
import statistics, subprocess, sys, time
bin, pairs = sys.argv[1], int(sys.argv[2])
pki = "fixtures/pki"
ours = [bin, "verify", "--cert", f"{pki}/client-chain.pem", "--trust", f"{pki}/root.pem"]
theirs = ["openssl", "verify", "-CAfile", f"{pki}/root.pem", "-untrusted", f"{pki}/client-chain.pem",
          "-purpose", "sslclient", f"{pki}/client-chain.pem"]
def run(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, r.returncode
for cmd in (ours, theirs):  # warm the page cache
    run(cmd)
a, b = [], []
for _ in range(pairs):
    (x, rx), (y, ry) = run(ours), run(theirs)
    a.append(x); b.append(y)
print(f"certprobe verify (exit {rx}): median {statistics.median(a)*1000:.1f} ms")
print(f"openssl verify   (exit {ry}): median {statistics.median(b)*1000:.1f} ms")
print(f"pair ratio median: {statistics.median(x / y for x, y in zip(a, b)):.2f}x over {pairs} pairs")
EOF
