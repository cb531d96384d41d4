#!/usr/bin/env bash
# Interop matrix: real HTTP/2 peers against `h2proto serve` (their clients -> our server) and
# `h2proto get` against their servers (our client -> their servers). Loopback only.
# Prints one line per cell and a final matrix; exits 1 if any cell FAILs.
#   INTEROP_CHROMIUM=0   skip the headless Chromium cells (n/a)
#   INTEROP_KEEP=1       keep the scratch directory (logs of every server and command)
#   INTEROP_MATRIX_MD=F  also write the final matrix (a Markdown table) to F
#   H2PROTO_BIN=PATH     test this h2proto binary instead of building the working tree
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/interop
export GOTOOLCHAIN=local GOFLAGS= GO111MODULE=off
export GOCACHE=${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/h2proto-interop-go}
PY=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1
T0=$(date +%s)

if [[ -n "${H2PROTO_BIN:-}" ]]; then
  H2P=$H2PROTO_BIN
  echo "== using $H2P"
else
  echo "== building h2proto (release)"
  (cd "$ROOT" && cargo build --release -q -p h2proto-cli) || { echo "build failed"; exit 1; }
  H2P=$ROOT/target/release/h2proto
fi

W=$(mktemp -d /tmp/h2proto-interop.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [[ "${INTEROP_KEEP:-0}" == 1 ]] && echo "scratch kept: $W" || rm -rf "$W"
}
trap cleanup EXIT

echo "== building Go peers (standard library only)"
(cd "$HERE/go" && go build -o "$W/goserver" server.go && go build -o "$W/goclient" client.go) \
  || { echo "go build failed"; exit 1; }

# ------------------------------------------------------------------ fixtures
MiB10=10485760
head -c $MiB10 /dev/urandom > "$W/up.bin"
UP_SHA=$(sha256sum < "$W/up.bin" | cut -d' ' -f1)
X10_SHA=$(head -c $MiB10 /dev/zero | tr '\0' x | sha256sum | cut -d' ' -f1)
X1K=$(head -c 1000 /dev/zero | tr '\0' x)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/key.pem" \
  -out "$W/cert.pem" -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
# a site: index.html with 60 images + CSS + JS; its script records nextHopProtocol into the DOM
SITE=$W/site
mkdir -p "$SITE/img"
{
  echo '<!DOCTYPE html><html><head><title>interop</title><link rel="stylesheet" href="style.css"><script src="app.js"></script></head><body><h1>interop</h1>'
  for i in $(seq 1 60); do echo "<img src=\"img/i$i.svg\" width=4 height=4>"; done
  echo '<pre id="result">pending</pre><script>window.addEventListener("load",function(){var e=performance.getEntries().filter(function(x){return x.nextHopProtocol!==undefined});var c={};e.forEach(function(x){c[x.nextHopProtocol]=(c[x.nextHopProtocol]||0)+1});document.getElementById("result").textContent="RESULT "+JSON.stringify(c)+" total="+e.length;});</script></body></html>'
} > "$SITE/index.html"
echo 'body{color:#333}' > "$SITE/style.css"
echo 'window.appLoaded=1;' > "$SITE/app.js"
for i in $(seq 1 60); do
  echo "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"4\" height=\"4\"><rect width=\"4\" height=\"$((i % 4 + 1))\"/></svg>" > "$SITE/img/i$i.svg"
done
printf '%s' "$X1K" > "$SITE/small.txt"
head -c $MiB10 /dev/zero | tr '\0' x > "$SITE/10m.bin"
ASSETS=62   # style.css + app.js + 60 images

