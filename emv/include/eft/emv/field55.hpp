#pragma once
/// Field 55 (ICC data) checks: the data objects a scheme profile requires in an authorisation
/// request, every known value well formed (tag dictionary), and the card data in 5A and 57 against
/// fields 2 and 35 of the message. Errors name the tag; PANs in errors are masked.

#include <optional>
#include <span>
#include <string_view>

#include "eft/emv/error.hpp"
#include "eft/emv/tlv.hpp"

namespace eft::iso8583 {
class message;
}

namespace eft::emv {

/// The data objects a scheme requires in the field 55 of an authorisation or financial request.
struct field55_profile {
  std::string_view name;            ///< "visa", "mastercard", "emv"
  std::span<const tag_t> required;  ///< each must be present exactly once
};

/// EMVCo: the Book 2 8.1.1 minimum cryptogram data (9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 82 9F36), the
/// cryptogram, its CID and the IAD.
const field55_profile& emv_request_profile() noexcept;
/// Visa VSDC / qVSDC requests: the EMVCo set (9F27 is optional for Visa).
const field55_profile& visa_request_profile() noexcept;
/// Mastercard M/Chip requests: the EMVCo set with 9F33 (terminal capabilities) and 9F34 (CVM results).
const field55_profile& mastercard_request_profile() noexcept;
/// A built-in profile by name ("emv", "visa", "mastercard"); nullptr for another name.
const field55_profile* find_profile(std::string_view name) noexcept;

/// Checks a parsed request field 55: each required tag present once (missing_tag, repeated_tag),
/// and every object the dictionary knows well formed (bad_value; dictionary length and format).
/// Unknown tags are allowed. The first problem is returned.
status check_request(const tlv_tree& field55, const field55_profile& profile);

/// Checks a parsed response field 55: at most one 91 (issuer authentication data, 8-16 bytes),
/// issuer script templates 71/72 constructed, nothing malformed the dictionary knows.
status check_response(const tlv_tree& field55);

/// Compares the card data of field 55 with the message: the PAN in 5A with field 2 and with the PAN
/// of 57; the PAN, expiry date and service code of the track 2 equivalent data (57) with those of
/// field 35 (separator '=' or 'D', sentinels allowed). Absent tags or fields are not compared.
/// mismatch naming the tag (PANs masked), bad_value for a 5A or 57 that does not decode.
status check_card_data(const tlv_tree& field55, std::optional<std::string_view> field2,
                       std::optional<std::string_view> field35);
/// As above with fields 2 and 35 of a message.
status check_card_data(const tlv_tree& field55, const iso8583::message& msg);

/// The PAN in a 5A value (compressed numeric, trailing F padding); bad_value when it does not decode.
result<std::string> pan_of_5a(byte_view value);

}  // namespace eft::emv
