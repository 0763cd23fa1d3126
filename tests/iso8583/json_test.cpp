// The JSON form (both ways), the masked form, dump() and the masking helpers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "eft/iso8583/json.hpp"
#include "eft/iso8583/mask.hpp"
#include "test_util.hpp"

namespace eft::iso8583::test {
namespace {

using json = nlohmann::ordered_json;

const spec& iso87_ascii() {
  static const auto s = load_spec("iso87-ascii");
  return *s;
}

std::vector<std::byte> pack_ok(const message& m) {
  std::vector<std::byte> out;
  const status st = pack(m, out);
  EXPECT_TRUE(st) << st.message();
  return out;
}

constexpr std::string_view pan = "4761739001010010";
constexpr std::string_view track2 = "4761739001010010=2212201";
constexpr std::string_view track1 = "B4761739001010010^TEST/CARD^2212201";
// 9F26 (8 bytes), 82 (2), 9F36 (2), 5F2A (2), then BF0C, constructed (bit 6 of its first byte), holding
// 9F4D (2). Wire order on purpose not sorted.
constexpr std::string_view icc_hex =
    "9F26081122334455667788"
    "82021980"
    "9F36020001"
    "5F2A020978"
    "BF0C059F4D020B0A";

// A purchase with sensitive data and every kind of composite iso87-ascii has.
message purchase() {
  message m(iso87_ascii());
  m.set_mti("0200");
  EXPECT_TRUE(m.set(2, pan));
  EXPECT_TRUE(m.set(3, "000000"));
  EXPECT_TRUE(m.set(4, "000000001000"));
  EXPECT_TRUE(m.set(35, track2));
  EXPECT_TRUE(m.set(45, track1));
  EXPECT_TRUE(m.set(52, bytes("a1b2c3d4e5f60718")));
  EXPECT_TRUE(m.set(55, bytes(icc_hex)));
  EXPECT_TRUE(m.set("90.1", "0200"));
  EXPECT_TRUE(m.set("90.2", "000123"));
  EXPECT_TRUE(m.set("90.3", "0131235959"));
  EXPECT_TRUE(m.set("90.4", "00000012345"));
  EXPECT_TRUE(m.set("90.5", "00000067890"));
  EXPECT_TRUE(m.set("127.2", "0000000123456789"));
  EXPECT_TRUE(m.set("127.10", "987"));
  EXPECT_TRUE(m.set("127.25.2", "000000001000"));
  EXPECT_TRUE(m.set("127.25.26", "978"));
  return m;
}

const json& purchase_json() {
  static const json j = json::parse(R"({
    "0": "0200",
    "2": "4761739001010010",
    "3": "000000",
    "4": "000000001000",
    "35": "4761739001010010=2212201",
    "45": "B4761739001010010^TEST/CARD^2212201",
    "52": "A1B2C3D4E5F60718",
    "55": {"9F26": "1122334455667788", "82": "1980", "9F36": "0001", "5F2A": "0978", "BF0C": {"9F4D": "0B0A"}},
    "90": {"1": "0200", "2": "000123", "3": "0131235959", "4": "00000012345", "5": "00000067890"},
    "127": {"2": "0000000123456789", "10": "987", "25": {"2": "000000001000", "26": "978"}}
  })");
  return j;
}

const json& purchase_masked_json() {
  static const json j = json::parse(R"({
    "0": "0200",
    "2": "476173******0010",
    "3": "000000",
    "4": "000000001000",
    "35": "[redacted]",
    "45": "[redacted]",
    "52": "[redacted]",
    "55": ["9F26", "82", "9F36", "5F2A", "BF0C"],
    "90": {"1": "0200", "2": "000123", "3": "0131235959", "4": "00000012345", "5": "00000067890"},
    "127": {"2": "0000000123456789", "10": "[redacted]", "25": {"2": "000000001000", "26": "978"}}
  })");
  return j;
}

std::vector<std::string> keys(const json& j) {
  std::vector<std::string> out;
  for (const auto& [k, v] : j.items()) out.push_back(k);
  return out;
}

