// A terminal's own reversal (0400, repeated as 0401) of a request the switch forwarded. It is matched
// to the original by terminal (41), the original's STAN and transmission time (from field 90, else
// its own 11 and 7) and amount; the reversal the host gets is the one prepared when the original was
// forwarded (the host's STAN, RRN and field 7, field 90 as the host saw the original). It is answered
// 00 once that reversal is durable and ready in the SAF queue; an unknown original gets RC 25 (unable
// to locate the original). A repeat gets the same answer and never queues a second reversal.
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstring>

#include "eft/crypto/bytes.hpp"
#include "eft/switch/message_util.hpp"
#include "eft/switch/pipeline.hpp"

namespace eft::switch_core {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Originals remembered at most (the oldest are forgotten first).
constexpr std::size_t original_entries = 100000;

}  // namespace

std::string pipeline::original_key(std::string_view terminal, std::string_view stan, std::string_view f7) {
  std::string k;
  k.reserve(terminal.size() + stan.size() + f7.size() + 2);
  k.append(terminal).append("|").append(stan).append("|").append(f7);
  return k;
}

void pipeline::remember_original(const transaction* t, const std::vector<std::byte>& reversal, std::string summary) {
  const iso8583::message& req = *t->request;
  const std::string_view mti = req.mti();
  if (mti.size() != 4 || (mti[1] != '1' && mti[1] != '2')) return;  // only authorisations and financials
  forwarded_original o;
  o.txn_id = t->txn_id;
  o.amount = field_text(req, 4U);
  o.link_group = t->route->group;
  o.summary = std::move(summary);
  o.reversal.resize(reversal.size());
  std::memcpy(o.reversal.data(), reversal.data(), reversal.size());
  std::string key = original_key(field_text(req, 41U), field_text(req, 11U), field_text(req, 7U));
  const std::lock_guard lock(originals_mutex_);
  auto [it, fresh] = originals_.insert_or_assign(key, std::move(o));
  (void)it;
  if (fresh) originals_order_.push_back(std::move(key));
  while (originals_order_.size() > original_entries) {
    auto old = originals_.find(originals_order_.front());
    if (old != originals_.end()) {
      crypto::wipe(old->second.reversal.data(), old->second.reversal.size());
      originals_.erase(old);
    }
    originals_order_.pop_front();
  }
}

void pipeline::settle_original(const transaction* t, exchange_status status) {
  const iso8583::message& req = *t->request;
  const std::string key = original_key(field_text(req, 41U), field_text(req, 11U), field_text(req, 7U));
  const std::lock_guard lock(originals_mutex_);
  const auto it = originals_.find(key);
  if (it == originals_.end() || it->second.txn_id != t->txn_id) return;
  switch (status) {
    case exchange_status::answered:
      it->second.settled = true;
      break;
    case exchange_status::timeout:
    case exchange_status::link_lost:
    case exchange_status::shutdown:
      // The switch queued the reversal itself: a terminal's reversal adds nothing.
      it->second.settled = true;
      it->second.reversed = true;
      break;
    case exchange_status::not_sent:
    case exchange_status::pack_error:
      crypto::wipe(it->second.reversal.data(), it->second.reversal.size());
      originals_.erase(it);
      break;
  }
}

awaitable<void> pipeline::terminal_reversal(transaction* t) {
  const iso8583::message& req = *t->request;
  std::string stan = field_text(req, 11U);
  std::string f7 = field_text(req, 7U);
  // Field 90 (n42): original MTI n4, STAN n6, transmission date and time n10, acquirer n11, forwarder n11.
  if (const std::string f90 = field_text(req, 90U); f90.size() >= 20) {
    stan = f90.substr(4, 6);
    f7 = f90.substr(10, 10);
  }
  const std::string key = original_key(field_text(req, 41U), stan, f7);
  const std::string amount = field_text(req, 4U);
  saf_item item;
  bool already = false;
  {
    const std::lock_guard lock(originals_mutex_);
    const auto it = originals_.find(key);
    if (it != originals_.end() && it->second.settled && it->second.amount == amount) {
      forwarded_original& o = it->second;
      if (o.reversed) {
        already = true;
      } else {
        o.reversed = true;  // claimed: a concurrent repeat answers without queuing
        item.txn_id = o.txn_id;
        item.link_group = o.link_group;
        item.summary = o.summary;
        item.message = o.reversal;
      }
    }
  }
  if (!already && item.txn_id == 0) {
    spdlog::info("listener {}: {} matches no forwarded original (stan={}); answering 25", t->listener, summary(req),
                 stan);
    answer_locally(t, "25");
    co_return;
  }
  if (already) {
    spdlog::info("listener {}: {}: the original's reversal is already queued or done; answering 00", t->listener,
                 summary(req));
    answer_locally(t, "00");
    co_return;
  }
  const std::int64_t original_txn = item.txn_id;
  item.kind = saf_kind::reversal;
  item.state = saf_state::ready;
  item.mti = reversal_mti_;
  item.created_us = journal_now_us();
  journal_batch b;
  answer_locally(t, "00");
  b.records.push_back(make_record(t, journal_event::completed));
  b.records.back().mti = std::string(t->response->mti());
  b.records.back().detail = "terminal reversal of txn " + std::to_string(original_txn) + ": reversal queued";
  b.saf_put.push_back(std::move(item));
  t->outcome_journaled = true;
  // Durable and ready before the terminal hears 00.
  auto [ec] = co_await journal_->async_write(std::move(b), use_tuple);
  if (ec) {
    counters_.journal_failures.add();
    t->outcome_journaled = false;
    {
      const std::lock_guard lock(originals_mutex_);
      if (const auto it = originals_.find(key); it != originals_.end()) it->second.reversed = false;
    }
    const char* rc = ec == journal_errc::busy ? "91" : "96";
    spdlog::error("listener {}: reversal {} not queued: journal: {}; answering {}", t->listener, summary(req),
                  ec.message(), rc);
    answer_locally(t, rc);
    co_return;
  }
  counters_.reversals_queued.add();
  spdlog::info("listener {}: {} matched txn {}: reversal queued for group", t->listener, summary(req), original_txn);
}

}  // namespace eft::switch_core
