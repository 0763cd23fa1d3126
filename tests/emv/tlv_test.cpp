// BER-TLV parsing and building: the robustness contract of tlv.hpp, case by case. Cases marked
// "pyemv" are taken from knovichikhin/pyemv tests/test_tlv.py (test_decode_tag, test_decode_exception,
// test_encode); where pyemv is more lenient than EMV Book 3 annex B (it reads 0x80 and 0x84 lengths)
// the expected answer here is the Book 3 one, and the test says so.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "eft/emv/tlv.hpp"
#include "test_util.hpp"

namespace eft::emv {
namespace {

using test::hex;
using test::to_hex;

// Top-level tags and primitive values of a buffer, as "TAG=VALUE" strings (constructed: "TAG{...}").
std::string describe_tree(const tlv_tree& t) {
  std::string out;
  std::function<void(const tlv_object&)> one = [&](const tlv_object& o) {
    out += tag_hex(o.tag);
    if (o.constructed) {
      out += "{";
      t.for_each_child(o, one);
      out += "}";
    } else {
      out += "=" + to_hex(o.value) + " ";
    }
  };
  t.for_each_top(one);
  return out;
}

status parse_hex(std::string_view h, tlv_tree& t, const parse_options& o = {}) {
  static std::vector<bytes> keep;  // the tree views its input
  keep.push_back(hex(h));
  return parse(keep.back(), t, o);
}

// ------------------------------------------------------------------------------------ well formed

TEST(TlvParse, TagsOfOneTwoAndThreeBytes) {
  // pyemv test_decode_tag: 9C, 9F02, 9F8201.
  tlv_tree t;
  ASSERT_TRUE(parse_hex("9C01FF 9F0201FF 9F820101FF", t));
  ASSERT_EQ(t.size(), 3U);
  EXPECT_EQ(t[0].tag, 0x9CU);
  EXPECT_EQ(t[1].tag, 0x9F02U);
  EXPECT_EQ(t[2].tag, 0x9F8201U);
  EXPECT_EQ(t[2].header_size, 4);
  EXPECT_EQ(to_hex(t[2].value), "FF");
}

TEST(TlvParse, ShortAndLongLengths) {
  // pyemv test_decode_tag: 9C8101FF, 9C820001FF, 9C83000001FF, 9C8100, 9C820000, 9C83000000.
  for (const char* h : {"9C01FF", "9C8101FF", "9C820001FF", "9C83000001FF"}) {
    tlv_tree t;
    ASSERT_TRUE(parse_hex(h, t)) << h;
    ASSERT_EQ(t.size(), 1U);
    EXPECT_EQ(to_hex(t[0].value), "FF") << h;
  }
  for (const char* h : {"9C00", "9C8100", "9C820000", "9C83000000"}) {
    tlv_tree t;
    ASSERT_TRUE(parse_hex(h, t)) << h;
    ASSERT_EQ(t.size(), 1U);
    EXPECT_TRUE(t[0].value.empty()) << h;
  }
  // A 300-byte value behind 0x82 and a 128-byte one behind 0x81.
  bytes big = hex("9F1082012C");
  big.resize(big.size() + 300, 0xAB);
  tlv_tree t;
  ASSERT_TRUE(parse(big, t));
  EXPECT_EQ(t[0].value.size(), 300U);
  bytes mid = hex("9C8180");
  mid.resize(mid.size() + 128, 0x01);
  ASSERT_TRUE(parse(mid, t));
  EXPECT_EQ(t[0].value.size(), 128U);
}

TEST(TlvParse, ZeroLengthValuesPrimitiveAndConstructed) {
  tlv_tree t;
  ASSERT_TRUE(parse_hex("9F2600 7100 9F2701 80", t));
  EXPECT_EQ(describe_tree(t), "9F26= 71{}9F27=80 ");
  EXPECT_TRUE(t[1].constructed);
  EXPECT_EQ(t[1].first_child, -1);
}

TEST(TlvParse, NestedTemplatesToDepth) {
  // pyemv test_decode_nested: 9F02 01 FF, E0 03 { 9F03 00 }, 9F04 00.
  tlv_tree t;
  ASSERT_TRUE(parse_hex("9F0201FFE0039F03009F0400", t));
  EXPECT_EQ(describe_tree(t), "9F02=FF E0{9F03= }9F04= ");
  // 70 { 77 { A5 { BF0C { 61 { 4F .. } } } } }: five levels.
  ASSERT_TRUE(parse_hex("7010 770E A50C BF0C09 6107 4F05A000000003", t));
  EXPECT_EQ(describe_tree(t), "70{77{A5{BF0C{61{4F=A000000003 }}}}}");
  EXPECT_EQ(t[5].depth, 5);
  EXPECT_EQ(t[5].parent, 4);
  EXPECT_EQ(t[4].first_child, 5);
}

TEST(TlvParse, IssuerScriptTemplatesOfAResponse) {
  // A response field 55 with 91 and two 71 templates, each with 9F18 and an 86 command.
  tlv_tree t;
  ASSERT_TRUE(
      parse_hex("910A28993816AFAE4AEB3030"
                "710F9F180400000001860684240000 0801"
                "720C9F1804000000028603841800",
                t));
  EXPECT_EQ(describe_tree(t), "91=28993816AFAE4AEB3030 71{9F18=00000001 86=842400000801 }72{9F18=00000002 86=841800 }");
  EXPECT_EQ(t.count(0x9F18), 2U);
  EXPECT_EQ(t.find(0x86)->value.size(), 6U);
  EXPECT_EQ(t.find_top(0x86), nullptr);
}

TEST(TlvParse, UnknownAndRepeatedTagsKeptInOrder) {
  tlv_tree t;
  ASSERT_TRUE(parse_hex("DF01 01 AA 9F26 01 01 DF8101 00 9F26 01 02 C1 01 03", t));
  EXPECT_EQ(describe_tree(t), "DF01=AA 9F26=01 DF8101= 9F26=02 C1=03 ");
  EXPECT_EQ(t.count(0x9F26), 2U);
  EXPECT_EQ(to_hex(*t.value(0x9F26)), "01");  // the first, in input order
}

TEST(TlvParse, PaddingBetweenBeforeAndAfterObjectsIsSkipped) {
  // Book 3 B1: '00' bytes may occur before, between or after objects; 0xFF is erased memory.
  tlv_tree t;
  ASSERT_TRUE(parse_hex("0000 9F2701 80 00FF00 9F3602001C FFFF", t));
  EXPECT_EQ(describe_tree(t), "9F27=80 9F36=001C ");
  EXPECT_EQ(t[1].offset, 9U);
  // Inside a template too.
  ASSERT_TRUE(parse_hex("7008 00 9F2701 80 FF 00 00", t));
  EXPECT_EQ(describe_tree(t), "70{9F27=80 }");
  // Padding only, and nothing at all.
  ASSERT_TRUE(parse_hex("00FF00", t));
  EXPECT_TRUE(t.empty());
  ASSERT_TRUE(parse({}, t));
  EXPECT_TRUE(t.empty());
}

TEST(TlvParse, NonMinimalLongFormIsAccepted) {
  tlv_tree t;
  ASSERT_TRUE(parse_hex("9F27810180 9F3682000200 1C", t));
  EXPECT_EQ(describe_tree(t), "9F27=80 9F36=001C ");
}

TEST(TlvParse, ValuesAreViewsIntoTheInput) {
  const bytes data = hex("9F26088877665544332211");
  tlv_tree t;
  ASSERT_TRUE(parse(data, t));
  EXPECT_EQ(t[0].value.data(), data.data() + 3);
  EXPECT_EQ(t.data().data(), data.data());
}

TEST(TlvParse, ReusedTreeKeepsItsCapacity) {
  const bytes data = hex("9F2701809F3602001C950500000000009A03250101");
  tlv_tree t;
  ASSERT_TRUE(parse(data, t));
  const auto* first = &*t.begin();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(parse(data, t));
  EXPECT_EQ(&*t.begin(), first) << "a reparse of the same size must not reallocate";
}

// ------------------------------------------------------------------------------------- malformed

struct malformed_case {
  const char* name;
  const char* hex;
  errc code;
  std::uint32_t offset;
  std::uint32_t tag;
};

class TlvMalformed : public ::testing::TestWithParam<malformed_case> {};

TEST_P(TlvMalformed, ReturnsTheErrorWithOffsetAndTag) {
  const auto& c = GetParam();
  tlv_tree t;
  const auto st = parse_hex(c.hex, t);
  ASSERT_FALSE(st) << c.name;
  EXPECT_EQ(st.code, c.code) << st.message();
  EXPECT_EQ(st.offset, c.offset) << st.message();
  EXPECT_EQ(st.tag, c.tag) << st.message();
  EXPECT_NE(st.message().find("offset " + std::to_string(c.offset)), std::string::npos) << st.message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TlvMalformed,
    ::testing::Values(
        // pyemv test_decode_exception "9F", "9FF0": the tag's continuation runs off the end.
        malformed_case{"tag_continuation_off_the_end", "9F", errc::truncated, 0, 0},
        malformed_case{"tag_continuation_bit_off_the_end", "9FF0", errc::truncated, 0, 0},
        malformed_case{"tag_continuation_after_objects", "9F270180 9F", errc::truncated, 4, 0},
        malformed_case{"tag_of_four_bytes", "9F8181 01 00", errc::tag_too_long, 0, 0},
        // pyemv "9C", "9C81", "9C8200": the length is missing or cut.
        malformed_case{"length_missing", "9C", errc::truncated, 1, 0x9C},
        malformed_case{"long_length_cut_81", "9C81", errc::truncated, 1, 0x9C},
        malformed_case{"long_length_cut_82", "9C8200", errc::truncated, 1, 0x9C},
        malformed_case{"long_length_cut_83", "9C830000", errc::truncated, 1, 0x9C},
        // pyemv "9C01", "9C0200", "E001": the value is shorter than its length.
        malformed_case{"value_short", "9C01", errc::value_overrun, 1, 0x9C},
        malformed_case{"value_short_by_one", "9C0200", errc::value_overrun, 1, 0x9C},
        malformed_case{"constructed_value_short", "E001", errc::value_overrun, 1, 0xE0},
        malformed_case{"long_form_length_past_the_end", "9F10 81FF 0102", errc::value_overrun, 2, 0x9F10},
        malformed_case{"two_byte_length_past_the_end", "9F10 82FFFF 0102", errc::value_overrun, 2, 0x9F10},
        malformed_case{"three_byte_length_past_the_end", "9F10 83FFFFFF 00", errc::value_overrun, 2, 0x9F10},
        // pyemv reads 0x80 as length 0 and 0x84 as a 4-byte length; Book 3 B2 allows neither.
        malformed_case{"indefinite_length", "9C80", errc::indefinite_length, 1, 0x9C},
        malformed_case{"length_of_four_bytes", "9C8400000001FF", errc::length_too_long, 1, 0x9C},
        malformed_case{"length_of_127_bytes", "9CFF", errc::length_too_long, 1, 0x9C},
        // pyemv constructed cases: errors inside a template report the inner offset and tag.
        malformed_case{"inner_tag_cut", "E0019F0001FF", errc::truncated, 2, 0},
        malformed_case{"inner_length_missing", "E0019C01FF", errc::truncated, 3, 0x9C},
        malformed_case{"inner_long_length_cut", "E0029C8101FF", errc::truncated, 3, 0x9C},
        malformed_case{"inner_value_past_template", "E0039C8101C001FF", errc::value_overrun, 3, 0x9C},
        malformed_case{"inner_value_past_template_2", "E0049C810200C001FF", errc::value_overrun, 3, 0x9C},
        // pyemv "9C01FFAA": the error comes after a good object.
        malformed_case{"bad_object_after_good_one", "9C01FFAA", errc::truncated, 4, 0xAA},
        malformed_case{"template_longer_than_its_parent", "7003 7105 9F180100", errc::value_overrun, 3, 0x71}),
    [](const ::testing::TestParamInfo<malformed_case>& p) { return std::string(p.param.name); });

TEST(TlvLimits, DepthLimitStopsNesting) {
  // 20 nested 70 templates around one primitive; the default limit is 16 levels below the top.
  bytes data = hex("9F2701 80");
  for (int i = 0; i < 20; ++i) {
    bytes outer = {0x70, static_cast<std::uint8_t>(data.size())};
    outer.insert(outer.end(), data.begin(), data.end());
    data = outer;
  }
  tlv_tree t;
  auto st = parse(data, t);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code, errc::too_deep);
  EXPECT_EQ(st.offset, 32U);  // the 17th template, two bytes per level
  parse_options deep;
  deep.max_depth = 20;
  ASSERT_TRUE(parse(data, t, deep));
  EXPECT_EQ(t.size(), 21U);
}

TEST(TlvLimits, ObjectLimit) {
  bytes data;
  for (int i = 0; i < 100; ++i) data.insert(data.end(), {0x9C, 0x00});
  tlv_tree t;
  parse_options o;
  o.max_objects = 99;
  auto st = parse(data, t, o);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code, errc::too_many_objects);
  EXPECT_EQ(st.offset, 198U);
  o.max_objects = 100;
  EXPECT_TRUE(parse(data, t, o));
}