TEST(Json, RevealedFormOfBuiltMessage) {
  const message m = purchase();
  const json j = to_json(m, reveal::yes);
  EXPECT_EQ(j, purchase_json()) << j.dump(2);
  // Ordered: "0" first, fields ascending, TLV tags in wire order, subfields by number.
  EXPECT_EQ(keys(j), (std::vector<std::string>{"0", "2", "3", "4", "35", "45", "52", "55", "90", "127"}));
  EXPECT_EQ(keys(j["55"]), (std::vector<std::string>{"9F26", "82", "9F36", "5F2A", "BF0C"}));
  EXPECT_EQ(keys(j["127"]), (std::vector<std::string>{"2", "10", "25"}));
}

TEST(Json, RevealedFormOfUnpackedMessageAndBack) {
  const std::vector<std::byte> wire = pack_ok(purchase());
  message m(iso87_ascii());
  ASSERT_TRUE(unpack(wire, m));
  EXPECT_EQ(to_json(m, reveal::yes), purchase_json()) << to_json(m, reveal::yes).dump(2);

  message back(iso87_ascii());
  const status st = from_json(purchase_json(), back);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(to_hex(pack_ok(back)), to_hex(wire));
}

TEST(Json, MaskedForm) {
  const message m = purchase();
  EXPECT_EQ(to_json(m), purchase_masked_json()) << to_json(m).dump(2);
  EXPECT_EQ(to_json(m, reveal::no), purchase_masked_json());
  message unpacked(iso87_ascii());
  ASSERT_TRUE(unpack(pack_ok(m), unpacked));
  EXPECT_EQ(to_json(unpacked), purchase_masked_json());
}

TEST(Json, MaskedPanLengths) {
  for (const auto& [value, masked] : std::vector<std::pair<std::string, std::string>>{
           {"4761739001010010", "476173******0010"},        // 16 digits
           {"4761739001010010005", "476173*********0005"},  // 19 digits
           {"4222222222222", "422222***2222"},              // 13 digits
           {"123456789012", "********9012"},                // 12: too short for first 6 and last 4
       }) {
    message m(iso87_ascii());
    m.set_mti("0100");
    m.set(2, value);
    EXPECT_EQ(to_json(m)["2"], masked) << value;
    EXPECT_EQ(to_json(m, reveal::yes)["2"], value);
  }
}

TEST(Json, MtiAndNumericStringsKeepLeadingZeros) {
  const json in = json::parse(R"({"0": "0100", "3": "000000", "4": "000000000001", "11": "000001", "49": "008"})");
  message m(iso87_ascii());
  ASSERT_TRUE(from_json(in, m));
  EXPECT_EQ(m.mti(), "0100");
  EXPECT_EQ(*m.get(4), "000000000001");
  message round(iso87_ascii());
  ASSERT_TRUE(unpack(pack_ok(m), round));
  EXPECT_EQ(to_json(round), in);
  EXPECT_EQ(keys(to_json(round)).front(), "0");
  EXPECT_EQ(to_json(message(iso87_ascii())), json::parse(R"({"0": ""})"));
}

TEST(Json, BinaryFieldsAreUppercaseHexAndReadInEitherCase) {
  message m(iso87_ascii());
  const json in = json::parse(R"({"0": "0800", "64": "0a1b2c3d4e5f6a7b", "128": "FFFEFDFCFBFAF9F8"})");
  ASSERT_TRUE(from_json(in, m));
  EXPECT_EQ(*m.get(64), bytes("0A1B2C3D4E5F6A7B"));
  const json out = to_json(m);
  EXPECT_EQ(out["64"], "0A1B2C3D4E5F6A7B");
  EXPECT_EQ(out["128"], "FFFEFDFCFBFAF9F8");
}

TEST(Json, NestedSubfieldsOfField127) {
  // 127.25 is itself a composite behind a hex bitmap; its JSON nests one more level.
  message m(iso87_ascii());
  ASSERT_TRUE(from_json(json::parse(R"({"0": "0100", "127": {"25": {"26": "978", "2": "000000001000"}}})"), m));
  // Keys are subfield numbers: order in the JSON does not matter, the message keeps them sorted.
  EXPECT_EQ(to_json(m, reveal::yes)["127"], json::parse(R"({"25": {"2": "000000001000", "26": "978"}})"));
  message round(iso87_ascii());
  ASSERT_TRUE(unpack(pack_ok(m), round));
  EXPECT_EQ(*round.get("127.25.2"), "000000001000");
  EXPECT_EQ(*round.get("127.25.26"), "978");
}

