#include "eft/crypto/card_verification.hpp"

#include <array>
#include <cstdint>

#include "eft/crypto/primitives.hpp"

namespace eft::crypto {

namespace {

bool all_digits(std::string_view s) noexcept {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

status check_pan_text(std::string_view pan) {
  if (pan.size() < 12 || pan.size() > 19 || !all_digits(pan)) {
    return failure{errc::bad_pan, "a PAN is 12 to 19 decimal digits"};
  }
  return ok();
}

status check_pin_text(std::string_view pin) {
  if (pin.size() < 4 || pin.size() > 12 || !all_digits(pin)) {
    return failure{errc::bad_pin, "a PIN is 4 to 12 decimal digits"};
  }
  return ok();
}

status check_digits(std::string_view what, std::string_view value, std::size_t n) {
  if (value.size() != n || !all_digits(value)) {
    return failure{errc::bad_input, std::string(what) + " must be " + std::to_string(n) + " decimal digits"};
  }
  return ok();
}

// Packs an even number of hex digits (already checked) into bytes, in wiped memory.
secure_bytes pack_digits(std::string_view digits) {
  secure_bytes out(digits.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>((hex_value(digits[2 * i]) << 4) | hex_value(digits[2 * i + 1]));
  }
  return out;
}

// The Visa decimalisation of CVV and PVV: the decimal nibbles in order, then the nibbles A-F less
// 10, until `want` digits are collected (16 nibbles always give enough).
std::string visa_decimalize(byte_view block, std::size_t want) {
  std::string out;
  out.reserve(want);
  for (int pass = 0; pass < 2 && out.size() < want; ++pass) {
    for (std::size_t i = 0; i < block.size() * 2 && out.size() < want; ++i) {
      const int nib = (i % 2 == 0) ? (block[i / 2] >> 4) : (block[i / 2] & 0x0F);
      if (pass == 0 && nib < 10) out.push_back(static_cast<char>('0' + nib));
      if (pass == 1 && nib >= 10) out.push_back(static_cast<char>('0' + nib - 10));
    }
  }
  return out;
}

cipher pvk_cipher(std::size_t n) noexcept {
  return n == 8 ? cipher::des : cipher::tdes;
}

status check_pvk_3624(byte_view pvk) {
  if (pvk.size() != 8 && pvk.size() != 16 && pvk.size() != 24) {
    return failure{errc::bad_key_length, "an IBM 3624 PVK is 8, 16 or 24 bytes"};
  }
  return ok();
}

status check_decimalization(std::string_view table) {
  if (table.size() != 16 || !all_digits(table)) {
    return failure{errc::bad_input, "a decimalization table is 16 decimal digits"};
  }
  return ok();
}

status check_validation_data(std::string_view vd) {
  if (vd.size() != 16) return failure{errc::bad_input, "validation data is 16 hex digits"};
  for (char c : vd) {
    if (hex_value(c) < 0) return failure{errc::bad_input, "validation data is 16 hex digits"};
  }
  return ok();
}

// Natural PIN digits (IBM CCA E.1) without argument checks.
outcome<secure_bytes> natural_pin(byte_view pvk, std::string_view table, std::string_view vd, std::size_t n) {
  const secure_bytes data = pack_digits(vd);
  secure_bytes enc(data.size());
  if (auto st = ecb_encrypt(pvk_cipher(pvk.size()), pvk, data.view(), enc.data()); !st) return st.error();
  auto digits = ibm3624_decimalize(enc.view(), table);
  if (!digits) return digits.error();
  digits->resize(n);
  return digits;
}

}  // namespace

// ----------------------------------------------------------------------------------------- CVV

outcome<std::string> generate_cvv(byte_view cvk, std::string_view pan, std::string_view expiry,
                                  std::string_view service_code) {
  if (cvk.size() != 16) return failure{errc::bad_key_length, "a CVK pair (key A || key B) is 16 bytes"};
  if (auto st = check_pan_text(pan); !st) return st.error();
  if (auto st = check_digits("the expiry date", expiry, 4); !st) return st.error();
  if (auto st = check_digits("the service code", service_code, 3); !st) return st.error();

  // PAN || expiry || service code, right-filled with zeros to two 8-byte blocks.
  std::array<char, 32> digits{};
  digits.fill('0');
  std::size_t at = 0;
  for (std::string_view part : {pan, expiry, service_code}) {
    for (char c : part) digits[at++] = c;
  }
  secure_bytes blocks = pack_digits({digits.data(), digits.size()});
  wipe(digits.data(), digits.size());

  secure_bytes x(8);
  if (auto st = ecb_encrypt(cipher::des, cvk.first(8), blocks.view().first(8), x.data()); !st) return st.error();
  xor_into(x.view(), blocks.view().subspan(8, 8), x.data());
  if (auto st = ecb_encrypt(cipher::tdes, cvk, x.view(), x.data()); !st) return st.error();
  return visa_decimalize(x.view(), 3);
}

outcome<std::string> generate_cvv2(byte_view cvk, std::string_view pan, std::string_view expiry) {
  return generate_cvv(cvk, pan, expiry, "000");
}

outcome<std::string> generate_icvv(byte_view cvk, std::string_view pan, std::string_view expiry) {
  return generate_cvv(cvk, pan, expiry, "999");
}

outcome<bool> verify_cvv(byte_view cvk, std::string_view pan, std::string_view expiry, std::string_view service_code,
                         std::string_view cvv) {
  if (auto st = check_digits("a CVV", cvv, 3); !st) return st.error();
  auto expected = generate_cvv(cvk, pan, expiry, service_code);
  if (!expected) return expected.error();
  const bool match = equal_ct({reinterpret_cast<const std::uint8_t*>(expected->data()), expected->size()},
                              {reinterpret_cast<const std::uint8_t*>(cvv.data()), cvv.size()});
  wipe(expected->data(), expected->size());
  return match;
}

// ----------------------------------------------------------------------------------------- PVV

outcome<std::string> generate_pvv(byte_view pvk, int pvki, std::string_view pin, std::string_view pan) {
  if (pvk.size() != 16 && pvk.size() != 24) {
    return failure{errc::bad_key_length, "a PVK (pair A || B) is 16 or 24 bytes"};
  }
  if (pvki < 0 || pvki > 9) return failure{errc::bad_input, "the PVK index is one digit, 0 to 9"};
  if (auto st = check_pin_text(pin); !st) return st.error();
  if (auto st = check_pan_text(pan); !st) return st.error();

  // TSP: 11 rightmost PAN digits before the check digit, PVKI, first 4 PIN digits.
  std::array<char, 16> tsp{};
  const std::string_view account = pan.substr(pan.size() - 12, 11);
  std::size_t at = 0;
  for (char c : account) tsp[at++] = c;
  tsp[at++] = static_cast<char>('0' + pvki);
  for (char c : pin.substr(0, 4)) tsp[at++] = c;
  secure_bytes block = pack_digits({tsp.data(), tsp.size()});
  wipe(tsp.data(), tsp.size());

  if (auto st = ecb_encrypt(cipher::tdes, pvk, block.view(), block.data()); !st) return st.error();
  return visa_decimalize(block.view(), 4);
}

outcome<bool> verify_pvv(byte_view pvk, int pvki, std::string_view pin, std::string_view pan, std::string_view pvv) {
  if (auto st = check_digits("a PVV", pvv, 4); !st) return st.error();
  auto expected = generate_pvv(pvk, pvki, pin, pan);
  if (!expected) return expected.error();
  const bool match = equal_ct({reinterpret_cast<const std::uint8_t*>(expected->data()), expected->size()},
                              {reinterpret_cast<const std::uint8_t*>(pvv.data()), pvv.size()});
  wipe(expected->data(), expected->size());
  return match;
}

// ------------------------------------------------------------------------------------ IBM 3624

outcome<secure_bytes> ibm3624_decimalize(byte_view data, std::string_view table) {
  if (auto st = check_decimalization(table); !st) return st.error();
  secure_bytes out(data.size() * 2);
  for (std::size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = static_cast<std::uint8_t>(table[data[i] >> 4]);
    out[2 * i + 1] = static_cast<std::uint8_t>(table[data[i] & 0x0F]);
  }
  return out;
}

outcome<std::string> ibm3624_validation_data(std::string_view pan, std::size_t start, std::size_t length, char pad) {
  if (auto st = check_pan_text(pan); !st) return st.error();
  if (hex_value(pad) < 0) return failure{errc::bad_input, "the pad character is one hex digit"};
  if (length == 0 || length > 16 || start > pan.size() || length > pan.size() - start) {
    return failure{errc::bad_input, "the validation data range must be 1 to 16 digits within the PAN"};
  }
  std::string out(pan.substr(start, length));
  out.resize(16, static_cast<char>(pad >= 'a' ? pad - 'a' + 'A' : pad));
  return out;
}

outcome<std::string> ibm3624_validation_data(std::string_view pattern, std::string_view pan) {
  if (auto st = check_pan_text(pan); !st) return st.error();
  if (pattern.empty() || pattern.size() > 16) {
    return failure{errc::bad_input, "a validation data pattern is 1 to 16 characters"};
  }
  const std::size_t first = pattern.find('N');
  const std::size_t last = pattern.rfind('N');
  std::size_t runs = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == 'N') {
      if (i == 0 || pattern[i - 1] != 'N') ++runs;
    } else if (hex_value(pattern[i]) < 0) {
      return failure{errc::bad_input, "a validation data pattern holds hex digits and N only"};
    }
  }
  if (runs > 1) return failure{errc::bad_input, "the N's of a validation data pattern must be one run"};
  std::string out;
  out.reserve(16);
  const std::string_view account = pan.substr(0, pan.size() - 1);
  for (const char c : pattern) out.push_back(c >= 'a' && c <= 'f' ? static_cast<char>(c - 'a' + 'A') : c);
  if (first != std::string_view::npos) {
    const std::size_t k = last - first + 1;
    if (k > account.size()) {
      return failure{errc::bad_input, "the validation data pattern has more N's than account-number digits"};
    }
    out.replace(first, k, account.substr(account.size() - k));
  }
  out.resize(16, 'F');
  return out;
}

