#!/usr/bin/env bash
# eftctl crypto tr31 unwrap | wrap as an operator uses them: published key blocks (TR-31:2018 Annex A,
# ANSI X9.143 8.1), round trips, the JSON form, and the bad-input contract (exit status 1, one line on
# stderr). Argument: eftctl path.
set -u
eftctl=$1
pass=0
fail=0

check() {  # check NAME CONDITION-EXIT-STATUS [detail]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok    $1"; else fail=$((fail + 1)); echo "FAIL  $1 ${3:-}"; fi
}

same() {  # same NAME EXPECTED ACTUAL
  [ "$2" = "$3" ]; check "$1" $? "(expected $2, got $3)"
}

# TR-31:2018 A.7.2.1 (version A), A.7.2.2 (B), A.7.3.2 (B with KS), A.7.4 (D); X9.143:2022 8.1 (D).
kbpk_a=89E88CF7931444F334BD7547FC3F380C
block_a=A0072P0TE00E0000F5161ED902807AF26F1D62263644BD24192FDB3193C730301CEE8701
kbpk_b=DD7515F2BFC17F85CE48F3CA25CB21F6
block_b=B0080P0TE00E000094B420079CC80BA3461F86FE26EFC4A3B8E4FA4C5F5341176EED7B727B8A248E
kbpk_ks=1D22BF32387C600AD97F9B97A51311AC
block_ks=B0104B0TX12S0100KS1800604B120F9292800000BB68BE8680A400D9191AD4ECE45B6E6C0D21C4738A52190E248719E24B433627
kbpk_d=88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6
block_d=D0112P0AE00E0000B82679114F470F540165EDFBF7E250FCEA43F810D215F8D207E2E417C07156A27E8E31DA05F7425509593D03A457DC34
block_x=D0144P0AE00E00002C77FA3F4A553BED6E88AE5C172A4166E3D4ACA8E2AC71C158A476FAC12C13C3829DE55D3AB54C48F4C4FEF7AC75E90FC47F1B77E7B19A73ED46E64410082557

same "unwrap A (TR-31 A.7.2.1)" F039121BEC83D26B169BDCD5B22AAF8F \
  "$("$eftctl" crypto tr31 unwrap --kbpk "$kbpk_a" --block "$block_a")"
same "unwrap B (TR-31 A.7.2.2)" 3F419E1CB7079442AA37474C2EFBF8B8 \
  "$("$eftctl" crypto tr31 unwrap --kbpk "$kbpk_b" --block "$block_b")"
same "unwrap B with KS (TR-31 A.7.3.2)" E8BC63E5479455E26577F715D587FE68 \
  "$("$eftctl" crypto tr31 unwrap --kbpk "$kbpk_ks" --block "$block_ks")"
same "unwrap D (TR-31 A.7.4)" 3F419E1CB7079442AA37474C2EFBF8B8 \
  "$("$eftctl" crypto tr31 unwrap --kbpk "$kbpk_d" --block "$block_d")"
same "unwrap D, hidden key length (X9.143 8.1)" 3F419E1CB7079442AA37474C2EFBF8B8 \
  "$("$eftctl" crypto tr31 unwrap --kbpk "$kbpk_d" --block "$block_x")"
same "lowercase KBPK accepted" 3F419E1CB7079442AA37474C2EFBF8B8 \
  "$("$eftctl" crypto tr31 unwrap --kbpk "${kbpk_b,,}" --block "$block_b")"

json=$("$eftctl" crypto tr31 unwrap --kbpk "$kbpk_ks" --block "$block_ks" --json)
check "unwrap --json exits 0" $?
same "unwrap --json object" \
  '{"key":"E8BC63E5479455E26577F715D587FE68","kcv":"9A4212","version":"B","length":"0104","usage":"B0","algorithm":"T","mode_of_use":"X","key_version":"12","exportability":"S","optional_blocks":[{"id":"KS","data":"00604B120F9292800000"}]}' \
  "$json"

# Wrap with the published padding gives the published block; the typed length digits are ignored.
same "wrap D with the A.7.4 padding" "$block_d" \
  "$("$eftctl" crypto tr31 wrap --kbpk "$kbpk_d" --key 3F419E1CB7079442AA37474C2EFBF8B8 --header D0000P0AE00E0000 \
     --random 1C2965473CE206BB855B01533782)"
same "wrap D with the X9.143 8.1 padding" "$block_x" \
  "$("$eftctl" crypto tr31 wrap --kbpk "$kbpk_d" --key 3F419E1CB7079442AA37474C2EFBF8B8 --header D9999P0AE00E0000 \
     --random 1A87BBFA2CFE78D383E5F4C6AA83473C1C2965473CE206BB855B01533782)"
# BP-Tools (chhil/TR31Keyblock tests): version A with zero padding.
same "wrap A with zero padding" A0072P0TE00E0000F5161ED902807AF26F1D62263644BD24D52C8D44AAEDA6D81752022B \
  "$("$eftctl" crypto tr31 wrap --kbpk "$kbpk_a" --key F039121BEC83D26B169BDCD5B22AAF8F --header A0072P0TE00E0000 \
     --random 000000000000)"
same "wrap --json" '{"key_block":"B0080P0TE00E0000A2C7F59BE6B748A73A56D613E9DAFCAB38FD56EB5496120F0E16D23DF31E7CD8","kcv":"57C409"}' \
  "$("$eftctl" crypto tr31 wrap --kbpk "$kbpk_b" --key 3F419E1CB7079442AA37474C2EFBF8B8 --header B0000P0TE00E0000 \
     --random 000000000000 --json)"

