// The pipeline's journal and SAF steps: which record each step writes, which waits for durability.
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>

#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/mask.hpp"
#include "eft/switch/message_util.hpp"
#include "eft/switch/pipeline.hpp"
#include "eft/switch/reversal.hpp"

namespace eft::switch_core {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Late answers are matched to their transaction for this many timed-out requests at most.
constexpr std::size_t timed_out_entries = 100000;

}  // namespace

void pipeline::set_journal(journal* j, std::shared_ptr<const journal_keys> keys, std::string reversal_mti) {
  journal_ = j;
  journal_keys_ = std::move(keys);
  reversal_mti_ = std::move(reversal_mti);
}

journal_record pipeline::make_record(const transaction* t, journal_event e) const {
  journal_record r;
  r.txn_id = t->txn_id;
  r.event = e;
  r.at_us = journal_now_us();
  r.latency_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t->started).count();
  if (t->route != nullptr) r.route = t->route->name;
  if (t->link != nullptr) r.link = t->link->name();
  r.host_stan = t->host_stan;
  r.rrn = t->host_rrn;
  if (t->response) r.rc = field_text(*t->response, 39U);
  return r;
}

void pipeline::journal_received(transaction* t) {
  const iso8583::message& req = *t->request;
  t->txn_id = journal_->next_txn_id();
  journal_record r = make_record(t, journal_event::received);
  r.terminal = field_text(req, 41U);
  if (auto pan = pan_of(req)) {
    r.pan_masked = iso8583::mask_pan(*pan);
    if (journal_keys_) r.pan_hash = journal_keys_->pan_hash(*pan);
    crypto::wipe(pan->data(), pan->size());
  }
  r.mti = std::string(req.mti());
  r.processing_code = field_text(req, 3U);
  r.amount = field_text(req, 4U);
  r.currency = field_text(req, 49U);
  r.terminal_stan = field_text(req, 11U);
  r.transmission = field_text(req, 7U);
  r.rrn = field_text(req, 37U);
  journal_batch b;
  b.records.push_back(std::move(r));
  // Not awaited: the forwarded record behind it in the same queue is, and the writer keeps order.
  if (!journal_->post(std::move(b))) counters_.journal_failures.add();
}

void pipeline::journal_declined(transaction* t) {
  journal_batch b;
  b.records.push_back(make_record(t, journal_event::declined));
  b.records.back().mti = t->response ? std::string(t->response->mti()) : std::string();
  if (!journal_->post(std::move(b))) counters_.journal_failures.add();
}

awaitable<bool> pipeline::journal_forwarded(transaction* t) {
  iso8583::message& host_req = *t->host_request;
  auto [stan, rrn] = t->link->assign_ids(host_req);
  t->host_stan = std::move(stan);
  t->host_rrn = std::move(rrn);

  // The reversal is prepared now, while the request is at hand, and armed: it goes only if the
  // outcome turns unknown, even when the switch itself dies before knowing (recovery arms it).
  iso8583::message reversal(host_req.dialect());
  std::vector<std::byte> packed;
  if (const iso8583::status st = build_reversal(host_req, reversal_mti_, reversal); !st) {
    spdlog::error("listener {}: the reversal of {} cannot be built in the dialect of link {}: {}; answering 96",
                  t->listener, summary(*t->request), t->link->name(), st.message());
    answer_locally(t, "96");
    co_return false;
  }
  if (const iso8583::status st = iso8583::pack(reversal, packed); !st) {
    spdlog::error("listener {}: the reversal of {} does not pack in the dialect of link {}: {}; answering 96",
                  t->listener, summary(*t->request), t->link->name(), st.message());
    answer_locally(t, "96");
    co_return false;
  }
  saf_item item;
  item.txn_id = t->txn_id;
  item.link_group = t->route->group;
  item.kind = saf_kind::reversal;
  item.state = saf_state::armed;
  item.mti = reversal_mti_;
  item.summary = summary(reversal);
  item.created_us = journal_now_us();
  item.message.resize(packed.size());
  std::memcpy(item.message.data(), packed.data(), packed.size());
  crypto::wipe(packed.data(), packed.size());

  journal_batch b;
  b.records.push_back(make_record(t, journal_event::forwarded));
  b.records.back().mti = std::string(host_req.mti());
  b.saf_put.push_back(std::move(item));
  auto [ec] = co_await journal_->async_write(std::move(b), use_tuple);
  if (ec) {
    counters_.journal_failures.add();
    const char* rc = ec == journal_errc::busy ? "91" : "96";
    spdlog::error("listener {}: {} not forwarded: journal: {}; answering {}", t->listener, summary(*t->request),
                  ec.message(), rc);
    answer_locally(t, rc);
    co_return false;
  }
  co_return true;
}

