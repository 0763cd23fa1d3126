#pragma once
// Helpers shared by the section parsers: typed reads of YAML scalars that throw config_error with
// file, line, what is wrong and how to fix it.

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "eft/config/error.hpp"

namespace eft::config::detail {

/// Concatenation for messages built inside loops.
inline std::string cat(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (const auto p : parts) s += p;
  return s;
}

/// Line (1-based) of a node, or 0 when unknown.
inline int line_of(const YAML::Node& n) {
  return n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
}

[[noreturn]] inline void fail(const std::filesystem::path& file, const YAML::Node& at, const std::string& what,
                              const std::string& hint = {}) {
  std::string msg = file.string();
  if (const int line = line_of(at); line > 0) msg += ":" + std::to_string(line);
  msg += ": " + what;
  if (!hint.empty()) msg += " (" + hint + ")";
  throw config_error(msg);
}

/// "a, b or c".
inline std::string one_of(std::initializer_list<std::string_view> names) {
  std::string s;
  std::size_t i = 0;
  for (const auto n : names) {
    if (i > 0) s += i + 1 == names.size() ? " or " : ", ";
    s += n;
    ++i;
  }
  return s;
}

/// Refuses keys of a map that are not in `allowed`.
inline void check_keys(const std::filesystem::path& file, const YAML::Node& map, const std::string& where,
                       std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : map) {
    const std::string k = kv.first.Scalar();
    bool known = false;
    for (const auto a : allowed) known = known || k == a;
    if (known) continue;
    std::string list;
    for (const auto a : allowed) {
      list += list.empty() ? "" : ", ";
      list += a;
    }
    fail(file, kv.first, cat({"unknown key '", where, where.empty() ? "" : ".", k, "'"}),
         cat({"allowed keys: ", list}));
  }
}

inline std::string scalar(const std::filesystem::path& file, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) fail(file, n, key + " must be a single value");
  return n.Scalar();
}

inline std::uint64_t number(const std::filesystem::path& file, const YAML::Node& n, const std::string& key,
                            std::uint64_t min, std::uint64_t max) {
  const std::string s = scalar(file, n, key);
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max) {
    fail(file, n, key + " '" + s + "' is not a number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

inline bool flag(const std::filesystem::path& file, const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(file, n, key);
  if (s == "true") return true;
  if (s == "false") return false;
  fail(file, n, key + " '" + s + "' is not true or false");
}

/// A list of single values: a YAML sequence, or one value (which may be comma separated).
inline std::vector<std::string> list(const std::filesystem::path& file, const YAML::Node& n, const std::string& key) {
  std::vector<std::string> out;
  if (n.IsSequence()) {
    for (const auto& item : n) out.push_back(scalar(file, item, key + " entry"));
    return out;
  }
  const std::string s = scalar(file, n, key);
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

inline bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

inline std::filesystem::path relative_to(const std::filesystem::path& file, const std::string& p) {
  const std::filesystem::path path(p);
  return path.is_absolute() ? path : file.parent_path() / path;
}

}  // namespace eft::config::detail
