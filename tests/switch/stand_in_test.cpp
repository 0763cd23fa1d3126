// The stand-in's building blocks without I/O: track 2 parsing, the PIN verification data a policy
// reads from it, and circuit breakers that survive a reload of the routes.
#include <gtest/gtest.h>

#include "eft/iso8583/track2.hpp"
#include "eft/switch/pipeline.hpp"
#include "eft/switch/stand_in.hpp"

namespace eft::switch_core {
namespace {

TEST(Track2, SplitsPanExpiryServiceCodeAndDiscretionaryData) {
  const auto t = iso8583::parse_track2(";4761739001010010=30122011037400000?");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->pan, "4761739001010010");
  EXPECT_EQ(t->expiry, "3012");
  EXPECT_EQ(t->service_code, "201");
  EXPECT_EQ(t->discretionary, "1037400000");
  const auto d = iso8583::parse_track2("4761739001010010D3012201");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->discretionary, "");
  EXPECT_FALSE(iso8583::parse_track2("4761739001010010=301220").has_value());       // no service code
  EXPECT_FALSE(iso8583::parse_track2("=30122011037").has_value());                  // no PAN
  EXPECT_FALSE(iso8583::parse_track2("47617390010100101234=3012201").has_value());  // PAN of 20 digits
  EXPECT_FALSE(iso8583::parse_track2("4761739001010010=3012201X").has_value());
  EXPECT_FALSE(iso8583::parse_track2("").has_value());
}

TEST(PinVerificationData, VisaPvkiAndPvvFollowTheServiceCode) {
  config::pin_verify_config c;
  c.method = config::pin_verify_method::visa_pvv;
  const auto d = pin_verification_data_of(c, "4761739001010010=30122011037400000");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->pvki, 1);
  EXPECT_EQ(d->value, "0374");
  EXPECT_FALSE(pin_verification_data_of(c, "4761739001010010=30122011037").has_value());  // 4 digits
  c.pvki = 2;
  EXPECT_FALSE(pin_verification_data_of(c, "4761739001010010=30122011037400000").has_value());
  EXPECT_TRUE(pin_verification_data_of(c, "4761739001010010=30122012037400000").has_value());
}

TEST(PinVerificationData, Ibm3624OffsetAtItsPosition) {
  config::pin_verify_config c;
  c.method = config::pin_verify_method::ibm3624;
  c.offset_position = 2;
  c.offset_length = 6;
  const auto d = pin_verification_data_of(c, "5413330089600010=3012201001392550");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->value, "139255");
  EXPECT_FALSE(pin_verification_data_of(c, "5413330089600010=30122010013925").has_value());  // one short
  EXPECT_FALSE(pin_verification_data_of(c, "5413330089600010=3012").has_value());
}

config::route_config route(std::string name, std::uint32_t timeouts, std::uint32_t open_s = 30) {
  config::route_config r;
  r.name = std::move(name);
  r.group = "acquirer";
  config::stand_in_config si;
  si.breaker.timeouts = timeouts;
  si.breaker.open_s = open_s;
  r.stand_in = si;
  return r;
}

TEST(RouteTable, AReloadKeepsTheBreakerOfARouteWithTheSameNameAndSettings) {
  const auto now = circuit_breaker::clock::now();
  const auto first = route_table::make({route("visa", 2), route("mc", 2), route("amex", 2)}, {});
  circuit_breaker* visa = first->breaker_of(&first->routes.routes()[0]);
  ASSERT_NE(visa, nullptr);
  visa->on_timeout(now);
  visa->on_timeout(now);
  ASSERT_TRUE(visa->is_open(now));
  first->breaker_of(&first->routes.routes()[1])->on_timeout(now);
  first->breaker_of(&first->routes.routes()[1])->on_timeout(now);

  // visa moves and stays the same; mc's breaker settings change; amex goes; discover is new.
  const auto second =
      route_table::make({route("discover", 2), route("mc", 3), route("visa", 2)}, {}, nullptr, {}, first.get());
  const auto& rs = second->routes.routes();
  EXPECT_EQ(second->breaker_of(&rs[2]), visa) << "the open breaker was replaced by a closed one";
  EXPECT_TRUE(second->breaker_of(&rs[2])->is_open(now));
  EXPECT_FALSE(second->breaker_of(&rs[2])->allow(now));
  EXPECT_FALSE(second->breaker_of(&rs[1])->is_open(now)) << "changed settings start fresh";
  EXPECT_TRUE(second->breaker_of(&rs[1])->allow(now));
  EXPECT_FALSE(second->breaker_of(&rs[0])->is_open(now));
  EXPECT_EQ(second->breaker_named("amex", first->routes.routes()[2].stand_in->breaker), nullptr);

  // A reload that removes the breaker, then one that brings it back: a new breaker, closed.
  auto no_breaker = route("visa", 0);
  const auto third = route_table::make({no_breaker}, {}, nullptr, {}, second.get());
  EXPECT_EQ(third->breaker_of(&third->routes.routes()[0]), nullptr);
  const auto fourth = route_table::make({route("visa", 2)}, {}, nullptr, {}, third.get());
  EXPECT_NE(fourth->breaker_of(&fourth->routes.routes()[0]), visa);
  EXPECT_FALSE(fourth->breaker_of(&fourth->routes.routes()[0])->is_open(now));
}

}  // namespace
}  // namespace eft::switch_core
