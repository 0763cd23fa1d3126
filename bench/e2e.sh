#!/usr/bin/env bash
# End-to-end benchmark, one table: termsim -> eftswitch -> hostsim against termsim -> hostsim directly,
# in the same run, at 100 and 1,000 connections (chip purchases with online PIN: PIN translation
# TPK -> ZPK in the switch's software HSM, field 55 with ARQC verified and ARPC returned by hostsim),
# then both paths at a fixed rate of 20 % of the direct maximum (what the switch adds at p99), at
# 10 % and at 3 % (diagnostics: the same with less and with hardly any queueing on the shared cores;
# at 3 % the switch also runs without its journal, to split what it adds between the two), then
# connection scale: 18,000 idle terminals held by eftswitch while 1,000 others run traffic (connections
# held, resident memory per idle connection, the active ones' latency). After the table: eftswitch's
# CPU per answer by thread, and from its /metrics the journal's commits and waits in each run.
#   BENCH_SECONDS=10 ./bench/e2e.sh        (needs a RelWithDebInfo build in build/, ports 5000, 7000, 7100, 9100)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-10}
bin=$PWD/build/bin
for t in eftswitch eftctl hostsim termsim; do
  [ -x "$bin/$t" ] || { echo "bench: build $t first: cmake --build build --target eftswitch eftctl hostsim termsim" >&2; exit 1; }
done
who=bench
# shellcheck source=scripts/lib/processes.sh
. scripts/lib/processes.sh
require_free_ports

# The connection-scale phase holds 19,000 connections in eftswitch and 18,000 in one termsim.
hard_limit=$(ulimit -Hn)
if [ "$hard_limit" != unlimited ] && [ "$hard_limit" -lt 20000 ]; then
  echo "bench: the connection-scale phase needs an open-file limit of 20,000 per process (ulimit -Hn is" \
    "$hard_limit); raise it (LimitNOFILE, /etc/security/limits.conf) and run again" >&2
  exit 1
fi

run=$PWD/build/bench-e2e
rm -rf "$run"
mkdir -p "$run"
bench_switch_configs "$run"
cp simulators/examples/hostsim.yaml simulators/examples/termsim.yaml simulators/examples/termsim-direct.yaml "$run/"

demo_keys "$bin" "$run" "$run/eftswitch.yaml"

"$bin/hostsim" --config "$run/hostsim.yaml" >"$run/hostsim.log" 2>&1 &
host_pid=$!
pids+=("$host_pid")
wait_for "$run/hostsim.log" "listening on 127.0.0.1:7100" hostsim
# start_switch <config>: eftswitch in the run directory, listening and signed on to hostsim.
start_switch() {
  (cd "$run" && exec "$bin/eftswitch" --config "$1") >>"$run/eftswitch.log" 2>&1 &
  switch_pid=$!
  pids+=("$switch_pid")
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null && break; sleep 0.1; done
  sleep 1  # the host link signs on
}
start_switch eftswitch.yaml

# cpu_ticks <pid>: the process's user and system CPU so far, all threads, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
tick_us=$((1000000 / $(getconf CLK_TCK)))
# thread_ticks <pid>: eftswitch's CPU so far by thread kind, in clock ticks: "I/O workers, journal
# writer, checkpoint, the rest" (a thread that ended meanwhile is missing from all four).
thread_ticks() {
  { cat "/proc/$1/task/"*/stat 2>/dev/null || true; } | awk '{
      t = $14 + $15
      if ($2 ~ /^\(eft-io-/) io += t; else if ($2 == "(eft-journal)") j += t
      else if ($2 == "(eft-checkpoint)") k += t; else o += t
    } END { print io + 0, j + 0, k + 0, o + 0 }'
}

