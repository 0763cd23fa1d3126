#include "eft/crypto/bytes.hpp"

#include <openssl/crypto.h>

namespace eft::crypto {

void wipe(void* p, std::size_t n) noexcept {
  if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}

bool equal_ct(byte_view a, byte_view b) noexcept {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(byte_view b) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out(b.size() * 2, '0');
  for (std::size_t i = 0; i < b.size(); ++i) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 0x0F];
  }
  return out;
}

namespace {
int nibble(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

template <typename Out>
outcome<Out> decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return failure{errc::bad_input, "hex text has an odd number of digits"};
  Out out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return failure{errc::bad_input, "not a hex digit at position " + std::to_string(hi < 0 ? 2 * i : 2 * i + 1)};
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}
}  // namespace

outcome<bytes> from_hex(std::string_view hex) {
  return decode<bytes>(hex);
}
outcome<secure_bytes> secure_from_hex(std::string_view hex) {
  return decode<secure_bytes>(hex);
}

}  // namespace eft::crypto
