#!/usr/bin/env bash
# bench/fanout.sh - one alert to N idle stream subscribers, each in its own
# organisation: time from the publish request to the first, median, 99th
# percentile and last subscriber reading `event: alert` (bench/fanout.c),
# and the daemon's memory per idle subscriber; then the same fan-out
# through nginx + nchan (2 workers, one channel) on the same machine, with
# the same client, and the ratio isac/nchan.
# Goal (issue 5): all 10,000 subscribers reached faster than nchan in the
# same run (aim: half of nchan's time), under 10 KB of daemon memory per
# idle subscriber.
#
# For each N the data dir (N operators with one member and one token each,
# one coordinator with an analyst) is generated once into var/bench-fanout
# with direct inserts and copied for each run. The daemon and nginx are
# started fresh for each N; the first publish is "cold" (first event since
# start; for nchan a new channel), the next WARM are "warm", each of a new
# draft. The open-files limit is raised for this script's processes only.
#
# Usage: bench/fanout.sh [build-dir]; env SIZES ("1000 10000"), WARM (4),
# FRESH=1 (regenerate the data), NCHAN=0 (skip nginx), ISAC=0 (skip isac),
# ISAC_LOG=path (keep the daemon's log of each N as path.nN).
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
bin=$b/isac
fanout=$b/fanout
sizes=${SIZES:-1000 10000}
warm=${WARM:-4}
rounds=$((warm + 1))
cache=var/bench-fanout

