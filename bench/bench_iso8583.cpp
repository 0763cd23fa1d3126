// Unpack and pack of a typical 0200 chip purchase (fields 2, 3, 4, 7, 11, 12, 13, 14, 18, 22, 23, 25,
// 35, 37, 41, 42, 49, 52, 55 with about 40 bytes of EMV data) in iso87-binary and iso87-ascii.
//
// Baseline in the same run: a minimal parser hard-wired to the iso87-binary layout of this very
// message (no spec, no checks beyond lengths, fields left as views into the input). It bounds what a
// table-driven engine can reach on this machine.
//
//   build/bin/bench_iso8583 --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/hex.hpp"
#include "eft/iso8583/spec.hpp"

namespace {

using namespace eft::iso8583;

// About 40 bytes of EMV data: 9F26, 9F27, 9F10, 9F37, 9F36, 95, 9A, 9C, 9F02.
const std::string icc_data = [] {
  std::string out;
  append_hex_decoded(
      "9F260829CCA15AE665FA2E9F2701809F100706011203A0B8009F37040124800"
      "09F3602001C950500000000009A032611269C01009F0206000000001234",
      out);
  return out;
}();

message purchase(const spec& s) {
  message m(s);
  m.set_mti("0200");
  m.set(2, "4761739001010010");
  m.set(3, "000000");
  m.set(4, "000000001234");
  m.set(7, "1126101530");
  m.set(11, "000123");
  m.set(12, "101530");
  m.set(13, "1126");
  m.set(14, "2712");
  m.set(18, "5411");
  m.set(22, "051");
  m.set(23, "001");
  m.set(25, "00");
  m.set(35, "4761739001010010=27122011758928889");
  m.set(37, "633010000123");
  m.set(41, "TERM0001");
  m.set(42, "MERCHANT0000001");
  m.set(49, "978");
  std::string pin;
  append_hex_decoded("4C3B8E1E4B82F0A9", pin);
  m.set(52, pin);
  m.set(55, icc_data);
  return m;
}

std::vector<std::byte> packed_purchase(const spec& s) {
  std::vector<std::byte> out;
  if (!pack(purchase(s), out)) std::abort();
  return out;
}

void unpack_only(benchmark::State& state, const char* name) {
  const auto s = load_spec(name);
  const auto bytes = packed_purchase(*s);
  message m(*s);
  for (auto _ : state) {
    const status st = unpack(bytes, m);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

void pack_only(benchmark::State& state, const char* name) {
  const auto s = load_spec(name);
  const auto bytes = packed_purchase(*s);
  message m(*s);
  if (!unpack(bytes, m)) std::abort();
  std::vector<std::byte> out;
  out.reserve(512);
  for (auto _ : state) {
    out.clear();
    const status st = pack(m, out);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// What a switch does per message: unpack the request, pack it again (toward the host).
void unpack_and_pack(benchmark::State& state, const char* name) {
  const auto s = load_spec(name);
  const auto bytes = packed_purchase(*s);
  message m(*s);
  std::vector<std::byte> out;
  out.reserve(512);
  for (auto _ : state) {
    if (!unpack(bytes, m)) state.SkipWithError("unpack failed");
    out.clear();
    if (!pack(m, out)) state.SkipWithError("pack failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// Same work, with a fresh message each time (two buffer allocations per message).
void unpack_fresh_message(benchmark::State& state, const char* name) {
  const auto s = load_spec(name);
  const auto bytes = packed_purchase(*s);
  for (auto _ : state) {
    message m(*s);
    const status st = unpack(bytes, m);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- Baseline: hard-wired iso87-binary layout of this message --------------------------------
struct view_field {
  const std::byte* data;
  std::size_t size;
};

enum class kind : std::uint8_t { fixed_bcd, llvar_bcd, lllvar_bin, fixed_ascii, fixed_bin };
struct layout {
  int field;
  kind k;
  int length;  // digits or bytes
};
constexpr std::array<layout, 19> purchase_layout{{
    {2, kind::llvar_bcd, 0},    {3, kind::fixed_bcd, 6},     {4, kind::fixed_bcd, 12},   {7, kind::fixed_bcd, 10},
    {11, kind::fixed_bcd, 6},   {12, kind::fixed_bcd, 6},    {13, kind::fixed_bcd, 4},   {14, kind::fixed_bcd, 4},
    {18, kind::fixed_bcd, 4},   {22, kind::fixed_bcd, 3},    {23, kind::fixed_bcd, 3},   {25, kind::fixed_bcd, 2},
    {35, kind::llvar_bcd, 0},   {37, kind::fixed_ascii, 12}, {41, kind::fixed_ascii, 8}, {42, kind::fixed_ascii, 15},
    {49, kind::fixed_ascii, 3}, {52, kind::fixed_bin, 8},    {55, kind::lllvar_bin, 0},
}};

bool baseline_parse(std::span<const std::byte> in, std::array<view_field, 129>& out) {
  std::size_t pos = 10;  // BCD MTI + binary bitmap
  if (in.size() < pos) return false;
  for (const auto& f : purchase_layout) {
    std::size_t n = 0;
    switch (f.k) {
      case kind::fixed_bcd:
        n = (static_cast<std::size_t>(f.length) + 1) / 2;
        break;
      case kind::fixed_ascii:
      case kind::fixed_bin:
        n = static_cast<std::size_t>(f.length);
        break;
      case kind::llvar_bcd: {
        if (pos >= in.size()) return false;
        const auto b = std::to_integer<unsigned>(in[pos++]);
        n = ((b >> 4) * 10 + (b & 0x0F) + 1) / 2;
        break;
      }
      case kind::lllvar_bin: {
        if (pos + 2 > in.size()) return false;
        const auto b0 = std::to_integer<unsigned>(in[pos]);
        const auto b1 = std::to_integer<unsigned>(in[pos + 1]);
        pos += 2;
        n = (b0 & 0x0F) * 100 + (b1 >> 4) * 10 + (b1 & 0x0F);
        break;
      }
    }
    if (pos + n > in.size()) return false;
    out[static_cast<std::size_t>(f.field)] = {in.data() + pos, n};
    pos += n;
  }
  return pos == in.size();
}

void baseline_hardwired_parse(benchmark::State& state) {
  const auto s = load_spec("iso87-binary");
  const auto bytes = packed_purchase(*s);
  std::array<view_field, 129> fields{};
  if (!baseline_parse(bytes, fields)) std::abort();
  std::vector<std::byte> out;
  out.reserve(512);
  for (auto _ : state) {
    baseline_parse(bytes, fields);
    // "pack": copy the fields back behind MTI and bitmap.
    out.assign(bytes.begin(), bytes.begin() + 10);
    for (const auto& f : purchase_layout) {
      const auto& v = fields[static_cast<std::size_t>(f.field)];
      out.insert(out.end(), v.data, v.data + v.size);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(baseline_hardwired_parse);
BENCHMARK_CAPTURE(unpack_and_pack, iso87_binary, "iso87-binary");
BENCHMARK_CAPTURE(unpack_and_pack, iso87_ascii, "iso87-ascii");
BENCHMARK_CAPTURE(unpack_only, iso87_binary, "iso87-binary");
BENCHMARK_CAPTURE(unpack_only, iso87_ascii, "iso87-ascii");
BENCHMARK_CAPTURE(pack_only, iso87_binary, "iso87-binary");
BENCHMARK_CAPTURE(pack_only, iso87_ascii, "iso87-ascii");
BENCHMARK_CAPTURE(unpack_fresh_message, iso87_binary, "iso87-binary");

BENCHMARK_MAIN();
