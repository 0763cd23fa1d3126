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

}  // namespace eft::simulators
