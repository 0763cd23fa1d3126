// PIN blocks (ISO 9564-1 formats 0, 1, 3, 4), key check values and MACs against published vectors.
// Each vector names its source; none was computed by this code and pasted back.
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>

#include "eft/crypto/kcv.hpp"
#include "eft/crypto/mac.hpp"
#include "eft/crypto/pin_block.hpp"

namespace eft::crypto {
namespace {

bytes hex(std::string_view h) {
  return from_hex(h).value();
}
bytes ascii(std::string_view s) {
  return {s.begin(), s.end()};
}
std::string text(const clear_pin& p) {
  return {reinterpret_cast<const char*>(p.data()), p.size()};
}
std::string hex_of(const secure_bytes& b) {
  return to_hex(b.view());
}

// ============================================================================================
// ISO 9564-1 format 0

TEST(PinBlockIso0, PsecVectors) {
  // knovichikhin/psec tests/test_pinblock.py (also ../shared/vectors/payment-crypto.yaml pin_blocks).
  EXPECT_EQ(hex_of(make_pin_block(pin_block_format::iso0, "1234", "5555555551234567").value()), "041261AAAAEDCBA9");
  EXPECT_EQ(hex_of(make_pin_block(pin_block_format::iso0, "123456789012", "5555555551234567").value()),
            "0C1261032D8226A9");
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso0, hex("091261032D8DCBA9"), "5555555551234567").value()),
            "123456789");
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso0, hex("0A1261032D82CBA9"), "5555555551234567").value()),
            "1234567890");
}

TEST(PinBlockIso0, X924DukptClearBlock) {
  // ANSI X9.24-1:2009 Annex A (DUKPT TDES examples): PIN 1234, PAN 4012345678909 -> 041274EDCBA9876F.
  EXPECT_EQ(hex_of(make_pin_block(pin_block_format::iso0, "1234", "4012345678909").value()), "041274EDCBA9876F");
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso0, hex("041274EDCBA9876F"), "4012345678909").value()), "1234");
}

TEST(PinBlockIso0, MoovVector) {
  // moov-io/pinblock formats/iso0_test.go: PIN 1234, account 5432101234567891 -> 041215FEDCBA9876.
  EXPECT_EQ(hex_of(make_pin_block(pin_block_format::iso0, "1234", "5432101234567891").value()), "041215FEDCBA9876");
}

TEST(PinBlockIso0, X924DukptEncryptedBlocks) {
  // ANSI X9.24-1:2009 Annex A: the clear block above under the first three PIN keys (variant of the
  // DUKPT future keys) gives these encrypted PIN blocks.
  struct tx {
    const char* pin_key;
    const char* block;
  };
  const tx txs[] = {{"042666B49184CF5C68DE9628D0397B36", "1B9C1845EB993A7A"},
                    {"C46551CEF9FD244FAA9AD834130D3B38", "10A01C8D02C69107"},
                    {"0DF3D9422ACA561A47676D07AD6BAD05", "18DC07B94797B466"}};
  for (const auto& t : txs) {
    const auto key = hex(t.pin_key);
    EXPECT_EQ(to_hex(encrypt_pin(pin_block_format::iso0, cipher::tdes, key, "1234", "4012345678909").value()), t.block);
    EXPECT_EQ(text(decrypt_pin(pin_block_format::iso0, cipher::tdes, key, hex(t.block), "4012345678909").value()),
              "1234");
  }
}

TEST(PinBlockIso0, RejectsMalformedBlocks) {
  // knovichikhin/psec tests/test_pinblock.py, decode_pinblock_iso_0 exceptions.
  const std::string pan = "5555555551234567";
  EXPECT_EQ(read_pin_block(pin_block_format::iso0, hex("241261AAAAEDCBA9"), pan).error().code, errc::bad_pin_block);
  EXPECT_EQ(read_pin_block(pin_block_format::iso0, hex("041261AAAAEDCB"), pan).error().code, errc::bad_data_length);
  EXPECT_EQ(read_pin_block(pin_block_format::iso0, hex("0F1261AAAAEDCBA9"), pan).error().code, errc::bad_pin_block);
  EXPECT_EQ(read_pin_block(pin_block_format::iso0, hex("021261AAAAEDCBA9"), pan).error().code, errc::bad_pin_block);
  EXPECT_EQ(read_pin_block(pin_block_format::iso0, hex("041261AAAAEDCBAA"), pan).error().code, errc::bad_pin_block);
  EXPECT_EQ(read_pin_block(pin_block_format::iso0, hex("051261AAAAEDCBA9"), pan).error().code, errc::bad_pin_block);
  EXPECT_EQ(read_pin_block(pin_block_format::iso0, hex("051261AAAAEDCBA9"), "55555555512").error().code, errc::bad_pan);
  EXPECT_EQ(read_pin_block(pin_block_format::iso0, hex("051261AAAAEDCBA9"), "5555555551234A").error().code,
            errc::bad_pan);
}

// ============================================================================================
// ISO 9564-1 format 1

TEST(PinBlockIso1, IbmCcaExample) {
  // IBM CCA Basic Services Reference, Appendix E "ISO-1 PIN-block format": L=6, PIN 123456, random
  // fillers 6ABCFDE1 -> 161234566ABCFDE1. Format 1 carries no PAN.
  const auto block = make_pin_block(pin_block_format::iso1, "123456", "", hex("6ABCFDE1")).value();
  EXPECT_EQ(hex_of(block), "161234566ABCFDE1");
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso1, block, "").value()), "123456");
}

TEST(PinBlockIso1, RandomFillDiffersAndDecodes) {
  const auto a = make_pin_block(pin_block_format::iso1, "1234", "").value();
  const auto b = make_pin_block(pin_block_format::iso1, "1234", "").value();
  EXPECT_EQ(hex_of(a).substr(0, 6), "141234");
  EXPECT_NE(hex_of(a), hex_of(b));  // 10 random nibbles: a collision is 2^-40
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso1, a, "").value()), "1234");
}

