#include "eft/switch/pipeline.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

#include "eft/iso8583/codec.hpp"
#include "eft/switch/logging.hpp"
#include "eft/switch/message_util.hpp"

namespace eft::switch_core {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

route_query route_query_of(const transaction& t, std::string_view pan) {
  const iso8583::message& req = *t.request;
  route_query q;
  q.pan = pan;
  q.mti = req.mti();
  q.processing_code = req.get(3U).value_or(std::string_view());
  q.listener = t.listener;
  q.terminal_id = req.get(41U).value_or(std::string_view());
  const std::string_view amount = req.get(4U).value_or(std::string_view());
  std::from_chars(amount.data(), amount.data() + amount.size(), q.amount);
  return q;
}

// Reports "no outcome" to a breaker unless the exchange's outcome was reported: a half-open probe
// refused before the send (format error, stage, journal) must not keep the breaker shut.
struct breaker_report {
  circuit_breaker* breaker = nullptr;
  bool done = false;
  explicit breaker_report(circuit_breaker* b) : breaker(b) {}
  breaker_report(const breaker_report&) = delete;
  breaker_report& operator=(const breaker_report&) = delete;
  ~breaker_report() {
    if (breaker != nullptr && !done) breaker->on_no_outcome();
  }
};

}  // namespace

std::shared_ptr<const route_table> route_table::make(std::vector<config::route_config> routes,
                                                     std::map<std::string, link_group*, std::less<>> groups,
                                                     switch_metrics* metrics,
                                                     std::vector<config::terminal_group_config> terminal_groups,
                                                     const route_table* previous) {
  auto t = std::make_shared<route_table>(
      route_table{router(std::move(routes), std::move(terminal_groups)), std::move(groups), {}, nullptr, {}});
  if (metrics != nullptr) {
    for (const auto& r : t->routes.routes()) t->stats.push_back(metrics->route(r.name));
    t->unrouted = metrics->unrouted();
  }
  for (const auto& r : t->routes.routes()) {
    std::shared_ptr<circuit_breaker> b;
    if (r.stand_in && r.stand_in->breaker.timeouts > 0) {
      b = previous != nullptr ? previous->breaker_named(r.name, r.stand_in->breaker) : nullptr;
      if (!b) b = std::make_shared<circuit_breaker>(r.stand_in->breaker);
    }
    t->breakers.push_back(std::move(b));
  }
  return t;
}

std::shared_ptr<circuit_breaker> route_table::breaker_named(std::string_view name,
                                                            const config::breaker_config& settings) const {
  const auto& rs = routes.routes();
  for (std::size_t i = 0; i < rs.size() && i < breakers.size(); ++i) {
    if (rs[i].name == name && breakers[i] && breakers[i]->settings() == settings) return breakers[i];
  }
  return nullptr;
}

circuit_breaker* route_table::breaker_of(const config::route_config* route) const noexcept {
  if (route == nullptr || breakers.empty()) return nullptr;
  return breakers[static_cast<std::size_t>(route - routes.routes().data())].get();
}

pipeline::pipeline(std::vector<config::route_config> routes, std::map<std::string, link_group*, std::less<>> groups,
                   switch_counters& counters)
    : table_(route_table::make(std::move(routes), std::move(groups))), counters_(counters) {}

void pipeline::add_stage(stage_point point, std::string name, stage_fn fn) {
  stages_[static_cast<std::size_t>(point)].push_back(named_stage{std::move(name), std::move(fn)});
}

void pipeline::answer_locally(transaction* t, std::string_view rc) {
  t->response = std::make_unique<iso8583::message>(t->request->dialect());
  make_local_response(*t->request, rc, *t->response);
}

awaitable<bool> pipeline::run_stages(stage_point point, transaction* t) {
  for (const auto& s : stages_[static_cast<std::size_t>(point)]) {
    const stage_result r = co_await s.fn(t);
    if (!r.rc.empty()) {
      spdlog::info("listener {}: stage {} answers RC {} to {}", t->listener, s.name, r.rc, summary(*t->request));
      answer_locally(t, r.rc);
      co_return false;
    }
  }
  co_return true;
}