# Random padding: wrap then unwrap gives the key back, for each version.
for args in "A $kbpk_a T F039121BEC83D26B169BDCD5B22AAF8F" "B $kbpk_b T 3F419E1CB7079442AA37474C2EFBF8B8" \
            "D $kbpk_d A 0123456789ABCDEFFEDCBA98765432100123456789ABCDEFFEDCBA9876543210"; do
  set -- $args
  block=$("$eftctl" crypto tr31 wrap --kbpk "$2" --key "$4" --header "${1}0000K0${3}B00E0100KS0600")
  check "wrap $1 with random padding exits 0" $?
  same "wrap $1 then unwrap" "$4" "$("$eftctl" crypto tr31 unwrap --kbpk "$2" --block "$block")"
done

# Bad input: status 1 and exactly one line on stderr that says why.
bad() {  # bad NAME EXPECTED-REGEX ARGS...
  local name=$1 want=$2
  shift 2
  local err out
  out=$("$eftctl" "$@" 2>/dev/null)
  err=$("$eftctl" "$@" 2>&1 >/dev/null)
  local status=$?
  [ "$status" -eq 1 ] && [ -z "$out" ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && grep -Eq -e "$want" <<<"$err"
  check "$name" $? "(status $status: $err)"
}
bad "MAC char changed" "MAC does not verify" crypto tr31 unwrap --kbpk "$kbpk_b" --block "${block_b%E}F"
bad "header char changed" "MAC does not verify" crypto tr31 unwrap --kbpk "$kbpk_b" --block "B0080P0TE01${block_b:11}"
bad "key char changed" "MAC does not verify" crypto tr31 unwrap --kbpk "$kbpk_b" --block "${block_b:0:20}0${block_b:21}"
bad "wrong KBPK" "MAC does not verify" crypto tr31 unwrap --kbpk "$kbpk_a" --block "$block_b"
bad "length field wrong" "length field says 81" crypto tr31 unwrap --kbpk "$kbpk_b" --block "B0081${block_b:5}"
bad "length field not digits" "length field" crypto tr31 unwrap --kbpk "$kbpk_b" --block "B00X0${block_b:5}"
bad "truncated block" "length field says 80" crypto tr31 unwrap --kbpk "$kbpk_b" --block "${block_b:0:78}"
bad "non-hex key field" "hex digits" crypto tr31 unwrap --kbpk "$kbpk_b" --block "${block_b:0:20}G${block_b:21}"
bad "unsupported version" "version 'X' is not supported" crypto tr31 unwrap --kbpk "$kbpk_b" --block "X${block_b:1}"
bad "odd-length KBPK hex" "--kbpk: .*odd" crypto tr31 unwrap --kbpk "${kbpk_b:1}" --block "$block_b"
bad "KBPK of the wrong length" "--kbpk: key of 8 bytes" crypto tr31 unwrap --kbpk "${kbpk_b:0:16}" --block "$block_b"
bad "AES KBPK for version B" "TDES KBPK of 16 or 24 bytes" crypto tr31 unwrap --kbpk "$kbpk_d" --block "$block_b"
bad "missing --block" "--block" crypto tr31 unwrap --kbpk "$kbpk_b"
bad "PIN key with MAC mode" "mode of use 'C' is not allowed for key usage P0" \
  crypto tr31 wrap --kbpk "$kbpk_b" --key 3F419E1CB7079442AA37474C2EFBF8B8 --header B0000P0TC00E0000
bad "AES key in version B" "version B carries TDES keys only" \
  crypto tr31 wrap --kbpk "$kbpk_b" --key 3F419E1CB7079442AA37474C2EFBF8B8 --header B0000P0AE00E0000
bad "short key" "TDES key is 16 or 24 bytes" \
  crypto tr31 wrap --kbpk "$kbpk_b" --key 3F419E1CB7079442 --header B0000P0TE00E0000
bad "odd-length key hex" "--key: .*odd" \
  crypto tr31 wrap --kbpk "$kbpk_b" --key 3F419E1CB7079442AA37474C2EFBF8B --header B0000P0TE00E0000
bad "padding not completing a block" "padding of 2 bytes" \
  crypto tr31 wrap --kbpk "$kbpk_b" --key 3F419E1CB7079442AA37474C2EFBF8B8 --header B0000P0TE00E0000 --random 0000
bad "text after the header" "characters after the header" \
  crypto tr31 wrap --kbpk "$kbpk_b" --key 3F419E1CB7079442AA37474C2EFBF8B8 --header B0000P0TE00E0000XX
bad "short header" "fixed header is 16" \
  crypto tr31 wrap --kbpk "$kbpk_b" --key 3F419E1CB7079442AA37474C2EFBF8B8 --header B0000P0TE

# Nothing secret in an error: the KBPK and key never appear on stderr.
err=$("$eftctl" crypto tr31 wrap --kbpk "$kbpk_b" --key 3F419E1CB7079442AA37474C2EFBF8B8 --header B0000P0TC00E0000 2>&1)
! grep -q -e "$kbpk_b" -e 3F419E1CB7079442AA37474C2EFBF8B8 <<<"$err"; check "errors hold no key material" $?

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
