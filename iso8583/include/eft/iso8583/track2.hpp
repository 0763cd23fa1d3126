#pragma once
/// Track 2 data as field 35 carries it (ISO/IEC 7813 track 2): PAN, separator ('=' or 'D'), expiry
/// date YYMM, service code (3 digits), then the issuer's discretionary data (PIN verification data
/// such as the Visa PVKI and PVV, or an IBM 3624 offset, among others). Track data must never be
/// logged or stored: the parts are views into the caller's value, nothing is copied.

#include <optional>
#include <string_view>

namespace eft::iso8583 {

/// The parts of a track 2 value; views into the value that was parsed.
struct track2_view {
  std::string_view pan;            ///< 1-19 digits
  std::string_view expiry;         ///< YYMM
  std::string_view service_code;   ///< 3 digits
  std::string_view discretionary;  ///< the digits after the service code (may be empty)
};

/// Splits field 35 as a message holds it: digits, one separator '=' or 'D', optional start (';') and
/// end ('?') sentinels. Nothing when the PAN is empty or over 19 digits, when expiry and service
/// code do not follow the separator, or when any other character is not a digit.
std::optional<track2_view> parse_track2(std::string_view field35) noexcept;

}  // namespace eft::iso8583
