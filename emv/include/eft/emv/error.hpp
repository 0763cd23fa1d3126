#pragma once
/// Errors of the EMV library: values, not exceptions, on the per-message path. An error names the
/// byte offset in the data it was found in, the tag concerned and the reason; it never carries card
/// data (PANs in errors are masked with eft::iso8583::mask_pan).

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace eft::emv {

/// What went wrong.
enum class errc : std::uint8_t {
  ok = 0,
  truncated,          ///< the data ends inside a tag, a length or a value
  tag_too_long,       ///< a tag of more than 3 bytes (EMV Book 3 annex B1 tags are 1-3 bytes here)
  indefinite_length,  ///< length byte 0x80: the indefinite form is not allowed in EMV (Book 3 B2)
  length_too_long,    ///< a length field of more than 3 subsequent bytes (0x84 and above)
  value_overrun,      ///< a length larger than the data left (in the input or the enclosing template)
  too_deep,           ///< constructed templates nested deeper than the limit
  too_many_objects,   ///< more data objects than the limit
  bad_tag,            ///< a tag that is not validly encoded (building) or not hex (text)
  value_too_long,     ///< a value longer than a 3-byte length can express (building)
  missing_tag,        ///< a data object the profile or the cryptogram needs is absent
  repeated_tag,       ///< a data object that must appear once appears again
  bad_value,          ///< a value of the wrong length or format for its tag
  mismatch,           ///< a value disagrees with the message (PAN, track 2) or another tag
  unsupported,        ///< a cryptogram version or layout this library does not handle
  crypto,             ///< the cryptographic layer or the HSM refused the operation
};

/// The error category of `errc` ("emv").
const std::error_category& emv_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), emv_category()};
}

/// Short English description of an error kind.
std::string_view describe(errc e) noexcept;

/// The outcome of an operation: ok, or an error with offset, tag and reason. Converts to true on
/// success. `detail` is set only on error paths that need more than the numbers (crypto errors).
struct status {
  errc code = errc::ok;
  std::uint32_t offset = 0;  ///< byte offset in the data where the problem was found
  std::uint32_t tag = 0;     ///< the tag concerned (0x9F26), 0 when none
  std::uint32_t got = 0;     ///< a length or count that explains the error (0 when unused)
  std::uint32_t limit = 0;   ///< the limit it broke (0 when unused)
  std::string detail;        ///< extra words for people; never card data

  explicit operator bool() const noexcept { return code == errc::ok; }
  /// One line for people: "offset 5: tag 9F26: length runs past the end of the data (200 > 3)".
  std::string message() const;

  static status failure(errc code, std::uint32_t offset, std::uint32_t tag = 0, std::uint32_t got = 0,
                        std::uint32_t limit = 0) {
    status s;
    s.code = code;
    s.offset = offset;
    s.tag = tag;
    s.got = got;
    s.limit = limit;
    return s;
  }
  static status failure(errc code, std::uint32_t tag, std::string detail) {
    status s;
    s.code = code;
    s.tag = tag;
    s.detail = std::move(detail);
    return s;
  }
};

/// A value or an error (std::expected is C++23).
template <typename T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  result(status e) : v_(std::move(e)) {}     // NOLINT(google-explicit-constructor)

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const status& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, status> v_;
};

}  // namespace eft::emv

template <>
struct std::is_error_code_enum<eft::emv::errc> : std::true_type {};