void pipeline::forwarded_answer(transaction* t) {
  const iso8583::message& req = *t->request;
  const iso8583::message& host = *t->host_response;
  t->response = std::make_unique<iso8583::message>(req.dialect());
  iso8583::message& out = *t->response;
  out.set_mti(host.mti());
  (void)copy_fields(host, out, undefined_field_policy::drop);
  // The terminal gets its own STAN, RRN and transmission time back, whatever the switch used toward
  // the host. Without an RRN of its own, it gets the switch's (printed on receipts).
  for (const std::uint32_t f : {7U, 11U, 37U}) {
    if (auto v = req.get(f)) {
      (void)out.set(f, *v);
    } else if (f != 37U) {
      out.unset(f);
    }
  }
  if (!out.has(39U)) {
    spdlog::warn("listener {}: the host's answer {} has no response code; answering 96", t->listener, summary(host));
    (void)out.set(39U, "96");
  }
  counters_.answered_by_host.add();
}

awaitable<void> pipeline::process(transaction* t) {
  const iso8583::message& req = *t->request;
  if (!is_request_mti(req.mti())) {
    counters_.unexpected_messages.add();
    spdlog::warn("listener {}: a terminal sent {}, which is not a request; ignored", t->listener, summary(req));
    co_return;
  }
  counters_.requests.add();
  counters_.in_flight.add();
  t->table = routes();
  std::shared_ptr<duplicate_entry> first;
  if (duplicates_) {
    if (const auto key = duplicate_cache::key_of(req)) {
      auto [entry, is_first] = duplicates_->admit(*key, 0);
      if (!is_first) {
        // Never to the host twice: invariant 4.
        co_await answer_duplicate(t, std::move(entry));
        counters_.in_flight.sub();
        log_transaction(t);
        record(t);
        co_return;
      }
      first = std::move(entry);
    }
  }
  if (journal_ != nullptr) journal_received(t);
  if (first) first->txn_id = t->txn_id;
  co_await decide(t);
  if (t->response) (void)co_await run_stages(stage_point::answered, t);
  if (journal_ != nullptr && !t->outcome_journaled) journal_declined(t);
  if (first) {
    // Packed once, for the cache and for the terminal (the session sends these bytes).
    if (t->response && !iso8583::pack(*t->response, t->response_bytes)) t->response_bytes.clear();
    duplicate_cache::complete(*first, t->response ? &t->response->dialect() : nullptr, t->response_bytes);
  }
  counters_.in_flight.sub();
  log_transaction(t);
  record(t);
}

route_stats* pipeline::stats_of(const transaction* t) noexcept {
  const route_table& table = *t->table;
  route_stats* s = table.unrouted;
  if (t->route != nullptr && !table.stats.empty())
    s = table.stats[static_cast<std::size_t>(t->route - table.routes.routes().data())];
  return s;
}

void pipeline::record(const transaction* t) noexcept {
  route_stats* s = stats_of(t);
  if (s == nullptr || !t->response) return;
  const auto latency =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t->started);
  s->record(t->response->get(39U).value_or(std::string_view()), latency);
}