TEST(TlvLimits, LengthClaimingMegabytesAllocatesNothing) {
  // A 3-byte length of 16 MB over a 6-byte buffer: refused before anything is stored.
  tlv_tree t;
  const auto st = parse_hex("9F1083FFFFFF00", t);
  EXPECT_EQ(st.code, errc::value_overrun);
  EXPECT_EQ(st.got, 0xFFFFFFU);
  EXPECT_EQ(st.limit, 1U);
  EXPECT_EQ(st.message(), "offset 2: tag 9F10: length runs past the end of the data (length 16777215 > 1 bytes left)");
}

// ------------------------------------------------------------------------------------- tags, build

TEST(TlvTags, ValidityAndHex) {
  EXPECT_TRUE(is_valid_tag(0x9F26));
  EXPECT_TRUE(is_valid_tag(0x5A));
  EXPECT_TRUE(is_valid_tag(0xDF8101));
  EXPECT_TRUE(is_valid_tag(0xBF0C));
  EXPECT_FALSE(is_valid_tag(0x00));
  EXPECT_FALSE(is_valid_tag(0xFF));
  EXPECT_FALSE(is_valid_tag(0x9F));    // announces a subsequent byte
  EXPECT_FALSE(is_valid_tag(0x5A01));  // does not announce one
  EXPECT_FALSE(is_valid_tag(0x9F8101 << 8));
  EXPECT_FALSE(is_valid_tag(0x9F0101));  // middle byte without bit 8
  EXPECT_FALSE(is_valid_tag(0x9F8181));  // last byte with bit 8
  EXPECT_TRUE(is_constructed(0x71));
  EXPECT_TRUE(is_constructed(0xBF0C));
  EXPECT_FALSE(is_constructed(0x9F26));
  EXPECT_EQ(tag_hex(0x9F26), "9F26");
  EXPECT_EQ(tag_hex(0x5A), "5A");
  EXPECT_EQ(tag_hex(0xDF8101), "DF8101");
  EXPECT_EQ(parse_tag_hex("9f26"), 0x9F26U);
  EXPECT_EQ(parse_tag_hex("DF8101"), 0xDF8101U);
  EXPECT_FALSE(parse_tag_hex("9F"));
  EXPECT_FALSE(parse_tag_hex("009F26"));
  EXPECT_FALSE(parse_tag_hex("XX"));
  EXPECT_FALSE(parse_tag_hex("9F2"));
}

