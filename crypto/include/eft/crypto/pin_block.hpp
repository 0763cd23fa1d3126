#pragma once
/// PIN blocks, ISO 9564-1: formats 0, 1 and 3 (8-byte blocks, TDES) and format 4 (16-byte blocks,
/// AES), and translation between formats and keys under the PCI PIN rules.

#include <cstdint>
#include <string_view>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"
#include "eft/crypto/primitives.hpp"

namespace eft::crypto {

/// ISO 9564-1 PIN block formats.
enum class pin_block_format : std::uint8_t { iso0 = 0, iso1 = 1, iso3 = 3, iso4 = 4 };

/// A clear PIN: 4 to 12 ASCII digits in wiped memory.
using clear_pin = secure_bytes;

/// Checks a PIN (4-12 decimal digits): bad_pin otherwise.
status check_pin(std::string_view pin);
/// Checks a PAN (decimal digits, 12-19 for formats 0/3; format 4 takes 1-19 with the rules of
/// ISO 9564-1 9.4.2): bad_pan otherwise.
status check_pan(std::string_view pan, pin_block_format f);

/// Builds the clear PIN block of format 0, 1 or 3 (8 bytes). Formats 1 and 3 need random fill:
/// taken from `fill` when given (at least 8 bytes; format 3 maps it into A-F nibbles, 9564-1 9.3.4),
/// otherwise drawn from the RNG. The PAN is ignored for format 1.
outcome<secure_bytes> make_pin_block(pin_block_format f, std::string_view pin, std::string_view pan,
                                     byte_view fill = {});

/// Recovers the PIN from a clear format 0, 1 or 3 block (the PAN is ignored for format 1). Checks
/// the control nibble, PIN length, PIN digits and fill: bad_pin_block otherwise.
outcome<clear_pin> read_pin_block(pin_block_format f, byte_view clear_block, std::string_view pan);

/// Format 4 (ISO 9564-1 9.4): the AES-encrypted 16-byte block of PIN and PAN under `aes_key`.
/// `fill` is the 8-byte random fill of the plain PIN field (drawn from the RNG when empty).
outcome<bytes> encrypt_pin_block_iso4(byte_view aes_key, std::string_view pin, std::string_view pan,
                                      byte_view fill = {});
/// Decrypts a format 4 block and returns the PIN, checking both fields.
outcome<clear_pin> decrypt_pin_block_iso4(byte_view aes_key, byte_view block, std::string_view pan);

/// Encrypts a clear PIN into a block of the given format under `key` (TDES for 0/1/3, AES for 4).
outcome<bytes> encrypt_pin(pin_block_format f, cipher c, byte_view key, std::string_view pin, std::string_view pan,
                           byte_view fill = {});
/// Decrypts a PIN block of the given format under `key` and returns the PIN.
outcome<clear_pin> decrypt_pin(pin_block_format f, cipher c, byte_view key, byte_view block, std::string_view pan);

/// One side of a PIN translation: the block's format, the key's cipher and the key.
struct pin_key_spec {
  pin_block_format format;
  cipher algorithm;  ///< tdes for formats 0/1/3, aes for format 4
  byte_view key;
};

/// Translates an encrypted PIN block from one key and format to another without the PIN leaving
/// this function (it is wiped before return). PCI PIN rules: nothing goes into format 1 unless it
/// came in format 1 (format_not_allowed), and the PAN is the same on both sides (one PAN argument).
outcome<bytes> translate_pin_block(const pin_key_spec& from, byte_view block, const pin_key_spec& to,
                                   std::string_view pan, byte_view fill = {});

}  // namespace eft::crypto