TEST(PinBlockIso1, RejectsShortFillAndBadControl) {
  EXPECT_EQ(make_pin_block(pin_block_format::iso1, "1234", "", hex("010203")).error().code, errc::bad_input);
  EXPECT_EQ(read_pin_block(pin_block_format::iso1, hex("041234FFFFFFFFFF"), "").error().code, errc::bad_pin_block);
  EXPECT_EQ(read_pin_block(pin_block_format::iso1, hex("1D1234FFFFFFFFFF"), "").error().code, errc::bad_pin_block);
}

// ============================================================================================
// ISO 9564-1 format 3

TEST(PinBlockIso3, IbmExample) {
  // IBM Linux on Z docs, "ISO Format 3": PIN 123456, IPB 36123456AFBECDDC, PAN block
  // 0000222333444555, PIN block 361216759CFA8889. IBM's account number 111222333444555 is the part
  // before the check digit; we give the full PAN with its Luhn digit (9) appended.
  const auto block = make_pin_block(pin_block_format::iso3, "123456", "1112223334445559", hex("AFBECDDC")).value();
  EXPECT_EQ(hex_of(block), "361216759CFA8889");
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso3, block, "1112223334445559").value()), "123456");
}

TEST(PinBlockIso3, PsecDecodeVectors) {
  // knovichikhin/psec tests/test_pinblock.py, decode_pinblock_iso_3.
  const std::string pan = "5555555551234567";
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso3, hex("341261AAAAEDCBA9"), pan).value()), "1234");
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso3, hex("391261032D8DCBA9"), pan).value()), "123456789");
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso3, hex("3A1261032D82CBA9"), pan).value()), "1234567890");
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso3, hex("3C1261032D8226A9"), pan).value()), "123456789012");
  // ... and its exceptions: control 2, length 15 and 2, filler 4 (not A-F), a PIN digit F.
  EXPECT_EQ(read_pin_block(pin_block_format::iso3, hex("241261AAAAEDCBA9"), pan).error().code, errc::bad_pin_block);
  EXPECT_EQ(read_pin_block(pin_block_format::iso3, hex("3F1261AAAAEDCBA9"), pan).error().code, errc::bad_pin_block);
  EXPECT_EQ(read_pin_block(pin_block_format::iso3, hex("321261AAAAEDCBA9"), pan).error().code, errc::bad_pin_block);
  EXPECT_EQ(read_pin_block(pin_block_format::iso3, hex("341261AAAAEDCBA2"), pan).error().code, errc::bad_pin_block);
  EXPECT_EQ(read_pin_block(pin_block_format::iso3, hex("351261AAAAEDCBA9"), pan).error().code, errc::bad_pin_block);
}

TEST(PinBlockIso3, PsecEncodePrefix) {
  // knovichikhin/psec tests/test_pinblock.py, encode_pinblock_iso_3: the random fill is not
  // published, only the control, length and PIN part.
  EXPECT_EQ(hex_of(make_pin_block(pin_block_format::iso3, "1234", "5555555551234567").value()).substr(0, 6), "341261");
  EXPECT_EQ(hex_of(make_pin_block(pin_block_format::iso3, "123456789012", "5555555551234567").value()).substr(0, 14),
            "3C1261032D8226");
}

TEST(PinBlockIso3, RandomFillIsAtoF) {
  for (int i = 0; i < 50; ++i) {
    const auto block = make_pin_block(pin_block_format::iso3, "1234", "5555555551234567").value();
    ASSERT_TRUE(read_pin_block(pin_block_format::iso3, block, "5555555551234567"));  // checks every fill nibble
  }
  // Caller fill: nibbles A-F are kept, 0-9 become A + n mod 6 (0 -> A, 9 -> D).
  const auto block = make_pin_block(pin_block_format::iso3, "123456789012", "5555555551234567", hex("09")).value();
  EXPECT_EQ(text(read_pin_block(pin_block_format::iso3, block, "5555555551234567").value()), "123456789012");
}

// ============================================================================================
// ISO 9564-1 format 4 (AES)

TEST(PinBlockIso4, X924_3Supplement) {
  // ANSI X9.24-3-2017 supplement test vectors, "Calculation of AES PIN Block Format 4" (AES PIN key of
  // the AES-128 DUKPT example, counter 1); ../shared/vectors/payment-crypto.yaml pin_blocks.
  const auto key = hex("AF8CB133A78F8DC2D1359F18527593FB");
  const auto block = encrypt_pin_block_iso4(key, "1234", "4111111111111111", hex("2F69ADDE2E9E7ACE")).value();
  EXPECT_EQ(to_hex(block), "A912150391AB65A67E52883D81CE2D15");
  EXPECT_EQ(text(decrypt_pin_block_iso4(key, block, "4111111111111111").value()), "1234");
  EXPECT_EQ(
      to_hex(encrypt_pin(pin_block_format::iso4, cipher::aes, key, "1234", "4111111111111111", hex("2F69ADDE2E9E7ACE"))
                 .value()),
      "A912150391AB65A67E52883D81CE2D15");
}

TEST(PinBlockIso4, PsecVectors) {
  // knovichikhin/psec tests/test_pinblock.py: encipher with the RNG replaced by FF bytes, and decipher.
  const auto key = hex("00112233445566778899AABBCCDDEEFF");
  EXPECT_EQ(to_hex(encrypt_pin_block_iso4(key, "1234", "1234567890123456789", hex("FFFFFFFFFFFFFFFF")).value()),
            "28B41FDDD29B743E93124BD8E32D921E");
  // PAN shorter than 12 digits.
  EXPECT_EQ(text(decrypt_pin_block_iso4(key, hex("39B69B1B91FE05D48F7EF0D68EB2CBD6"), "1").value()), "123456");
  // psec cites ep2 (eft/pos 2000) Security Specification 8.0.0, 8.4 PIN Encryption.
  EXPECT_EQ(text(decrypt_pin_block_iso4(hex("C1D0F8FB4958670DBA40AB1F3752EF0D"),
                                        hex("CC17F65586BFD0953010226C4FC5B3CA"), "432198765432109870")
                     .value()),
            "1234");
}

