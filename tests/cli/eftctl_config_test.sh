#!/usr/bin/env bash
# eftctl config check: a valid config, errors with file, line and hint (unknown keys, dangling names,
# BIN table lines), and HSM key names checked with their usage. Argument: eftctl path.
set -u
eftctl=$1
pass=0
fail=0
check() {
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok    $1"; else fail=$((fail + 1)); echo "FAIL  $1 ${3:-}"; fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset EFT_HSM_LMK EFT_CONFIG
echo 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F >"$tmp/lmk.hex"
printf '4000-4999\n51-55  # mastercard\n' >"$tmp/bins.txt"
write() {  # $1: listener extras, $2: route extras
  cat >"$tmp/switch.yaml" <<YAML
listeners:
  - {name: pos, port: 5000, spec: iso87-binary$1}
links:
  - {name: acq1, addresses: [127.0.0.1:7000], spec: iso87-ascii}
link_groups: [{name: acquirer, links: [acq1]}]
routes:
  - name: visa
    match: {bin_file: bins.txt}
    to: acquirer$2
hsm: {backend: software, key_file: keys.yaml, lmk_file: lmk.hex}
YAML
}

write "" ""
out=$("$eftctl" config check "$tmp/switch.yaml")
check "a valid config" $? "($out)"
grep -q "OK (1 listeners, 1 links, 1 link groups, 1 routes, 2 BIN ranges, no HSM keys named)" <<<"$out"
check "the summary counts BIN ranges" $? "($out)"

sed -i 's/to: acquirer/to: acquirer2/' "$tmp/switch.yaml"
err=$("$eftctl" config check "$tmp/switch.yaml" 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "switch.yaml:9: routes\[0\].to 'acquirer2' is not a link group (defined groups: acquirer)" <<<"$err"
check "a dangling group name: file, line and hint" $? "($err)"

write ", mac_keys: tak.pos" ""
err=$("$eftctl" config check "$tmp/switch.yaml" 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "switch.yaml:2: unknown key 'listeners\[0\].mac_keys' (allowed keys: .*mac_key" <<<"$err"
check "an unknown key lists the allowed ones" $? "($err)"

printf '4000-4999\n4x\n' >"$tmp/bins.txt"
write "" ""
err=$("$eftctl" config check "$tmp/switch.yaml" 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "bins.txt:2: '4x' is not a BIN range" <<<"$err"
check "a bad BIN table line: its file and line" $? "($err)"
printf '4000-4999\n' >"$tmp/bins.txt"

write ", mac_key: tak.pos" ""
err=$("$eftctl" config check "$tmp/switch.yaml" 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "switch.yaml:2: mac_key 'tak.pos': .*tak.pos" <<<"$err"
check "a key missing from the HSM" $? "($err)"

"$eftctl" keys generate --config "$tmp/switch.yaml" --name tak.pos --usage P0 --mode B >/dev/null
err=$("$eftctl" config check "$tmp/switch.yaml" 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "switch.yaml:2: mac_key 'tak.pos' is a key of usage P0, not an ISO 9797-1 alg 3 MAC key (M3)" <<<"$err"
check "a key of the wrong usage" $? "($err)"

write ", mac_key: tak.mac" $'\n    pin_key: tak.pos'
"$eftctl" keys generate --config "$tmp/switch.yaml" --name tak.mac --usage M3 --mode C >/dev/null
out=$("$eftctl" config check "$tmp/switch.yaml")
[ $? -eq 0 ] && grep -q "2 HSM keys checked" <<<"$out"
check "keys of the right usage pass" $? "($out)"

# A stand-in's PIN verification key, the only key named: checked like the others.
write "" $'\n    stand_in: {policy: approve, floor_limit: 100, pin_verify: {method: visa_pvv, pvk: pvk.visa}}'
err=$("$eftctl" config check "$tmp/switch.yaml" 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "switch.yaml:10: stand_in.pin_verify.pvk 'pvk.visa': .*pvk.visa" <<<"$err"
check "a missing stand-in PIN verification key" $? "($err)"
"$eftctl" keys generate --config "$tmp/switch.yaml" --name pvk.visa --usage V1 --mode V >/dev/null
err=$("$eftctl" config check "$tmp/switch.yaml" 2>&1 >/dev/null)
[ $? -eq 1 ] &&
  grep -q "switch.yaml:10: stand_in.pin_verify.pvk 'pvk.visa' is a key of usage V1, not a Visa PVV PIN verification key (V2)" <<<"$err"
check "an IBM 3624 key for the PVV method" $? "($err)"
sed -i 's/visa_pvv/ibm3624/; s/pvk: pvk.visa}/pvk: pvk.visa, decimalization: "0123456789012345", validation_data: NNNNNNNNNNNN}/' "$tmp/switch.yaml"
out=$("$eftctl" config check "$tmp/switch.yaml")
[ $? -eq 0 ] && grep -q "1 HSM keys checked" <<<"$out"
check "the IBM 3624 key for the IBM 3624 method" $? "($out)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
