#pragma once
/// Packing and unpacking: bytes in, message out, and back. No I/O; no exceptions.

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "eft/iso8583/error.hpp"
#include "eft/iso8583/message.hpp"

namespace eft::iso8583 {

/// Unpacks one whole message (no length header) into `out`, which is cleared first and must have
/// been made with the dialect to use. Never reads outside `bytes`, never allocates more than a few
/// times the input size, and reports the first problem with field, byte offset and reason. Bytes
/// left after the last field are an error (trailing_bytes). After an error `out` holds the fields
/// decoded before it and must not be used as a message.
status unpack(std::span<const std::byte> bytes, message& out);

/// Packs a message, appending its bytes to `out`. Checks every field's class and length against the
/// spec and refuses with the same kind of error as unpack; on error `out` is left as it was.
status pack(const message& msg, std::vector<std::byte>& out);

/// Views text as bytes.
inline std::span<const std::byte> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace eft::iso8583
