#pragma once
/// A latency histogram in the manner of HdrHistogram: log-linear buckets of microseconds with 64
/// sub-buckets per power of two (at most 1/64 relative error), fixed size, no allocation on record.
/// Buckets are atomic so a progress thread can read percentiles while workers record.

#include <array>
#include <atomic>
#include <cstdint>

namespace eft::simulators {

class latency_histogram {
 public:
  /// Values up to 2^40 microseconds; larger values land in the last bucket.
  static constexpr std::size_t bucket_count = 128 + 34 * 64;

  /// Records one value in microseconds (any thread).
  void record(std::uint64_t micros) noexcept;
  /// Adds every count of `other`.
  void merge(const latency_histogram& other) noexcept;
  /// Number of values recorded.
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  /// Largest value recorded, exactly.
  std::uint64_t max() const noexcept { return max_.load(std::memory_order_relaxed); }
  /// The value at or below which `percent` (0-100) of the values lie (upper bound of its bucket,
  /// never above max()); 0 when empty.
  std::uint64_t percentile(double percent) const noexcept;
  /// Mean of the values (bucket midpoints would lose precision: kept as an exact sum).
  double mean() const noexcept;

  /// Bucket of a value and the largest value of a bucket (for tests).
  static std::size_t bucket_of(std::uint64_t micros) noexcept;
  static std::uint64_t bucket_upper(std::size_t bucket) noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> max_{0};
  std::atomic<std::uint64_t> sum_{0};
};

}  // namespace eft::simulators
