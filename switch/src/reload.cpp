#include "reload.hpp"

#include <fmt/format.h>

#include <optional>

namespace eft::switch_core::detail {

namespace {

std::string at(const config::switch_config& c, int line) {
  return line > 0 ? fmt::format("{}:{}", c.source.string(), line) : c.source.string();
}

bool same_tls(const std::optional<config::tls_config>& a, const std::optional<config::tls_config>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->cert_file == b->cert_file && a->key_file == b->key_file && a->ca_file == b->ca_file &&
         a->verify_peer == b->verify_peer && a->server_name == b->server_name;
}

bool same_addresses(const std::vector<config::link_address>& a, const std::vector<config::link_address>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].host != b[i].host || a[i].port != b[i].port) return false;
  }
  return true;
}

// The first setting of a listener that cannot change in place, or nothing.
std::optional<std::string_view> fixed_listener_change(const config::listener_config& a,
                                                      const config::listener_config& b) {
  if (a.address != b.address || a.port != b.port) return "address or port";
  if (a.framing != b.framing) return "framing";
  if (a.spec != b.spec) return "spec";
  if (a.max_frame != b.max_frame) return "max_frame";
  if (a.pin_key != b.pin_key || a.pin_format != b.pin_format || a.pin_bdk != b.pin_bdk) {
    return "pin_key, pin_bdk or pin_format";
  }
  if (a.mac_key != b.mac_key || a.mac_bdk != b.mac_bdk) return "mac_key or mac_bdk";
  if (!same_tls(a.tls, b.tls)) return "tls";
  return std::nullopt;
}

std::optional<std::string_view> fixed_link_change(const config::host_link_config& a,
                                                  const config::host_link_config& b) {
  if (!same_addresses(a.addresses, b.addresses)) return "addresses";
  if (a.framing != b.framing || a.spec != b.spec || a.max_frame != b.max_frame) return "framing, spec or max_frame";
  if (a.connect_timeout_ms != b.connect_timeout_ms || a.reconnect_min_ms != b.reconnect_min_ms ||
      a.reconnect_max_ms != b.reconnect_max_ms || a.echo_interval_ms != b.echo_interval_ms ||
      a.network_timeout_ms != b.network_timeout_ms) {
    return "timers";
  }
  if (a.sign_on != b.sign_on || a.match_key != b.match_key) return "sign_on or match_key";
  if (!same_tls(a.tls, b.tls)) return "tls";
  return std::nullopt;
}

}  // namespace

std::string reload_refusal(const config::switch_config& running, const config::switch_config& next) {
  const std::string restart = "; that needs a restart (a reload changes routes, listener limits and shutdown_grace_ms)";
  if (running.workers != next.workers || running.status_interval_ms != next.status_interval_ms ||
      running.log_level != next.log_level) {
    return fmt::format("{}: switch.workers, status_interval_ms or log_level changed{}", at(next, 0), restart);
  }
  if (running.listeners.size() != next.listeners.size()) {
    return fmt::format("{}: listeners were added or removed{}", at(next, 0), restart);
  }
  for (std::size_t i = 0; i < next.listeners.size(); ++i) {
    const auto& a = running.listeners[i];
    const auto& b = next.listeners[i];
    if (a.name != b.name) {
      return fmt::format("{}: listener '{}' replaces '{}'{}", at(next, b.line), b.name, a.name, restart);
    }
    if (const auto what = fixed_listener_change(a, b)) {
      return fmt::format("{}: listener {}: {} changed{}", at(next, b.line), b.name, *what, restart);
    }
  }
  if (running.links.size() != next.links.size()) {
    return fmt::format("{}: host links were added or removed{}", at(next, 0), restart);
  }
  for (std::size_t i = 0; i < next.links.size(); ++i) {
    const auto& a = running.links[i];
    const auto& b = next.links[i];
    if (a.name != b.name)
      return fmt::format("{}: link '{}' replaces '{}'{}", at(next, b.line), b.name, a.name, restart);
    if (const auto what = fixed_link_change(a, b)) {
      return fmt::format("{}: link {}: {} changed{}", at(next, b.line), b.name, *what, restart);
    }
  }
  if (running.groups.size() != next.groups.size()) {
    return fmt::format("{}: link groups were added or removed{}", at(next, 0), restart);
  }
  for (std::size_t i = 0; i < next.groups.size(); ++i) {
    const auto& a = running.groups[i];
    const auto& b = next.groups[i];
    if (a.name != b.name || a.links != b.links || a.policy != b.policy) {
      return fmt::format("{}: link group {} changed{}", at(next, b.line), b.name, restart);
    }
  }
  if (running.hsm.has_value() != next.hsm.has_value() ||
      (running.hsm && (running.hsm->backend != next.hsm->backend || running.hsm->key_file != next.hsm->key_file))) {
    return fmt::format("{}: the hsm section changed{}", at(next, 0), restart);
  }
  const config::journal_config& ja = running.journal;
  const config::journal_config& jb = next.journal;
  if (ja.backend != jb.backend || ja.path != jb.path || ja.conninfo != jb.conninfo || ja.instance != jb.instance ||
      ja.durability != jb.durability || ja.key_env != jb.key_env || ja.key_file != jb.key_file ||
      ja.queue_limit != jb.queue_limit || ja.reversal_mti != jb.reversal_mti ||
      ja.saf_retry_interval_ms != jb.saf_retry_interval_ms || ja.saf_max_attempts != jb.saf_max_attempts ||
      ja.saf_expiry_s != jb.saf_expiry_s || ja.duplicate_window_s != jb.duplicate_window_s ||
      ja.duplicate_max_entries != jb.duplicate_max_entries) {
    return fmt::format("{}: the journal section changed{}", at(next, jb.line), restart);
  }
  const bool metrics_same = running.metrics.has_value() == next.metrics.has_value() &&
                            (!running.metrics || (running.metrics->address == next.metrics->address &&
                                                  running.metrics->port == next.metrics->port));
  if (!metrics_same) return fmt::format("{}: the metrics section changed{}", at(next, 0), restart);
  if (running.logging.format != next.logging.format || running.logging.file != next.logging.file ||
      running.logging.queue != next.logging.queue) {
    return fmt::format("{}: the logging section changed{}", at(next, 0), restart);
  }
  return {};
}

}  // namespace eft::switch_core::detail
