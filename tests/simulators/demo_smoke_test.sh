#!/usr/bin/env bash
# The README's main job, short: scripts/demo-run.sh on the built binaries (3 s of mixed POS and ATM
# traffic from 20 terminals through eftswitch to hostsim). It must end cleanly with every answer
# checked, and no card number of the demo's cards may appear in anything it prints or writes.
#   demo_smoke_test.sh <bin dir> <run dir>
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$1
mkdir -p "$2"
run=$(cd "$2" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() { echo "demo smoke test: $*" >&2; echo "--- demo output:" >&2; cat "$out" >&2; exit 1; }

DEMO_SECONDS=${DEMO_SECONDS:-3} DEMO_CONNECTIONS=${DEMO_CONNECTIONS:-20} \
  timeout 180 bash "$src/scripts/demo-run.sh" "$bin" "$run" >"$out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "scripts/demo-run.sh exited with $rc"

grep -q "eftswitch stopped cleanly" "$out" || fail "eftswitch did not stop cleanly"
grep -q "hostsim stopped cleanly" "$out" || fail "hostsim did not stop cleanly"
report=$run/termsim-report.json
[ -s "$report" ] || fail "no termsim report at $report"
answered=$(jq '.answered' "$report")
errors=$(jq '[.errors[]] | add // 0' "$report")
mismatches=$(jq '[.mismatches[]] | add // 0' "$report")
[ "$answered" -gt 0 ] || fail "no transaction answered ($report)"
[ "$errors" -eq 0 ] || fail "$errors errors in $report"
[ "$mismatches" -eq 0 ] || fail "$mismatches mismatches in $report"
# Every transaction type of the demo's mix went through.
types=$(jq ".sent_by_type | length" "$report")
[ "$types" -ge 5 ] || fail "only $types transaction types in $report"

# The demo's card numbers, clear, in nothing the run printed, logged or wrote as text.
pans=$(grep -o 'pan: "[0-9]*"' "$src/simulators/examples/termsim.yaml" | grep -o '[0-9]\{12,19\}')
[ -n "$pans" ] || fail "no card numbers found in simulators/examples/termsim.yaml"
for pan in $pans; do
  for f in "$out" "$run"/*.log "$run"/*.json; do
    if grep -q -- "$pan" "$f"; then fail "the card number ${pan:0:6}...${pan: -4} appears in clear in $f"; fi
  done
done
echo "demo smoke test: $answered answered, 0 errors, 0 mismatches, $types transaction types, no card number in clear"
