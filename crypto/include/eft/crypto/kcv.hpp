#pragma once
/// Key check values: the short value printed beside a key so people and systems can confirm they
/// hold the same key without showing it.

#include <cstddef>
#include <cstdint>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"
#include "eft/crypto/primitives.hpp"

namespace eft::crypto {

/// How the check value is computed.
enum class kcv_method : std::uint8_t {
  /// DES/TDES: E(K, 8 zero bytes) (ANSI X9.24-1:2017 Annex A); AES: CMAC(K, 16 zero bytes)
  /// (X9.24-1:2017 A.3, the method PCI PIN requires for AES keys).
  standard,
  /// AES: AES-ECB(K, 16 zero bytes), the method of older HSMs and key ceremonies; for DES and TDES it
  /// is the same value as `standard`.
  legacy_ecb,
};

/// Default check value length in bytes: 3 for DES/TDES (6 hex digits), 5 for AES (10 hex digits).
constexpr std::size_t default_kcv_length(cipher c) noexcept {
  return c == cipher::aes ? 5 : 3;
}

/// The key check value of `key`: the first `length` bytes (default_kcv_length when 0; at most the
/// cipher block size) of the method's output. Errors: bad_key_length, bad_input (length over the
/// block size), backend.
outcome<bytes> key_check_value(cipher c, byte_view key, kcv_method m = kcv_method::standard, std::size_t length = 0);

/// Compares `expected` (1 to block-size bytes, as typed from a key ceremony form) with the check value
/// of `key` in constant time. A mismatch is a result (false), not an error. Errors: as
/// key_check_value, bad_input when `expected` is empty.
outcome<bool> check_key_check_value(cipher c, byte_view key, byte_view expected, kcv_method m = kcv_method::standard);

}  // namespace eft::crypto
