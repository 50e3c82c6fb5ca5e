#!/usr/bin/env bash
# Run every benchmark in bench/ against the release build; each prints its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in bench/me.sh bench/ingest.sh bench/ingest-instr.sh bench/authz.sh bench/fanout.sh; do
    echo "== $b"
    "$b" "${1:-build}"
done
