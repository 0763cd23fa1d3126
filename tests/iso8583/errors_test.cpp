// Every error kind unpack, pack, set and from_json can report, each from a crafted input, with the field
// path, the byte offset and (where they mean something) got/limit worked out by hand from the layout.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "eft/iso8583/error.hpp"
#include "eft/iso8583/json.hpp"
#include "test_util.hpp"

namespace eft::iso8583::test {
namespace {

// Offsets below count from the first byte of the message. With an ASCII MTI ("0200" = 30 32 30 30,
// offsets 0-3) and one binary bitmap (offsets 4-11), the first field starts at offset 12.
constexpr std::string_view mti_0200 = "30323030";

// A dialect with one field of each layout the tests need.
const spec& error_spec() {
  static const spec s = make_spec(
      "  2: {name: Primary account number, class: n, length: 19, prefix: LL, sensitive: pan}\n"
      "  3: {class: n, length: 6}\n"
      "  4: {class: a, length: 3}\n"
      "  5: {class: ans, length: 4}\n"
      "  6: {class: b, length: 2, encoding: hex}\n"
      "  7: {class: n, length: 4, encoding: bcd}\n"
      "  8: {class: ans, length: 3, encoding: ebcdic}\n"
      "  9: {class: n, length: 19, prefix: LL, encoding: bcd, prefix_encoding: bcd}\n"
      "  10: {class: ans, length: 99, prefix: LL, prefix_encoding: ebcdic, encoding: ebcdic}\n"
      "  11: {class: ans, length: 999, prefix: LLL, prefix_encoding: bcd}\n"
      "  12: {class: b, length: 8}\n"
      "  13: {class: ans, length: 255, prefix: LLL, prefix_encoding: binary, prefix_bytes: 1}\n"
      "  48: {class: ans, length: 999, prefix: LLL, composite: tagged}\n"
      "  70: {class: n, length: 3}\n");
  return s;
}

const spec& iso87_ascii() {
  static const auto s = load_spec("iso87-ascii");
  return *s;
}

std::string strip(std::string_view hex) {
  std::string out;
  for (char c : hex) {
    if (c != ' ') out += c;
  }
  return out;
}

// ASCII "0200", the given primary bitmap, then the field bytes.
std::string msg(std::string_view bitmap, std::string_view fields) {
  return std::string(mti_0200) + strip(bitmap) + strip(fields);
}

status unpack_with(const spec& s, std::string_view hex) {
  message m(s);
  return unpack_hex(strip(hex), m);
}

status pack_with(const message& m) {
  std::vector<std::byte> out;
  return pack(m, out);
}

void expect_error(const status& st, errc code, std::string_view field, std::uint32_t offset, std::uint32_t got = 0,
                  std::uint32_t limit = 0) {
  EXPECT_EQ(st.code, code) << st.message();
  EXPECT_EQ(st.field.view(), field) << st.message();
  EXPECT_EQ(st.offset, offset) << st.message();
  EXPECT_EQ(st.got, got) << st.message();
  EXPECT_EQ(st.limit, limit) << st.message();
  EXPECT_FALSE(static_cast<bool>(st));
}

// ---------------------------------------------------------------------------------------------
// Error values themselves

TEST(Errors, CategoryAndDescriptions) {
  const std::error_code ec = errc::truncated;
  EXPECT_STREQ(ec.category().name(), "iso8583");
  EXPECT_EQ(ec.message(), "truncated");
  EXPECT_EQ(make_error_code(errc::length_over_max).message(), "length over the maximum");
  EXPECT_EQ(describe(errc::bad_bcd_nibble), "bad BCD nibble");
  EXPECT_EQ(describe(errc::ok), "ok");
  EXPECT_EQ(status{}.message(), "ok");
  EXPECT_TRUE(static_cast<bool>(status{}));
}

TEST(Errors, FieldPathIsBoundedAndDotted) {
  field_path p;
  p.push(127);
  p.push(25);
  p.push(std::string_view("9F26"));
  EXPECT_EQ(p.view(), "127.25.9F26");
  field_path long_path(std::string(100, 'x'));
  EXPECT_EQ(long_path.view().size(), 30U);
}

// ---------------------------------------------------------------------------------------------
// truncated

TEST(Errors, TruncatedInMti) {
  const status st = unpack_with(error_spec(), "3032");
  expect_error(st, errc::truncated, "MTI", 0, 4, 2);
  EXPECT_EQ(st.message(), "MTI at offset 0: truncated (needs 4 bytes, 2 left)");
  // A BCD MTI takes 2 bytes.
  const spec bcd = make_spec("  3: {class: n, length: 6}\n", "mti: {encoding: bcd}\n");
  expect_error(unpack_with(bcd, "02"), errc::truncated, "MTI", 0, 2, 1);
  expect_error(unpack_with(bcd, ""), errc::truncated, "MTI", 0, 2, 0);
}

TEST(Errors, TruncatedInBitmaps) {
  const status st = unpack_with(error_spec(), msg("2000", ""));
  expect_error(st, errc::truncated, "bitmap", 4, 8, 2);
  EXPECT_EQ(st.message(), "bitmap at offset 4: truncated (needs 8 bytes, 2 left)");
  // Bit 1 announces a secondary bitmap at offset 12; only 3 bytes follow.
  expect_error(unpack_with(error_spec(), msg("8000000000000000", "000000")), errc::truncated, "bitmap", 12, 8, 3);
  // A hex bitmap takes 16 characters.
  const spec hex = make_spec("  3: {class: n, length: 6}\n", "bitmap: {encoding: hex}\n");
  expect_error(unpack_with(hex, msg("3230303030", "")), errc::truncated, "bitmap", 4, 16, 5);
}

TEST(Errors, TruncatedInPrefixAndData) {
  // Field 2 (bit 2 -> 0x40): the LL prefix needs two bytes, one is there.
  expect_error(unpack_with(error_spec(), msg("4000000000000000", "31")), errc::truncated, "2", 12, 2, 1);
  // Prefix "16" (offsets 12-13), then ten of the sixteen digits from offset 14.
  const status st = unpack_with(error_spec(), msg("4000000000000000", "3136 34373631373339303031"));
  expect_error(st, errc::truncated, "2", 14, 16, 10);
  EXPECT_EQ(st.message(), "field 2 at offset 14: truncated (needs 16 bytes, 10 left)");
  // Fixed field 3 (bit 3 -> 0x20): four of six digits.
  expect_error(unpack_with(error_spec(), msg("2000000000000000", "30303330")), errc::truncated, "3", 12, 6, 4);
  // BCD LLL prefix (two bytes) of field 11 (bit 11 -> byte 2, 0x20): 0x0005 then 3 bytes.
  expect_error(unpack_with(error_spec(), msg("0020000000000000", "0005 414243")), errc::truncated, "11", 14, 5, 3);
}

// iso87-ascii field 127: "0200" (0-3), primary bitmap with bit 1 (4-11), secondary bitmap with bit 127
// (its 63rd bit: last byte 0x02, offsets 12-19), the 6-digit byte count (20-25), then the content from
// offset 26: an 8-byte subfield bitmap (26-33) and the subfields.
std::string msg_127(std::string_view content_hex) {
  const std::string content = strip(content_hex);
  std::string prefix = std::to_string(content.size() / 2);
  prefix.insert(0, 6 - prefix.size(), '0');
  const std::string prefix_hex = to_hex(prefix);
  return std::string(mti_0200) + "8000000000000000" + "0000000000000002" + prefix_hex + content;
}

TEST(Errors, TruncatedInSubfield) {
  // 127.2 (bit 2 -> 0x40): LL "05" at 34-35, then only 3 of 5 bytes from offset 36.
  const status st = unpack_with(iso87_ascii(), msg_127("4000000000000000 3035 313233"));
  expect_error(st, errc::truncated, "127.2", 36, 5, 3);
  EXPECT_EQ(st.message(), "field 127.2 at offset 36: truncated (needs 5 bytes, 3 left)");
}

TEST(Errors, ErrorInNestedSubfield) {
  // 127's bitmap with 127.25 (byte 4, 0x80) at 26-33; 127.25's LLLL "0019" at 34-37; its hex bitmap
  // "0000004000000000" (bit 26) at 38-53; 127.25.26 (n 3) "9A8" at 54.
  const status st =
      unpack_with(iso87_ascii(), msg_127("0000008000000000 30303139 30303030303034303030303030303030 394138"));
  expect_error(st, errc::invalid_character, "127.25.26", 54, 1);
  EXPECT_EQ(st.message(), "field 127.25.26 at offset 54: character not allowed by the field class (at character 1)");
}

TEST(Errors, PackErrorInNestedSubfieldCountsFromTheMessageStart) {
  // The same message at pack: 127.25.26 would start at 54, wherever the message starts in the output.
  message m(iso87_ascii());
  m.set_mti("0100");
  ASSERT_TRUE(m.set("127.25.26", "9A8"));
  std::vector<std::byte> out{std::byte{0x00}, std::byte{0x3A}};  // say, a length header already written
  const status st = pack(m, out);
  expect_error(st, errc::invalid_character, "127.25.26", 54, 1);
  EXPECT_EQ(out.size(), 2U);
  std::vector<std::byte> empty;
  expect_error(pack(m, empty), errc::invalid_character, "127.25.26", 54, 1);
  EXPECT_TRUE(empty.empty());
}

TEST(Errors, TruncatedSubfieldBitmap) {
  // Content of 4 bytes cannot hold the 8-byte subfield bitmap at offset 26.
  expect_error(unpack_with(iso87_ascii(), msg_127("40000000")), errc::truncated, "127", 26, 8, 4);
}

TEST(Errors, TruncatedTaggedSubfield) {
  // Field 48 (bit 48 -> byte 6, 0x01), LLL "009" at 12-14, content at 15: "AB" "010" "xyzw": the
  // element announces 10 characters, 4 are there. The error names the element's head at 15.
  const status st = unpack_with(error_spec(), msg("0000000000010000", "303039 4142 303130 78797A77"));
  expect_error(st, errc::truncated, "48.AB", 15, 15, 9);
}

// ---------------------------------------------------------------------------------------------
// bad_length_prefix

TEST(Errors, BadLengthPrefixAscii) {
  const status st = unpack_with(error_spec(), msg("4000000000000000", "3141 3131"));
  expect_error(st, errc::bad_length_prefix, "2", 12);
  EXPECT_EQ(st.message(), "field 2 at offset 12: bad length prefix");
  // A space is not a digit either.
  expect_error(unpack_with(error_spec(), msg("4000000000000000", "2035 3131313131")), errc::bad_length_prefix, "2", 12);
}

TEST(Errors, BadLengthPrefixBcd) {
  // Field 9 (bit 9 -> byte 2, 0x80): BCD LL 0x1A has a nibble above 9.
  expect_error(unpack_with(error_spec(), msg("0080000000000000", "1A 1234")), errc::bad_length_prefix, "9", 12);
  // Field 11: BCD LLL in two bytes; 0x1000 reads 1000, which three digits cannot say.
  expect_error(unpack_with(error_spec(), msg("0020000000000000", "1000 41")), errc::bad_length_prefix, "11", 12);
}

TEST(Errors, BadLengthPrefixEbcdic) {
  // Field 10 (bit 10 -> byte 2, 0x40): EBCDIC prefix F1 C1 ("1A").
  expect_error(unpack_with(error_spec(), msg("0040000000000000", "F1C1 C1")), errc::bad_length_prefix, "10", 12);
  // ASCII digits are not EBCDIC digits.
  expect_error(unpack_with(error_spec(), msg("0040000000000000", "3031 C1")), errc::bad_length_prefix, "10", 12);
}

TEST(Errors, BadLengthPrefixInTaggedElement) {
  // Field 48: "AB" then length "0x1" (x not a digit); the element's head is at offset 15. Its tag is
  // printable, so the error names the element.
  expect_error(unpack_with(error_spec(), msg("0000000000010000", "303035 4142 307831")), errc::bad_length_prefix,
               "48.AB", 15);
}

// ---------------------------------------------------------------------------------------------
// length_over_max

TEST(Errors, LengthOverMaxAtUnpack) {
  // Prefix "25" for a field of at most 19 digits.
  const status st = unpack_with(error_spec(), msg("4000000000000000", "3235 31"));
  expect_error(st, errc::length_over_max, "2", 12, 25, 19);
  EXPECT_EQ(st.message(), "field 2 at offset 12: length over the maximum (25 > 19)");
  // BCD prefix 0x20 on the same kind of field.
  expect_error(unpack_with(error_spec(), msg("0080000000000000", "20")), errc::length_over_max, "9", 12, 20, 19);
}

TEST(Errors, LengthOverMaxAtPack) {
  message m(error_spec());
  m.set_mti("0200");
  m.set(2, "47617390010100100001");  // 20 digits
  status st = pack_with(m);
  expect_error(st, errc::length_over_max, "2", 12, 20, 19);
  EXPECT_EQ(st.message(), "field 2 at offset 12: length over the maximum (20 > 19)");

  message fixed(error_spec());
  fixed.set_mti("0200");
  fixed.set(3, "1234567");
  expect_error(pack_with(fixed), errc::length_over_max, "3", 12, 7, 6);

  // A one-byte binary prefix cannot count past 255 (a spec asking for more is refused at load).
  message wide(error_spec());
  wide.set_mti("0200");
  wide.set(13, std::string(300, 'x'));
  st = pack_with(wide);
  expect_error(st, errc::length_over_max, "13", 12, 300, 255);
  EXPECT_EQ(st.message(), "field 13 at offset 12: length over the maximum (300 > 255)");
}

// ---------------------------------------------------------------------------------------------
// invalid_character

TEST(Errors, NonDigitInNumericField) {
  const status st = unpack_with(error_spec(), msg("2000000000000000", "303041303030"));
  expect_error(st, errc::invalid_character, "3", 12, 2);
  EXPECT_EQ(st.message(), "field 3 at offset 12: character not allowed by the field class (at character 2)");
}

TEST(Errors, DigitInAlphaField) {
  // Field 4 (bit 4 -> 0x10) is class a: "AB1".
  expect_error(unpack_with(error_spec(), msg("1000000000000000", "414231")), errc::invalid_character, "4", 12, 2);
}

TEST(Errors, ControlCharacterInAnsField) {
  // Field 5 (bit 5 -> 0x08) is ans 4: "ab" 0x09 "c".
  expect_error(unpack_with(error_spec(), msg("0800000000000000", "6162 09 63")), errc::invalid_character, "5", 12, 2);
  // DEL (0x7F) is outside 0x20-0x7E too.
  expect_error(unpack_with(error_spec(), msg("0800000000000000", "7F616263")), errc::invalid_character, "5", 12, 0);
}

TEST(Errors, BadHexInHexEncodedBinaryField) {
  // Field 6 (bit 6 -> 0x04) is b 2 sent as 4 hex characters: "1", "2", "G", "4". The error names the
  // character position on the wire.
  expect_error(unpack_with(error_spec(), msg("0400000000000000", "31324734")), errc::invalid_character, "6", 12, 2);
}

TEST(Errors, UnmappedEbcdicByte) {
  // Field 8 (bit 8 -> 0x01) is ans 3 in EBCDIC: C1 ('A'), FF (no printable ASCII in cp037), C2.
  expect_error(unpack_with(error_spec(), msg("0100000000000000", "C1FFC2")), errc::invalid_character, "8", 12, 1);
  // An EBCDIC MTI in a message sent in ASCII.
  const auto ebcdic = load_spec("iso87-ebcdic");
  expect_error(unpack_with(*ebcdic, msg("0000000000000000", "")), errc::bad_mti, "MTI", 0, 0);
}

TEST(Errors, InvalidCharacterAtPack) {
  message m(error_spec());
  m.set_mti("0200");
  m.set(4, "AB1");
  expect_error(pack_with(m), errc::invalid_character, "4", 12, 2);
  message e(error_spec());
  e.set_mti("0200");
  e.set(8,
        "A\x01"
        "B");
  expect_error(pack_with(e), errc::invalid_character, "8", 12, 1);
}

TEST(Errors, InvalidCharacterInTaggedElementAtPack) {
  // Field 48: prefix at 12-14, content from 15. "AB002ok" takes 7 characters, so "CD" starts at 22.
  message m(error_spec());
  m.set_mti("0200");
  ASSERT_TRUE(m.set("48.AB", "ok"));
  ASSERT_TRUE(m.set("48.CD", "\x01"));
  expect_error(pack_with(m), errc::invalid_character, "48.CD", 22, 0);
}

// ---------------------------------------------------------------------------------------------
// bad_bcd_nibble

TEST(Errors, BadBcdNibble) {
  // Field 7 (bit 7 -> 0x02) is n 4 in BCD: 12 3A, the fourth digit is A.
  const status st = unpack_with(error_spec(), msg("0200000000000000", "123A"));
  expect_error(st, errc::bad_bcd_nibble, "7", 12, 3);
  EXPECT_EQ(st.message(), "field 7 at offset 12: bad BCD nibble (at character 3)");
  // Variable BCD field 9: LL 0x04, digits 12 F4.
  expect_error(unpack_with(error_spec(), msg("0080000000000000", "04 12F4")), errc::bad_bcd_nibble, "9", 13, 2);
}

// ---------------------------------------------------------------------------------------------
// undefined_field

TEST(Errors, PrimaryBitmapNamesUndefinedField) {
  // Bits 2, 3 and 14 (0x64 0x04): field 14 is not in the spec. The error names the bitmap's offset.
  const status st = unpack_with(error_spec(), msg("6004000000000000", ""));
  expect_error(st, errc::undefined_field, "14", 4, 14);
  EXPECT_EQ(st.message(), "field 14 at offset 4: bitmap names a field the spec does not define (14)");
}

TEST(Errors, SecondaryBitmapNamesUndefinedField) {
  // Secondary bitmap 0C... at offset 12: bits 69 and 70; 69 is not defined. The error names the
  // bitmap that holds the bit.
  const status st = unpack_with(error_spec(), msg("8000000000000000", "0C00000000000000 333031"));
  expect_error(st, errc::undefined_field, "69", 12, 69);
}

TEST(Errors, SubfieldBitmapNamesUndefinedSubfield) {
  // 127's own bitmap has bit 40 (byte 5, 0x01); iso87-ascii defines 127.2-127.39. The bitmap is at 26.
  const status st = unpack_with(iso87_ascii(), msg_127("0000000001000000"));
  expect_error(st, errc::undefined_field, "127.40", 26, 40);
  EXPECT_EQ(st.message(), "field 127.40 at offset 26: bitmap names a field the spec does not define (40)");
}

// ---------------------------------------------------------------------------------------------
// trailing_bytes

TEST(Errors, TrailingBytesAfterMessage) {
  // Field 3 at 12-17, then two bytes nobody asked for.
  const status st = unpack_with(error_spec(), msg("2000000000000000", "303030303030 FFFF"));
  expect_error(st, errc::trailing_bytes, "message", 18, 2);
  EXPECT_EQ(st.message(), "message at offset 18: trailing bytes after the last field (2 bytes)");
}

TEST(Errors, TrailingBytesInsideComposite) {
  // 127 content: bitmap with 127.6 (bit 6 -> 0x04) at 26-33, 127.6 "12" at 34-35, then "XY".
  const status st = unpack_with(iso87_ascii(), msg_127("0400000000000000 3132 5859"));
  expect_error(st, errc::trailing_bytes, "127", 36, 2);
  EXPECT_EQ(st.message(), "field 127 at offset 36: trailing bytes after the last field (2 bytes)");
}

// ---------------------------------------------------------------------------------------------
// bad_mti

TEST(Errors, BadMtiAtUnpack) {
  const status st = unpack_with(error_spec(), "3032413030303030303030303030");
  expect_error(st, errc::bad_mti, "MTI", 0, 2);
  EXPECT_EQ(st.message(), "MTI at offset 0: bad MTI");
  const spec bcd = make_spec("  3: {class: n, length: 6}\n", "mti: {encoding: bcd}\n");
  expect_error(unpack_with(bcd, "0A00 0000000000000000"), errc::bad_mti, "MTI", 0, 1);
}

TEST(Errors, BadMtiAtPack) {
  for (const std::string_view mti : {"", "020", "02A0", "0200 ", "02000"}) {
    message m(error_spec());
    m.set_mti(mti);
    m.set(3, "000000");
    std::vector<std::byte> out{std::byte{0xAA}};
    const status st = pack(m, out);
    expect_error(st, errc::bad_mti, "MTI", 0);
    EXPECT_EQ(out.size(), 1U) << "pack must leave the output as it was";
  }
}

// ---------------------------------------------------------------------------------------------
// bad_bitmap

TEST(Errors, HexBitmapWithNonHexCharacters) {
  const spec hex = make_spec("  3: {class: n, length: 6}\n", "bitmap: {encoding: hex}\n");
  // "200000000000000G"
  const status st = unpack_with(hex, msg("32303030303030303030303030303047", "303030303030"));
  expect_error(st, errc::bad_bitmap, "bitmap", 4);
  EXPECT_EQ(st.message(), "bitmap at offset 4: bad bitmap");
}

TEST(Errors, HexSubfieldBitmapWithNonHexCharacters) {
  // 127 bitmap with 127.25 (bit 25 -> byte 4, 0x80) at 26-33; 127.25's LLLL "0016" at 34-37; its hex
  // bitmap "40000000000000XZ" at 38.
  const status st = unpack_with(iso87_ascii(), msg_127("0000008000000000 30303136 3430303030303030303030303030585A"));
  expect_error(st, errc::bad_bitmap, "127.25", 38);
}

TEST(Errors, FieldsAboveTheSecondaryBitmapNeedATertiarySpec) {
  // Pack refuses a field above 128 without a tertiary bitmap; set() already refuses to store one, since
  // a spec without tertiary bitmap cannot define fields above 128 (the loader checks), so the message
  // never holds one.
  message m(error_spec());
  const status st = m.set(130, "1");
  expect_error(st, errc::unknown_field, "130", 0);
  EXPECT_FALSE(m.has(130));
}

// ---------------------------------------------------------------------------------------------
// missing_subfield, value_length, unknown_field

TEST(Errors, PositionalGapAtPack) {
  // iso87-ascii field 90 (secondary bitmap): MTI 0-3, bitmaps 4-19, field 90 from offset 20. 90.1 takes
  // 20-23; 90.2 is missing where it should start, at 24.
  message m(iso87_ascii());
  m.set_mti("0400");
  ASSERT_TRUE(m.set("90.1", "0200"));
  ASSERT_TRUE(m.set("90.4", "00000012345"));
  const status st = pack_with(m);
  expect_error(st, errc::missing_subfield, "90.4", 24, 2);
  EXPECT_EQ(st.message(), "field 90.4 at offset 24: positional subfield missing before a later one (2)");
}

TEST(Errors, FixedBinaryValueOfWrongLength) {
  message m(error_spec());
  m.set_mti("0200");
  m.set(12, bytes("0102"));
  const status st = pack_with(m);
  expect_error(st, errc::value_length, "12", 12, 2, 8);
  EXPECT_EQ(st.message(), "field 12 at offset 12: value length differs from the fixed length (2 != 8)");
}

TEST(Errors, SetOfUndefinedFieldOrPath) {
  message m(iso87_ascii());
  expect_error(m.set(1, "x"), errc::unknown_field, "1", 0);
  expect_error(m.set(0, "x"), errc::unknown_field, "0", 0);
  expect_error(m.set(500, "x"), errc::unknown_field, "500", 0);
  expect_error(m.set("127.99", "x"), errc::unknown_field, "127.99", 0);
  expect_error(m.set("127.2.1", "x"), errc::unknown_field, "127.2.1", 0);  // 127.2 is not a composite
  expect_error(m.set("2.1", "x"), errc::unknown_field, "2.1", 0);
  expect_error(m.set("55.9F26", "x"), errc::unknown_field, "55.9F26", 0);  // TLV tags are not paths
  expect_error(m.set("x", "1"), errc::unknown_field, "x", 0);
  expect_error(m.set("", "1"), errc::unknown_field, "", 0);
  const status st = m.set("127.99", "x");
  EXPECT_EQ(st.message(), "field 127.99 at offset 0: field not defined by the spec");
  EXPECT_EQ(m.field_count(), 0U);
  // The EBCDIC dialect's 127 is plain text.
  const auto ebcdic = load_spec("iso87-ebcdic");
  message e(*ebcdic);
  expect_error(e.set("127.2", "x"), errc::unknown_field, "127.2", 0);
}

// ---------------------------------------------------------------------------------------------
// JSON form errors

status from_json_text(const spec& s, std::string_view text) {
  message m(s);
  return from_json(nlohmann::ordered_json::parse(text), m);
}

TEST(Errors, FromJsonUnknownField) {
  expect_error(from_json_text(iso87_ascii(), R"({"0":"0200","1":"x"})"), errc::unknown_field, "1", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"0":"0200","two":"x"})"), errc::unknown_field, "two", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"127":{"77":"x"}})"), errc::unknown_field, "127.77", 0);
}

