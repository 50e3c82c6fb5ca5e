#!/usr/bin/env bash
# bench/ingest.sh - sustained report submission (bench/ingest.c) against the
# release build, then the same under kill -9 with verification that every
# acknowledged report survived.
# Usage: bench/ingest.sh [build-dir] ; env CLIENTS (64), SECONDS_RUN (10)
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
bin=$b/isac
ingest=$b/ingest
clients=${CLIENTS:-64}
secs=${SECONDS_RUN:-10}

dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

. bench/lib.sh
token=$(bench_ingest_data "$bin" "$dir/data")
port=$(bench_port)
url="http://127.0.0.1:$port"

start() {
    "$bin" serve --data "$dir/data" --listen "127.0.0.1:$port" 2>>"$dir/log" &
    pid=$!
    bench_wait "$url" || { echo "server did not start" >&2; exit 1; }
}

start
"$ingest" --url "$url" --token "$token" --clients "$clients" --seconds 2 >/dev/null # warm-up
"$ingest" --url "$url" --token "$token" --clients "$clients" --seconds "$secs" --pid "$pid"

# Crash test: kill -9 while clients are submitting, restart, check every 201.
"$ingest" --url "$url" --token "$token" --clients "$clients" --seconds 4 --acked "$dir/acked" >"$dir/crash.txt" &
ipid=$!
sleep 2
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
wait "$ipid" || true
echo "kill -9 during ingest: $(sed 's/^ingest: //' "$dir/crash.txt")"
start
"$ingest" --url "$url" --token "$token" --verify "$dir/acked"
