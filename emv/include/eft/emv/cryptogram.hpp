#pragma once
/// The issuer side of the chip authorisation flow: assemble the ARQC input from a request field 55,
/// verify the ARQC through the HSM (eft::crypto::hsm::verify_arqc, key by name) and build the response
/// field 55 (91 issuer authentication data, 71/72 issuer scripts passed through).
///
/// Cryptogram input (EMV Book 2 8.1.1 and the scheme specifications): the terminal data 9F02 9F03
/// 9F1A 95 5F2A 9A 9C 9F37, then 82 and 9F36, then per version
///   Visa CVN 10            the 4-byte CVR of the IAD (bytes 4-7, with its length byte)
///   Visa CVN 18 and 22     the whole IAD (9F10)
///   Mastercard CVN 16, 20  the 6-byte CVR of the IAD (bytes 3-8)
///   Mastercard CVN 17, 21  the CVR and the 8 counter bytes of the IAD (bytes 11-18)
///   EMV CSK (CCD, CVN A5)  the whole IAD (Book 3 annex C7, Book 2 A1.3)
/// A missing 9F03 is taken as zero (the card reads zeros through its CDOL1 then).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "eft/crypto/hsm.hpp"
#include "eft/emv/decode.hpp"
#include "eft/emv/error.hpp"
#include "eft/emv/tlv.hpp"

namespace eft::emv {

/// The cryptogram versions this library assembles the ARQC input of.
enum class cryptogram_version : std::uint8_t {
  visa_10,        ///< IAD byte 3 = 0x0A
  visa_18,        ///< IAD byte 3 = 0x12
  visa_22,        ///< IAD format 2, byte 2 = 0x22
  mastercard_16,  ///< IAD byte 2 = 0x10: Mastercard SKD, CVR
  mastercard_17,  ///< IAD byte 2 = 0x11: Mastercard SKD, CVR and counters
  mastercard_20,  ///< IAD byte 2 = 0x14: EMV common session key, CVR
  mastercard_21,  ///< IAD byte 2 = 0x15: EMV common session key, CVR and counters
  emv_csk,        ///< EMV Common Core Definitions, CCI 0xA5: EMV common session key over the whole IAD
};

/// "Visa CVN 10", ..., "EMV CSK (CCD CVN 5)".
std::string_view version_name(cryptogram_version v) noexcept;
/// The CVN the crypto layer and the Hsm interface compute with: 10, 18, 22, 16, 17, 20, 21; 18 for
/// emv_csk, whose algorithm is the same (Book 2 A1.4 master key, option B above 16 PAN digits; A1.3
/// common session key; padding method 2; ARPC method 2 under the session key, Book 2 8.2.2).
int hsm_cvn(cryptogram_version v) noexcept;
/// The ARPC method of the version: 1 (ARQC xor ARC, 8 bytes) or 2 (CSU, 4 bytes).
int arpc_method(cryptogram_version v) noexcept;
/// The scheme of the version.
card_scheme scheme_of(cryptogram_version v) noexcept;

/// The version of a request field 55: its IAD (9F10) split per the scheme of its AID (9F06, 84 or
/// 4F; recognised by the IAD's shape when there is no AID). missing_tag without 9F10, unsupported for
/// another cryptogram version.
result<cryptogram_version> detect_version(const tlv_tree& field55);

/// What the ARQC check needs, taken from field 55.
struct arqc_input {
  cryptogram_version version = cryptogram_version::visa_10;
  bytes data;  ///< the complete cryptogram input before padding
  bytes atc;   ///< 9F36, 2 bytes
  bytes un;    ///< 9F37, 4 bytes
  bytes arqc;  ///< 9F26, 8 bytes
};

/// Assembles the cryptogram input for `version` (see the table above). missing_tag or bad_value
/// naming the tag when a data object is absent or of the wrong length, unsupported when the IAD
/// layout does not carry what the version needs.
result<arqc_input> assemble_arqc_input(const tlv_tree& field55, cryptogram_version version);
/// As above with detect_version.
result<arqc_input> assemble_arqc_input(const tlv_tree& field55);

/// The host's decision, for the response field 55.
struct issuer_response {
  bytes arc;                    ///< ARPC method 1: 2 bytes; Visa uses the response code characters
                                ///< ("00" = 30 30), Mastercard its binary ARPC response code
  bytes csu;                    ///< ARPC method 2: card status update, 4 bytes (see visa_csu)
  bytes proprietary_auth_data;  ///< ARPC method 2: 0-8 bytes
  byte_view issuer_scripts;     ///< 71 and 72 templates as the host sent them, appended unchanged
};

/// A Visa card status update (VIS 1.5 appendix A, CSU): byte 2 bit 8 set when the issuer approves;
/// counters, PIN try counter and blocking left unchanged. 4 bytes.
bytes visa_csu(bool approved);

/// The PAN sequence number for the key derivation: 5F34 (n 2) when present, else the last two
/// digits of field 23 (card sequence number, n 3) when given, else "00".
std::string psn_of(const tlv_tree& field55, std::optional<std::string_view> field23 = {});

/// Builds a response field 55: 91 = ARPC || ARC (method 1, 8 + 2 bytes) or ARPC || CSU ||
/// proprietary authentication data (method 2, 4 + 4 + 0-8 bytes; Book 2 8.2), then the issuer
/// scripts. Without an ARPC only the scripts are written. bad_value for wrong lengths or scripts that
/// are not 71/72 templates.
result<bytes> build_response_field55(byte_view arpc, int method, const issuer_response& response);

/// The outcome of an ARQC check.
struct arqc_verification {
  bool valid = false;
  cryptogram_version version = cryptogram_version::visa_10;
  bytes arpc;              ///< empty when the ARQC did not verify
  bytes response_field55;  ///< 91 (when valid) and the scripts
};

/// Verifies the ARQC of a request field 55 through the HSM with the issuer master key named `imk_key`
/// (TR-31 usage E0) and builds the response field 55. `pan` is field 2 (the PAN the card keys derive
/// from), `psn` two digits (see psn_of). The version is detected unless given. A cryptogram that does
/// not verify is a result (valid false; the response then has no 91), not an error. Errors: the TLV
/// and assembly errors, crypto (HSM refusal, unknown key, wrong usage; the detail says which).
result<arqc_verification> verify_and_respond(crypto::hsm& hsm, std::string_view imk_key, byte_view request_field55,
                                             std::string_view pan, std::string_view psn,
                                             const issuer_response& response,
                                             std::optional<cryptogram_version> version = std::nullopt);

}  // namespace eft::emv
