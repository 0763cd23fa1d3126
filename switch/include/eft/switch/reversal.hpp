#pragma once
/// Reversals and advices built from the request the switch sent to a host: pure functions over
/// messages, no I/O.

#include <string>
#include <string_view>

#include "eft/iso8583/message.hpp"

namespace eft::switch_core {

/// Field 90, original data elements (ISO 8583:1987, n42): original MTI (n4), STAN (n6, field 11),
/// transmission date and time (n10, field 7), acquiring institution id (n11, field 32) and forwarding
/// institution id (n11, field 33), each id right-justified and zero-filled; absent values are zeros.
std::string original_data_elements(const iso8583::message& original);

/// Builds in `out` (made with the original's dialect) the reversal of `original`, a request as sent to
/// the host (with the switch's 7/11/37): MTI `mti` (0400 or 0420), the original's data elements except
/// track data (35, 36, 45), PIN data (52, 53) and MACs (64, 128), plus field 90. Fails when the
/// dialect has no field 90 or a value does not fit it.
iso8583::status build_reversal(const iso8583::message& original, std::string_view mti, iso8583::message& out);

/// The MTI of a repeated send (ISO 8583:1987 position 4: 0 -> 1): 0400 -> 0401, 0420 -> 0421,
/// 0220 -> 0221. Other MTIs are returned as they are.
std::string repeat_mti(std::string_view mti);

/// True when `answer` acknowledges a SAF message of MTI `sent` (0400/0401 -> 0410, 0420/0421 -> 0430,
/// 0220/0221 -> 0230; a host echoing the repeat digit, 0411 to an 0401, acknowledges too).
bool acknowledges(std::string_view sent, std::string_view answer) noexcept;

}  // namespace eft::switch_core
