#include "eft/iso8583/hex.hpp"

#include "internal.hpp"

namespace eft::iso8583 {

std::string to_hex(std::string_view bytes) {
  std::string out(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = detail::hex_digits[b >> 4];
    out[2 * i + 1] = detail::hex_digits[b & 0x0F];
  }
  return out;
}

std::string to_hex(std::span<const std::byte> bytes) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool append_hex_decoded(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  const std::size_t start = out.size();
  out.resize(start + hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = detail::hex_value(hex[i]);
    const int lo = detail::hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      out.resize(start);
      return false;
    }
    out[start + i / 2] = static_cast<char>((hi << 4) | lo);
  }
  return true;
}

std::optional<std::vector<std::byte>> from_hex(std::string_view hex) {
  std::string tmp;
  if (!append_hex_decoded(hex, tmp)) return std::nullopt;
  std::vector<std::byte> out(tmp.size());
  for (std::size_t i = 0; i < tmp.size(); ++i) out[i] = static_cast<std::byte>(tmp[i]);
  return out;
}

}  // namespace eft::iso8583
