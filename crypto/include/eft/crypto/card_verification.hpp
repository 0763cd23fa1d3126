#pragma once
/// Card and PIN verification values computed by the issuer: the Visa CVV method (CVV, CVV2, iCVV),
/// the Visa PIN verification value (PVV) and the IBM 3624 PIN offset method. Every value is derived
/// from clear keys given by the caller; the HSM backends call these after unwrapping the key.
///
/// Inputs are ASCII decimal text as printed on cards and tracks (PAN, expiry, service code, PIN);
/// keys are raw bytes. Generation returns the value; verification returns true or false (a value
/// that does not match is a result, not an error). Errors are for input that cannot be used, and
/// their details never quote a key, PIN, PAN or verification value.

#include <cstddef>
#include <string>
#include <string_view>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"

namespace eft::crypto {

// ---------------------------------------------------------------------------------------------
// Visa CVV method (Visa Payment Technology Standards Manual, "Card Verification Value"; the same
// algorithm serves Mastercard CVC1/CVC2).
// ---------------------------------------------------------------------------------------------

/// Computes a 3-digit card verification value with the Visa CVV method.
///
/// `cvk` is the 16-byte card verification key pair: key A (bytes 0-7) then key B (bytes 8-15).
/// The PAN (12-19 digits), expiry (4 digits, normally YYMM as on track 2; the issuer decides) and
/// service code (3 digits) are concatenated and right-filled with zeros to 32 hex digits; the first
/// 8 bytes are DES-encrypted under key A, XORed with the second 8 bytes, and the result is
/// encrypted with TDES (A, B). The 16 hex digits are decimalised: decimal digits in order, then the
/// hex letters A-F less 10; the first three are the CVV.
///
/// The service code selects the value: the track's code for CVV1, "000" for CVV2 (the value printed
/// on the card), "999" for the iCVV written in the chip's track 2 equivalent data.
///
/// Errors: bad_key_length (not 16 bytes), bad_pan, bad_input (expiry or service code not digits of
/// the right length).
outcome<std::string> generate_cvv(byte_view cvk, std::string_view pan, std::string_view expiry,
                                  std::string_view service_code);

/// CVV2: generate_cvv with service code "000".
outcome<std::string> generate_cvv2(byte_view cvk, std::string_view pan, std::string_view expiry);

/// iCVV: generate_cvv with service code "999".
outcome<std::string> generate_icvv(byte_view cvk, std::string_view pan, std::string_view expiry);

/// Checks a card verification value (3 digits) against the one computed from the inputs, in constant
/// time. A wrong value gives false; errors as for generate_cvv, and bad_input when `cvv` is not 3
/// digits.
outcome<bool> verify_cvv(byte_view cvk, std::string_view pan, std::string_view expiry, std::string_view service_code,
                         std::string_view cvv);

// ---------------------------------------------------------------------------------------------
// Visa PIN verification value (Visa PIN Verification Value method; PIN Verification Key Index).
// ---------------------------------------------------------------------------------------------

/// Computes the 4-digit Visa PVV of a PIN.
///
/// The transformed security parameter (TSP) is 16 digits: the 11 rightmost digits of the PAN
/// excluding its check digit, the PVK index (one digit), and the 4 leftmost digits of the PIN. It
/// is encrypted as 8 BCD bytes under the PVK (TDES, 16 or 24 bytes: the PVK pair A || B), and the
/// result is decimalised like the CVV (decimal digits first, then A-F less 10); the first four
/// digits are the PVV.
///
/// `pvki` is 0-9 (issuers use 1-6). The PIN is 4-12 digits; only its first four enter the TSP.
/// The PAN is 12-19 digits. Errors: bad_key_length, bad_pin, bad_pan, bad_input (PVKI).
outcome<std::string> generate_pvv(byte_view pvk, int pvki, std::string_view pin, std::string_view pan);

/// Checks a PVV (4 digits) against the one computed from the PIN, in constant time. A wrong PIN
/// gives false; errors as for generate_pvv, and bad_input when `pvv` is not 4 digits.
outcome<bool> verify_pvv(byte_view pvk, int pvki, std::string_view pin, std::string_view pan, std::string_view pvv);

// ---------------------------------------------------------------------------------------------
// IBM 3624 PIN method (IBM CCA Basic Services, appendix E "IBM 3624 PIN-Calculation Method" and
// "IBM 3624 PIN Offset Calculation Method"; z/OS ICSF "3624 PIN Verification Algorithm").
// ---------------------------------------------------------------------------------------------

/// Decimalises hex digits with a decimalisation table: each nibble of `data`, most significant
/// first, is replaced by the table's digit at that index (IBM CCA E.1 step 2). `table` is 16
/// decimal digits. Returns 2 * data.size() digits. Errors: bad_input (table).
///
/// Example (IBM CCA E.1): data E5C1BD67B66AE7C6 with table 8351296477461538 gives
/// 3913656466643416.
outcome<secure_bytes> ibm3624_decimalize(byte_view data, std::string_view table);

/// Builds 16 hex digits of IBM 3624 validation data from the PAN: `length` digits of the PAN from
/// position `start` (0 = leftmost), right-padded with `pad` (one hex digit) to 16 digits. With
/// start 0 and length 16 a 16-digit PAN is used whole. Errors: bad_pan (not 12-19 digits),
/// bad_input (range outside the PAN, length 0 or over 16, pad not a hex digit).
outcome<std::string> ibm3624_validation_data(std::string_view pan, std::size_t start, std::size_t length,
                                             char pad = 'F');

/// Builds 16 hex digits of IBM 3624 validation data from a pattern in which a run of 'N' marks where
/// account-number digits go (the HSM convention of "PIN validation data with N"): the run of k N's
/// receives the last k digits of the account number, i.e. of the PAN without its check digit. The
/// other pattern characters are hex digits; a pattern shorter than 16 characters is right-padded
/// with F. Example: pattern "1234NNNNN" and PAN 4000001234567899 (account number 400000123456789)
/// give "123456789FFFFFFF".
/// Errors: bad_pan, bad_input (pattern over 16 characters, characters other than hex digits and N,
/// N's not in one run, or more N's than account-number digits).
outcome<std::string> ibm3624_validation_data(std::string_view pattern, std::string_view pan);

/// The natural (intermediate) PIN: the validation data (16 hex digits) is encrypted under the PVK
/// (DES with 8 bytes, TDES with 16 or 24), decimalised with the table, and the leftmost
/// `pin_length` digits (4-12) are taken (IBM CCA E.1). Returned as ASCII digits in wiped memory.
/// Errors: bad_key_length, bad_input (table, validation data, PIN length).
outcome<secure_bytes> ibm3624_natural_pin(byte_view pvk, std::string_view decimalization,
                                          std::string_view validation_data, std::size_t pin_length);

/// The PIN offset of a customer-selected PIN (IBM CCA E.2): the natural PIN of the PIN's length is
/// subtracted from the PIN digit by digit modulo 10 without borrow, and the rightmost
/// `check_length` digits form the offset (0 means the PIN's length; otherwise 4 up to the PIN's
/// length). Errors: bad_key_length, bad_pin (not 4-12 digits), bad_input.
outcome<std::string> ibm3624_offset(byte_view pvk, std::string_view decimalization, std::string_view validation_data,
                                    std::string_view pin, std::size_t check_length = 0);

/// Verifies a PIN against its offset (z/OS ICSF 3624 PIN verification): the natural PIN of the
/// PIN's length plus the offset (aligned on the rightmost digit, modulo 10 without carry) gives the
/// PIN check number, whose rightmost `check_length` digits must equal the PIN's rightmost
/// `check_length` digits (0 means the offset's length; 4 up to the offset's length). The offset is
/// 4-12 digits and no longer than the PIN. A wrong PIN gives false. Errors: bad_key_length, bad_pin,
/// bad_input.
outcome<bool> verify_ibm3624_offset(byte_view pvk, std::string_view decimalization, std::string_view validation_data,
                                    std::string_view pin, std::string_view offset, std::size_t check_length = 0);

}  // namespace eft::crypto
