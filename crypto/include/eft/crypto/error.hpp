#pragma once
/// Errors of the payment cryptography: values, not exceptions. A failed verification is a result
/// (false), not an error; errors are for input that cannot be used.

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace eft::crypto {

/// Why a cryptographic operation could not be carried out.
enum class errc : std::uint8_t {
  ok = 0,
  bad_key_length,      ///< a key of a length the algorithm does not take
  bad_data_length,     ///< data of a length the algorithm does not take (not whole blocks, ...)
  bad_pin,             ///< PIN not 4-12 decimal digits
  bad_pan,             ///< PAN not decimal digits of a usable length
  bad_pin_block,       ///< a PIN block that does not decode (format nibble, PIN length, fill)
  bad_format,          ///< a format, variant or option the algorithm does not support
  format_not_allowed,  ///< a translation the PCI PIN rules forbid (e.g. into format 1)
  bad_ksn,             ///< a DUKPT key serial number that cannot be used (length, counter)
  ksn_exhausted,       ///< a DUKPT counter past its last usable value
  bad_key_block,       ///< a TR-31 key block that does not parse
  key_block_mac,       ///< a TR-31 key block whose MAC does not verify
  key_usage,           ///< a key used for something its usage or mode of use does not allow
  unknown_key,         ///< no key of that name
  backend,             ///< the crypto library or token failed
  busy,                ///< the backend's queue is full (back-pressure); try again later
  bad_input,           ///< other malformed input (hex, digits, lengths)
};

const std::error_category& crypto_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), crypto_category()};
}
std::string_view describe(errc e) noexcept;

/// An error: its kind and a one-line detail for people. Never holds key material, PINs or PANs.
struct failure {
  errc code = errc::ok;
  std::string detail;
  /// "bad key length: TDES keys are 16 or 24 bytes"
  std::string message() const;
};

/// A value or an error (std::expected is C++23; this is the small part of it the project needs).
template <typename T>
class outcome {
 public:
  outcome(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  outcome(failure e) : v_(std::move(e)) {}    // NOLINT(google-explicit-constructor)
  outcome(errc code, std::string detail = {}) : v_(failure{code, std::move(detail)}) {}  // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const crypto::failure& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, crypto::failure> v_;
};

/// Success or an error, for operations with no value.
using status = outcome<std::monostate>;
inline status ok() {
  return std::monostate{};
}

}  // namespace eft::crypto

template <>
struct std::is_error_code_enum<eft::crypto::errc> : std::true_type {};
