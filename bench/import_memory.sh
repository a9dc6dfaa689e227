#!/usr/bin/env bash
# Server memory during API imports (issue 7.8): peak RSS of `shanzhi serve` across UPLOADS API uploads of ROWS
# member rows each (different members in every file, `valid_only`), measured from /proc/PID/status (VmHWM = peak
# resident set size so far, VmRSS = now) after the server came up and after each import ended.
#
#   bench/import_memory.sh                      # from the repository root (or anywhere)
#   SHANZHI_BIN=/path/to/shanzhi bench/import_memory.sh    # measure another build (e.g. an older one)
#
# Environment (all optional):
#   CARGO_TARGET_DIR   cargo target dir (default: <repo>/target)
#   SHANZHI_BIN        server binary to measure (default: a release build of this tree)
#   GEN_BIN            the gen_members example (default: a release build of this tree's example)
#   ROWS (30000)       member rows per file
#   UPLOADS (3)        number of uploads, one after the other
#   FORMAT (xlsx)      xlsx or csv
#   PORT               port for `shanzhi serve` on 127.0.0.1 (default: a free one)
#   KEEP_DATA=1        keep the generated data dir (its path is printed)
#
# Steps: fresh data dir with `shanzhi demo --no-serve` (small scale); UPLOADS files from
# crates/imports/examples/gen_members.rs (rows START.., so every file holds new members); `shanzhi serve` on
# loopback; login as qu_admin; for each file `POST /api/v1/imports/members?valid_only=true` with the raw file,
# then poll `GET /api/v1/imports/{id}` until the import has ended. Prints a Markdown table. Everything stays on
# 127.0.0.1; the server is stopped and the data removed on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
ROWS="${ROWS:-30000}"
UPLOADS="${UPLOADS:-3}"
FORMAT="${FORMAT:-xlsx}"
PASSWORD='Bench#Pass2026'

for tool in curl jq awk; do
    command -v "$tool" >/dev/null || { echo "bench: \`$tool\` is required" >&2; exit 1; }
done

if [[ -z "${PORT:-}" ]]; then
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18082)"
fi
BASE="http://127.0.0.1:$PORT"

if [[ -z "${SHANZHI_BIN:-}" || -z "${GEN_BIN:-}" ]]; then
    echo "== release build" >&2
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release -q -p shanzhi >&2)
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release -q -p shanzhi-imports --example gen_members >&2)
fi
BIN="${SHANZHI_BIN:-$TARGET/release/shanzhi}"
GEN="${GEN_BIN:-$TARGET/release/examples/gen_members}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/shanzhi-import-mem.XXXXXX")"
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

echo "== demo data (small scale) and $UPLOADS files of $ROWS rows in $WORK" >&2
"$BIN" demo --no-serve --data-dir "$DATA" --demo-password "$PASSWORD" >"$WORK/demo.out" 2>&1 \
    || { cat "$WORK/demo.out" >&2; exit 1; }
for i in $(seq 1 "$UPLOADS"); do
    "$GEN" "$WORK/m$i.$FORMAT" "$ROWS" $(((i - 1) * ROWS)) >/dev/null
done
SIZE="$(du -h "$WORK/m1.$FORMAT" | cut -f1)"

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
mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }

TOKEN="$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"username\":\"qu_admin\",\"password\":\"$PASSWORD\"}" \
    "$BASE/api/v1/auth/login" | jq -er .token)"

echo
echo "binary: \`$BIN\`; $UPLOADS × $ROWS member rows ($FORMAT, $SIZE each), valid_only; $(nproc) CPU(s), $(uname -sr), $(date -u +%F)"
echo
echo "| after | wall (s) | inserted | skipped | errors | peak RSS, VmHWM (MiB) | RSS now (MiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
echo "| start (after login) | | | | | $(mb "$(status_kb VmHWM)") | $(mb "$(status_kb VmRSS)") |"
for i in $(seq 1 "$UPLOADS"); do
    start=$(date +%s.%N)
    answer="$(curl -sS -H "Authorization: Bearer $TOKEN" --data-binary "@$WORK/m$i.$FORMAT" \
        -H 'Content-Type: application/octet-stream' \
        "$BASE/api/v1/imports/members?filename=m$i.$FORMAT&valid_only=true")"
    id="$(jq -er .id <<<"$answer")" || { echo "upload $i refused: $answer" >&2; exit 1; }
    while :; do
        body="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/imports/$id")"
        status="$(jq -r .status <<<"$body")"
        [[ "$status" == done || "$status" == failed ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died:" >&2; tail -50 "$WORK/server.log" >&2; exit 1; }
        sleep 0.2
    done
    wall="$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')"
    echo "| import $i ($status) | $wall | $(jq -r .inserted <<<"$body") | $(jq -r .skipped <<<"$body") | $(jq -r .error_rows <<<"$body") | $(mb "$(status_kb VmHWM)") | $(mb "$(status_kb VmRSS)") |"
done
