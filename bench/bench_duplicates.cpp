// The duplicate cache as the pipeline uses it: one admit() per request with a key, then complete()
// with the packed answer. Two shapes at the default bound (200,000 requests remembered):
//  - growing: an empty cache fills to the bound, as after each start; max_admit_us is the slowest
//    single admit of the run (a table that grows rehashes every entry under the cache's one mutex,
//    which every I/O thread waits on; the baseline shows what that costs);
//  - full: the cache is at its bound and each admit drops the oldest request.
// Baseline in the same run: the same keys put into a plain std::unordered_map<std::string, int>.
//
//   build/bin/bench_duplicates --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "eft/switch/duplicates.hpp"

namespace {

using eft::switch_core::duplicate_cache;

constexpr std::size_t bound = 200000;

// Keys shaped as key_of() makes them: "MTI|terminal|STAN|transmission date and time".
std::vector<std::string> make_keys(std::size_t n, std::size_t first = 0) {
  std::vector<std::string> keys;
  keys.reserve(n);
  char buf[64];
  for (std::size_t i = first; i < first + n; ++i) {
    std::snprintf(buf, sizeof buf, "020|T%07zu|%06zu|1129%06zu", i % 5000, i % 1000000, i / 1000000);
    keys.emplace_back(buf);
  }
  return keys;
}

const std::vector<std::byte>& answer() {
  static const std::vector<std::byte> a(180, std::byte{0x30});
  return a;
}

void admit_and_complete(duplicate_cache& c, const std::string& key, double& slowest_us) {
  const auto t0 = std::chrono::steady_clock::now();
  auto [entry, first] = c.admit(key, 1);
  const auto t1 = std::chrono::steady_clock::now();
  slowest_us = std::max(slowest_us, std::chrono::duration<double, std::micro>(t1 - t0).count());
  if (first) duplicate_cache::complete(*entry, nullptr, answer());
  benchmark::DoNotOptimize(entry);
}

void duplicates_growing(benchmark::State& state) {
  const auto keys = make_keys(bound);
  double slowest_us = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto c = std::make_unique<duplicate_cache>(std::chrono::seconds(300), bound);
    state.ResumeTiming();
    for (const auto& k : keys) admit_and_complete(*c, k, slowest_us);
    state.PauseTiming();
    c.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * keys.size()));
  state.counters["max_admit_us"] = slowest_us;
}

void duplicates_full(benchmark::State& state) {
  duplicate_cache c(std::chrono::seconds(300), bound);
  double slowest_us = 0;
  for (const auto& k : make_keys(bound)) admit_and_complete(c, k, slowest_us);
  const auto keys = make_keys(bound, bound);
  slowest_us = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    admit_and_complete(c, keys[i], slowest_us);
    if (++i == keys.size()) i = 0;  // the first round dropped these: they are new again
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["max_admit_us"] = slowest_us;
}

void baseline_unordered_map_growing(benchmark::State& state) {
  const auto keys = make_keys(bound);
  double slowest_us = 0;
  for (auto _ : state) {
    std::unordered_map<std::string, int> m;
    for (const auto& k : keys) {
      const auto t0 = std::chrono::steady_clock::now();
      m.try_emplace(k, 1);
      const auto t1 = std::chrono::steady_clock::now();
      slowest_us = std::max(slowest_us, std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * keys.size()));
  state.counters["max_admit_us"] = slowest_us;
}

}  // namespace

BENCHMARK(duplicates_growing)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(duplicates_full);
BENCHMARK(baseline_unordered_map_growing)->Unit(benchmark::kMillisecond)->Iterations(5);

BENCHMARK_MAIN();
