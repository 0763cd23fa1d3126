// Routing by PAN prefix, MTI and processing code: longest prefix first, then config order.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eft/switch/routing.hpp"

namespace eft::switch_core {
namespace {

config::route_config route(std::string name, std::vector<std::string> prefixes, std::vector<std::string> mtis = {},
                           std::vector<std::string> pcs = {}) {
  config::route_config r;
  r.name = std::move(name);
  r.pan_prefixes = std::move(prefixes);
  r.mtis = std::move(mtis);
  r.processing_codes = std::move(pcs);
  r.group = "g";
  return r;
}

std::string find(const router& r, std::string_view pan, std::string_view mti = "0200", std::string_view pc = "000000") {
  const auto* x = r.find(pan, mti, pc);
  return x == nullptr ? "none" : x->name;
}

TEST(Routing, LongestPanPrefixWins) {
  const router r({route("visa", {"4"}), route("visa-debit", {"476173"}), route("mc", {"51", "52", "2221"})});
  EXPECT_EQ(find(r, "4761739001010010"), "visa-debit");
  EXPECT_EQ(find(r, "4111111111111111"), "visa");
  EXPECT_EQ(find(r, "5200000000000007"), "mc");
  EXPECT_EQ(find(r, "2221000000000009"), "mc");
  EXPECT_EQ(find(r, "6011000000000004"), "none");
  EXPECT_EQ(find(r, ""), "none");
}

TEST(Routing, OtherCriteriaFilterThenConfigOrderBreaksTies) {
  const router r({route("atm-cash", {"4"}, {"0200"}, {"01"}), route("visa-auth", {"4"}, {"0100"}),
                  route("visa-any", {"4"}), route("default", {})});
  EXPECT_EQ(find(r, "4111111111111111", "0200", "010000"), "atm-cash");
  EXPECT_EQ(find(r, "4111111111111111", "0200", "000000"), "visa-any");
  EXPECT_EQ(find(r, "4111111111111111", "0100", "000000"), "visa-auth");
  EXPECT_EQ(find(r, "5111111111111111", "0100", "000000"), "default");
  EXPECT_EQ(find(r, "4111111111111111", "0200", ""), "visa-any");
}

TEST(Routing, RoutesWithoutPanPrefixesComeAfterPrefixMatches) {
  const router r({route("balance", {}, {}, {"31"}), route("visa", {"4"})});
  EXPECT_EQ(find(r, "4111111111111111", "0200", "310000"), "visa");
  EXPECT_EQ(find(r, "5111111111111111", "0200", "310000"), "balance");
  EXPECT_EQ(find(r, "5111111111111111", "0200", "000000"), "none");
}

TEST(Routing, ManyPrefixesStayFast) {
  std::vector<config::route_config> routes;
  for (int i = 0; i < 1000; ++i) {
    std::vector<std::string> prefixes;
    for (int j = 0; j < 100; ++j) prefixes.push_back(std::to_string(400000 + i * 100 + j));
    routes.push_back(route("r" + std::to_string(i), std::move(prefixes)));
  }
  const router r(std::move(routes));  // 100,000 six-digit prefixes
  EXPECT_EQ(find(r, "4123451234567890"), "r123");
  EXPECT_EQ(find(r, "5999991234567890"), "none");
}

}  // namespace
}  // namespace eft::switch_core
