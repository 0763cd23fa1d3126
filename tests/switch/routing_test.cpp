// Routing by PAN prefix, MTI and processing code: longest prefix first, then config order.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
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

std::string decide(const router& r, const route_query& q) {
  const auto d = r.decide(q);
  return d.route != nullptr ? d.route->name : "rc" + std::string(d.rc);
}

route_query query(std::string_view pan, std::uint64_t amount = 1000, std::string_view mti = "0200",
                  std::string_view pc = "000000") {
  route_query q;
  q.pan = pan;
  q.mti = mti;
  q.processing_code = pc;
  q.listener = "pos";
  q.terminal_id = "TERM0001";
  q.amount = amount;
  return q;
}

TEST(Routing, CardNumbersAreCheckedWithLuhn) {
  EXPECT_TRUE(card_number_valid("4761739001010010"));
  EXPECT_TRUE(card_number_valid("5500000000000004"));
  EXPECT_TRUE(card_number_valid("4111111111111111"));
  EXPECT_FALSE(card_number_valid("4111111111111112"));      // check digit off by one
  EXPECT_FALSE(card_number_valid("41111111111"));           // 11 digits
  EXPECT_FALSE(card_number_valid("41111111111111111111"));  // 20 digits
  EXPECT_FALSE(card_number_valid("4111-1111-1111-1111"));
  const router r({route("visa", {"4"})});
  EXPECT_EQ(decide(r, query("4111111111111112")), "rc14");
  EXPECT_EQ(decide(r, query("4111111111111111")), "visa");
}

TEST(Routing, RangesTerminalGroupsAndAmountsDecideAnd15Or57WhenNothingTakesIt) {
  auto ranges = std::make_shared<std::vector<config::bin_range>>(
      std::vector<config::bin_range>{{411111, 411119, 6}, {4111111111, 4111111111, 10}, {52, 55, 2}});
  auto table = route("table", {});
  table.bin_ranges = ranges;
  auto small = route("small-amounts", {"4111"});
  small.max_amount = 5000;
  auto atm = route("atm", {"4"}, {}, {"01"});
  atm.terminal_groups = {"atms"};
  config::terminal_group_config atms;
  atms.name = "atms";
  atms.listeners = {"atm-listener"};
  atms.terminal_ids = {"ATM*", "KIOSK001"};
  const router r({table, small, atm}, {atms});
  EXPECT_EQ(decide(r, query("4111111111111111")), "table");  // 10-digit range beats 4111
  EXPECT_EQ(decide(r, query("4111151111111117")), "table");  // inside 411111-411119
  EXPECT_EQ(decide(r, query("4111201111111110", 4000)), "small-amounts");
  EXPECT_EQ(decide(r, query("4111201111111110", 6000)), "rc57");  // over max_amount
  EXPECT_EQ(decide(r, query("5300000000000006")), "table");       // 52-55
  EXPECT_EQ(decide(r, query("5600000000000003")), "rc15");        // no BIN
  // The ATM route takes cash withdrawals from its group only: by listener or by terminal id.
  auto cash = query("4000000000000002", 2000, "0200", "010000");
  EXPECT_EQ(decide(r, cash), "rc57");
  cash.listener = "atm-listener";
  EXPECT_EQ(decide(r, cash), "atm");
  cash.listener = "pos";
  cash.terminal_id = "ATM00042";
  EXPECT_EQ(decide(r, cash), "atm");
  cash.terminal_id = "KIOSK002";
  EXPECT_EQ(decide(r, cash), "rc57");
  // With a default route an unknown BIN is taken; when the default does not take it either: 57.
  auto fallback = route("default", {}, {"0200"});
  const router with_default({table, fallback});
  EXPECT_EQ(decide(with_default, query("5600000000000003")), "default");
  EXPECT_EQ(decide(with_default, query("5600000000000003", 100, "0100")), "rc57");
  // A message without PAN goes to a route without BIN criterion, or gets 92.
  EXPECT_EQ(decide(with_default, query("")), "default");
  EXPECT_EQ(decide(r, query("")), "rc92");
}

TEST(Routing, OverlappingRangesOfSeveralRoutesKeepConfigOrder) {
  auto a = route("a", {}, {"0100"});
  a.bin_ranges = std::make_shared<std::vector<config::bin_range>>(std::vector<config::bin_range>{{400000, 499999, 6}});
  auto b = route("b", {});
  b.bin_ranges = std::make_shared<std::vector<config::bin_range>>(
      std::vector<config::bin_range>{{450000, 460000, 6}, {470000, 470000, 6}});
  const router r({a, b});
  EXPECT_EQ(find(r, "4550000000000000", "0100"), "a");
  EXPECT_EQ(find(r, "4550000000000000", "0200"), "b");
  EXPECT_EQ(find(r, "4700000000000000", "0200"), "b");
  EXPECT_EQ(find(r, "4700010000000000", "0200"), "none");
  EXPECT_EQ(find(r, "4600010000000000", "0200"), "none");
  EXPECT_EQ(find(r, "4600000000000000", "0200"), "b");
}

// A BIN table file of 120,000 ranges is read and indexed well under a second (the time is printed).
TEST(Routing, BinTableFileOf120000RangesLoadsFast) {
  const auto file = std::filesystem::temp_directory_path() / ("eft-bins-" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file);
    out << "# issuer ranges\n";
    for (int i = 0; i < 120000; ++i) {
      const long long low = 40000000LL + i * 100LL;  // 8-digit ranges of 50 BINs each
      out << low << '-' << low + 49 << "  # issuer " << i << '\n';
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto ranges = std::make_shared<std::vector<config::bin_range>>(config::load_bin_file(file));
  auto table = route("table", {});
  table.bin_ranges = ranges;
  const router r({table, route("visa", {"4"})});
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::filesystem::remove(file);
  std::printf("BIN table: %zu ranges loaded and indexed in %.1f ms\n", r.ranges() - 1, ms);
  EXPECT_EQ(r.ranges(), 120001U);
  EXPECT_LT(ms, 1000.0);
  EXPECT_EQ(find(r, "4012342012345678"), "table");  // 40123420 in 40123400-40123449
  EXPECT_EQ(find(r, "4012344912345678"), "table");  // 40123449: last of a range
  EXPECT_EQ(find(r, "4012345012345678"), "visa");   // 40123450: between two ranges
  const auto t1 = std::chrono::steady_clock::now();
  int hits = 0;
  for (int i = 0; i < 100000; ++i) hits += find(r, "4012344912345678") != "none";
  const auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t1).count();
  std::printf("BIN lookup: %.3f us each\n", us / 100000);
  EXPECT_EQ(hits, 100000);
}

TEST(Routing, BadBinFileLinesAreNamedByFileAndLine) {
  const auto file = std::filesystem::temp_directory_path() / ("eft-bad-bins-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(file) << "400000-400999\n\n41-4x\n";
  try {
    (void)config::load_bin_file(file);
    ADD_FAILURE() << "no error";
  } catch (const config::config_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(file.string() + ":3: '41-4x' is not a BIN range", 0), 0U) << e.what();
  }
  std::ofstream(file) << "4000-400\n";
  try {
    (void)config::load_bin_file(file);
    ADD_FAILURE() << "no error";
  } catch (const config::config_error& e) {
    EXPECT_NE(std::string(e.what()).find(":1: '4000-400': both ends of a range need the same number of digits"),
              std::string::npos)
        << e.what();
  }
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace eft::switch_core
