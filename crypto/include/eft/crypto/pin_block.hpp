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
/// ISO 9564-1 9.4.2): bad_pan otherwise. Format 1 does not use the PAN: always ok.
status check_pan(std::string_view pan, pin_block_format f);

/// Builds the clear PIN block of format 0, 1 or 3 (8 bytes; ISO 9564-1:2017 9.3.2, 9.3.3, 9.3.5).
/// Formats 1 and 3 need random fill (14 - PIN length nibbles): taken in order from the nibbles of
/// `fill` when given (enough of them, 7 bytes always suffice; format 3 keeps fill nibbles A-F as
/// they are and maps 0-9 to A + n mod 6), otherwise drawn from the RNG (format 3: uniform over A-F).
/// The PAN is ignored for format 1, `fill` for format 0. Errors: bad_pin, bad_pan, bad_format
/// (format 4), bad_input (fill too short).
outcome<secure_bytes> make_pin_block(pin_block_format f, std::string_view pin, std::string_view pan,
                                     byte_view fill = {});

/// Recovers the PIN from a clear format 0, 1 or 3 block (the PAN is ignored for format 1). Checks
/// the control nibble, PIN length, PIN digits and fill (format 0: F; format 3: A-F; format 1: any):
/// bad_pin_block otherwise; bad_data_length when the block is not 8 bytes; bad_pan.
outcome<clear_pin> read_pin_block(pin_block_format f, byte_view clear_block, std::string_view pan);

/// Format 4 (ISO 9564-1:2017 9.4): the AES-encrypted 16-byte block of PIN and PAN under `aes_key`:
/// E(K, E(K, plain PIN field) xor plain PAN field). The plain PIN field is 4, PIN length, PIN, fill A
/// to 8 bytes, then `fill`: 8 random bytes (drawn from the RNG when empty). The PAN field is M (PAN
/// length - 12, 0 below 12 digits), the whole PAN (left-padded to 12 digits when shorter), zeros.
/// Errors: bad_key_length, bad_pin, bad_pan, bad_input (fill not 8 bytes).
outcome<bytes> encrypt_pin_block_iso4(byte_view aes_key, std::string_view pin, std::string_view pan,
                                      byte_view fill = {});
/// Decrypts a format 4 block and returns the PIN, checking the control nibble, PIN length, digits and
/// the A fill of the plain PIN field (the PAN field is removed by the xor, so a wrong PAN shows as a
/// bad_pin_block). Errors: bad_key_length, bad_data_length (not 16 bytes), bad_pan, bad_pin_block.
outcome<clear_pin> decrypt_pin_block_iso4(byte_view aes_key, byte_view block, std::string_view pan);

/// Encrypts a clear PIN into a block of the given format under `key` (TDES ECB for 0/1/3, format 4
/// with AES). Errors: as make_pin_block / encrypt_pin_block_iso4, bad_format when the cipher does
/// not suit the format, bad_key_length.
outcome<bytes> encrypt_pin(pin_block_format f, cipher c, byte_view key, std::string_view pin, std::string_view pan,
                           byte_view fill = {});
/// Decrypts a PIN block of the given format under `key` and returns the PIN (the clear block is
/// wiped). Errors: as read_pin_block / decrypt_pin_block_iso4, bad_format, bad_key_length.
outcome<clear_pin> decrypt_pin(pin_block_format f, cipher c, byte_view key, byte_view block, std::string_view pan);

/// One side of a PIN translation: the block's format, the key's cipher and the key.
struct pin_key_spec {
  pin_block_format format;
  cipher algorithm;  ///< tdes for formats 0/1/3, aes for format 4
  byte_view key;
  /// Optional, for formats 0/1/3: the key's schedules set up beforehand (a stored key's), used
  /// instead of setting up `key` again; they must be `key`'s.
  const des_key_schedule* schedule = nullptr;
};

/// Translates an encrypted PIN block from one key and format to another without the PIN leaving
/// this function (it is wiped before return). PCI PIN rules: nothing goes into format 1 unless it
/// came in format 1 (format_not_allowed, checked before decrypting), and the PAN is the same on
/// both sides (one PAN argument; a format 1 block going to 0, 3 or 4 takes its PAN from here).
/// `fill` is the random fill of the outgoing block, as for encrypt_pin.
outcome<bytes> translate_pin_block(const pin_key_spec& from, byte_view block, const pin_key_spec& to,
                                   std::string_view pan, byte_view fill = {});

}  // namespace eft::crypto
