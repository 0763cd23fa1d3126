// Decoders against published examples. Sources: the bit tables of EMV 4.4 Book 3 annex C (C1 AIP,
// C5 TVR, C6 TSI) and Book 4 annex A (A2 terminal capabilities, A4 CVM results), table 14 of Book 3
// (CID); the field 55 values of pyemv tests/test_cvn_hsm.py; the Visa IAD
// 06010A03A020000F04000000000000000000006232E4F9 from a public Q&A on the 9F10 layout
// (codewithsundeep.com/discussion/solution/57843596: "06 length, 01 DKI, 0A CVN 10, 03 length of CVR,
// A02000 the CVR"); the M/Chip Select 4 IAD 0110A00003240000000000000000000000FF and TVR 8000040000
// from the public "9F10" note on scribd (document 562115822, table A.30: KDI, CVN, CVR 6, DAC 2,
// counters 8); the AIP 5800 of the node-tlv README GPO example (770E82025800...).
#include <gtest/gtest.h>

#include <algorithm>

#include "eft/emv/decode.hpp"
#include "test_util.hpp"

namespace eft::emv {
namespace {

using test::hex;

bool has(const decoded_lines& lines, std::string_view text) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l == text; });
}

TEST(DecodeTvr, PyemvVisaVector) {
  // 8000048000: byte 1 bit 8, byte 3 bit 3, byte 4 bit 8.
  const auto lines = decode_tvr(hex("8000048000")).value();
  EXPECT_EQ(lines,
            (decoded_lines{"byte 1 bit 8: Offline data authentication was not performed",
                           "byte 3 bit 3: Online PIN entered", "byte 4 bit 8: Transaction exceeds floor limit"}));
}

TEST(DecodeTvr, McSampleAndRelayResistance) {
  const auto lines = decode_tvr(hex("8000040000")).value();
  EXPECT_EQ(lines.size(), 2U);
  EXPECT_TRUE(has(lines, "byte 3 bit 3: Online PIN entered"));
  const auto rr = decode_tvr(hex("0080000002")).value();
  EXPECT_TRUE(has(rr, "byte 2 bit 8: ICC and terminal have different application versions"));
  EXPECT_TRUE(has(rr, "byte 5 bits 2-1: Relay resistance protocol performed"));
  EXPECT_TRUE(has(decode_tvr(hex("0000000001")).value(), "byte 5 bits 2-1: Relay resistance protocol not performed"));
  EXPECT_TRUE(has(decode_tvr(hex("0001000000")).value(), "byte 2 bit 1: RFU bit set"));
  EXPECT_TRUE(decode_tvr(hex("0000000000")).value().empty());
  EXPECT_EQ(decode_tvr(hex("00000000")).error().message(), "tag 95: bad value: length 4, expected 5 bytes");
}

TEST(DecodeTsi, Book3C6) {
  // E800: ODA, cardholder verification, card risk management, terminal risk management performed.
  EXPECT_EQ(decode_tsi(hex("E800")).value(), (decoded_lines{"byte 1 bit 8: Offline data authentication was performed",
                                                            "byte 1 bit 7: Cardholder verification was performed",
                                                            "byte 1 bit 6: Card risk management was performed",
                                                            "byte 1 bit 4: Terminal risk management was performed"}));
  EXPECT_FALSE(decode_tsi(hex("E8")));
}

TEST(DecodeAip, Book3C1) {
  // 1800 (pyemv): cardholder verification, terminal risk management.
  EXPECT_EQ(decode_aip(hex("1800")).value(),
            (decoded_lines{"byte 1 bit 5: Cardholder verification is supported",
                           "byte 1 bit 4: Terminal risk management is to be performed"}));
  // 5800 (node-tlv README): SDA as well.
  EXPECT_TRUE(has(decode_aip(hex("5800")).value(), "byte 1 bit 7: SDA supported"));
  // 1980: CDA and (Mastercard contactless) EMV mode.
  const auto mc = decode_aip(hex("1980")).value();
  EXPECT_TRUE(has(mc, "byte 1 bit 1: CDA supported"));
  EXPECT_TRUE(
      has(mc, "byte 2 bit 8: Reserved for the EMV contactless specifications (Mastercard: EMV mode is supported)"));
}

