#!/usr/bin/env bash
# eftctl crypto cvv | pvv | ibm3624-offset | arqc | arpc as a tester uses them: published vectors
# (sources in tests/crypto/card_verification_test.cpp and emv_test.cpp), --json, and the bad-input
# contract (exit status 1, one line on stderr, no PAN or PIN echoed). Argument: eftctl path.
set -u
eftctl=$1
pass=0
fail=0

check() {  # check NAME CONDITION-EXIT-STATUS [detail]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok    $1"; else fail=$((fail + 1)); echo "FAIL  $1 ${3:-}"; fi
}

expect() {  # expect NAME WANT ARGS...: the command exits 0 and prints exactly WANT
  local name=$1 want=$2
  shift 2
  local got
  got=$("$eftctl" "$@" 2>&1)
  local status=$?
  [ "$status" -eq 0 ] && [ "$got" = "$want" ]
  check "$name" $? "(status $status, got '$got', want '$want')"
}

imk=0123456789ABCDEFFEDCBA9876543210
visa_terminal=0000000040000000000000000124800004800001241911050152BF45851800001C
mc_terminal=00000000999900000000000001248000000000012420990600ABCDEF121800001C

# CVV (payment-crypto.yaml; tilln/jmeter-iso8583 CalculateCVVFunctionTest for CVV2 and iCVV).
expect "cvv" 856 crypto cvv --cvk 0123456789ABCDEFFEDCBA9876543210 --pan 4123456789012345 --expiry 8701 --service-code 111
expect "cvv lowercase key" 856 crypto cvv --cvk 0123456789abcdeffedcba9876543210 --pan 4123456789012345 --expiry 8701 --service-code 111
expect "cvv2 (service code 000)" 114 crypto cvv --cvk 13131313131313131313131313131313 --pan 4444333322221111 --expiry 9911 --service-code 000
expect "icvv (service code 999)" 163 crypto cvv --cvk 13131313131313131313131313131313 --pan 4444333322221111 --expiry 9911 --service-code 999
expect "cvv --json" '{"cvv":"114","kind":"CVV2"}' crypto cvv --cvk 13131313131313131313131313131313 --pan 4444333322221111 --expiry 9911 --service-code 000 --json

# PVV (knovichikhin/psec tests/test_pin.py).
expect "pvv" 8523 crypto pvv --pvk 0123456789ABCDEFFEDCBA9876543210 --pvki 1 --pin 4524 --pan 1122334455667788
expect "pvv pvki 2" 3244 crypto pvv --pvk 0123456789ABCDEFFEDCBA9876543210 --pvki 2 --pin 1912 --pan 1122334455667788
expect "pvv --json" '{"pvv":"4422","pvki":"1"}' crypto pvv --pvk 0123456789ABCDEFFEDCBA9876543210 --pvki 1 --pin 8299 --pan 1122334455667708 --json

# IBM 3624 offsets (gae.ucm.es magnetic stripe examples; psec tests/test_pin.py).
expect "ibm3624 offset, single DES" 456789 crypto ibm3624-offset --pvk 1313131313131313 --decimalization 0123456789012345 --validation-data 1234567890123456 --pin 099764
expect "ibm3624 offset 2" 2298 crypto ibm3624-offset --pvk 0123456789ABCDEF --decimalization 0123456789012345 --validation-data 1234567890123445 --pin 1234
expect "ibm3624 offset, TDES" 7710 crypto ibm3624-offset --pvk 0123456789ABCDEFFEDCBA9876543210 --decimalization 1234567890123456 --validation-data 1122334455667788 --pin 1234
expect "ibm3624 check length" 6789 crypto ibm3624-offset --pvk 1313131313131313 --decimalization 0123456789012345 --validation-data 1234567890123456 --pin 099764 --check-length 4
expect "ibm3624 validation data with N and --pan" '{"offset":"0000","validation_data":"1223344556677811"}' \
  crypto ibm3624-offset --pvk 0123456789ABCDEFFEDCBA9876543210 --decimalization 1234567890123456 --validation-data NNNNNNNNNNNNNN11 --pan 1122334455667788 --pin 3675 --json

