#pragma once
/// Prometheus metrics of the switch. Nothing here is touched by a registry on the hot path: the
/// counters are the switch's own relaxed atomics (switch_counters, link_counters, route_stats), and
/// they are turned into Prometheus metric families only when /metrics is scraped.
///
/// Labels carry only names from the config (listener, route, link, group) and response codes: never
/// card data or keys.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "eft/switch/counters.hpp"

namespace eft::switch_core {

class host_link;
class journal;
class link_group;
class saf_forwarder;

/// Upper bounds (seconds) of the transaction latency histogram buckets; +Inf follows. The switch's
/// own part of a transaction is well under a millisecond when it is not short of CPU, hence the
/// first three.
inline constexpr std::array<double, 17> latency_buckets_s = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0};

/// Transactions of one route by response code, and their latency. Relaxed atomics, no lock: any
/// worker records, the scrape reads. Lives as long as the switch_metrics that made it (a reload that
/// drops a route keeps its stats, so counters never go backwards).
class route_stats {
 public:
  /// Response codes are two characters of [0-9A-Z]; anything else is counted as "other".
  static constexpr std::size_t rc_symbols = 37;

  /// Stats of the route of that name ("-" for transactions no route took).
  explicit route_stats(std::string route) : route_(std::move(route)) {}

  /// Records one answered transaction: its response code (empty or odd: "other") and latency.
  void record(std::string_view rc, std::chrono::microseconds latency) noexcept;

  const std::string& route() const noexcept { return route_; }
  /// Transactions answered with that response code.
  std::uint64_t count(std::string_view rc) const noexcept;
  /// Every response code counted at least once, with its count ("other" for unusual codes).
  std::vector<std::pair<std::string, std::uint64_t>> by_rc() const;
  /// The latency histogram (buckets not cumulative, the last +Inf; count; sum in microseconds).
  const duration_histogram<latency_buckets_s.size()>& latency() const noexcept { return latency_; }
  /// Counts one stand-in decision of the route: approved by the switch, or declined by its policy.
  void count_stand_in(bool approved) noexcept { (approved ? stand_in_approved_ : stand_in_declined_).add(); }
  /// Stand-in approvals of the route since start.
  std::uint64_t stand_in_approved() const noexcept { return stand_in_approved_.get(); }
  /// Stand-in declines of the route since start.
  std::uint64_t stand_in_declined() const noexcept { return stand_in_declined_.get(); }

 private:
  static std::size_t rc_index(std::string_view rc) noexcept;

  std::string route_;
  std::array<counter, rc_symbols * rc_symbols> by_rc_;
  duration_histogram<latency_buckets_s.size()> latency_{latency_buckets_s};
  counter stand_in_approved_;
  counter stand_in_declined_;
};

/// One listener's gauges for the scrape.
struct listener_view {
  std::string name;
  std::function<std::size_t()> open;  ///< connections open on it now
};

/// The switch's metrics as a prometheus-cpp collectable.
class switch_metrics : public prometheus::Collectable {
 public:
  /// `counters` outlives this object.
  explicit switch_metrics(const switch_counters& counters);
  ~switch_metrics() override;
  switch_metrics(const switch_metrics&) = delete;
  switch_metrics& operator=(const switch_metrics&) = delete;

  /// The stats of a route, made on first use. Call at start-up and reload (takes a lock), never per
  /// transaction: the pipeline keeps the pointers it gets. The pointer stays valid for the life of
  /// this object.
  route_stats* route(std::string_view name);
  /// Stats of the transactions answered without a route (format errors, RC 92, network management).
  route_stats* unrouted() noexcept { return unrouted_; }

  /// Links and groups to report (set once, before the first scrape; they outlive this object).
  void set_links(std::vector<const host_link*> links, std::vector<const link_group*> groups);
  /// Listeners to report (set once, before the first scrape).
  void set_listeners(std::vector<listener_view> listeners);
  /// Operations waiting for or running on the HSM threads (optional).
  void set_hsm_queue_depth(std::function<std::size_t()> depth);
  /// The store-and-forward forwarder to report (depth and oldest age per link group, sends,
  /// acknowledgements, expiries); it outlives this object or is reset to nullptr first.
  void set_saf(const saf_forwarder* saf);
  /// The journal whose commits to report; it outlives this object or is reset to nullptr first.
  void set_journal(const journal* j);
  /// Counts a successful and a refused configuration reload.
  void count_reload(bool ok) noexcept { (ok ? reloads_ok_ : reloads_failed_).add(); }

  /// Every metric family, built from the counters now.
  std::vector<prometheus::MetricFamily> Collect() const override;
  /// The Prometheus text exposition format (version 0.0.4) of Collect().
  std::string scrape() const;

 private:
  const switch_counters& counters_;
  mutable std::mutex mutex_;  // route creation (start-up, reload) against the scrape; never per transaction
  std::deque<route_stats> routes_;
  route_stats* unrouted_ = nullptr;
  std::vector<const host_link*> links_;
  std::vector<const link_group*> groups_;
  std::vector<listener_view> listeners_;
  std::function<std::size_t()> hsm_depth_;
  const saf_forwarder* saf_ = nullptr;
  const journal* journal_ = nullptr;
  counter reloads_ok_;
  counter reloads_failed_;
};

}  // namespace eft::switch_core