TEST(PinBlockIso4, PsecMalformedBlocks) {
  // knovichikhin/psec tests/test_pinblock.py, decipher_pinblock_iso_4 exceptions: control field 3, a
  // non-numeric PIN, filler BBBBBBBBBB, PIN length 3 (under an AES-192 key).
  EXPECT_EQ(decrypt_pin_block_iso4(hex("E60B15B90ABDF14CEE337C97440F0D6E"), hex("7D5AF4C33667A2098626027FB7A9A1B7"),
                                   "4266229809609384667")
                .error()
                .code,
            errc::bad_pin_block);
  EXPECT_EQ(decrypt_pin_block_iso4(hex("C7BBEBA16C5AD97D5866450718C03750"), hex("2F9C910447F17293EC95DEDE1E3CA201"),
                                   "8220499325458689523")
                .error()
                .code,
            errc::bad_pin_block);
  EXPECT_EQ(decrypt_pin_block_iso4(hex("820F6C7C12355BDFF1AB6CE12E8EED89"), hex("CCF310A8300B46C925A86B1098089301"),
                                   "939589847393485609")
                .error()
                .code,
            errc::bad_pin_block);
  EXPECT_EQ(decrypt_pin_block_iso4(hex("4FE3F0311936FBCE44F17159F1659CF09B2BF8913BB514A1"),
                                   hex("51334B00A6CBA3EC7B1C6F871F060AFC"), "2129100799029059903")
                .error()
                .code,
            errc::bad_pin_block);
  // Wrong lengths: 17-byte block, 20-digit PAN.
  const auto key = hex("C1D0F8FB4958670DBA40AB1F3752EF0D");
  EXPECT_EQ(decrypt_pin_block_iso4(key, hex("CC17F65586BFD0953010226C4FC5B3CA00"), "432198765432109870").error().code,
            errc::bad_data_length);
  EXPECT_EQ(decrypt_pin_block_iso4(key, hex("CC17F65586BFD0953010226C4FC5B3CA"), "43219876543210987099").error().code,
            errc::bad_pan);
}

TEST(PinBlockIso4, RandomFillRoundTrip) {
  const auto key = hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
  const auto a = encrypt_pin_block_iso4(key, "987654321098", "12334567890123456").value();
  const auto b = encrypt_pin_block_iso4(key, "987654321098", "12334567890123456").value();
  EXPECT_NE(to_hex(a), to_hex(b));
  EXPECT_EQ(text(decrypt_pin_block_iso4(key, a, "12334567890123456").value()), "987654321098");
  EXPECT_EQ(encrypt_pin_block_iso4(key, "1234", "1234", hex("0102")).error().code, errc::bad_input);
  EXPECT_EQ(encrypt_pin_block_iso4(hex("0011223344556677"), "1234", "1234").error().code, errc::bad_key_length);
}

// ============================================================================================
// PIN and PAN checks

TEST(PinChecks, PinAndPanRules) {
  EXPECT_TRUE(check_pin("1234"));
  EXPECT_TRUE(check_pin("123456789012"));
  EXPECT_EQ(check_pin("123").error().code, errc::bad_pin);
  EXPECT_EQ(check_pin("1234567890123").error().code, errc::bad_pin);
  EXPECT_EQ(check_pin("123A").error().code, errc::bad_pin);
  EXPECT_EQ(check_pin("").error().code, errc::bad_pin);
  EXPECT_TRUE(check_pan("555555555555", pin_block_format::iso0));
  EXPECT_EQ(check_pan("55555555555", pin_block_format::iso0).error().code, errc::bad_pan);
  EXPECT_EQ(check_pan("55555555555555555555", pin_block_format::iso3).error().code, errc::bad_pan);
  EXPECT_TRUE(check_pan("1", pin_block_format::iso4));
  EXPECT_EQ(check_pan("", pin_block_format::iso4).error().code, errc::bad_pan);
  EXPECT_TRUE(check_pan("", pin_block_format::iso1));
  EXPECT_EQ(make_pin_block(pin_block_format::iso0, "12a4", "5555555551234567").error().code, errc::bad_pin);
  EXPECT_EQ(hex_of(make_pin_block(pin_block_format::iso0, "1234", "5555555551234567", hex("00")).value()),
            "041261AAAAEDCBA9");  // format 0 ignores fill
  EXPECT_EQ(make_pin_block(pin_block_format::iso4, "1234", "5555555551234567").error().code, errc::bad_format);
}

TEST(PinChecks, ErrorsDoNotEchoPinOrPan) {
  const auto e = make_pin_block(pin_block_format::iso0, "98765", "4999888877776666X").error();
  EXPECT_EQ(e.message().find("98765"), std::string::npos);
  EXPECT_EQ(e.message().find("4999888877776666"), std::string::npos);
}

// ============================================================================================
// Translation under the PCI PIN rules

constexpr const char* dukpt_pin_key = "042666B49184CF5C68DE9628D0397B36";  // X9.24-1:2009 Annex A, KSN ...E00001
constexpr const char* zpk = "0123456789ABCDEFFEDCBA9876543210";
constexpr const char* aes_key = "AF8CB133A78F8DC2D1359F18527593FB";  // X9.24-3-2017 supplement PIN key

TEST(TranslatePinBlock, Iso0ToIso0UnderAnotherKey) {
  const auto in_key = hex(dukpt_pin_key);
  const auto out_key = hex(zpk);
  const auto out = translate_pin_block({pin_block_format::iso0, cipher::tdes, in_key}, hex("1B9C1845EB993A7A"),
                                       {pin_block_format::iso0, cipher::tdes, out_key}, "4012345678909")
                       .value();
  // The clear block under the new key is the published clear block 041274EDCBA9876F.
  EXPECT_EQ(to_hex(ecb_decrypt(cipher::tdes, out_key, out).value()), "041274EDCBA9876F");
}

