#pragma once
/// Process-wide counters of the switch: plain relaxed atomics, bumped by any worker thread and read
/// by the status logger (and, later, the metrics endpoint).

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace eft::switch_core {

/// A counter. Relaxed: each value is exact, the set of values is not a snapshot.
struct counter {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t n = 1) noexcept { value.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::uint64_t n = 1) noexcept { value.fetch_sub(n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

/// A histogram of durations over fixed upper bounds in seconds (`bounds`, rising; +Inf follows).
/// Relaxed atomics: any thread records, a scrape reads.
template <std::size_t N>
class duration_histogram {
 public:
  /// `bounds` outlives the histogram (a constant).
  explicit duration_histogram(const std::array<double, N>& bounds) noexcept : bounds_(&bounds) {}

  void record(std::chrono::microseconds d) noexcept {
    const double seconds = static_cast<double>(d.count()) / 1e6;
    std::size_t b = 0;
    while (b < N && seconds > (*bounds_)[b]) ++b;
    buckets_[b].add();
    count_.add();
    sum_us_.add(d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0U);
  }

  const std::array<double, N>& bounds() const noexcept { return *bounds_; }
  /// Counts per bucket (not cumulative; the last is +Inf).
  const std::array<counter, N + 1>& buckets() const noexcept { return buckets_; }
  std::uint64_t count() const noexcept { return count_.get(); }
  std::uint64_t sum_us() const noexcept { return sum_us_.get(); }

 private:
  const std::array<double, N>* bounds_;
  std::array<counter, N + 1> buckets_;
  counter count_;
  counter sum_us_;
};

/// Terminal-side and pipeline counters.
struct switch_counters {
  counter connections_open;        ///< terminal connections held now
  counter connections_accepted;    ///< accepted since start
  counter connections_refused;     ///< closed at once: over max_connections or per-address limit
  counter idle_timeouts;           ///< closed after idle_timeout_ms of silence
  counter read_deadlines;          ///< closed because a started frame did not complete in time
  counter malformed_frames;        ///< bad length headers (the session is closed)
  counter unparsable_messages;     ///< frames whose content does not unpack (the session is closed)
  counter keep_alives;             ///< zero-length frames
  counter requests;                ///< requests received from terminals
  counter unexpected_messages;     ///< answers (odd function digit) sent by terminals: ignored
  counter in_flight;               ///< requests being processed now
  counter answered_by_host;        ///< replies carrying the host's answer
  counter format_errors;           ///< RC 30 answers: mandatory field missing, or no place in the host spec
  counter no_route;                ///< answers without a route: RC 14, 15, 57 or 92
  counter host_unavailable;        ///< RC 91 answers without sending: no ready link in the group
  counter timeouts;                ///< host answers not in time (the timeout RC of the route)
  counter reversals_needed;        ///< forwarded requests whose outcome is unknown (timeout, link lost)
  counter reversals_queued;        ///< of those, reversals made ready in the SAF queue (with a journal)
  counter journal_failures;        ///< journal writes refused (queue full) or failed
  counter duplicates;              ///< repeated requests answered with the first one's answer
  counter duplicates_forgotten;    ///< remembered requests dropped by the bound before their window ended
  counter local_answers;           ///< network management answered by the switch itself
  counter replies;                 ///< replies written to terminals
  counter mac_failures;            ///< requests refused for a missing or wrong MAC (RC 63)
  counter arqc_failures;           ///< chip cryptograms that did not verify (the route's arqc_failure_rc)
  counter tls_handshake_failures;  ///< TLS terminal connections whose handshake failed or timed out

  /// "connections=12 accepted=40 refused=0 ... replies=1000".
  std::string status() const;
};

}  // namespace eft::switch_core
