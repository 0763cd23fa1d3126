// Stand-in: what the switch answers for a route whose host is unavailable (no ready link in its
// group, or its circuit breaker open). The route's stand_in policy declines with its rc, or approves
// up to the floor limit once the transaction's own checks (MAC at `received`, PIN translation and
// ARQC at `routed`, the PIN itself at `stand_in` when the policy has pin_verify) have passed; an approval is answered
// only once its 0220 advice is durable in the SAF queue of the group, which sends it when the host is back.
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <cstring>

#include "eft/crypto/bytes.hpp"
#include "eft/iso8583/codec.hpp"
#include "eft/switch/message_util.hpp"
#include "eft/switch/pipeline.hpp"
#include "eft/switch/reversal.hpp"

namespace eft::switch_core {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Fields an advice never carries: the PIN block and its KSN, track data (DESIGN.md: none stored).
constexpr std::uint32_t advice_dropped_fields[] = {35U, 36U, 45U, 52U, 53U};

// The authorisation id of a stand-in approval: "S" and the journal's transaction id (5 digits),
// so the host and an operator tell it from the host's own ids.
std::string stand_in_auth_id(std::int64_t txn_id) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "S%05lld", static_cast<long long>(txn_id % 100000));
  return buf;
}

}  // namespace

awaitable<void> pipeline::stand_in(transaction* t, std::string why) {
  const config::stand_in_config& si = *t->route->stand_in;
  const iso8583::message& req = *t->request;
  route_stats* stats = stats_of(t);
  std::uint64_t amount = 0;
  const std::string_view f4 = req.get(4U).value_or(std::string_view());
  std::from_chars(f4.data(), f4.data() + f4.size(), amount);
  const std::string_view mti = req.mti();

  std::string refused;
  if (si.policy == config::stand_in_policy::decline) {
    refused = "policy decline";
  } else if (mti != "0100" && mti != "0200") {
    refused = "only 0100 and 0200 are approved in stand-in";
  } else if (amount > si.floor_limit) {
    refused = "amount above the floor limit";
  } else if (journal_ == nullptr) {
    refused = "no journal to hold the advice";
  }
  const auto g = t->table->groups.find(t->route->group);
  if (refused.empty() && (g == t->table->groups.end() || g->second->links().empty()))
    refused = "no link for the advice";

  std::unique_ptr<iso8583::message> advice;
  if (refused.empty()) {
    // The routed checks (PIN translation, ARQC) run on the request in the dialect of the group's
    // first link, as if it were going there: an approval needs them to pass.
    const host_link* spec_link = g->second->links().front();
    t->host_request = std::make_unique<iso8583::message>(spec_link->spec());
    t->host_request->set_mti(mti);
    if (const iso8583::status st = copy_fields(req, *t->host_request, undefined_field_policy::refuse); !st) {
      refused = "the request has no place in the host dialect";
    } else if (!co_await run_stages(stage_point::routed, t) || !co_await run_stages(stage_point::stand_in, t)) {
      // A check failed (PIN translation, ARQC, the local PIN verification): the stage's own RC
      // stands (never an approval, no advice).
      if (stats != nullptr) stats->count_stand_in(false);
      co_return;
    }
  }
  if (refused.empty()) {
    advice = std::make_unique<iso8583::message>(t->host_request->dialect());
    (void)copy_fields(*t->host_request, *advice, undefined_field_policy::drop);
    advice->set_mti(std::string(mti.substr(0, 2)) + "20");
    for (const std::uint32_t f : advice_dropped_fields) advice->unset(f);
    if (!advice->has(2U)) {
      if (auto pan = pan_of(req)) {
        (void)advice->set(2U, *pan);
        crypto::wipe(pan->data(), pan->size());
      }
    }
    const std::string auth_id = stand_in_auth_id(t->txn_id);
    if (!advice->set(38U, auth_id) || !advice->set(39U, "00")) refused = "the advice has no field 38 or 39";
  }
  std::vector<std::byte> packed;
  if (refused.empty()) {
    if (const iso8583::status st = iso8583::pack(*advice, packed); !st) refused = "the advice does not pack";
  }
  // The advice's reversal, prepared now and kept sealed on standby like a forwarded original's: a
  // terminal that reverses this approval claims it, and it replaces the advice in the queue.
  std::vector<std::byte> reversal_packed;
  std::string reversal_summary;
  if (refused.empty() && terminal_reversible(t)) {
    iso8583::message reversal(advice->dialect());
    if (!build_reversal(*advice, reversal_mti_, reversal) || !iso8583::pack(reversal, reversal_packed)) {
      refused = "the advice's reversal cannot be built";
    } else {
      reversal_summary = summary(reversal);
    }
  }
  if (!refused.empty()) {
    crypto::wipe(packed.data(), packed.size());  // the advice carries the PAN
    crypto::wipe(reversal_packed.data(), reversal_packed.size());
    counters_.host_unavailable.add();
    if (stats != nullptr) stats->count_stand_in(false);
    spdlog::info("listener {}: stand-in for route {} ({}): declined {} with RC {}: {}", t->listener, t->route->name,
                 why, summary(req), si.rc, refused);
    answer_locally(t, si.rc);
    co_return;
  }

  answer_locally(t, "00");
  (void)t->response->set(38U, advice->get(38U).value_or(""));
  saf_item item;
  item.txn_id = t->txn_id;
  item.link_group = t->route->group;
  item.kind = saf_kind::advice;
  item.state = saf_state::ready;
  item.mti = std::string(advice->mti());
  item.summary = summary(*advice);
  item.created_us = journal_now_us();
  const std::int64_t item_created_us = item.created_us;
  item.message.resize(packed.size());
  std::memcpy(item.message.data(), packed.data(), packed.size());
  crypto::wipe(packed.data(), packed.size());
  journal_batch b;
  b.records.push_back(make_record(t, journal_event::stand_in));
  b.records.back().mti = std::string(t->response->mti());
  b.records.back().detail = "stand-in approval (" + why + "): advice queued";
  b.saf_put.push_back(std::move(item));
  if (!reversal_packed.empty()) {
    saf_item standby;
    standby.txn_id = t->txn_id;
    standby.link_group = t->route->group;
    standby.kind = saf_kind::reversal;
    standby.state = saf_state::armed;
    standby.mti = reversal_mti_;
    standby.summary = std::move(reversal_summary);
    standby.created_us = item_created_us;
    standby.message.resize(reversal_packed.size());
    std::memcpy(standby.message.data(), reversal_packed.data(), reversal_packed.size());
    crypto::wipe(reversal_packed.data(), reversal_packed.size());
    b.saf_put.push_back(std::move(standby));
    b.saf_standby.push_back(t->txn_id);
  }
  t->outcome_journaled = true;
  // Durable, advice included, before the terminal hears of the approval.
  auto [ec] = co_await journal_->async_write(std::move(b), use_tuple);
  if (ec) {
    counters_.journal_failures.add();
    counters_.host_unavailable.add();
    if (stats != nullptr) stats->count_stand_in(false);
    t->outcome_journaled = false;
    spdlog::error("listener {}: stand-in approval of {} not journaled: {}; answering {}", t->listener, summary(req),
                  ec.message(), si.rc);
    answer_locally(t, si.rc);
    co_return;
  }
  if (stats != nullptr) stats->count_stand_in(true);
  spdlog::info("listener {}: stand-in for route {} ({}): approved {} (auth {}); 0220 advice queued for group {}",
               t->listener, t->route->name, why, summary(req), advice->get(38U).value_or(""), t->route->group);
}

}  // namespace eft::switch_core
