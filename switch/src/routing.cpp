#include "eft/switch/routing.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace eft::switch_core {

bool card_number_valid(std::string_view pan) noexcept {
  if (pan.size() < 12 || pan.size() > 19) return false;
  int sum = 0;
  bool twice = false;
  for (std::size_t i = pan.size(); i > 0; --i) {
    const char c = pan[i - 1];
    if (c < '0' || c > '9') return false;
    int d = c - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

router::router(std::vector<config::route_config> routes, std::vector<config::terminal_group_config> groups)
    : routes_(std::move(routes)), groups_(std::move(groups)) {
  struct event {
    std::uint64_t at;
    std::uint32_t route;
    int delta;
  };
  std::vector<event> events[20];
  for (std::uint32_t i = 0; i < routes_.size(); ++i) {
    const auto& r = routes_[i];
    const auto add = [&](const config::bin_range& b) {
      events[b.digits].push_back({b.low, i, +1});
      if (b.high != UINT64_MAX) events[b.digits].push_back({b.high + 1, i, -1});
      ++range_count_;
    };
    for (const auto& p : r.pan_prefixes) {
      std::uint64_t v = 0;
      std::from_chars(p.data(), p.data() + p.size(), v);
      add({v, v, static_cast<std::uint8_t>(p.size())});
    }
    if (r.bin_ranges) {
      for (const auto& b : *r.bin_ranges) add(b);
    }
    if (r.pan_prefixes.empty() && (!r.bin_ranges || r.bin_ranges->empty())) any_pan_.push_back(i);
  }
  // Sweep each length once: the routes covering each run between two range ends, in config order.
  for (std::size_t d = 1; d < 20; ++d) {
    auto& ev = events[d];
    if (ev.empty()) continue;
    std::sort(ev.begin(), ev.end(), [](const event& a, const event& b) { return a.at < b.at; });
    std::map<std::uint32_t, int> active;
    std::size_t k = 0;
    while (k < ev.size()) {
      const std::uint64_t at = ev[k].at;
      for (; k < ev.size() && ev[k].at == at; ++k) {
        if ((active[ev[k].route] += ev[k].delta) == 0) active.erase(ev[k].route);
      }
      if (active.empty()) continue;
      const std::uint64_t end = k < ev.size() ? ev[k].at - 1 : UINT64_MAX;
      auto& segs = segments_[d];
      // Runs next to each other with the same routes are one segment.
      if (!segs.empty() && segs.back().end + 1 == at && segs.back().count == active.size() &&
          std::equal(active.begin(), active.end(), route_ids_.begin() + segs.back().first,
                     [](const auto& a, std::uint32_t b) { return a.first == b; })) {
        segs.back().end = end;
        continue;
      }
      segs.push_back(
          {at, end, static_cast<std::uint32_t>(route_ids_.size()), static_cast<std::uint32_t>(active.size())});
      for (const auto& a : active) route_ids_.push_back(a.first);
    }
  }
}

bool router::in_group(const std::string& group, const route_query& q) const noexcept {
  for (const auto& g : groups_) {
    if (g.name != group) continue;
    if (std::find(g.listeners.begin(), g.listeners.end(), q.listener) != g.listeners.end()) return true;
    for (const auto& t : g.terminal_ids) {
      if (!t.empty() && t.back() == '*' ? q.terminal_id.starts_with(std::string_view(t).substr(0, t.size() - 1))
                                        : q.terminal_id == t) {
        return true;
      }
    }
  }
  return false;
}

bool router::matches_rest(const config::route_config& r, const route_query& q, bool extras) const noexcept {
  if (!r.mtis.empty() && std::find(r.mtis.begin(), r.mtis.end(), q.mti) == r.mtis.end()) return false;
  if (!r.processing_codes.empty()) {
    const bool any = std::any_of(r.processing_codes.begin(), r.processing_codes.end(),
                                 [&](const std::string& p) { return q.processing_code.starts_with(p); });
    if (!any) return false;
  }
  if (!extras) return true;
  if (r.min_amount && q.amount < *r.min_amount) return false;
  if (r.max_amount && q.amount > *r.max_amount) return false;
  if (!r.terminal_groups.empty()) {
    const bool any = std::any_of(r.terminal_groups.begin(), r.terminal_groups.end(),
                                 [&](const std::string& g) { return in_group(g, q); });
    if (!any) return false;
  }
  return true;
}

router::search_result router::search(const route_query& q, bool extras) const noexcept {
  search_result out;
  std::uint64_t prefix[20] = {};
  std::size_t digits = 0;  // leading digits of the PAN, at most 19
  while (digits < q.pan.size() && digits < 19 && q.pan[digits] >= '0' && q.pan[digits] <= '9') {
    prefix[digits + 1] = prefix[digits] * 10 + static_cast<std::uint64_t>(q.pan[digits] - '0');
    ++digits;
  }
  for (std::size_t d = digits; d > 0; --d) {
    const auto& segs = segments_[d];
    if (segs.empty()) continue;
    const std::uint64_t v = prefix[d];
    auto it =
        std::upper_bound(segs.begin(), segs.end(), v, [](std::uint64_t x, const segment& s) { return x < s.start; });
    if (it == segs.begin()) continue;
    --it;
    if (v > it->end) continue;
    out.bin_known = true;
    for (std::uint32_t k = 0; k < it->count; ++k) {
      const auto& r = routes_[route_ids_[it->first + k]];
      if (matches_rest(r, q, extras)) {
        out.route = &r;
        return out;
      }
    }
  }
  for (const std::uint32_t i : any_pan_) {
    if (matches_rest(routes_[i], q, extras)) {
      out.route = &routes_[i];
      return out;
    }
  }
  return out;
}

route_decision router::decide(const route_query& q) const noexcept {
  if (q.pan.empty()) {
    const search_result s = search(q, true);
    return s.route != nullptr ? route_decision{s.route, {}} : route_decision{nullptr, "92"};
  }
  if (!card_number_valid(q.pan)) return {nullptr, "14"};
  const search_result s = search(q, true);
  if (s.route != nullptr) return {s.route, {}};
  return {nullptr, s.bin_known || !any_pan_.empty() ? "57" : "15"};
}

const config::route_config* router::find(std::string_view pan, std::string_view mti,
                                         std::string_view processing_code) const noexcept {
  route_query q;
  q.pan = pan;
  q.mti = mti;
  q.processing_code = processing_code;
  return search(q, false).route;
}

}  // namespace eft::switch_core
