// STAN and RRN assignment, match keys, MTI arithmetic, mandatory fields, field mapping between
// dialects and the masked summary.
#include <gtest/gtest.h>

#include <set>

#include "eft/config/switch.hpp"
#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/spec.hpp"
#include "eft/switch/framing.hpp"
#include "eft/switch/host_link.hpp"
#include "eft/switch/message_util.hpp"
#include "stage_support.hpp"

namespace eft::switch_core {
namespace {

using namespace std::chrono;

using test::stage::ascii_spec;
using test::stage::binary_spec;

iso8583::message purchase(const iso8583::spec& spec) {
  iso8583::message m(spec);
  m.set_mti("0200");
  (void)m.set(2U, "4761739001010010");
  (void)m.set(3U, "000000");
  (void)m.set(4U, "000000001000");
  (void)m.set(11U, "000123");
  (void)m.set(41U, "TERM0001");
  (void)m.set(49U, "840");
  return m;
}

TEST(Stan, SixDigitsRoundFrom999999To000001) {
  stan_generator g(999998);
  EXPECT_EQ(stan_generator::format(g.next()), "999998");
  EXPECT_EQ(stan_generator::format(g.next()), "999999");
  EXPECT_EQ(stan_generator::format(g.next()), "000001");
  stan_generator zero(0);
  EXPECT_EQ(zero.next(), 1U);
}

TEST(Stan, RestartsWhereTheJournalSays) {
  stan_generator g(123);
  g.restart_at(999999);
  EXPECT_EQ(g.next(), 999999U);
  EXPECT_EQ(g.next(), 1U);
  g.restart_at(0);  // out of range: 1
  EXPECT_EQ(g.next(), 1U);
}

TEST(Stan, UniqueOverAWholeRound) {
  stan_generator g(500000);
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 999999; ++i) {
    const auto s = g.next();
    ASSERT_GE(s, 1U);
    ASSERT_LE(s, 999999U);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 999999U);
}

TEST(Stan, TimeSeededStartsDifferThroughTheDay) {
  const auto midnight = sys_days{year{2024} / 3 / 1};
  EXPECT_EQ(stan_generator::time_seeded_start(midnight), 1U);
  EXPECT_EQ(stan_generator::time_seeded_start(midnight + hours(1)), 36001U);
  EXPECT_EQ(stan_generator::time_seeded_start(midnight + seconds(86399)), 1 + (86399U * 10) % 999999);
}

TEST(Rrn, YearDigitDayOfYearHourAndStan) {
  // 2024-03-01 14:05 UTC: day 61 of a leap year.
  const auto t = sys_days{year{2024} / 3 / 1} + hours(14) + minutes(5);
  EXPECT_EQ(make_rrn(t, "000123"), "406114000123");
  EXPECT_EQ(make_rrn(t, "000123").size(), 12U);
  EXPECT_EQ(transmission_time(t), "0301140500");
}

TEST(MatchKey, MtiClassAndFields) {
  auto req = purchase(ascii_spec());
  EXPECT_EQ(make_match_key(req, {"mti_class", "11", "41"}), "02|000123|TERM0001");
  auto resp = req;
  resp.set_mti("0210");
  (void)resp.set(39U, "00");
  EXPECT_EQ(make_match_key(resp, {"mti_class", "11", "41"}), make_match_key(req, {"mti_class", "11", "41"}));
  EXPECT_EQ(make_match_key(req, {"11", "37", "32"}), "000123||");  // absent fields are empty
  auto other = req;
  other.set_mti("0110");
  EXPECT_NE(make_match_key(other, {"mti_class", "11", "41"}), make_match_key(req, {"mti_class", "11", "41"}));
}

TEST(Mti, ResponseAndClass) {
  EXPECT_EQ(response_mti("0200"), "0210");
  EXPECT_EQ(response_mti("0420"), "0430");
  EXPECT_EQ(response_mti("0800"), "0810");
  EXPECT_EQ(response_mti("0210"), "");
  EXPECT_EQ(response_mti("02x0"), "");
  EXPECT_TRUE(is_request_mti("0100"));
  EXPECT_FALSE(is_request_mti("0110"));
  EXPECT_EQ(mti_class("0210"), "02");
}

TEST(Validate, MandatoryFieldsPerClass) {
  auto m = purchase(binary_spec());
  EXPECT_FALSE(missing_mandatory_field(m).has_value());
  m.unset(4U);
  EXPECT_EQ(missing_mandatory_field(m), 4U);
  m = purchase(binary_spec());
  m.unset(2U);
  EXPECT_EQ(missing_mandatory_field(m), 2U);
  (void)m.set(35U, "4761739001010010=25122011758928889");
  EXPECT_FALSE(missing_mandatory_field(m).has_value());
  EXPECT_EQ(pan_of(m), "4761739001010010");
  iso8583::message echo(binary_spec());
  echo.set_mti("0800");
  (void)echo.set(11U, "000001");
  EXPECT_EQ(missing_mandatory_field(echo), 70U);
}

TEST(Mapping, FieldsCrossDialectsAndBack) {
  auto term = purchase(binary_spec());
  (void)term.set(90U, "020000012303011405000000000123400000000000");
  iso8583::message host(ascii_spec());
  host.set_mti(term.mti());
  ASSERT_TRUE(copy_fields(term, host, undefined_field_policy::refuse));
  std::vector<std::byte> packed;
  ASSERT_TRUE(iso8583::pack(host, packed));
  iso8583::message again(ascii_spec());
  ASSERT_TRUE(iso8583::unpack(packed, again));
  EXPECT_EQ(again.get(2U), "4761739001010010");
  EXPECT_EQ(again.get(90U), "020000012303011405000000000123400000000000");
  EXPECT_EQ(again.get(41U), "TERM0001");
}

TEST(Mapping, UndefinedFieldsAreRefusedOrDropped) {
  auto a = iso8583::parse_spec(
      "name: a\nfields:\n  11: {class: n, length: 6}\n  62: {class: ans, length: 99, prefix: LL}\n", "a");
  auto b = iso8583::parse_spec("name: b\nfields:\n  11: {class: n, length: 6}\n", "b");
  iso8583::message from(a);
  from.set_mti("0200");
  (void)from.set(11U, "000001");
  (void)from.set(62U, "private");
  iso8583::message to(b);
  const auto st = copy_fields(from, to, undefined_field_policy::refuse);
  EXPECT_EQ(st.code, iso8583::errc::unknown_field);
  EXPECT_EQ(st.field.view(), "62");
  iso8583::message to2(b);
  EXPECT_TRUE(copy_fields(from, to2, undefined_field_policy::drop));
  EXPECT_EQ(to2.get(11U), "000001");
  EXPECT_FALSE(to2.has(62U));
}

TEST(LocalResponse, EchoesIdentifyingFieldsWithTheRc) {
  auto req = purchase(binary_spec());
  (void)req.set(35U, "4761739001010010=25122011758928889");
  (void)req.set(52U, std::string(8, '\x11'));
  iso8583::message resp(binary_spec());
  make_local_response(req, "92", resp);
  EXPECT_EQ(resp.mti(), "0210");
  EXPECT_EQ(resp.get(39U), "92");
  EXPECT_EQ(resp.get(11U), "000123");
  EXPECT_EQ(resp.get(2U), "4761739001010010");
  EXPECT_FALSE(resp.has(35U));
  EXPECT_FALSE(resp.has(52U));
}

TEST(Summary, MasksThePan) {
  auto req = purchase(binary_spec());
  const std::string s = summary(req);
  EXPECT_EQ(s, "mti=0200 stan=000123 terminal=TERM0001 pan=476173******0010 pc=000000 amount=000000001000");
  req.unset(2U);
  (void)req.set(35U, "4761739001010010=25122011758928889");
  EXPECT_EQ(summary(req).find("4761739001010010"), std::string::npos);
  EXPECT_EQ(summary(req).find("2512"), std::string::npos);
}

TEST(Framing, ConfigNamesAreTheFramingNames) {
  for (const auto name : config::framing_names) {
    const auto k = parse_framing_kind(name);
    ASSERT_TRUE(k.has_value()) << name;
    EXPECT_EQ(to_string(*k), name);
  }
}

}  // namespace
}  // namespace eft::switch_core
