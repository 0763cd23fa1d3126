// The duplicate cache: keys, the first answer kept packed and given back field for field, the window,
// the bound and the count of entries it drops before their window ended.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <string>
#include <thread>

#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/spec.hpp"
#include "eft/switch/duplicates.hpp"
#include "stage_support.hpp"

namespace eft::switch_core {
namespace {

using namespace std::chrono_literals;

using test::stage::ascii_spec;

iso8583::message request(std::string_view stan) {
  iso8583::message m(ascii_spec());
  m.set_mti("0200");
  (void)m.set(3U, "000000");
  (void)m.set(4U, "000000001234");
  (void)m.set(7U, "1126171500");
  (void)m.set(11U, stan);
  (void)m.set(41U, "TERM0001");
  return m;
}

iso8583::message answer_of(const iso8583::message& req) {
  iso8583::message m(ascii_spec());
  m.set_mti("0210");
  for (const std::uint32_t f : {3U, 4U, 7U, 11U, 41U}) (void)m.set(f, *req.get(f));
  (void)m.set(37U, "633017000042");
  (void)m.set(38U, "A1B2C3");
  (void)m.set(39U, "00");
  return m;
}

TEST(DuplicateCache, TheKeyIsTheMtiClassTerminalStanAndTransmissionTime) {
  EXPECT_EQ(duplicate_cache::key_of(request("000123")), "020|TERM0001|000123|1126171500");
  iso8583::message repeat = request("000123");
  repeat.set_mti("0201");  // a repeat keeps the class and function digits
  EXPECT_EQ(duplicate_cache::key_of(repeat), duplicate_cache::key_of(request("000123")));
  iso8583::message no_stan = request("000123");
  no_stan.unset(11U);
  EXPECT_FALSE(duplicate_cache::key_of(no_stan).has_value());
}

TEST(DuplicateCache, ARepeatGetsTheFirstAnswerFieldForField) {
  duplicate_cache cache(300s);
  const auto req = request("000123");
  auto [first, is_first] = cache.admit(*duplicate_cache::key_of(req), 7);
  ASSERT_TRUE(is_first);
  auto [same, again] = cache.admit(*duplicate_cache::key_of(req), 8);
  EXPECT_FALSE(again);
  EXPECT_EQ(same, first);
  EXPECT_EQ(same->txn_id, 7);
  EXPECT_FALSE(same->done.load());
  EXPECT_EQ(same->answer(), nullptr);  // still in flight

  const iso8583::message answer = answer_of(req);
  duplicate_cache::complete(*first, &answer);
  ASSERT_TRUE(same->done.load());
  const auto back = same->answer();
  ASSERT_NE(back, nullptr);
  // The same bytes on the wire as the first answer, checked through a second pack of the original.
  std::vector<std::byte> expected;
  std::vector<std::byte> got;
  ASSERT_TRUE(iso8583::pack(answer, expected));
  ASSERT_TRUE(iso8583::pack(*back, got));
  EXPECT_EQ(got, expected);
  EXPECT_EQ(back->mti(), "0210");
  EXPECT_EQ(back->get(38U), "A1B2C3");
  EXPECT_EQ(&back->dialect(), &ascii_spec());
  // Kept packed: one buffer the size of the message, not a parsed copy.
  EXPECT_EQ(first->response.size(), expected.size());
}

TEST(DuplicateCache, AFirstRequestWithoutAnAnswerGivesNone) {
  duplicate_cache cache(300s);
  auto [first, is_first] = cache.admit("k", 1);
  ASSERT_TRUE(is_first);
  duplicate_cache::complete(*first, nullptr);
  EXPECT_TRUE(first->done.load());
  EXPECT_EQ(first->answer(), nullptr);
}

TEST(DuplicateCache, AnAnswerThatDoesNotPackIsRecordedAsNone) {
  duplicate_cache cache(300s);
  auto [first, is_first] = cache.admit("k", 1);
  iso8583::message bad(ascii_spec());
  bad.set_mti("02100");  // too long: pack refuses it
  duplicate_cache::complete(*first, &bad);
  EXPECT_TRUE(first->done.load());
  EXPECT_TRUE(first->response.empty());
  EXPECT_EQ(first->answer(), nullptr);
}

TEST(DuplicateCache, FinishedRequestsAreForgottenAfterTheWindow) {
  duplicate_cache cache(1s);
  counter forgotten;
  duplicate_cache counted(1s, 1000, &forgotten);
  for (duplicate_cache* c : {&cache, &counted}) {
    auto [a, first_a] = c->admit("a", 1);
    ASSERT_TRUE(first_a);
    duplicate_cache::complete(*a, nullptr);
  }
  std::this_thread::sleep_for(1100ms);
  // The next admission drops what passed the window: "a" is new again.
  EXPECT_TRUE(cache.admit("a", 2).second);
  EXPECT_TRUE(counted.admit("a", 2).second);
  EXPECT_EQ(forgotten.get(), 0U);  // past its window: not forgotten early
}

TEST(DuplicateCache, ARequestInFlightIsRememberedPastTheWindow) {
  duplicate_cache cache(1s);
  auto [a, first_a] = cache.admit("a", 1);
  ASSERT_TRUE(first_a);
  std::this_thread::sleep_for(1100ms);
  EXPECT_FALSE(cache.admit("a", 2).second);  // its repeat must still wait for its answer
}

TEST(DuplicateCache, TheBoundDropsTheOldestAndCountsThemAsForgottenEarly) {
  counter forgotten;
  duplicate_cache cache(300s, 3, &forgotten);
  for (const char* k : {"a", "b", "c"}) {
    auto [e, first] = cache.admit(k, 1);
    ASSERT_TRUE(first);
    duplicate_cache::complete(*e, nullptr);
  }
  EXPECT_EQ(cache.size(), 3U);
  EXPECT_EQ(forgotten.get(), 0U);
  EXPECT_TRUE(cache.admit("d", 2).second);
  EXPECT_EQ(cache.size(), 3U);
  EXPECT_EQ(forgotten.get(), 1U);
  // "a" went, well within its window: its repeat is not recognised (which the counter reports).
  EXPECT_TRUE(cache.admit("a", 3).second);
  EXPECT_EQ(forgotten.get(), 2U);
  // A repeat of the oldest one left, at the bound, still finds it (and drops nothing).
  EXPECT_FALSE(cache.admit("c", 4).second);
  EXPECT_EQ(forgotten.get(), 2U);
  EXPECT_EQ(cache.size(), 3U);
}

// Many rounds past the bound, with repeats of recent and long-dropped keys, against a plain model of
// the same rules (a FIFO of at most `bound` keys; a key in it is a repeat). The cache keeps its order
// by the keys its table holds, so a wrong erase would show here (and under the sanitizers).
TEST(DuplicateCache, AtItsBoundItAgreesWithAFifoModelOverManyRounds) {
  constexpr std::size_t bound = 50;
  counter forgotten;
  duplicate_cache cache(300s, bound, &forgotten);
  std::deque<std::string> model;
  std::uint64_t dropped = 0;
  std::mt19937 rng(7);  // NOLINT(cert-msc32-c,cert-msc51-cpp): a fixed sequence, the same each run
  for (int i = 0; i < 5000; ++i) {
    // Mostly new keys; some repeat a key of the last 80 (in the cache or dropped already).
    const int n = (rng() % 4 == 0 && i > 0) ? i - 1 - static_cast<int>(rng() % std::min(i, 80)) : i;
    const std::string key = "k" + std::to_string(n);
    const bool in_model = std::find(model.begin(), model.end(), key) != model.end();
    if (!in_model) {
      if (model.size() == bound) {
        model.pop_front();
        ++dropped;
      }
      model.push_back(key);
    }
    auto [e, first] = cache.admit(key, n);
    ASSERT_EQ(first, !in_model) << "request " << i << " key " << key;
    if (first) {
      duplicate_cache::complete(*e, nullptr);
    } else {
      ASSERT_EQ(e->txn_id, n);  // the first one's
    }
  }
  EXPECT_EQ(cache.size(), bound);
  EXPECT_EQ(forgotten.get(), dropped);
}

}  // namespace
}  // namespace eft::switch_core