TEST(TranslatePinBlock, PreparedKeySchedulesGiveThePublishedBlock) {
  // The same published translation with both keys' schedules set up beforehand (as the software
  // HSM's stored keys have them), and with only one side's.
  const auto in_key = hex(dukpt_pin_key);
  const auto out_key = hex(zpk);
  const auto in_schedule = des_key_schedule::make(cipher::tdes, in_key).value();
  const auto out_schedule = des_key_schedule::make(cipher::tdes, out_key).value();
  const auto plain = translate_pin_block({pin_block_format::iso0, cipher::tdes, in_key}, hex("1B9C1845EB993A7A"),
                                         {pin_block_format::iso0, cipher::tdes, out_key}, "4012345678909")
                         .value();
  for (const bool in_prepared : {true, false}) {
    for (const bool out_prepared : {true, false}) {
      const auto out = translate_pin_block(
                           {pin_block_format::iso0, cipher::tdes, in_key, in_prepared ? in_schedule.get() : nullptr},
                           hex("1B9C1845EB993A7A"),
                           {pin_block_format::iso0, cipher::tdes, out_key, out_prepared ? out_schedule.get() : nullptr},
                           "4012345678909")
                           .value();
      EXPECT_EQ(out, plain);
      EXPECT_EQ(to_hex(ecb_decrypt(cipher::tdes, out_key, out).value()), "041274EDCBA9876F");
    }
  }
  // A wrong PIN key's schedules give what the wrong key gives: a PIN block that does not read.
  const auto other = des_key_schedule::make(cipher::tdes, hex("1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A")).value();
  EXPECT_FALSE(translate_pin_block({pin_block_format::iso0, cipher::tdes, in_key, other.get()}, hex("1B9C1845EB993A7A"),
                                   {pin_block_format::iso0, cipher::tdes, out_key}, "4012345678909"));
}

TEST(TranslatePinBlock, Iso0ToIso4AndBack) {
  const auto tdes_key = hex(dukpt_pin_key);
  const auto aes = hex(aes_key);
  const auto iso4 = translate_pin_block({pin_block_format::iso0, cipher::tdes, tdes_key}, hex("1B9C1845EB993A7A"),
                                        {pin_block_format::iso4, cipher::aes, aes}, "4012345678909")
                        .value();
  EXPECT_EQ(iso4.size(), 16U);
  EXPECT_EQ(text(decrypt_pin_block_iso4(aes, iso4, "4012345678909").value()), "1234");
  const auto back = translate_pin_block({pin_block_format::iso4, cipher::aes, aes}, iso4,
                                        {pin_block_format::iso0, cipher::tdes, tdes_key}, "4012345678909")
                        .value();
  EXPECT_EQ(to_hex(back), "1B9C1845EB993A7A");  // format 0 is deterministic
}

TEST(TranslatePinBlock, Iso0ToIso3) {
  const auto k = hex(dukpt_pin_key);
  const auto iso3 = translate_pin_block({pin_block_format::iso0, cipher::tdes, k}, hex("1B9C1845EB993A7A"),
                                        {pin_block_format::iso3, cipher::tdes, k}, "4012345678909")
                        .value();
  EXPECT_EQ(text(decrypt_pin(pin_block_format::iso3, cipher::tdes, k, iso3, "4012345678909").value()), "1234");
}

TEST(TranslatePinBlock, NothingIntoFormat1ExceptFromFormat1) {
  const auto k = hex(dukpt_pin_key);
  const auto aes = hex(aes_key);
  EXPECT_EQ(translate_pin_block({pin_block_format::iso0, cipher::tdes, k}, hex("1B9C1845EB993A7A"),
                                {pin_block_format::iso1, cipher::tdes, k}, "4012345678909")
                .error()
                .code,
            errc::format_not_allowed);
  EXPECT_EQ(translate_pin_block({pin_block_format::iso3, cipher::tdes, k}, hex("1B9C1845EB993A7A"),
                                {pin_block_format::iso1, cipher::tdes, k}, "4012345678909")
                .error()
                .code,
            errc::format_not_allowed);
  EXPECT_EQ(translate_pin_block({pin_block_format::iso4, cipher::aes, aes}, hex("A912150391AB65A67E52883D81CE2D15"),
                                {pin_block_format::iso1, cipher::tdes, k}, "4111111111111111")
                .error()
                .code,
            errc::format_not_allowed);
  // Format 1 to format 1 (new key) and format 1 to format 0 (the PAN comes with the request) are allowed.
  const auto iso1 = encrypt_pin(pin_block_format::iso1, cipher::tdes, k, "123456", "", hex("6ABCFDE1")).value();
  const auto out_key = hex(zpk);
  const auto again = translate_pin_block({pin_block_format::iso1, cipher::tdes, k}, iso1,
                                         {pin_block_format::iso1, cipher::tdes, out_key}, "", hex("6ABCFDE1"))
                         .value();
  EXPECT_EQ(to_hex(ecb_decrypt(cipher::tdes, out_key, again).value()), "161234566ABCFDE1");
  const auto iso0 = translate_pin_block({pin_block_format::iso1, cipher::tdes, k}, iso1,
                                        {pin_block_format::iso0, cipher::tdes, out_key}, "4012345678909")
                        .value();
  EXPECT_EQ(text(decrypt_pin(pin_block_format::iso0, cipher::tdes, out_key, iso0, "4012345678909").value()), "123456");
}

TEST(TranslatePinBlock, WrongPanOrKeyOrCipherIsAnError) {
  const auto k = hex(dukpt_pin_key);
  // Another PAN: the PIN field no longer decodes (fill is not all F).
  EXPECT_EQ(translate_pin_block({pin_block_format::iso0, cipher::tdes, k}, hex("1B9C1845EB993A7A"),
                                {pin_block_format::iso0, cipher::tdes, k}, "4012345678917")
                .error()
                .code,
            errc::bad_pin_block);
  EXPECT_EQ(translate_pin_block({pin_block_format::iso0, cipher::tdes, k}, hex("1B9C1845EB993A7A"),
                                {pin_block_format::iso4, cipher::tdes, k}, "4012345678909")
                .error()
                .code,
            errc::bad_format);
  EXPECT_EQ(translate_pin_block({pin_block_format::iso0, cipher::tdes, hex("0011")}, hex("1B9C1845EB993A7A"),
                                {pin_block_format::iso0, cipher::tdes, k}, "4012345678909")
                .error()
                .code,
            errc::bad_key_length);
}

