#pragma once
/// Message helpers of the pipeline: MTI arithmetic, mandatory-field checks, field mapping between two
/// dialects, locally generated answers, and the masked one-line summary every log line uses. Pure
/// functions over iso8583::message; no I/O, no exceptions on the per-message path.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "eft/iso8583/error.hpp"
#include "eft/iso8583/message.hpp"

namespace eft::switch_core {

/// True for an MTI of 4 digits whose function digit (3rd) is even: a request, an advice or a
/// notification, which someone must answer.
bool is_request_mti(std::string_view mti) noexcept;

/// The answer's MTI: function digit + 1 ("0200" -> "0210", "0420" -> "0430"). Empty when `mti` is not
/// a request (see is_request_mti).
std::string response_mti(std::string_view mti);

/// The MTI class: digits 1-2 ("0200" and "0210" -> "02"); the match-key token `mti_class`.
std::string_view mti_class(std::string_view mti) noexcept;

/// A field's value as text, or an empty string when the message does not carry it.
std::string field_text(const iso8583::message& msg, std::uint32_t field);

/// The PAN of a request: field 2, else the digits of track 2 (field 35) before its separator.
/// Nothing when neither is present. Never log the result: use iso8583::mask_pan.
std::optional<std::string> pan_of(const iso8583::message& msg);

/// A mandatory field missing from a request, or nothing when the request is complete.
/// 0100/0120/0200/0220/04xx need field 2 or 35, and 3, 4, 11, 41; 08xx need 11 and 70; other classes
/// need 11 and 41. The answer to a request that fails this check carries RC 30 (format error).
std::optional<std::uint32_t> missing_mandatory_field(const iso8583::message& request);

/// What copy_fields does with a field the target dialect does not define.
enum class undefined_field_policy : std::uint8_t {
  refuse,  ///< stop with errc::unknown_field naming it (requests: a field must not vanish on the way)
  drop,    ///< leave it out (answers: private fields of the host do not go to terminals)
};

/// Copies every field (subfields one by one, so that composite layouts may differ) from one message
/// to another made with a different dialect. Values are dialect independent (text as characters,
/// binary as bytes), so the target packs them in its own encodings. `to` keeps its MTI and other
/// fields. Errors never hold field content.
iso8583::status copy_fields(const iso8583::message& from, iso8583::message& to, undefined_field_policy policy);

/// Builds the switch's own answer to a request it does not forward (format error, no route, host
/// unavailable, network management): the response MTI, the request's identifying fields
/// (2, 3, 4, 7, 11, 12, 13, 22, 25, 32, 37, 41, 42, 49; 7, 11, 41, 70 for 08xx) and field 39 = rc.
/// `out` must be made with the request's dialect; it is cleared first.
void make_local_response(const iso8583::message& request, std::string_view rc, iso8583::message& out);

/// Transmission date and time (field 7, MMDDhhmmss, UTC) of a moment.
std::string transmission_time(std::chrono::system_clock::time_point t);

/// A one-line, masked description of a message for logs: MTI, STAN, RRN, terminal, masked PAN,
/// processing code, amount and response code, each only when present. The one way messages are
/// described in the switch's logs (PAN through iso8583::mask_pan; no track, PIN or key data).
std::string summary(const iso8583::message& msg);

}  // namespace eft::switch_core
