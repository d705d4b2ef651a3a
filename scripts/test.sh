#!/usr/bin/env bash
# Runs certprobe's whole test suite on a fresh Debian machine: installs the real servers the
# end-to-end tests talk to on 127.0.0.1 (nginx, openssl, tinyproxy, dnsmasq, testssl.sh) and
# mitmproxy, then runs `cargo test`. Tests that need a server fail, never skip, when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(nginx-light openssl tinyproxy dnsmasq-base testssl.sh python3-venv man-db)
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

# mitmproxy (a real TLS-intercepting proxy) lives in its own virtual environment.
MITM_VENV="${CERTPROBE_MITM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/certprobe-mitmproxy}"
if [ ! -x "$MITM_VENV/bin/mitmdump" ]; then
  echo "installing mitmproxy into $MITM_VENV"
  python3 -m venv "$MITM_VENV"
  "$MITM_VENV/bin/pip" install -q 'mitmproxy>=11,<13'
fi
export CERTPROBE_MITMDUMP="$MITM_VENV/bin/mitmdump"

cargo test --all-targets "$@"
