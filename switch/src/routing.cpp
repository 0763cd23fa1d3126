#include "eft/switch/routing.hpp"

#include <algorithm>

namespace eft::switch_core {

router::router(std::vector<config::route_config> routes) : routes_(std::move(routes)) {
  for (std::uint32_t i = 0; i < routes_.size(); ++i) {
    const auto& r = routes_[i];
    if (r.pan_prefixes.empty()) {
      any_pan_.push_back(i);
      continue;
    }
    for (const auto& p : r.pan_prefixes) {
      auto& bucket = by_prefix_[p];
      if (std::find(bucket.begin(), bucket.end(), i) == bucket.end()) bucket.push_back(i);
      longest_prefix_ = std::max(longest_prefix_, p.size());
    }
  }
}

bool router::matches_rest(const config::route_config& r, std::string_view mti, std::string_view pc) const noexcept {
  if (!r.mtis.empty() && std::find(r.mtis.begin(), r.mtis.end(), mti) == r.mtis.end()) return false;
  if (!r.processing_codes.empty()) {
    const bool any = std::any_of(r.processing_codes.begin(), r.processing_codes.end(),
                                 [&](const std::string& p) { return pc.starts_with(p); });
    if (!any) return false;
  }
  return true;
}

const config::route_config* router::find(std::string_view pan, std::string_view mti,
                                         std::string_view processing_code) const noexcept {
  for (std::size_t len = std::min(pan.size(), longest_prefix_); len > 0; --len) {
    const auto it = by_prefix_.find(pan.substr(0, len));
    if (it == by_prefix_.end()) continue;
    for (const std::uint32_t i : it->second) {
      if (matches_rest(routes_[i], mti, processing_code)) return &routes_[i];
    }
  }
  for (const std::uint32_t i : any_pan_) {
    if (matches_rest(routes_[i], mti, processing_code)) return &routes_[i];
  }
  return nullptr;
}

}  // namespace eft::switch_core
