# bench/lib.sh - what the benchmark scripts share (sourced, not run).

# bench_data BIN DIR ORG-ADD-OPTIONS...: a fresh data dir with one organisation (the
# options of `isac org add`), a member "bench" of it and a token; prints the token.
bench_data() {
    local bin=$1 dir=$2 org
    shift 2
    "$bin" init --data "$dir" >/dev/null
    org=$("$bin" org add --data "$dir" "$@")
    echo "bench-password-1234" | "$bin" user add --data "$dir" --org "$org" --login bench \
        --role member >/dev/null
    "$bin" token create --data "$dir" --user bench
}

# bench_ingest_data BIN DIR: bench_data for the report benchmarks: one electricity operator of
# the general tier; prints the token of its member.
bench_ingest_data() {
    bench_data "$1" "$2" --name "Bench Power" --kind operator --sector electricity --tier general
}

# bench_port: a free TCP port on the loopback.
bench_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_wait URL [TRIES]: wait until URL/healthz answers (0.05 s between tries); 1 if it never does.
bench_wait() {
    local i
    for i in $(seq "${2:-200}"); do
        curl -sf "$1/healthz" >/dev/null && return 0
        sleep 0.05
    done
    return 1
}
