#!/usr/bin/env bash
# eftctl keys against a software HSM named in a deployment config, and the production guard of the
# clear-key calculators. Argument: eftctl path.
set -u
eftctl=$1
pass=0
fail=0
check() {
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok    $1"; else fail=$((fail + 1)); echo "FAIL  $1 ${3:-}"; fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/switch.yaml" <<YAML
hsm:
  backend: software
  key_file: keys.yaml
  lmk_file: lmk.hex
YAML
echo 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F >"$tmp/lmk.hex"
unset EFT_HSM_LMK EFT_CONFIG

# The classic test key 0123...3210 split in two components; KCV 08D7B4 (X9.24).
out=$("$eftctl" keys import --config "$tmp/switch.yaml" --name zpk.acquirer1 --usage P0 --mode B \
  --component 11111111111111111111111111111111 --component 1032547698BADCFEEFCDAB8967452301 --kcv 08D7B4)
check "import components with the right KCV" $? "($out)"
[ "$out" = "08D7B4" ]; check "import prints the KCV" $? "($out)"

err=$("$eftctl" keys import --config "$tmp/switch.yaml" --name zpk.bad --usage P0 --component 0123456789ABCDEFFEDCBA9876543210 --kcv 000000 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "check value mismatch" <<<"$err"; check "a wrong KCV is refused" $? "($err)"

"$eftctl" keys generate --config "$tmp/switch.yaml" --name kek.partner --usage K0 --algorithm A --mode B --length 32 >/dev/null
check "generate an AES KEK" $?
"$eftctl" keys generate --config "$tmp/switch.yaml" --name zak.host --usage M3 --mode C --exportable >/dev/null
check "generate an exportable MAC key" $?

list=$("$eftctl" keys list --config "$tmp/switch.yaml")
check "list" $?
grep -q "zpk.acquirer1  P0 T B N  128 bits  KCV 08D7B4" <<<"$list"; check "list shows usage, algorithm and KCV" $? "($list)"
[ "$(wc -l <<<"$list")" -eq 3 ]; check "list shows every key" $? "($list)"
! grep -qi "0123456789ABCDEF" "$tmp/keys.yaml"; check "the key file holds no clear key" $?
json=$("$eftctl" keys list --config "$tmp/switch.yaml" --json)
node -e 'const a = JSON.parse(process.argv[1]); if (a.length !== 3 || a[0].kcv === undefined || JSON.stringify(a).includes("key\"")) process.exit(1)' "$json"
check "list --json" $? "($json)"

block=$("$eftctl" keys export --config "$tmp/switch.yaml" --name zak.host --kek kek.partner)
check "export an exportable key" $?
[[ "$block" == D* ]]; check "export under an AES KEK gives a version D block" $? "($block)"
err=$("$eftctl" keys export --config "$tmp/switch.yaml" --name zpk.acquirer1 --kek kek.partner 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "not exportable" <<<"$err"; check "a non-exportable key stays in" $? "($err)"
kcv_before=$(grep zak.host <<<"$("$eftctl" keys list --config "$tmp/switch.yaml")" | awk '{print $NF}')
kcv_after=$("$eftctl" keys import --config "$tmp/switch.yaml" --name zak.copy --kek kek.partner --block "$block")
[ "$kcv_before" = "$kcv_after" ]; check "re-import of the exported block gives the same key" $? "($kcv_before vs $kcv_after)"

# A short, distinctive content: the message must name the file and never echo it. The check removes the
# file's path first, since a random temporary folder name could hold any digits.
echo 5EC7E7 >"$tmp/lmk.hex"
err=$("$eftctl" keys list --config "$tmp/switch.yaml" 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "lmk.hex must hold an AES-256 key" <<<"$err" && ! grep -qi "5EC7E7" <<<"${err//"$tmp"\/lmk.hex/}"
check "a bad LMK file is named, its content is not" $? "($err)"

# Production guard.
cat >"$tmp/prod.yaml" <<YAML
hsm: {backend: software, key_file: keys.yaml, production: true}
YAML
err=$(EFT_CONFIG="$tmp/prod.yaml" "$eftctl" crypto kcv --key 0123456789ABCDEFFEDCBA9876543210 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "marked production" <<<"$err"; check "calculators refused against a production HSM" $? "($err)"
out=$(EFT_CONFIG="$tmp/switch.yaml" "$eftctl" crypto kcv --key 0123456789ABCDEFFEDCBA9876543210 2>&1)
[ "$out" = "08D7B4" ]; check "calculators allowed against a test HSM" $? "($out)"
cat >"$tmp/typo.yaml" <<YAML
hsm:
  backend: sofware
  key_file: keys.yaml
YAML
err=$("$eftctl" keys list --config "$tmp/typo.yaml" 2>&1 >/dev/null)
[ $? -eq 1 ] && grep -q "typo.yaml:2: hsm.backend 'sofware' is unknown (use software or pkcs11)" <<<"$err"
check "config errors name file, line and the fix" $? "($err)"

# The same commands against a PKCS#11 token (SoftHSM2), when it is installed.
module=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
  [ -f "$m" ] && module=$m && break
done
if [ -n "$module" ] && command -v softhsm2-util >/dev/null; then
  mkdir -p "$tmp/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$tmp/tokens" >"$tmp/softhsm2.conf"
  export SOFTHSM2_CONF="$tmp/softhsm2.conf" EFT_HSM_PIN=1234
  softhsm2-util --init-token --free --label eftcli --so-pin 5678 --pin 1234 >/dev/null
  cat >"$tmp/token.yaml" <<YAML
hsm: {backend: pkcs11, module: $module, token_label: eftcli}
YAML
  out=$("$eftctl" keys import --config "$tmp/token.yaml" --name zpk.acquirer1 --usage P0 --mode B \
    --component 11111111111111111111111111111111 --component 1032547698BADCFEEFCDAB8967452301 --kcv 08D7B4)
  [ "$out" = "08D7B4" ]; check "pkcs11: import components into the token" $? "($out)"
  list=$("$eftctl" keys list --config "$tmp/token.yaml")
  grep -q "zpk.acquirer1  P0 T B N  128 bits  KCV 08D7B4" <<<"$list"; check "pkcs11: list" $? "($list)"
else
  echo "skip  pkcs11 checks: SoftHSM2 is not installed"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
