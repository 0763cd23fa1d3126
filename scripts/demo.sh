#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts hostsim (the issuer host) and eftswitch with
# the demo config (software HSM with freshly generated demo keys), runs termsim for about 20 seconds of
# mixed POS and ATM traffic through the switch with a live progress line, prints the report, stops
# everything cleanly and says where the journal, the logs and the reports are.
#   DEMO_SECONDS=20 DEMO_CONNECTIONS=200 ./scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== building eftswitch, eftctl, hostsim and termsim"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target eftswitch eftctl hostsim termsim
exec bash scripts/demo-run.sh "$PWD/build/bin" "$PWD/build/demo"