awaitable<bool> pipeline::journal_outcome(transaction* t, exchange_status status) {
  t->outcome_journaled = true;
  journal_batch b;
  switch (status) {
    case exchange_status::answered:
      b.records.push_back(make_record(t, journal_event::completed));
      b.records.back().mti = t->host_response ? std::string(t->host_response->mti()) : std::string();
      // The prepared reversal stays on standby (durable, never sent) for the terminal's own reversal.
      if (terminal_reversible(t)) {
        b.saf_standby.push_back(t->txn_id);
      } else {
        b.saf_remove.push_back(t->txn_id);
      }
      break;
    case exchange_status::not_sent:
    case exchange_status::pack_error:
      b.records.push_back(make_record(t, journal_event::declined));
      b.records.back().detail = std::string(to_string(status));
      b.saf_remove.push_back(t->txn_id);
      break;
    case exchange_status::timeout:
    case exchange_status::link_lost:
    case exchange_status::shutdown: {
      b.records.push_back(make_record(t, journal_event::timed_out));
      b.records.back().detail = std::string(to_string(status)) + ": reversal queued";
      b.saf_make_ready.push_back(t->txn_id);
      counters_.reversals_queued.add();
      const std::lock_guard lock(timed_out_mutex_);
      std::string key = t->link->name() + "|" + t->host_rrn;
      timed_out_[key] = t->txn_id;
      timed_out_order_.push_back(std::move(key));
      while (timed_out_order_.size() > timed_out_entries) {
        timed_out_.erase(timed_out_order_.front());
        timed_out_order_.pop_front();
      }
      break;
    }
  }
  auto [ec] = co_await journal_->async_write(std::move(b), use_tuple);
  if (ec) {
    counters_.journal_failures.add();
    spdlog::critical("listener {}: the outcome ({}) of {} sent on link {} as stan={} rrn={} is not journaled: {}",
                     t->listener, to_string(status), summary(*t->request), t->link->name(), t->host_stan, t->host_rrn,
                     ec.message());
    co_return false;
  }
  if (status == exchange_status::timeout || status == exchange_status::link_lost ||
      status == exchange_status::shutdown) {
    spdlog::warn("reversal queued: {} sent on link {} as stan={} rrn={}: {}", summary(*t->request), t->link->name(),
                 t->host_stan, t->host_rrn, to_string(status));
  }
  co_return true;
}

void pipeline::set_duplicate_window(std::chrono::seconds window, std::size_t max_entries) {
  duplicates_ = window.count() > 0
                    ? std::make_unique<duplicate_cache>(window, max_entries, &counters_.duplicates_forgotten)
                    : nullptr;
}

void pipeline::late_answer(const host_link& link, const iso8583::message& answer) {
  if (journal_ == nullptr) return;
  journal_record r;
  const std::string rrn = field_text(answer, 37U);
  {
    const std::lock_guard lock(timed_out_mutex_);
    const auto it = timed_out_.find(link.name() + "|" + rrn);
    if (it != timed_out_.end()) r.txn_id = it->second;
  }
  r.event = journal_event::late_answer;
  r.at_us = journal_now_us();
  r.mti = std::string(answer.mti());
  r.link = link.name();
  r.host_stan = field_text(answer, 11U);
  r.rrn = rrn;
  r.rc = field_text(answer, 39U);
  r.detail = "answer after the timeout: not sent to the terminal; the reversal stands";
  journal_batch b;
  b.records.push_back(std::move(r));
  if (!journal_->post(std::move(b))) counters_.journal_failures.add();
}

}  // namespace eft::switch_core
