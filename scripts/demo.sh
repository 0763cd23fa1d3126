#!/usr/bin/env bash
# The main job: installs what is missing, builds, and shows the ISO 8583 engine at work on a sample
# chip purchase: JSON -> packed bytes (iso87-binary, the POS terminal dialect) -> decoded, masked dump.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target eftctl

sample=docs/examples/purchase-0200.json
echo "== $sample packed with spec iso87-binary (hex):"
hex=$(build/bin/eftctl iso8583 encode --spec iso87-binary --json "$sample")
echo "$hex"
echo
echo "== decoded again, masked for logs:"
build/bin/eftctl iso8583 decode --spec iso87-binary --hex "$hex" --dump
echo
echo "== the same message in the iso87-ascii host dialect, as masked JSON:"
ascii=$(build/bin/eftctl iso8583 encode --spec iso87-ascii --json "$sample")
build/bin/eftctl iso8583 decode --spec iso87-ascii --hex "$ascii"
