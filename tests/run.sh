#!/usr/bin/env bash
# Run every test against the sanitizer build in $1 (default build-test):
# cmocka unit tests, end-to-end tests (the real daemon over HTTP) and
# browser tests (headless Debian Chromium). Ends with one line
# "N passed, N failed" and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-test}
out=tests/out
mkdir -p "$out"

export ISAC_BIN="$PWD/$build/isac"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

passed=0
failed=0
failures=()

count_tap() { # file name
    local p f
    p=$(grep -cE '^ok ' "$1")
    f=$(grep -cE '^not ok ' "$1")
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -gt 0 ] && failures+=("$2: $(grep -E '^not ok ' "$1" | head -5 | tr '\n' ' ')")
}

count_node() { # file name status
    local p f
    p=$(grep -E '^# pass [0-9]+' "$1" | tail -1 | awk '{print $3}')
    f=$(grep -E '^# fail [0-9]+' "$1" | tail -1 | awk '{print $3}')
    p=${p:-0}
    f=${f:-0}
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # the runner itself failed (crash, syntax error): count it
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -gt 0 ] && failures+=("$2: see $1")
}

echo "== source checks"
if scripts/checksrc >"$out/checksrc.txt" 2>&1; then
    passed=$((passed + 1)); echo "  checksrc         ok"
else
    failed=$((failed + 1)); failures+=("checksrc: see $out/checksrc.txt"); echo "  checksrc         FAILED"
fi

echo "== unit tests"
for t in "$build"/tests/unit/*/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    name=$(basename "$t")
    CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out/$name.tap" 2>&1
    rc=$?
    count_tap "$out/$name.tap" "$name"
    if [ $rc -ne 0 ] && ! grep -qE '^not ok ' "$out/$name.tap"; then
        failed=$((failed + 1)); failures+=("$name: exit $rc (see $out/$name.tap)")
    fi
    printf '  %-16s %s\n' "$name" "$(grep -cE '^ok ' "$out/$name.tap") ok, $(grep -cE '^not ok ' "$out/$name.tap") not ok"
done

echo "== fuzz (short run; fuzz/run.sh SECONDS for a longer one)"
while read -r line; do
    echo "  $line"
    case $line in
    *" ok"*) passed=$((passed + 1)) ;;
    *) failed=$((failed + 1)); failures+=("$line") ;;
    esac
done < <(fuzz/run.sh "${FUZZ_SECONDS:-10}")

run_node() { # label dir
    local files f rc=0
    files=$(ls "$2"/*.test.mjs 2>/dev/null)
    [ -n "$files" ] || return 0
    echo "== $1"
    # One file at a time (each starts its own daemons; 2 cores), one runner per
    # file so it works the same on every Node version with a test runner (>= 18).
    : >"$out/$1.tap"
    for f in $files; do
        node --test --test-reporter=tap "$f" >"$out/$1.$(basename "$f" .test.mjs).tap" 2>&1
        rc=$?
        cat "$out/$1.$(basename "$f" .test.mjs).tap" >>"$out/$1.tap"
        count_node "$out/$1.$(basename "$f" .test.mjs).tap" "$1/$(basename "$f")" $rc
    done
    grep -hE '^# (pass|fail) ' "$out"/"$1".*.tap | awk '{s[$2]+=$3} END {printf "  # pass %d # fail %d\n", s["pass"], s["fail"]}'
}
run_node e2e tests/e2e
run_node browser tests/browser

for f in "${failures[@]+"${failures[@]}"}"; do
    echo "FAILED $f"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
