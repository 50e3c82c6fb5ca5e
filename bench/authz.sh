#!/usr/bin/env bash
# bench/authz.sh - the release inbox: one general member listing its newest
# 50 visible releases out of 1,000,000 across 5,000 organisations with
# mixed audiences (goal: p99 under 20 ms on 2 cores).
# 1. bench/authz.c through the store and auth layers: page 1, page 2 and
#    page 1 on 2 threads, p50/p99/max and listings/s. The data dir (~5 GB)
#    is generated once into var/bench-authz (about 2 minutes) and reused;
#    FRESH=1 regenerates it.
# 2. GET /api/v1/releases?limit=50 over HTTP with wrk (2 threads, 2
#    connections, one reader's token), if the endpoint answers 200.
# Usage: bench/authz.sh [build-dir]; env LISTINGS (2000), RELEASES (1000000),
# ORGS (5000), FRESH, BENCH_DURATION (10s).
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
bin=$b/isac
authz=$b/authz
dur=${BENCH_DURATION:-10s}
args=(--orgs "${ORGS:-5000}" --releases "${RELEASES:-1000000}")

"$authz" "${args[@]}" --listings "${LISTINGS:-2000}" ${FRESH:+--fresh}

command -v wrk >/dev/null || { echo "HTTP inbox: skipped (wrk is missing)"; exit 0; }
data=$("$authz" "${args[@]}" --print-dir)
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# The daemon appends to the cached data dir (this token, audit entries):
# neither changes what the inbox lists.
login=$("$authz" "${args[@]}" --pick-login)
token=$("$bin" token create --data "$data" --user "$login" --name bench-authz --days 1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port/api/v1/releases?limit=50"
"$bin" serve --data "$data" --listen "127.0.0.1:$port" 2>"$tmp/log" &
pid=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $token" "$url" || true)
if [ "$code" != 200 ]; then
    echo "HTTP inbox: skipped (GET /api/v1/releases?limit=50 answered $code)"
    exit 0
fi
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$tmp/body")
wrk -t2 -c2 -d2s -H "Authorization: Bearer $token" "$url" >/dev/null   # warm-up
wrk -t2 -c2 -d"$dur" --latency -H "Authorization: Bearer $token" "$url" >"$tmp/wrk.txt"
rps=$(awk '/Requests\/sec/{print $2}' "$tmp/wrk.txt")
p50=$(awk '$1=="50%"{print $2}' "$tmp/wrk.txt")
p99=$(awk '$1=="99%"{print $2}' "$tmp/wrk.txt")
echo "HTTP GET /api/v1/releases?limit=50 ($n items, user $login, wrk -t2 -c2 -d$dur, loopback): p50 $p50, p99 $p99, $rps requests/s"
errors=$(grep -E 'Non-2xx|Socket errors' "$tmp/wrk.txt" || true)
[ -z "$errors" ] || echo "  wrk reported: $errors"
