#pragma once
/// Message framing on terminal and host connections: how one ISO 8583 message is delimited in a TCP
/// byte stream. Pure functions over bytes, no I/O: a session feeds what it has read and learns whether
/// a whole frame is there, how long its header and body are, or why the stream is unusable.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace eft::switch_core {

/// Length headers in use on payment links (DOMAIN.md "Framing on the wire").
enum class framing_kind : std::uint8_t {
  len2,            ///< 2-byte big-endian length of the message
  len2_tpdu,       ///< 2-byte length, then a 5-byte TPDU (counted by the length), then the message
  len2_inclusive,  ///< 2-byte big-endian length that counts itself
  ascii4,          ///< 4 ASCII decimal digits of length
  len4,            ///< 4-byte big-endian length
};

/// A framing and its limits.
struct framing {
  framing_kind kind = framing_kind::len2;
  std::size_t max_frame = 8192;  ///< largest message body accepted, in bytes (the TPDU not counted)
};

/// Parses a framing name as written in configs: "len2", "len2+tpdu", "len2-inclusive", "ascii4",
/// "len4". Nothing when the name is unknown.
std::optional<framing_kind> parse_framing_kind(std::string_view name) noexcept;
/// The config name of a framing.
std::string_view to_string(framing_kind k) noexcept;

/// The 5-byte transport protocol data unit of POS networks: 0x60, destination NII, source NII.
struct tpdu {
  std::array<std::uint8_t, 5> bytes{};
  std::uint8_t id() const noexcept { return bytes[0]; }
  std::uint16_t destination() const noexcept { return static_cast<std::uint16_t>((bytes[1] << 8) | bytes[2]); }
  std::uint16_t source() const noexcept { return static_cast<std::uint16_t>((bytes[3] << 8) | bytes[4]); }
  /// The TPDU of the answer: destination and source swapped.
  tpdu reply() const noexcept { return tpdu{{bytes[0], bytes[3], bytes[4], bytes[1], bytes[2]}}; }
};

/// What the start of a receive buffer holds.
enum class frame_status : std::uint8_t {
  need_more,   ///< not a whole frame yet (read more; `needed` says how many bytes in all)
  complete,    ///< a whole frame: header_size + body_size bytes
  keep_alive,  ///< a zero-length frame (header_size bytes): consume it and answer nothing
  bad_length,  ///< a length that cannot be right (non-digits, over max_frame, shorter than the TPDU)
};

struct frame {
  frame_status status = frame_status::need_more;
  std::size_t header_size = 0;  ///< length header (and TPDU) before the message
  std::size_t body_size = 0;    ///< the message itself
  std::size_t needed = 0;       ///< need_more: bytes the whole frame (or its header) needs
  std::optional<tpdu> tpdu_header;
  std::string_view reason;  ///< bad_length: why, for the session log

  std::size_t total() const noexcept { return header_size + body_size; }
};

/// Looks at the start of `buffer` (never more than header and declared body) and says whether it
/// holds a frame. The length is checked against max_frame before anything else is done with it.
frame inspect_frame(const framing& f, std::span<const std::uint8_t> buffer) noexcept;

/// Largest header a framing writes (for buffer sizing).
constexpr std::size_t max_header_size = 7;

/// Writes the header for a message of `body_size` bytes into `out` (at least max_header_size bytes)
/// and returns its size; `reply_to` is the TPDU of the request for len2_tpdu (its reply is written).
/// Returns 0 when the body is too long for the framing or its max_frame.
std::size_t write_frame_header(const framing& f, std::size_t body_size, std::span<std::uint8_t> out,
                               const std::optional<tpdu>& reply_to = std::nullopt) noexcept;

}  // namespace eft::switch_core
