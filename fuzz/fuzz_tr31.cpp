// TR-31 key blocks arrive from partners and key ceremonies: whatever the text, parsing and unwrapping
// must fail cleanly or succeed, and whatever unwraps must wrap again to a block that unwraps to the
// same header and key. The first byte picks the key block protection key.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "eft/crypto/tr31.hpp"

namespace {
const eft::crypto::bytes& kbpk(std::uint8_t which) {
  // TR-31:2018 Annex A test KBPKs (TDES for versions A/B, AES-256 for D).
  static const eft::crypto::bytes tdes = eft::crypto::from_hex("DD7515F2BFC17F85CE48F3CA25CB21F6").value();
  static const eft::crypto::bytes aes =
      eft::crypto::from_hex("88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6").value();
  return which % 2 == 0 ? tdes : aes;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto& key = kbpk(data[0]);
  const std::string_view block(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)eft::crypto::tr31_parse_header(block);
  auto unwrapped = eft::crypto::tr31_unwrap(key, block);
  if (!unwrapped) return 0;
  auto again = eft::crypto::tr31_wrap(key, unwrapped->header, unwrapped->key);
  if (!again) {
    std::fprintf(stderr, "wrap failed after unwrap succeeded: %s\n", again.error().message().c_str());
    std::abort();
  }
  auto second = eft::crypto::tr31_unwrap(key, *again);
  if (!second || !eft::crypto::equal_ct(second->key.view(), unwrapped->key.view()) ||
      second->header.usage != unwrapped->header.usage) {
    std::fprintf(stderr, "re-wrapped block does not unwrap to the same key\n");
    std::abort();
  }
  return 0;
}
