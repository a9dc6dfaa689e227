#!/usr/bin/env bash
# Throughput of the pages and lists that show figures, against /healthz in the same run, on district-scale demo
# data (SQLite, release build): the target of issue 8 is every home, place and list page at ≥ 10% of /healthz.
#
#   bench/pages.sh                    # Markdown table on stdout, wrk output on stderr
#
# Environment (all optional):
#   CARGO_TARGET_DIR   cargo target dir (default: <repo>/target)
#   SHANZHI_BIN        use this binary instead of building this tree in release mode
#   PORT               port for `shanzhi serve` on 127.0.0.1 (default: a free one)
#   WRK_THREADS (2)  WRK_CONNS (16)  WRK_DURATION (10s)
#   KEEP_DATA=1        keep the generated data dir (its path is printed)
#
# Steps: release build; fresh data dir with `shanzhi demo --scale district --no-serve`; `shanzhi serve` on
# loopback; API logins (bearer) and page logins (session cookie) for the district admin (qu_admin), a community
# admin (fanjia_admin) and a unit admin (linye_admin); each target checked for 200 once, then wrk one after the
# other. Everything stays on 127.0.0.1; the server is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
THREADS="${WRK_THREADS:-2}"
CONNS="${WRK_CONNS:-16}"
DURATION="${WRK_DURATION:-10s}"
PASSWORD="Shanzhi@2026"

for tool in wrk curl jq; do
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

WORK="$(mktemp -d "${TMPDIR:-/tmp}/shanzhi-pages.XXXXXX")"
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
"$BIN" demo --data-dir "$DATA" --scale district --no-serve >"$WORK/demo.out" 2>&1 || { cat "$WORK/demo.out" >&2; exit 1; }

echo "== serve on $BASE" >&2
"$BIN" serve --data-dir "$DATA" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
done

api_token() {
    curl -fsS -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" \
        "$BASE/api/v1/auth/login" | jq -er .token
}
# A page session: the login form's CSRF token, then the form; prints the session cookie header value.
web_cookie() {
    local jar="$WORK/$1.jar" csrf
    csrf="$(curl -fsS -c "$jar" -b "$jar" "$BASE/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)"
    curl -fsS -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$csrf" --data-urlencode "username=$1" \
        --data-urlencode "password=$PASSWORD" "$BASE/login"
    awk '$6 == "sz_session" || $6 == "sz_csrf" {printf "%s=%s; ", $6, $7}' "$jar"
}

QU_TOKEN="$(api_token qu_admin)"
QU_COOKIE="$(web_cookie qu_admin)"
FANJIA_COOKIE="$(web_cookie fanjia_admin)"
LINYE_COOKIE="$(web_cookie linye_admin)"
api() { curl -fsS -H "Authorization: Bearer $QU_TOKEN" "$BASE$1"; }
DISTRICT="$(api '/api/v1/places?level=district&per_page=1' | jq -er '.items[0].id')"
TOWN="$(api '/api/v1/places?level=town&per_page=1' | jq -er '.items[0].id')"
# A cursor deep in the list (reached once with a page number; under load the list is paged by key).
DEEP="$(api '/api/v1/members?page=2000&per_page=20' | jq -er '.items[-1].id')"
ONE="$(api '/api/v1/members?per_page=1' | jq -er '.items[0].id')"

# label | auth (token / cookie variable name, or -) | path
TARGETS=(
    "/healthz|-|/healthz"
    "member list API, first page|QU_TOKEN|/api/v1/members?per_page=20"
    "member list API, page after member $DEEP (~40,000 deep)|QU_TOKEN|/api/v1/members?per_page=20&after=$DEEP"
    "one member API|QU_TOKEN|/api/v1/members/$ONE"
    "district place page (区)|QU_COOKIE|/places/$DISTRICT"
    "town place page (街镇)|QU_COOKIE|/places/$TOWN"
    "home, district admin|QU_COOKIE|/"
    "home, community admin (fanjia_admin)|FANJIA_COOKIE|/"
    "home, unit admin (linye_admin)|LINYE_COOKIE|/"
    "member list page, district admin|QU_COOKIE|/members"
    "registration queue page, community admin|FANJIA_COOKIE|/registrations"
)

header_for() {
    case "$1" in
        -) ;;
        *_TOKEN) printf 'Authorization: Bearer %s' "${!1}" ;;
        *_COOKIE) printf 'Cookie: %s' "${!1}" ;;
    esac
}

for t in "${TARGETS[@]}"; do
    IFS='|' read -r label auth path <<<"$t"
    h="$(header_for "$auth")"
    code="$(curl -sS -o /dev/null -w '%{http_code}' ${h:+-H "$h"} "$BASE$path")"
    [[ "$code" == 200 ]] || { echo "GET $path ($label) answered $code" >&2; exit 1; }
done

declare -a RPS P50 P99 ERRS
for i in "${!TARGETS[@]}"; do
    IFS='|' read -r label auth path <<<"${TARGETS[$i]}"
    h="$(header_for "$auth")"
    echo "== wrk -t$THREADS -c$CONNS -d$DURATION $path ($label)" >&2
    out="$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency ${h:+-H "$h"} "$BASE$path")"
    echo "$out" >&2
    RPS[$i]="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    P50[$i]="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    P99[$i]="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    ERRS[$i]="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")"
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died during the run:" >&2; tail -50 "$WORK/server.log" >&2; exit 1; }
done

echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, loopback, one run; $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| Target | Requests/s | p50 | p99 | ÷ /healthz | Non-2xx |"
echo "|---|---:|---:|---:|---:|---:|"
for i in "${!TARGETS[@]}"; do
    IFS='|' read -r label _ path <<<"${TARGETS[$i]}"
    ratio="$(awk -v a="${RPS[$i]}" -v b="${RPS[0]}" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "n/a" }')"
    echo "| $label \`$path\` | ${RPS[$i]} | ${P50[$i]} | ${P99[$i]} | $ratio | ${ERRS[$i]:-0} |"
done
