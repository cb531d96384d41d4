#!/usr/bin/env bash
# Server throughput benchmark: h2proto serve vs nghttpd vs a hyper 1.x anchor, driven by h2load.
#
#   bash bench/run.sh                  # full run (3 rounds), writes BENCHMARKS.md's section
#   QUICK=1 bash bench/run.sh          # n divided by 10 (SCALE_QUICK), 1 round, BENCHMARKS.md untouched
#
# Environment:
#   RUNS=3        rounds; each round runs every scenario on every server, interleaved
#   SCALE=1       divide every scenario's -n by this (quick runs)
#   WRITE=1       write the "## Server throughput (h2load)" section of BENCHMARKS.md (0: print only)
#   MEMORY=1      then run bench/scale.py (memory and scale: idle connections, bytes per open
#                 stream, RSS after close, the fd limit) and write its section too (0: skip)
#   SERVERS="nghttpd h2proto hyper"
#   PORT=18400    first port (loopback only)
#   H2PROTO_BIN   the h2proto binary to serve with (default: this tree's release build)
#
# Scenarios: S1-S4 are cleartext h2c (prior knowledge); S6 is S1 over TLS (https://, h2 by ALPN)
# against a self-signed P-256 certificate generated for each harness run with openssl:
# `nghttpd KEY CERT` (no --no-tls), `h2proto serve --cert --key` (no --h2c),
# `hyper-anchor --tls CERT KEY` (tokio-rustls, ring).
#
# Every server runs on one core (nghttpd -n 1, h2proto --threads 1, hyper current_thread), fresh
# for each measurement, h2load with -t 1. On a 2-core machine client and server each get a core,
# so a run where the server used less than 0.95 core was limited by something else (the client,
# or other load on the machine): such runs are flagged and left out of the medians when at least
# one run of that cell is clean.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
SCALE=${SCALE:-1}
WRITE=${WRITE:-1}
MEMORY=${MEMORY:-1}
PORT=${PORT:-18400}
SERVERS=${SERVERS:-"nghttpd h2proto hyper"}
if [[ "${QUICK:-0}" == 1 ]]; then
    RUNS=1
    SCALE=${SCALE_QUICK:-10}
    WRITE=0
fi

command -v h2load >/dev/null || { echo "needs h2load (apt-get install nghttp2-client)" >&2; exit 1; }
command -v nghttpd >/dev/null || { echo "needs nghttpd (apt-get install nghttp2-server)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "needs openssl (for S6's certificate)" >&2; exit 1; }

echo "== building (release)" >&2
(cd "$ROOT" && cargo build --release -p h2proto-cli >&2)
(cd "$ROOT/bench/hyper-anchor" && cargo build --release >&2)
# H2PROTO_BIN: another build of the binary (say, of an older commit) for before/after figures.
H2PROTO=${H2PROTO_BIN:-"$ROOT/target/release/h2proto"}
HYPER="$ROOT/bench/hyper-anchor/target/release/hyper-anchor"

WORK=$(mktemp -d /tmp/h2bench.XXXXXX)
DOCS="$WORK/docs"
mkdir -p "$DOCS"
head -c $((1 << 20)) /dev/urandom >"$DOCS/1m"
# `h2proto serve DIR` and nghttpd answer `/` with DIR/index.html.
printf '<!DOCTYPE html>\n<html><head><title>bench</title></head>\n<body><h1>Hello</h1></body></html>\n' >"$DOCS/index.html"
# S6 (TLS): one self-signed certificate per harness run (P-256; RSA 2048 if EC keys fail).
CERT="$WORK/cert.pem"
KEY="$WORK/key.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -keyout "$KEY" -out "$CERT" >/dev/null 2>&1 ||
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 \
        -subj /CN=localhost -keyout "$KEY" -out "$CERT" >/dev/null 2>&1 ||
    { echo "openssl could not generate a certificate" >&2; exit 1; }
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

CLK_TCK=$(getconf CLK_TCK)

n_of() { echo $(( $1 / SCALE > 0 ? $1 / SCALE : 1 )); }

# name  -n  -c  -m  path  scheme (http: h2c prior knowledge; https: TLS, ALPN h2)
SCENARIOS=(
    "S1 $(n_of 200000) 10 100 / http"
    "S2 $(n_of 100000) 1 100 / http"
    "S3 $(n_of 100000) 200 10 / http"
    "S4 $(n_of 2000) 4 4 /1m http"
    "S6 $(n_of 200000) 10 100 / https"
)

start_server() { # server port scheme; sets SERVER_PID and PORT_USED (another port if taken)
    local server=$1 port=$2 scheme=$3 attempt
    for attempt in 1 2 3; do
        if try_start "$server" "$port" "$scheme"; then
            PORT_USED=$port
            return 0
        fi
        port=$((port + 1000 + RANDOM % 1000))
    done
    echo "server $server did not start" >&2
    exit 1
}

try_start() { # server port scheme
    local server=$1 port=$2 scheme=$3
    if [[ "$scheme" == https ]]; then
        case $server in
            nghttpd) nghttpd -n 1 -a 127.0.0.1 -d "$DOCS" "$port" "$KEY" "$CERT" >/dev/null 2>&1 & ;;
            h2proto) "$H2PROTO" serve "$DOCS" --quiet --threads 1 --listen "127.0.0.1:$port" \
                --cert "$CERT" --key "$KEY" >/dev/null 2>&1 & ;;
            hyper) "$HYPER" "127.0.0.1:$port" "$DOCS" --tls "$CERT" "$KEY" >/dev/null 2>&1 & ;;
        esac
    else
        case $server in
            nghttpd) nghttpd -n 1 --no-tls -a 127.0.0.1 -d "$DOCS" "$port" >/dev/null 2>&1 & ;;
            h2proto) "$H2PROTO" serve "$DOCS" --quiet --h2c --threads 1 --listen "127.0.0.1:$port" >/dev/null 2>&1 & ;;
            hyper) "$HYPER" "127.0.0.1:$port" "$DOCS" >/dev/null 2>&1 & ;;
        esac
    fi
    SERVER_PID=$!
    for _ in $(seq 100); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            SERVER_PID=""
            return 1 # exited at once: port in use
        fi
        if h2load -n 1 -c 1 "$scheme://127.0.0.1:$port/" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    stop_server
    return 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