TEST(Errors, FromJsonBadHex) {
  // 52 is binary: an odd digit count, then a non-hex digit.
  expect_error(from_json_text(iso87_ascii(), R"({"0":"0200","52":"0123456789ABCDE"})"), errc::bad_hex, "52", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"0":"0200","52":"0123456789ABCDEG"})"), errc::bad_hex, "52", 0);
  const status st = from_json_text(iso87_ascii(), R"({"52":"1"})");
  EXPECT_EQ(st.message(), "field 52 at offset 0: not an even number of hex digits");
}

TEST(Errors, FromJsonBadJson) {
  message m(iso87_ascii());
  expect_error(from_json(nlohmann::ordered_json::array(), m), errc::bad_json, "message", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"3":5})"), errc::bad_json, "3", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"3":{"1":"0"}})"), errc::bad_json, "3", 0);  // not a composite
  expect_error(from_json_text(iso87_ascii(), R"({"3":null})"), errc::bad_json, "3", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"90":["0200"]})"), errc::bad_json, "90", 0);
  // The masked form cannot be read back: 55 is reduced to a tag list.
  expect_error(from_json_text(iso87_ascii(), R"({"55":["9F26","82"]})"), errc::bad_json, "55", 0);
}

TEST(Errors, FromJsonBadMti) {
  expect_error(from_json_text(iso87_ascii(), R"({"0":200})"), errc::bad_mti, "MTI", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"0":"20"})"), errc::bad_mti, "MTI", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"0":"02000"})"), errc::bad_mti, "MTI", 0);
}