TEST(TlvBuild, LengthsInShortestForm) {
  // pyemv test_encode: 9C8180+128 bytes, 9C8201FF+511 bytes.
  bytes out;
  ASSERT_TRUE(append_tlv(out, 0x9C, bytes(128, 0xFF)));
  EXPECT_EQ(to_hex(byte_view(out).first(3)), "9C8180");
  out.clear();
  ASSERT_TRUE(append_tlv(out, 0x9C, bytes(511, 0xFF)));
  EXPECT_EQ(to_hex(byte_view(out).first(4)), "9C8201FF");
  out.clear();
  ASSERT_TRUE(append_tlv(out, 0x9C, bytes(0x10000, 0xFF)));
  EXPECT_EQ(to_hex(byte_view(out).first(5)), "9C83010000");
  out.clear();
  ASSERT_TRUE(append_tlv(out, 0x9F8001, hex("FF")));
  EXPECT_EQ(to_hex(out), "9F800101FF");
  out.clear();
  EXPECT_EQ(append_length(out, 0x1000000).code, errc::value_too_long);
  EXPECT_EQ(append_tlv(out, 0x9F, {}).code, errc::bad_tag);
  EXPECT_TRUE(out.empty());
}

TEST(TlvBuild, BuilderWithTemplates) {
  // pyemv test_encode: {"E0": {"9F00": FF}, "9C": FF} -> E0049F0001FF9C01FF.
  bytes out;
  tlv_builder b(out);
  b.open(0xE0).add(0x9F00, hex("FF")).close().add(0x9C, hex("FF"));
  ASSERT_TRUE(b.finish());
  EXPECT_EQ(to_hex(out), "E0049F0001FF9C01FF");

  bytes empty;
  tlv_builder e(empty);
  e.open(0xE0).close();
  ASSERT_TRUE(e.finish());
  EXPECT_EQ(to_hex(empty), "E000");

  // A template above 127 bytes gets a long-form length inserted at close().
  bytes big;
  tlv_builder g(big);
  g.open(0x71).add(0x86, bytes(200, 0x11)).close();
  ASSERT_TRUE(g.finish());
  EXPECT_EQ(to_hex(byte_view(big).first(6)), "7181CB8681C8");
  tlv_tree t;
  ASSERT_TRUE(parse(big, t));
  EXPECT_EQ(t.find(0x86)->value.size(), 200U);
}

TEST(TlvBuild, BuilderErrorsStick) {
  bytes out;
  tlv_builder b(out);
  b.open(0x9F26);  // primitive tag
  EXPECT_EQ(b.finish().code, errc::bad_tag);
  bytes out2;
  tlv_builder c(out2);
  c.open(0x71).add(0x86, hex("00"));
  EXPECT_EQ(c.finish().code, errc::bad_tag) << "a template left open";
  bytes out3;
  tlv_builder d(out3);
  d.close();
  EXPECT_FALSE(d.finish());
}

TEST(TlvBuild, RoundTripNormalisesPaddingAndLengths) {
  const bytes in = hex("00 9F27810180 FF 7109 00 9F1804 00000001 00 9F3682000200 1C 0000");
  tlv_tree t;
  ASSERT_TRUE(parse(in, t));
  bytes out;
  ASSERT_TRUE(build(t, out));
  EXPECT_EQ(to_hex(out),
            "9F270180"
            "71079F180400000001"
            "9F3602001C");
  tlv_tree again;
  ASSERT_TRUE(parse(out, again));
  EXPECT_EQ(describe_tree(again), describe_tree(t));
}

}  // namespace
}  // namespace eft::emv
