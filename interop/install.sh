#!/usr/bin/env bash
# Installs the interop peers, idempotently and quietly.
#   Debian: nghttp2-client (nghttp, h2load), nghttp2-server (nghttpd), curl, golang-go, openssl
#   PyPI:   httpx[http2], h2, hypercorn
#   node:   uses the built-in http2 module (node must already be installed)
#   Debian chromium too (about 100 MB download; ~25 s here) unless INTEROP_CHROMIUM=0.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
for p in nghttp2-client nghttp2-server curl golang-go openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [[ "${INTEROP_CHROMIUM:-1}" != 0 ]]; then
  dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed' || need+=(chromium)
fi
SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
if ((${#need[@]})); then
  echo "install.sh: apt-get install ${need[*]}"
  log=$(mktemp)
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  rm -f "$log"
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import httpx, h2, hypercorn' >/dev/null 2>&1; then
  echo "install.sh: pip install httpx[http2] h2 hypercorn"
  "$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore 'httpx[http2]' h2 hypercorn
fi

command -v node >/dev/null || { echo "install.sh: node is required (built-in http2 module)" >&2; exit 1; }
node -e 'require("http2")' || exit 1
echo "install.sh: peers ready"