awaitable<void> pipeline::decide(transaction* t) {
  const iso8583::message& req = *t->request;
  if (const auto missing = missing_mandatory_field(req)) {
    counters_.format_errors.add();
    spdlog::info("listener {}: field {} missing from {}; answering 30", t->listener, *missing, summary(req));
    answer_locally(t, "30");
    co_return;
  }
  if (req.mti()[1] == '8') {
    counters_.local_answers.add();
    answer_locally(t, "00");
    co_return;
  }
  if (!co_await run_stages(stage_point::received, t)) co_return;
  if (journal_ != nullptr && (req.mti() == "0400" || req.mti() == "0401")) {
    // A terminal's reversal: matched to the original the switch forwarded, never routed.
    co_await terminal_reversal(t);
    co_return;
  }

  const std::string pan = pan_of(req).value_or(std::string());
  const route_decision d = t->table->routes.decide(route_query_of(*t, pan));
  t->route = d.route;
  if (t->route == nullptr) {
    counters_.no_route.add();
    answer_locally(t, d.rc);
    co_return;
  }
  const auto g = t->table->groups.find(t->route->group);
  t->link = g == t->table->groups.end() ? nullptr : g->second->select();
  circuit_breaker* breaker = t->table->breaker_of(t->route);
  if (t->route->stand_in && (t->link == nullptr || (breaker != nullptr && !breaker->allow()))) {
    std::string why = t->link == nullptr ? "no ready link in group " + t->route->group : std::string("breaker open");
    t->link = nullptr;
    co_await stand_in(t, std::move(why));
    co_return;
  }
  breaker_report report(breaker);
  if (t->link == nullptr) {
    counters_.host_unavailable.add();
    spdlog::warn("listener {}: no ready link in group {} for {}; answering 91", t->listener, t->route->group,
                 summary(req));
    answer_locally(t, "91");
    co_return;
  }
  t->host_request = std::make_unique<iso8583::message>(t->link->spec());
  t->host_request->set_mti(req.mti());
  if (const iso8583::status st = copy_fields(req, *t->host_request, undefined_field_policy::refuse); !st) {
    counters_.format_errors.add();
    spdlog::warn("listener {}: field {} of {} has no place in the dialect of link {}; answering 30", t->listener,
                 st.field.view(), summary(req), t->link->name());
    answer_locally(t, "30");
    co_return;
  }
  if (!co_await run_stages(stage_point::routed, t)) co_return;

  exchange_result r;
  if (journal_ != nullptr) {
    // Durable before the send, its reversal prepared: invariant 1 of DESIGN.md.
    if (!co_await journal_forwarded(t)) co_return;
    r = co_await t->link->async_exchange_assigned(std::move(t->host_request),
                                                  std::chrono::milliseconds(t->route->timeout_ms), asio::use_awaitable);
  } else {
    r = co_await t->link->async_exchange(std::move(t->host_request), std::chrono::milliseconds(t->route->timeout_ms),
                                         asio::use_awaitable);
  }
  if (breaker != nullptr) {
    report.done = true;
    if (r.status == exchange_status::answered) {
      breaker->on_answer();
    } else if (r.status == exchange_status::timeout) {
      breaker->on_timeout();
    } else {
      breaker->on_no_outcome();
    }
  }
  if (!r.stan.empty()) t->host_stan = std::move(r.stan);
  if (!r.rrn.empty()) t->host_rrn = std::move(r.rrn);
  switch (r.status) {
    case exchange_status::answered:
      t->host_response = std::move(r.response);
      forwarded_answer(t);
      // Durable before the answer reaches the terminal: invariant 2.
      if (journal_ != nullptr && !co_await journal_outcome(t, r.status)) answer_locally(t, "96");
      co_return;
    case exchange_status::not_sent:
      counters_.host_unavailable.add();
      answer_locally(t, "91");
      if (journal_ != nullptr) (void)co_await journal_outcome(t, r.status);
      co_return;
    case exchange_status::pack_error:
      counters_.format_errors.add();
      spdlog::warn("listener {}: {} does not pack in the dialect of link {}: {}; answering 30", t->listener,
                   summary(req), t->link->name(), r.detail);
      answer_locally(t, "30");
      if (journal_ != nullptr) (void)co_await journal_outcome(t, r.status);
      co_return;
    case exchange_status::timeout:
      counters_.timeouts.add();
      [[fallthrough]];
    case exchange_status::link_lost:
    case exchange_status::shutdown: {
      counters_.reversals_needed.add();
      const std::string rc = r.status == exchange_status::timeout ? t->route->timeout_rc : std::string("91");
      if (journal_ != nullptr) {
        // The reversal is ready in the SAF queue, durably, before anyone is answered: invariant 3.
        answer_locally(t, rc);
        (void)co_await journal_outcome(t, r.status);
        co_return;
      }
      spdlog::warn("reversal needed: {} sent on link {} as stan={} rrn={}: {}; answering {}", summary(req),
                   t->link->name(), t->host_stan, t->host_rrn, to_string(r.status), rc);
      answer_locally(t, rc);
      co_return;
    }
  }
}

void pipeline::log_transaction(const transaction* t) const {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t->started).count();
  const std::string_view rc =
      t->response ? t->response->get(39U).value_or(std::string_view("--")) : std::string_view("none");
  switch_core::log_transaction(*t, rc, static_cast<double>(us) / 1000.0);
}

}  // namespace eft::switch_core
