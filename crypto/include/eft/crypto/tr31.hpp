#pragma once
/// TR-31 (ANSI X9.143) key blocks, versions A, B and D: parse, verify, unwrap, wrap, with the header
/// fields that bind a key to its use.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"

namespace eft::crypto {

/// The TR-31 header (the first 16 characters and the optional blocks).
struct tr31_header {
  char version = 'D';              ///< 'A' (variant, TDES), 'B' (TDES derivation), 'D' (AES derivation)
  std::string usage = "P0";        ///< key usage: B0 BDK, P0 PIN, M0-M8 MAC, K0 KEK, C0 CVK, V1/V2 PVK, E0 EMV, D0 data
  char algorithm = 'T';            ///< 'T' TDES, 'A' AES, 'D' DES, 'H' HMAC
  char mode_of_use = 'B';          ///< 'B' both, 'E' encrypt, 'D' decrypt, 'G' generate, 'C' both MAC, 'V' verify, 'N' none, 'X' derive
  std::string key_version = "00";  ///< two characters
  char exportability = 'N';        ///< 'E' exportable, 'N' not, 'S' sensitive
  std::vector<std::pair<std::string, std::string>> optional_blocks;  ///< (id, data) in order

  /// "D0112P0AB00N0000"-style text of the fixed part (length field filled at wrap).
  std::string to_string() const;
};

/// An unwrapped key: its header and the clear key (wiped on destruction).
struct tr31_key {
  tr31_header header;
  secure_bytes key;
};

/// Parses and unwraps a key block under the key block protection key: checks the header fields,
/// lengths and the MAC (key_block_mac), then decrypts. Errors: bad_key_block, key_block_mac,
/// bad_key_length (KBPK).
outcome<tr31_key> tr31_unwrap(byte_view kbpk, std::string_view block);

/// Wraps a key under the KBPK with the header given (version from the header). `fill` seeds the
/// random padding (drawn from the RNG when empty; tests give it to reproduce published blocks).
outcome<std::string> tr31_wrap(byte_view kbpk, const tr31_header& header, byte_view key, byte_view fill = {});

/// Parses only the header of a key block (no key needed).
outcome<tr31_header> tr31_parse_header(std::string_view block);

}  // namespace eft::crypto