tmp=$(mktemp -d)
daemon=
nginx=
stop() { # pid: stop a process this script started and wait for it
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() { stop "$daemon"; stop "$nginx"; rm -rf "$tmp"; }
trap cleanup EXIT

# ---- open files: one per subscriber in the client and in the server ----
max=0
for n in $sizes; do [ "$n" -gt "$max" ] && max=$n; done
need=$((max + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
    # Only root may raise the hard limit; it is still this shell's alone.
    ulimit -Hn "$need" 2>/dev/null || {
        echo "fanout: $max subscribers need $need open files; the hard limit is $hard" >&2
        exit 1
    }
fi
ulimit -Sn "$need"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
load() { cut -d' ' -f1 /proc/loadavg; }
kv() { # file key regex: the value of key= on the first line of file matching regex
    awk -v k="$2" -v m="$3" '$0 ~ m { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) {
        print substr($i, length(k) + 2); exit } }' "$1"
}

# ---- data: N+1 organisations, inserted directly (the daemon's schema) ----

# A generator for N operators, each with a member and a token; a token is
# stored as the daemon stores it (src/auth/auth.c auth_secret_hash:
# BLAKE2b-256 of the whole "isac_..." string, prefix = its first 12 chars).
gen_py='
import hashlib, os, secrets, sqlite3, sys, time
db, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def uuid7():
    b = bytearray(int(time.time() * 1000).to_bytes(6, "big") + os.urandom(10))
    b[6] = 0x70 | (b[6] & 0x0F); b[8] = 0x80 | (b[8] & 0x3F)
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
now = int(time.time()); exp = now + 3650 * 86400
orgs, sectors, users, toks, lines = [], [], [], [], []
for i in range(n):
    org, user, tid = uuid7(), uuid7(), uuid7()
    tok = "isac_" + secrets.token_urlsafe(32)
    orgs.append((org, "ベンチ事業者 %05d" % i, "Bench operator %05d" % i, "operator", "general",
                 "[]", 0, now, now, "{}"))
    sectors.append((org, "electricity"))
    users.append((user, "fanout%05d" % i, "Fan-out subscriber %05d" % i, org, 1, "ja", None, None,
                  0, now, now, None))
    toks.append((tid, user, "bench-fanout", hashlib.blake2b(tok.encode(), digest_size=32).digest(),
                 tok[:12], now, exp, now, None))
    lines.append(tok)
con = sqlite3.connect(db)
with con:
    con.executemany("INSERT INTO orgs(id, name_ja, name_en, kind, tier, contacts, disabled,"
                    " created_at, updated_at, identifiers) VALUES(?,?,?,?,?,?,?,?,?,?)", orgs)
    con.executemany("INSERT INTO org_sectors(org_id, sector) VALUES(?,?)", sectors)
    con.executemany("INSERT INTO users(id, login, display_name, org_id, roles, locale, email,"
                    " password_hash, disabled, created_at, updated_at, password_changed_at)"
                    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", users)
    con.executemany("INSERT INTO tokens(id, user_id, name, hash, prefix, created_at, expires_at,"
                    " last_used_at, revoked_at) VALUES(?,?,?,?,?,?,?,?,?)", toks)
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
con.close()
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
'
schema_py='
import hashlib, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
s = "\n".join(r[0] or "" for r in c.execute("SELECT sql FROM sqlite_master ORDER BY name"))
print(hashlib.sha1(s.encode()).hexdigest()[:12])
'

# prepare N: prints the cached template dir (data/, tokens.txt), making it if needed.
prepare() {
    local n=$1 fresh=$tmp/fresh
    rm -rf "$fresh"
    "$bin" init --data "$fresh" >/dev/null
    local dir
    dir=$cache/n$n-$(python3 -c "$schema_py" "$fresh/isac.db")
    if [ -n "${FRESH:-}" ] || [ ! -f "$dir/tokens.txt" ]; then
        local t0=$SECONDS
        rm -rf "$cache/n$n"-* && mkdir -p "$dir" # older schemas' copies too
        local org
        org=$("$bin" org add --data "$fresh" --name "Bench Coordinator" --kind coordinator \
            --tier class1)
        echo "bench-password-1234" | "$bin" user add --data "$fresh" --org "$org" \
            --login fanout-analyst --role analyst >/dev/null
        python3 -c "$gen_py" "$fresh/isac.db" "$n" "$dir/tokens.txt.new"
        mv "$fresh" "$dir/data"
        mv "$dir/tokens.txt.new" "$dir/tokens.txt"
        echo "data: $n operators generated into $dir in $((SECONDS - t0)) s" >&2
    fi
    echo "$dir"
}

# ---- isac ----

start_daemon() { # data port
    "$bin" serve --data "$1" --listen "127.0.0.1:$2" 2>>"$tmp/isac.log" &
    daemon=$!
    for _ in $(seq 400); do
        curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return 0
        sleep 0.05
    done
    echo "fanout: isac did not start (log: $(tail -3 "$tmp/isac.log"))" >&2
    return 1
}

# A draft addressed to every member (alerts-contract.md: POST /api/v1/alerts).
alert_body='{"title":{"ja":"ベンチマーク: 配信試験","en":"Benchmark: fan-out test"},
 "summary":{"ja":"配信時間の測定","en":"Measuring delivery time"},
 "actions":{"ja":"対応は不要です","en":"No action needed"},
 "urgency":"urgent","exercise":true,"tlp":"AMBER","audience":{"all_members":true}}'

make_draft() { # port token: prints the draft id
    local code
    code=$(curl -s -o "$tmp/draft.json" -w '%{http_code}' -X POST \
        -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
        --data "$alert_body" "http://127.0.0.1:$1/api/v1/alerts" || true)
    if [ "$code" != 201 ]; then
        echo "POST /api/v1/alerts answered $code: $(head -c 300 "$tmp/draft.json")" >&2
        return 1
    fi
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$tmp/draft.json"
}

stream_ok() { # port token: the stream answers 200 text/event-stream
    curl -s -m 1 -o /dev/null -D "$tmp/stream.h" -H "Authorization: Bearer $2" \
        "http://127.0.0.1:$1/api/v1/stream" || true
    head -1 "$tmp/stream.h" 2>/dev/null | grep -q ' 200' &&
        grep -qi '^content-type: *text/event-stream' "$tmp/stream.h"
}

run_isac() { # N out
    local n=$1 out=$2 tpl port data ctok sub pubs=() id
    tpl=$(prepare "$n")
    data=$tmp/isac-$n
    rm -rf "$data"
    cp -a "$tpl/data" "$data"
    ctok=$("$bin" token create --data "$data" --user fanout-analyst --name bench-fanout --days 1)
    sub=$(head -1 "$tpl/tokens.txt")
    port=$(free_port)
    start_daemon "$data" "$port" || return 1
    if ! stream_ok "$port" "$sub"; then
        echo "isac N=$n: skipped (GET /api/v1/stream:" \
            "$(head -1 "$tmp/stream.h" 2>/dev/null | tr -d '\r'))"
        stop "$daemon"; daemon=
        return 1
    fi
    for _ in $(seq "$rounds"); do
        if ! id=$(make_draft "$port" "$ctok"); then
            echo "isac N=$n: skipped (no draft)"
            stop "$daemon"
            daemon=
            return 1
        fi
        pubs+=(--pub-path "/api/v1/alerts/$id/publish")
    done
    sleep 0.5 # let the draft writes settle before the "before" memory reading
    : >"$tmp/isac.log" # the probe's closed stream is logged; only the fan-out's lines count
    "$fanout" --port "$port" --sub-path /api/v1/stream --tokens "$tpl/tokens.txt" -n "$n" \
        --pub-header "Authorization: Bearer $ctok" --pub-header 'Content-Type: application/json' \
        --pub-body '{}' "${pubs[@]}" --pid "$daemon" --settle-ms 2000 --gap-ms 1000 \
        >"$out" 2>"$out.err" || true
    stop "$daemon"
    daemon=
    # What the daemon complained about during the fan-out (lost receipts, errors). A failed
    # send is the probe's stream, closed by curl, found by the first heartbeat; a subscriber
    # that fanout saw closing is counted by fanout itself.
    grep -E '"level":"(warn|error)"' "$tmp/isac.log" | grep -v 'Failed to send the chunked' |
        head -3 >"$out.log" || true
    if [ -n "${ISAC_LOG:-}" ]; then cp "$tmp/isac.log" "$ISAC_LOG.n$n"; fi
}

# ---- nginx + nchan ----

nchan_so() {
    local f
    for f in /usr/lib/nginx/modules/ngx_nchan_module.so \
             /usr/share/nginx/modules-available/ngx_nchan_module.so; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}

start_nchan() { # dir port
    local d=$1 so user=""
    so=$(nchan_so)
    mkdir -p "$d/logs" "$d/tmp"
    # As root the workers would switch to "nobody": keep them the current user.
    [ "$(id -u)" -eq 0 ] && user="user $(id -un);"
    cat >"$d/nginx.conf" <<EOF
load_module $so;
$user
worker_processes 2;
worker_rlimit_nofile $need;
daemon off;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections $need; }
http {
    access_log off;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen 127.0.0.1:$2;
        location = /sub {
            nchan_subscriber eventsource;
            nchan_channel_id alerts;
            nchan_eventsource_event alert;
            nchan_subscriber_first_message newest;
        }
        location = /pub {
            nchan_publisher;
            nchan_channel_id alerts;
        }
    }
}
EOF
    nginx -p "$d" -c "$d/nginx.conf" 2>>"$d/logs/stderr" &
    nginx=$!
    for _ in $(seq 200); do
        [ "$(pgrep -P "$nginx" | wc -l)" -ge 2 ] &&
            curl -s -o /dev/null "http://127.0.0.1:$2/pub" && return 0
        sleep 0.05
    done
    echo "fanout: nginx did not start:" \
        "$(tail -3 "$d/logs/error.log" "$d/logs/stderr" 2>/dev/null)" >&2
    return 1
}

