#pragma once
/// Message authentication codes of card payments: ISO/IEC 9797-1 MAC algorithms 1 (CBC-MAC) and 3
/// (retail MAC, ANSI X9.19) with padding methods 1 and 2, CMAC (NIST SP 800-38B) with TDES or AES,
/// and HMAC-SHA256. Generation truncates to the MAC length; verification compares in constant time.
///
/// Names differ from hsm.hpp on purpose (mac_scheme / mac_options vs the HSM's mac_algorithm /
/// mac_spec, which name keys): the enumerators of mac_scheme are in the same order as mac_algorithm.

#include <cstddef>
#include <cstdint>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"
#include "eft/crypto/primitives.hpp"

namespace eft::crypto {

/// ISO/IEC 9797-1:2011 padding methods.
enum class mac_padding : std::uint8_t {
  /// Padding method 1: zero bits to a whole number of blocks; empty data becomes one zero block.
  method1 = 1,
  /// Padding method 2: one 1 bit (0x80), then zero bits to a whole number of blocks; always adds.
  method2 = 2,
};

/// The data padded to whole `block` bytes with the given method.
bytes pad_iso9797_1(byte_view data, std::size_t block, mac_padding p);

/// ISO/IEC 9797-1 MAC algorithm 1: CBC-MAC with zero IV over the padded data, the last block in full
/// (block size). Cipher: des (8-byte key), tdes (16/24) or aes. Errors: bad_key_length, backend.
outcome<bytes> mac_iso9797_1_alg1(cipher c, byte_view key, byte_view data, mac_padding p);

/// ISO/IEC 9797-1 MAC algorithm 3 (retail MAC, ANSI X9.19) with DES: a 16-byte key K || K'; single-DES
/// CBC with K over the padded data, then the last block H becomes E(K, D(K', H)). 8 bytes. Errors:
/// bad_key_length (not 16 bytes), backend.
outcome<bytes> mac_iso9797_1_alg3(byte_view key, byte_view data, mac_padding p);

/// MAC schemes (same order as hsm.hpp's mac_algorithm).
enum class mac_scheme : std::uint8_t {
  iso9797_1_alg1,  ///< CBC-MAC, ISO/IEC 9797-1 algorithm 1 (DES, TDES or AES)
  iso9797_1_alg3,  ///< retail MAC, ISO/IEC 9797-1 algorithm 3 (DES, 16-byte key)
  cmac,            ///< CMAC, NIST SP 800-38B (DES, TDES or AES)
  hmac_sha256,     ///< HMAC-SHA256, RFC 2104 / FIPS 198-1 (any key length)
};

/// How to compute a MAC.
struct mac_options {
  mac_scheme scheme = mac_scheme::iso9797_1_alg3;
  cipher block_cipher = cipher::tdes;          ///< algorithm 1 and CMAC; algorithm 3 takes des or tdes (both mean DES)
  mac_padding padding = mac_padding::method1;  ///< algorithms 1 and 3; CMAC and HMAC pad themselves
  std::size_t length = 0;                      ///< MAC length in bytes; 0 = default_mac_length
  /// Optional: the key's schedules set up beforehand (a stored key's), used instead of the key by
  /// algorithm 3 (a 2-key TDES schedule) and by algorithm 1 with DES or TDES (a schedule of that
  /// cipher). It must be the key's own; one that does not suit the scheme is not used.
  const des_key_schedule* schedule = nullptr;
};

/// The untruncated MAC length in bytes: the cipher block size (8 for algorithm 3), 32 for HMAC.
std::size_t full_mac_length(const mac_options& o) noexcept;
/// The default MAC length: 8 bytes for DES/TDES-based schemes, the full length for the others.
std::size_t default_mac_length(const mac_options& o) noexcept;

/// Generates a MAC over `data`, truncated (leftmost bytes) to the MAC length. The length must be
/// 4 to full_mac_length bytes (bad_input). Errors: bad_key_length, bad_format (a cipher the scheme
/// does not take), bad_input, backend.
outcome<bytes> compute_mac(const mac_options& o, byte_view key, byte_view data);

/// Verifies a received MAC in constant time. Its length is the MAC length when o.length is 0;
/// otherwise it must equal o.length (bad_data_length). A MAC that does not match is a result
/// (false), not an error. Errors: as compute_mac.
outcome<bool> check_mac(const mac_options& o, byte_view key, byte_view data, byte_view mac);

}  // namespace eft::crypto
