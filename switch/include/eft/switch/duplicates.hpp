#pragma once
/// Duplicate detection: a request repeated by a terminal (same MTI class and function, terminal id
/// (41), STAN (11) and transmission date and time (7), within a window) never reaches a host twice.
/// The first one is processed; a repeat gets the first one's answer, or waits for it while it is
/// still in flight.
///
/// Shared by every worker thread (one mutex; a lookup is a hash and a map access). Bounded: entries
/// older than the window go first, and at most `max_entries` are kept (the oldest are dropped; each
/// one dropped before its window ended is counted, since a repeat of it would not be recognised).
/// An answer is kept packed (one allocation of a few hundred bytes): a parsed copy of every answer
/// for the whole window would hold gigabytes and fragment the heap.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "eft/iso8583/message.hpp"
#include "eft/switch/counters.hpp"

namespace eft::switch_core {

/// One request seen: its answer once there is one.
struct duplicate_entry {
  std::int64_t txn_id = 0;  ///< the original's journal id (0 without a journal)
  std::atomic<bool> done{false};
  /// The answer packed in its dialect, set before done turns true; empty: no answer.
  std::vector<std::byte> response;
  const iso8583::spec* dialect = nullptr;  ///< the answer's dialect

  /// The answer as a message again; nullptr when there was none (or it no longer unpacks).
  std::unique_ptr<iso8583::message> answer() const;
};

class duplicate_cache {
 public:
  /// `window`: how long a request is remembered; `max_entries`: memory bound; `forgotten_early`
  /// (optional) counts the entries dropped by that bound before their window ended.
  explicit duplicate_cache(std::chrono::seconds window, std::size_t max_entries = 200000,
                           counter* forgotten_early = nullptr);

  /// The key of a request: "MTI digits 1-3|41|11|7"; nullopt when one of the fields is missing
  /// (such a request is not checked).
  static std::optional<std::string> key_of(const iso8583::message& request);

  /// Registers a request under `key`. Returns {entry, true} for the first one (the caller processes
  /// it and calls complete()), {entry of the first, false} for a duplicate.
  std::pair<std::shared_ptr<duplicate_entry>, bool> admit(const std::string& key, std::int64_t txn_id);

  /// Records the answer of a first request (null: none was sent) and releases waiting duplicates.
  /// An answer that does not pack is recorded as none: the terminal could not have been sent it.
  static void complete(duplicate_entry& e, const iso8583::message* response);
  /// The same with the answer packed already (`dialect` null or `packed` empty: none was sent).
  static void complete(duplicate_entry& e, const iso8583::spec* dialect, std::span<const std::byte> packed);

  std::size_t size() const;

 private:
  using clock = std::chrono::steady_clock;
  std::chrono::seconds window_;
  std::size_t max_entries_;
  counter* forgotten_early_;
  std::atomic<std::int64_t> last_warning_s_{-3600};  // steady clock seconds of the last warning
  mutable std::mutex mutex_;
  // Buckets for `max_entries` (up to 4 million) made at construction: growing the table rehashed
  // every entry under the mutex that all I/O threads take (70 ms near the default bound).
  std::unordered_map<std::string, std::shared_ptr<duplicate_entry>> entries_;
  // Oldest first: when each request came and its key, the one held by its node in `entries_` (node
  // keys stay where they are; each key is here once, and leaves here when its node is erased).
  std::deque<std::pair<clock::time_point, const std::string*>> order_;
};

}  // namespace eft::switch_core