run_nchan() { # N out
    local n=$1 out=$2 port d=$tmp/nginx-$1 pids=() w pubs=()
    port=$(free_port)
    start_nchan "$d" "$port" || return 1
    for w in $nginx $(pgrep -P "$nginx"); do pids+=(--pid "$w"); done
    for _ in $(seq "$rounds"); do pubs+=(--pub-path /pub); done
    # About the size of isac's event for this alert (~730 bytes), so both move the same bytes.
    local msg
    msg=$(python3 -c 'import json; print(json.dumps({"id": "0" * 36, "text": "x" * 660}))')
    "$fanout" --port "$port" --sub-path /sub -n "$n" "${pubs[@]}" --pub-body "$msg" \
        "${pids[@]}" --settle-ms 2000 --gap-ms 1000 >"$out" 2>"$out.err" || true
    stop "$nginx"
    nginx=
}

# ---- figures ----

median() {
    sort -n | awk '{ v[NR] = $1 }
        END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
warm_med() { # file key: median of key= over the warm rounds
    awk -v k="$2" '/^round / && $2 != "i=1" {
        for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' \
        "$1" | median
}
cold() { kv "$1" "$2" '^round i=1 '; }
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a";
        else printf "%.2f\n", a / b }'
}

# report name N file: one line per figure; sets cold_max, warm_max, all_reached.
report() {
    local name=$1 n=$2 f=$3 line r reached what started
    cold_max='' warm_max='' all_reached=0
    [ -s "$f" ] || return 0 # not run, or skipped with its reason
    if ! grep -q '^round ' "$f"; then
        echo "$name N=$n: no result ($(tail -2 "$f.err" 2>/dev/null | tr '\n' ' '))"
        return 0
    fi
    all_reached=1
    started=$(kv "$f" started_s '^memory pid=')
    echo "$name N=$n subscribed: $(kv "$f" ok '^subscribed') of $n" \
        "in $(kv "$f" ms '^subscribed') ms"
    while read -r line; do
        r=$(kv <(echo "$line") i .)
        reached=$(kv <(echo "$line") reached .)
        [ "$reached" = "$n" ] || all_reached=0
        what=warm
        [ "$r" = 1 ] && what=cold
        # seconds since the server started: periodic work (heartbeats) shows up this way
        what="$what, $(awk -v a="$(kv <(echo "$line") at_s .)" -v b="$started" \
            'BEGIN { printf "%.1f", a - b }') s after start"
        echo "$name N=$n publish $r ($what): ${line#round i="$r" }"
    done < <(grep '^round ' "$f")
    cold_max=$(cold "$f" max_ms)
    warm_max=$(warm_med "$f" max_ms)
    echo "$name N=$n cold: last subscriber $cold_max ms, first $(cold "$f" first_ms) ms," \
        "p50 $(cold "$f" p50_ms) ms, p99 $(cold "$f" p99_ms) ms;" \
        "publish answered in $(cold "$f" publish_ms) ms [load $(cold "$f" load)]"
    echo "$name N=$n warm (median of $warm): last subscriber $warm_max ms," \
        "first $(warm_med "$f" first_ms) ms, p50 $(warm_med "$f" p50_ms) ms," \
        "p99 $(warm_med "$f" p99_ms) ms; publish answered in $(warm_med "$f" publish_ms) ms" \
        "[load $(warm_med "$f" load)]"
    grep -q '^stray' "$f" && echo "$name N=$n: $(grep '^stray' "$f")"
    grep -q '^closed during the run=0' "$f" || echo "$name N=$n: $(grep '^closed' "$f")"
    return 0
}

