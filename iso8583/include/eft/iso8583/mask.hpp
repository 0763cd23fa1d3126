#pragma once
/// The one masking helper of the project. Every log line, error text, JSON dump and journal column
/// that could carry card data goes through these functions.

#include <string>
#include <string_view>

namespace eft::iso8583 {

/// How a field's content must be hidden in logs (set by `sensitive:` in a dialect spec).
enum class sensitivity : unsigned char {
  none,    ///< shown as is
  pan,     ///< primary account number: first 6 and last 4 digits kept
  track,   ///< track data: replaced
  pin,     ///< PIN block: replaced
  secret,  ///< any other secret (CVV2, key material): replaced
  tags,    ///< BER-TLV data: reduced to its tag list
};

/// The text that stands in for hidden content.
inline constexpr std::string_view redacted = "[redacted]";

/// Masks a PAN for display: 13 digits or more keep the first 6 and last 4 (PCI DSS 3.4); shorter
/// values keep at most the last 4, values of 4 or fewer characters are fully hidden.
std::string mask_pan(std::string_view pan);

/// Masks a value of the given sensitivity (for `tags`, use the TLV tag list instead; this replaces it).
std::string mask_value(sensitivity s, std::string_view value);

}  // namespace eft::iso8583
