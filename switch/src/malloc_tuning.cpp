#include "eft/switch/malloc_tuning.hpp"

#include <sys/auxv.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace eft::switch_core {

namespace {

constexpr std::string_view tcache_tunable = "glibc.malloc.tcache_count";

// Whether the tunables list (name=value pairs joined by ':') sets `name`.
bool sets(std::string_view tunables, std::string_view name) {
  while (!tunables.empty()) {
    const std::size_t end = tunables.find(':');
    const std::string_view item = tunables.substr(0, end);
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=') return true;
    if (end == std::string_view::npos) break;
    tunables.remove_prefix(end + 1);
  }
  return false;
}

}  // namespace

std::optional<std::string> tuned_glibc_tunables(const char* current, const char* ld_preload) {
  if (ld_preload != nullptr && std::strstr(ld_preload, "vgpreload") != nullptr) return std::nullopt;
  const std::string_view now = current != nullptr ? current : "";
  if (sets(now, tcache_tunable)) return std::nullopt;
  std::string tuned(now);
  if (!tuned.empty()) tuned += ':';
  tuned += tcache_tunable;
  tuned += '=';
  tuned += std::to_string(malloc_tcache_blocks);
  return tuned;
}

void restart_with_malloc_tuning(char** argv) noexcept {
  // A set-user-id program or one with file capabilities (AT_SECURE) has glibc drop such tunables
  // from its environment: it would find the tunable missing after each restart and never stop.
  if (::getauxval(AT_SECURE) != 0) return;
  try {
    const auto tuned = tuned_glibc_tunables(std::getenv("GLIBC_TUNABLES"), std::getenv("LD_PRELOAD"));
    if (!tuned || argv == nullptr || argv[0] == nullptr) return;
    if (::setenv("GLIBC_TUNABLES", tuned->c_str(), 1) != 0) return;
    ::execv("/proc/self/exe", argv);
    std::fprintf(stderr, "eftswitch: cannot restart with GLIBC_TUNABLES=%s (%s); running with glibc's defaults\n",
                 tuned->c_str(), std::strerror(errno));
  } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory this early: glibc's defaults do
  }
}

}  // namespace eft::switch_core
