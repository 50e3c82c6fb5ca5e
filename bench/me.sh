#!/usr/bin/env bash
# bench/me.sh - GET /api/v1/me with a bearer token under wrk (2 threads,
# 64 connections, 10 s, loopback), and the daemon's idle RSS.
# Usage: bench/me.sh [build-dir]   (default: build, the release build)
# Prints: requests/s, p50 and p99 latency, idle RSS after start and after load.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/isac
dur=${BENCH_DURATION:-10s}
command -v wrk >/dev/null || { echo "bench: wrk is missing (scripts/install-deps)" >&2; exit 1; }

dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

. bench/lib.sh
token=$(bench_data "$bin" "$dir/data" --name "Bench Center" --kind coordinator --tier class1)

port=$(bench_port)
"$bin" serve --data "$dir/data" --listen "127.0.0.1:$port" 2>"$dir/log" &
pid=$!
bench_wait "http://127.0.0.1:$port" 100 || { echo "bench: the daemon did not start" >&2; exit 1; }
sleep 0.5
rss_idle=$(awk '/VmRSS/{print $2}' /proc/$pid/status)

# Warm up (token last_used write, statement caches), then measure.
wrk -t2 -c64 -d2s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/me" >/dev/null
wrk -t2 -c64 -d"$dur" --latency -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/me" >"$dir/wrk.txt"
sleep 1
rss_after=$(awk '/VmRSS/{print $2}' /proc/$pid/status)

rps=$(awk '/Requests\/sec/{print $2}' "$dir/wrk.txt")
p50=$(awk '$1=="50%"{print $2}' "$dir/wrk.txt")
p99=$(awk '$1=="99%"{print $2}' "$dir/wrk.txt")
errors=$(grep -E 'Non-2xx|Socket errors' "$dir/wrk.txt" || true)
echo "GET /api/v1/me (bearer, wrk -t2 -c64 -d$dur, loopback): $rps requests/s, p50 $p50, p99 $p99"
[ -n "$errors" ] && echo "  wrk reported: $errors"
echo "daemon RSS: idle after start $((rss_idle / 1024)) MiB ($rss_idle KiB), idle after load $((rss_after / 1024)) MiB ($rss_after KiB)"
