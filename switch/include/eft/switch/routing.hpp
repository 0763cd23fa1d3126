#pragma once
/// Routing: which route (and so which link group and timeout) takes a transaction, by PAN prefix,
/// MTI and processing code. Built once from the config, then read concurrently by every worker
/// thread without locks.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "eft/config/switch.hpp"

namespace eft::switch_core {

/// The routing table.
///
/// A route matches when each criterion it gives matches: the PAN starts with one of its prefixes, the
/// MTI is one of its MTIs, field 3 starts with one of its processing-code prefixes (a route without a
/// criterion matches everything on it). Among matching routes the one with the longest matching PAN
/// prefix wins; routes without PAN prefixes come after all prefix matches; ties go to the route
/// listed first. Lookup costs at most one ordered-map probe per PAN digit, so tables of 100,000+
/// prefixes stay fast.
class router {
 public:
  /// Routes in config order. Their criteria are taken as validated by eft::config.
  explicit router(std::vector<config::route_config> routes);

  /// The route for a transaction, or nullptr when none matches (the terminal gets RC 92).
  /// `processing_code` may be empty when the message has no field 3.
  const config::route_config* find(std::string_view pan, std::string_view mti,
                                   std::string_view processing_code) const noexcept;

  const std::vector<config::route_config>& routes() const noexcept { return routes_; }

 private:
  bool matches_rest(const config::route_config& r, std::string_view mti, std::string_view pc) const noexcept;

  std::vector<config::route_config> routes_;
  std::map<std::string, std::vector<std::uint32_t>, std::less<>> by_prefix_;  // prefix -> routes, in order
  std::vector<std::uint32_t> any_pan_;                                        // routes with no PAN criterion
  std::size_t longest_prefix_ = 0;
};

}  // namespace eft::switch_core