# journal_sample: totals from eftswitch's /metrics (the demo config serves them on 127.0.0.1:9100):
# "commits writes commit_seconds commits_within_5ms waits wait_seconds waits_within_1ms
# transactions transactions_within_1ms wal_bytes" (the journal's zero without one; transactions of all
# routes, timed by the switch from its read of the request to its answer ready).
journal_sample() {
  { exec 3<>/dev/tcp/127.0.0.1/9100 && printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && cat <&3; } \
    2>/dev/null | awk '
      $1 == "eft_journal_commits_total" { c = $2 }
      $1 == "eft_journal_commit_writes_total" { w = $2 }
      $1 == "eft_journal_commit_seconds_sum" { cs = $2 }
      $1 == "eft_journal_commit_seconds_bucket{le=\"0.005\"}" { c5 = $2 }
      $1 == "eft_journal_wait_seconds_count" { n = $2 }
      $1 == "eft_journal_wait_seconds_sum" { ws = $2 }
      $1 == "eft_journal_wait_seconds_bucket{le=\"0.001\"}" { w1 = $2 }
      $1 ~ /^eft_transaction_latency_seconds_count/ { t += $2 }
      $1 ~ /^eft_transaction_latency_seconds_bucket\{/ && $1 ~ /[{,]le="0.001"[,}]/ { t1 += $2 }
      $1 == "eft_journal_wal_bytes_total" { wb = $2 }
      END { printf "%.0f %.0f %.6f %.0f %.0f %.6f %.0f %.0f %.0f %.0f\n", c, w, cs, c5, n, ws, w1, t, t1, wb }'
}

# measure <name> <label> <config> <connections> [termsim options...]: one termsim run; appends a row
# to the table and prints the run's tps. The row's CPU per answer comes from termsim's report and
# from the CPU that eftswitch and hostsim used during the run (on the direct path eftswitch idles).
measure() {
  local name=$1 label=$2 cfg=$3 n=$4
  shift 4
  local out="$run/$name.json"
  local host_before switch_before threads_before
  host_before=$(cpu_ticks "$host_pid")
  switch_before=$(cpu_ticks "$switch_pid")
  threads_before=$(thread_ticks "$switch_pid")
  local journal_before
  journal_before=$(journal_sample)
  # Exit 2 (errors or mismatches) and 3 (fell behind its schedule) still make a row: the table shows
  # both; 1 means termsim could not run at all.
  local status=0
  "$bin/termsim" load --config "$run/$cfg" --connections "$n" --duration "$secs" --type purchase --no-progress \
    --json "$out" "$@" >/dev/null || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 2 ] && [ "$status" -ne 3 ]; then
    echo "bench: termsim load for $name failed (exit $status)" >&2
    return 1
  fi
  local host_us=$((($(cpu_ticks "$host_pid") - host_before) * tick_us))
  local switch_us=$((($(cpu_ticks "$switch_pid") - switch_before) * tick_us))
  local threads_after
  threads_after=$(thread_ticks "$switch_pid")
  awk -v b="$threads_before" -v a="$threads_after" -v t="$tick_us" -v n="$(jq '.answered' "$out")" 'BEGIN {
      split(b, x); split(a, y)
      for (i = 1; i <= 4; i++) printf "%s%.1f", (i > 1 ? " " : ""), (n > 0 ? (y[i] - x[i]) * t / n : 0)
      print ""
    }' >"$run/$name.threads"
  # The journal's part of the run: commits a second, writes per commit (the group commit), the
  # writer's mean time per commit and how many took over 5 ms, the mean wait of an awaited write
  # (its queueing and its commit: two per transaction) and the share of waits over 1 ms; and the
  # share of transactions that took the switch itself over 1 ms; the WAL bytes per commit and per
  # transaction.
  awk -v b="$journal_before" -v a="$(journal_sample)" -v secs="$secs" 'BEGIN {
      split(b, x); split(a, y)
      for (i = 1; i <= 10; i++) d[i] = y[i] - x[i]
      if (d[1] <= 0 || d[5] <= 0 || d[8] <= 0) { print "none"; exit }
      printf "%.0f %.1f %.0f %d %.0f %.2f %.2f %.1f %.1f\n", d[1] / secs, d[2] / d[1], 1e6 * d[3] / d[1], d[1] - d[4],
        1e6 * d[6] / d[5], 100 * (d[5] - d[7]) / d[5], 100 * (d[8] - d[9]) / d[8], d[10] / d[1] / 1024,
        d[10] / d[8] / 1024
    }' >"$run/$name.journal"
  jq -r --arg l "$label" --argjson h "$host_us" --argjson s "$switch_us" '
    def per(us): if .answered > 0 then us / .answered | floor else 0 end;
    "| \($l) | \(.connections) | \(.mode | sub("_"; " "))\(if .target_rate > 0 then " \(.target_rate) tps" else "" end)\(if .fell_behind then ", fell behind" else "" end) | \(.tps | floor) | \(.latency_ms.p50) | \(.latency_ms.p90) | \(.latency_ms.p99) | \(.latency_ms["p99.9"]) | \(.latency_ms.max) | \([.errors[]] | add) / \([.mismatches[]] | add) | \(.cpu.us_per_answer | floor) / \(per($s)) / \(per($h)) |"' \
    "$out" >>"$run/rows.md"
  jq -r --argjson h "$host_us" --argjson s "$switch_us" \
    '"\(.cpu.us_per_answer) \(if .answered > 0 then $s / .answered else 0 end) \(if .answered > 0 then $h / .answered else 0 end)"' \
    "$out" >"$run/$name.cpu"
  jq -r '.tps' "$out"
}

