#pragma once
/// The transaction pipeline: what happens to one terminal request between its unpacking and the
/// packing of the answer.
///
///   validate -> [received stages] -> route -> pick a link -> map fields to the host dialect
///   -> [routed stages] -> send and await the answer (route timeout) -> map back, restore the
///   terminal's 7/11/37 -> [answered stages] -> reply
///
/// The bracketed points take ordered lists of stage functions: MAC verification belongs at
/// `received`, PIN translation and EMV checks at `routed` (they need the route's keys), MAC generation
/// at `answered`. A stage returns an empty RC to go on, or the RC the terminal must get instead.
///
/// Errors are answers, not exceptions: RC 30 for a malformed request, 92 without a route, 91 when no
/// link is ready or the host does not answer in time (the route's timeout_rc), 96 when something in
/// the switch fails. With a journal (set_journal), every transaction's life is journaled: received,
/// forwarded (durable before the send, with its reversal prepared in the SAF queue), completed
/// (durable before the answer goes back), declined, timed out (the reversal is made ready for the
/// SAF queue, durably, before the terminal is answered) and late answers. Without one, a request
/// forwarded without a definite outcome is only logged "reversal needed".

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "eft/config/switch.hpp"
#include "eft/iso8583/message.hpp"
#include "eft/switch/counters.hpp"
#include "eft/switch/duplicates.hpp"
#include "eft/switch/host_link.hpp"
#include "eft/switch/journal.hpp"
#include "eft/switch/link_group.hpp"
#include "eft/switch/metrics.hpp"
#include "eft/switch/routing.hpp"
#include "eft/switch/stand_in.hpp"

namespace eft::switch_core {

/// The routes and the link groups they lead to: one immutable generation, replaced whole when the
/// config is reloaded. A transaction holds the generation it was routed with, so its route stays valid
/// while it is in flight.
struct route_table {
  router routes;
  std::map<std::string, link_group*, std::less<>> groups;  ///< every route's group is here
  std::vector<route_stats*> stats;                         ///< per route, parallel to routes.routes(); may be empty
  route_stats* unrouted = nullptr;                         ///< transactions answered without a route; may be null
  /// Per route, parallel to routes.routes(): its circuit breaker, or null (no stand_in.breaker).
  /// Shared with the next generation when a reload keeps the route (same name, same breaker
  /// settings), so an open breaker stays open.
  std::vector<std::shared_ptr<circuit_breaker>> breakers;

  /// The breaker of a route of this generation, or null.
  circuit_breaker* breaker_of(const config::route_config* route) const noexcept;
  /// The breaker of the route called `name` when it has these settings, or null.
  std::shared_ptr<circuit_breaker> breaker_named(std::string_view name, const config::breaker_config& settings) const;

  /// A generation; with `metrics`, each route's stats are resolved now (not per transaction).
  /// `terminal_groups` are those the routes name (config::switch_config::terminal_groups). With
  /// `previous` (the generation it replaces), a route of the same name and the same breaker settings
  /// keeps its breaker, state and all; a route whose breaker settings changed starts a new one,
  /// closed; the breakers of removed routes go with the old generation.
  static std::shared_ptr<const route_table> make(std::vector<config::route_config> routes,
                                                 std::map<std::string, link_group*, std::less<>> groups,
                                                 switch_metrics* metrics = nullptr,
                                                 std::vector<config::terminal_group_config> terminal_groups = {},
                                                 const route_table* previous = nullptr);
};

/// One transaction on its way through the pipeline. Owned by the terminal session that received it.
struct transaction {
  std::string_view listener;                        ///< name of the listener it came in on
  const config::listener_config* source = nullptr;  ///< that listener's config (terminal keys, ...)
  std::unique_ptr<iso8583::message> request;        ///< the terminal's request (terminal dialect)
  const config::route_config* route = nullptr;      ///< set by routing
  host_link* link = nullptr;                        ///< set when a link is picked
  std::unique_ptr<iso8583::message> host_request;   ///< the request in the host dialect (routed stages may edit it)
  std::unique_ptr<iso8583::message> host_response;  ///< the host's answer (host dialect), when there is one
  std::unique_ptr<iso8583::message> response;       ///< the answer to send (terminal dialect); null: send nothing
  std::vector<std::byte> response_bytes;  ///< `response` packed, once process() packed it (duplicate check on)
  std::string host_stan;                  ///< STAN and RRN the switch used toward the host
  std::string host_rrn;
  std::chrono::steady_clock::time_point started{};
  std::vector<std::uint8_t> request_bytes;   ///< the request as received (message without framing): MAC input
  std::vector<std::uint8_t> ksn;             ///< DUKPT key serial number from field 53 (DUKPT listeners), else empty
  std::shared_ptr<const route_table> table;  ///< the routes in force when processing began (set by process())
  std::int64_t txn_id = 0;                   ///< the journal's id of the transaction (0 without a journal)
  bool outcome_journaled = false;            ///< the forwarded path journaled its outcome (else: declined)
};

/// What a stage decided.
struct stage_result {
  std::string rc;  ///< empty: go on; otherwise stop and answer the terminal with this response code
};

/// A stage: a function run at its point, in order of registration. It must not throw; it runs on the
/// session's thread and may await (an HSM call through crypto::async_hsm, for example).
using stage_fn = std::function<boost::asio::awaitable<stage_result>(transaction*)>;

/// Where a stage runs.
enum class stage_point : std::uint8_t {
  received,  ///< after validation, before routing (MAC verify)
  routed,    ///< after routing and field mapping, before sending (PIN translate, EMV)
  answered,  ///< after the host's answer is mapped back, before the reply (MAC generate)
  stand_in,  ///< before a stand-in approval, after the routed stages (local PIN verification)
};

class pipeline {
 public:
  /// `groups` by name: every route's group must be there; groups and counters outlive the pipeline.
  pipeline(std::vector<config::route_config> routes, std::map<std::string, link_group*, std::less<>> groups,
           switch_counters& counters);