cpu_ticks() { # utime + stime of a pid
    awk '{print $14 + $15}' "/proc/$1/stat"
}

rss_kib() {
    awk '/^VmRSS/ {print $2}' "/proc/$1/status"
}

# Latency strings like 272us / 9.32ms / 1.2s -> milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
        else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
        else print v }'
}

# One measurement: fresh server, warm-up, h2load, CPU and RSS, optionally `h2proto load` too.
measure() { # run scenario n c m path scheme server
    local run=$1 sc=$2 n=$3 c=$4 m=$5 path=$6 scheme=$7 server=$8
    local port=$((PORT + RANDOM % 1000))
    start_server "$server" "$port" "$scheme"
    local url="$scheme://127.0.0.1:$PORT_USED$path"
    local rss_idle
    rss_idle=$(rss_kib "$SERVER_PID")
    # Warm-up: a tenth of the scenario, same shape.
    h2load -n "$(( n / 10 > c ? n / 10 : c ))" -c "$c" -m "$m" -t 1 "$url" >/dev/null 2>&1 || true
    local t0 t1 c0 c1 out
    c0=$(cpu_ticks "$SERVER_PID")
    t0=$(date +%s.%N)
    out=$(h2load -n "$n" -c "$c" -m "$m" -t 1 "$url" 2>&1)
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$SERVER_PID")
    local rss_after
    rss_after=$(rss_kib "$SERVER_PID")
    local rps mbps failed maxlat cores
    rps=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
    mbps=$(sed -n 's/^finished in [^,]*, [^,]*, \(.*\)$/\1/p' <<<"$out")
    failed=$(sed -n 's/^requests: .* \([0-9]*\) failed.*/\1/p' <<<"$out")
    maxlat=$(to_ms "$(awk '/^time for request:/ {print $5}' <<<"$out")")
    cores=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
        'BEGIN { printf "%.2f", (b - a) / hz / (t1 - t0) }')
    # MB/s as printed (h2load: KB/MB/GB per second, 1024-based) -> MiB/s.
    local mib
    mib=$(awk -v v="$mbps" 'BEGIN {
        if (v ~ /GB\/s$/) { sub(/GB\/s$/, "", v); print v * 1024 }
        else if (v ~ /MB\/s$/) { sub(/MB\/s$/, "", v); print v + 0 }
        else if (v ~ /KB\/s$/) { sub(/KB\/s$/, "", v); print v / 1024 }
        else { sub(/B\/s$/, "", v); print v / 1048576 } }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$run" "$sc" "$server" "h2load" "$rps" "$mib" "$maxlat" "$cores" "$rss_idle" "$rss_after" "${failed:-?}" \
        >>"$RESULTS"
    echo "run $run $sc $server: $rps req/s, $mib MiB/s, max latency ${maxlat} ms, server ${cores} cores, RSS ${rss_idle}->${rss_after} KiB, failed ${failed:-?}" >&2
    if [[ "$sc" == S1 && "$server" != hyper ]]; then
        # The same scenario with our own load generator against the same (warm) server.
        local lout lrps
        lout=$("$ROOT/target/release/h2proto" load "$url" -n "$n" -c "$c" -m "$m" -t 1 2>&1 || true)
        lrps=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$lout")
        printf '%s\t%s\t%s\t%s\t%s\t\t\t\t\t\t\n' "$run" "$sc" "$server" "h2proto-load" "$lrps" >>"$RESULTS"
        echo "run $run $sc $server: h2proto load $lrps req/s" >&2
    fi
    stop_server
}

for run in $(seq "$RUNS"); do
    for scenario in "${SCENARIOS[@]}"; do
        read -r sc n c m path scheme <<<"$scenario"
        for server in $SERVERS; do
            measure "$run" "$sc" "$n" "$c" "$m" "$path" "$scheme" "$server"
        done
    done
done

cp "$RESULTS" "$ROOT/target/bench-results.tsv"
echo "raw results: $ROOT/target/bench-results.tsv" >&2
python3 "$ROOT/bench/report.py" "$ROOT/target/bench-results.tsv" "$RUNS" "$SCALE" \
    "$([[ "$WRITE" == 1 ]] && echo "$ROOT/BENCHMARKS.md" || echo -)"
rm -rf "$WORK"

# The memory-and-scale half of issue 7 (idle connections, bytes per stream, after-close RSS, the
# file-descriptor limit): bench/scale.py, same servers, its own section of BENCHMARKS.md.
if [[ "$MEMORY" == 1 ]]; then
    echo "== memory and scale (bench/scale.py)" >&2
    SCALE_ARGS=(--servers "$(echo "$SERVERS" | tr ' ' ',')")
    if [[ "${QUICK:-0}" == 1 ]]; then
        SCALE_ARGS+=(--conns 1000 --fd-limit 256)
    fi
    if [[ "$WRITE" == 1 ]]; then
        SCALE_ARGS+=(--write)
    fi
    EXTRA_MD="$ROOT/bench/scale-notes.md" H2PROTO_BIN="$H2PROTO" python3 "$ROOT/bench/scale.py" "${SCALE_ARGS[@]}"
fi
