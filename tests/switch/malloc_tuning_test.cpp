// The GLIBC_TUNABLES value eftswitch restarts itself with: glibc's syntax (name=value pairs joined by
// ':'), the operator's own setting kept, and no restart under valgrind.
#include "eft/switch/malloc_tuning.hpp"

#include <gtest/gtest.h>

namespace eft::switch_core {
namespace {

TEST(MallocTuning, AddsTheThreadCacheSizeToAnEmptyEnvironment) {
  EXPECT_EQ(tuned_glibc_tunables(nullptr, nullptr), "glibc.malloc.tcache_count=64");
  EXPECT_EQ(tuned_glibc_tunables("", nullptr), "glibc.malloc.tcache_count=64");
}

TEST(MallocTuning, KeepsTheOperatorsOtherTunables) {
  EXPECT_EQ(tuned_glibc_tunables("glibc.malloc.arena_max=2", nullptr),
            "glibc.malloc.arena_max=2:glibc.malloc.tcache_count=64");
  EXPECT_EQ(tuned_glibc_tunables("glibc.malloc.arena_max=2:glibc.malloc.mxfast=0", "/usr/lib/libfoo.so"),
            "glibc.malloc.arena_max=2:glibc.malloc.mxfast=0:glibc.malloc.tcache_count=64");
  // Names that only start like it are other tunables.
  EXPECT_EQ(tuned_glibc_tunables("glibc.malloc.tcache_count_max=9", nullptr),
            "glibc.malloc.tcache_count_max=9:glibc.malloc.tcache_count=64");
}

TEST(MallocTuning, LeavesAnOperatorsThreadCacheSizeAsItIs) {
  EXPECT_EQ(tuned_glibc_tunables("glibc.malloc.tcache_count=7", nullptr), std::nullopt);
  EXPECT_EQ(tuned_glibc_tunables("glibc.malloc.arena_max=2:glibc.malloc.tcache_count=0", nullptr), std::nullopt);
  EXPECT_EQ(tuned_glibc_tunables("glibc.malloc.tcache_count=128:glibc.malloc.arena_max=2", nullptr), std::nullopt);
}

TEST(MallocTuning, DoesNotRestartUnderValgrind) {
  EXPECT_EQ(tuned_glibc_tunables(nullptr,
                                 "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so:"
                                 "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so"),
            std::nullopt);
}

}  // namespace
}  // namespace eft::switch_core
