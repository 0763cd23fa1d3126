#pragma once
/// A host link: one outbound, persistent TCP connection to an acquirer or issuer host, owned by one
/// worker thread. It connects (address list, connect timeout, capped exponential backoff with
/// jitter), signs on (0800 NMI 001) before it carries traffic, sends echo tests (0800 NMI 301) when
/// idle, answers the host's echoes and signs off (NMI 002) at shutdown.
///
/// Many requests are in flight at once. Toward the host the link assigns its own STAN (field 11,
/// unique per link and day), RRN (field 37) and transmission time (field 7), and keeps each request in
/// a pending map under its match key (by default MTI class + 11 + 41). An answer is matched by the
/// same key; unmatched answers and answers after the timeout are logged, counted and dropped.
///
/// Any thread may call async_exchange(): the request is handed to the owner thread through its
/// executor and the result comes back on the caller's own executor.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eft/config/switch.hpp"
#include "eft/iso8583/message.hpp"
#include "eft/iso8583/spec.hpp"
#include "eft/switch/counters.hpp"

namespace eft::switch_core {

/// STANs toward one host: 000001-999999, then round again (never 000000).
class stan_generator {
 public:
  /// The first STAN to hand out (1-999999; other values start at 1).
  explicit stan_generator(std::uint32_t first = 1) noexcept : next_(first >= 1 && first <= 999999 ? first : 1) {}
  /// A start that differs across restarts on the same day: 1 + (seconds since UTC midnight x 10)
  /// mod 999999. Unique per day as long as a link averages under 10 requests a second since
  /// midnight; with a journal the link resumes after its newest journaled STAN instead
  /// (host_link::resume_stans_after).
  static std::uint32_t time_seeded_start(std::chrono::system_clock::time_point now) noexcept;
  /// The next STAN handed out becomes `first` (1-999999; other values: 1). Call before traffic.
  void restart_at(std::uint32_t first) noexcept {
    next_.store(first >= 1 && first <= 999999 ? first : 1, std::memory_order_relaxed);
  }
  /// The next STAN (any thread).
  std::uint32_t next() noexcept {
    std::uint32_t v = next_.load(std::memory_order_relaxed);
    while (!next_.compare_exchange_weak(v, v % 999999 + 1, std::memory_order_relaxed)) {
    }
    return v;
  }
  /// Six digits with leading zeros.
  static std::string format(std::uint32_t stan);

 private:
  std::atomic<std::uint32_t> next_;
};

/// Retrieval reference number (field 37, an 12): YDDDhh + STAN (last digit of the year, day of the
/// year, hour, all UTC), unique wherever the STAN is.
std::string make_rrn(std::chrono::system_clock::time_point t, std::string_view stan);

/// Builds the key that matches a host answer to its request: each token's value ("mti_class": MTI
/// digits 1-2; a number: that field's value, empty when absent), joined with '|'. The key may hold
/// card data when a deployment puts field 2 in it: never log it.
std::string make_match_key(const iso8583::message& msg, const std::vector<std::string>& tokens);

/// How an exchange ended.
enum class exchange_status : std::uint8_t {
  answered,    ///< the host's answer is in `response`
  not_sent,    ///< the link was not ready: nothing went to the host (no reversal needed)
  timeout,     ///< sent, no answer in time: outcome unknown, reversal needed
  link_lost,   ///< sent, then the connection dropped: outcome unknown, reversal needed
  shutdown,    ///< sent, then the switch stopped before an answer: outcome unknown, reversal needed
  pack_error,  ///< the request does not pack in the host's dialect (`detail` says why): not sent
};

/// Short name of a status ("answered", "timeout", ...).
std::string_view to_string(exchange_status s) noexcept;

/// The outcome of one request.
struct exchange_result {
  exchange_status status = exchange_status::not_sent;
  std::unique_ptr<iso8583::message> response;  ///< answered: the host's answer, in the host dialect
  std::string stan;                            ///< the STAN the switch used toward the host (when sent)
  std::string rrn;                             ///< the RRN the switch used toward the host (when sent)
  std::string detail;                          ///< pack_error: the engine's message (no field content)
};

/// Where a link is.
enum class link_state : std::uint8_t { down, connecting, signing_on, ready, stopping, stopped };
std::string_view to_string(link_state s) noexcept;

/// Per-link counters.
struct link_counters {
  counter connects;          ///< TCP connections made
  counter connect_failures;  ///< connection attempts that failed or timed out
  counter sign_ons;          ///< successful sign-ons
  counter sign_on_failures;  ///< sign-ons refused or unanswered
  counter sent;              ///< requests written to the host
  counter answered;          ///< answers matched to a pending request
  counter timeouts;          ///< requests without an answer in time
  counter lost;              ///< requests pending when the connection dropped or the switch stopped
  counter unmatched;         ///< answers that match no request (dropped)
  counter late;              ///< answers to requests that had timed out (dropped)
  counter echoes_sent;       ///< our echo tests
  counter host_requests;     ///< network management requests from the host we answered
  counter malformed;         ///< frames or messages from the host that could not be read (link dropped)
};

/// The completion of one exchange, type-erased so the pending map can hold it.
class exchange_waiter {
 public:
  virtual ~exchange_waiter() = default;
  /// Delivers the result on the waiter's own executor (never inside this call).
  virtual void complete(exchange_result r) = 0;
};

namespace detail {
template <typename Handler>
class exchange_waiter_impl final : public exchange_waiter {
 public:
  explicit exchange_waiter_impl(Handler h)
      : handler_(std::move(h)), work_(boost::asio::make_work_guard(boost::asio::get_associated_executor(handler_))) {}
  void complete(exchange_result r) override {
    auto ex = work_.get_executor();
    boost::asio::post(ex, [h = std::move(handler_), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
    work_.reset();
  }

 private:
  Handler handler_;
  boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work_;
};
}  // namespace detail

class host_link {
 public:
  /// A link that will run on `owner` (a single-threaded io_context's executor). The spec must be the
  /// one named by cfg.spec.
  host_link(config::host_link_config cfg, std::shared_ptr<const iso8583::spec> spec,
            boost::asio::any_io_executor owner);
  ~host_link();
  host_link(const host_link&) = delete;
  host_link& operator=(const host_link&) = delete;

