// Field classes, data encodings and length prefixes against bytes worked out by hand from ISO 8583:1987
// (4.3 data element definitions) and the usual packed-BCD and EBCDIC (code page 037) tables.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace eft::iso8583::test {
namespace {

// MTI "0200" in ASCII, then an 8-byte bitmap naming only field 3 (bit 3 -> 0x20) or field 2 (0x40).
constexpr std::string_view mti_0200 = "30323030";
constexpr std::string_view bitmap_f2 = "4000000000000000";
constexpr std::string_view bitmap_f3 = "2000000000000000";

std::string strip(std::string_view hex) {
  std::string out;
  for (char c : hex) {
    if (c != ' ') out += c;
  }
  return out;
}
std::string with_f2(std::string_view field) {
  return std::string(mti_0200) + std::string(bitmap_f2) + strip(field);
}
std::string with_f3(std::string_view field) {
  return std::string(mti_0200) + std::string(bitmap_f3) + strip(field);
}

void expect_round_trip(const spec& s, std::uint32_t field, const std::string& value, const std::string& wire_hex) {
  const std::string packed = pack_hex(s, "0200", {{std::to_string(field), value}});
  EXPECT_EQ(packed, wire_hex) << "value " << value;
  message m(s);
  const auto st = unpack_hex(wire_hex, m);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(m.mti(), "0200");
  ASSERT_TRUE(m.get(field).has_value());
  EXPECT_EQ(*m.get(field), value);
}

TEST(FieldCodec, NumericFixedAscii) {
  const spec s = make_spec("  3: {name: Processing code, class: n, length: 6}\n");
  expect_round_trip(s, 3, "003000", with_f3("303033303030"));
}

TEST(FieldCodec, NumericFixedPadsLeftWithZeros) {
  const spec s = make_spec("  3: {class: n, length: 6}\n");
  EXPECT_EQ(pack_hex(s, "0200", {{"3", "12"}}), with_f3("303030303132"));
}

TEST(FieldCodec, TextFixedPadsRightWithSpaces) {
  const spec s = make_spec("  3: {class: ans, length: 8}\n");
  EXPECT_EQ(pack_hex(s, "0200", {{"3", "T1"}}), with_f3("5431202020202020"));
}

TEST(FieldCodec, LlvarAsciiPan) {
  const spec s = make_spec("  2: {class: n, length: 19, prefix: LL}\n");
  // "16" then sixteen ASCII digits
  expect_round_trip(s, 2, "4111111111111111",
                    with_f2("3136"
                            "34313131313131313131313131313131"));
}

TEST(FieldCodec, LllvarAscii) {
  const spec s = make_spec("  3: {class: ans, length: 999, prefix: LLL}\n");
  expect_round_trip(s, 3, "AB",
                    with_f3("303032"
                            "4142"));
}

TEST(FieldCodec, BcdFixedEvenAndOdd) {
  const spec s = make_spec("  3: {class: n, length: 6, encoding: bcd}\n  2: {class: n, length: 3, encoding: bcd}\n");
  expect_round_trip(s, 3, "003000", with_f3("003000"));
  // Odd digit count, right-justified: pad nibble 0 first.
  expect_round_trip(s, 2, "840", with_f2("0840"));
}

TEST(FieldCodec, BcdLeftJustifiedWithPadF) {
  const spec s = make_spec("  2: {class: n, length: 3, encoding: bcd, justify: left, pad_nibble: F}\n");
  expect_round_trip(s, 2, "840", with_f2("840F"));
}

TEST(FieldCodec, BcdLlvarPanOddLength) {
  const spec s = make_spec("  2: {class: n, length: 19, prefix: LL, encoding: bcd, prefix_encoding: bcd}\n");
  // LL = 0x19 (BCD of 19 digits), then 10 bytes: pad nibble 0, then the digits.
  expect_round_trip(s, 2, "4761739001010010005",
                    with_f2("19"
                            "04761739001010010005"));
}

TEST(FieldCodec, BcdLllPrefixTakesTwoBytes) {
  const spec s = make_spec("  3: {class: ans, length: 999, prefix: LLL, prefix_encoding: bcd}\n");
  expect_round_trip(s, 3, "XYZ",
                    with_f3("0003"
                            "58595A"));
}

TEST(FieldCodec, BcdPrefixCountingBytes) {
  const spec s = make_spec(
      "  2: {class: n, length: 19, prefix: LL, encoding: bcd, prefix_encoding: bcd, length_unit: bytes, justify: left, "
      "pad_nibble: F}\n");
  // 15 digits take 8 bytes; the prefix counts bytes (08) and the trailing F marks the odd count.
  expect_round_trip(s, 2, "123456789012345",
                    with_f2("08"
                            "123456789012345F"));
  expect_round_trip(s, 2, "1234567890123456",
                    with_f2("08"
                            "1234567890123456"));
}

TEST(FieldCodec, BinaryPrefixes) {
  const spec s = make_spec(
      "  2: {class: ans, length: 99, prefix: LL, prefix_encoding: binary}\n"
      "  3: {class: ans, length: 999, prefix: LLL, prefix_encoding: binary}\n");
  expect_round_trip(s, 2, "HELLO",
                    with_f2("05"
                            "48454C4C4F"));
  expect_round_trip(s, 3, "HI",
                    with_f3("0002"
                            "4849"));
}

TEST(FieldCodec, EbcdicDataAndPrefix) {
  const spec s = make_spec(
      "  2: {class: ans, length: 99, prefix: LL, encoding: ebcdic, prefix_encoding: ebcdic}\n"
      "  3: {class: n, length: 6, encoding: ebcdic}\n");
  // cp037: '0'-'9' = F0-F9, 'A' = C1, 'a' = 81, ' ' = 40, '=' = 7E
  expect_round_trip(s, 2, "Aa 9=",
                    with_f2("F0F5"
                            "C181 40F97E"));
  expect_round_trip(s, 3, "123456", with_f3("F1F2F3F4F5F6"));
}

TEST(FieldCodec, EbcdicCodePage1047Brackets) {
  const spec s037 = make_spec("  3: {class: ans, length: 3, encoding: ebcdic}\n");
  const spec s1047 = make_spec("  3: {class: ans, length: 3, encoding: ebcdic, codepage: cp1047}\n");
  expect_round_trip(s037, 3, "[^]", with_f3("BAB0BB"));
  expect_round_trip(s1047, 3, "[^]", with_f3("AD5FBD"));
}

TEST(FieldCodec, BinaryRawAndHex) {
  const spec s = make_spec("  2: {class: b, length: 8}\n  3: {class: b, length: 4, encoding: hex}\n");
  expect_round_trip(s, 2, bytes("0123456789ABCDEF"), with_f2("0123456789ABCDEF"));
  // ASCII hex: each byte as two characters "DE" "AD" "BE" "EF".
  expect_round_trip(s, 3, bytes("DEADBEEF"),
                    with_f3("44454144"
                            "42454546"));
}

TEST(FieldCodec, Track2AsciiAndBcd) {
  const spec ascii = make_spec("  2: {class: z, length: 37, prefix: LL}\n");
  expect_round_trip(ascii, 2, "4761739001010010=2212",
                    with_f2("3231"
                            "34373631373339303031303130303130"
                            "3D32323132"));
  const spec bcd = make_spec("  2: {class: z, length: 37, prefix: LL, encoding: bcd, prefix_encoding: bcd}\n");
  // 21 characters: pad nibble, then the digits with D as the separator nibble.
  expect_round_trip(bcd, 2, "4761739001010010=2212",
                    with_f2("21"
                            "04761739001010010D2212"));
}

TEST(FieldCodec, AmountWithSign) {
  const spec s = make_spec("  2: {class: xn, length: 8}\n  3: {class: xn, length: 8, encoding: bcd}\n");
  expect_round_trip(s, 2, "C00000100",
                    with_f2("43"
                            "3030303030313030"));
  expect_round_trip(s, 3, "D00012345",
                    with_f3("44"
                            "00012345"));
}

TEST(FieldCodec, FixedBinaryOfWrongLengthIsRefused) {
  const spec s = make_spec("  2: {class: b, length: 8}\n");
  EXPECT_EQ(pack_hex(s, "0200", {{"2", bytes("0102")}}),
            "error: field 2 at offset 12: value length differs from the fixed length (2 != 8)");
}

TEST(FieldCodec, SixDigitPrefix) {
  const spec s = make_spec("  3: {class: ans, length: 999999, prefix: LLLLLL}\n");
  expect_round_trip(s, 3, "Q",
                    with_f3("303030303031"
                            "51"));
}

TEST(FieldCodec, MtiEncodings) {
  const spec bcd = make_spec("  3: {class: n, length: 2}\n", "mti: {encoding: bcd}\n");
  EXPECT_EQ(pack_hex(bcd, "0810", {{"3", "00"}}), "0810" + std::string(bitmap_f3) + "3030");
  const spec ebcdic = make_spec("  3: {class: n, length: 2}\n", "mti: {encoding: ebcdic}\n");
  EXPECT_EQ(pack_hex(ebcdic, "0810", {{"3", "00"}}), "F0F8F1F0" + std::string(bitmap_f3) + "3030");
}

TEST(FieldCodec, HexBitmap) {
  const spec s = make_spec("  3: {class: n, length: 2}\n", "bitmap: {encoding: hex}\n");
  // "2000000000000000" as 16 ASCII characters
  EXPECT_EQ(pack_hex(s, "0200", {{"3", "00"}}), std::string(mti_0200) + "32303030303030303030303030303030" + "3030");
}

TEST(FieldCodec, SecondaryAndTertiaryBitmaps) {
  const spec s = make_spec("  3: {class: n, length: 2}\n  70: {class: n, length: 3}\n  130: {class: n, length: 1}\n",
                           "bitmap: {tertiary: true}\n");
  // Field 130 -> tertiary bitmap bit 2 (0x40); bit 65 set in the secondary; bit 1 in the primary.
  const std::string hex = pack_hex(s, "0800", {{"3", "00"}, {"70", "301"}, {"130", "7"}});
  EXPECT_EQ(hex,
            "30383030"
            "A000000000000000"
            "8400000000000000"
            "4000000000000000"
            "3030"
            "333031"
            "37");
  message m(s);
  ASSERT_TRUE(unpack_hex(hex, m));
  EXPECT_EQ(*m.get(130), "7");
  EXPECT_EQ(*m.get(70), "301");
}

}  // namespace
}  // namespace eft::iso8583::test
