#!/usr/bin/env bash
# Cross-check certprobe's protocol-version enumeration against `testssl.sh --protocols` on the
# same servers, and time both in one run. Servers (all on 127.0.0.1, free ports):
#   nginx        TLS 1.2 + 1.3
#   tls1         openssl s_server -tls1    (legacy only)
#   tls1_1       openssl s_server -tls1_1  (legacy only)
#   tls1_0-1_2   openssl s_server -no_tls1_3 (still accepts TLS 1.0)
# Needs: nginx (nginx-light), openssl, testssl (testssl.sh), jq, python3.
# Usage: scripts/crosscheck-testssl.sh [path/to/certprobe]   (default: a release build)
# Exit status: 0 when both tools agree on every server, 1 otherwise.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pki=$root/fixtures/pki
bin=${1:-}
if [[ -z $bin ]]; then
    (cd "$root" && cargo build --release -q)
    bin=$root/target/release/certprobe
fi
for t in nginx openssl testssl jq python3; do
    command -v "$t" >/dev/null || { echo "missing: $t" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
    for _ in $(seq 1 200); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on $1" >&2
    return 1
}

# nginx: the test configuration, three servers; only the open one is used here.
pv=$(free_port); po=$(free_port); pu=$(free_port)
sed -e "s|@DIR@|$work|g" -e "s|@PKI@|$pki|g" -e "s|@PAGES@|$root/fixtures/nginx/pages|g" \
    -e "s|@PORT_VERIFY@|$pv|g" -e "s|@PORT_OPEN@|$po|g" -e "s|@PORT_UNKNOWN@|$pu|g" \
    "$root/fixtures/nginx/nginx.conf.in" >"$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" -e "$work/error.log" &
pids+=($!)
wait_port "$po"

# openssl s_server in -www mode (it never reads stdin), port read from its ACCEPT line.
s_server() {
    local name=$1; shift
    openssl s_server -accept 127.0.0.1:0 -cert "$pki/server.pem" -key "$pki/server.key" -www "$@" \
        </dev/null >"$work/$name.out" 2>&1 &
    pids+=($!)
}
port_of() {
    for _ in $(seq 1 200); do
        grep -q '^ACCEPT' "$work/$1.out" 2>/dev/null && break
        sleep 0.05
    done
    sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$work/$1.out" | head -1
}
legacy=(-cipher 'DEFAULT:@SECLEVEL=0')
s_server tls1 -tls1 "${legacy[@]}"
s_server tls1_1 -tls1_1 "${legacy[@]}"
s_server mixed -no_tls1_3 -no_ssl3 "${legacy[@]}"
p1=$(port_of tls1); p11=$(port_of tls1_1); pm=$(port_of mixed)

names=(nginx tls1 tls1_1 tls1_0-1_2)
ports=("$po" "$p1" "$p11" "$pm")

now_ms() { date +%s%3N; }

certprobe_versions() {
    local port=$1 prof=$work/profile-$1.toml
    cat >"$prof" <<EOF
name = "crosscheck"
[client_cert]
[certificate_hosts]
allow = ["localhost"]
[[endpoint]]
id = "server"
title = "server"
url = "https://localhost:$port/"
section = "2-1 (4)"
EOF
    "$bin" --profile "$prof" --format json check --only network --no-proxy >"$work/cp-$port.json" || true
    jq -r '[.findings[] | select(.id == "net.server.versions") | .data.accepted[]] | sort | join(",")' \
        "$work/cp-$port.json"
}

testssl_versions() {
    local port=$1 out=$work/ts-$port.json
    testssl --protocols --quiet --warnings off --color 0 --jsonfile "$out" "localhost:$port" \
        >/dev/null 2>&1 || true
    jq -r '[ .[] | select(.id | test("^(TLS1_3|TLS1_2|TLS1_1|TLS1|SSLv3)$"))
             | select(.finding | startswith("offered"))
             | {"TLS1_3":"TLSv1.3","TLS1_2":"TLSv1.2","TLS1_1":"TLSv1.1","TLS1":"TLSv1","SSLv3":"SSLv3"}[.id] ]
           | sort | join(",")' "$out"
}

status=0
printf '%-12s %-28s %9s   %-28s %9s  %s\n' server certprobe ms testssl ms agree
for i in "${!names[@]}"; do
    port=${ports[$i]}
    t0=$(now_ms); ours=$(certprobe_versions "$port"); t1=$(now_ms)
    theirs=$(testssl_versions "$port"); t2=$(now_ms)
    agree=yes
    [[ $ours == "$theirs" ]] || { agree=NO; status=1; }
    printf '%-12s %-28s %9d   %-28s %9d  %s\n' "${names[$i]}" "$ours" $((t1 - t0)) "$theirs" $((t2 - t1)) "$agree"
done
exit $status
