#pragma once
/// glibc's malloc keeps freed blocks in a cache per thread, by default 7 of each size
/// (glibc.malloc.tcache_count). An I/O worker of the switch allocates and frees in bursts (every
/// message of a wake-up, then every answer), so beyond the seventh block of a size its allocations
/// went to the shared heap under its lock: at closed loop that was about a tenth of the I/O workers'
/// CPU. glibc reads its tunables only when a program starts, from the environment, so eftswitch
/// starts itself again once with a larger cache (same process id, same arguments) unless the
/// operator set that tunable already.

#include <optional>
#include <string>

namespace eft::switch_core {

/// Blocks of each size (up to 1 KiB) that eftswitch asks glibc to keep in each thread's cache.
inline constexpr int malloc_tcache_blocks = 64;

/// The GLIBC_TUNABLES value eftswitch runs with: `current` (null when unset) with
/// glibc.malloc.tcache_count=malloc_tcache_blocks added; nullopt when the environment stays as it is:
/// `current` sets glibc.malloc.tcache_count already (the operator's choice, glibc's default
/// included), or `ld_preload` (LD_PRELOAD) shows the program runs under valgrind, which a restart
/// would leave.
std::optional<std::string> tuned_glibc_tunables(const char* current, const char* ld_preload);

/// Restarts the running program with GLIBC_TUNABLES set to tuned_glibc_tunables() (execv of
/// /proc/self/exe with `argv`). Call it first in main, before any thread or file exists. Returns when
/// no restart is needed (also for a set-user-id program or one with file capabilities, whose
/// tunables glibc ignores), or when the restart failed (said on stderr; the program then runs with
/// glibc's defaults).
void restart_with_malloc_tuning(char** argv) noexcept;

}  // namespace eft::switch_core