// ============================================================================================
// Key check values

TEST(KeyCheckValue, Tdes) {
  // ../shared/vectors/payment-crypto.yaml key_check_values (X9.24 classic test key).
  const auto key = hex("0123456789ABCDEFFEDCBA9876543210");
  EXPECT_EQ(to_hex(key_check_value(cipher::tdes, key).value()), "08D7B4");
  // E(0) in full is the well-known 08D7B4FB629D0885 (e.g. psec and many HSM manuals).
  EXPECT_EQ(to_hex(key_check_value(cipher::tdes, key, kcv_method::standard, 8).value()), "08D7B4FB629D0885");
  EXPECT_EQ(to_hex(key_check_value(cipher::tdes, key, kcv_method::legacy_ecb).value()), "08D7B4");
  EXPECT_TRUE(check_key_check_value(cipher::tdes, key, hex("08D7B4")).value());
  EXPECT_FALSE(check_key_check_value(cipher::tdes, key, hex("08D7B5")).value());
}

TEST(KeyCheckValue, SingleDes) {
  // OpenSSL's DES ECB test vectors (crypto/des destest.c, also in mbedTLS test_suite_des): key
  // 0123456789ABCDEF, zero plaintext -> D5D44FF720683D0D.
  EXPECT_EQ(to_hex(key_check_value(cipher::des, hex("0123456789ABCDEF")).value()), "D5D44F");
}

TEST(KeyCheckValue, AesCmac) {
  // ../shared/vectors/payment-crypto.yaml key_check_values: AES CMAC of a zero block, 5 bytes
  // (X9.24-1:2017 A.3 / PCI PIN).
  const auto key = hex("00112233445566778899AABBCCDDEEFF");
  EXPECT_EQ(to_hex(key_check_value(cipher::aes, key).value()), "53E107B36E");
  EXPECT_TRUE(check_key_check_value(cipher::aes, key, hex("53E107B36E")).value());
  EXPECT_EQ(to_hex(key_check_value(cipher::aes, key, kcv_method::standard, 3).value()), "53E107");
}

TEST(KeyCheckValue, AesLegacyEcb) {
  // NIST AESAVS known-answer tests with a zero plaintext, so AES-ECB(K, 0) is the ciphertext:
  // ECBKeySbox128 key 10a58869d74be5a374cf867cfb473859 -> 6d251e6944b051e04eaa6fb4dbf78465;
  // ECBVarKey256 key 80 00..00 -> e35a6dcb19b201a01ebcfa8aa22b5759.
  EXPECT_EQ(
      to_hex(key_check_value(cipher::aes, hex("10A58869D74BE5A374CF867CFB473859"), kcv_method::legacy_ecb).value()),
      "6D251E6944");
  EXPECT_EQ(
      to_hex(key_check_value(cipher::aes, hex("10A58869D74BE5A374CF867CFB473859"), kcv_method::legacy_ecb, 16).value()),
      "6D251E6944B051E04EAA6FB4DBF78465");
  EXPECT_EQ(to_hex(key_check_value(cipher::aes, hex("8000000000000000000000000000000000000000000000000000000000000000"),
                                   kcv_method::legacy_ecb, 3)
                       .value()),
            "E35A6D");
}

TEST(KeyCheckValue, Errors) {
  EXPECT_EQ(key_check_value(cipher::tdes, hex("0123456789ABCDEF0123")).error().code, errc::bad_key_length);
  EXPECT_EQ(key_check_value(cipher::aes, hex("0123456789ABCDEFFEDCBA98")).error().code, errc::bad_key_length);
  EXPECT_EQ(
      key_check_value(cipher::tdes, hex("0123456789ABCDEFFEDCBA9876543210"), kcv_method::standard, 9).error().code,
      errc::bad_input);
  EXPECT_EQ(check_key_check_value(cipher::tdes, hex("0123456789ABCDEFFEDCBA9876543210"), {}).error().code,
            errc::bad_input);
}

// ============================================================================================
// MACs

mac_options alg(mac_scheme s, cipher c, mac_padding p = mac_padding::method1, std::size_t length = 0) {
  mac_options o;
  o.scheme = s;
  o.block_cipher = c;
  o.padding = p;
  o.length = length;
  return o;
}

const bytes now_all = ascii("Now is the time for all ");  // ISO/IEC 9797-1 Annex B data string 1
const bytes now_it = ascii("Now is the time for it");     // ISO/IEC 9797-1 Annex B data string 2

TEST(MacAlgorithms, Padding) {
  // knovichikhin/psec tests/test_mac.py pad_iso_1 / pad_iso_2 (block 8).
  EXPECT_EQ(to_hex(pad_iso9797_1(hex("1234"), 8, mac_padding::method1)), "1234000000000000");
  EXPECT_EQ(to_hex(pad_iso9797_1(hex("1234567890123456"), 8, mac_padding::method1)), "1234567890123456");
  EXPECT_EQ(to_hex(pad_iso9797_1(hex("1234"), 8, mac_padding::method2)), "1234800000000000");
  EXPECT_EQ(to_hex(pad_iso9797_1(hex("12345678901234"), 8, mac_padding::method2)), "1234567890123480");
  EXPECT_EQ(to_hex(pad_iso9797_1(hex("1234567890123456"), 8, mac_padding::method2)),
            "12345678901234568000000000000000");
  EXPECT_EQ(to_hex(pad_iso9797_1({}, 8, mac_padding::method1)), "0000000000000000");
}

