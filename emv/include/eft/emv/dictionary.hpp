#pragma once
/// The EMV tag dictionary as data: name, format, source and length limits of the data objects that
/// appear in field 55 of Visa, Mastercard and EMVCo contact and contactless authorisations and
/// responses, and of the card templates around them. Sources: EMV 4.4 Book 3 annex A1 (data
/// element dictionary) and annex B (templates); scheme tags from the EMV Contactless Books C-2 (Mastercard)
/// and C-3 (Visa) and the public tag tables of the schemes (9F53, 9F5B, 9F66, 9F6C, 9F6E, 9F7C).

#include <cstdint>
#include <span>
#include <string_view>

#include "eft/emv/error.hpp"
#include "eft/emv/tlv.hpp"

namespace eft::emv {

/// Data element formats of EMV Book 3 4.3 (as used in annex A1).
enum class tag_format : std::uint8_t {
  b,    ///< binary
  n,    ///< numeric: BCD digits, right-justified, leading zeros
  cn,   ///< compressed numeric: BCD digits, left-justified, trailing 'F' nibbles
  an,   ///< alphanumeric ASCII (spaces are accepted: terminals pad identifiers with them)
  ans,  ///< alphanumeric and special ASCII characters (0x20-0x7E)
};

/// Who puts the data object in the exchange.
enum class tag_source : std::uint8_t { card, terminal, issuer };

/// Card data that must not be shown or logged in clear.
enum class tag_sensitivity : std::uint8_t {
  none,
  pan,     ///< a PAN: shown masked (first 6, last 4)
  track,   ///< track data: never shown
  secret,  ///< PIN data and the like: never shown
};

/// One dictionary entry. Lengths are in bytes of the value field.
struct tag_info {
  tag_t tag = 0;
  std::string_view name;
  tag_format format = tag_format::b;
  tag_source source = tag_source::card;
  std::uint16_t min_length = 0;
  std::uint16_t max_length = 0;
  tag_sensitivity sensitivity = tag_sensitivity::none;
};

/// Every entry, sorted by tag number.
std::span<const tag_info> tag_dictionary() noexcept;
/// The entry of a tag; nullptr for a tag the dictionary does not know.
const tag_info* find_tag(tag_t tag) noexcept;
/// The name of a tag, or "" when unknown.
std::string_view tag_name(tag_t tag) noexcept;

/// "b", "n", "cn", "an", "ans".
std::string_view format_name(tag_format f) noexcept;
/// "card", "terminal", "issuer".
std::string_view source_name(tag_source s) noexcept;

/// Checks a value against its entry: the length within min..max and every byte or nibble allowed by
/// the format. bad_value naming the tag and the reason otherwise.
status check_value(const tag_info& info, byte_view value);

}  // namespace eft::emv
