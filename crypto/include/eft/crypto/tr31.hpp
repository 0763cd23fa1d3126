#pragma once
/// TR-31 (ANSI X9.143) key blocks, versions A, B and D: parse, verify, unwrap, wrap, with the header
/// fields that bind a key to its use.
///
/// A key block is printable ASCII: the 16-character fixed header, optional blocks, then the hex of
/// the encrypted key field and of the MAC (ASC X9 TR 31-2018 5 and Annex A):
///  - version A (TR-31 5.3.1, key variant binding): TDES KBPK; KBEK = KBPK xor 0x45.., KBAK = KBPK
///    xor 0x4D..; key field TDES-CBC with the first 8 header characters as IV; MAC = the left 4
///    bytes of the TDES CBC-MAC (ISO 9797-1 algorithm 1) of the header and the encrypted field.
///  - version B (TR-31 5.3.2.1, key derivation binding, TDES): KBEK and KBAK derived from the KBPK
///    with the TDES-CMAC KDF; MAC = 8-byte CMAC of the header and the clear key field, then used as
///    the IV of TDES-CBC over the key field.
///  - version D (TR-31 5.3.2.3, key derivation binding, AES): the same with AES-CMAC and AES-CBC and
///    a 16-byte MAC.
/// The key field is the key length in bits (2 bytes, big-endian), the key, and random padding to a
/// whole number of cipher blocks (more padding may hide the key length).
///
/// Header rules enforced here, on unwrap and on wrap (errc::bad_key_block with a detail naming the
/// field; never key material):
///  - versions A, B, D only; A and B need a 16- or 24-byte TDES KBPK, D a 16-, 24- or 32-byte AES
///    KBPK (bad_key_length otherwise);
///  - A and B carry TDES keys only (algorithm 'T', 16 or 24 bytes, no longer than the KBPK); D
///    carries TDES keys, AES keys (16/24/32 bytes, no longer than the KBPK) and HMAC keys ('H',
///    16-64 bytes, usage M7 only); single DES ('D') keys are refused;
///  - the usage must be one of the table below, with one of the algorithms and modes of use listed:
///      B0 BDK, B1 initial DUKPT key  T A   X N      K0 KEK, K1 TR-31 KBPK   T A   E D B N
///      P0 PIN encryption             T A   E D B    D0 data encryption      T A   E D B N
///      M0-M4, M8 MAC (ISO 9797-1)    T     C G V    M5, M6 CMAC             T A   C G V
///      M7 HMAC                       H     C G V    C0 CVK                  T     C G V
///      V0 PIN verification (other)   T A   C G V    V1 IBM 3624, V2 PVV     T     C G V
///      E0-E6 EMV master keys         T A   X
///    ('N', "no special restrictions other than those the usage implies", is accepted only for the
///    usages a Thales payShield 10k writes it for in published blocks: B0, B1, K0, K1, D0; it then
///    allows every operation of the usage);
///  - exportability E, N or S; key version two alphanumeric characters; reserved "00"; the header
///    with its optional blocks a whole number of cipher blocks (8 for A and B, 16 for D); a "PB" pad
///    block only as the last optional block.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"

namespace eft::crypto {

/// The TR-31 header (the first 16 characters and the optional blocks).
struct tr31_header {
  char version = 'D';        ///< 'A' (variant, TDES), 'B' (TDES derivation), 'D' (AES derivation)
  std::string usage = "P0";  ///< key usage: B0 BDK, P0 PIN, M0-M8 MAC, K0 KEK, C0 CVK, V1/V2 PVK, E0 EMV, D0 data
  char algorithm = 'T';      ///< 'T' TDES, 'A' AES, 'D' DES, 'H' HMAC
  char mode_of_use =
      'B';  ///< 'B' both, 'E' encrypt, 'D' decrypt, 'G' generate, 'C' both MAC, 'V' verify, 'N' none, 'X' derive
  std::string key_version = "00";                                    ///< two characters
  char exportability = 'N';                                          ///< 'E' exportable, 'N' not, 'S' sensitive
  std::vector<std::pair<std::string, std::string>> optional_blocks;  ///< (id, data) in order, a "PB" pad block included

