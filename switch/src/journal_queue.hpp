#pragma once
// The write queue shared by the journal backends: callers push batches from any thread, the
// backend's writer thread takes them in groups (one database transaction per group).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "eft/switch/journal.hpp"

namespace eft::switch_core::detail {

struct queued_write {
  journal_batch batch;
  std::unique_ptr<journal_waiter> waiter;  // null: posted, nobody waits
  std::promise<bool>* flushed = nullptr;   // a flush marker
  // A terminal reversal's claim (instead of a batch): the writer answers it into `claim` in the
  // group's transaction; the claim waiter gets it once the group is committed.
  std::optional<original_ref> claim_ref;
  std::unique_ptr<original_claim_waiter> claim_waiter;
  original_claim claim;
  // When an awaited write (waiter or claim_waiter) was queued: its wait goes to journal_stats.
  std::chrono::steady_clock::time_point submitted{};
};

class journal_queue {
 public:
  // Posted batches (nobody waits) are written with the next awaited write, or once this many are
  // queued, or after posted_delay at the latest.
  static constexpr std::size_t posted_batch = 64;
  static constexpr std::chrono::milliseconds posted_delay{5};

  explicit journal_queue(std::size_t limit) : limit_(limit) {}

  // False when refused: `accepting` is false or the queue is closed (journal_errc::closed), or full
  // and not `force` (journal_errc::busy); the waiter or flush marker is then completed with that.
  bool push(queued_write q, bool accepting, bool force = false);

  // Writer side: waits for an awaited write, posted_batch posted ones, posted_delay with posted ones
  // only, a poke() or close(); then moves up to `max` writes into `group`. False once closed and empty.
  bool take(std::vector<queued_write>& group, std::size_t max);

  // Wakes the writer without a write (it has other work, e.g. reserving ids). Any thread; noexcept.
  void poke() noexcept;
  // Whether a poke() came since the last call.
  bool poked() noexcept;

  // Refuses further writes and wakes the writer; false when it was closed already.
  bool close();

  // Completes every write of a group with `result` (empty: durable).
  static void complete(std::vector<queued_write>& group, std::error_code result);

 private:
  std::size_t limit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // A vector the writer swaps with its (emptied) group: the two buffers go back and forth, so a
  // write allocates no queue node on its thread for the writer's thread to free.
  std::vector<queued_write> queue_;
  std::size_t awaited_ = 0;  // entries of queue_ someone waits for (a write, a flush, a claim)
  bool closing_ = false;
  bool poked_ = false;
};

// What the backends share of the interface: post(), flush() and async_write() go through the queue;
// the backend's writer thread empties it.
class queued_journal : public journal {
 public:
  bool post(journal_batch batch) override;
  bool flush() override;

 protected:
  queued_journal(std::size_t queue_limit, bool read_only) : queue_(queue_limit), read_only_(read_only) {}
  void submit(journal_batch batch, std::unique_ptr<journal_waiter> waiter) override;
  void submit_claim(original_ref ref, std::unique_ptr<original_claim_waiter> waiter) override;
  // False when refused (full, closed, failed or read-only); the waiter is then completed with why.
  bool enqueue(queued_write q, bool force = false);
  // The writer, after a commit of `group` begun at `began`: counts it in stats_, then completes
  // every write of the group with `result` (empty: durable).
  void finish(std::vector<queued_write>& group, std::error_code result, std::chrono::steady_clock::time_point began);

  journal_queue queue_;
  const bool read_only_;
  std::atomic<bool> failed_{false};  // the writer refuses everything from now on
};

// A host STAN as journaled ("000123") as a number 1..999999, else nullopt.
std::optional<std::uint32_t> parse_host_stan(std::string_view stan) noexcept;

// The batch that start-up recovery writes for these armed items: each becomes ready, with a
// timed_out record saying why.
journal_batch recovery_batch(const std::vector<saf_item>& armed);

// Whether a terminal's original (its received record's amount `amount`, state `state` of its
// original: "armed", "standby" or "reversed") answers `ref`, and how: nullopt to look at an older
// candidate. One rule for every backend.
std::optional<original_claim_status> judge_original(const original_ref& ref, std::string_view amount,
                                                    std::string_view state) noexcept;

}  // namespace eft::switch_core::detail