outcome<secure_bytes> ibm3624_natural_pin(byte_view pvk, std::string_view decimalization,
                                          std::string_view validation_data, std::size_t pin_length) {
  if (auto st = check_pvk_3624(pvk); !st) return st.error();
  if (auto st = check_decimalization(decimalization); !st) return st.error();
  if (auto st = check_validation_data(validation_data); !st) return st.error();
  if (pin_length < 4 || pin_length > 12) return failure{errc::bad_input, "the PIN length is 4 to 12 digits"};
  return natural_pin(pvk, decimalization, validation_data, pin_length);
}

outcome<std::string> ibm3624_offset(byte_view pvk, std::string_view decimalization, std::string_view validation_data,
                                    std::string_view pin, std::size_t check_length) {
  if (auto st = check_pvk_3624(pvk); !st) return st.error();
  if (auto st = check_decimalization(decimalization); !st) return st.error();
  if (auto st = check_validation_data(validation_data); !st) return st.error();
  if (auto st = check_pin_text(pin); !st) return st.error();
  const std::size_t n = pin.size();
  const std::size_t m = check_length == 0 ? n : check_length;
  if (m < 4 || m > n) return failure{errc::bad_input, "the check length is 4 up to the PIN length"};

  auto natural = natural_pin(pvk, decimalization, validation_data, n);
  if (!natural) return natural.error();
  std::string offset(m, '0');
  for (std::size_t t = 0; t < m; ++t) {
    const std::size_t i = n - m + t;
    const int d = ((pin[i] - '0') - ((*natural)[i] - '0') + 10) % 10;
    offset[t] = static_cast<char>('0' + d);
  }
  return offset;
}

