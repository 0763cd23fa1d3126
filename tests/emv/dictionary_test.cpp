// The tag dictionary: complete for the tags of field 55, sorted, and the value checks per format.
#include <gtest/gtest.h>

#include <algorithm>

#include "eft/emv/dictionary.hpp"
#include "test_util.hpp"

namespace eft::emv {
namespace {

using test::hex;

TEST(TagDictionary, SortedUniqueAndValid) {
  const auto all = tag_dictionary();
  ASSERT_GT(all.size(), 100U);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].tag, all[i].tag) << tag_hex(all[i].tag);
  for (const auto& e : all) {
    EXPECT_TRUE(is_valid_tag(e.tag)) << tag_hex(e.tag);
    EXPECT_LE(e.min_length, e.max_length) << tag_hex(e.tag);
    EXPECT_FALSE(e.name.empty()) << tag_hex(e.tag);
  }
}

TEST(TagDictionary, CoversTheField55TagsOfVisaMastercardAndEmvco) {
  // The tags the dictionary must hold (field 55 of contact and contactless requests and responses).
  for (tag_t t : {0x4F,   0x50,   0x57,   0x5A,   0x5F20, 0x5F24, 0x5F2A, 0x5F34, 0x71,   0x72,   0x82,   0x84,
                  0x8A,   0x91,   0x95,   0x9A,   0x9B,   0x9C,   0x9F02, 0x9F03, 0x9F06, 0x9F07, 0x9F09, 0x9F0D,
                  0x9F0E, 0x9F0F, 0x9F10, 0x9F1A, 0x9F1E, 0x9F21, 0x9F26, 0x9F27, 0x9F33, 0x9F34, 0x9F35, 0x9F36,
                  0x9F37, 0x9F41, 0x9F53, 0x9F5B, 0x9F66, 0x9F6C, 0x9F6E, 0x9F7C, 0xBF0C, 0x70,   0x77}) {
    EXPECT_NE(find_tag(static_cast<tag_t>(t)), nullptr) << tag_hex(static_cast<tag_t>(t));
  }
  EXPECT_EQ(find_tag(0xDF8101), nullptr);
  EXPECT_EQ(tag_name(0x9F26), "Application Cryptogram");
  EXPECT_EQ(tag_name(0xDF01), "");
}

TEST(TagDictionary, EntriesAsBook3AnnexA) {
  const auto* amount = find_tag(0x9F02);
  EXPECT_EQ(amount->format, tag_format::n);
  EXPECT_EQ(amount->source, tag_source::terminal);
  EXPECT_EQ(amount->min_length, 6);
  EXPECT_EQ(amount->max_length, 6);
  const auto* pan = find_tag(0x5A);
  EXPECT_EQ(pan->format, tag_format::cn);
  EXPECT_EQ(pan->sensitivity, tag_sensitivity::pan);
  EXPECT_EQ(find_tag(0x57)->sensitivity, tag_sensitivity::track);
  EXPECT_EQ(find_tag(0x91)->source, tag_source::issuer);
  EXPECT_EQ(find_tag(0x91)->min_length, 8);
  EXPECT_EQ(find_tag(0x91)->max_length, 16);
  EXPECT_EQ(find_tag(0x9F27)->source, tag_source::card);
  EXPECT_EQ(format_name(find_tag(0x50)->format), "ans");
  EXPECT_EQ(source_name(find_tag(0x9F37)->source), "terminal");
}

TEST(TagValues, LengthsAndFormats) {
  EXPECT_TRUE(check_value(*find_tag(0x9F02), hex("000000001000")));
  auto st = check_value(*find_tag(0x9F02), hex("0000001000"));
  EXPECT_EQ(st.code, errc::bad_value);
  EXPECT_EQ(st.tag, 0x9F02U);
  EXPECT_EQ(st.message(), "tag 9F02: bad value: length 5, expected 6 bytes");
  EXPECT_EQ(check_value(*find_tag(0x9F02), hex("00000000100A")).message(),
            "tag 9F02: bad value: byte 6 is not two BCD digits (format n)");
  EXPECT_EQ(check_value(*find_tag(0x84), hex("A0000000")).message(),
            "tag 84: bad value: length 4, expected 5-16 bytes");
  // cn: digits then F padding only.
  EXPECT_TRUE(check_value(*find_tag(0x5A), hex("4761739001010010")));
  EXPECT_TRUE(check_value(*find_tag(0x5A), hex("476173900101001F")));
  EXPECT_FALSE(check_value(*find_tag(0x5A), hex("4761739F01010010")));
  EXPECT_FALSE(check_value(*find_tag(0x5A), hex("47617390010100A0")));
  // an and ans.
  EXPECT_TRUE(check_value(*find_tag(0x8A), hex("3030")));
  EXPECT_FALSE(check_value(*find_tag(0x8A), hex("302D")));                     // '-' is not alphanumeric
  EXPECT_TRUE(check_value(*find_tag(0x50), hex("56495341204352454449542D")));  // "VISA CREDIT-"
  EXPECT_FALSE(check_value(*find_tag(0x50), hex("5649534100")));
  EXPECT_TRUE(check_value(*find_tag(0x9F1E), hex("3132333435363738")));
}

}  // namespace
}  // namespace eft::emv
