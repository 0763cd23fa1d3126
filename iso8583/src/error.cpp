#include "eft/iso8583/error.hpp"

#include <charconv>

namespace eft::iso8583 {

std::string_view describe(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::truncated:
      return "truncated";
    case errc::bad_length_prefix:
      return "bad length prefix";
    case errc::length_over_max:
      return "length over the maximum";
    case errc::invalid_character:
      return "character not allowed by the field class";
    case errc::bad_bcd_nibble:
      return "bad BCD nibble";
    case errc::undefined_field:
      return "bitmap names a field the spec does not define";
    case errc::trailing_bytes:
      return "trailing bytes after the last field";
    case errc::bad_mti:
      return "bad MTI";
    case errc::bad_bitmap:
      return "bad bitmap";
    case errc::bad_tlv:
      return "bad BER-TLV data";
    case errc::missing_subfield:
      return "positional subfield missing before a later one";
    case errc::value_length:
      return "value length differs from the fixed length";
    case errc::bad_hex:
      return "not an even number of hex digits";
    case errc::unknown_field:
      return "field not defined by the spec";
    case errc::bad_json:
      return "bad JSON form";
  }
  return "unknown error";
}

namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "iso8583"; }
  std::string message(int ev) const override { return std::string(describe(static_cast<errc>(ev))); }
};
}  // namespace

const std::error_category& iso8583_category() noexcept {
  static const category instance;
  return instance;
}

void field_path::append(std::string_view text) noexcept {
  for (char c : text) {
    if (size_ >= sizeof(text_)) return;
    text_[size_++] = c;
  }
}

void field_path::push(std::uint32_t number) noexcept {
  char buf[12];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), number);
  (void)ec;
  push(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

void field_path::push(std::string_view tag) noexcept {
  if (size_ != 0) append(".");
  append(tag);
}

std::string status::message() const {
  if (code == errc::ok) return "ok";
  std::string out;
  if (!field.empty()) {
    const bool named = field.view() == "MTI" || field.view() == "bitmap" || field.view() == "message";
    out += named ? "" : "field ";
    out += field.view();
    out += ' ';
  }
  out += "at offset ";
  out += std::to_string(offset);
  out += ": ";
  out += describe(code);
  if (got != 0 || limit != 0) {
    switch (code) {
      case errc::length_over_max:
      case errc::value_length:
        out += " (" + std::to_string(got) + " > " + std::to_string(limit) + ")";
        if (code == errc::value_length) out.replace(out.rfind('>'), 1, "!=");
        break;
      case errc::truncated:
        out += " (needs " + std::to_string(got) + " bytes, " + std::to_string(limit) + " left)";
        break;
      case errc::invalid_character:
      case errc::bad_bcd_nibble:
        out += " (at character " + std::to_string(got) + ")";
        break;
      case errc::undefined_field:
      case errc::missing_subfield:
        out += " (" + std::to_string(got) + ")";
        break;
      case errc::trailing_bytes:
        out += " (" + std::to_string(got) + " bytes)";
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace eft::iso8583
