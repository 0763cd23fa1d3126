# Shared by scripts/demo-run.sh, bench/e2e.sh and bench/instructions.sh (sourced, not run): the demo's
# ports, the processes a run starts and stops, the demo keys and the benchmarks' switch configs. The
# caller sets `who` (the prefix of its messages).

demo_ports=(5000 7000 7100 9100)

# require_free_ports: exits when something already listens on one of the demo's ports.
require_free_ports() {
  local port
  for port in "${demo_ports[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$who: port $port on 127.0.0.1 is in use; stop what listens there and run again" >&2
      exit 1
    fi
  done
}

# Every process a run starts goes into pids; on exit each is stopped and waited for.
pids=()
stop_started() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_started EXIT

# wait_for <log> <text> <what>: until the log shows the text (15 s at most); exits otherwise.
wait_for() {
  for _ in $(seq 150); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$who: $3 did not start: its log ($1) does not show '$2' and ends with:" >&2
  tail -n 20 "$1" >&2
  exit 1
}

# demo_keys <bin dir> <run dir> <switch config>: a local master key for the software HSM and a journal
# key, generated for this run (files in the run directory, mode 0600, never printed) and exported as
# EFT_HSM_LMK and EFT_JOURNAL_KEY; then the terminal and zone PIN keys the simulators also hold are
# imported. Their check values are left in kcv_tpk and kcv_zpk.
demo_keys() {
  local bin=$1 run=$2 config=$3
  (
    umask 077
    xxd -p -l 32 -c 64 /dev/urandom >"$run/demo-lmk"
    xxd -p -l 32 -c 64 /dev/urandom >"$run/demo-journal-key"
  )
  export EFT_HSM_LMK EFT_JOURNAL_KEY
  EFT_HSM_LMK=$(cat "$run/demo-lmk")
  EFT_JOURNAL_KEY=$(cat "$run/demo-journal-key")
  kcv_tpk=$("$bin/eftctl" keys import --config "$config" --name tpk.pos --usage P0 --mode B \
    --component 0123456789ABCDEFFEDCBA9876543210)
  kcv_zpk=$("$bin/eftctl" keys import --config "$config" --name zpk.host --usage P0 --mode B \
    --component 89ABCDEF01234567FEDCBA9876543210)
}

# bench_switch_configs <run dir>: the benchmarks' eftswitch configs, from the demo's: no status lines,
# log level warn (eftswitch.yaml), and the same without its journal (eftswitch-no-journal.yaml).
bench_switch_configs() {
  local run=$1
  sed 's/status_interval_ms: 5000/status_interval_ms: 0/; s/log_level: info/log_level: warn/' \
    config/examples/demo.yaml >"$run/eftswitch.yaml"
  awk '/^journal:/ { skip = 1; next } skip && /^[^ ]/ { skip = 0 } !skip' "$run/eftswitch.yaml" \
    >"$run/eftswitch-no-journal.yaml"
}