echo "bench: ${secs} s per run; results in $run" >&2
direct="termsim -> hostsim"
switched="termsim -> eftswitch -> hostsim"
d100=$(measure direct-100 "$direct" termsim-direct.yaml 100)
s100=$(measure switch-100 "$switched" termsim.yaml 100)
d1000=$(measure direct-1000 "$direct" termsim-direct.yaml 1000 --ramp-up 1)
s1000=$(measure switch-1000 "$switched" termsim.yaml 1000 --ramp-up 1)
direct_max=$(printf '%s\n%s\n' "$d100" "$d1000" | sort -g | tail -1)
rate=$(awk -v m="$direct_max" 'BEGIN { printf "%d", m * 0.2 }')
measure direct-rate "$direct" termsim-direct.yaml 100 --rate "$rate" >/dev/null
measure switch-rate "$switched" termsim.yaml 100 --rate "$rate" >/dev/null
p99_direct=$(jq '.latency_ms.p99' "$run/direct-rate.json")
p99_switch=$(jq '.latency_ms.p99' "$run/switch-rate.json")
# Diagnostic: half that rate, where the switch is not short of CPU, so what it adds at p99 is its own
# waits (the journal's commits and syncs) rather than queueing on the shared cores.
rate_half=$((rate / 2))
measure direct-rate-half "$direct" termsim-direct.yaml 100 --rate "$rate_half" >/dev/null
measure switch-rate-half "$switched" termsim.yaml 100 --rate "$rate_half" >/dev/null
p99_direct_half=$(jq '.latency_ms.p99' "$run/direct-rate-half.json")
p99_switch_half=$(jq '.latency_ms.p99' "$run/switch-rate-half.json")
# Diagnostic: 3 % of the direct maximum, the cores mostly idle: what each transaction's own path
# costs at p99 (the switch's hops and stages, the journal's two commits), with no queueing at all.
rate_low=$(awk -v m="$direct_max" 'BEGIN { r = int(m * 0.03); printf "%d", (r > 0 ? r : 1) }')
measure direct-rate-low "$direct" termsim-direct.yaml 100 --rate "$rate_low" >/dev/null
measure switch-rate-low "$switched" termsim.yaml 100 --rate "$rate_low" >/dev/null
p99_direct_low=$(jq '.latency_ms.p99' "$run/direct-rate-low.json")
p99_switch_low=$(jq '.latency_ms.p99' "$run/switch-rate-low.json")

# Connection scale: 18,000 idle terminals (one termsim, spread over 127.0.0.1-16) held by eftswitch
# while 1,000 others run purchases (a second termsim). The switch starts afresh for it, so that its
# resident memory before the idle terminals connect is a clean baseline: the difference once they
# are held, divided by how many are held, is the memory an idle connection costs.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
kill "$switch_pid"
wait "$switch_pid" 2>/dev/null || true
start_switch eftswitch.yaml
rss_before=$(rss_kb "$switch_pid")
"$bin/termsim" load --config "$run/termsim.yaml" --connections 18000 --duration $((secs + 25)) --idle \
  --ramp-up 10 --source-addresses 16 --no-progress --json "$run/idle.json" >/dev/null &
idle_pid=$!
pids+=("$idle_pid")
sleep 15
rss_idle=$(rss_kb "$switch_pid")
scale_tps=$(measure switch-1000-beside-18000-idle "$switched, 18,000 idle held" termsim.yaml 1000 --ramp-up 1)
wait "$idle_pid" || true
held=$(jq '.held' "$run/idle.json")
idle_errors=$(jq '[.errors[]] | add' "$run/idle.json")

# Diagnostic: the same switch without its journal (no durable records, no armed reversals: not a
# production setting), to show what the journal's two awaited commits per transaction cost.
kill "$switch_pid"
wait "$switch_pid" 2>/dev/null || true
start_switch eftswitch-no-journal.yaml
n100=$(measure switch-no-journal-100 "termsim -> eftswitch without journal (diagnostic)" termsim.yaml 100)
measure switch-no-journal-rate-low "termsim -> eftswitch without journal (diagnostic)" termsim.yaml 100 \
  --rate "$rate_low" >/dev/null