TEST(Json, TaggedCompositeDefinedInline) {
  const spec s =
      make_spec("  48: {name: Additional data - private, class: ans, length: 999, prefix: LLL, composite: tagged}\n");
  const json in = json::parse(R"({"0": "0200", "48": {"ZZ": "hello", "AB": "1"}})");
  message m(s);
  ASSERT_TRUE(from_json(in, m));
  // "0200", bitmap with bit 48 (byte 6 = 0x01), LLL "016", "ZZ" "005" "hello", "AB" "001" "1".
  const std::vector<std::byte> wire = pack_ok(m);
  EXPECT_EQ(to_hex(wire),
            "30323030"
            "0000000000010000"
            "303136"
            "5A5A303035"
            "68656C6C6F"
            "4142303031"
            "31");
  message back(s);
  ASSERT_TRUE(unpack(wire, back));
  EXPECT_EQ(to_json(back), in);  // tags in the order they came
  // A tag of the wrong size is not a tag of this field.
  message bad(s);
  const status st = from_json(json::parse(R"({"48": {"ABC": "1"}})"), bad);
  EXPECT_EQ(st.code, errc::bad_json);
  EXPECT_EQ(st.field.view(), "48.ABC");
}

// ---------------------------------------------------------------------------------------------
// BER-TLV that has no lossless object form stays a hex string and round-trips byte for byte

void expect_icc_stays_hex(std::string_view icc, const json& masked_tags) {
  message m(iso87_ascii());
  m.set_mti("0200");
  m.set(55, bytes(icc));
  const std::vector<std::byte> wire = pack_ok(m);

  message unpacked(iso87_ascii());
  ASSERT_TRUE(unpack(wire, unpacked));
  const json j = to_json(unpacked, reveal::yes);
  EXPECT_EQ(j["55"], std::string(icc));
  EXPECT_EQ(to_json(unpacked)["55"], masked_tags);

  message back(iso87_ascii());
  ASSERT_TRUE(from_json(j, back));
  EXPECT_EQ(to_hex(pack_ok(back)), to_hex(wire));
}

TEST(Json, NonCanonicalTlvLengthStaysHex) {
  // 5 value bytes announced with the long form 81 05: valid BER, but rebuilding would write 05.
  expect_icc_stays_hex("9F26810511223344558A023030", json::parse(R"(["9F26", "8A"])"));
}

TEST(Json, RepeatedTagStaysHex) {
  expect_icc_stays_hex("9F2601AA9F2601BB", json::parse(R"(["9F26", "9F26"])"));
}

TEST(Json, MalformedTlvStaysHex) {
  // 9F26 announces 5 bytes, 2 follow.
  expect_icc_stays_hex("9F26051122", json::parse(R"j(["(malformed)"])j"));
  // After one good object, a tag with no length.
  expect_icc_stays_hex("8A0230309F", json::parse(R"j(["8A", "(malformed)"])j"));
}

TEST(Json, CanonicalTlvRoundTripsAsObject) {
  // 200 value bytes need the long form 81 C8, which is then the canonical one.
  const std::string big =
      "9F10"
      "81C8" +
      std::string(400, 'A');
  message m(iso87_ascii());
  m.set_mti("0200");
  m.set(55, bytes(big));
  const std::vector<std::byte> wire = pack_ok(m);
  message unpacked(iso87_ascii());
  ASSERT_TRUE(unpack(wire, unpacked));
  const json j = to_json(unpacked, reveal::yes);
  ASSERT_TRUE(j["55"].is_object()) << j["55"];
  EXPECT_EQ(j["55"]["9F10"], std::string(400, 'A'));
  message back(iso87_ascii());
  ASSERT_TRUE(from_json(j, back));
  EXPECT_EQ(to_hex(pack_ok(back)), to_hex(wire));
}