  /// Adds a stage at a point, after those already there. Call before traffic starts.
  void add_stage(stage_point point, std::string name, stage_fn fn);

  /// Runs a request through the pipeline and leaves the answer in t->response (made with the
  /// request's dialect), or null when nothing must be sent (a terminal sent an answer, not a request).
  /// `t` and its request stay valid until the returned awaitable completes.
  boost::asio::awaitable<void> process(transaction* t);

  /// The routes in force (any thread).
  std::shared_ptr<const route_table> routes() const noexcept { return table_.load(std::memory_order_acquire); }
  /// Puts a new generation of routes in force for the transactions that start from now on (any
  /// thread); those in flight finish on the generation they began with.
  void replace_routes(std::shared_ptr<const route_table> table) noexcept {
    table_.store(std::move(table), std::memory_order_release);
  }

  /// Journals every transaction in `j` (which outlives the pipeline) and prepares reversals of MTI
  /// `reversal_mti` (0400 or 0420) in its SAF queue; `keys` hash PANs. Call before traffic.
  void set_journal(journal* j, std::shared_ptr<const journal_keys> keys, std::string reversal_mti);

  /// Answers a request repeated within `window` (same MTI, 41, 11 and 7) with the first one's answer
  /// (waiting for it while in flight) instead of sending it to a host again; `max_entries` requests
  /// are remembered at most. Call before traffic.
  void set_duplicate_window(std::chrono::seconds window, std::size_t max_entries = 200000);

  /// Journals an answer a host sent after its request timed out (called on the link's thread; the
  /// answer is never sent to the terminal and the queued reversal still goes).
  void late_answer(const host_link& link, const iso8583::message& answer);

 private:
  struct named_stage {
    std::string name;
    stage_fn fn;
  };
  boost::asio::awaitable<void> decide(transaction* t);
  boost::asio::awaitable<bool> run_stages(stage_point point, transaction* t);
  void answer_locally(transaction* t, std::string_view rc);
  // Stand-in (pipeline_stand_in.cpp): the route's host is unavailable (`why`); its policy answers.
  boost::asio::awaitable<void> stand_in(transaction* t, std::string why);
  static route_stats* stats_of(const transaction* t) noexcept;
  // Terminal reversals (pipeline_reversal.cpp): the journal keeps the originals by the terminal's ids.
  static bool terminal_reversible(const transaction* t) noexcept;
  boost::asio::awaitable<void> terminal_reversal(transaction* t);
  void forwarded_answer(transaction* t);
  void log_transaction(const transaction* t) const;
  static void record(const transaction* t) noexcept;
  // The journal's part (pipeline_journal.cpp).
  journal_record make_record(const transaction* t, journal_event e) const;
  void journal_received(transaction* t);
  void journal_declined(transaction* t);
  boost::asio::awaitable<bool> journal_forwarded(transaction* t);
  boost::asio::awaitable<bool> journal_outcome(transaction* t, exchange_status status);
  boost::asio::awaitable<void> answer_duplicate(transaction* t, std::shared_ptr<duplicate_entry> first);

  std::unique_ptr<duplicate_cache> duplicates_;

  journal* journal_ = nullptr;
  std::shared_ptr<const journal_keys> journal_keys_;
  std::string reversal_mti_ = "0400";
  std::mutex timed_out_mutex_;
  std::unordered_map<std::string, std::int64_t> timed_out_;  // "link|rrn" -> txn_id, for late answers
  std::deque<std::string> timed_out_order_;

  std::atomic<std::shared_ptr<const route_table>> table_;
  switch_counters& counters_;
  std::vector<named_stage> stages_[4];
};

}  // namespace eft::switch_core