TEST(Errors, FromJsonBadTlv) {
  expect_error(from_json_text(iso87_ascii(), R"({"55":{"9F26":"XYZ"}})"), errc::bad_tlv, "55", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"55":{"9F26":"123"}})"), errc::bad_tlv, "55", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"55":{"":"01"}})"), errc::bad_tlv, "55", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"55":{"9G":"01"}})"), errc::bad_tlv, "55", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"55":{"9F26":5}})"), errc::bad_tlv, "55", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"55":{"70":{"9F26":[1]}}})"), errc::bad_tlv, "55", 0);
  // Keys that are not one BER tag (EMV Book 3 Annex B1): "9F" announces a second tag byte that is not
  // there; "9F2601" runs past the end of the tag; "82AB" has a second byte after a one-byte tag.
  expect_error(from_json_text(iso87_ascii(), R"({"55":{"9F":"01"}})"), errc::bad_tlv, "55", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"55":{"9F2601":"01"}})"), errc::bad_tlv, "55", 0);
  expect_error(from_json_text(iso87_ascii(), R"({"55":{"82AB":"01"}})"), errc::bad_tlv, "55", 0);
  // A well-formed multi-byte tag is fine.
  EXPECT_TRUE(from_json_text(iso87_ascii(), R"({"55":{"9F8101":"01","5F2A":"0978"}})"));
}

