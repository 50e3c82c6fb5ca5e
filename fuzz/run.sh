#!/usr/bin/env bash
# fuzz/run.sh [SECONDS] - build every fuzz target with clang (libFuzzer + ASan
# + UBSan) and run each for SECONDS (default 10) from its corpus. Prints one
# line per target "ok"/"FAILED"; a crash input is kept in tests/out/fuzz/.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
out=tests/out/fuzz
mkdir -p "$out"
flags=(-std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined $(pkg-config --cflags jansson libsodium))
libs=($(pkg-config --libs jansson libsodium))
common=(src/base/err.c src/base/buf.c src/base/util.c src/base/log.c
        src/model/member.c src/model/report.c src/model/deadline.c)
status=0
for dir in fuzz/*/; do
    name=$(basename "$dir")
    bin="$out/fuzz_$name"
    if ! clang "${flags[@]}" "$dir/fuzz_$name.c" "${common[@]}" "${libs[@]}" -o "$bin" \
            >"$out/$name.build.log" 2>&1; then
        echo "fuzz_$name FAILED (build: see $out/$name.build.log)"; status=1; continue
    fi
    work="$out/$name.corpus"
    mkdir -p "$work"
    if "$bin" -max_total_time="$secs" -max_len=4096 -artifact_prefix="$out/$name-" \
            "$work" "$dir/corpus" >"$out/$name.log" 2>&1; then
        echo "fuzz_$name ok ($(grep -c . <(ls "$work")) corpus entries)"
    else
        echo "fuzz_$name FAILED (see $out/$name.log)"; status=1
    fi
done
exit $status
