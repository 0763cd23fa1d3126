#pragma once
/// The JSON form of a message: an object keyed by field number as a string, "0" for the MTI.
/// Text and numeric values are strings, binary values uppercase hex, composite fields nested objects
/// keyed by subfield number (tagged subfields by tag; BER-TLV by hex tag, or a hex string when the TLV
/// data cannot be represented as an object without loss).

#include <nlohmann/json.hpp>

#include "eft/iso8583/error.hpp"
#include "eft/iso8583/message.hpp"

namespace eft::iso8583 {

/// Whether the JSON form hides sensitive fields.
enum class reveal : bool { no = false, yes = true };

/// The JSON form of a message. Masked unless `show` is reveal::yes: PAN first 6 and last 4, track
/// and PIN data replaced, BER-TLV fields reduced to an array of their tags.
nlohmann::ordered_json to_json(const message& msg, reveal show = reveal::no);

/// Fills `out` (cleared first) from the JSON form. Errors name the field; offset is 0.
status from_json(const nlohmann::ordered_json& j, message& out);

/// Human-readable dump: one line per field and subfield with number, name and value (masked
/// unless `show` is reveal::yes). BER-TLV data is listed tag by tag.
std::string dump(const message& msg, reveal show = reveal::no);

}  // namespace eft::iso8583