# memory name N file key: the server's memory per subscriber (key: rss or pss).
memory() {
    local name=$1 n=$2 f=$3 k=$4
    grep -q '^memory total' "$f" || return 0
    echo "$name N=$n memory ($k): $(kv "$f" "${k}_before_kib" '^memory total') KiB before" \
        "subscribing, $(kv "$f" "${k}_idle_kib" '^memory total') KiB with $n idle subscribers:" \
        "$(kv "$f" "${k}_per_sub_bytes" '^memory total') bytes per idle subscriber," \
        "$(kv "$f" "${k}_per_sub_bytes" '^memory after') after the events" \
        "[load $(kv "$f" load '^memory total')]"
}

goal=met
half=met
for n in $sizes; do
    echo "== N=$n subscribers (load $(load))"
    isac_out=$tmp/isac-$n.out nchan_out=$tmp/nchan-$n.out
    : >"$isac_out"
    : >"$nchan_out"
    [ "${ISAC:-1}" = 0 ] || run_isac "$n" "$isac_out" || true
    if [ "${NCHAN:-1}" != 0 ]; then
        if command -v nginx >/dev/null && nchan_so >/dev/null; then
            run_nchan "$n" "$nchan_out" || true
        else
            echo "nchan: skipped (nginx or libnginx-mod-nchan is missing: scripts/install-deps)"
        fi
    fi
    report isac "$n" "$isac_out"
    ic=$cold_max iw=$warm_max ireach=$all_reached
    memory isac "$n" "$isac_out" rss
    [ -s "$isac_out.log" ] && sed "s/^/isac N=$n daemon log: /" "$isac_out.log"
    per=$(kv "$isac_out" rss_per_sub_bytes '^memory total')
    [ "$n" -lt 10000 ] || { [ -n "$per" ] && [ "$per" -lt 10240 ]; } || goal="NOT met"
    report nchan "$n" "$nchan_out"
    nc=$cold_max nw=$warm_max
    # nginx: master + 2 workers; Pss counts their shared memory once.
    memory nchan "$n" "$nchan_out" pss
    echo "ratio isac/nchan N=$n last subscriber: cold $(ratio "$ic" "$nc")," \
        "warm $(ratio "$iw" "$nw")"
    [ "$n" -ge 10000 ] || continue
    for pair in "$ic $nc" "$iw $nw"; do
        # shellcheck disable=SC2086 # two numbers, or fewer if a side gave none
        set -- $pair
        if [ $# -lt 2 ] || [ "$ireach" != 1 ]; then
            goal="NOT met" half="NOT met"
            continue
        fi
        awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }' || goal="NOT met"
        awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b / 2) }' || half="NOT met"
    done
done
case " $sizes " in
*" 10000 "*)
    echo "goal: $goal (10,000 subscribers all reached faster than nchan, cold and warm;" \
        "under 10 KB of daemon memory per idle subscriber)"
    echo "aim, half of nchan's time (cold and warm): $half" ;;
*) echo "goal: not judged (SIZES has no 10000)" ;;
esac
