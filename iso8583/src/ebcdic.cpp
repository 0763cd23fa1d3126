#include "internal.hpp"

namespace eft::iso8583::detail {

namespace {
// EBCDIC code points of printable ASCII 0x20-0x7E in code page 037 (IBM CDRA tables). Code page
// 1047 differs only in '[', ']' and '^' (patched below).
// clang-format off
constexpr std::uint8_t cp037_printable[95] = {
    0x40, 0x5A, 0x7F, 0x7B, 0x5B, 0x6C, 0x50, 0x7D, 0x4D, 0x5D, 0x5C, 0x4E, 0x6B, 0x60, 0x4B, 0x61,  // sp ! " # $ % & ' ( ) * + , - . /
    0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0x7A, 0x5E, 0x4C, 0x7E, 0x6E, 0x6F,  // 0-9 : ; < = > ?
    0x7C, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6,  // @ A-O
    0xD7, 0xD8, 0xD9, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xBA, 0xE0, 0xBB, 0xB0, 0x6D,  // P-Z [ \ ] ^ _
    0x79, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96,  // ` a-o
    0x97, 0x98, 0x99, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xC0, 0x4F, 0xD0, 0xA1,        // p-z { | } ~
};
// clang-format on

ebcdic_table make(codepage cp) {
  ebcdic_table t;
  for (int i = 0; i < 95; ++i) {
    std::uint8_t e = cp037_printable[i];
    const char c = static_cast<char>(0x20 + i);
    if (cp == codepage::cp1047) {
      if (c == '[') e = 0xAD;
      if (c == ']') e = 0xBD;
      if (c == '^') e = 0x5F;
    }
    t.to_ebcdic[0x20 + static_cast<std::size_t>(i)] = e;
    t.to_ascii[e] = static_cast<std::uint8_t>(0x20 + i);
  }
  return t;
}
}  // namespace

const ebcdic_table& ebcdic(codepage cp) noexcept {
  static const ebcdic_table cp037 = make(codepage::cp037);
  static const ebcdic_table cp1047 = make(codepage::cp1047);
  return cp == codepage::cp1047 ? cp1047 : cp037;
}

void append_ber_length(std::string& out, std::size_t len) {
  if (len < 0x80) {
    out += static_cast<char>(len);
  } else if (len <= 0xFF) {
    out += '\x81';
    out += static_cast<char>(len);
  } else if (len <= 0xFFFF) {
    out += '\x82';
    out += static_cast<char>(len >> 8);
    out += static_cast<char>(len & 0xFF);
  } else {
    out += '\x83';
    out += static_cast<char>((len >> 16) & 0xFF);
    out += static_cast<char>((len >> 8) & 0xFF);
    out += static_cast<char>(len & 0xFF);
  }
}

}  // namespace eft::iso8583::detail
