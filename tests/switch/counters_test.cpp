// The switch's counters and duration histograms, as the metrics endpoint exposes them.
#include <gtest/gtest.h>

#include <array>
#include <chrono>

#include "eft/switch/counters.hpp"

namespace eft::switch_core {
namespace {

using std::chrono::microseconds;

constexpr std::array<double, 3> bounds = {0.0001, 0.001, 0.01};

TEST(DurationHistogram, ABucketHoldsDurationsUpToAndIncludingItsBound) {
  // Prometheus buckets are "less than or equal": 100 us falls in le=0.0001, 101 us in the next one.
  duration_histogram<bounds.size()> h(bounds);
  h.record(microseconds(0));
  h.record(microseconds(100));
  h.record(microseconds(101));
  h.record(microseconds(1000));
  h.record(microseconds(10000));
  h.record(microseconds(10001));
  h.record(std::chrono::seconds(30));
  ASSERT_EQ(h.buckets().size(), 4U);
  EXPECT_EQ(h.buckets()[0].get(), 2U);
  EXPECT_EQ(h.buckets()[1].get(), 2U);
  EXPECT_EQ(h.buckets()[2].get(), 1U);
  EXPECT_EQ(h.buckets()[3].get(), 2U);  // +Inf
  EXPECT_EQ(h.count(), 7U);
  EXPECT_EQ(h.sum_us(), 0U + 100 + 101 + 1000 + 10000 + 10001 + 30000000);
}

TEST(DurationHistogram, ANegativeDurationCountsAsZero) {
  // A clock step must not wrap the sum: steady_clock never goes back, but a caller's subtraction can.
  duration_histogram<bounds.size()> h(bounds);
  h.record(microseconds(-5));
  EXPECT_EQ(h.buckets()[0].get(), 1U);
  EXPECT_EQ(h.sum_us(), 0U);
  EXPECT_EQ(h.count(), 1U);
}

}  // namespace
}  // namespace eft::switch_core