TEST(MacAlgorithms, Iso9797Alg1AnnexB) {
  // ISO/IEC 9797-1 Annex B.2, MAC algorithm 1 with DES, K = 0123456789ABCDEF, 32-bit MACs.
  const auto k = hex("0123456789ABCDEF");
  EXPECT_EQ(
      to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::des, mac_padding::method1, 4), k, now_all).value()),
      "70A30640");
  EXPECT_EQ(
      to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::des, mac_padding::method2, 4), k, now_all).value()),
      "10E1F0F1");
  EXPECT_EQ(
      to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::des, mac_padding::method1, 4), k, now_it).value()),
      "E45B3AD2");
  EXPECT_EQ(
      to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::des, mac_padding::method2, 4), k, now_it).value()),
      "A924C721");
  // The full 64-bit value of the first case (ANSI X9.9 test in imohsenb/ISO8583-.NET MacGeneratorUnitTest).
  EXPECT_EQ(to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::des), k, now_all).value()), "70A30640CC76DD8B");
}

TEST(MacAlgorithms, Iso9797Alg1Fips113AndTdes) {
  // FIPS PUB 113 Appendix 2 (DAA example): DES key 0123456789ABCDEF, "7654321 Now is the time for ".
  EXPECT_EQ(to_hex(mac_iso9797_1_alg1(cipher::des, hex("0123456789ABCDEF"), ascii("7654321 Now is the time for "),
                                      mac_padding::method1)
                       .value()),
            "F1D30F6849312CA4");
  // imohsenb/ISO8583-.NET MacGeneratorUnitTest (ANSI X9.9): "Now is the time for all " + ABCD, padded.
  bytes longer = now_all;
  longer.push_back(0xAB);
  longer.push_back(0xCD);
  EXPECT_EQ(to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::des), hex("0123456789ABCDEF"), longer).value()),
            "36611DBB2D0AC1E6");
  // knovichikhin/psec tests/test_mac.py generate_cbc_mac: TDES key AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB, "hello world".
  const auto k2 = hex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
  EXPECT_EQ(to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::tdes), k2, ascii("hello world")).value()),
            "68D9038F23360DF3");
  EXPECT_EQ(
      to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::tdes, mac_padding::method2), k2, ascii("hello world"))
                 .value()),
      "32DC341271ACCD00");
  EXPECT_EQ(to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::tdes, mac_padding::method2, 4), k2,
                               ascii("hello world"))
                       .value()),
            "32DC3412");
}

TEST(MacAlgorithms, Iso9797Alg3AnnexB) {
  // ISO/IEC 9797-1 Annex B.4, MAC algorithm 3: K = 0123456789ABCDEF, K' = FEDCBA9876543210.
  const auto k = hex("0123456789ABCDEFFEDCBA9876543210");
  const auto o = alg(mac_scheme::iso9797_1_alg3, cipher::des);
  // ../shared/vectors/payment-crypto.yaml mac.iso9797_1_alg3_padding1 (the full 64 bits).
  EXPECT_EQ(to_hex(compute_mac(o, k, now_all).value()), "A1C72E74EA3FA9B6");
  EXPECT_EQ(
      to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg3, cipher::des, mac_padding::method2, 4), k, now_all).value()),
      "E9086230");
  EXPECT_EQ(
      to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg3, cipher::des, mac_padding::method1, 4), k, now_it).value()),
      "2E2B1428");
  EXPECT_EQ(
      to_hex(compute_mac(alg(mac_scheme::iso9797_1_alg3, cipher::des, mac_padding::method2, 4), k, now_it).value()),
      "5A692CE6");
  // imohsenb/ISO8583-.NET MacGeneratorUnitTest (ANSI X9.19): "Now is the time for all " + ABCD.
  bytes longer = now_all;
  longer.push_back(0xAB);
  longer.push_back(0xCD);
  EXPECT_EQ(to_hex(mac_iso9797_1_alg3(k, longer, mac_padding::method1).value()), "1C050879D95816B8");
}

// The published MACs above through prepared key schedules (a stored key's, as the software HSM
// passes them), and a schedule that does not suit the scheme is not used.
TEST(MacAlgorithms, PreparedSchedulesGiveThePublishedMacs) {
  const auto k = hex("0123456789ABCDEFFEDCBA9876543210");
  const auto tdes = des_key_schedule::make(cipher::tdes, k).value();
  auto o = alg(mac_scheme::iso9797_1_alg3, cipher::des);
  o.schedule = tdes.get();
  EXPECT_EQ(to_hex(compute_mac(o, k, now_all).value()), "A1C72E74EA3FA9B6");
  EXPECT_TRUE(check_mac(o, k, now_all, hex("A1C72E74EA3FA9B6")).value());
  EXPECT_FALSE(check_mac(o, k, now_all, hex("A1C72E74EA3FA9B7")).value());
  bytes longer = now_all;
  longer.push_back(0xAB);
  longer.push_back(0xCD);
  EXPECT_EQ(to_hex(compute_mac(o, k, longer).value()), "1C050879D95816B8");
  o.padding = mac_padding::method2;
  o.length = 4;
  EXPECT_EQ(to_hex(compute_mac(o, k, now_it).value()), "5A692CE6");

  const auto d = hex("0123456789ABCDEF");
  const auto des = des_key_schedule::make(cipher::des, d).value();
  auto a1 = alg(mac_scheme::iso9797_1_alg1, cipher::des, mac_padding::method2, 4);
  a1.schedule = des.get();
  EXPECT_EQ(to_hex(compute_mac(a1, d, now_all).value()), "10E1F0F1");
  const auto k2 = hex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
  const auto tdes2 = des_key_schedule::make(cipher::tdes, k2).value();
  auto a1t = alg(mac_scheme::iso9797_1_alg1, cipher::tdes);
  a1t.schedule = tdes2.get();
  EXPECT_EQ(to_hex(compute_mac(a1t, k2, ascii("hello world")).value()), "68D9038F23360DF3");

  // A single-DES schedule cannot make a retail MAC: the 16-byte key is used instead.
  auto wrong = alg(mac_scheme::iso9797_1_alg3, cipher::des);
  wrong.schedule = des.get();
  EXPECT_EQ(to_hex(compute_mac(wrong, k, now_all).value()), "A1C72E74EA3FA9B6");
  // The chain functions themselves refuse what they cannot do.
  std::array<std::uint8_t, 8> out{};
  EXPECT_EQ(retail_mac_chain(*des, pad_iso9797_1(now_all, 8, mac_padding::method1), out.data()).error().code,
            errc::bad_key_length);
  EXPECT_EQ(retail_mac_chain(*tdes, hex("0011"), out.data()).error().code, errc::bad_data_length);
  EXPECT_EQ(cbc_mac_chain(*tdes, {}, out.data()).error().code, errc::bad_data_length);
  EXPECT_EQ(retail_mac_chain(d, pad_iso9797_1(now_all, 8, mac_padding::method1), out.data()).error().code,
            errc::bad_key_length);
}