# ARQC (payment-crypto.yaml emv; knovichikhin/pyemv tests/test_cvn_hsm.py).
expect "arqc visa cvn 10" 29CCA15AE665FA2E crypto arqc --cvn 10 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --data ${visa_terminal}03A06010
expect "arqc visa cvn 18" 7A788EA6B8A3E733 crypto arqc --cvn 18 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --data ${visa_terminal}06011203A0B800
expect "arqc visa cvn 22" 7A788EA6B8A3E733 crypto arqc --cvn 22 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --data ${visa_terminal}06011203A0B800
expect "arqc mastercard cvn 16" 24CCF3DEE3158C70 crypto arqc --cvn 16 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --un ABCDEF12 --data ${mc_terminal}A00003220000
expect "arqc mastercard cvn 17" EAE8A620A75648D8 crypto arqc --cvn 17 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --un ABCDEF12 --data ${mc_terminal}A0000322000000000000000322FF
expect "arqc mastercard cvn 20" CD29615D6452E70E crypto arqc --cvn 20 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --data ${mc_terminal}A00003220000
expect "arqc mastercard cvn 21" C30E54BE496CF5E5 crypto arqc --cvn 21 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --data ${mc_terminal}A0000322000000000000000322FF
expect "arqc --json" '{"arqc":"29CCA15AE665FA2E","cvn":"10"}' crypto arqc --cvn 10 --imk $imk --pan 1234567890123456 --psn 00 --atc 001c --data ${visa_terminal}03a06010 --json

# ARPC.
expect "arpc method 1, cvn 10" 28993816AFAE4AEB crypto arpc --cvn 10 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --arqc 29CCA15AE665FA2E --arc 3030
expect "arpc method 2, cvn 18" 9AF514C1 crypto arpc --cvn 18 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --arqc 7A788EA6B8A3E733 --csu 00000000
expect "arpc method 1, cvn 16" 73F6BBF389A6586C crypto arpc --cvn 16 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --un ABCDEF12 --arqc 24CCF3DEE3158C70 --arc 0010
expect "arpc method 1, cvn 21" 4F51F9CC63CE8B3C crypto arpc --cvn 21 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --arqc C30E54BE496CF5E5 --arc 0010
expect "arpc method 2 with --pad (pyemv module example)" 76503F48 crypto arpc --cvn 18 --imk AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA --pan 1234567890123456 --psn 00 --atc 0FFF --arqc 769577B5ABE9FE62 --csu 00000000 --pad ""
expect "arpc --json" '{"arpc":"28993816AFAE4AEB","method":"1","cvn":"10"}' crypto arpc --cvn 10 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --arqc 29CCA15AE665FA2E --arc 3030 --json

