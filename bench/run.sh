#!/usr/bin/env bash
# Throughput/latency benchmark of the member list API on district-scale demo data (SQLite).
#
#   bench/run.sh                      # from the repository root (or anywhere)
#
# Environment (all optional):
#   CARGO_TARGET_DIR   cargo target dir (default: <repo>/target)
#   PORT               port for `shanzhi serve` on 127.0.0.1 (default: a free one)
#   WRK_THREADS (2)  WRK_CONNS (16)  WRK_DURATION (15s)
#   KEEP_DATA=1        keep the generated data dir (its path is printed)
#
# Steps: release build; fresh data dir with `shanzhi demo --scale district --no-serve` (timed, peak RSS
# via /usr/bin/time -v); `shanzhi serve` on loopback; API login as qu_admin (district admin); wrk against
# /healthz (no-op baseline), the first page of members and a name search deep in the list.
# Prints a Markdown table. Everything stays on 127.0.0.1; the server is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
THREADS="${WRK_THREADS:-2}"
CONNS="${WRK_CONNS:-16}"
DURATION="${WRK_DURATION:-15s}"
USER_NAME="qu_admin"
PASSWORD="Shanzhi@2026"

for tool in wrk curl jq; do
    command -v "$tool" >/dev/null || { echo "bench: \`$tool\` is required" >&2; exit 1; }
done

if [[ -z "${PORT:-}" ]]; then
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)"
fi
BASE="http://127.0.0.1:$PORT"

echo "== release build" >&2
(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release -p shanzhi >&2)
BIN="$TARGET/release/shanzhi"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/shanzhi-bench.XXXXXX")"
DATA="$WORK/data"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ "${KEEP_DATA:-}" == 1 ]]; then echo "data kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "== demo data (district scale) in $DATA" >&2
mkdir -p "$DATA"
DEMO_SECONDS="" DEMO_RSS_MB=""
if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -v -o "$WORK/demo.time" "$BIN" demo --data-dir "$DATA" --scale district --no-serve >"$WORK/demo.out" 2>&1 \
        || { cat "$WORK/demo.out" >&2; exit 1; }
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:41.23"
    DEMO_SECONDS="$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; printf "%.1f", s}' "$WORK/demo.time")"
    DEMO_RSS_MB="$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/demo.time")"
else
    start=$(date +%s.%N)
    "$BIN" demo --data-dir "$DATA" --scale district --no-serve >"$WORK/demo.out" 2>&1 || { cat "$WORK/demo.out" >&2; exit 1; }
    DEMO_SECONDS="$(echo "$(date +%s.%N) - $start" | bc)"
    DEMO_RSS_MB="n/a (no /usr/bin/time)"
fi
DB_MB="$(du -sm "$DATA" | cut -f1)"

echo "== serve on $BASE" >&2
"$BIN" serve --data-dir "$DATA" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null || { echo "server did not come up" >&2; exit 1; }

TOKEN="$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"username\":\"$USER_NAME\",\"password\":\"$PASSWORD\"}" \
    "$BASE/api/v1/auth/login" | jq -er .token)"

PATHS=(
    "/healthz"
    "/api/v1/members?page=1&per_page=20"
    "/api/v1/members?page=50&per_page=20&q=%E7%8E%8B"
)
LABELS=(
    "/healthz"
    "/api/v1/members?page=1&per_page=20"
    "/api/v1/members?page=50&per_page=20&q=王"
)

# Check each target answers 200 with the expected shape before loading it.
for p in "${PATHS[@]:1}"; do
    body="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE$p")" \
        || { echo "GET $p failed" >&2; exit 1; }
    n="$(jq -r '(.items // []) | length' <<<"$body")"
    total="$(jq -r '.total // "?"' <<<"$body")"
    echo "   $p -> $n items (total $total)" >&2
done

# wrk latency figure ("812.00us", "1.23ms", "2.01s") -> milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.2f", v * 60000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
        else printf "%s", v }'
}

# Unloaded latency: one request at a time, median of 5 (after one warm-up request).
declare -a SERIAL
for i in "${!PATHS[@]}"; do
    p="${PATHS[$i]}"
    hdr=()
    [[ "$p" == /api/* ]] && hdr=(-H "Authorization: Bearer $TOKEN")
    curl -fsS -o /dev/null "${hdr[@]}" "$BASE$p"
    SERIAL[$i]="$(for _ in 1 2 3 4 5; do curl -fsS -o /dev/null -w '%{time_total}\n' "${hdr[@]}" "$BASE$p"; done \
        | sort -n | awk 'NR == 3 {printf "%.2f", $1 * 1000}')"
done

declare -a RPS P50 P99 ERRS
for i in "${!PATHS[@]}"; do
    p="${PATHS[$i]}"
    echo "== wrk -t$THREADS -c$CONNS -d$DURATION $p" >&2
    hdr=()
    [[ "$p" == /api/* ]] && hdr=(-H "Authorization: Bearer $TOKEN")
    out="$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${hdr[@]}" "$BASE$p")"
    echo "$out" >&2
    RPS[$i]="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    P50[$i]="$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")"
    P99[$i]="$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
    non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")"
    sockerr="$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print}' <<<"$out")"
    ERRS[$i]="${non2xx:-0}${sockerr:+; socket: $sockerr}"
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died during the run:" >&2; tail -50 "$WORK/server.log" >&2; exit 1; }
done

echo
echo "Demo data (\`shanzhi demo --scale district --no-serve\`): ${DEMO_SECONDS}s wall, peak RSS ${DEMO_RSS_MB} MB, data dir ${DB_MB} MB."
echo
echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, loopback, token of $USER_NAME (district admin):"
echo
echo "| Endpoint | Requests/s | p50 (ms) | p99 (ms) | Req/s ÷ /healthz | /healthz ÷ req/s | Unloaded (ms, median of 5) | Non-2xx |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for i in "${!PATHS[@]}"; do
    ratio="$(awk -v a="${RPS[$i]}" -v b="${RPS[0]}" 'BEGIN { if (b > 0) printf "%.3g", a / b; else print "n/a" }')"
    slow="$(awk -v a="${RPS[$i]}" -v b="${RPS[0]}" 'BEGIN { if (a > 0) printf "%.0f×", b / a; else print "n/a" }')"
    echo "| \`${LABELS[$i]}\` | ${RPS[$i]} | ${P50[$i]} | ${P99[$i]} | $ratio | $slow | ${SERIAL[$i]} | ${ERRS[$i]} |"
done
