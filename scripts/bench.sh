#!/usr/bin/env bash
# certprobe benchmark: certprobe side by side with curl, openssl s_client, testssl.sh and sslyze on
# the same servers on 127.0.0.1 (nginx, openssl s_server, tinyproxy), at 0/25/50/100 ms round-trip
# time added by a delaying TCP relay (examples/delay_relay.rs). Not part of `cargo test`.
#
#   scripts/bench.sh [--runs N] [--slow-runs N] [--rtts 0,25,50,100] [--no-slow] [--no-report]
#                    [--only NAME]… [--also LABEL=OTHER_BINARY]…
#
# Needs: nginx (nginx-light), openssl, tinyproxy, curl, testssl.sh (Debian packages) and sslyze
# (PyPI). Without sslyze on PATH, set SSLYZE=/path/to/sslyze; with neither, it is installed into a
# venv under ${TMPDIR:-/tmp}. Writes bench/results/<stamp>/ and rewrites docs/performance.md and
# docs/performance-rtt.svg. See bench/run.py --help.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in nginx openssl tinyproxy curl python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool not found (see the header of $0)" >&2; exit 1; }
done
command -v testssl >/dev/null || command -v testssl.sh >/dev/null ||
    { echo "bench: testssl.sh not found: apt-get install testssl.sh" >&2; exit 1; }

sslyze="${SSLYZE:-$(command -v sslyze || true)}"
if [[ -z "$sslyze" && " $* " != *" --no-slow "* ]]; then
    venv="${TMPDIR:-/tmp}/certprobe-sslyze-venv"
    if [[ ! -x "$venv/bin/sslyze" ]]; then
        echo "bench: installing sslyze into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet sslyze
    fi
    sslyze="$venv/bin/sslyze"
fi

echo "bench: building the release binary and the relay" >&2
cargo build --release --quiet --bin certprobe
mkdir -p target/bench
# The relay uses the standard library only: rustc builds it in seconds, without the dev-dependencies.
rustc --edition 2021 -O examples/delay_relay.rs -o target/bench/delay_relay

export BENCH_COMMAND="scripts/bench.sh $*"
exec python3 bench/run.py ${sslyze:+--sslyze "$sslyze"} "$@"
