#!/usr/bin/env bash
# Audited-write throughput on PostgreSQL: N connections call the real `Store::append_audit` for S seconds
# against a fresh database (created and dropped by the example), then the log is sealed and verified.
#
#   bench/audit.sh [PG_SERVER_URL] [CONNECTIONS] [SECONDS]
#   bench/audit.sh postgres://postgres@127.0.0.1:5432 16 10      # the defaults
#
# Environment: CARGO_TARGET_DIR (default <repo>/target). Loopback PostgreSQL only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
URL="${1:-postgres://postgres@127.0.0.1:5432}"
CONNS="${2:-16}"
SECS="${3:-10}"

cd "$ROOT"
cargo build --release -q -p shanzhi-store --example audit_bench
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
"$TARGET/release/examples/audit_bench" "$URL" "$CONNS" "$SECS"
