#!/usr/bin/env bash
# bench/ingest-instr.sh - user-space instructions per acknowledged report
# submission, counted by valgrind's callgrind over every thread of the
# daemon (release build) while bench/ingest.c submits for 15 s.
#
# The figure is what to compare when changing the ingest path: this VM's
# speed moves by 1.5x or more from one minute to the next, which makes
# reports/s and even CPU time per report noisy, while an instruction count
# repeats within ~1 %. It does not count the kernel (sockets, fsync) and
# weighs a memset of 8 KB like 8 KB of work, so confirm with bench/ingest.sh.
#
# Usage: bench/ingest-instr.sh [build-dir]; env KEEP=dir keeps callgrind's
# output (callgrind_annotate --inclusive=yes DIR/callgrind.out.1).
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
bin=$b/isac
ingest=$b/ingest
command -v valgrind >/dev/null || { echo "ingest-instr: valgrind is not installed" >&2; exit 1; }

dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

. bench/lib.sh
token=$(bench_ingest_data "$bin" "$dir/data")
port=$(bench_port)
url="http://127.0.0.1:$port"

valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
    "$bin" serve --data "$dir/data" --listen "127.0.0.1:$port" 2>"$dir/valgrind.log" &
pid=$!
bench_wait "$url" 600 || { echo "ingest-instr: the daemon did not start under valgrind" >&2; exit 1; }
"$ingest" --url "$url" --token "$token" --clients 16 --seconds 3 >/dev/null # warm-up
callgrind_control -z "$pid" >/dev/null 2>&1
out=$("$ingest" --url "$url" --token "$token" --clients 16 --seconds 15)
callgrind_control -d "$pid" >/dev/null 2>&1 # the counts since the zero: callgrind.out.1
n=$(echo "$out" | grep -o '[0-9]* acknowledged' | cut -d' ' -f1)
ir=$(awk '/^summary:|^totals:/ { print $2; exit }' "$dir/callgrind.out.1")
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$dir"/callgrind.out* "$KEEP"/
echo "ingest-instr: $n reports under callgrind, $((ir / n)) instructions per report (user space, all threads)"