TEST(DecodeTerminalCapabilities, Book4A2) {
  // E0F8C8: a full-featured attended POS.
  const auto lines = decode_terminal_capabilities(hex("E0F8C8")).value();
  EXPECT_EQ(lines.size(), 11U);
  EXPECT_TRUE(has(lines, "byte 1 bit 6: card data input: IC with contacts"));
  EXPECT_TRUE(has(lines, "byte 2 bit 7: CVM: Enciphered PIN for online verification"));
  EXPECT_TRUE(has(lines, "byte 3 bit 4: security: CDA"));
  EXPECT_FALSE(has(lines, "byte 3 bit 6: security: Card capture"));
}

TEST(DecodeCvmResults, Book4A4) {
  auto r = decode_cvm_results(hex("1F0302")).value();
  EXPECT_EQ(r.method_name, "No CVM required");
  EXPECT_EQ(r.condition_name, "If terminal supports the CVM");
  EXPECT_EQ(r.result_name, "Successful");
  r = decode_cvm_results(hex("420300")).value();
  EXPECT_EQ(r.method, 0x02);
  EXPECT_TRUE(r.apply_next_if_failed);
  EXPECT_EQ(r.method_name, "Enciphered PIN verified online");
  EXPECT_EQ(r.result_name, "Unknown");
  r = decode_cvm_results(hex("3F0000")).value();
  EXPECT_EQ(r.method_name, "No CVM performed");
  EXPECT_EQ(r.condition_name, "Always");
  r = decode_cvm_results(hex("5E0301")).value();
  EXPECT_EQ(r.method_name, "Signature (paper)");
  EXPECT_EQ(r.result_name, "Failed");
  EXPECT_FALSE(decode_cvm_results(hex("1F03")));
}

TEST(DecodeCid, Book3Table14) {
  EXPECT_EQ(decode_cid(0x80).type, cryptogram_type::arqc);
  EXPECT_EQ(decode_cid(0x40).type, cryptogram_type::tc);
  EXPECT_EQ(decode_cid(0x00).type, cryptogram_type::aac);
  EXPECT_EQ(decode_cid(0xC0).type, cryptogram_type::rfu);
  const auto advice = decode_cid(0x0A);
  EXPECT_EQ(advice.type, cryptogram_type::aac);
  EXPECT_TRUE(advice.advice_required);
  EXPECT_EQ(advice.reason_name, "PIN Try Limit exceeded");
  EXPECT_EQ(decode_cid(0x83).reason_name, "Issuer authentication failed");
  EXPECT_EQ(describe(0x9F27, hex("80")), (decoded_lines{"ARQC (online authorisation requested)", "no advice required",
                                                        "reason: No information given"}));
}

TEST(DecodeIad, VisaFormat013WithIssuerDiscretionaryData) {
  const auto iad = hex("06010A03A020000F04000000000000000000006232E4F9");
  const auto r = decode_iad(iad, card_scheme::visa).value();
  EXPECT_EQ(r.layout, "Visa format 0/1/3");
  EXPECT_EQ(r.dki, 0x01);
  EXPECT_EQ(r.cvn_byte, 0x0A);
  EXPECT_EQ(r.cvn, 10);
  EXPECT_EQ(test::to_hex(r.cvr), "03A02000");
  EXPECT_EQ(test::to_hex(r.issuer_discretionary), "04000000000000000000006232E4F9");
  const auto cvr = decode_cvr(r);
  EXPECT_TRUE(has(cvr, "byte 2 bits 8-7: AC returned in second GENERATE AC: second GENERATE AC not requested"));
  EXPECT_TRUE(has(cvr, "byte 2 bits 6-5: AC returned in first GENERATE AC: ARQC"));
  EXPECT_TRUE(has(cvr, "byte 3 bit 6: Exceeded velocity checking counters"));
  // The same split without the AID: recognised by its first byte.
  EXPECT_EQ(decode_iad(iad).value().scheme, card_scheme::visa);
}

TEST(DecodeIad, VisaCvn18OfPyemv) {
  const bytes iad = hex("06011203A0B800");
  const auto r = decode_iad(iad).value();
  EXPECT_EQ(r.cvn, 18);
  const auto cvr = decode_cvr(r);
  EXPECT_TRUE(has(cvr, "byte 3 bit 8: Last online transaction not completed"));
  EXPECT_TRUE(has(cvr, "byte 3 bit 5: New card"));
  EXPECT_TRUE(has(cvr, "byte 4 bits 8-5: issuer script commands processed on last transaction: 0"));
}

TEST(DecodeIad, VisaFormat2) {
  bytes iad = hex("1F2201A000000000");
  iad.resize(32, 0);
  const auto r = decode_iad(iad).value();
  EXPECT_EQ(r.layout, "Visa format 2");
  EXPECT_EQ(r.cvn, 22);
  EXPECT_EQ(r.dki, 0x01);
  EXPECT_EQ(r.cvr.size(), 5U);
  EXPECT_EQ(r.issuer_discretionary.size(), 24U);
}