# Bad input: status 1 and exactly one line on stderr matching the reason.
bad() {  # bad NAME EXPECTED-REGEX ARGS...
  local name=$1 want=$2
  shift 2
  local err
  err=$("$eftctl" "$@" 2>&1 >/dev/null)
  local status=$?
  [ "$status" -eq 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && grep -Eq -e "$want" <<<"$err"
  check "$name" $? "(status $status: $err)"
}
bad "cvv odd-length key" "--cvk: .*odd" crypto cvv --cvk 0123456789ABCDEFFEDCBA987654321 --pan 4123456789012345 --expiry 8701 --service-code 111
bad "cvv wrong key length" "--cvk: key of 8 bytes; expected 16" crypto cvv --cvk 0123456789ABCDEF --pan 4123456789012345 --expiry 8701 --service-code 111
bad "cvv non-digit PAN" "--pan: expected 12-19 decimal digits" crypto cvv --cvk $imk --pan 41234567890123X5 --expiry 8701 --service-code 111
bad "cvv bad expiry" "--expiry: expected 4 decimal digits" crypto cvv --cvk $imk --pan 4123456789012345 --expiry 870 --service-code 111
bad "cvv bad service code" "--service-code: expected 3 decimal digits" crypto cvv --cvk $imk --pan 4123456789012345 --expiry 8701 --service-code 11
bad "cvv missing key" "give the CVK" crypto cvv --pan 4123456789012345 --expiry 8701 --service-code 111
bad "pvv short PIN" "--pin: expected 4-12 decimal digits" crypto pvv --pvk $imk --pvki 1 --pin 452 --pan 1122334455667788
bad "pvv long PIN" "--pin: expected 4-12 decimal digits" crypto pvv --pvk $imk --pvki 1 --pin 1234567890123 --pan 1122334455667788
bad "pvv bad index" "--pvki: expected a number from 0 to 9" crypto pvv --pvk $imk --pvki 12 --pin 4524 --pan 1122334455667788
bad "pvv single-length key" "--pvk: key of 8 bytes; expected 16, 24" crypto pvv --pvk 0123456789ABCDEF --pvki 1 --pin 4524 --pan 1122334455667788
bad "ibm3624 bad table" "--decimalization: expected 16 decimal digits" crypto ibm3624-offset --pvk $imk --decimalization 123456789012345A --validation-data 1122334455667788 --pin 1234
bad "ibm3624 bad validation data" "--validation-data: expected 16 hex digits" crypto ibm3624-offset --pvk $imk --decimalization 1234567890123456 --validation-data 11223344 --pin 1234
bad "ibm3624 check length over PIN length" "--check-length: expected a number from 4 to 4" crypto ibm3624-offset --pvk $imk --decimalization 1234567890123456 --validation-data 1122334455667788 --pin 1234 --check-length 6
bad "ibm3624 non-digit PIN" "--pin: expected 4-12 decimal digits" crypto ibm3624-offset --pvk $imk --decimalization 1234567890123456 --validation-data 1122334455667788 --pin 12A4
bad "arqc unknown CVN" "CVN 14 is not supported" crypto arqc --cvn 14 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --data 00
bad "arqc odd-length data" "--data: .*odd" crypto arqc --cvn 10 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --data 000
bad "arqc short ATC" "--atc: the ATC is 2 bytes" crypto arqc --cvn 10 --imk $imk --pan 1234567890123456 --psn 00 --atc 1C --data 00
bad "arqc bad PSN" "--psn: expected 2 decimal digits" crypto arqc --cvn 10 --imk $imk --pan 1234567890123456 --psn 0 --atc 001C --data 00
bad "arqc mastercard SKD without UN" "give --un HEX" crypto arqc --cvn 17 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --data 00
bad "arqc 24-byte IMK" "--imk: key of 24 bytes; expected 16" crypto arqc --cvn 10 --imk ${imk}0123456789ABCDEF --pan 1234567890123456 --psn 00 --atc 001C --data 00
bad "arpc both arc and csu" "either --arc HEX .* or --csu HEX" crypto arpc --cvn 10 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --arqc 29CCA15AE665FA2E --arc 3030 --csu 00000000
bad "arpc wrong method for the CVN" "CVN 10 uses ARPC method 1" crypto arpc --cvn 10 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --arqc 29CCA15AE665FA2E --csu 00000000
bad "arpc short ARQC" "--arqc: the ARQC is 8 bytes" crypto arpc --cvn 10 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --arqc 29CCA15AE665FA --arc 3030
bad "arpc long pad" "--pad: .*at most 8 bytes" crypto arpc --cvn 18 --imk $imk --pan 1234567890123456 --psn 00 --atc 001C --arqc 7A788EA6B8A3E733 --csu 00000000 --pad 001122334455667788

err=$("$eftctl" crypto pvv --pvk $imk --pvki 1 --pin 45X4 --pan 1122334455667788 2>&1)
! grep -q "45X4\|1122334455667788" <<<"$err"; check "errors never echo the PIN or PAN" $? "($err)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
