#pragma once
/// Routing: which route (and so which link group and timeout) takes a transaction, by BIN (PAN
/// prefixes and BIN range tables), MTI, processing code, terminal group and amount. Built once from
/// the config, then read concurrently by every worker thread without locks.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "eft/config/switch.hpp"

namespace eft::switch_core {

/// True when `pan` is 12-19 digits whose last is the Luhn check digit of the others (ISO/IEC 7812-1
/// annex B).
bool card_number_valid(std::string_view pan) noexcept;

/// What routing looks at.
struct route_query {
  std::string_view pan;              ///< empty when the message carries none
  std::string_view mti;              ///< "0200"
  std::string_view processing_code;  ///< field 3; empty when absent
  std::string_view listener;         ///< the listener the request came in on
  std::string_view terminal_id;      ///< field 41; empty when absent
  std::uint64_t amount = 0;          ///< field 4 in minor units; 0 when absent
};

/// Where a transaction goes, or why it goes nowhere.
struct route_decision {
  const config::route_config* route = nullptr;  ///< null: answer `rc`
  std::string_view rc;  ///< without a route: "14" bad card number, "15" no such issuer, "57" not permitted,
                        ///< "92" no route for a message without PAN
};

/// The routing table.
///
/// A route's BIN criterion is the union of its pan_prefixes and the ranges of its bin_file; a range
/// of d digits matches a PAN whose first d digits lie in it. A route matches when each criterion it
/// gives matches: BIN, MTI (exact), processing code (field 3 starts with one of the prefixes),
/// terminal group (the listener or terminal id is a member of one of the groups), amount limits
/// (min_amount <= field 4 <= max_amount). Among matching routes the longest matching BIN wins;
/// routes without BIN criterion come after all BIN matches; ties go to the route listed first.
/// Lookup: one binary search per PAN length that has ranges (at most 19), so tables of 100,000+
/// ranges cost microseconds.
class router {
 public:
  /// Routes in config order, terminal groups by name. Criteria are taken as validated by eft::config.
  explicit router(std::vector<config::route_config> routes, std::vector<config::terminal_group_config> groups = {});

  /// The decision for a request (see route_decision): RC 14 when the PAN is not a valid card number
  /// (card_number_valid); otherwise the first matching route in the order above; otherwise RC 57 when a
  /// route's BIN criterion matches the PAN or a route without BIN criterion exists (someone takes
  /// this card, but not this MTI, processing code, terminal or amount), else RC 15 (no issuer known
  /// for this BIN). A query without PAN is only taken by routes without BIN criterion, else RC 92.
  route_decision decide(const route_query& q) const noexcept;

  /// The route for a PAN, MTI and processing code (no card number check, no terminal, amount 0), or
  /// nullptr. `processing_code` may be empty when the message has no field 3.
  const config::route_config* find(std::string_view pan, std::string_view mti,
                                   std::string_view processing_code) const noexcept;

  const std::vector<config::route_config>& routes() const noexcept { return routes_; }
  /// BIN ranges (prefixes included) in the table.
  std::size_t ranges() const noexcept { return range_count_; }

 private:
  // A run of d-digit PAN prefixes [start, end] covered by the same routes (route_ids_[first, first+count)).
  struct segment {
    std::uint64_t start;
    std::uint64_t end;
    std::uint32_t first;
    std::uint32_t count;
  };
  struct search_result {
    const config::route_config* route = nullptr;
    bool bin_known = false;
  };
  search_result search(const route_query& q, bool extras) const noexcept;
  bool matches_rest(const config::route_config& r, const route_query& q, bool extras) const noexcept;
  bool in_group(const std::string& group, const route_query& q) const noexcept;

  std::vector<config::route_config> routes_;
  std::vector<config::terminal_group_config> groups_;
  std::array<std::vector<segment>, 20> segments_;  // by number of digits
  std::vector<std::uint32_t> route_ids_;
  std::vector<std::uint32_t> any_pan_;  // routes with no BIN criterion
  std::size_t range_count_ = 0;
};

}  // namespace eft::switch_core
