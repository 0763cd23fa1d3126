#include "eft/simulators/histogram.hpp"

#include <bit>

namespace eft::simulators {

std::size_t latency_histogram::bucket_of(std::uint64_t v) noexcept {
  if (v < 128) return static_cast<std::size_t>(v);
  const int msb = 63 - std::countl_zero(v);  // >= 7
  const int shift = msb - 6;                 // keeps 7 significant bits: 64..127
  const std::size_t b = 128 + static_cast<std::size_t>(msb - 7) * 64 + static_cast<std::size_t>((v >> shift) - 64);
  return b < bucket_count ? b : bucket_count - 1;
}

std::uint64_t latency_histogram::bucket_upper(std::size_t b) noexcept {
  if (b < 128) return b;
  const std::size_t k = b - 128;
  const int msb = static_cast<int>(k / 64) + 7;
  const std::uint64_t top = 64 + k % 64;
  const int shift = msb - 6;
  return ((top + 1) << shift) - 1;
}

void latency_histogram::record(std::uint64_t v) noexcept {
  buckets_[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  std::uint64_t m = max_.load(std::memory_order_relaxed);
  while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
  }
}

void latency_histogram::merge(const latency_histogram& o) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i) {
    const auto n = o.buckets_[i].load(std::memory_order_relaxed);
    if (n != 0) buckets_[i].fetch_add(n, std::memory_order_relaxed);
  }
  count_.fetch_add(o.count(), std::memory_order_relaxed);
  sum_.fetch_add(o.sum_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  const auto om = o.max();
  std::uint64_t m = max_.load(std::memory_order_relaxed);
  while (om > m && !max_.compare_exchange_weak(m, om, std::memory_order_relaxed)) {
  }
}

std::uint64_t latency_histogram::percentile(double percent) const noexcept {
  std::uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(percent / 100.0 * static_cast<double>(total) + 0.5);
  if (rank == 0) rank = 1;
  if (rank > total) rank = total;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      const auto up = bucket_upper(i);
      const auto m = max();
      return up < m ? up : m;
    }
  }
  return max();
}

double latency_histogram::mean() const noexcept {
  const auto n = count();
  return n == 0 ? 0.0 : static_cast<double>(sum_.load(std::memory_order_relaxed)) / static_cast<double>(n);
}

}  // namespace eft::simulators
