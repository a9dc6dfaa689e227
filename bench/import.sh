#!/usr/bin/env bash
# Import of 50,000 members: generates a member .xlsx for the small demo data, then times
# `shanzhi import members --valid-only` (release build) with /usr/bin/time -v — wall time and peak RSS — for the
# first import and for an idempotent re-import of the same file. (`--valid-only` and a non-zero exit tolerated: the
# demo data may already hold one of the generated ID cards, which makes that row an error.)
# Usage: bench/import.sh [ROWS] (default 50000).
# SHANZHI_BIN and GEN_BIN measure other builds (e.g. an older one) instead of building this tree.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-50000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cd "$ROOT"
if [[ -z "${SHANZHI_BIN:-}" || -z "${GEN_BIN:-}" ]]; then
  cargo build --release -q -p shanzhi
  cargo build --release -q -p shanzhi-imports --example gen_members
fi
BIN=${SHANZHI_BIN:-$CARGO_TARGET_DIR/release/shanzhi}
GEN=${GEN_BIN:-$CARGO_TARGET_DIR/release/examples/gen_members}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN" demo --no-serve --data-dir "$WORK/data" --demo-password 'Bench#Pass2026' >/dev/null
"$GEN" "$WORK/members.xlsx" "$ROWS"
echo "file: $(du -h "$WORK/members.xlsx" | cut -f1) ($ROWS rows), $(nproc) CPU(s), $(uname -sr)"
run() {
  /usr/bin/time -v "$BIN" --data-dir "$WORK/data" import members "$WORK/members.xlsx" --valid-only >"$WORK/out.txt" 2>"$WORK/time.txt" || true
  tail -1 "$WORK/out.txt"
  grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$WORK/time.txt" | sed 's/^\s*/  /'
}
echo "first import:"
run
echo "re-import of the same file (every row 已登记,跳过):"
run
