#!/usr/bin/env bash
# Instructions per answer: eftswitch under callgrind, termsim -> eftswitch -> hostsim, with and without
# its journal, for build/bin/eftswitch and (given) a baseline eftswitch in the same run. Instruction
# counts do not move with the machine's load, so this tells apart changes of a few per cent that the
# CPU time of bench/e2e.sh cannot on a shared machine. They are not time: a cache miss, a lock wait or
# a system call counts as the instructions it runs, and callgrind runs the threads one at a time.
#   ./bench/instructions.sh [baseline eftswitch]   (needs valgrind, a RelWithDebInfo build in build/, the
#                                                  ports of bench/e2e.sh; BENCH_SECONDS=10 BENCH_CONNECTIONS=50)
# Each configuration runs twice: started and stopped with no traffic, then with termsim's closed loop
# for BENCH_SECONDS; instructions per answer = (the second's - the first's) / answers.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-50}
bin=$PWD/build/bin
baseline=${1:-}
command -v valgrind >/dev/null || { echo "bench: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
for t in eftswitch eftctl hostsim termsim; do
  [ -x "$bin/$t" ] || { echo "bench: build $t first: cmake --build build --target eftswitch eftctl hostsim termsim" >&2; exit 1; }
done
if [ -n "$baseline" ] && [ ! -x "$baseline" ]; then
  echo "bench: the baseline $baseline is not an executable eftswitch" >&2
  exit 1
fi
who=bench
# shellcheck source=scripts/lib/processes.sh
. scripts/lib/processes.sh
require_free_ports

run=$PWD/build/bench-instructions
rm -rf "$run"
mkdir -p "$run"
bench_switch_configs "$run"
cp simulators/examples/hostsim.yaml simulators/examples/termsim.yaml "$run/"
demo_keys "$bin" "$run" "$run/eftswitch.yaml"

"$bin/hostsim" --config "$run/hostsim.yaml" >"$run/hostsim.log" 2>&1 &
pids+=("$!")
wait_for "$run/hostsim.log" "listening on 127.0.0.1:7100" hostsim

# callgrind_run <eftswitch> <config> <name> <seconds>: one eftswitch under callgrind, stopped with
# SIGTERM after <seconds> of termsim (none for 0); sets `answered`. Runs in this shell, so that the
# exit trap stops eftswitch whatever happens.
callgrind_run() {
  local exe=$1 cfg=$2 name=$3 s=$4
  answered=0
  rm -f "$run/journal.db" "$run/journal.db-wal" "$run/journal.db-shm"
  (cd "$run" && exec valgrind --tool=callgrind --callgrind-out-file="$run/$name.cg" "$exe" --config "$cfg") \
    >"$run/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local up=
  for _ in $(seq 600); do
    if (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  [ -n "$up" ] || { echo "bench: eftswitch did not listen under valgrind; see $run/$name.log" >&2; exit 1; }
  sleep 3  # the host link signs on
  if [ "$s" -gt 0 ]; then
    local status=0
    "$bin/termsim" load --config "$run/termsim.yaml" --connections "$conns" --duration "$s" --type purchase \
      --no-progress --json "$run/$name.json" >/dev/null || status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
      echo "bench: termsim load for $name failed (exit $status); see $run/$name.log" >&2
      exit 1
    fi
    answered=$(jq .answered "$run/$name.json")
  fi
  kill -TERM "$pid"
  wait "$pid" || true
}

# total <callgrind file> [function regex]: all instructions, or those of the matching functions
# (inclusive: with what they call).
total() {
  if [ $# -eq 1 ]; then
    awk '/^(summary|totals):/ { print $2; exit }' "$1"
  else
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
      awk -v re="$2" '$3 ~ re { gsub(",", "", $1); print $1; exit }'
  fi
}

# allocator <callgrind file>: the instructions of malloc and free themselves (glibc's malloc.c and
# arena.c), not of what calls them.
allocator() {
  callgrind_annotate --threshold=100 "$1" 2>/dev/null |
    awk '/malloc\/malloc\.c:|malloc\/arena\.c:/ { gsub(",", "", $1); s += $1 } END { print s + 0 }'
}

rows=()
# measure <label> <eftswitch> <config>: appends "label answers Ir/answer sqlite3_step/answer malloc/answer".
measure() {
  local label=$1 exe=$2 cfg=$3 tag
  tag=$(echo "$label" | tr -c 'a-z0-9\n' '-')
  callgrind_run "$exe" "$cfg" "$tag-idle" 0
  callgrind_run "$exe" "$cfg" "$tag-load" "$secs"
  local n=$answered
  [ "$n" -gt 0 ] || { echo "bench: no answers in $label" >&2; exit 1; }
  local idle load sql_idle sql_load alloc_idle alloc_load
  idle=$(total "$run/$tag-idle.cg")
  load=$(total "$run/$tag-load.cg")
  sql_idle=$(total "$run/$tag-idle.cg" ':sqlite3_step$' || true)
  sql_load=$(total "$run/$tag-load.cg" ':sqlite3_step$' || true)
  alloc_idle=$(allocator "$run/$tag-idle.cg")
  alloc_load=$(allocator "$run/$tag-load.cg")
  rows+=("$(awk -v l="$label" -v n="$n" -v i="$idle" -v L="$load" -v si="${sql_idle:-0}" -v sl="${sql_load:-0}" \
    -v ai="$alloc_idle" -v al="$alloc_load" \
    'BEGIN { printf "| %s | %d | %.0f | %.0f | %.0f |", l, n, (L - i) / n, (sl - si) / n, (al - ai) / n }')")
}

if [ -n "$baseline" ]; then
  measure "baseline, journal" "$baseline" eftswitch.yaml
  measure "baseline, no journal" "$baseline" eftswitch-no-journal.yaml
fi
measure "build/bin, journal" "$bin/eftswitch" eftswitch.yaml
measure "build/bin, no journal" "$bin/eftswitch" eftswitch-no-journal.yaml

echo
echo "eftswitch instructions per answer (callgrind), termsim closed loop, $conns connections, ${secs} s, chip purchases with online PIN"
echo
echo "| eftswitch | answers | instructions per answer | in sqlite3_step | in malloc and free |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if [ -n "$baseline" ]; then
  echo
  for cfg in journal "no journal"; do
    base=$(printf '%s\n' "${rows[@]}" | awk -F'|' -v c="baseline, $cfg " '$2 ~ c { print $4 + 0 }')
    now=$(printf '%s\n' "${rows[@]}" | awk -F'|' -v c="build/bin, $cfg " '$2 ~ c { print $4 + 0 }')
    awk -v c="$cfg" -v b="$base" -v n="$now" 'BEGIN { printf "%s: build/bin against the baseline: %+.1f %%\n", c, (n - b) * 100 / b }'
  done
fi
echo "callgrind files and logs: $run (callgrind_annotate <file> for the functions)"