// Random keys, data and lengths: algorithm 3 and algorithm 1 (DES and TDES), with and without
// prepared schedules, against the same MACs composed from the CBC and ECB primitives (which are
// checked against OpenSSL's EVP DES-EDE3 in primitives_test): H = last block of DES-CBC under K,
// then e_K(d_K'(H)).
TEST(MacAlgorithms, ChainsAgreeWithTheCbcAndEcbPrimitives) {
  std::mt19937 rng(9797);  // NOLINT(cert-msc32-c,cert-msc51-cpp): a fixed sequence, the same each run
  const auto random_bytes_of = [&](std::size_t n) {
    bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
  };
  for (int i = 0; i < 300; ++i) {
    const bytes key = random_bytes_of(16);
    const bytes data = random_bytes_of(rng() % 200);
    const auto p = rng() % 2 == 0 ? mac_padding::method1 : mac_padding::method2;
    const bytes padded = pad_iso9797_1(data, 8, p);
    // Algorithm 3 composed.
    const byte_view k1 = byte_view(key).subspan(0, 8);
    const byte_view k2 = byte_view(key).subspan(8, 8);
    bytes chain = cbc_encrypt(cipher::des, k1, {}, padded).value();
    bytes h(chain.end() - 8, chain.end());
    ASSERT_TRUE(ecb_decrypt(cipher::des, k2, h, h.data()));
    ASSERT_TRUE(ecb_encrypt(cipher::des, k1, h, h.data()));
    const auto ks = des_key_schedule::make(cipher::tdes, key).value();
    auto o = alg(mac_scheme::iso9797_1_alg3, cipher::des, p);
    EXPECT_EQ(compute_mac(o, key, data).value(), h) << i;
    o.schedule = ks.get();
    EXPECT_EQ(compute_mac(o, key, data).value(), h) << i;
    // Algorithm 1 with TDES and with DES (the key's first half) composed.
    const bytes tdes_chain = cbc_encrypt(cipher::tdes, key, {}, padded).value();
    const bytes t(tdes_chain.end() - 8, tdes_chain.end());
    auto a1 = alg(mac_scheme::iso9797_1_alg1, cipher::tdes, p);
    EXPECT_EQ(compute_mac(a1, key, data).value(), t) << i;
    a1.schedule = ks.get();
    EXPECT_EQ(compute_mac(a1, key, data).value(), t) << i;
    const bytes d(chain.end() - 8, chain.end());
    const auto kd = des_key_schedule::make(cipher::des, k1).value();
    auto a1d = alg(mac_scheme::iso9797_1_alg1, cipher::des, p);
    a1d.schedule = kd.get();
    EXPECT_EQ(compute_mac(a1d, k1, data).value(), d) << i;
  }
}

TEST(MacAlgorithms, TdesCmacSp800_38b) {
  // NIST SP 800-38B updated examples, D.4 three-key TDEA (Examples 13-16) and D.5 two-key TDEA
  // (Examples 17-20, with the published errata).
  const auto k3 = hex("8AA83BF8CBDA10620BC1BF19FBB6CD58BC313D4A371CA8B5");
  const auto k2 = hex("4CF15134A2850DD58A3D10BA80570D38");
  const auto m0 = bytes{};
  const auto m64 = hex("6BC1BEE22E409F96");
  const auto m160 = hex("6BC1BEE22E409F96E93D7E117393172AAE2D8A57");
  const auto m256 = hex("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51");
  const auto o = alg(mac_scheme::cmac, cipher::tdes);
  EXPECT_EQ(to_hex(compute_mac(o, k3, m0).value()), "B7A688E122FFAF95");
  EXPECT_EQ(to_hex(compute_mac(o, k3, m64).value()), "8E8F293136283797");
  EXPECT_EQ(to_hex(compute_mac(o, k3, m160).value()), "743DDBE0CE2DC2ED");
  EXPECT_EQ(to_hex(compute_mac(o, k3, m256).value()), "33E6B1092400EAE5");
  EXPECT_EQ(to_hex(compute_mac(o, k2, m0).value()), "BD2EBF9A3BA00361");
  EXPECT_EQ(to_hex(compute_mac(o, k2, m64).value()), "4FF2AB813C53CE83");
  EXPECT_EQ(to_hex(compute_mac(o, k2, m160).value()), "62DD1B471902BD4E");
  EXPECT_EQ(to_hex(compute_mac(o, k2, m256).value()), "31B1E431DABC4EB8");
}

TEST(MacAlgorithms, AesCmacRfc4493) {
  // RFC 4493 section 4 (= NIST SP 800-38B D.1); ../shared/vectors/payment-crypto.yaml mac.aes_cmac.
  const auto k = hex("2B7E151628AED2A6ABF7158809CF4F3C");
  const auto o = alg(mac_scheme::cmac, cipher::aes);
  EXPECT_EQ(to_hex(compute_mac(o, k, {}).value()), "BB1D6929E95937287FA37D129B756746");
  EXPECT_EQ(to_hex(compute_mac(o, k, hex("6BC1BEE22E409F96E93D7E117393172A")).value()),
            "070A16B46B4D4144F79BDD9DD04A287C");
  EXPECT_EQ(
      to_hex(compute_mac(o, k, hex("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411"))
                 .value()),
      "DFA66747DE9AE63030CA32611497C827");
  EXPECT_EQ(to_hex(compute_mac(o, k,
                               hex("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51"
                                   "30C81C46A35CE411E5FBC1191A0A52EFF69F2445DF4F9B17AD2B417BE66C3710"))
                       .value()),
            "51F0BEBF7E3B9D92FC49741779363CFE");
  // Truncated to 8 bytes.
  EXPECT_EQ(to_hex(compute_mac(alg(mac_scheme::cmac, cipher::aes, mac_padding::method1, 8), k, {}).value()),
            "BB1D6929E9593728");
}

