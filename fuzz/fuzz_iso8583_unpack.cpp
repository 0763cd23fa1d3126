// Unpack arbitrary bytes with every built-in spec; whatever unpacks must pack again and unpack to the
// same fields (unpack -> pack -> unpack: equal). The first input byte picks the spec.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/json.hpp"
#include "eft/iso8583/spec.hpp"

namespace {
const std::vector<std::shared_ptr<const eft::iso8583::spec>>& specs() {
  static const auto all = [] {
    std::vector<std::shared_ptr<const eft::iso8583::spec>> v;
    for (const auto& name : eft::iso8583::builtin_spec_names()) v.push_back(eft::iso8583::load_spec(name));
    return v;
  }();
  return all;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto& all = specs();
  const auto& sp = *all[data[0] % all.size()];
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data + 1), size - 1);

  eft::iso8583::message first(sp);
  if (!eft::iso8583::unpack(bytes, first)) return 0;
  // The masked forms must be producible for anything that unpacks.
  (void)eft::iso8583::to_json(first);
  (void)eft::iso8583::dump(first);

  std::vector<std::byte> packed;
  if (auto st = eft::iso8583::pack(first, packed); !st) {
    std::fprintf(stderr, "pack failed after unpack succeeded (%s): %s\n", sp.name.c_str(), st.message().c_str());
    std::abort();
  }
  eft::iso8583::message second(sp);
  if (auto st = eft::iso8583::unpack(packed, second); !st) {
    std::fprintf(stderr, "unpack of our own packing failed (%s): %s\n", sp.name.c_str(), st.message().c_str());
    std::abort();
  }
  if (eft::iso8583::to_json(first, eft::iso8583::reveal::yes) !=
      eft::iso8583::to_json(second, eft::iso8583::reveal::yes)) {
    std::fprintf(stderr, "round trip changed the message (%s)\n", sp.name.c_str());
    std::abort();
  }
  return 0;
}
