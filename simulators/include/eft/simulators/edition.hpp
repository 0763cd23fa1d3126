#pragma once
/// The two editions of ISO 8583 the simulators speak. They differ in the version digit of the MTI,
/// and in what some fields mean: ISO 8583:1993 adds a function code (field 24), answers with 3-digit
/// action codes (field 39) instead of 2-digit response codes, carries a reversal's original in field
/// 56 instead of 90, a local date and time in field 12 (YYMMDDhhmmss) and a 12-character point of
/// service data code in field 22; its field 13 is the card's effective date and field 25 a message
/// reason code.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eft::simulators {

enum class iso_edition : std::uint8_t { v1987, v1993 };

/// The edition of an MTI, from its version digit; nothing for other versions.
std::optional<iso_edition> edition_of_mti(std::string_view mti) noexcept;

/// The MTI of `edition` for message class and function `class_function` (the last three digits:
/// "200", "420", "800").
std::string mti_of(iso_edition edition, std::string_view class_function);

/// The ISO 8583:1993 action code for a 1987 response code of an authorisation or financial answer
/// (00 -> 000, 05 -> 100, 51 -> 116, 55 -> 117, ...), from the two standards' tables; nothing when
/// the table has no counterpart.
std::optional<std::string_view> action_code_for(std::string_view response_code) noexcept;

/// The 1987 response codes action_code_for() knows, in order, comma-separated: for error hints.
std::string response_codes_with_action_codes();

/// True when field 39 approves: 1987 "00", or a 1993 action code 000-099.
bool approves(std::string_view code) noexcept;

}  // namespace eft::simulators
