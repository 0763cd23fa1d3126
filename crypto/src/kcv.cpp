#include "eft/crypto/kcv.hpp"

#include <array>
#include <string>

namespace eft::crypto {

outcome<bytes> key_check_value(cipher c, byte_view key, kcv_method m, std::size_t length) {
  const std::size_t bs = block_size(c);
  if (length == 0) length = default_kcv_length(c);
  if (length > bs) {
    return failure{errc::bad_input, "a check value is at most " + std::to_string(bs) + " bytes for this cipher"};
  }
  const std::array<std::uint8_t, 16> zero{};
  const byte_view zero_block(zero.data(), bs);
  outcome<bytes> full =
      (c == cipher::aes && m == kcv_method::standard) ? cmac(c, key, zero_block) : ecb_encrypt(c, key, zero_block);
  if (!full) return full.error();
  full->resize(length);
  return full;
}

outcome<bool> check_key_check_value(cipher c, byte_view key, byte_view expected, kcv_method m) {
  if (expected.empty()) return failure{errc::bad_input, "empty check value"};
  auto actual = key_check_value(c, key, m, expected.size());
  if (!actual) return actual.error();
  return equal_ct(*actual, expected);
}

}  // namespace eft::crypto
