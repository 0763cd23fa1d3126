#pragma once
/// The card side, for the terminal and host simulators: from a card profile and the terminal's
/// transaction data, the request field 55 a chip card and terminal produce (with a valid ARQC), and the
/// card's check of the issuer's ARPC (EMV Book 3 10.9, issuer authentication).
///
/// The card computes with the clear issuer master key (or a key found by name through a
/// `key_source` the simulator supplies): this is test tooling, never used on the switch's own path.
/// The Hsm interface has no card-side operation.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"
#include "eft/emv/cryptogram.hpp"
#include "eft/emv/error.hpp"
#include "eft/emv/tlv.hpp"

namespace eft::emv {

/// A simulated chip card.
struct card_profile {
  std::string pan;         ///< 12-19 digits
  std::string psn = "00";  ///< PAN sequence number, 2 digits (5F34)
  cryptogram_version version = cryptogram_version::visa_18;
  crypto::secure_bytes imk;        ///< clear issuer master key for ACs (16 bytes); or empty and imk_name
  std::string imk_name;            ///< a key the `key_source` resolves
  std::uint16_t atc = 1;           ///< application transaction counter of this transaction (9F36)
  bytes aid;                       ///< 84; empty: A0000000031010 (Visa), A0000000041010 (Mastercard), none (CCD)
  bytes aip = {0x18, 0x00};        ///< 82: cardholder verification supported, terminal risk management
  std::uint8_t dki = 0x01;         ///< derivation key index in the IAD
  bytes cvr;                       ///< CVR; empty: an ARQC requested in the first GENERATE AC
  bytes counters;                  ///< M/Chip and CCD IAD counters (8 bytes); empty: zeros
  bool include_card_data = false;  ///< add 5A, 5F24 and 57 (for consistency checks)
  std::string expiry = "301231";   ///< YYMMDD (5F24; 57 uses YYMM)
  std::string service_code = "201";
};

/// The terminal's data for the transaction (Book 2 8.1.1 minimum set and the usual companions).
struct terminal_data {
  std::uint64_t amount = 0;                               ///< 9F02, minor units, at most 12 digits
  std::uint64_t other_amount = 0;                         ///< 9F03
  std::uint16_t currency_code = 978;                      ///< 5F2A, ISO 4217 numeric
  std::uint16_t country_code = 978;                       ///< 9F1A, ISO 3166 numeric
  std::string date = "250101";                            ///< 9A, YYMMDD
  std::string transaction_type = "00";                    ///< 9C, 2 digits
  bytes unpredictable_number = {0x12, 0x34, 0x56, 0x78};  ///< 9F37, 4 bytes
  bytes tvr = {0x00, 0x00, 0x00, 0x00, 0x00};             ///< 95
  bytes terminal_capabilities = {0xE0, 0xF8, 0xC8};       ///< 9F33
  bytes cvm_results = {0x1F, 0x03, 0x02};                 ///< 9F34: no CVM required, successful
  std::uint8_t terminal_type = 0x22;                      ///< 9F35 (attended, offline with online capability)
};

/// Resolves a key name to clear key material (a simulator's key store).
using key_source = std::function<crypto::outcome<crypto::secure_bytes>(std::string_view name)>;

/// The IAD the card reports for its profile (Visa 0/1/3 or 2, M/Chip, CCD format A; Book 3 C7).
result<bytes> card_iad(const card_profile& card);

/// The request field 55: 9F26 (the ARQC), 9F27 (0x80), 9F10, 9F37, 9F36, 95, 9A, 9C, 9F02, 5F2A,
/// 82, 9F1A, 9F03, 9F33, 9F34, 9F35, 84, 5F34, and 5A 5F24 57 when asked. Errors: bad_value for
/// profile or terminal data out of range, crypto for key problems.
result<bytes> generate_request_field55(const card_profile& card, const terminal_data& terminal,
                                       const key_source& keys = {});

/// What the card found in the issuer's response.
struct issuer_authentication {
  bool valid = false;       ///< the ARPC in 91 is the one the card expects
  bytes arc;                ///< method 1: the ARC from 91
  bytes csu;                ///< method 2: the CSU from 91
  std::size_t scripts = 0;  ///< issuer script templates (71, 72) received
};

/// Checks the 91 of a response field 55 against the request field 55 the card produced (its ARQC,
/// ATC and UN). missing_tag without 91, bad_value when 91 is not of the method's layout.
result<issuer_authentication> check_issuer_response(const card_profile& card, byte_view request_field55,
                                                    byte_view response_field55, const key_source& keys = {});

}  // namespace eft::emv
