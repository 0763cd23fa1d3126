// The message model: fields and subfield paths, order, reuse.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace eft::iso8583::test {
namespace {

const spec& iso87_ascii() {
  static const auto s = load_spec("iso87-ascii");
  return *s;
}

const spec& tagged_spec() {
  static const spec s = make_spec(
      "  3: {class: n, length: 6}\n"
      "  48: {name: Additional data - private, class: ans, length: 999, prefix: LLL, composite: tagged}\n");
  return s;
}

std::vector<std::uint32_t> field_numbers(const message& m) {
  std::vector<std::uint32_t> out;
  m.for_each_field([&](std::uint32_t n, const message::node& node) {
    EXPECT_EQ(node.number, n);
    out.push_back(n);
  });
  return out;
}

std::vector<std::string> child_keys(const message& m, const message::node& parent) {
  std::vector<std::string> out;
  m.for_each_child(parent, [&](const message::node& c) {
    out.push_back(c.tag_size != 0 ? std::string(c.tag_view()) : std::to_string(c.number));
  });
  return out;
}

std::string pack_to_hex(const message& m) {
  std::vector<std::byte> out;
  const status st = pack(m, out);
  EXPECT_TRUE(st) << st.message();
  return to_hex(out);
}

TEST(Message, SetGetHasUnsetFields) {
  message m(iso87_ascii());
  EXPECT_EQ(&m.dialect(), &iso87_ascii());
  EXPECT_FALSE(m.has(3));
  ASSERT_TRUE(m.set(3, "000000"));
  EXPECT_TRUE(m.has(3));
  EXPECT_TRUE(m.has("3"));
  EXPECT_EQ(m.get(3), "000000");
  EXPECT_EQ(m.get("3"), "000000");
  ASSERT_NE(m.field_node(3), nullptr);
  EXPECT_EQ(m.field_node(3)->spec, iso87_ascii().field(3));
  EXPECT_EQ(m.value(*m.field_node(3)), "000000");

  ASSERT_TRUE(m.set(3, "300000"));  // replaces
  EXPECT_EQ(m.get(3), "300000");
  EXPECT_EQ(m.field_count(), 1U);

  m.unset(3);
  EXPECT_FALSE(m.has(3));
  EXPECT_FALSE(m.get(3).has_value());
  EXPECT_EQ(m.field_node(3), nullptr);
  EXPECT_EQ(m.field_count(), 0U);

  ASSERT_TRUE(m.set("4", "000000001000"));
  EXPECT_TRUE(m.unset("4"));
  EXPECT_FALSE(m.unset("4"));
  EXPECT_FALSE(m.has(4));
}

TEST(Message, ValuesAreKeptAsGiven) {
  message m(iso87_ascii());
  // Binary with zero bytes, text with spaces, digits with leading zeros.
  const std::string pin("\x00\x01\xFF\x00\x10\x20\x30\x00", 8);
  ASSERT_TRUE(m.set(52, pin));
  ASSERT_TRUE(m.set(43, "SHOP  "));
  ASSERT_TRUE(m.set(4, "000000000001"));
  EXPECT_EQ(m.get(52), pin);
  EXPECT_EQ(m.get(43), "SHOP  ");
  EXPECT_EQ(m.get(4), "000000000001");
}

TEST(Message, AbsentFieldsAndPaths) {
  message m(iso87_ascii());
  ASSERT_TRUE(m.set("127.2", "1"));
  for (std::uint32_t n : {0U, 1U, 2U, 5U, 128U, 192U, 193U, 1000U, 0xFFFFFFFFU}) {
    EXPECT_FALSE(m.has(n)) << n;
    EXPECT_FALSE(m.get(n).has_value()) << n;
    EXPECT_EQ(m.field_node(n), nullptr) << n;
    m.unset(n);  // harmless
  }
  for (const char* path : {"", "5", "127.3", "127.2.1", "90.1", "x", "127.", ".127", "127..2", "1000", "-1"}) {
    EXPECT_FALSE(m.has(path)) << path;
    EXPECT_FALSE(m.get(path).has_value()) << path;
    EXPECT_FALSE(m.unset(path)) << path;
  }
  EXPECT_TRUE(m.has("127.2"));
  EXPECT_EQ(m.field_count(), 1U);
}

TEST(Message, SubfieldPathsCreateTheirParents) {
  message m(iso87_ascii());
  ASSERT_TRUE(m.set("127.2", "0000000123456789"));
  EXPECT_TRUE(m.has(127));
  EXPECT_TRUE(m.has("127.2"));
  EXPECT_EQ(m.get("127.2"), "0000000123456789");
  EXPECT_EQ(m.get(127), "");  // a composite built from subfields has no value of its own

  ASSERT_TRUE(m.set("127.25.26", "978"));  // two levels at once
  EXPECT_TRUE(m.has("127.25"));
  EXPECT_EQ(m.get("127.25.26"), "978");

  ASSERT_TRUE(m.set("90.1", "0200"));
  EXPECT_TRUE(m.has(90));
  EXPECT_EQ(m.get("90.1"), "0200");
  EXPECT_EQ(field_numbers(m), (std::vector<std::uint32_t>{90, 127}));

  ASSERT_TRUE(m.set("127.2", "1"));  // replaces, no second 127.2
  EXPECT_EQ(child_keys(m, *m.field_node(127)), (std::vector<std::string>{"2", "25"}));
  EXPECT_EQ(m.get("127.2"), "1");
}

TEST(Message, RefusedPathLeavesTheMessageAsItWas) {
  message m(iso87_ascii());
  EXPECT_EQ(m.set("127.99", "x").code, errc::unknown_field);
  EXPECT_EQ(m.set("127.2.1", "x").code, errc::unknown_field);
  EXPECT_EQ(m.set("127.25.99", "x").code, errc::unknown_field);
  EXPECT_EQ(m.set("90.9", "x").code, errc::unknown_field);
  EXPECT_FALSE(m.has(127));
  EXPECT_FALSE(m.has(90));
  EXPECT_EQ(m.field_count(), 0U);

  ASSERT_TRUE(m.set("127.2", "1"));
  EXPECT_EQ(m.set("127.25.99", "x").code, errc::unknown_field);
  EXPECT_FALSE(m.has("127.25"));
  EXPECT_EQ(child_keys(m, *m.field_node(127)), (std::vector<std::string>{"2"}));

  message t(tagged_spec());
  EXPECT_EQ(t.set("48.ABC", "x").code, errc::unknown_field);
  EXPECT_EQ(t.set("48.AB.1", "x").code, errc::unknown_field);
  EXPECT_FALSE(t.has(48));
}

TEST(Message, NumberedSubfieldsStaySorted) {
  message m(iso87_ascii());
  m.set_mti("0100");
  const std::vector<std::pair<std::string, std::string>> unordered{
      {"127.10", "123"}, {"127.2", "1"}, {"127.33", "0001"}, {"127.6", "12"}, {"127.3", std::string(48, 'R')}};
  for (const auto& [path, value] : unordered) ASSERT_TRUE(m.set(path, value));
  EXPECT_EQ(child_keys(m, *m.field_node(127)), (std::vector<std::string>{"2", "3", "6", "10", "33"}));

  // Same subfields set in ascending order: same bytes.
  message sorted(iso87_ascii());
  sorted.set_mti("0100");
  sorted.set("127.2", "1");
  sorted.set("127.3", std::string(48, 'R'));
  sorted.set("127.6", "12");
  sorted.set("127.10", "123");
  sorted.set("127.33", "0001");
  EXPECT_EQ(pack_to_hex(m), pack_to_hex(sorted));

  // Positional subfields too: set backwards, packed forwards.
  message p(iso87_ascii());
  p.set_mti("0400");
  for (const auto& [path, value] : std::vector<std::pair<std::string, std::string>>{{"90.5", "00000000005"},
                                                                                    {"90.3", "0131235959"},
                                                                                    {"90.1", "0200"},
                                                                                    {"90.4", "00000000004"},
                                                                                    {"90.2", "000002"}}) {
    ASSERT_TRUE(p.set(path, value));
  }
  EXPECT_EQ(child_keys(p, *p.field_node(90)), (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  message q(iso87_ascii());
  q.set_mti("0400");
  q.set(90,
        "0200"
        "000002"
        "0131235959"
        "00000000004"
        "00000000005");
  EXPECT_EQ(pack_to_hex(p), pack_to_hex(q));
}

TEST(Message, TaggedSubfieldsKeepTheirOrder) {
  message m(tagged_spec());
  ASSERT_TRUE(m.set("48.ZZ", "last-set-first"));
  ASSERT_TRUE(m.set("48.AB", "xyz"));
  ASSERT_TRUE(m.set("48.MM", "1"));
  EXPECT_TRUE(m.has("48.AB"));
  EXPECT_EQ(m.get("48.AB"), "xyz");
  EXPECT_EQ(child_keys(m, *m.field_node(48)), (std::vector<std::string>{"ZZ", "AB", "MM"}));
  ASSERT_TRUE(m.set("48.AB", "changed"));
  EXPECT_EQ(child_keys(m, *m.field_node(48)), (std::vector<std::string>{"ZZ", "AB", "MM"}));
  EXPECT_EQ(m.get("48.AB"), "changed");

  EXPECT_TRUE(m.unset("48.AB"));
  EXPECT_FALSE(m.has("48.AB"));
  EXPECT_FALSE(m.unset("48.AB"));
  EXPECT_EQ(child_keys(m, *m.field_node(48)), (std::vector<std::string>{"ZZ", "MM"}));
  EXPECT_TRUE(m.unset("48.ZZ"));  // the first one
  EXPECT_EQ(child_keys(m, *m.field_node(48)), (std::vector<std::string>{"MM"}));

  m.set_mti("0200");
  // "0200", bitmap bit 48 (byte 6 = 0x01), LLL "006", "MM" "001" "1".
  EXPECT_EQ(pack_to_hex(m),
            "30323030"
            "0000000000010000"
            "303036"
            "4D4D303031"
            "31");
}

TEST(Message, UnsetSubfieldIsLeftOutOfThePackedField) {
  message m(iso87_ascii());
  m.set_mti("0100");
  m.set("127.2", "1");
  m.set("127.6", "12");
  EXPECT_TRUE(m.unset("127.2"));
  message only6(iso87_ascii());
  only6.set_mti("0100");
  only6.set("127.6", "12");
  EXPECT_EQ(pack_to_hex(m), pack_to_hex(only6));
}

TEST(Message, SettingAFieldDropsItsSubfields) {
  message m(iso87_ascii());
  m.set_mti("0400");
  ASSERT_TRUE(m.set("90.1", "0200"));
  ASSERT_TRUE(m.set(90,
                    "0200"
                    "000002"
                    "0131235959"
                    "00000000004"
                    "00000000005"));
  EXPECT_FALSE(m.has("90.1"));
  EXPECT_EQ(m.field_node(90)->first_child, -1);
  // After a round trip the subfields are there again, read from the value.
  message back(iso87_ascii());
  std::vector<std::byte> wire;
  ASSERT_TRUE(pack(m, wire));
  ASSERT_TRUE(unpack(wire, back));
  EXPECT_EQ(back.get("90.3"), "0131235959");
}

TEST(Message, ForEachFieldVisitsInAscendingOrder) {
  message m(iso87_ascii());
  for (std::uint32_t n : {128U, 2U, 70U, 64U, 3U, 65U, 127U, 66U}) {
    ASSERT_TRUE(m.set(n, n == 2 ? "4111111111111111" : ""));
  }
  EXPECT_EQ(field_numbers(m), (std::vector<std::uint32_t>{2, 3, 64, 65, 66, 70, 127, 128}));
  EXPECT_EQ(m.field_count(), 8U);
  m.unset(65);
  m.unset(2);
  EXPECT_EQ(field_numbers(m), (std::vector<std::uint32_t>{3, 64, 66, 70, 127, 128}));
  EXPECT_EQ(m.field_count(), 6U);
}

TEST(Message, TertiaryFieldsCount) {
  const spec s = make_spec("  3: {class: n, length: 2}\n  130: {class: n, length: 1}\n  192: {class: n, length: 1}\n",
                           "bitmap: {tertiary: true}\n");
  message m(s);
  ASSERT_TRUE(m.set(192, "9"));
  ASSERT_TRUE(m.set(130, "1"));
  ASSERT_TRUE(m.set(3, "00"));
  EXPECT_EQ(field_numbers(m), (std::vector<std::uint32_t>{3, 130, 192}));
  EXPECT_EQ(m.field_count(), 3U);
  EXPECT_EQ(m.set(65, "x").code, errc::unknown_field);  // bit 65 is the tertiary bitmap
}

TEST(Message, Mti) {
  message m(iso87_ascii());
  EXPECT_EQ(m.mti(), "");
  m.set_mti("0800");
  EXPECT_EQ(m.mti(), "0800");
  m.set_mti("0810");
  EXPECT_EQ(m.mti(), "0810");
  m.clear();
  EXPECT_EQ(m.mti(), "");
}

TEST(Message, ClearKeepsTheMessageUsable) {
  message m(iso87_ascii());
  m.set_mti("0200");
  m.set(2, "4111111111111111");
  m.set("127.2", "1");
  m.clear();
  EXPECT_EQ(m.field_count(), 0U);
  EXPECT_FALSE(m.has(2));
  EXPECT_FALSE(m.has(127));
  EXPECT_FALSE(m.has("127.2"));
  EXPECT_EQ(field_numbers(m), std::vector<std::uint32_t>{});
  m.set_mti("0800");
  m.set(70, "301");
  EXPECT_EQ(field_numbers(m), std::vector<std::uint32_t>{70});
  // "0800", primary with bit 1, secondary with bit 70 (byte 1, 0x04), "301".
  EXPECT_EQ(pack_to_hex(m),
            "30383030"
            "8000000000000000"
            "0400000000000000"
            "333031");
}

TEST(Message, ReusedMessageUnpacksCorrectlyManyTimes) {
  // Two different messages, unpacked alternately into the same object: nothing of one may show in the
  // other.
  message a(iso87_ascii());
  a.set_mti("0200");
  a.set(2, "4761739001010010");
  a.set(3, "000000");
  a.set(4, "000000001000");
  a.set("127.2", "0000000123456789");
  a.set("127.25.26", "978");
  message b(iso87_ascii());
  b.set_mti("0810");
  b.set(7, "0131235959");
  b.set(39, "00");
  b.set(70, "301");
  std::vector<std::byte> wire_a;
  std::vector<std::byte> wire_b;
  ASSERT_TRUE(pack(a, wire_a));
  ASSERT_TRUE(pack(b, wire_b));

  message reused(iso87_ascii());
  for (int i = 0; i < 1000; ++i) {
    if (i % 2 == 0) {
      ASSERT_TRUE(unpack(wire_a, reused));
      ASSERT_EQ(reused.mti(), "0200");
      ASSERT_EQ(field_numbers(reused), (std::vector<std::uint32_t>{2, 3, 4, 127}));
      ASSERT_EQ(reused.get(2), "4761739001010010");
      ASSERT_EQ(reused.get("127.25.26"), "978");
      ASSERT_FALSE(reused.has(70));
    } else {
      ASSERT_TRUE(unpack(wire_b, reused));
      ASSERT_EQ(reused.mti(), "0810");
      ASSERT_EQ(field_numbers(reused), (std::vector<std::uint32_t>{7, 39, 70}));
      ASSERT_EQ(reused.get(70), "301");
      ASSERT_FALSE(reused.has(2));
      ASSERT_FALSE(reused.has("127.2"));
    }
    std::vector<std::byte> again;
    ASSERT_TRUE(pack(reused, again));
    ASSERT_EQ(again, i % 2 == 0 ? wire_a : wire_b);
  }
  // A failed unpack leaves no field of the previous message behind either.
  ASSERT_TRUE(unpack(wire_a, reused));
  const std::string bad = bytes(
      "30323030"
      "4000000000000000"
      "3136"
      "3431");
  EXPECT_FALSE(unpack(as_bytes(bad), reused));
  EXPECT_FALSE(reused.has(3));
  EXPECT_FALSE(reused.has(127));
  // And the message is usable after it.
  ASSERT_TRUE(unpack(wire_b, reused));
  EXPECT_EQ(field_numbers(reused), (std::vector<std::uint32_t>{7, 39, 70}));
}

TEST(Message, ModifyAnUnpackedMessage) {
  message m(iso87_ascii());
  message src(iso87_ascii());
  src.set_mti("0200");
  src.set(3, "000000");
  src.set("127.2", "1");
  src.set("127.6", "12");
  std::vector<std::byte> wire;
  ASSERT_TRUE(pack(src, wire));
  ASSERT_TRUE(unpack(wire, m));
  // Answer it: new MTI, a response code, one subfield changed and one added.
  m.set_mti("0210");
  ASSERT_TRUE(m.set(39, "00"));
  ASSERT_TRUE(m.set("127.6", "34"));
  ASSERT_TRUE(m.set("127.3", std::string(48, 'R')));
  EXPECT_EQ(child_keys(m, *m.field_node(127)), (std::vector<std::string>{"2", "3", "6"}));
  message expected(iso87_ascii());
  expected.set_mti("0210");
  expected.set(3, "000000");
  expected.set(39, "00");
  expected.set("127.2", "1");
  expected.set("127.3", std::string(48, 'R'));
  expected.set("127.6", "34");
  EXPECT_EQ(pack_to_hex(m), pack_to_hex(expected));
}

}  // namespace
}  // namespace eft::iso8583::test
