#pragma once
// Private helpers shared by the engine's translation units.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "eft/iso8583/message.hpp"
#include "eft/iso8583/spec.hpp"

namespace eft::iso8583::detail {

inline constexpr char hex_digits[] = "0123456789ABCDEF";

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/// ASCII <-> EBCDIC for the printable ASCII range; 0 marks "no mapping".
struct ebcdic_table {
  std::array<std::uint8_t, 256> to_ebcdic{};
  std::array<std::uint8_t, 256> to_ascii{};
};
const ebcdic_table& ebcdic(codepage cp) noexcept;

/// True when the ASCII character belongs to the class (xn: digits only; the sign is checked apart).
constexpr bool char_allowed(field_class cls, unsigned char c) noexcept {
  switch (cls) {
    case field_class::n:
    case field_class::xn:
      return c >= '0' && c <= '9';
    case field_class::a:
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' ';
    case field_class::an:
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ';
    case field_class::ans:
      return c >= 0x20 && c <= 0x7E;
    case field_class::z:
      return (c >= '0' && c <= '9') || c == '=' || c == 'D';
    case field_class::b:
      return true;
  }
  return false;
}

/// Write access to a message's internals for the codec and JSON code.
struct message_access {
  static std::vector<message::node>& nodes(message& m) noexcept { return m.nodes_; }
  static std::string& arena(message& m) noexcept { return m.arena_; }
  static void make_room(message& m, std::size_t nodes, std::size_t arena) { m.make_room(nodes, arena); }
  static std::size_t arena_size(const message& m) noexcept { return m.arena_.size(); }
  static std::int32_t add_node(message& m, std::uint32_t number, const field_spec* s, std::uint32_t offset,
                               std::uint32_t size) {
    // Built in place: copying a node assembled on the stack stalls on store forwarding.
    message::node& n = m.nodes_.emplace_back();
    n.number = number;
    n.spec = s;
    n.value_offset = offset;
    n.value_size = size;
    return static_cast<std::int32_t>(m.nodes_.size() - 1);
  }
  static void set_top(message& m, std::uint32_t field, std::int32_t index) noexcept { m.set_top(field, index); }
  static void set_mti_raw(message& m, const char* digits) noexcept {
    for (int i = 0; i < 4; ++i) m.mti_[static_cast<std::size_t>(i)] = digits[i];
    m.mti_size_ = 4;
  }
};

/// One BER-TLV data object found by a flat walk of TLV bytes.
struct tlv_item {
  std::string_view tag;    // raw tag bytes
  std::string_view value;  // raw value bytes
  bool constructed = false;
};

/// Walks BER-TLV data one level deep, calling f(item) per object. Returns false on malformed data
/// (the walk stops there). Never reads outside `data`.
template <typename F>
bool walk_tlv(std::string_view data, F&& f) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t tag_start = pos;
    const auto first = static_cast<unsigned char>(data[pos++]);
    if ((first & 0x1F) == 0x1F) {
      // Subsequent tag bytes while bit 8 is set (EMV Book 3 Annex B1).
      for (int i = 0;; ++i) {
        if (pos >= data.size() || i >= 3) return false;
        const auto b = static_cast<unsigned char>(data[pos++]);
        if ((b & 0x80) == 0) break;
      }
    }
    const std::string_view tag = data.substr(tag_start, pos - tag_start);
    if (pos >= data.size()) return false;
    std::size_t len = static_cast<unsigned char>(data[pos++]);
    if (len & 0x80) {
      const std::size_t n = len & 0x7F;
      if (n == 0 || n > 3 || pos + n > data.size()) return false;
      len = 0;
      for (std::size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<unsigned char>(data[pos++]);
    }
    if (len > data.size() - pos) return false;
    f(tlv_item{tag, data.substr(pos, len), (first & 0x20) != 0});
    pos += len;
  }
  return true;
}

/// Appends a BER length (short form below 128, else 0x81/0x82/0x83 long form).
void append_ber_length(std::string& out, std::size_t len);

}  // namespace eft::iso8583::detail
