#pragma once
/// Errors of the ISO 8583 engine: values, not exceptions, on the per-message path.

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace eft::iso8583 {

/// What went wrong while packing or unpacking a message.
enum class errc : std::uint8_t {
  ok = 0,
  truncated,          ///< the bytes end before the field does
  bad_length_prefix,  ///< a length prefix holds a non-digit or an impossible value
  length_over_max,    ///< a length prefix (or a value) is longer than the spec allows
  invalid_character,  ///< a character outside the field's class (a non-digit in an n field, ...)
  bad_bcd_nibble,     ///< a BCD nibble above 9 where a digit is expected
  undefined_field,    ///< a bitmap names a field or subfield the spec does not define
  trailing_bytes,     ///< bytes left after the last field the bitmap names
  bad_mti,            ///< the message type indicator is missing or not 4 digits
  bad_bitmap,         ///< a bitmap that cannot be read (bad hex, tertiary not allowed)
  bad_tlv,            ///< BER-TLV content that cannot be read or built
  missing_subfield,   ///< a positional subfield is absent before a later one that is present
  value_length,       ///< a fixed-length binary value of the wrong length
  bad_hex,            ///< a binary value given as text that is not an even number of hex digits
  unknown_field,      ///< a field number or path the spec does not define
  bad_json,           ///< a JSON form that does not describe a message
};

/// The error category of `errc` ("iso8583").
const std::error_category& iso8583_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), iso8583_category()};
}

/// Short English description of an error kind ("truncated", "length over the maximum", ...).
std::string_view describe(errc e) noexcept;

/// A field address for error reports: "MTI", "bitmap", "2", "127.3", "55.9F26". Fixed size, no heap.
class field_path {
 public:
  field_path() = default;
  explicit field_path(std::string_view text) noexcept { append(text); }
  /// Appends text, truncating at the capacity.
  void append(std::string_view text) noexcept;
  /// Appends a number, preceded by a dot when the path is not empty.
  void push(std::uint32_t number) noexcept;
  /// Appends a tag, preceded by a dot when the path is not empty.
  void push(std::string_view tag) noexcept;
  std::string_view view() const noexcept { return {text_, size_}; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  char text_[30] = {};
  std::uint8_t size_ = 0;
};

/// Outcome of an engine operation. Converts to true on success. Never holds field content, so it is
/// safe to log whatever the field carried (PAN, track, PIN block).
struct status {
  errc code = errc::ok;
  std::uint32_t offset = 0;  ///< byte offset in the packed message where the problem was found
  field_path field;          ///< the field or subfield concerned
  std::uint32_t got = 0;     ///< a length or position that explains the error (0 when unused)
  std::uint32_t limit = 0;   ///< the limit it broke (0 when unused)

  explicit operator bool() const noexcept { return code == errc::ok; }
  /// One line for people: "field 2 at offset 6: length over the maximum (25 > 19)".
  std::string message() const;

  static status failure(errc code, std::string_view field, std::uint32_t offset, std::uint32_t got = 0,
                        std::uint32_t limit = 0) noexcept {
    status s;
    s.code = code;
    s.field = field_path(field);
    s.offset = offset;
    s.got = got;
    s.limit = limit;
    return s;
  }
};

}  // namespace eft::iso8583

template <>
struct std::is_error_code_enum<eft::iso8583::errc> : std::true_type {};
