#include "eft/switch/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <limits>
#include <sstream>

#include "eft/switch/host_link.hpp"
#include "eft/switch/journal.hpp"
#include "eft/switch/link_group.hpp"
#include "eft/switch/saf_forwarder.hpp"

namespace eft::switch_core {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

char rc_symbol(std::size_t i) noexcept {
  return i < 10 ? static_cast<char>('0' + i) : static_cast<char>('A' + (i - 10));
}

std::size_t symbol_index(char c) noexcept {
  if (c >= '0' && c <= '9') return static_cast<std::size_t>(c - '0');
  if (c >= 'A' && c <= 'Z') return static_cast<std::size_t>(c - 'A') + 10;
  return route_stats::rc_symbols - 1;
}

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

double as_double(std::uint64_t v) {
  return static_cast<double>(v);
}

// A histogram's exposition. Its count is the sum of the buckets read here, so it stays
// self-consistent while other threads keep recording.
template <std::size_t N>
ClientMetric histogram_metric(const duration_histogram<N>& h, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < h.buckets().size(); ++b) {
    cumulative += h.buckets()[b].get();
    ClientMetric::Bucket bucket;
    bucket.cumulative_count = cumulative;
    bucket.upper_bound = b < N ? h.bounds()[b] : std::numeric_limits<double>::infinity();
    m.histogram.bucket.push_back(bucket);
  }
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = static_cast<double>(h.sum_us()) / 1e6;
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::size_t route_stats::rc_index(std::string_view rc) noexcept {
  if (rc.size() != 2) return rc_symbols * rc_symbols - 1;
  const std::size_t a = symbol_index(rc[0]);
  const std::size_t b = symbol_index(rc[1]);
  if (a == rc_symbols - 1 || b == rc_symbols - 1) return rc_symbols * rc_symbols - 1;
  return a * rc_symbols + b;
}

void route_stats::record(std::string_view rc, std::chrono::microseconds latency) noexcept {
  by_rc_[rc_index(rc)].add();
  latency_.record(latency);
}

std::uint64_t route_stats::count(std::string_view rc) const noexcept {
  return by_rc_[rc == "other" ? rc_symbols * rc_symbols - 1 : rc_index(rc)].get();
}

std::vector<std::pair<std::string, std::uint64_t>> route_stats::by_rc() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (std::size_t i = 0; i < by_rc_.size(); ++i) {
    const std::uint64_t n = by_rc_[i].get();
    if (n == 0) continue;
    if (i == by_rc_.size() - 1) {
      out.emplace_back("other", n);
    } else {
      out.emplace_back(std::string{rc_symbol(i / rc_symbols), rc_symbol(i % rc_symbols)}, n);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

switch_metrics::switch_metrics(const switch_counters& counters) : counters_(counters) {
  routes_.emplace_back("-");
  unrouted_ = &routes_.back();
}

switch_metrics::~switch_metrics() = default;

route_stats* switch_metrics::route(std::string_view name) {
  const std::lock_guard lock(mutex_);
  for (auto& r : routes_) {
    if (r.route() == name && &r != unrouted_) return &r;
  }
  routes_.emplace_back(std::string(name));
  return &routes_.back();
}

void switch_metrics::set_links(std::vector<const host_link*> links, std::vector<const link_group*> groups) {
  const std::lock_guard lock(mutex_);
  links_ = std::move(links);
  groups_ = std::move(groups);
}

void switch_metrics::set_listeners(std::vector<listener_view> listeners) {
  const std::lock_guard lock(mutex_);
  listeners_ = std::move(listeners);
}

void switch_metrics::set_hsm_queue_depth(std::function<std::size_t()> depth) {
  const std::lock_guard lock(mutex_);
  hsm_depth_ = std::move(depth);
}

void switch_metrics::set_saf(const saf_forwarder* saf) {
  const std::lock_guard lock(mutex_);
  saf_ = saf;
}

void switch_metrics::set_journal(const journal* j) {
  const std::lock_guard lock(mutex_);
  journal_ = j;
}

std::vector<MetricFamily> switch_metrics::Collect() const {
  const std::lock_guard lock(mutex_);
  std::vector<MetricFamily> out;
  const switch_counters& c = counters_;

  auto gauge = [&](const char* name, const char* help, double v) {
    out.push_back(family(name, help, MetricType::Gauge));
    add(out.back(), v);
  };
  auto total = [&](const char* name, const char* help, const counter& v) {
    out.push_back(family(name, help, MetricType::Counter));
    add(out.back(), as_double(v.get()));
  };

  gauge("eft_connections_open", "Terminal connections held now", as_double(c.connections_open.get()));
  total("eft_connections_accepted_total", "Terminal connections accepted", c.connections_accepted);
  total("eft_connections_refused_total", "Terminal connections refused by max_connections or the per-address limit",
        c.connections_refused);
  if (!listeners_.empty()) {
    out.push_back(
        family("eft_listener_connections_open", "Terminal connections held now per listener", MetricType::Gauge));
    for (const auto& l : listeners_) add(out.back(), as_double(l.open ? l.open() : 0), {{"listener", l.name}});
  }
  total("eft_idle_timeouts_total", "Terminal connections closed after idle_timeout_ms", c.idle_timeouts);
  total("eft_read_deadlines_total", "Terminal connections closed because a frame did not complete in time",
        c.read_deadlines);
  total("eft_malformed_frames_total", "Frames with an unusable length header (the session is closed)",
        c.malformed_frames);
  total("eft_unparsable_messages_total", "Frames whose message does not unpack (the session is closed)",
        c.unparsable_messages);
  total("eft_keep_alives_total", "Zero-length frames from terminals", c.keep_alives);
  total("eft_requests_total", "Requests received from terminals", c.requests);
  total("eft_unexpected_messages_total", "Answers sent by terminals (ignored)", c.unexpected_messages);
  gauge("eft_in_flight", "Terminal requests being processed now", as_double(c.in_flight.get()));
  total("eft_host_answers_total", "Replies carrying a host's answer", c.answered_by_host);
  total("eft_format_errors_total", "RC 30 answers", c.format_errors);
  total("eft_no_route_total", "Answers without a route: RC 14, 15, 57 or 92", c.no_route);
  total("eft_host_unavailable_total", "RC 91 answers without sending (no ready link)", c.host_unavailable);
  total("eft_timeouts_total", "Host answers not in time", c.timeouts);
  total("eft_reversals_needed_total", "Forwarded requests whose outcome is unknown", c.reversals_needed);
  total("eft_reversals_queued_total", "Reversals made ready in the SAF queue (with a journal)", c.reversals_queued);
  total("eft_journal_failures_total", "Journal writes refused (queue full) or failed", c.journal_failures);
  total("eft_duplicates_total", "Repeated requests answered with the first one's answer", c.duplicates);
  total("eft_duplicates_forgotten_total",
        "Remembered requests dropped by journal.duplicate_max_entries before their window ended",
        c.duplicates_forgotten);
  total("eft_local_answers_total", "Network management answered by the switch", c.local_answers);
  total("eft_replies_total", "Replies written to terminals", c.replies);
  total("eft_tls_handshake_failures_total", "TLS terminal connections whose handshake failed or timed out",
        c.tls_handshake_failures);
  total("eft_mac_failures_total", "Requests refused for a missing or wrong MAC", c.mac_failures);
  total("eft_arqc_failures_total", "Chip cryptograms that did not verify", c.arqc_failures);

  {
    auto txn =
        family("eft_transactions_total", "Transactions answered, by route and response code", MetricType::Counter);
    auto lat = family("eft_transaction_latency_seconds", "Time from the request read to the answer ready, by route",
                      MetricType::Histogram);
    for (const auto& r : routes_) {
      for (const auto& [rc, n] : r.by_rc()) add(txn, as_double(n), {{"route", r.route()}, {"rc", rc}});
      if (r.latency().count() == 0 && &r == unrouted_) continue;
      lat.metric.push_back(histogram_metric(r.latency(), {{"route", r.route()}}));
    }
    out.push_back(std::move(txn));
    out.push_back(std::move(lat));
    auto stand_in = family("eft_stand_in_total",
                           "Requests the switch decided itself while the route's host was "
                           "unavailable, by route and decision",
                           MetricType::Counter);
    for (const auto& r : routes_) {
      if (&r == unrouted_) continue;
      add(stand_in, as_double(r.stand_in_approved()), {{"route", r.route()}, {"decision", "approved"}});
      add(stand_in, as_double(r.stand_in_declined()), {{"route", r.route()}, {"decision", "declined"}});
    }
    if (!stand_in.metric.empty()) out.push_back(std::move(stand_in));
  }

  if (!links_.empty()) {
    static constexpr link_state states[] = {link_state::down,  link_state::connecting, link_state::signing_on,
                                            link_state::ready, link_state::stopping,   link_state::stopped};
    auto up = family("eft_link_up", "1 while the host link is signed on and carries traffic", MetricType::Gauge);
    auto state = family("eft_link_state", "The host link's state (1 for the current one)", MetricType::Gauge);
    auto in_flight = family("eft_link_in_flight", "Requests waiting for the host's answer", MetricType::Gauge);
    struct link_counter {
      const char* name;
      const char* help;
      const counter link_counters::*field;
    };
    static constexpr link_counter link_totals[] = {
        {"eft_link_connects_total", "TCP connections made", &link_counters::connects},
        {"eft_link_connect_failures_total", "Connection attempts that failed", &link_counters::connect_failures},
        {"eft_link_sign_ons_total", "Successful sign-ons", &link_counters::sign_ons},
        {"eft_link_sign_on_failures_total", "Sign-ons refused or unanswered", &link_counters::sign_on_failures},
        {"eft_link_sent_total", "Requests written to the host", &link_counters::sent},
        {"eft_link_answered_total", "Answers matched to a request", &link_counters::answered},
        {"eft_link_timeouts_total", "Requests without an answer in time", &link_counters::timeouts},
        {"eft_link_lost_total", "Requests pending when the connection dropped", &link_counters::lost},
        {"eft_link_unmatched_total", "Answers matching no request", &link_counters::unmatched},
        {"eft_link_late_total", "Answers after their request timed out", &link_counters::late},
        {"eft_link_echoes_total", "Echo tests sent", &link_counters::echoes_sent},
        {"eft_link_host_requests_total", "Network management requests from the host", &link_counters::host_requests},
        {"eft_link_malformed_total", "Unreadable frames or messages from the host", &link_counters::malformed},
    };
    std::vector<MetricFamily> totals;
    for (const auto& t : link_totals) totals.push_back(family(t.name, t.help, MetricType::Counter));
    for (const host_link* l : links_) {
      const std::vector<ClientMetric::Label> name{{"link", l->name()}};
      add(up, l->ready() ? 1 : 0, name);
      const link_state now = l->state();
      for (const link_state s : states) {
        add(state, now == s ? 1 : 0, {{"link", l->name()}, {"state", std::string(to_string(s))}});
      }
      add(in_flight, as_double(l->in_flight()), name);
      for (std::size_t i = 0; i < std::size(link_totals); ++i) {
        add(totals[i], as_double((l->counters().*link_totals[i].field).get()), name);
      }
    }
    out.push_back(std::move(up));
    out.push_back(std::move(state));
    out.push_back(std::move(in_flight));
    for (auto& t : totals) out.push_back(std::move(t));
  }
  if (!groups_.empty()) {
    auto up = family("eft_link_group_up", "1 while any link of the group is ready", MetricType::Gauge);
    for (const link_group* g : groups_) add(up, g->up() ? 1 : 0, {{"group", g->name()}});
    out.push_back(std::move(up));
  }
  if (saf_ != nullptr) {
    // Depths as of the forwarder's last pass (every ~200 ms): no journal read on the scrape.
    const std::int64_t now = journal_now_us();
    auto depth =
        family("eft_saf_depth", "SAF items (reversals, advices) ready to be sent, by link group", MetricType::Gauge);
    auto age = family("eft_saf_oldest_age_seconds", "Age of the oldest ready SAF item (0 when none), by link group",
                      MetricType::Gauge);
    for (const auto& [group, d] : saf_->depths()) {
      add(depth, as_double(d.ready), {{"group", group}});
      add(age, d.oldest_us > 0 && now > d.oldest_us ? static_cast<double>(now - d.oldest_us) / 1e6 : 0.0,
          {{"group", group}});
    }
    out.push_back(std::move(depth));
    out.push_back(std::move(age));
    const saf_counters& sc = saf_->counters();
    auto saf_total = [&](const char* name, const char* help, const std::atomic<std::uint64_t>& v) {
      out.push_back(family(name, help, MetricType::Counter));
      add(out.back(), as_double(v.load(std::memory_order_relaxed)));
    };
    saf_total("eft_saf_sent_total", "SAF sends to hosts (first sends and repeats)", sc.sent);
    saf_total("eft_saf_acknowledged_total", "SAF items removed on the host's acknowledgement", sc.acknowledged);
    saf_total("eft_saf_expired_total", "SAF items given up (age or attempts): settle them by hand", sc.expired);
  }
  if (journal_ != nullptr) {
    const journal_stats& js = journal_->stats();
    total("eft_journal_commits_total", "Journal transactions the writer committed (or failed to)", js.commits);
    total("eft_journal_commit_writes_total", "Batches and claims those commits carried (group commit)", js.writes);
    if (js.counts_wal_bytes) {
      total("eft_journal_wal_bytes_total",
            "Bytes those commits wrote to the SQLite WAL (each changed page whole, with its frame header)",
            js.wal_bytes);
    }
    out.push_back(family("eft_journal_commit_seconds", "The journal writer's time per commit", MetricType::Histogram));
    out.back().metric.push_back(histogram_metric(js.commit));
    out.push_back(family("eft_journal_wait_seconds",
                         "Time from an awaited journal write's submission to its durability (queue and commit)",
                         MetricType::Histogram));
    out.back().metric.push_back(histogram_metric(js.wait));
  }
  if (hsm_depth_) gauge("eft_hsm_queue_depth", "HSM operations waiting or running", as_double(hsm_depth_()));
  {
    auto reloads = family("eft_config_reloads_total", "Configuration reloads (SIGHUP) by result", MetricType::Counter);
    add(reloads, as_double(reloads_ok_.get()), {{"result", "applied"}});
    add(reloads, as_double(reloads_failed_.get()), {{"result", "refused"}});
    out.push_back(std::move(reloads));
  }
  return out;
}

std::string switch_metrics::scrape() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, Collect());
  return out.str();
}

}  // namespace eft::switch_core