p99_nojournal_low=$(jq '.latency_ms.p99' "$run/switch-no-journal-rate-low.json")

echo
echo "| path | connections | mode | tps | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors / mismatches | CPU us per answer: termsim / eftswitch / hostsim |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
cat "$run/rows.md"
echo
awk -v s="$s100" -v d="$d100" 'BEGIN { printf "switch / direct throughput, 100 connections:   %.0f %%  (goal >= 50 %%)\n", 100 * s / d }'
awk -v s="$s1000" -v d="$d1000" 'BEGIN { printf "switch / direct throughput, 1,000 connections: %.0f %%  (goal >= 50 %%)\n", 100 * s / d }'
awk -v s="$p99_switch" -v d="$p99_direct" -v r="$rate" \
  'BEGIN { printf "added p99 at %d tps (20 %% of the direct maximum): %.2f ms  (goal <= 1 ms)\n", r, s - d }'
awk -v s="$p99_switch_half" -v d="$p99_direct_half" -v r="$rate_half" \
  'BEGIN { printf "diagnostic: added p99 at %d tps (10 %% of the direct maximum): %.2f ms\n", r, s - d }'
awk -v s="$p99_switch_low" -v n="$p99_nojournal_low" -v d="$p99_direct_low" -v r="$rate_low" \
  'BEGIN { printf "diagnostic: added p99 at %d tps (3 %% of the direct maximum): %.2f ms; without its journal %.2f ms\n", r, s - d, n - d }'
echo "connection scale: $held idle terminals held (errors $idle_errors) while 1,000 others ran $(printf '%.0f' "$scale_tps") tps"
awk -v b="$rss_before" -v i="$rss_idle" -v h="$held" 'BEGIN { printf "connection scale: eftswitch resident memory %.1f MB before, %.1f MB with the idle terminals held: %.1f KB per idle connection\n", b / 1024, i / 1024, (h > 0 ? (i - b) / h : 0) }'
awk -v s="$n100" -v d="$d100" 'BEGIN { printf "diagnostic: switch without its journal / direct, 100 connections: %.0f %%\n", 100 * s / d }'
# The budget the throughput goal sets: on the shared cores, the switch path reaches half the direct
# rate when the switch uses about as much CPU per answer as termsim and hostsim together.
read -r d_term _ d_host <"$run/direct-100.cpu"
read -r _ s_switch _ <"$run/switch-100.cpu"
read -r _ n_switch _ <"$run/switch-no-journal-100.cpu"
awk -v t="$d_term" -v h="$d_host" -v s="$s_switch" -v n="$n_switch" \
  'BEGIN { printf "CPU per answer, 100 connections: termsim + hostsim %.1f us (direct path); eftswitch %.1f us, %.1f us without its journal\n", t + h, s, n }'
# Where eftswitch's CPU goes: at closed loop, and at the fixed rate, where fewer messages share each
# wake-up and each journal commit.
for run_name in switch-100 switch-rate; do
  read -r io writer checkpoint rest <"$run/$run_name.threads"
  where="100 connections, closed loop"
  [ "$run_name" = switch-rate ] && where="$rate tps"
  echo "eftswitch CPU per answer by thread, $where: I/O workers $io us, journal writer $writer us, checkpoint $checkpoint us, other $rest us"
done
# The journal's share of the latency (eftswitch's /metrics): at the fixed rates, what each awaited
# write waited for its commit, and how often a commit held everything up.
for run_name in switch-100 switch-rate switch-rate-half switch-rate-low; do
  read -r per_s per_commit commit_us slow wait_us wait_slow own_slow wal_commit wal_txn <"$run/$run_name.journal" ||
    continue
  [ "$per_s" = none ] && continue
  case $run_name in
    switch-100) where="100 connections, closed loop" ;;
    switch-rate) where="$rate tps" ;;
    switch-rate-half) where="$rate_half tps" ;;
    *) where="$rate_low tps" ;;
  esac
  echo "eftswitch journal, $where: $per_s commits a second, $per_commit writes per commit, commit mean $commit_us us ($slow over 5 ms); awaited write mean $wait_us us ($wait_slow % over 1 ms); transactions over 1 ms in the switch: $own_slow %; WAL $wal_commit KB a commit, $wal_txn KB a transaction"
done
