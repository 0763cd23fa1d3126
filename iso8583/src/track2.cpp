#include "eft/iso8583/track2.hpp"

namespace eft::iso8583 {

std::optional<track2_view> parse_track2(std::string_view s) noexcept {
  if (!s.empty() && s.front() == ';') s.remove_prefix(1);
  if (const auto end = s.find('?'); end != std::string_view::npos) s = s.substr(0, end);
  const auto sep = s.find_first_of("=D");
  if (sep == std::string_view::npos || sep == 0 || sep > 19 || s.size() < sep + 8) return std::nullopt;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i != sep && (s[i] < '0' || s[i] > '9')) return std::nullopt;
  }
  return track2_view{s.substr(0, sep), s.substr(sep + 1, 4), s.substr(sep + 5, 3), s.substr(sep + 8)};
}

}  // namespace eft::iso8583
