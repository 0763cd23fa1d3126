// Framings against bytes written out by hand from DOMAIN.md "Framing on the wire".
#include <gtest/gtest.h>

#include <vector>

#include "eft/switch/framing.hpp"

namespace eft::switch_core {
namespace {

using bytes = std::vector<std::uint8_t>;

frame inspect(framing_kind k, const bytes& b, std::size_t max = 8192) {
  return inspect_frame({k, max}, b);
}

TEST(Framing, TwoByteLength) {
  const bytes b = {0x00, 0x03, 'A', 'B', 'C', 'X'};  // 3-byte message, then the next frame's first byte
  const frame f = inspect(framing_kind::len2, b);
  ASSERT_EQ(f.status, frame_status::complete);
  EXPECT_EQ(f.header_size, 2U);
  EXPECT_EQ(f.body_size, 3U);
  EXPECT_EQ(f.total(), 5U);
}

TEST(Framing, NeedMoreSaysHowMuch) {
  EXPECT_EQ(inspect(framing_kind::len2, {0x01}).status, frame_status::need_more);
  EXPECT_EQ(inspect(framing_kind::len2, {0x01}).needed, 2U);
  const frame f = inspect(framing_kind::len2, {0x01, 0x00, 'A'});
  EXPECT_EQ(f.status, frame_status::need_more);
  EXPECT_EQ(f.needed, 2U + 256U);
}

TEST(Framing, TpduIsCountedByTheLengthAndSwappedInTheReply) {
  // Length 7 = TPDU 60 0001 0002 + "AB".
  const bytes b = {0x00, 0x07, 0x60, 0x00, 0x01, 0x00, 0x02, 'A', 'B'};
  const frame f = inspect(framing_kind::len2_tpdu, b);
  ASSERT_EQ(f.status, frame_status::complete);
  EXPECT_EQ(f.header_size, 7U);
  EXPECT_EQ(f.body_size, 2U);
  ASSERT_TRUE(f.tpdu_header);
  EXPECT_EQ(f.tpdu_header->destination(), 1);
  EXPECT_EQ(f.tpdu_header->source(), 2);
  std::uint8_t out[max_header_size];
  ASSERT_EQ(write_frame_header({framing_kind::len2_tpdu, 8192}, 2, out, f.tpdu_header), 7U);
  EXPECT_EQ(bytes(out, out + 7), (bytes{0x00, 0x07, 0x60, 0x00, 0x02, 0x00, 0x01}));
  EXPECT_EQ(inspect(framing_kind::len2_tpdu, {0x00, 0x03, 0x60, 0x00, 0x01}).status, frame_status::bad_length);
}

TEST(Framing, SelfCountingLength) {
  const frame f = inspect(framing_kind::len2_inclusive, {0x00, 0x04, 'A', 'B'});
  ASSERT_EQ(f.status, frame_status::complete);
  EXPECT_EQ(f.body_size, 2U);
  EXPECT_EQ(inspect(framing_kind::len2_inclusive, {0x00, 0x02}).status, frame_status::keep_alive);
  EXPECT_EQ(inspect(framing_kind::len2_inclusive, {0x00, 0x01}).status, frame_status::bad_length);
  std::uint8_t out[max_header_size];
  ASSERT_EQ(write_frame_header({framing_kind::len2_inclusive, 8192}, 2, out), 2U);
  EXPECT_EQ(bytes(out, out + 2), (bytes{0x00, 0x04}));
}

TEST(Framing, AsciiFourDigits) {
  const frame f = inspect(framing_kind::ascii4, {'0', '0', '0', '2', 'O', 'K'});
  ASSERT_EQ(f.status, frame_status::complete);
  EXPECT_EQ(f.header_size, 4U);
  EXPECT_EQ(f.body_size, 2U);
  EXPECT_EQ(inspect(framing_kind::ascii4, {'0', '0', 'x', '2'}).status, frame_status::bad_length);
  std::uint8_t out[max_header_size];
  ASSERT_EQ(write_frame_header({framing_kind::ascii4, 9999}, 123, out), 4U);
  EXPECT_EQ(bytes(out, out + 4), (bytes{'0', '1', '2', '3'}));
  EXPECT_EQ(write_frame_header({framing_kind::ascii4, 20000}, 10000, out), 0U);
}

TEST(Framing, FourByteBinary) {
  const frame f = inspect(framing_kind::len4, {0x00, 0x00, 0x00, 0x01, 'Z'});
  ASSERT_EQ(f.status, frame_status::complete);
  EXPECT_EQ(f.body_size, 1U);
  // 0x7FFFFFFF bytes announced: refused before any buffer is sized for it.
  const frame huge = inspect(framing_kind::len4, {0x7F, 0xFF, 0xFF, 0xFF});
  EXPECT_EQ(huge.status, frame_status::bad_length);
  EXPECT_EQ(huge.reason, "a frame longer than the link's maximum");
}

TEST(Framing, ZeroLengthIsAKeepAlive) {
  for (auto k : {framing_kind::len2, framing_kind::len2_tpdu, framing_kind::len4}) {
    const frame f = inspect(k, {0, 0, 0, 0});
    EXPECT_EQ(f.status, frame_status::keep_alive) << to_string(k);
  }
  EXPECT_EQ(inspect(framing_kind::ascii4, {'0', '0', '0', '0'}).status, frame_status::keep_alive);
}

TEST(Framing, MaxFrameIsEnforced) {
  EXPECT_EQ(inspect(framing_kind::len2, {0x01, 0x01}, 256).status, frame_status::bad_length);
  EXPECT_EQ(inspect(framing_kind::len2, {0x01, 0x00}, 256).status, frame_status::need_more);
  std::uint8_t out[max_header_size];
  EXPECT_EQ(write_frame_header({framing_kind::len2, 256}, 257, out), 0U);
}

TEST(Framing, Names) {
  for (auto k : {framing_kind::len2, framing_kind::len2_tpdu, framing_kind::len2_inclusive, framing_kind::ascii4,
                 framing_kind::len4}) {
    EXPECT_EQ(parse_framing_kind(to_string(k)), k);
  }
  EXPECT_FALSE(parse_framing_kind("len3"));
}

}  // namespace
}  // namespace eft::switch_core