TEST(Json, EmptyIccData) {
  message m(iso87_ascii());
  m.set_mti("0200");
  m.set(55, "");
  const json j = to_json(m, reveal::yes);
  EXPECT_EQ(j["55"], json::object());
  EXPECT_EQ(to_json(m)["55"], json::array());
  message back(iso87_ascii());
  ASSERT_TRUE(from_json(j, back));
  EXPECT_EQ(to_hex(pack_ok(back)), to_hex(pack_ok(m)));
}

// ---------------------------------------------------------------------------------------------
// Sensitive composites

const spec& secret_composites() {
  static const spec s = make_spec(
      "  2: {name: Primary account number, class: n, length: 19, prefix: LL, sensitive: pan}\n"
      "  62:\n"
      "    name: Key exchange data\n"
      "    class: ans\n"
      "    length: 99\n"
      "    prefix: LL\n"
      "    sensitive: secret\n"
      "    composite: positional\n"
      "    subfields:\n"
      "      1: {name: Key index, class: n, length: 2}\n"
      "      2: {name: Key under ZMK, class: ans, length: 32, prefix: LL}\n"
      "  63: {name: Private tags, class: ans, length: 99, prefix: LL, composite: tagged, sensitive: secret}\n");
  return s;
}

TEST(Json, SensitiveCompositeIsHiddenWhole) {
  message m(secret_composites());
  m.set_mti("0800");
  ASSERT_TRUE(m.set("62.1", "07"));
  ASSERT_TRUE(m.set("62.2", "SECRETKEYMATERIAL"));
  ASSERT_TRUE(m.set("63.K1", "TOPSECRET"));
  message unpacked(secret_composites());
  ASSERT_TRUE(unpack(pack_ok(m), unpacked));
  for (const message* msg : {&m, &unpacked}) {
    const json j = to_json(*msg);
    EXPECT_EQ(j["62"], "[redacted]");
    EXPECT_EQ(j["63"], "[redacted]");
    const std::string text = dump(*msg);
    EXPECT_EQ(text.find("SECRETKEYMATERIAL"), std::string::npos) << text;
    EXPECT_EQ(text.find("TOPSECRET"), std::string::npos) << text;
    EXPECT_NE(text.find("Key exchange data"), std::string::npos) << text;
    EXPECT_NE(text.find("[redacted]"), std::string::npos) << text;
    const std::string revealed = dump(*msg, reveal::yes);
    EXPECT_NE(revealed.find("SECRETKEYMATERIAL"), std::string::npos) << revealed;
    EXPECT_NE(revealed.find("TOPSECRET"), std::string::npos) << revealed;
    EXPECT_EQ(to_json(*msg, reveal::yes)["62"], json::parse(R"({"1": "07", "2": "SECRETKEYMATERIAL"})"));
  }
}

// ---------------------------------------------------------------------------------------------
// dump()