TEST(DecodeIad, MChipSelect4) {
  const bytes iad = hex("0110A00003240000000000000000000000FF");
  const auto r = decode_iad(iad, card_scheme::mastercard).value();
  EXPECT_EQ(r.layout, "M/Chip");
  EXPECT_EQ(r.dki, 0x01);
  EXPECT_EQ(r.cvn, 16);
  EXPECT_EQ(test::to_hex(r.cvr), "A00003240000");
  EXPECT_EQ(test::to_hex(r.dac), "0000");
  EXPECT_EQ(test::to_hex(r.counters), "00000000000000FF");
  const auto cvr = decode_cvr(r);
  EXPECT_TRUE(has(cvr, "byte 1 bits 6-5: AC returned in first GENERATE AC: ARQC"));
  EXPECT_TRUE(has(cvr, "byte 3 bits 4-1: right nibble of the PIN try counter: 3"));
  EXPECT_TRUE(has(cvr, "byte 4 bit 6: Offline PIN verification not performed"));
  EXPECT_TRUE(has(cvr, "byte 4 bit 3: International transaction"));
  // pyemv test_cvn_hsm.py MasterCard CVN 17 IAD: counters 00000000000322FF.
  EXPECT_EQ(decode_iad(hex("0111A00003220000000000000000000322FF")).value().cvn, 17);
}

TEST(DecodeIad, CommonCoreDefinitions) {
  bytes iad = hex("0FA501A000000000 0000000000000000 0F");
  iad.resize(32, 0);
  const auto r = decode_iad(iad, card_scheme::visa).value();  // CCD is recognised under any RID
  EXPECT_EQ(r.layout, "EMV CCD format A");
  EXPECT_EQ(r.cvn_byte, 0xA5);
  EXPECT_EQ(r.dki, 0x01);
  EXPECT_EQ(r.issuer_discretionary.size(), 15U);
  EXPECT_TRUE(has(decode_cvr(r), "byte 1 bits 6-5: AC returned in first GENERATE AC: ARQC"));
}

TEST(DecodeIad, ShortOrUnknownLayouts) {
  EXPECT_EQ(decode_iad(hex("060112"), card_scheme::visa).error().code, errc::bad_value);
  EXPECT_EQ(decode_iad(hex("0110A000"), card_scheme::mastercard).error().code, errc::bad_value);
  EXPECT_EQ(decode_iad(hex("AABBCC")).error().code, errc::unsupported);
}

TEST(Describe, ValuesForPeopleAndNothingSensitive) {
  EXPECT_EQ(describe(0x9A, hex("191105")), (decoded_lines{"2019-11-05"}));
  EXPECT_EQ(describe(0x9F02, hex("000000004000")), (decoded_lines{"amount 4000 (minor units)"}));
  EXPECT_EQ(describe(0x5F2A, hex("0978")), (decoded_lines{"currency 978"}));
  EXPECT_EQ(describe(0x9C, hex("01")), (decoded_lines{"transaction type 01: cash"}));
  EXPECT_EQ(describe(0x50, hex("56495341")), (decoded_lines{"\"VISA\""}));
  EXPECT_TRUE(describe(0x5A, hex("4761739001010010")).empty());
  EXPECT_TRUE(describe(0x57, hex("4761739001010010D22122011758928889")).empty());
  EXPECT_TRUE(describe(0x9F26, hex("29CCA15AE665FA2E")).empty());
  EXPECT_EQ(describe(0x95, hex("00")), (decoded_lines{"tag 95: bad value: length 1, expected 5 bytes"}));
  const auto iad = describe(0x9F10, hex("06010A03A06010"), card_scheme::visa);
  EXPECT_EQ(iad.front(), "Visa, Visa format 0/1/3");
  EXPECT_TRUE(has(iad, "cryptogram version number 0A (CVN 10)"));
}

TEST(Schemes, ByAid) {
  EXPECT_EQ(scheme_of_aid(hex("A0000000031010")), card_scheme::visa);
  EXPECT_EQ(scheme_of_aid(hex("A0000000041010")), card_scheme::mastercard);
  EXPECT_EQ(scheme_of_aid(hex("A0000000651010")), card_scheme::unknown);
  EXPECT_EQ(scheme_of_aid(hex("A000")), card_scheme::unknown);
}

}  // namespace
}  // namespace eft::emv
