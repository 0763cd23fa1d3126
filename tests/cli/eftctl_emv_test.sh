#!/usr/bin/env bash
# eftctl emv decode as an operator uses it: the annotated tree, the JSON form, masking of card data,
# and the bad-input contract (exit status 1, one line on stderr naming the offset). Argument: eftctl path.
set -u
eftctl=$1
pass=0
fail=0

check() {  # check NAME CONDITION-EXIT-STATUS [detail]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok    $1"; else fail=$((fail + 1)); echo "FAIL  $1 ${3:-}"; fi
}

# The Visa CVN 10 request of ../shared/vectors/payment-crypto.yaml (pyemv test_cvn_hsm.py) with card
# data (5A, 57) and an issuer script template.
f55="9F260829CCA15AE665FA2E 9F270180 9F100706010A03A06010 9F370452BF4585 9F3602001C 95058000048000"
f55+=" 9A03191105 9C0101 9F0206000000004000 5F2A020124 82021800 9F1A020124 9F0306000000000000"
f55+=" 8407A0000000031010 5A084761739001010010 57114761739001010010D22122011758928889"
f55+=" 710F9F180400000001860684240000 0801"

tree=$("$eftctl" emv decode --hex "$f55")
check "decode exits 0" $?
grep -q "^9F26  Application Cryptogram \[8\] 29CCA15AE665FA2E$" <<<"$tree"; check "tree names tags and shows values" $?
grep -q "ARQC (online authorisation requested)" <<<"$tree"; check "CID decoded" $?
grep -q "byte 1 bit 8: Offline data authentication was not performed" <<<"$tree"; check "TVR decoded" $?
grep -q "cryptogram version number 0A (CVN 10)" <<<"$tree"; check "IAD split by CVN" $?
grep -q "^  86  Issuer Script Command \[6\] 842400000801$" <<<"$tree"; check "template children indented" $?
! grep -q 4761739001010010 <<<"$tree"; check "tree has no clear PAN" $?
grep -q "476173\*\*\*\*\*\*0010" <<<"$tree"; check "tree shows the PAN masked" $?
! grep -q D2212201 <<<"$tree"; check "tree has no track 2" $?

json=$("$eftctl" emv decode --hex "$f55" --json)
check "decode --json exits 0" $?
# The JSON is printed with 2-space indentation: top-level objects at 4 spaces, children at 8.
first=$(printf '%s\n' "$json" | sed -n 2,7p | tr -d ' \n')
[ "$first" = '{"tag":"9F26","length":8,"value":"29CCA15AE665FA2E","name":"ApplicationCryptogram"},' ]
check "JSON: the first object is {tag, length, value, name}" $? "($first)"
[ "$(grep -c '^    "tag"' <<<"$json")" -eq 17 ] && [ "$(grep -c '^        "tag"' <<<"$json")" -eq 2 ]
check "JSON: 17 top-level objects, 2 children" $?
[ "$(grep -c '"children"' <<<"$json")" -eq 1 ] && grep -q '^        "value": "842400000801",$' <<<"$json"
check "JSON: children only for the constructed 71" $?
grep -q '"value": "476173\*\*\*\*\*\*0010",' <<<"$json" && grep -q '"value": "\[redacted\]",' <<<"$json" &&
  grep -q '"masked": true' <<<"$json" && ! grep -q 4761739001010010 <<<"$json"
check "JSON: card data masked" $?
revealed=$("$eftctl" emv decode --hex "$f55" --json --reveal)
grep -q '"value": "4761739001010010"' <<<"$revealed"; check "--reveal shows the PAN" $?

# Padding between objects and unknown tags.
out=$("$eftctl" emv decode --hex "00 9F2701 80 FF DF7F 01 AA 0000" --json)
[ "$(grep '^    "tag"' <<<"$out" | tr -d ' ,')" = "$(printf '"tag":"9F27"\n"tag":"DF7F"')" ] && grep -q '"name": "unknown"' <<<"$out"
check "padding skipped, unknown tag kept" $?

# Bad input: status 1 and exactly one line on stderr naming the offset and the reason.
bad() {  # bad NAME EXPECTED-REGEX ARGS...
  local name=$1 want=$2
  shift 2
  local err
  err=$("$eftctl" "$@" 2>&1 >/dev/null)
  local status=$?
  [ "$status" -eq 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && grep -Eq "$want" <<<"$err"
  check "$name" $? "(status $status: $err)"
}
bad "length past the end" "^eftctl: offset 3: tag 9F26: length runs past the end of the data \(length 8 > 2 bytes left\)$" \
  emv decode --hex "009F2608AABB"
bad "long length past the end" "offset 2: tag 9F10: length runs past the end" emv decode --hex "9F1081FF0102"
bad "tag continuation off the end" "^eftctl: offset 4: data ends inside a data object$" emv decode --hex "9F2701809F"
bad "tag of four bytes" "offset 0: tag longer than 3 bytes" emv decode --hex "9F81818100"
bad "indefinite length" "offset 1: tag 9C: indefinite length" emv decode --hex "9C80"
bad "length of four bytes" "offset 1: tag 9C: length field longer" emv decode --hex "9C8400000001FF"
bad "inner object past its template" "offset 3: tag 9C: length runs past" emv decode --hex "E0039C8101C001FF"
bad "odd hex" "not an even number of hex digits" emv decode --hex "9F2"
bad "missing --hex" "hex is required" emv decode
err=$("$eftctl" emv decode --hex "5A08476173900101001057FF" 2>&1)
! grep -q 4761739001010010 <<<"$err"; check "errors never echo card data" $? "($err)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