# ------------------------------------------------------------------ helpers
freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() { # PORT
  for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
start() { # NAME PORT CMD... : starts a server in the background, logs to $W/NAME.log
  local name=$1 port=$2; shift 2
  "$@" > "$W/$name.log" 2>&1 &
  LASTPID=$!
  PIDS+=("$LASTPID")
  waitport "$port" || echo "warning: $name did not open port $port"
}
sha() { sha256sum | cut -d' ' -f1; }

RESULTS=()
FAILS=0
record() { # STATUS PEER DIR SCENARIO DETAIL
  RESULTS+=("$1|$2|$3|$4|$5")
  [[ $1 == FAIL ]] && FAILS=$((FAILS + 1))
  printf '%-5s %-22s %-8s %-16s %s\n' "$1" "$2" "$3" "$4" "$5"
}
na() { record n/a "$@"; }
# cell PEER DIR SCENARIO FUNC ARGS...: FUNC returns 0 for PASS; it sets DETAIL either way.
cell() {
  local peer=$1 dir=$2 scen=$3; shift 3
  DETAIL=""
  if "$@"; then record PASS "$peer" "$dir" "$scen" "$DETAIL"; else record FAIL "$peer" "$dir" "$scen" "$DETAIL"; fi
}
expect_eq() { # GOT WANT WHAT
  if [[ "$1" == "$2" ]]; then DETAIL="$3 ok"; return 0; fi
  DETAIL="$3: got '${1:0:160}', want '${2:0:80}'"; return 1
}
TO="timeout 60"

# ------------------------------------------------------------------ our servers
P_TLS=$(freeport); start serve-tls "$P_TLS" "$H2P" serve --listen 127.0.0.1:$P_TLS
P_H2C=$(freeport); start serve-h2c "$P_H2C" "$H2P" serve --h2c --listen 127.0.0.1:$P_H2C
P_SITE=$(freeport); start serve-site "$P_SITE" "$H2P" serve "$SITE" --push --listen 127.0.0.1:$P_SITE
P_SITEC=$(freeport); start serve-site-h2c "$P_SITEC" "$H2P" serve "$SITE" --h2c --push --listen 127.0.0.1:$P_SITEC
P_NOPUSH=$(freeport); start serve-site-nopush "$P_NOPUSH" "$H2P" serve "$SITE" --listen 127.0.0.1:$P_NOPUSH
S=https://127.0.0.1:$P_TLS
C=http://127.0.0.1:$P_H2C

# A graceful-GOAWAY cell: start a fresh server, run the client in the background, and once the
# transfer is under way (the client printed "started" on stderr, or FILE has bytes) SIGINT the
# server: it sends GOAWAY and gives in-flight streams 10 s. Then check the client's result.
# goaway_run H2C(0|1) FILE CHECKFUNC CLIENT-CMD... ({URL} is replaced by the server's origin)
goaway_run() {
  local h2c=$1 file=$2 check=$3; shift 3
  local port; port=$(freeport)
  local args=(serve --listen 127.0.0.1:$port) url=https://127.0.0.1:$port
  [[ $h2c == 1 ]] && { args+=(--h2c); url=http://127.0.0.1:$port; }
  "$H2P" "${args[@]}" > "$W/goaway-$port.log" 2>&1 &
  local spid=$!
  PIDS+=("$spid")
  waitport "$port"
  local cmd=("${@//\{URL\}/$url}")
  local err=$W/goaway-client-$port.err
  $TO "${cmd[@]}" > "$W/goaway-client-$port.out" 2> "$err" &
  local cpid=$!
  local waited=0
  until grep -q '^started' "$err" 2>/dev/null || [[ -s "$file" ]]; do
    sleep 0.05; waited=$((waited + 1))
    [[ $waited -gt 400 ]] && { DETAIL="transfer did not start within 20 s"; kill "$spid" "$cpid"; return 1; }
  done
  kill -INT "$spid"
  wait "$cpid"; local rc=$?
  wait "$spid"; local src=$?
  local out; out=$(cat "$W/goaway-client-$port.out")
  if ! grep -q 'shutting down (GOAWAY)' "$W/goaway-$port.log"; then DETAIL="server did not start a graceful shutdown"; return 1; fi
  if [[ $rc != 0 ]]; then DETAIL="client exit $rc: $(tail -c 200 "$W/goaway-client-$port.err") $out"; return 1; fi
  "$check" "$out" || return 1
  DETAIL="$DETAIL; SIGINT once the transfer was under way, in-flight stream completed, server exit $src"
}

# ================================================================== their clients -> our server
echo "== their clients -> h2proto serve"
DIRN="->ours"

# ---- curl
c_curl_small_tls() { expect_eq "$($TO curl -k --http2 "$S/" -s -o /dev/null -w '%{http_version} %{http_code}')" "2 200" "TLS ALPN h2, 200"; }
c_curl_small_h2c() { expect_eq "$($TO curl --http2-prior-knowledge "$C/" -s -o /dev/null -w '%{http_version} %{http_code}')" "2 200" "h2c prior knowledge, 200"; }
c_curl_upgrade() { expect_eq "$($TO curl --http2 "$C/" -s -o /dev/null -w '%{http_version} %{http_code}')" "2 200" "Upgrade: h2c -> HTTP/2, 200"; }
c_curl_upgrade_post() { # Upgrade: h2c on a POST with a 100 kB body (bodies over 1 MiB are answered 505 by design)
  head -c 100000 "$W/up.bin" > "$W/up100k.bin"
  local out; out=$($TO curl --http2 --data-binary @"$W/up100k.bin" "$C/echo" -s -o "$W/up100k.echo" -w '%{http_version} %{http_code}')
  expect_eq "$out $(sha < "$W/up100k.echo")" "2 200 $(sha < "$W/up100k.bin")" "POST 100 kB with Upgrade: h2c, echoed on stream 1"
}
c_curl_down() { expect_eq "$($TO curl -sk --http2 "$S/bytes/$MiB10" | sha)" "$X10_SHA" "10 MiB sha256"; }
c_curl_up() { expect_eq "$($TO curl -sk --http2 --data-binary @"$W/up.bin" "$S/echo" | sha)" "$UP_SHA" "10 MiB /echo sha256"; }
c_curl_conc() {
  local args=() i
  for i in $(seq 1 100); do args+=("$S/bytes/1000" -o /dev/null); done
  local out; out=$($TO curl -sk --http2 --parallel --parallel-max 100 -w '%{http_code} %{num_connects}\n' "${args[@]}")
  local ok conns
  ok=$(grep -c '^200 ' <<<"$out"); conns=$(awk '{s+=$2} END {print s}' <<<"$out")
  expect_eq "$ok/$conns" "100/1" "100 x 200 over 1 connection (--parallel)"
}
goaway_curl_check() { expect_eq "$(sha < "$W/goaway-curl.bin")" "$X10_SHA" "10 MiB at 5 MB/s sha256"; }
c_curl_goaway() { goaway_run 0 "$W/goaway-curl.bin" goaway_curl_check curl -sk --http2 --limit-rate 5M -o "$W/goaway-curl.bin" "{URL}/bytes/$MiB10"; }
cell curl $DIRN small-get c_curl_small_tls
cell curl $DIRN small-get-h2c c_curl_small_h2c
cell curl $DIRN upgrade-h2c c_curl_upgrade
cell curl $DIRN upgrade-h2c-post c_curl_upgrade_post
cell curl $DIRN download-10M c_curl_down
cell curl $DIRN upload-10M c_curl_up
cell curl $DIRN 100-streams c_curl_conc
na curl $DIRN trailers "curl cannot send request trailers (our server only echoes trailers on /echo)"
na curl $DIRN push "curl's command line does not accept pushes"
cell curl $DIRN goaway c_curl_goaway
goaway_curl_check_c() { expect_eq "$(sha < "$W/goaway-curl-c.bin")" "$X10_SHA" "10 MiB at 5 MB/s sha256"; }
c_curl_goaway_c() { goaway_run 1 "$W/goaway-curl-c.bin" goaway_curl_check_c curl -s --http2-prior-knowledge --limit-rate 5M -o "$W/goaway-curl-c.bin" "{URL}/bytes/$MiB10"; }
cell curl $DIRN goaway-h2c c_curl_goaway_c

# ---- nghttp
c_ng_small() { # URL
  local out; out=$($TO nghttp -v "$1" 2>&1)
  if grep -q ':status: 200' <<<"$out" && grep -q 'Hello from h2proto' <<<"$out"; then DETAIL="200 + page"; return 0; fi
  DETAIL="$(tail -c 200 <<<"$out")"; return 1
}
c_ng_assets() { # URL
  local out; out=$($TO nghttp -a -n -s "$1" 2>&1)
  # stats rows: id responseEnd ['*' if pushed] requestStart process code size path
  local n; n=$(awk '$1 ~ /^[0-9]+$/ && $2 ~ /^\+/ && (($3 == "*") ? $6 : $5) == 200' <<<"$out" | wc -l)
  local pushed; pushed=$(awk '$1 ~ /^[0-9]+$/ && $2 ~ /^\+/ && $3 == "*" && $6 == 200' <<<"$out" | wc -l)
  DETAIL="$n responses with 200 ($pushed pushed)"
  [[ $n -eq $((ASSETS + 1)) ]]
}
c_ng_push() { # URL
  local out; out=$($TO nghttp -v -n "$1/" 2>&1)
  local pp; pp=$(grep -c 'recv PUSH_PROMISE' <<<"$out")
  local errs; errs=$(grep -cE 'RST_STREAM|GOAWAY.*error_code=[1-9]|PROTOCOL_ERROR' <<<"$out")
  DETAIL="$pp PUSH_PROMISEs received, $errs errors"
  [[ $pp -eq $ASSETS && $errs -eq 0 ]]
}
c_ng_down() { expect_eq "$($TO nghttp "$S/bytes/$MiB10" | sha)" "$X10_SHA" "10 MiB sha256"; }
c_ng_up() { expect_eq "$($TO nghttp -d "$W/up.bin" "$S/echo" | sha)" "$UP_SHA" "10 MiB /echo sha256"; }
c_ng_conc() {
  local out; out=$($TO nghttp -n -s -m 100 "$S/bytes/1000" 2>&1)
  local n; n=$(awk '$1 ~ /^[0-9]+$/ && $2 ~ /^\+/ && $5 == 200 && $6 == 1000' <<<"$out" | wc -l)
  expect_eq "$n" 100 "nghttp -m 100 (one connection): 200 responses of 1000 bytes"
}
cell nghttp $DIRN small-get c_ng_small "$S/"
cell nghttp $DIRN small-get-h2c c_ng_small "$C/"
c_ng_upgrade() {
  local out; out=$($TO nghttp -u -v "$C/" 2>&1)
  if grep -q 'HTTP Upgrade success' <<<"$out" && grep -q ':status: 200' <<<"$out"; then DETAIL="nghttp -u: 101, then 200 over h2c"; return 0; fi
  DETAIL="$(tail -c 200 <<<"$out")"; return 1
}
cell nghttp $DIRN upgrade-h2c c_ng_upgrade
cell nghttp $DIRN assets-a c_ng_assets "https://127.0.0.1:$P_NOPUSH/"
cell nghttp $DIRN assets-a-h2c c_ng_assets "http://127.0.0.1:$P_SITEC/"
cell nghttp $DIRN assets-a-push c_ng_assets "https://127.0.0.1:$P_SITE/"
cell nghttp $DIRN download-10M c_ng_down
cell nghttp $DIRN upload-10M c_ng_up
cell nghttp $DIRN 100-streams c_ng_conc
c_ng_tiny() { # nghttp advertising 1 KiB stream / 4 KiB connection windows: our sender must respect them
  head -c 1000000 "$W/up.bin" > "$W/up1m.bin"
  local d u
  d=$($TO nghttp -w 10 -W 12 "$S/bytes/1000000" | wc -c)
  u=$($TO nghttp -w 10 -W 12 -d "$W/up1m.bin" "$S/echo" | sha)
  expect_eq "$d $u" "1000000 $(sha < "$W/up1m.bin")" "-w 10 -W 12: 1 MB download + 1 MB echo"
}
cell nghttp $DIRN tiny-windows c_ng_tiny
na nghttp $DIRN trailers "nghttp cannot send request trailers"
cell nghttp $DIRN push c_ng_push "https://127.0.0.1:$P_SITE"
cell nghttp $DIRN push-h2c c_ng_push "http://127.0.0.1:$P_SITEC"
na nghttp $DIRN goaway "nghttp has no rate limit, loopback transfers end before a signal; covered by curl/node/go"

# ---- h2load
c_h2load() { # DETAIL-PREFIX ARGS...
  local what=$1; shift
  local out; out=$($TO h2load "$@" 2>&1)
  local line; line=$(grep -E '^requests:' <<<"$out")
  local n=${*: -2:1}
  DETAIL="$what: $line"
  grep -qE "requests: ([0-9]+) total, \1 started, \1 done, \1 succeeded, 0 failed, 0 errored, 0 timeout" <<<"$line" \
    && grep -qE 'status codes: [0-9]+ 2xx, 0 3xx, 0 4xx, 0 5xx' <<<"$out"
}
cell h2load $DIRN small-get c_h2load "TLS -n5000 -c8 -m10" -n 5000 -c 8 -m 10 "$S/"
cell h2load $DIRN small-get-h2c c_h2load "h2c -n5000 -c8 -m10" -n 5000 -c 8 -m 10 "$C/"
cell h2load $DIRN 100-streams c_h2load "-c1 -m100 -n3000" -n 3000 -c 1 -m 100 "$S/bytes/1000"
cell h2load $DIRN download-10M c_h2load "-n20 -c2 -m10 of 10 MiB (no checksum)" -n 20 -c 2 -m 10 "$S/bytes/$MiB10"
cell h2load $DIRN upload-10M c_h2load "-n10 -c1 -m5 -d 10 MiB to /echo (no checksum)" -n 10 -c 1 -m 5 -d "$W/up.bin" "$S/echo"
na h2load $DIRN trailers "h2load cannot send trailers"
na h2load $DIRN push "h2load does not accept pushes"
na h2load $DIRN goaway "load tool; GOAWAY covered by curl/node/go"

# ---- httpx
c_httpx() { # WHAT FIELD-CHECK ARGS...
  local what=$1 want=$2; shift 2
  local out; out=$($TO "$PY" "$HERE/py/httpx_client.py" "$@" 2>&1 | tail -1)
  DETAIL="$what: $out"
  grep -qF "$want" <<<"$out"
}
cell httpx $DIRN small-get c_httpx "TLS verify=False" '"version": "HTTP/2", "status": 200' get "$S/"
cell httpx $DIRN small-get-h2c c_httpx "h2c prior knowledge (http1=False)" '"version": "HTTP/2", "status": 200' get "$C/"
cell httpx $DIRN download-10M c_httpx "sha256" "\"sha256\": \"$X10_SHA\"" get "$S/bytes/$MiB10"
cell httpx $DIRN upload-10M c_httpx "/echo sha256" "\"sha256\": \"$UP_SHA\"" post "$S/echo" "$W/up.bin"
cell httpx $DIRN 100-streams c_httpx "asyncio.gather of 100 on one AsyncClient" '"n": 100, "ok": 100, "h2": 100, "len": 100000' concurrent "$S/bytes/1000" 100
na httpx $DIRN trailers "httpx has no API for request or response trailers"
na httpx $DIRN push "httpx disables server push (SETTINGS_ENABLE_PUSH=0)"
na httpx $DIRN goaway "httpx uploads from memory at full speed; covered by curl/node/go"

# ---- node http2 client
NODEV=$(node --version)
c_node() { # WHAT WANT ARGS...
  local what=$1 want=$2; shift 2
  local out; out=$($TO node "$HERE/node/client.js" "$@" 2>&1 | tail -1)
  DETAIL="$what: ${out:0:200}"
  grep -qF "$want" <<<"$out"
}
cell node $DIRN small-get c_node "TLS" '"status":200' get "$S/"
cell node $DIRN small-get-h2c c_node "h2c" '"status":200' get "$C/"
cell node $DIRN download-10M c_node "sha256" "\"sha256\":\"$X10_SHA\"" get "$S/bytes/$MiB10"
cell node $DIRN upload-10M c_node "/echo sha256" "\"sha256\":\"$UP_SHA\"" post "$S/echo" "$W/up.bin"
cell node $DIRN 100-streams c_node "100 requests on one session" '"n":100,"ok":100,"len":100000' concurrent "$S/bytes/1000" 100
cell node $DIRN trailers c_node "request trailers echoed back as response trailers by /echo" '"trailers":{"x-req-checksum":"a9f1bf448a5fe4f864e261c1a35e22dbe0021478254e5b3920a0ca0daab520a4"}' trailers "$S/echo"
na node $DIRN push "node client push is exercised by nghttp (node test client does not request pushes)"
goaway_node_check() { DETAIL="${1:0:200}"; grep -q '"status":200' <<<"$1" && grep -q '"goaway":{"code":0' <<<"$1" && grep -q "\"sha256\":\"$(head -c 1048576 "$W/up.bin" | sha)\"" <<<"$1"; }
c_node_goaway() { goaway_run 0 /nonexistent goaway_node_check node "$HERE/node/client.js" slowpost "{URL}/echo" "$W/up.bin"; }
cell node $DIRN goaway c_node_goaway

# ---- Go net/http client
GOV=$(go version | awk '{print $3}')
c_go() { # WHAT WANT ARGS...
  local what=$1 want=$2; shift 2
  local out; out=$($TO "$W/goclient" "$@" 2>&1 | tail -1)
  DETAIL="$what: ${out:0:200}"
  grep -qF "$want" <<<"$out"
}
cell go $DIRN small-get c_go "resp.Proto" "proto=HTTP/2.0 status=200" get "$S/"
na go $DIRN small-get-h2c "Go 1.19 net/http has no h2c client without golang.org/x/net (stdlib only)"
cell go $DIRN download-10M c_go "sha256" "proto=HTTP/2.0 status=200 len=$MiB10 sha256=$X10_SHA" get "$S/bytes/$MiB10"
cell go $DIRN upload-10M c_go "/echo sha256" "proto=HTTP/2.0 status=200 len=$MiB10 sha256=$UP_SHA" post "$S/echo" "$W/up.bin"
cell go $DIRN 100-streams c_go "100 goroutines on one Transport" "n=100 ok=100 h2=100" concurrent "$S/bytes/1000" 100
cell go $DIRN trailers c_go "request trailer echoed as response trailer" "trailer:X-Req-Checksum=a9f1bf448a5fe4f864e261c1a35e22dbe0021478254e5b3920a0ca0daab520a4" trailers "$S/echo"
na go $DIRN push "Go's http.Client does not support server push"
goaway_go_check() { DETAIL="${1:0:200}"; grep -q "proto=HTTP/2.0 status=200 len=1048576 sha256=$(head -c 1048576 "$W/up.bin" | sha)" <<<"$1"; }
c_go_goaway() { goaway_run 0 /nonexistent goaway_go_check "$W/goclient" slowpost "{URL}/echo" "$W/up.bin"; }
cell go $DIRN goaway c_go_goaway

# ---- headless Chromium
CHROME=$(command -v chromium || command -v chromium-browser || true)
c_chromium() {
  local prof; prof=$(mktemp -d "$W/chrome.XXXXXX")
  local out; out=$($TO "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --ignore-certificate-errors --user-data-dir="$prof" --virtual-time-budget=10000 \
    --dump-dom "$1" 2>"$W/chrome.err" | grep -o 'RESULT [^<]*')
  DETAIL="nextHopProtocol: ${out#RESULT }"
  grep -qE "^RESULT \{\"h2\":$((ASSETS + 1))\} total=$((ASSETS + 1))$" <<<"$out"
}
if [[ -n "$CHROME" && "${INTEROP_CHROMIUM:-1}" != 0 ]]; then
  cell chromium $DIRN page-63-resources c_chromium "https://127.0.0.1:$P_NOPUSH/"
  cell chromium $DIRN page-with-push c_chromium "https://127.0.0.1:$P_SITE/"
else
  na chromium $DIRN page-63-resources "chromium not installed or INTEROP_CHROMIUM=0"
fi
na chromium $DIRN other "Chromium only speaks h2 over TLS; uploads/trailers/GOAWAY not scriptable via --dump-dom"

# ================================================================== our client -> their servers
echo "== h2proto get -> their servers"
DIRN="ours->"
G() { $TO "$H2P" get "$@"; }

# a generic set of cells against a server that has /, /bytes/N, /echo, /trailers
# g_small URL WANT
g_small() { local out; out=$(G -k "${@:2}" "$1" 2>&1); DETAIL="$(grep -F "$GREP" <<<"$out" | head -1 | cut -c1-100)"; [[ -n "$DETAIL" ]] || { DETAIL="${out:0:200}"; return 1; }; }
g_down() { expect_eq "$(G -k "${@:2}" "$1" | sha)" "$X10_SHA" "10 MiB sha256"; }
g_up() { expect_eq "$(G -k "${@:2}" -d @"$W/up.bin" "$1" | sha)" "$UP_SHA" "10 MiB echo sha256"; }
g_conc() { # URL(1000 bytes) [flags]: 100 URLs on one connection
  local urls=() i
  for i in $(seq 1 100); do urls+=("$1"); done
  G -k -v "${@:2}" "${urls[@]}" > "$W/conc.out" 2> "$W/conc.err"
  local rc=$?
  local maxid; maxid=$(grep -oE 'send HEADERS frame <[^>]*stream_id=[0-9]+' "$W/conc.err" | grep -oE '[0-9]+$' | sort -n | tail -1)
  local settings; settings=$(grep -c 'recv SETTINGS frame <[^>]*flags=0x00' "$W/conc.err")
  local bytes; bytes=$(wc -c < "$W/conc.out")
  expect_eq "rc=$rc bytes=$bytes maxid=$maxid conns=$settings" "rc=0 bytes=100000 maxid=199 conns=1" "100 requests, one connection"
}
g_trailers() { # URL NAME [flags]
  local out; out=$(G -k -v "${@:3}" "$1" 2>&1)
  # trailers: a HEADERS frame with END_STREAM after a DATA frame, carrying NAME
  local tr; tr=$(awk '/recv DATA frame/ {d=1} d && /recv HEADERS frame/ {t=1} t {print}' <<<"$out" | grep -i "^ *$2:")
  DETAIL="trailer seen: $(echo $tr)"
  [[ -n "$tr" ]]
}
g_push() { # URL [flags]
  local out; out=$(G -k "${@:2}" "$1" 2>&1 >/dev/null)
  DETAIL="$(grep pushed: <<<"$out" | head -3 | tr '\n' ' ')"
  grep -q 'pushed: GET .*style.css -> 200' <<<"$out"
}
g_goaway() { # URL [flags]
  local out; out=$(G -k -v "${@:2}" "$1" 2>"$W/gga.err" | sha)
  local ga; ga=$(grep -A1 'recv GOAWAY' "$W/gga.err" | tail -1 | sed 's/^ *//')
  DETAIL="recv GOAWAY:${ga}"
  [[ -n "$ga" ]] || { DETAIL="no GOAWAY received"; return 1; }
  expect_eq "$out" "$X10_SHA" "GOAWAY $ga mid-transfer, 10 MiB sha256" || { DETAIL="$DETAIL; $(grep -v '^ ' "$W/gga.err" | grep -v frame | tail -2)"; return 1; }
}

# ---- nghttpd (serves $SITE; -p push; --trailer)
P_NGD=$(freeport); start nghttpd-tls "$P_NGD" nghttpd -p/index.html=/style.css,/app.js --trailer 'x-trailer: nghttpd' -d "$SITE" "$P_NGD" "$W/key.pem" "$W/cert.pem"
P_NGDC=$(freeport); start nghttpd-h2c "$P_NGDC" nghttpd --no-tls -p/index.html=/style.css,/app.js --trailer 'x-trailer: nghttpd' -d "$SITE" "$P_NGDC"
N=https://127.0.0.1:$P_NGD
NC=http://127.0.0.1:$P_NGDC
GREP="<title>interop</title>"
cell nghttpd $DIRN small-get g_small "$N/index.html"
cell nghttpd $DIRN small-get-h2c g_small "$NC/index.html" --h2c
cell nghttpd $DIRN download-10M g_down "$N/10m.bin"
cell nghttpd $DIRN download-10M-h2c g_down "$NC/10m.bin" --h2c
g_up_ng() { local out; out=$(G -k "${@:2}" -d @"$W/up.bin" "$1" | sha); expect_eq "$out" "$(sha < "$SITE/small.txt")" "10 MiB POST accepted, 200 (nghttpd discards bodies: no echo)"; }
cell nghttpd $DIRN upload-10M g_up_ng "$N/small.txt"
cell nghttpd $DIRN 100-streams g_conc "$N/small.txt"
cell nghttpd $DIRN 100-streams-h2c g_conc "$NC/small.txt" --h2c
cell nghttpd $DIRN trailers g_trailers "$N/small.txt" x-trailer
g_push_ng() { local out; out=$(G -k "${@:2}" "$1" 2>&1 >/dev/null); DETAIL="$(grep pushed: <<<"$out" | tr '\n' ' ')"; [[ $(grep -c 'pushed: GET .* -> 200' <<<"$out") -eq 2 ]]; }
cell nghttpd $DIRN push g_push_ng "$N/index.html"
cell nghttpd $DIRN push-h2c g_push_ng "$NC/index.html" --h2c
# -W 12: nghttpd hands out connection credit 4095 bytes at a time. (Not -w 10: nghttpd then
# resets streams whose first 64 KiB, legally sent before its SETTINGS arrived, exceed the new
# window once our SETTINGS ACK lands -- it does that to node's and nghttp's uploads too.)
P_NGDW=$(freeport); start nghttpd-tiny "$P_NGDW" nghttpd -W 12 -d "$SITE" "$P_NGDW" "$W/key.pem" "$W/cert.pem"
g_tiny() { # our 1 MB upload must live on nghttpd's 4 KiB connection-window updates
  local out; out=$(G -k -d @"$W/up1m.bin" "$1" | sha)
  expect_eq "$out" "$(sha < "$SITE/small.txt")" "-W 12: 1 MB POST accepted"
}
cell nghttpd $DIRN tiny-windows g_tiny "https://127.0.0.1:$P_NGDW/small.txt"
na nghttpd $DIRN goaway "nghttpd has no graceful-shutdown trigger (signals end it at once)"

# ---- node http2 server (TLS and h2c)
P_NODE=$(freeport); start node-tls "$P_NODE" node "$HERE/node/server.js" "$P_NODE" "$W/cert.pem" "$W/key.pem"
P_NODEC=$(freeport); start node-h2c "$P_NODEC" node "$HERE/node/server.js" "$P_NODEC"
NO=https://127.0.0.1:$P_NODE
NOC=http://127.0.0.1:$P_NODEC
GREP="hello from node"
cell node-server $DIRN small-get g_small "$NO/"
cell node-server $DIRN small-get-h2c g_small "$NOC/" --h2c
cell node-server $DIRN download-10M g_down "$NO/bytes/$MiB10"
cell node-server $DIRN upload-10M g_up "$NO/echo"
cell node-server $DIRN upload-10M-h2c g_up "$NOC/echo" --h2c
cell node-server $DIRN 100-streams g_conc "$NO/bytes/1000"
cell node-server $DIRN trailers g_trailers "$NO/trailers" x-checksum
cell node-server $DIRN push g_push "$NO/push"
cell node-server $DIRN goaway g_goaway "$NO/goaway/$MiB10"
cell node-server $DIRN goaway-h2c g_goaway "$NOC/goaway/$MiB10" --h2c

# ---- Go net/http server (TLS; self-signed certificate made by the program)
P_GO=$(freeport); start go-server "$P_GO" "$W/goserver" "$P_GO"
GS=https://127.0.0.1:$P_GO
GREP="hello from go"
cell go-server $DIRN small-get g_small "$GS/"
na go-server $DIRN small-get-h2c "Go 1.19 net/http serves h2c only with golang.org/x/net (stdlib only)"
cell go-server $DIRN download-10M g_down "$GS/bytes/$MiB10"
cell go-server $DIRN upload-10M g_up "$GS/echo"
cell go-server $DIRN 100-streams g_conc "$GS/bytes/1000"
cell go-server $DIRN trailers g_trailers "$GS/trailers" x-checksum
cell go-server $DIRN push g_push "$GS/push"
cell go-server $DIRN goaway g_goaway "$GS/goaway/$MiB10"

# ---- hypercorn (TLS, tiny ASGI app)
P_HC=$(freeport); start hypercorn "$P_HC" env PYTHONPATH="$HERE/py" "$PY" -m hypercorn --certfile "$W/cert.pem" --keyfile "$W/key.pem" -b 127.0.0.1:$P_HC app:app
P_HCC=$(freeport); start hypercorn-h2c "$P_HCC" env PYTHONPATH="$HERE/py" "$PY" -m hypercorn -b 127.0.0.1:$P_HCC app:app
HC=https://127.0.0.1:$P_HC
HCC=http://127.0.0.1:$P_HCC
GREP="hello from hypercorn"
cell hypercorn $DIRN small-get g_small "$HC/"
cell hypercorn $DIRN small-get-h2c g_small "$HCC/" --h2c
cell hypercorn $DIRN download-10M g_down "$HC/bytes/$MiB10"
cell hypercorn $DIRN upload-10M g_up "$HC/echo"
cell hypercorn $DIRN 100-streams g_conc "$HC/bytes/1000"
cell hypercorn $DIRN trailers g_trailers "$HC/trailers" x-checksum -H 'te: trailers'
cell hypercorn $DIRN push g_push "$HC/push"
na hypercorn $DIRN goaway "hypercorn sends GOAWAY on SIGTERM only after in-flight requests end (not during a transfer); covered by node/go"

# ================================================================== matrix
T1=$(date +%s)
echo
echo "== versions"
echo "h2proto: $("$H2P" --version 2>/dev/null)"
echo "curl: $(curl --version | head -1 | awk '{print $2}') ($(curl --version | head -1 | grep -o 'nghttp2/[0-9.]*'))"
echo "nghttp2: $(nghttp --version | head -1)"
echo "node: $NODEV; go: $GOV; python: $("$PY" --version 2>&1); $("$PY" -c 'import httpx,h2,hypercorn,importlib.metadata as m; print("httpx", httpx.__version__, "h2", h2.__version__, "hypercorn", m.version("hypercorn"))')"
[[ -n "$CHROME" ]] && echo "chromium: $("$CHROME" --version 2>/dev/null)"
echo
echo "== matrix ($(( ${#RESULTS[@]} )) cells, $FAILS FAIL, $((T1 - T0)) s)"
{
  printf '| %-12s | %-7s | %-18s | %-6s | %s |\n' peer dir scenario result detail
  printf '|--------------|---------|--------------------|--------|--------|\n'
  for r in "${RESULTS[@]}"; do
    IFS='|' read -r st peer dir scen det <<<"$r"
    printf '| %-12s | %-7s | %-18s | %-6s | %s |\n' "$peer" "$dir" "$scen" "$st" "$det"
  done
} | tee "${INTEROP_MATRIX_MD:-/dev/null}"
[[ $FAILS -eq 0 ]]
