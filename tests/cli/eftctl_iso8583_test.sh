#!/usr/bin/env bash
# eftctl iso8583 as an operator uses it: decode/encode round trips, masking, framing, and the bad-input
# contract (exit status 1, one line on stderr naming field, offset and reason). Argument: eftctl path.
set -u
eftctl=$1
here=$(cd "$(dirname "$0")" && pwd)
sample="$here/../../docs/examples/purchase-0200.json"
pass=0
fail=0

check() {  # check NAME CONDITION-EXIT-STATUS [detail]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok    $1"; else fail=$((fail + 1)); echo "FAIL  $1 ${3:-}"; fi
}

for spec in iso87-ascii iso87-binary iso87-ebcdic; do
  hex=$("$eftctl" iso8583 encode --spec "$spec" --json "$sample")
  check "$spec: encode exits 0" $?
  json=$("$eftctl" iso8583 decode --spec "$spec" --hex "$hex" --reveal)
  check "$spec: decode exits 0" $?
  again=$(printf '%s' "$json" | "$eftctl" iso8583 encode --spec "$spec" --json -)
  [ "$again" = "$hex" ]; check "$spec: decode then encode gives the same bytes" $?
  masked=$("$eftctl" iso8583 decode --spec "$spec" --hex "$hex")
  ! grep -q 4761739001010010 <<<"$masked"; check "$spec: masked JSON has no clear PAN" $?
  grep -q '"476173\*\*\*\*\*\*0010"' <<<"$masked"; check "$spec: masked JSON keeps first 6 and last 4" $?
  ! grep -q 27122011758928889 <<<"$masked"; check "$spec: masked JSON has no track 2" $?
  ! grep -q 4C3B8E1E4B82F0A9 <<<"$masked"; check "$spec: masked JSON has no PIN block" $?
  dump=$("$eftctl" iso8583 decode --spec "$spec" --hex "$hex" --dump)
  grep -q "Primary account number" <<<"$dump" && ! grep -q 4761739001010010 <<<"$dump"
  check "$spec: dump names fields and masks the PAN" $?
done

# --framed: a 2-byte big-endian length first.
hex=$("$eftctl" iso8583 encode --spec iso87-binary --json "$sample")
framed=$("$eftctl" iso8583 encode --spec iso87-binary --json "$sample" --framed)
len=$(( ${#hex} / 2 ))
[ "$framed" = "$(printf '%04X' "$len")$hex" ]; check "encode --framed prefixes the length" $?
"$eftctl" iso8583 decode --spec iso87-binary --hex "$framed" --framed >/dev/null; check "decode --framed" $?

# --file and a spec given as a YAML path.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s' "$hex" | xxd -r -p >"$tmp/msg.bin"
"$eftctl" iso8583 decode --spec iso87-binary --file "$tmp/msg.bin" >/dev/null; check "decode --file" $?
cp "$here/../../iso8583/specs/iso87-binary.yaml" "$tmp/host.yaml"
"$eftctl" iso8583 decode --spec "$tmp/host.yaml" --hex "$hex" >/dev/null; check "spec as a YAML file" $?

# Bad input: status 1 and exactly one line on stderr that names field, offset and reason.
bad() {  # bad NAME EXPECTED-REGEX ARGS...
  local name=$1 want=$2
  shift 2
  local err
  err=$("$eftctl" "$@" 2>&1 >/dev/null)
  local status=$?
  [ "$status" -eq 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && grep -Eq "$want" <<<"$err"
  check "$name" $? "(status $status: $err)"
}
bad "truncated message" "field 55 at offset [0-9]+: truncated" iso8583 decode --spec iso87-binary --hex "${hex:0:${#hex}-4}"
bad "trailing bytes" "message at offset [0-9]+: trailing bytes" iso8583 decode --spec iso87-binary --hex "${hex}00"
bad "non-digit MTI" "MTI at offset 0: bad MTI" iso8583 decode --spec iso87-ascii --hex "3032304100"
bad "odd hex" "not an even number of hex digits" iso8583 decode --spec iso87-ascii --hex "303"
bad "unknown spec" "neither a built-in spec" iso8583 decode --spec nosuch --hex "00"
bad "bad JSON" "not valid JSON" iso8583 encode --spec iso87-ascii --json <(echo '{"0": ')
bad "too long a value" "field 3 at offset [0-9]+: length over the maximum \(7 > 6\)" iso8583 encode --spec iso87-ascii --json <(echo '{"0":"0200","3":"0000000"}')
bad "letter in an n field" "field 4 at offset [0-9]+: character not allowed" iso8583 encode --spec iso87-ascii --json <(echo '{"0":"0200","4":"00000000001A"}')
bad "field not in the spec" "field 1 at offset 0: field not defined" iso8583 encode --spec iso87-ascii --json <(echo '{"0":"0200","1":"00"}')
bad "framed length mismatch" "bad length prefix" iso8583 decode --spec iso87-binary --hex "0005${hex}" --framed
pan_err=$("$eftctl" iso8583 encode --spec iso87-ascii --json <(echo '{"0":"0200","2":"47617390010100X0"}') 2>&1)
! grep -q 47617390010100 <<<"$pan_err"; check "errors never echo field content" $? "($pan_err)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
