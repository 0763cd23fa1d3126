#pragma once
/// Hex text helpers.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eft::iso8583 {

/// Uppercase hex of bytes.
std::string to_hex(std::span<const std::byte> bytes);
std::string to_hex(std::string_view bytes);

/// Bytes of hex text (either case, no separators); nothing when the text is not an even number of
/// hex digits.
std::optional<std::vector<std::byte>> from_hex(std::string_view hex);
/// As from_hex, appending to `out`; false (and `out` unchanged) on bad input.
bool append_hex_decoded(std::string_view hex, std::string& out);

}  // namespace eft::iso8583
