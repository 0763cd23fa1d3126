#pragma once
/// The store-and-forward forwarder: sends each link group's ready SAF items (reversals, advices) to
/// the host in queue order when a link of the group is ready, repeats them (0401/0421/0221) until a
/// matching acknowledgement (0410/0430/0230) arrives, then removes them. Items older than the expiry
/// or past the attempt limit are given up, journaled as expired and logged at error level.
///
/// It runs on a thread of its own: its journal reads block, and each send waits for the host.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "eft/config/switch.hpp"
#include "eft/switch/journal.hpp"
#include "eft/switch/link_group.hpp"

namespace eft::switch_core {

/// What the forwarder did since start.
struct saf_counters {
  std::atomic<std::uint64_t> sent{0};          ///< sends (first sends and repeats)
  std::atomic<std::uint64_t> acknowledged{0};  ///< items removed on a matching acknowledgement
  std::atomic<std::uint64_t> expired{0};       ///< items given up
};

class saf_forwarder {
 public:
  /// `j` and the groups outlive the forwarder; `send_timeout_ms` bounds the wait for each answer.
  saf_forwarder(journal& j, std::map<std::string, link_group*, std::less<>> groups, config::journal_config cfg,
                std::uint32_t send_timeout_ms);
  ~saf_forwarder();
  saf_forwarder(const saf_forwarder&) = delete;
  saf_forwarder& operator=(const saf_forwarder&) = delete;

  /// Starts the thread.
  void start();
  /// Stops after the send in progress (if any) ends; joins the thread.
  void stop();
  /// Looks at the queues now rather than at the next poll (a reversal was queued, a link came up).
  void wake();

  const saf_counters& counters() const noexcept { return counters_; }

  /// Depth of one host's queue as of the forwarder's last pass (every ~200 ms).
  struct depth {
    std::size_t ready = 0;       ///< items waiting to be sent
    std::int64_t oldest_us = 0;  ///< created_us of the oldest ready item; 0 when none
  };
  /// Per link group, for metrics (any thread; no journal read).
  std::map<std::string, depth> depths() const;
  /// "saf acquirer ready=2 oldest_s=41 sent=.. acknowledged=.. expired=.." (any thread).
  std::string status() const;

 private:
  void run();
  void pass();

  journal& journal_;
  std::map<std::string, link_group*, std::less<>> groups_;
  config::journal_config cfg_;
  std::uint32_t send_timeout_ms_;
  saf_counters counters_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, depth> depths_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace eft::switch_core
