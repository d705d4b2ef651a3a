#!/usr/bin/env bash
# Runs certprobe's whole test suite on a fresh Debian machine: installs the real servers the
# end-to-end tests talk to on 127.0.0.1 (nginx, openssl, tinyproxy, dnsmasq, testssl.sh, prometheus
# with promtool, prometheus-blackbox-exporter for bench/blackbox-vs-certprobe.sh), faketime, the HTML
# report's checkers (tidy, headless chromium), and mitmproxy and prometheus-client (PyPI), then runs
# `cargo test`. Tests that need a server fail, never skip, when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(nginx-light openssl tinyproxy dnsmasq-base testssl.sh faketime python3-venv man-db tidy chromium prometheus prometheus-blackbox-exporter)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 2
  fi
fi

# Python tools the tests use as independent peers: mitmproxy (a real TLS-intercepting proxy) and
# prometheus-client (the reference parser of the Prometheus text format), in their own venv.
PY_VENV="${CERTPROBE_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/certprobe-py}"
if [ ! -x "$PY_VENV/bin/mitmdump" ] || ! "$PY_VENV/bin/python" -c 'import prometheus_client' 2>/dev/null; then
  echo "installing mitmproxy and prometheus-client into $PY_VENV"
  python3 -m venv "$PY_VENV"
  "$PY_VENV/bin/pip" install -q 'mitmproxy>=11,<13' prometheus-client
fi
export CERTPROBE_MITMDUMP="$PY_VENV/bin/mitmdump"
export CERTPROBE_PROMETHEUS_PYTHON="$PY_VENV/bin/python"

cargo test --all-targets "$@"