TEST(MacAlgorithms, HmacSha256Rfc4231) {
  // RFC 4231 section 4, test cases 1-7 (case 5 truncated to 128 bits).
  const auto o = alg(mac_scheme::hmac_sha256, cipher::aes);
  EXPECT_EQ(to_hex(compute_mac(o, bytes(20, 0x0B), ascii("Hi There")).value()),
            "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7");
  EXPECT_EQ(to_hex(compute_mac(o, ascii("Jefe"), ascii("what do ya want for nothing?")).value()),
            "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843");
  EXPECT_EQ(to_hex(compute_mac(o, bytes(20, 0xAA), bytes(50, 0xDD)).value()),
            "773EA91E36800E46854DB8EBD09181A72959098B3EF8C122D9635514CED565FE");
  EXPECT_EQ(to_hex(compute_mac(o, hex("0102030405060708090A0B0C0D0E0F10111213141516171819"), bytes(50, 0xCD)).value()),
            "82558A389A443C0EA4CC819899F2083A85F0FAA3E578F8077A2E3FF46729665B");
  EXPECT_EQ(to_hex(compute_mac(alg(mac_scheme::hmac_sha256, cipher::aes, mac_padding::method1, 16), bytes(20, 0x0C),
                               ascii("Test With Truncation"))
                       .value()),
            "A3B6167473100EE06E0C796C2955552B");
  EXPECT_EQ(
      to_hex(compute_mac(o, bytes(131, 0xAA), ascii("Test Using Larger Than Block-Size Key - Hash Key First")).value()),
      "60E431591EE0B67F0D8A26AACBF5B77F8E0BC6213728C5140546040F0EE37F54");
  EXPECT_EQ(to_hex(compute_mac(o, bytes(131, 0xAA),
                               ascii("This is a test using a larger than block-size key and a larger than block-size "
                                     "data. The key needs to be hashed before being used by the HMAC algorithm."))
                       .value()),
            "9B09FFA71B942FCB27635FBCD5B0E944BFDC63644F0713938A7F51535C3A35E2");
}

TEST(MacAlgorithms, DefaultLengths) {
  EXPECT_EQ(default_mac_length(alg(mac_scheme::iso9797_1_alg1, cipher::tdes)), 8U);
  EXPECT_EQ(default_mac_length(alg(mac_scheme::iso9797_1_alg3, cipher::des)), 8U);
  EXPECT_EQ(default_mac_length(alg(mac_scheme::cmac, cipher::tdes)), 8U);
  EXPECT_EQ(default_mac_length(alg(mac_scheme::cmac, cipher::aes)), 16U);
  EXPECT_EQ(default_mac_length(alg(mac_scheme::iso9797_1_alg1, cipher::aes)), 16U);
  EXPECT_EQ(default_mac_length(alg(mac_scheme::hmac_sha256, cipher::aes)), 32U);
}

TEST(MacAlgorithms, VerifyIsConstantTimeResult) {
  const auto k = hex("0123456789ABCDEFFEDCBA9876543210");
  const auto o = alg(mac_scheme::iso9797_1_alg3, cipher::des);
  EXPECT_TRUE(check_mac(o, k, now_all, hex("A1C72E74EA3FA9B6")).value());
  EXPECT_TRUE(check_mac(o, k, now_all, hex("A1C72E74")).value());  // a truncated MAC of 4 bytes
  EXPECT_FALSE(check_mac(o, k, now_all, hex("A1C72E74EA3FA9B7")).value());
  EXPECT_FALSE(check_mac(o, k, now_it, hex("A1C72E74EA3FA9B6")).value());
  auto fixed = o;
  fixed.length = 8;
  EXPECT_EQ(check_mac(fixed, k, now_all, hex("A1C72E74")).error().code, errc::bad_data_length);
  EXPECT_EQ(check_mac(o, k, now_all, hex("A1C7")).error().code, errc::bad_input);
  EXPECT_EQ(check_mac(o, k, now_all, {}).error().code, errc::bad_data_length);
  EXPECT_TRUE(check_mac(alg(mac_scheme::hmac_sha256, cipher::aes), ascii("Jefe"), ascii("what do ya want for nothing?"),
                        hex("5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"))
                  .value());
}

TEST(MacAlgorithms, Errors) {
  EXPECT_EQ(compute_mac(alg(mac_scheme::iso9797_1_alg3, cipher::des), hex("0123456789ABCDEF"), now_all).error().code,
            errc::bad_key_length);
  EXPECT_EQ(compute_mac(alg(mac_scheme::iso9797_1_alg3, cipher::aes), hex("0123456789ABCDEFFEDCBA9876543210"), now_all)
                .error()
                .code,
            errc::bad_format);
  EXPECT_EQ(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::tdes), hex("0123456789ABCDEF"), now_all).error().code,
            errc::bad_key_length);
  EXPECT_EQ(compute_mac(alg(mac_scheme::cmac, cipher::aes), hex("0123456789ABCDEF"), now_all).error().code,
            errc::bad_key_length);
  EXPECT_EQ(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::tdes, mac_padding::method1, 9),
                        hex("0123456789ABCDEFFEDCBA9876543210"), now_all)
                .error()
                .code,
            errc::bad_input);
  EXPECT_EQ(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::tdes, mac_padding::method1, 3),
                        hex("0123456789ABCDEFFEDCBA9876543210"), now_all)
                .error()
                .code,
            errc::bad_input);
  EXPECT_EQ(compute_mac(alg(mac_scheme::iso9797_1_alg1, cipher::tdes, static_cast<mac_padding>(3)),
                        hex("0123456789ABCDEFFEDCBA9876543210"), now_all)
                .error()
                .code,
            errc::bad_format);
}

}  // namespace
}  // namespace eft::crypto
