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

for port in 5000 7000 7100 9100; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo: port $port on 127.0.0.1 is in use; stop what listens there and run again" >&2
    exit 1
  fi
done

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# wait_for <log> <text> <what>: until the log shows the text (15 s at most).
wait_for() {
  for _ in $(seq 150); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo: $3 did not start; its log ($1) ends with:" >&2
  tail -n 20 "$1" >&2
  exit 1
}

# Demo keys, generated for this run: a local master key for the software HSM (kept in the run
# directory, mode 0600, never printed) and the terminal and zone PIN keys the simulators also hold.
umask 077
xxd -p -l 32 -c 64 /dev/urandom >"$run/demo-lmk"
xxd -p -l 32 -c 64 /dev/urandom >"$run/demo-journal-key"
umask 022
export EFT_HSM_LMK EFT_JOURNAL_KEY
EFT_HSM_LMK=$(cat "$run/demo-lmk")
EFT_JOURNAL_KEY=$(cat "$run/demo-journal-key")
echo "== demo keys in the software HSM ($run/demo-keys.yaml), check values:"
printf '   tpk.pos  (terminal PIN key)  KCV %s\n' \
  "$("$bin/eftctl" keys import --config "$run/eftswitch.yaml" --name tpk.pos --usage P0 --mode B \
      --component 0123456789ABCDEFFEDCBA9876543210)"
printf '   zpk.host (zone PIN key)      KCV %s\n' \
  "$("$bin/eftctl" keys import --config "$run/eftswitch.yaml" --name zpk.host --usage P0 --mode B \
      --component 89ABCDEF01234567FEDCBA9876543210)"

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
