#pragma once
/// Decoding for people: the bit-mapped data objects of field 55 in words, and the issuer application
/// data (9F10) split by its layout. Tables follow EMV 4.4 Book 3 annex C (C1 AIP, C5 TVR, C6 TSI,
/// C7 common core CVR) and Book 4 annex A (A2 terminal capabilities, A4 CVM results), Book 3 table 14
/// (CID), the Visa VIS 1.5/1.6 and Mastercard M/Chip 4 IAD and CVR layouts as published by the
/// schemes' issuer guides. Lines read "byte 1 bit 8: Offline data authentication was not performed";
/// set bits a table marks reserved read "... RFU bit set".
///
/// These functions allocate and are meant for tools and logs, not for the per-message path.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eft/emv/error.hpp"
#include "eft/emv/tlv.hpp"

namespace eft::emv {

/// Payment schemes whose cryptogram and IAD layouts this library knows.
enum class card_scheme : std::uint8_t {
  unknown,
  visa,        ///< RID A000000003
  mastercard,  ///< RID A000000004
  ccd,         ///< EMV Common Core Definitions (Book 3 annex C7), any RID
};

/// "Visa", "Mastercard", "EMV CCD", "unknown".
std::string_view scheme_name(card_scheme s) noexcept;
/// The scheme of an application identifier by its registered provider id (the first 5 bytes).
card_scheme scheme_of_aid(byte_view aid) noexcept;
/// The scheme of a field 55: the AID in 9F06, 84 or 4F (the first present), else unknown.
card_scheme scheme_of(const tlv_tree& field55) noexcept;

/// Lines for people, one per set bit or field.
using decoded_lines = std::vector<std::string>;

/// Terminal verification results (95, 5 bytes; Book 3 C5, byte 5 bits 4-1 relay resistance as in
/// EMV 4.4).
result<decoded_lines> decode_tvr(byte_view tvr);
/// Transaction status information (9B, 2 bytes; Book 3 C6).
result<decoded_lines> decode_tsi(byte_view tsi);
/// Application interchange profile (82, 2 bytes; Book 3 C1; byte 2 bits from the contactless books).
result<decoded_lines> decode_aip(byte_view aip);
/// Terminal capabilities (9F33, 3 bytes; Book 4 A2).
result<decoded_lines> decode_terminal_capabilities(byte_view caps);

/// CVM results (9F34; Book 4 A4 with the CVM codes of Book 3 C3).
struct cvm_results {
  std::uint8_t method = 0;            ///< bits 6-1 of byte 1 (0x3F: no CVM performed)
  bool apply_next_if_failed = false;  ///< bit 7 of byte 1
  std::uint8_t condition = 0;         ///< byte 2
  std::uint8_t result = 0;            ///< byte 3: 0 unknown, 1 failed, 2 successful
  std::string_view method_name;
  std::string_view condition_name;
  std::string_view result_name;
};
/// Decodes 9F34 (3 bytes); bad_value otherwise.
result<cvm_results> decode_cvm_results(byte_view value);

/// The cryptogram types of the CID (Book 3 table 14).
enum class cryptogram_type : std::uint8_t { aac, tc, arqc, rfu };

/// Cryptogram information data (9F27, 1 byte; Book 3 table 14).
struct cryptogram_info {
  cryptogram_type type = cryptogram_type::aac;  ///< bits 8-7
  std::uint8_t payment_system_bits = 0;         ///< bits 6-5
  bool advice_required = false;                 ///< bit 4
  std::uint8_t reason = 0;                      ///< bits 3-1
  std::string_view type_name;                   ///< "AAC (transaction declined)", ...
  std::string_view reason_name;                 ///< "no information given", ...
};
/// Decodes one CID byte.
cryptogram_info decode_cid(std::uint8_t cid) noexcept;
/// Decodes 9F27 (1 byte); bad_value otherwise.
result<cryptogram_info> decode_cid(byte_view value);

/// The issuer application data (9F10) split by its layout.
struct iad_info {
  card_scheme scheme = card_scheme::unknown;
  std::string_view layout;          ///< "Visa format 0/1/3", "Visa format 2", "M/Chip", "EMV CCD format A"
  std::optional<std::uint8_t> dki;  ///< derivation key index (key derivation index for M/Chip)
  std::uint8_t cvn_byte = 0;        ///< the cryptogram version number as carried (0x0A, 0x12, 0x22, 0x10, 0xA5, ...)
  std::optional<int> cvn;           ///< the CVN as eft::crypto numbers it (10, 18, 22, 16, 17, 20, 21), when supported
  byte_view cvr;                    ///< card verification results (Visa 0/1/3: 4 bytes with its length byte)
  byte_view counters;               ///< M/Chip plaintext/encrypted counters (8), CCD counters (8)
  byte_view dac;                    ///< M/Chip DAC / ICC dynamic number (2)
  byte_view issuer_discretionary;   ///< Visa IDD (after its length byte), CCD issuer-discretionary data
  byte_view rest;                   ///< bytes after the known layout (M/Chip Advance additions, ...)
};
/// Splits an IAD. The layout is chosen by `scheme` (from the AID); for unknown it is recognised by its
/// shape: 0x06 .. (Visa 0/1/3), 0x1F with a '2x' CVN (Visa 2), 0x0F 0xA5 (CCD), 18+ bytes with CVN
/// 0x10/0x11/0x14/0x15 (M/Chip). unsupported when none fits, bad_value when too short.
result<iad_info> decode_iad(byte_view iad, card_scheme scheme = card_scheme::unknown);
/// The CVR of a split IAD in words: Visa (VIS 1.5 appendix A 4-byte CVR), M/Chip 4 (6-byte CVR) and
/// CCD (Book 3 C7.3); other layouts give their bytes in hex.
decoded_lines decode_cvr(const iad_info& iad);

/// The lines describing any value with a decoder: the tables above, the IAD split, dates (9A, 5F24,
/// 5F25), amounts, currency and country codes, text values, the CID. Sensitive tags (PAN, tracks,
/// PIN data) are never described. A value that does not decode gives one line saying why. Empty
/// for tags without a decoder.
decoded_lines describe(tag_t tag, byte_view value, card_scheme scheme = card_scheme::unknown);

}  // namespace eft::emv
