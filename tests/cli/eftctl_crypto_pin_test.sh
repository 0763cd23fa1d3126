#!/usr/bin/env bash
# eftctl crypto kcv | pin-block | mac against published vectors, and the bad-input contract (exit
# status 1, exactly one line on stderr, never echoing a PIN or PAN). Argument: eftctl path.
set -u
eftctl=$1
pass=0
fail=0

check() {  # check NAME CONDITION-EXIT-STATUS [detail]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok    $1"; else fail=$((fail + 1)); echo "FAIL  $1 ${3:-}"; fi
}

same() {  # same NAME EXPECTED ARGS...: exit 0 and exactly EXPECTED on stdout
  local name=$1 want=$2
  shift 2
  local got
  got=$("$eftctl" "$@" 2>&1)
  local status=$?
  [ "$status" -eq 0 ] && [ "$got" = "$want" ]
  check "$name" $? "(status $status, got '$got', want '$want')"
}

bad() {  # bad NAME EXPECTED-REGEX ARGS...: exit 1, one line on stderr matching, nothing on stdout
  local name=$1 want=$2
  shift 2
  local out err status
  err=$("$eftctl" "$@" 2>&1 >/dev/null)
  status=$?
  out=$("$eftctl" "$@" 2>/dev/null)
  [ "$status" -eq 1 ] && [ -z "$out" ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && grep -Eq -e "$want" <<<"$err"
  check "$name" $? "(status $status: $err)"
}

now_all=4E6F77206973207468652074696D6520666F7220616C6C20  # "Now is the time for all " (ISO/IEC 9797-1 Annex B)
now_it=4E6F77206973207468652074696D6520666F72206974        # "Now is the time for it"

# --- kcv ----------------------------------------------------------------------------------------
same "kcv tdes (X9.24 test key)" 08D7B4 crypto kcv --key 0123456789ABCDEFFEDCBA9876543210
same "kcv tdes lowercase key" 08D7B4 crypto kcv --key 0123456789abcdeffedcba9876543210 --algo tdes
same "kcv single DES key (OpenSSL DES vector)" D5D44F crypto kcv --key 0123456789ABCDEF
same "kcv tdes 8 bytes" 08D7B4FB629D0885 crypto kcv --key 0123456789ABCDEFFEDCBA9876543210 --length 8
same "kcv aes cmac" 53E107B36E crypto kcv --key 00112233445566778899AABBCCDDEEFF --algo aes
same "kcv aes legacy (AESAVS ECBKeySbox128)" 6D251E6944 crypto kcv --key 10A58869D74BE5A374CF867CFB473859 --algo aes --legacy
same "kcv aes-256 legacy 3 bytes (AESAVS ECBVarKey256)" E35A6D \
  crypto kcv --key 8000000000000000000000000000000000000000000000000000000000000000 --algo aes --legacy --length 3
same "kcv --json" '{"kcv":"53E107B36E","algorithm":"aes","method":"CMAC(0)"}' \
  crypto kcv --key 00112233445566778899AABBCCDDEEFF --algo aes --json
bad "kcv odd-length key" "--key: .*odd" crypto kcv --key 0123456789ABCDEFFEDCBA987654321
bad "kcv non-hex key" "--key: not a hex digit" crypto kcv --key 0123456789ABCDEFFEDCBA98765432G0
bad "kcv wrong tdes length" "--key: key of 10 bytes" crypto kcv --key 0123456789ABCDEF0123
bad "kcv wrong aes length" "--key: key of 8 bytes" crypto kcv --key 0123456789ABCDEF --algo aes
bad "kcv unknown algo" "--algo: expected tdes or aes" crypto kcv --key 0123456789ABCDEFFEDCBA9876543210 --algo rsa
bad "kcv length too long" "at most 8 bytes" crypto kcv --key 0123456789ABCDEFFEDCBA9876543210 --length 9
bad "kcv no key" "--key HEX" crypto kcv

# --- pin-block ----------------------------------------------------------------------------------
same "format 0 (X9.24-1 Annex A)" 041274EDCBA9876F crypto pin-block --format 0 --pin 1234 --pan 4012345678909
same "format 0 (psec)" 041261AAAAEDCBA9 crypto pin-block --format 0 --pin 1234 --pan 5555555551234567
same "format 0 under a TDES key (X9.24-1 Annex A)" 1B9C1845EB993A7A \
  crypto pin-block --format 0 --pin 1234 --pan 4012345678909 --key 042666B49184CF5C68DE9628D0397B36
same "format 1 (IBM CCA example)" 161234566ABCFDE1 crypto pin-block --format 1 --pin 123456 --random 6ABCFDE1
same "format 3 (IBM example)" 361216759CFA8889 \
  crypto pin-block --format 3 --pin 123456 --pan 1112223334445559 --random AFBECDDC
same "format 4 (X9.24-3 supplement)" A912150391AB65A67E52883D81CE2D15 \
  crypto pin-block --format 4 --key AF8CB133A78F8DC2D1359F18527593FB --pin 1234 --pan 4111111111111111 --random 2F69ADDE2E9E7ACE
same "format 4 (psec, FF fill)" 28B41FDDD29B743E93124BD8E32D921E \
  crypto pin-block --format 4 --key 00112233445566778899AABBCCDDEEFF --pin 1234 --pan 1234567890123456789 --random FFFFFFFFFFFFFFFF
same "pin-block --json" '{"pin_block":"041274EDCBA9876F","format":"0","kind":"clear"}' \
  crypto pin-block --format 0 --pin 1234 --pan 4012345678909 --json
f1=$("$eftctl" crypto pin-block --format 1 --pin 1234)
[[ "$f1" =~ ^141234[0-9A-F]{10}$ ]]; check "format 1 with random fill" $? "($f1)"
f3=$("$eftctl" crypto pin-block --format 3 --pin 1234 --pan 5555555551234567)
[[ "$f3" =~ ^341261[0-9A-F]{10}$ ]]; check "format 3 with random fill" $? "($f3)"
a=$("$eftctl" crypto pin-block --format 4 --key AF8CB133A78F8DC2D1359F18527593FB --pin 1234 --pan 4111111111111111)
b=$("$eftctl" crypto pin-block --format 4 --key AF8CB133A78F8DC2D1359F18527593FB --pin 1234 --pan 4111111111111111)
[[ "$a" =~ ^[0-9A-F]{32}$ ]] && [ "$a" != "$b" ]; check "format 4 with random fill differs each time" $?

bad "non-digit PIN" "--pin: expected 4-12 decimal digits" crypto pin-block --format 0 --pin 12a4 --pan 4012345678909
bad "PIN of 3 digits" "--pin: expected 4-12" crypto pin-block --format 0 --pin 123 --pan 4012345678909
bad "PIN of 13 digits" "--pin: expected 4-12" crypto pin-block --format 0 --pin 1234567890123 --pan 4012345678909
bad "non-digit PAN" "--pan: .*decimal digits" crypto pin-block --format 0 --pin 1234 --pan 40123456789X9
bad "PAN too short for format 0" "--pan: formats 0 and 3 need" crypto pin-block --format 3 --pin 1234 --pan 40123456789
bad "PAN too long for format 4" "--pan: format 4 needs" \
  crypto pin-block --format 4 --key AF8CB133A78F8DC2D1359F18527593FB --pin 1234 --pan 41111111111111111111
bad "unknown format" "--format: expected 0, 1, 3 or 4" crypto pin-block --format 2 --pin 1234 --pan 4012345678909
bad "format 4 without key" "format 4 needs the AES PIN key" crypto pin-block --format 4 --pin 1234 --pan 4111111111111111
bad "format 4 with a TDES-length key" "--key: key of 8 bytes" \
  crypto pin-block --format 4 --key 0123456789ABCDEF --pin 1234 --pan 4111111111111111
bad "format 4 random not 8 bytes" "--random: format 4 takes 8 bytes" \
  crypto pin-block --format 4 --key AF8CB133A78F8DC2D1359F18527593FB --pin 1234 --pan 4111111111111111 --random 2F69
bad "format 0 with random" "--random: format 0 has no random fill" \
  crypto pin-block --format 0 --pin 1234 --pan 4012345678909 --random 00
bad "format 1 fill too short" "random fill too short" crypto pin-block --format 1 --pin 1234 --random 0102
bad "odd-length random" "--random: .*odd" crypto pin-block --format 1 --pin 1234 --random 0102030
bad "no PAN for format 0" "--pan PAN" crypto pin-block --format 0 --pin 1234
err=$("$eftctl" crypto pin-block --format 0 --pin 98765 --pan 4999888877776666X 2>&1)
! grep -Eq "98765|4999888877776666" <<<"$err"; check "errors never echo PIN or PAN" $? "($err)"

# --- mac ----------------------------------------------------------------------------------------
k=0123456789ABCDEFFEDCBA9876543210
same "alg3 padding 1 (9797-1 B.4)" A1C72E74EA3FA9B6 crypto mac --algo iso9797-1-alg3 --key $k --data $now_all
same "alg3 padding 2, 4 bytes (9797-1 B.4)" E9086230 crypto mac --algo iso9797-1-alg3 --key $k --data $now_all --padding 2 --length 4
same "alg3 padding 2, data 2 (9797-1 B.4)" 5A692CE6 crypto mac --algo iso9797-1-alg3 --key $k --data $now_it --padding 2 --length 4
same "alg1 DES padding 1 (9797-1 B.2)" 70A30640CC76DD8B crypto mac --algo iso9797-1-alg1 --key 0123456789ABCDEF --data $now_all
same "alg1 DES padding 2 (9797-1 B.2)" A924C721 \
  crypto mac --algo iso9797-1-alg1 --key 0123456789ABCDEF --cipher des --data $now_it --padding 2 --length 4
same "alg1 TDES (psec)" 32DC341271ACCD00 \
  crypto mac --algo iso9797-1-alg1 --key AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB --data 68656C6C6F20776F726C64 --padding 2
same "cmac AES empty (RFC 4493)" BB1D6929E95937287FA37D129B756746 crypto mac --algo cmac --key 2B7E151628AED2A6ABF7158809CF4F3C --data ""
same "cmac AES 16 bytes (RFC 4493)" 070A16B46B4D4144F79BDD9DD04A287C \
  crypto mac --algo cmac --cipher aes --key 2B7E151628AED2A6ABF7158809CF4F3C --data 6BC1BEE22E409F96E93D7E117393172A
same "cmac TDES 3-key (SP 800-38B D.4)" 743DDBE0CE2DC2ED \
  crypto mac --algo cmac --cipher tdes --key 8AA83BF8CBDA10620BC1BF19FBB6CD58BC313D4A371CA8B5 --data 6BC1BEE22E409F96E93D7E117393172AAE2D8A57
same "cmac TDES 2-key (SP 800-38B D.5)" 31B1E431DABC4EB8 \
  crypto mac --algo cmac --cipher tdes --key 4CF15134A2850DD58A3D10BA80570D38 \
  --data 6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51
same "hmac-sha256 (RFC 4231 case 2)" 5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843 \
  crypto mac --algo hmac-sha256 --key 4A656665 --data 7768617420646F2079612077616E7420666F72206E6F7468696E673F
same "hmac-sha256 truncated (RFC 4231 case 5)" A3B6167473100EE06E0C796C2955552B \
  crypto mac --algo hmac-sha256 --key 0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C --data 546573742057697468205472756E636174696F6E --length 16
same "mac --json" '{"mac":"A1C72E74","algorithm":"iso9797-1-alg3","length":"4"}' \
  crypto mac --algo iso9797-1-alg3 --key $k --data $now_all --length 4 --json

bad "mac unknown algo" "--algo: expected" crypto mac --algo md5 --key $k --data 00
bad "mac odd-length data" "--data: .*odd" crypto mac --algo iso9797-1-alg3 --key $k --data 000
bad "mac odd-length key" "--key: .*odd" crypto mac --algo iso9797-1-alg3 --key 012 --data 00
bad "alg3 wrong key length" "retail MAC keys are 16 bytes" crypto mac --algo iso9797-1-alg3 --key 0123456789ABCDEF --data 00
bad "alg3 with aes" "--cipher: iso9797-1-alg3 is the DES retail MAC" crypto mac --algo iso9797-1-alg3 --key $k --data 00 --cipher aes
bad "alg1 tdes wrong key length" "TDES keys are 16 or 24 bytes" \
  crypto mac --algo iso9797-1-alg1 --cipher tdes --key 0123456789ABCDEF --data 00
bad "cmac aes wrong key length" "AES keys are 16, 24 or 32 bytes" crypto mac --algo cmac --key 0123456789ABCDEF --data 00
bad "bad padding" "--padding: expected 1 or 2" crypto mac --algo iso9797-1-alg3 --key $k --data 00 --padding 3
bad "padding for cmac" "--padding: applies to" crypto mac --algo cmac --key 2B7E151628AED2A6ABF7158809CF4F3C --data 00 --padding 2
bad "cipher for hmac" "--cipher: does not apply" crypto mac --algo hmac-sha256 --key 00 --data 00 --cipher aes
bad "unknown cipher" "--cipher: expected des, tdes or aes" crypto mac --algo iso9797-1-alg1 --key $k --data 00 --cipher sm4
bad "length too long" "MAC length must be 4 to 8 bytes" crypto mac --algo iso9797-1-alg3 --key $k --data 00 --length 9
bad "length too short" "MAC length must be 4 to 8 bytes" crypto mac --algo iso9797-1-alg3 --key $k --data 00 --length 2
bad "length not a number" "--length: expected" crypto mac --algo iso9797-1-alg3 --key $k --data 00 --length x
bad "mac no data" "--data HEX" crypto mac --algo iso9797-1-alg3 --key $k

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