  /// The header text: the 16-character fixed part ("D0000P0AB00N0000"-style: the length field is
  /// "0000", filled at wrap, and the block count is optional_blocks.size()) followed by the optional
  /// blocks as held (two-hex-digit lengths, or "0002" and four hex digits past 255 characters). No
  /// pad block is added and nothing is checked: tr31_wrap does both.
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
/// The MAC is compared in constant time. For version A it is checked before anything is decrypted;
/// for B and D the MAC covers the clear key field (TR-31 5.3.2), so the field is decrypted into
/// wiped memory first and nothing of it is looked at or returned until the MAC has verified.
outcome<tr31_key> tr31_unwrap(byte_view kbpk, std::string_view block);

/// Wraps a key under the KBPK with the header given (version from the header). `fill` seeds the
/// random padding (drawn from the RNG when empty; tests give it to reproduce published blocks).
/// With `fill`, it is the whole padding: 2 + key length + fill length must be a whole number of
/// cipher blocks (8 bytes for A and B, 16 for D), or bad_input; a longer fill hides the key length.
/// Without it, the padding is the fewest random bytes that complete the last block. A "PB" pad
/// block of '0' characters is appended when the optional blocks do not end on a block boundary.
/// Errors: bad_key_block (header rules above, a block longer than 9999 characters), bad_key_length
/// (KBPK, or a key of the wrong length for the header's algorithm), bad_input (fill), backend.
outcome<std::string> tr31_wrap(byte_view kbpk, const tr31_header& header, byte_view key, byte_view fill = {});

/// Parses only the header of a key block (no key needed): the fixed part and the optional blocks,
/// with every field checked against the rules above (version, usage/algorithm/mode combination,
/// exportability, reserved "00", optional block ids, lengths and printable data). The length
/// digits must be 4 decimal digits but are not compared with the text's length (tr31_unwrap does
/// that); text after the optional blocks is ignored. Errors: bad_key_block.
outcome<tr31_header> tr31_parse_header(std::string_view block);

/// As above, and sets `consumed` to the number of characters the header and its optional blocks
/// took (for callers that hold a header alone, e.g. `eftctl crypto tr31 wrap --header`).
outcome<tr31_header> tr31_parse_header(std::string_view block, std::size_t& consumed);

/// Checks the header rules above (usage, algorithm and mode of use go together; version suits the
/// algorithm; field syntax; optional block ids and data) without a KBPK or key. Errors:
/// bad_key_block with a detail naming the field.
status tr31_check_header(const tr31_header& header);

/// What a key is asked to do; the HSM layer maps each operation to one of these.
enum class key_use : std::uint8_t {
  pin_encrypt,       ///< encrypt (or translate into) a PIN block: P0 with E or B
  pin_decrypt,       ///< decrypt (or translate out of) a PIN block: P0 with D or B
  mac_generate,      ///< make a MAC: M0-M8 with C or G
  mac_verify,        ///< check a MAC: M0-M8 with C or V
  data_encrypt,      ///< encrypt data: D0 with E, B or N
  data_decrypt,      ///< decrypt data: D0 with D, B or N
  derive,            ///< derive DUKPT keys: B0/B1 with X or N
  generate_cvv,      ///< compute a card verification value: C0 with C or G
  verify_cvv,        ///< check a card verification value: C0 with C or V
  generate_pin_ref,  ///< compute a PVV or IBM 3624 offset: V0/V1/V2 with C or G
  verify_pin,        ///< verify a PIN (PVV, IBM 3624): V0/V1/V2 with C or V
  wrap_key,          ///< encrypt (export) another key: K0/K1 with E, B or N
  unwrap_key,        ///< decrypt (import) another key: K0/K1 with D, B or N
  arqc,              ///< derive EMV card keys to verify an ARQC and make an ARPC: E0 with X
};

/// A short English name of the operation ("MAC generation", "PIN encryption").
std::string_view describe(key_use use) noexcept;

/// True when the header's key usage and mode of use allow the operation (TR-31:2018 A.5 key usage
/// and mode of use). Only the usage and mode are looked at: the algorithm is the caller's to check.
bool tr31_allows(const tr31_header& header, key_use use) noexcept;

/// As tr31_allows, as a status for the HSM layer: key_usage with a detail such as "a P0 key with
/// mode of use E cannot be used for MAC generation".
status tr31_require(const tr31_header& header, key_use use);

}  // namespace eft::crypto
