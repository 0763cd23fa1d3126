#!/usr/bin/env bash
# eftctl crypto dukpt as a tester uses it: PIN blocks and keys against published vectors (TDES:
# ANSI X9.24-1:2009 A.4; AES: the X9.24-3-2017 supplement and the format 4 example of
# ../shared/vectors/payment-crypto.yaml), next-KSN, and the bad-input contract (exit status 1 and
# exactly one line on stderr). Argument: eftctl path.
set -u
eftctl=$1
pass=0
fail=0

check() {  # check NAME CONDITION-EXIT-STATUS [detail]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok    $1"; else fail=$((fail + 1)); echo "FAIL  $1 ${3:-}"; fi
}

same() {  # same NAME EXPECTED ARGS...: the command prints exactly EXPECTED and exits 0
  local name=$1 want=$2
  shift 2
  local got
  got=$("$eftctl" "$@" 2>&1)
  local status=$?
  [ "$status" -eq 0 ] && [ "$got" = "$want" ]
  check "$name" $? "(status $status: got '$got', want '$want')"
}

bad() {  # bad NAME EXPECTED-REGEX ARGS...: status 1 and exactly one stderr line matching the regex
  local name=$1 want=$2
  shift 2
  local err
  err=$("$eftctl" "$@" 2>&1 >/dev/null)
  local status=$?
  [ "$status" -eq 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && grep -Eq -- "$want" <<<"$err"
  check "$name" $? "(status $status: $err)"
}

tdes_bdk=0123456789ABCDEFFEDCBA9876543210
aes_bdk=FEDCBA9876543210F1F1F1F1F1F1F1F1
aes256_bdk=FEDCBA9876543210F1F1F1F1F1F1F1F1FEDCBA9876543210F1F1F1F1F1F1F1F1

# TDES PIN blocks, format 0 (X9.24-1:2009 A.4.2 and A.4.3).
same "tdes pin, counter 1" 1B9C1845EB993A7A \
  crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210E00001 --pin 1234 --pan 4012345678909
same "tdes pin, counter 2" 10A01C8D02C69107 \
  crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210E00002 --pin 1234 --pan 4012345678909
same "tdes pin, counter 15 (lowercase input)" 72105C22EBC791E6 \
  crypto dukpt pin --bdk "${tdes_bdk,,}" --ksn ffff9876543210e00015 --pin 1234 --pan 4012345678909
same "tdes pin, rollover counter 100000" 73EC88AD0AC5830E \
  crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210F00000 --pin 1234 --pan 4012345678909
json=$("$eftctl" crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210E00001 --pin 1234 --pan 4012345678909 --json)
[ "$json" = '{"pin_block":"1B9C1845EB993A7A","format":"0","dukpt":"tdes","key_type":"tdes2","ksn":"FFFF9876543210E00001","counter":"000001"}' ]
check "tdes pin --json" $? "($json)"

# TDES keys (A.4; MAC variants from payment-crypto.yaml; data key from shenyan1206/dukpt tests).
same "tdes ipek" 6AC292FAA1315B4D858AB3A3D7D5933A \
  crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210E00000 --usage ipek
same "tdes pin key" 042666B49184CF5C68DE9628D0397B36 \
  crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210E00001 --usage pin
same "tdes mac-request key" 042666B4918430A368DE9628D03984C9 \
  crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210E00001 --usage mac-request
same "tdes mac-response key" 042666B46E84CFA368DE96282F397BC9 \
  crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210E00001 --usage mac-response
same "tdes data-request key" F1BE73B36135C5C26CF937D50ABBE5AF \
  crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210E00002 --usage data-request
same "tdes transaction key" 0DF3D9422ACA56E547676D07AD6BADFA \
  crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210E00003 --usage transaction
"$eftctl" crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210E00001 --usage data-response >/dev/null
check "tdes data-response key" $?
json=$("$eftctl" crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210E00001 --usage pin --json)
grep -q '"key":"042666B49184CF5C68DE9628D0397B36","usage":"pin","key_type":"tdes2","kcv":"[0-9A-F]\{6\}"' <<<"$json"
check "tdes key --json" $? "($json)"

# AES (X9.24-3-2017 supplement; format 4 block from payment-crypto.yaml pin_blocks).
same "aes pin, format 4, counter 1" A912150391AB65A67E52883D81CE2D15 \
  crypto dukpt pin --aes --bdk $aes_bdk --ksn 123456789012345600000001 --pin 1234 --pan 4111111111111111 \
  --random 2F69ADDE2E9E7ACE
block=$("$eftctl" crypto dukpt pin --aes --bdk $aes_bdk --ksn 123456789012345600000001 --pin 1234 --pan 4111111111111111)
[[ "$block" =~ ^[0-9A-F]{32}$ ]] && [ "$block" != A912150391AB65A67E52883D81CE2D15 ]
check "aes pin without --random draws fresh fill" $? "($block)"
same "aes initial key (--usage ipek)" 1273671EA26AC29AFA4D1084127652A1 \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 123456789012345600000001 --usage ipek
same "aes-256 initial key" CE9CE0C101D1138F97FB6CAD4DF045A7083D4EAE2D35A31789D01CCF0949550F \
  crypto dukpt key --aes --bdk $aes256_bdk --ksn 123456789012345600000001 --usage ipek
same "aes derivation key" 4F21B565BAD9835E112B6465635EAE44 \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 123456789012345600000001 --usage derivation
same "aes pin key" AF8CB133A78F8DC2D1359F18527593FB \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 123456789012345600000001 --usage pin
same "aes mac-request key (MAC generation)" A2DC23DE6FDE0824A2BC321E08E4B8B7 \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 123456789012345600000001 --usage mac-request
same "aes mac-response key (MAC verification)" DBB463945B286C07CD3AD82EE96FD9C9 \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 123456789012345600000001 --usage mac-response
same "aes data-request key (data encrypt)" A35C412EFD41FDB98B69797C02DCD08F \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 123456789012345600000001 --usage data-request
same "aes data-response key (data decrypt)" 16292C6EA8F64C5420A0584BFBC577BE \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 123456789012345600000001 --usage data-response
same "aes pin key as 2TDEA" 630C706D9546E47D4449313F61C4D4AB \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 123456789012345600000001 --usage pin --key-type tdes2
same "aes-256 pin key" 8C1AB7BEE973829E30242E0BBBDD4946D540C98FC1B5BDCF94790001A23FD502 \
  crypto dukpt key --aes --bdk $aes256_bdk --ksn 123456789012345600000001 --usage pin
same "aes pin key, last counter" 27EFAC1D158632588F4AC69E45C247C4 \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 1234567890123456FFFF0000 --usage pin

# next-ksn: skipping counters with too many one-bits.
same "tdes next-ksn skips 0FF803" FFFF9876543210EFF804 crypto dukpt next-ksn --ksn FFFF9876543210EFF802
same "aes next-ksn skips 1FFFF" 123456789012345600020000 crypto dukpt next-ksn --aes --ksn 12345678901234560001FFFE

# Bad input.
bad "odd-length KSN" "--ksn: .*odd" \
  crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210E0001 --pin 1234 --pan 4012345678909
bad "TDES KSN of 12 bytes" "--ksn: TDES DUKPT KSNs are 10 bytes; got 12" \
  crypto dukpt pin --bdk $tdes_bdk --ksn 123456789012345600000001 --pin 1234 --pan 4012345678909
bad "AES KSN of 10 bytes" "--ksn: AES DUKPT KSNs are 12 bytes; got 10" \
  crypto dukpt key --aes --bdk $aes_bdk --ksn FFFF9876543210E00001 --usage pin
bad "short BDK" "--bdk: key of 8 bytes; expected 16 bytes" \
  crypto dukpt pin --bdk 0123456789ABCDEF --ksn FFFF9876543210E00001 --pin 1234 --pan 4012345678909
bad "non-hex BDK" "--bdk: " \
  crypto dukpt key --bdk 0123456789ABCDEFFEDCBA987654321G --ksn FFFF9876543210E00001 --usage pin
bad "non-digit PIN" "--pin: expected 4-12 decimal digits" \
  crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210E00001 --pin 12a4 --pan 4012345678909
bad "PIN of 3 digits" "--pin: expected 4-12 decimal digits" \
  crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210E00001 --pin 123 --pan 4012345678909
bad "PIN of 13 digits" "--pin: expected 4-12 decimal digits" \
  crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210E00001 --pin 1234567890123 --pan 4012345678909
bad "non-digit PAN" "--pan: " \
  crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210E00001 --pin 1234 --pan 40123X5678909
bad "counter with 11 one-bits" "counter 0FF803 has 11 one-bits" \
  crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210EFF803 --pin 1234 --pan 4012345678909
bad "exhausted TDES counter" "DUKPT counter exhausted" \
  crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210FFF801 --usage pin
bad "initial KSN keys no transaction" "counter 000000 is the initial KSN" \
  crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210E00000 --usage pin
bad "AES counter with 17 one-bits" "counter 0001FFFF has 17 one-bits" \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 12345678901234560001FFFF --usage pin
bad "exhausted AES counter" "DUKPT counter exhausted" \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 1234567890123456FFFF0001 --usage pin
bad "no next KSN after the last" "DUKPT counter exhausted" crypto dukpt next-ksn --ksn FFFF9876543210FFF800
bad "working key stronger than the BDK" "never stronger than its BDK" \
  crypto dukpt key --aes --bdk $aes_bdk --ksn 123456789012345600000001 --usage pin --key-type aes256
bad "unknown usage" "--usage: expected" \
  crypto dukpt key --bdk $tdes_bdk --ksn FFFF9876543210E00001 --usage bogus
bad "--random without --aes" "--random: only with --aes" \
  crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210E00001 --pin 1234 --pan 4012345678909 --random 00
bad "--random of the wrong length" "--random: format 4 takes 8 bytes" \
  crypto dukpt pin --aes --bdk $aes_bdk --ksn 123456789012345600000001 --pin 1234 --pan 4111111111111111 --random 00
bad "missing --ksn" "give the key serial number with --ksn" crypto dukpt key --bdk $tdes_bdk --usage ipek

# No clear PIN in any error line.
err=$("$eftctl" crypto dukpt pin --bdk $tdes_bdk --ksn FFFF9876543210EFF803 --pin 987654 --pan 4012345678909 2>&1)
! grep -q 987654 <<<"$err"
check "error lines carry no PIN" $?

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
