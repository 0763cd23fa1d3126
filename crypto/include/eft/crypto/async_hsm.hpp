#pragma once
/// Runs HSM operations for the switch's I/O threads. A backend that answers in microseconds (the
/// software backend) runs inline and completes through the caller's executor; a backend that blocks
/// (PKCS#11 tokens, network HSMs) runs on its own bounded thread pool, so an I/O thread never waits.
/// A full queue completes at once with errc::busy (back-pressure, not unbounded memory).

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>

#include "eft/crypto/hsm.hpp"

namespace eft::crypto {

class async_hsm {
 public:
  /// threads == 0: operations run on the calling thread. Otherwise on `threads` threads of our own,
  /// with at most `queue_limit` operations waiting or running.
  async_hsm(std::shared_ptr<hsm> backend, std::size_t threads, std::size_t queue_limit = 1024)
      : hsm_(std::move(backend)), limit_(queue_limit) {
    if (threads > 0) pool_ = std::make_unique<boost::asio::thread_pool>(threads);
  }
  ~async_hsm() {
    if (pool_) pool_->join();
  }
  async_hsm(const async_hsm&) = delete;
  async_hsm& operator=(const async_hsm&) = delete;

  hsm& backend() noexcept { return *hsm_; }
  /// Operations waiting or running on the pool.
  std::size_t pending() const noexcept { return pending_.load(std::memory_order_relaxed); }

  /// Runs op(hsm&) -> outcome<T> and completes the token with void(outcome<T>) on the token's
  /// associated executor (never inside this call).
  template <typename T, typename Op, typename Token>
  auto run(Op op, Token&& token) {
    return boost::asio::async_initiate<Token, void(outcome<T>)>(
        [this](auto handler, Op operation) {
          auto ex = boost::asio::get_associated_executor(handler);
          auto complete = [ex](auto h, outcome<T> r) {
            boost::asio::post(ex, [h = std::move(h), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
          };
          if (!pool_) {
            complete(std::move(handler), operation(*hsm_));
            return;
          }
          if (pending_.fetch_add(1, std::memory_order_relaxed) >= limit_) {
            pending_.fetch_sub(1, std::memory_order_relaxed);
            complete(std::move(handler), outcome<T>(errc::busy, "HSM queue full"));
            return;
          }
          boost::asio::post(*pool_, [this, complete, work = boost::asio::make_work_guard(ex), h = std::move(handler),
                                     operation = std::move(operation)]() mutable {
            outcome<T> r = operation(*hsm_);
            pending_.fetch_sub(1, std::memory_order_relaxed);
            complete(std::move(h), std::move(r));
          });
        },
        token, std::move(op));
  }

 private:
  std::shared_ptr<hsm> hsm_;
  std::unique_ptr<boost::asio::thread_pool> pool_;
  std::size_t limit_;
  std::atomic<std::size_t> pending_{0};
};

}  // namespace eft::crypto
