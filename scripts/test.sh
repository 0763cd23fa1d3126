#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as errors, runs every test under
# ASan+UBSan, then in the release build together with bounded libFuzzer runs (targets built by clang).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

jobs=$(nproc)
fuzz_seconds=${EFT_FUZZ_SECONDS:-60}

# libFuzzer targets (clang 14, instrumented with ASan and UBSan).
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DEFT_FUZZ=ON -DEFT_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build-fuzz -j "$jobs"

# Every test once more under AddressSanitizer and UndefinedBehaviorSanitizer (gcc). -O1 with line
# tables only (-g1) compiles in half the time of -O2 -g (switch/src/server.cpp: 74 s against 147 s)
# and still names file and line in every report; the release build below runs the tests at -O2.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DEFT_SANITIZE=address,undefined -DEFT_WARNINGS_AS_ERRORS=ON -DEFT_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ctest --output-on-failure -j "$jobs" --timeout 900)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEFT_WARNINGS_AS_ERRORS=ON \
  -DEFT_FUZZERS_DIR="$PWD/build-fuzz/bin" -DEFT_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
cmake --build build -j "$jobs"

cd build
ctest --output-on-failure -j "$jobs" --timeout 900