  /// Starts connecting (any thread).
  void start();
  /// Stops (any thread): no new traffic, sign-off when signed on (waits network_timeout_ms at most),
  /// close, complete what is still pending with exchange_status::shutdown. stopped() turns true when
  /// done.
  void stop();
  bool stopped() const noexcept { return state_.load(std::memory_order_acquire) == link_state::stopped; }

  /// True while signed on and carrying traffic (any thread).
  bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }
  link_state state() const noexcept { return state_.load(std::memory_order_acquire); }
  const std::string& name() const noexcept { return cfg_.name; }
  const config::host_link_config& config() const noexcept { return cfg_; }
  /// The host dialect: requests passed to async_exchange must be made with it.
  const iso8583::spec& spec() const noexcept { return *spec_; }
  link_counters& counters() noexcept { return counters_; }
  const link_counters& counters() const noexcept { return counters_; }
  /// Requests waiting for an answer.
  std::size_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
  /// "acq1 ready in_flight=3 sent=.. answered=.. timeouts=.. unmatched=.. late=.."
  std::string status() const;

  /// Sends a request (made with spec()) and completes with void(exchange_result) on the token's
  /// associated executor: the host's answer, or why there is none. The link sets fields 7, 11 and 37.
  template <typename Token>
  auto async_exchange(std::unique_ptr<iso8583::message> request, std::chrono::milliseconds timeout, Token&& token) {
    return boost::asio::async_initiate<Token, void(exchange_result)>(
        [this](auto handler, std::unique_ptr<iso8583::message> req, std::chrono::milliseconds t) {
          using handler_type = std::decay_t<decltype(handler)>;
          submit(std::move(req), t, std::make_unique<detail::exchange_waiter_impl<handler_type>>(std::move(handler)));
        },
        token, std::move(request), timeout);
  }

  /// STANs left out after the newest journaled one by resume_stans_after(): room for what this
  /// link sent without a journal record before a crash (sign-on, echoes, a SAF repeat in flight).
  static constexpr std::uint32_t stan_resume_gap = 1000;
  /// Continues the STAN sequence of an earlier run: the next STAN is `last_stan` + stan_resume_gap
  /// + 1 (round past 999999), so that a restarted switch never reuses a STAN, and thus an RRN, the
  /// host saw from the run before. Call before start().
  void resume_stans_after(std::uint32_t last_stan) noexcept;

  /// Sets fields 7 (when the dialect has it), 11 and 37 of a request made with spec() now (any
  /// thread), so that they can be journaled before the send; returns {stan, rrn}.
  std::pair<std::string, std::string> assign_ids(iso8583::message& request);

  /// As async_exchange, for a request whose 7, 11 and 37 assign_ids() set: they are sent as they
  /// are. Completes with not_sent when another request in flight has the same match key.
  template <typename Token>
  auto async_exchange_assigned(std::unique_ptr<iso8583::message> request, std::chrono::milliseconds timeout,
                               Token&& token) {
    return boost::asio::async_initiate<Token, void(exchange_result)>(
        [this](auto handler, std::unique_ptr<iso8583::message> req, std::chrono::milliseconds t) {
          using handler_type = std::decay_t<decltype(handler)>;
          submit(std::move(req), t, std::make_unique<detail::exchange_waiter_impl<handler_type>>(std::move(handler)),
                 true);
        },
        token, std::move(request), timeout);
  }

  /// Called on the link's thread with each answer that came after its request timed out (it is
  /// still dropped). Set before start().
  using late_answer_fn = std::function<void(const host_link& link, const iso8583::message& answer)>;
  void on_late_answer(late_answer_fn fn) { late_answer_ = std::move(fn); }

 private:
  struct impl;
  void submit(std::unique_ptr<iso8583::message> request, std::chrono::milliseconds timeout,
              std::unique_ptr<exchange_waiter> waiter, bool ids_assigned = false);
  late_answer_fn late_answer_;

  config::host_link_config cfg_;
  std::shared_ptr<const iso8583::spec> spec_;
  std::atomic<bool> ready_{false};
  std::atomic<link_state> state_{link_state::down};
  std::atomic<std::size_t> in_flight_{0};
  link_counters counters_;
  std::unique_ptr<impl> impl_;  // owner-thread state
};

}  // namespace eft::switch_core
