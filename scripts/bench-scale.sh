#!/usr/bin/env bash
# Many endpoints against a server that accepts and never answers: does certprobe stay within the
# open-file limit, and does it end within --timeout? Not part of `cargo test` (tests/it/road.rs
# checks the open-file part with 1,000 endpoints).
#
#   scripts/bench-scale.sh [BINARY] [ENDPOINTS...]     (default: target/release/certprobe 1000 3000)
#
# Each run: `ulimit -n 1024`, `check --only network --no-proxy --timeout 3s --format json`.
# Prints wall time, the count of "Too many open files" in the output, and the endpoints reached.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/certprobe}"
shift || true
counts=("${@:-1000 3000}")
# shellcheck disable=SC2206
counts=(${counts[*]})
work="$(mktemp -d)"
cleanup() { [[ -n "${server:-}" ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The silent server: accepts (backlog 4096) and holds every connection.
python3 - "$work/port" <<'EOF' &
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0))
l.listen(4096)
open(sys.argv[1], "w").write(str(l.getsockname()[1]))
held = []
while True:
    held.append(l.accept()[0])
EOF
server=$!
for _ in $(seq 50); do [[ -s "$work/port" ]] && break; sleep 0.1; done
port="$(cat "$work/port")"

for n in "${counts[@]}"; do
    python3 - "$n" "$port" > "$work/p$n.toml" <<'EOF'
import sys
n, port = int(sys.argv[1]), int(sys.argv[2])
print('name = "many"\ntitle = "many endpoints"\n\n[client_cert]\nsubject_pattern = "S47*"\n')
print('[certificate_hosts]\nallow = ["127.0.0.1"]')
for i in range(n):
    print(f'\n[[endpoint]]\nid = "e{i}"\ntitle = {{ en = "E{i}", ja = "E{i}" }}\n'
          f'url = "https://127.0.0.1:{port}/{i}"\nclient_cert = false\nsection = "2-1"')
EOF
    start=$(date +%s.%N)
    sh -c "ulimit -n 1024 && exec \"\$0\" \"\$@\"" "$bin" --profile "$work/p$n.toml" --format json \
        --timeout 3s check --only network --no-proxy > "$work/out$n.json" 2> "$work/err$n.txt" || true
    end=$(date +%s.%N)
    emfile=$(cat "$work/out$n.json" "$work/err$n.txt" | grep -c -e "Too many open files" -e "os error 24" || true)
    reached=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for f in d['findings'] if f['id'].endswith('.tcp') and f['status']=='pass'))" "$work/out$n.json")
    printf '%5d endpoints: wall %.2f s (--timeout 3s), EMFILE lines %s, TCP reached %s\n' \
        "$n" "$(echo "$end - $start" | bc)" "$emfile" "$reached"
done