outcome<bool> verify_ibm3624_offset(byte_view pvk, std::string_view decimalization, std::string_view validation_data,
                                    std::string_view pin, std::string_view offset, std::size_t check_length) {
  if (auto st = check_pvk_3624(pvk); !st) return st.error();
  if (auto st = check_decimalization(decimalization); !st) return st.error();
  if (auto st = check_validation_data(validation_data); !st) return st.error();
  if (auto st = check_pin_text(pin); !st) return st.error();
  if (offset.size() < 4 || offset.size() > 12 || !all_digits(offset)) {
    return failure{errc::bad_input, "a PIN offset is 4 to 12 decimal digits"};
  }
  const std::size_t n = pin.size();
  const std::size_t k = offset.size();
  if (k > n) return failure{errc::bad_input, "the PIN offset is longer than the PIN"};
  const std::size_t m = check_length == 0 ? k : check_length;
  if (m < 4 || m > k) return failure{errc::bad_input, "the check length is 4 up to the offset length"};

  auto natural = natural_pin(pvk, decimalization, validation_data, n);
  if (!natural) return natural.error();
  // Compare every checked digit, without an early exit.
  unsigned diff = 0;
  for (std::size_t t = 0; t < m; ++t) {
    const std::size_t i = n - 1 - t;
    const int check = (((*natural)[i] - '0') + (offset[k - 1 - t] - '0')) % 10;
    diff |= static_cast<unsigned>(check ^ (pin[i] - '0'));
  }
  return diff == 0;
}

}  // namespace eft::crypto
