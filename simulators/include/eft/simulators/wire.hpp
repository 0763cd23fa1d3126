#pragma once
/// Framed ISO 8583 messages over Asio sockets for the simulators: read one whole frame, write one.
/// Header-only coroutines; the framing rules are switch_core's (framing.hpp).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "eft/iso8583/codec.hpp"
#include "eft/switch/framing.hpp"

namespace eft::simulators {

namespace asio = boost::asio;

/// One frame read from a stream.
struct read_result {
  boost::system::error_code ec;           ///< an I/O error (eof, cancelled, ...)
  bool bad_frame = false;                 ///< a length the framing refuses (reason in `reason`)
  std::string_view reason;                ///< bad_frame: why
  std::span<const std::uint8_t> body;     ///< the message (views the caller's buffer)
  std::optional<switch_core::tpdu> tpdu;  ///< len2+tpdu: the frame's TPDU
};

/// Reads one frame into `buf` (resized as needed). Keep-alive frames are skipped. The socket and
/// the buffer must outlive the call (the caller awaits it at once).
inline asio::awaitable<read_result> read_frame(asio::ip::tcp::socket* sock, switch_core::framing f,
                                               std::vector<std::uint8_t>* buf) {
  read_result r;
  std::size_t have = 0;
  for (;;) {
    const auto fr = switch_core::inspect_frame(f, std::span<const std::uint8_t>(buf->data(), have));
    if (fr.status == switch_core::frame_status::complete) {
      r.body = std::span<const std::uint8_t>(buf->data() + fr.header_size, fr.body_size);
      r.tpdu = fr.tpdu_header;
      co_return r;
    }
    if (fr.status == switch_core::frame_status::keep_alive) {
      have = 0;
      continue;
    }
    if (fr.status == switch_core::frame_status::bad_length) {
      r.bad_frame = true;
      r.reason = fr.reason;
      co_return r;
    }
    const std::size_t need = fr.needed > have ? fr.needed : have + 1;
    if (buf->size() < need) buf->resize(need);
    auto [ec, n] = co_await asio::async_read(*sock, asio::buffer(buf->data() + have, need - have),
                                             asio::as_tuple(asio::use_awaitable));
    if (ec) {
      r.ec = ec;
      co_return r;
    }
    have += n;
  }
}

/// Frames a packed message: header (and the TPDU for len2+tpdu: `tpdu` as it should appear on the
/// wire) then the body. Empty when the body is too long for the framing.
inline std::vector<std::uint8_t> frame_message(const switch_core::framing& f, std::span<const std::byte> body,
                                               const std::optional<switch_core::tpdu>& tpdu = std::nullopt) {
  std::vector<std::uint8_t> out(switch_core::max_header_size + body.size());
  // write_frame_header writes the reply of the TPDU it is given: hand it the reply of ours.
  const auto reply_to = tpdu ? std::optional<switch_core::tpdu>(tpdu->reply()) : std::nullopt;
  const std::size_t h = switch_core::write_frame_header(f, body.size(), out, reply_to);
  if (h == 0) return {};
  std::memcpy(out.data() + h, body.data(), body.size());
  out.resize(h + body.size());
  return out;
}

/// A frame whose length header is of the other kind than the link's, as a peer set up with the
/// wrong framing writes it, then the body: on an ascii4 link the 4-byte big-endian binary length
/// (its first byte is 0, never a digit); on the binary links (len2, len2+tpdu, len2-inclusive,
/// len4) the 4 ASCII digits of the length and no TPDU, which a binary reader takes for a length of
/// at least 12336 (2-byte header: "00" is 0x3030) or 808464432 (4-byte). A reader refuses it (a
/// non-digit; longer than its max_frame, 8192 by default) or, with a max_frame of 12331 or more,
/// may wait for bytes that are not there: the sender must close the link after it. Empty when the
/// body has more than 9999 bytes (4 ASCII digits).
inline std::vector<std::uint8_t> frame_with_wrong_length(const switch_core::framing& f,
                                                         std::span<const std::byte> body) {
  if (body.size() > 9999) return {};
  std::vector<std::uint8_t> out(4 + body.size());
  std::size_t len = body.size();
  if (f.kind == switch_core::framing_kind::ascii4) {
    for (std::size_t i = 4; i-- > 0;) {
      out[i] = static_cast<std::uint8_t>(len & 0xFF);
      len >>= 8;
    }
  } else {
    for (std::size_t i = 4; i-- > 0;) {
      out[i] = static_cast<std::uint8_t>('0' + len % 10);
      len /= 10;
    }
  }
  if (!body.empty()) std::memcpy(out.data() + 4, body.data(), body.size());
  return out;
}

}  // namespace eft::simulators
