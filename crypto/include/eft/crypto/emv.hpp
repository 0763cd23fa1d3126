#pragma once
/// EMV issuer cryptography for application cryptograms: ICC master key derivation (EMV Book 2
/// annex A1.4, options A and B), session keys (EMV common session key, Book 2 A1.3; Mastercard
/// proprietary SKD), ARQC generation and verification per cryptogram version number (Visa CVN 10,
/// 18, 22; Mastercard CVN 16, 17, 20, 21) and the ARPC (Book 2 8.2, methods 1 and 2).
///
/// All keys are double-length TDES keys (16 bytes). Derived keys are returned in wiped memory with
/// DES odd parity set. The cryptogram input (`data`) is the complete, unpadded concatenation the
/// card MACs — for Visa CVN 10 the terminal data, AIP, ATC and CVR; for CVN 18 and 22 the same
/// terminal data followed by the whole issuer application data (9F10); for Mastercard the terminal
/// data, AIP, ATC and the CVR (CVN 17 and 21 add the counters) — assembled by the caller (the emv
/// library); this file only pads and MACs it.

#include <cstdint>
#include <string_view>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"

namespace eft::crypto {

/// ICC master key derivation options of EMV Book 2 A1.4.
enum class icc_key_option : std::uint8_t {
  a,  ///< A1.4.1: TDES of the rightmost 16 digits of PAN || PSN and of its complement
  b,  ///< A1.4.2: for PANs over 16 digits, SHA-1 of PAN || PSN decimalised to 16 digits, then as A;
      ///< for PANs of 16 digits or fewer it is option A
};

/// How an application cryptogram or ARPC key is obtained from the ICC master key.
enum class emv_session_key : std::uint8_t {
  none,        ///< the ICC master key itself (Visa CVN 10; Mastercard CVN 16/17 ARPC)
  common,      ///< EMV common session key, R = ATC || 00 00 00 00 00 00 (Book 2 A1.3.1)
  mastercard,  ///< Mastercard proprietary SKD, R = ATC || 00 00 || UN (M/Chip 4)
};

/// ISO/IEC 9797-1 padding of the cryptogram input.
enum class emv_padding : std::uint8_t {
  method1,  ///< zeros up to a multiple of 8 (none when already a multiple): Visa CVN 10
  method2,  ///< 0x80 then zeros up to a multiple of 8 (always added): EMV Book 2 A1.2
};

/// What a cryptogram version number defines for the ARQC and the ARPC (the scheme specifications,
/// as implemented by EMV issuer hosts; the Book 2 terms are used).
struct cvn_profile {
  int cvn = 0;
  icc_key_option master_key = icc_key_option::a;
  emv_session_key ac_key = emv_session_key::none;    ///< key of the ARQC
  emv_padding padding = emv_padding::method2;        ///< padding of the ARQC input
  int arpc_method = 1;                               ///< 1 (ARQC xor ARC) or 2 (CSU, 4-byte MAC)
  emv_session_key arpc_key = emv_session_key::none;  ///< key of the ARPC
};

/// The profile of a CVN: 10 (Visa: option A, ICC master key, padding 1, ARPC method 1 with the
/// ICC master key), 18 and 22 (Visa: option B, common session key, padding 2, ARPC method 2 with the
/// session key), 16 and 17 (Mastercard: option A, Mastercard SKD, padding 2, ARPC method 1 with the
/// ICC master key), 20 and 21 (Mastercard: option A, common session key, padding 2, ARPC method 1
/// with the session key). Errors: bad_format for any other CVN.
outcome<cvn_profile> emv_cvn_profile(int cvn);

/// Derives the ICC master key from the issuer master key (EMV Book 2 A1.4). `pan` is 1-19 digits,
/// `psn` the PAN sequence number as 2 digits ("" is taken as "00"). Option A encrypts Y, the
/// rightmost 16 digits of PAN || PSN (left-filled with zeros), as 8 BCD bytes: left half E(Y),
/// right half E(Y xor FF..FF). Option B applies to PANs over 16 digits: the SHA-1 of PAN || PSN
/// (left-filled with one zero to whole bytes) is decimalised (decimal nibbles first, then A-F
/// less 10) to 16 digits, which are used as Y. Errors: bad_key_length (IMK not 16 bytes), bad_pan,
/// bad_input (PSN).
outcome<secure_bytes> derive_icc_master_key(byte_view imk, std::string_view pan, std::string_view psn,
                                            icc_key_option option);

/// The EMV session key derivation of Book 2 A1.3.1 from an 8-byte diversification value R: left
/// half = TDES(MK)[R0 R1 F0 R3..R7], right half = TDES(MK)[R0 R1 0F R3..R7]. Errors:
/// bad_key_length (not 16 bytes), bad_data_length (R not 8 bytes).
outcome<secure_bytes> derive_emv_session_key(byte_view icc_master_key, byte_view r);

/// EMV common session key for application cryptograms: derive_emv_session_key with R = ATC (2 bytes) ||
/// six zero bytes. Errors as derive_emv_session_key; bad_data_length for an ATC not 2 bytes.
outcome<secure_bytes> derive_emv_common_session_key(byte_view icc_master_key, byte_view atc);

/// Mastercard proprietary session key derivation (M/Chip): derive_emv_session_key with R = ATC (2 bytes)
/// || 00 00 || UN (4 bytes), i.e. TDES(MK)[ATC || F0 || 00 || UN] and TDES(MK)[ATC || 0F || 00 ||
/// UN]. Errors as derive_emv_session_key; bad_data_length for an ATC not 2 bytes or a UN not 4 bytes.
outcome<secure_bytes> derive_mastercard_session_key(byte_view icc_master_key, byte_view atc, byte_view un);

/// An application cryptogram (Book 2 A1.2): the data padded per `padding` and MACed with ISO/IEC
/// 9797-1 MAC algorithm 3 (single-DES CBC under the key's left half, the last block decrypted under
/// the right half and encrypted under the left half); 8 bytes. Errors: bad_key_length (not 16
/// bytes), bad_data_length (empty data).
outcome<bytes> emv_application_cryptogram(byte_view key, byte_view data, emv_padding padding);

/// ARPC method 1 (Book 2 8.2.1): TDES encryption under `key` of ARQC xor (ARC || six zero bytes);
/// 8 bytes. Errors: bad_key_length, bad_data_length (ARQC not 8 bytes, ARC not 2 bytes).
outcome<bytes> emv_arpc_method1(byte_view key, byte_view arqc, byte_view arc);

/// ARPC method 2 (Book 2 8.2.2): MAC algorithm 3 with padding method 2 under `key` over ARQC || CSU
/// || proprietary authentication data; the leftmost 4 bytes. Errors: bad_key_length,
/// bad_data_length (ARQC not 8 bytes, CSU not 4 bytes, proprietary data over 8 bytes).
outcome<bytes> emv_arpc_method2(byte_view key, byte_view arqc, byte_view csu, byte_view proprietary_auth_data = {});

/// Generates the ARQC the card computes for a transaction: the ICC master key is derived from the
/// issuer master key `imk` (16 bytes) per the CVN, then the session key from the ATC (2 bytes) and,
/// for Mastercard CVN 16 and 17, the unpredictable number `un` (4 bytes; ignored by other CVNs),
/// and the data (the complete cryptogram input before padding, 1-1024 bytes) is padded and MACed.
/// Returns 8 bytes. Errors: bad_format (CVN), bad_key_length, bad_pan, bad_input (PSN, missing
/// UN), bad_data_length.
outcome<bytes> generate_arqc(int cvn, byte_view imk, std::string_view pan, std::string_view psn, byte_view atc,
                             byte_view data, byte_view un = {});

/// Verifies an ARQC (8 bytes) by recomputing it as generate_arqc does and comparing in constant
/// time. A cryptogram that does not match gives false. Errors as generate_arqc, and bad_data_length
/// for an ARQC not 8 bytes.
outcome<bool> verify_arqc(int cvn, byte_view imk, std::string_view pan, std::string_view psn, byte_view atc,
                          byte_view data, byte_view arqc, byte_view un = {});

/// The ARPC by method 1 for a CVN that uses it (10, 16, 17, 20, 21) with the scheme's key: the ICC
/// master key for CVN 10, 16 and 17, the common session key of the ATC for CVN 20 and 21. `arc` is
/// the 2-byte authorisation response code; `un` is accepted for symmetry with generate_arqc and not
/// used by these CVNs. Returns 8 bytes. Errors as generate_arqc; bad_format for CVN 18 and 22
/// (method 2); bad_data_length for ARQC or ARC lengths.
outcome<bytes> generate_arpc_method1(int cvn, byte_view imk, std::string_view pan, std::string_view psn, byte_view atc,
                                     byte_view arqc, byte_view arc, byte_view un = {});

/// The ARPC by method 2 for a CVN that uses it (18, 22) under the common session key of the ATC:
/// `csu` is the 4-byte card status update, `proprietary_auth_data` 0-8 bytes. Returns 4 bytes.
/// Errors as generate_arqc; bad_format for the other CVNs (method 1); bad_data_length for lengths.
outcome<bytes> generate_arpc_method2(int cvn, byte_view imk, std::string_view pan, std::string_view psn, byte_view atc,
                                     byte_view arqc, byte_view csu, byte_view proprietary_auth_data = {});

}  // namespace eft::crypto
