#include "eft/emv/error.hpp"

#include "eft/emv/tlv.hpp"

namespace eft::emv {

namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "emv"; }
  std::string message(int ev) const override { return std::string(describe(static_cast<errc>(ev))); }
};

// Errors found while reading bytes carry a meaningful offset; the others (a missing tag, a
// mismatch) concern a whole object.
bool positional(errc e) noexcept {
  switch (e) {
    case errc::truncated:
    case errc::tag_too_long:
    case errc::indefinite_length:
    case errc::length_too_long:
    case errc::value_overrun:
    case errc::too_deep:
    case errc::too_many_objects:
      return true;
    default:
      return false;
  }
}

}  // namespace

const std::error_category& emv_category() noexcept {
  static const category c;
  return c;
}

std::string_view describe(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::truncated:
      return "data ends inside a data object";
    case errc::tag_too_long:
      return "tag longer than 3 bytes";
    case errc::indefinite_length:
      return "indefinite length (0x80) not allowed";
    case errc::length_too_long:
      return "length field longer than 0x83 allows";
    case errc::value_overrun:
      return "length runs past the end of the data";
    case errc::too_deep:
      return "templates nested too deep";
    case errc::too_many_objects:
      return "too many data objects";
    case errc::bad_tag:
      return "bad tag";
    case errc::value_too_long:
      return "value too long for a BER-TLV length";
    case errc::missing_tag:
      return "required data object missing";
    case errc::repeated_tag:
      return "data object repeated";
    case errc::bad_value:
      return "bad value";
    case errc::mismatch:
      return "value does not match";
    case errc::unsupported:
      return "not supported";
    case errc::crypto:
      return "cryptographic operation failed";
  }
  return "unknown error";
}

std::string status::message() const {
  std::string m;
  if (positional(code)) m += "offset " + std::to_string(offset) + ": ";
  if (tag != 0) m += "tag " + tag_hex(tag) + ": ";
  m += describe(code);
  const auto g = std::to_string(got);
  const auto l = std::to_string(limit);
  switch (code) {
    case errc::truncated:
      if (got != 0) m += " (" + g + " bytes needed, " + l + " left)";
      break;
    case errc::length_too_long:
      m += " (" + g + " length bytes > 3)";
      break;
    case errc::value_overrun:
      m += " (length " + g + " > " + l + " bytes left)";
      break;
    case errc::too_deep:
      m += " (depth " + g + " > " + l + ")";
      break;
    case errc::too_many_objects:
      m += " (more than " + l + ")";
      break;
    default:
      break;
  }
  if (!detail.empty()) m += ": " + detail;
  return m;
}

}  // namespace eft::emv
