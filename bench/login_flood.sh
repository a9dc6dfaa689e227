#!/usr/bin/env bash
# Server memory under a login flood (issue 7.10): every login runs Argon2id with m=19456 KiB (19 MiB).
#
#   bench/login_flood.sh                   # from the repository root (or anywhere)
#   SHANZHI_BIN=/path/to/shanzhi bench/login_flood.sh    # measure another build (e.g. an older one)
#
# Environment (all optional):
#   CARGO_TARGET_DIR   cargo target dir (default: <repo>/target)
#   SHANZHI_BIN        binary to measure (default: a release build of this tree)
#   PORT               port for `shanzhi serve` on 127.0.0.1 (default: a free one)
#   CONC (64)          concurrent login requests
#   ROUNDS (10)        rounds: CONC × ROUNDS logins in all
#   KEEP_DATA=1        keep the generated data dir (its path is printed)
#
# Steps: fresh data dir with `shanzhi demo --scale district --no-serve`; `shanzhi serve` on loopback; CONC
# concurrent `POST /api/v1/auth/login` with the right demo password (curl through xargs -P, so CONC requests are
# in flight at all times) until CONC × ROUNDS are done; meanwhile VmRSS of the server is sampled every 0.1 s
# from /proc/PID/status. Prints a Markdown row: answers by status, wall time, RSS idle / peak (VmHWM) / after.
# Everything stays on 127.0.0.1; the server is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
CONC="${CONC:-64}"
ROUNDS="${ROUNDS:-10}"
PASSWORD="Shanzhi@2026"
USERS=(qu_admin malu_admin fanjia_admin member_wang member_li)

for tool in curl xargs awk; do
    command -v "$tool" >/dev/null || { echo "bench: \`$tool\` is required" >&2; exit 1; }
done

if [[ -z "${PORT:-}" ]]; then
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18081)"
fi
BASE="http://127.0.0.1:$PORT"

if [[ -n "${SHANZHI_BIN:-}" ]]; then
    BIN="$SHANZHI_BIN"
else
    echo "== release build" >&2
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release -p shanzhi >&2)
    BIN="$TARGET/release/shanzhi"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/shanzhi-flood.XXXXXX")"
DATA="$WORK/data"
SERVER_PID=""
SAMPLER_PID=""
cleanup() {
    [[ -n "$SAMPLER_PID" ]] && kill "$SAMPLER_PID" 2>/dev/null || true
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ "${KEEP_DATA:-}" == 1 ]]; then echo "data kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "== demo data (district scale) in $DATA" >&2
mkdir -p "$DATA"
"$BIN" demo --data-dir "$DATA" --scale district --no-serve >"$WORK/demo.out" 2>&1 \
    || { cat "$WORK/demo.out" >&2; exit 1; }

echo "== serve on $BASE" >&2
"$BIN" serve --data-dir "$DATA" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null || { echo "server did not come up" >&2; exit 1; }

status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status"; }

# One login per user first, so the idle figure includes a warmed-up server.
for u in "${USERS[@]}"; do
    code="$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"username\":\"$u\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login")"
    [[ "$code" == 200 ]] || { echo "warm-up login $u answered $code" >&2; exit 1; }
done
IDLE_KB="$(status_kb VmRSS)"

(while kill -0 "$SERVER_PID" 2>/dev/null; do status_kb VmRSS; sleep 0.1; done) >"$WORK/rss.log" 2>/dev/null &
SAMPLER_PID=$!

TOTAL=$((CONC * ROUNDS))
echo "== $TOTAL logins, $CONC at a time" >&2
start=$(date +%s.%N)
for i in $(seq 0 $((TOTAL - 1))); do echo "${USERS[$((i % ${#USERS[@]}))]}"; done \
    | xargs -P "$CONC" -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 \
        -H 'Content-Type: application/json' \
        -d "{\"username\":\"{}\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" >"$WORK/codes.log" || true
SECONDS_TAKEN="$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')"
sleep 2
kill "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died during the run:" >&2; tail -50 "$WORK/server.log" >&2; exit 1; }

HWM_KB="$(status_kb VmHWM)"
AFTER_KB="$(status_kb VmRSS)"
SAMPLED_KB="$(sort -n "$WORK/rss.log" | tail -1)"
THREADS="$(status_kb Threads)"
ANSWERS="$(sort "$WORK/codes.log" | uniq -c | awk '{printf "%s%s×%s", (NR > 1 ? ", " : ""), $2, $1}')"
mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }

echo
echo "| Binary | Logins (concurrent) | Answers | Wall (s) | RSS idle (MiB) | Peak RSS, VmHWM (MiB) | Max sampled RSS (MiB) | RSS 2 s after (MiB) | Threads after |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
echo "| \`$(basename "$BIN")\` | $TOTAL ($CONC) | $ANSWERS | $SECONDS_TAKEN | $(mb "$IDLE_KB") | $(mb "$HWM_KB") | $(mb "${SAMPLED_KB:-0}") | $(mb "$AFTER_KB") | $THREADS |"