// ---------------------------------------------------------------------------------------------
// Error messages never carry field content

void expect_no_pan_run(const std::string& text, std::string_view pan) {
  for (std::size_t i = 0; i + 4 <= pan.size(); ++i) {
    EXPECT_EQ(text.find(pan.substr(i, 4)), std::string::npos) << "'" << text << "' holds part of the PAN";
  }
}

TEST(Errors, MessagesNeverHoldFieldContent) {
  // A PAN with a letter in it, at unpack: LL "16" at 12-13, the digits from 14, 'A' at character 9.
  const std::string pan = "476173900A010010";
  std::string pan_hex;
  for (char c : pan) pan_hex += to_hex(std::string_view(&c, 1));
  const status st = unpack_with(error_spec(), msg("4000000000000000", "3136" + pan_hex));
  expect_error(st, errc::invalid_character, "2", 14, 9);
  expect_no_pan_run(st.message(), pan);

  // The same at pack, and a PAN too long.
  message m(error_spec());
  m.set_mti("0200");
  m.set(2, pan);
  const status packed = pack_with(m);
  expect_error(packed, errc::invalid_character, "2", 12, 9);
  expect_no_pan_run(packed.message(), pan);
  m.set(2, "47617390010100109999");
  expect_no_pan_run(pack_with(m).message(), "47617390010100109999");

  // A track 2 with a bad separator in the BCD dialect.
  const auto binary = load_spec("iso87-binary");
  message t(*binary);
  t.set_mti("0200");
  t.set(35, "4761739001010010X2212");
  expect_no_pan_run(pack_with(t).message(), "4761739001010010X2212");
}

}  // namespace
}  // namespace eft::iso8583::test
