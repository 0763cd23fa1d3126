#include "eft/switch/framing.hpp"

namespace eft::switch_core {

namespace {
constexpr std::size_t tpdu_size = 5;

std::size_t length_size(framing_kind k) noexcept {
  switch (k) {
    case framing_kind::len2:
    case framing_kind::len2_tpdu:
    case framing_kind::len2_inclusive:
      return 2;
    case framing_kind::ascii4:
    case framing_kind::len4:
      return 4;
  }
  return 2;
}

frame bad(std::string_view why) noexcept {
  frame f;
  f.status = frame_status::bad_length;
  f.reason = why;
  return f;
}
}  // namespace

std::optional<framing_kind> parse_framing_kind(std::string_view name) noexcept {
  if (name == "len2") return framing_kind::len2;
  if (name == "len2+tpdu") return framing_kind::len2_tpdu;
  if (name == "len2-inclusive") return framing_kind::len2_inclusive;
  if (name == "ascii4") return framing_kind::ascii4;
  if (name == "len4") return framing_kind::len4;
  return std::nullopt;
}

std::string_view to_string(framing_kind k) noexcept {
  switch (k) {
    case framing_kind::len2:
      return "len2";
    case framing_kind::len2_tpdu:
      return "len2+tpdu";
    case framing_kind::len2_inclusive:
      return "len2-inclusive";
    case framing_kind::ascii4:
      return "ascii4";
    case framing_kind::len4:
      return "len4";
  }
  return "?";
}

frame inspect_frame(const framing& f, std::span<const std::uint8_t> buffer) noexcept {
  const std::size_t hdr = length_size(f.kind);
  if (buffer.size() < hdr) {
    frame r;
    r.needed = hdr;
    return r;
  }
  std::size_t declared = 0;
  switch (f.kind) {
    case framing_kind::len2:
    case framing_kind::len2_tpdu:
    case framing_kind::len2_inclusive:
      declared = (std::size_t{buffer[0]} << 8) | buffer[1];
      break;
    case framing_kind::len4:
      declared =
          (std::size_t{buffer[0]} << 24) | (std::size_t{buffer[1]} << 16) | (std::size_t{buffer[2]} << 8) | buffer[3];
      break;
    case framing_kind::ascii4:
      for (std::size_t i = 0; i < 4; ++i) {
        const unsigned d = static_cast<unsigned>(buffer[i]) - '0';
        if (d > 9) return bad("the 4-digit ASCII length holds a non-digit");
        declared = declared * 10 + d;
      }
      break;
  }
  std::size_t body = declared;
  std::size_t header = hdr;
  if (f.kind == framing_kind::len2_inclusive) {
    if (declared == hdr) {
      frame r;
      r.status = frame_status::keep_alive;
      r.header_size = hdr;
      return r;
    }
    if (declared < hdr) return bad("a self-counting length shorter than itself");
    body = declared - hdr;
  }
  if (declared == 0) {
    frame r;
    r.status = frame_status::keep_alive;
    r.header_size = hdr;
    return r;
  }
  if (f.kind == framing_kind::len2_tpdu) {
    if (declared < tpdu_size) return bad("a length shorter than the 5-byte TPDU it must hold");
    body = declared - tpdu_size;
    header = hdr + tpdu_size;
  }
  if (body > f.max_frame) return bad("a frame longer than the link's maximum");
  if (buffer.size() < header + body) {
    frame r;
    r.needed = header + body;
    return r;
  }
  frame r;
  r.status = frame_status::complete;
  r.header_size = header;
  r.body_size = body;
  if (f.kind == framing_kind::len2_tpdu) {
    tpdu t;
    for (std::size_t i = 0; i < tpdu_size; ++i) t.bytes[i] = buffer[hdr + i];
    r.tpdu_header = t;
  }
  return r;
}

std::size_t write_frame_header(const framing& f, std::size_t body_size, std::span<std::uint8_t> out,
                               const std::optional<tpdu>& reply_to) noexcept {
  if (body_size > f.max_frame || out.size() < max_header_size) return 0;
  std::size_t len = body_size;
  switch (f.kind) {
    case framing_kind::len2:
    case framing_kind::len2_tpdu:
    case framing_kind::len2_inclusive: {
      if (f.kind == framing_kind::len2_tpdu) len += tpdu_size;
      if (f.kind == framing_kind::len2_inclusive) len += 2;
      if (len > 0xFFFF) return 0;
      out[0] = static_cast<std::uint8_t>(len >> 8);
      out[1] = static_cast<std::uint8_t>(len & 0xFF);
      if (f.kind != framing_kind::len2_tpdu) return 2;
      const tpdu t = reply_to ? reply_to->reply() : tpdu{{0x60, 0, 0, 0, 0}};
      for (std::size_t i = 0; i < tpdu_size; ++i) out[2 + i] = t.bytes[i];
      return 2 + tpdu_size;
    }
    case framing_kind::ascii4:
      if (len > 9999) return 0;
      for (std::size_t i = 4; i-- > 0;) {
        out[i] = static_cast<std::uint8_t>('0' + len % 10);
        len /= 10;
      }
      return 4;
    case framing_kind::len4:
      out[0] = static_cast<std::uint8_t>((len >> 24) & 0xFF);
      out[1] = static_cast<std::uint8_t>((len >> 16) & 0xFF);
      out[2] = static_cast<std::uint8_t>((len >> 8) & 0xFF);
      out[3] = static_cast<std::uint8_t>(len & 0xFF);
      return 4;
  }
  return 0;
}

}  // namespace eft::switch_core