TEST(Dump, MaskedDumpNamesFieldsAndNeverShowsCardData) {
  message unpacked(iso87_ascii());
  ASSERT_TRUE(unpack(pack_ok(purchase()), unpacked));
  const std::string text = dump(unpacked);
  // Names from the spec and masked values.
  for (const char* expected :
       {"MTI", "0200", "Primary account number", "476173******0010", "Track 2 data", "Track 1 data", "PIN data",
        "[redacted]", "ICC data", "tags 9F26 82 9F36 5F2A BF0C", "Original data elements", "90.3", "'0131235959'",
        "127.25.26", "Transaction currency code", "CVV2", "'000000001000'"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " not in\n" << text;
  }
  // No clear PAN (nor its hidden middle digits), track, PIN block, CVV2 or ICC values.
  for (const char* secret : {"4761739001010010", "739001", "9001010", "=2212", "2212201", "TEST/CARD", "A1B2C3D4",
                             "a1b2", "987", "1122334455667788", "0B0A"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked in\n" << text;
  }
  // The masked JSON text holds none of them either.
  const std::string masked_json = to_json(unpacked).dump();
  for (const char* secret : {"4761739001010010", "739001", "=2212", "A1B2C3D4", "987", "1122334455667788"}) {
    EXPECT_EQ(masked_json.find(secret), std::string::npos) << secret << " leaked in " << masked_json;
  }
}

// A field name longer than its column (iso93's field 55) is still apart from the value.
TEST(Dump, ALongFieldNameIsFollowedByASpace) {
  const auto s = load_spec("iso93-ascii");
  message m(*s);
  m.set_mti("1200");
  ASSERT_TRUE(m.set(55, std::string("\x9F\x36\x02\x00\x01", 5)));
  ASSERT_TRUE(m.set(41, "TERM0001"));
  const std::string text = dump(m);
  EXPECT_NE(text.find("Integrated circuit card (ICC) system related data tags 9F36"), std::string::npos) << text;
  EXPECT_NE(text.find("Card acceptor terminal identification     'TERM0001'"), std::string::npos) << text;
}

// A deployment's own dialect that forgets `sensitive:` still never shows card data in a dump.
TEST(Dump, DialectWithoutSensitiveFlagsStillHidesCardData) {
  const spec s = make_spec(
      "  2: {class: n, length: 19, prefix: LL}\n"
      "  35: {class: z, length: 37, prefix: LL}\n"
      "  45: {class: ans, length: 76, prefix: LL}\n"
      "  52: {class: b, length: 8}\n");
  message m(s);
  m.set_mti("0200");
  ASSERT_TRUE(m.set(2, pan));
  ASSERT_TRUE(m.set(35, track2));
  ASSERT_TRUE(m.set(45, track1));
  ASSERT_TRUE(m.set(52, bytes("a1a1a1a1a1a1a1a1")));
  message unpacked(s);
  ASSERT_TRUE(unpack(pack_ok(m), unpacked));
  const std::string text = dump(unpacked);
  EXPECT_NE(text.find("476173******0010"), std::string::npos) << text;
  for (const char* secret : {"4761739001010010", "739001", "=2212", "TEST/CARD", "A1A1"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked in\n" << text;
    EXPECT_EQ(to_json(unpacked).dump().find(secret), std::string::npos) << secret;
  }
}

TEST(Dump, RevealedDumpShowsEverything) {
  const std::string text = dump(purchase(), reveal::yes);
  for (const char* expected : {"'4761739001010010'", "'4761739001010010=2212201'", "A1B2C3D4E5F60718", "'987'", "9F26",
                               "[8] 1122334455667788", "[5] 9F4D020B0A", "(33 bytes)"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " not in\n" << text;
  }
}

TEST(Dump, MalformedIccData) {
  message m(iso87_ascii());
  m.set_mti("0200");
  m.set(55, bytes("9F26051122"));
  EXPECT_NE(dump(m).find("tags (malformed)"), std::string::npos) << dump(m);
  EXPECT_NE(dump(m, reveal::yes).find("(malformed BER-TLV)"), std::string::npos) << dump(m, reveal::yes);
}

// ---------------------------------------------------------------------------------------------
// Masking helpers

TEST(Mask, Pan) {
  EXPECT_EQ(mask_pan("4111111111111111"), "411111******1111");
  EXPECT_EQ(mask_pan("4761739001010010005"), "476173*********0005");
  EXPECT_EQ(mask_pan("4222222222222"), "422222***2222");
  EXPECT_EQ(mask_pan("123456789012"), "********9012");
  EXPECT_EQ(mask_pan("12345"), "*2345");
  EXPECT_EQ(mask_pan("1234"), "****");
  EXPECT_EQ(mask_pan("12"), "**");
  EXPECT_EQ(mask_pan(""), "");
}

TEST(Mask, Values) {
  EXPECT_EQ(mask_value(sensitivity::none, "abc"), "abc");
  EXPECT_EQ(mask_value(sensitivity::pan, "4111111111111111"), "411111******1111");
  for (auto s : {sensitivity::track, sensitivity::pin, sensitivity::secret, sensitivity::tags}) {
    EXPECT_EQ(mask_value(s, "4111111111111111=2512"), redacted);
    EXPECT_EQ(mask_value(s, ""), redacted);
  }
}

}  // namespace
}  // namespace eft::iso8583::test
