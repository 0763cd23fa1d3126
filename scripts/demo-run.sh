#!/usr/bin/env bash
# The demo itself, on binaries already built (scripts/demo.sh installs and builds first, then runs
# this): hostsim and eftswitch with the demo config, one purchase, DEMO_SECONDS of mixed traffic from
# DEMO_CONNECTIONS terminals, a clean stop, where things are. Also run by the tests, short.
#   scripts/demo-run.sh <bin dir> <run dir>
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: scripts/demo-run.sh <bin dir> <run dir>" >&2; exit 2; }
bin=$(cd "$1" && pwd)
mkdir -p "$2"
run=$(cd "$2" && pwd)
seconds=${DEMO_SECONDS:-20}
connections=${DEMO_CONNECTIONS:-200}

rm -rf "${run:?}"/*
cp config/examples/demo.yaml "$run/eftswitch.yaml"
cp simulators/examples/hostsim.yaml simulators/examples/termsim.yaml "$run/"

who=demo
# shellcheck source=scripts/lib/processes.sh
. scripts/lib/processes.sh
require_free_ports

# Demo keys, generated for this run: a local master key for the software HSM (kept in the run
# directory, mode 0600, never printed) and the terminal and zone PIN keys the simulators also hold.
demo_keys "$bin" "$run" "$run/eftswitch.yaml"
echo "== demo keys in the software HSM ($run/demo-keys.yaml), check values:"
printf '   tpk.pos  (terminal PIN key)  KCV %s\n' "$kcv_tpk"
printf '   zpk.host (zone PIN key)      KCV %s\n' "$kcv_zpk"

echo "== starting hostsim (issuer host, 127.0.0.1:7000) and eftswitch (terminals on 127.0.0.1:5000)"
"$bin/hostsim" --config "$run/hostsim.yaml" --record "$run/hostsim-record.json" >"$run/hostsim.log" 2>&1 &
pids+=($!)
wait_for "$run/hostsim.log" "listening on 127.0.0.1:7000" hostsim
(cd "$run" && exec "$bin/eftswitch" --config eftswitch.yaml) >"$run/eftswitch.log" 2>&1 &
pids+=($!)
wait_for "$run/eftswitch.log" "link issuer: ready" eftswitch

echo
echo "== one chip purchase with online PIN through the switch (termsim send, decoded and masked)"
"$bin/termsim" send --config "$run/termsim.yaml" --type purchase --amount 12.34

echo
echo "== ${seconds} s of mixed POS and ATM traffic: ${connections} terminals (termsim load)"
load_status=0
"$bin/termsim" load --config "$run/termsim.yaml" --connections "$connections" --duration "$seconds" --ramp-up 2 \
  --json "$run/termsim-report.json" || load_status=$?
if [ "$load_status" -ne 0 ]; then
  echo "   termsim load exited $load_status (2: errors or mismatches, 3: fell behind its schedule): see its report above"
fi

echo
echo "== stopping eftswitch and hostsim"
kill -TERM "${pids[1]}"
wait "${pids[1]}" && echo "   eftswitch stopped cleanly (signed off from the host)"
kill -TERM "${pids[0]}"
wait "${pids[0]}" && echo "   hostsim stopped cleanly"
pids=()

echo
echo "== the first journal records of the run (eftctl journal, PANs masked)"
"$bin/eftctl" journal --config "$run/eftswitch.yaml" --limit 3 || true

echo
echo "== where things are"
echo "   journal (SQLite):   $run/journal.db (masked PANs and keyed PAN hashes; key in $run/demo-journal-key)"
echo "                       e.g. EFT_JOURNAL_KEY=\$(cat $run/demo-journal-key) $bin/eftctl journal --config $run/eftswitch.yaml --limit 5"
echo "                       and  $bin/eftctl saf list --config $run/eftswitch.yaml"
echo "   eftswitch log:      $run/eftswitch.log ($(grep -c ' txn ' "$run/eftswitch.log") transaction lines, PANs masked)"
echo "   hostsim log:        $run/hostsim.log"
echo "   hostsim record:     $run/hostsim-record.json (counts by MTI and RC, PIN and ARQC checks)"
echo "   termsim report:     $run/termsim-report.json"
echo "   configs:            $run/eftswitch.yaml, $run/hostsim.yaml, $run/termsim.yaml"
# The run still stopped cleanly; its status says whether the traffic was clean.
exit "$load_status"
