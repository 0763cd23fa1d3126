#include "eft/crypto/error.hpp"

namespace eft::crypto {

std::string_view describe(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::bad_key_length:
      return "bad key length";
    case errc::bad_data_length:
      return "bad data length";
    case errc::bad_pin:
      return "bad PIN";
    case errc::bad_pan:
      return "bad PAN";
    case errc::bad_pin_block:
      return "bad PIN block";
    case errc::bad_format:
      return "unsupported format";
    case errc::format_not_allowed:
      return "PIN block translation not allowed";
    case errc::bad_ksn:
      return "bad key serial number";
    case errc::ksn_exhausted:
      return "DUKPT counter exhausted";
    case errc::bad_key_block:
      return "bad key block";
    case errc::key_block_mac:
      return "key block MAC does not verify";
    case errc::key_usage:
      return "key usage does not allow this operation";
    case errc::unknown_key:
      return "unknown key";
    case errc::backend:
      return "crypto backend failure";
    case errc::busy:
      return "HSM queue full";
    case errc::bad_input:
      return "bad input";
  }
  return "unknown error";
}

namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "crypto"; }
  std::string message(int ev) const override { return std::string(describe(static_cast<errc>(ev))); }
};
}  // namespace

const std::error_category& crypto_category() noexcept {
  static const category instance;
  return instance;
}

std::string failure::message() const {
  std::string out(describe(code));
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  return out;
}

}  // namespace eft::crypto
