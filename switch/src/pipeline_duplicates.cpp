// The pipeline's duplicate check: a repeat waits for, and gets, the first request's answer.
#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "eft/switch/message_util.hpp"
#include "eft/switch/pipeline.hpp"

namespace eft::switch_core {

namespace asio = boost::asio;
using asio::awaitable;

awaitable<void> pipeline::answer_duplicate(transaction* t, std::shared_ptr<duplicate_entry> first) {
  counters_.duplicates.add();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // A duplicate waits as long as its original can: the longest timeout of the routes in force (a
  // reload may change them), plus time for the journal.
  std::uint32_t longest = 0;
  for (const auto& r : t->table->routes.routes()) longest = std::max(longest, r.timeout_ms);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(longest) + std::chrono::seconds(5);
  // Rare, and the original may be on another thread: a short poll rather than a cross-thread
  // waiter list.
  while (!first->done.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
    timer.expires_after(std::chrono::milliseconds(5));
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  const bool answered = first->done.load(std::memory_order_acquire);
  if (answered) {
    t->response = first->answer();
  } else {
    answer_locally(t, "91");
  }
  spdlog::info("listener {}: duplicate of txn {}: {} (never sent to a host)", t->listener, first->txn_id,
               summary(*t->request));
  if (journal_ != nullptr) {
    journal_received(t);
    journal_batch b;
    b.records.push_back(make_record(t, journal_event::declined));
    b.records.back().detail = answered ? "duplicate of txn " + std::to_string(first->txn_id) + ": its answer"
                                       : "duplicate of txn " + std::to_string(first->txn_id) + " still in flight";
    if (!journal_->post(std::move(b))) counters_.journal_failures.add();
  }
}

}  // namespace eft::switch_core
