#include "eft/crypto/pin_block.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace eft::crypto {

namespace {

constexpr std::size_t block8 = 8;
constexpr std::size_t block16 = 16;

bool all_digits(std::string_view s) noexcept {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::uint8_t get_nibble(const std::uint8_t* p, std::size_t i) noexcept {
  return static_cast<std::uint8_t>((i % 2 == 0) ? (p[i / 2] >> 4) : (p[i / 2] & 0x0F));
}

void set_nibble(std::uint8_t* p, std::size_t i, std::uint8_t v) noexcept {
  v &= 0x0F;
  p[i / 2] = (i % 2 == 0) ? static_cast<std::uint8_t>((p[i / 2] & 0x0F) | (v << 4))
                          : static_cast<std::uint8_t>((p[i / 2] & 0xF0) | v);
}

std::uint8_t digit_value(char c) noexcept {
  return static_cast<std::uint8_t>(c - '0');
}

// ISO 9564-1:2017 9.3.2.3 / 9.3.5.3: four zero nibbles, then the 12 rightmost PAN digits excluding
// the check digit, right-justified and left-padded with zeros. The caller has checked the PAN.
std::array<std::uint8_t, block8> pan_field_8(std::string_view pan) noexcept {
  std::array<std::uint8_t, block8> field{};
  const std::string_view body = pan.substr(0, pan.size() - 1);
  const std::string_view digits = body.size() > 12 ? body.substr(body.size() - 12) : body;
  const std::size_t start = 16 - digits.size();
  for (std::size_t i = 0; i < digits.size(); ++i) set_nibble(field.data(), start + i, digit_value(digits[i]));
  return field;
}

// ISO 9564-1:2017 9.4.2.3: nibble M (PAN length - 12, or 0 below 12 digits), then the whole PAN
// (check digit included; below 12 digits right-justified in 12 nibbles), then zeros.
std::array<std::uint8_t, block16> pan_field_16(std::string_view pan) noexcept {
  std::array<std::uint8_t, block16> field{};
  if (pan.size() >= 12) {
    set_nibble(field.data(), 0, static_cast<std::uint8_t>(pan.size() - 12));
    for (std::size_t i = 0; i < pan.size(); ++i) set_nibble(field.data(), 1 + i, digit_value(pan[i]));
  } else {
    const std::size_t start = 13 - pan.size();
    for (std::size_t i = 0; i < pan.size(); ++i) set_nibble(field.data(), start + i, digit_value(pan[i]));
  }
  return field;
}

bool is_tdes_format(pin_block_format f) noexcept {
  return f == pin_block_format::iso0 || f == pin_block_format::iso1 || f == pin_block_format::iso3;
}

// The fill nibbles of a format 1 or 3 block (14 - PIN length of them). Format 3 fill is A-F
// (9564-1:2017 9.3.5.2): caller nibbles A-F are kept, 0-9 become A + n mod 6; RNG fill is drawn
// uniformly from A-F by rejection sampling.
outcome<secure_bytes> fill_nibbles(pin_block_format f, std::size_t count, byte_view fill) {
  secure_bytes out(count);
  if (!fill.empty()) {
    if (fill.size() * 2 < count) {
      return failure{errc::bad_input, "random fill too short: " + std::to_string(count) + " nibbles needed"};
    }
    for (std::size_t i = 0; i < count; ++i) {
      std::uint8_t n = get_nibble(fill.data(), i);
      if (f == pin_block_format::iso3 && n < 0x0A) n = static_cast<std::uint8_t>(0x0A + n % 6);
      out[i] = n;
    }
    return out;
  }
  std::size_t have = 0;
  while (have < count) {
    auto r = random_bytes(16);
    if (!r) return r.error();
    for (std::size_t j = 0; j < r->size() && have < count; ++j) {
      const std::uint8_t b = (*r)[j];
      if (f == pin_block_format::iso1) {
        out[have++] = static_cast<std::uint8_t>(b & 0x0F);
      } else if (b < 252) {  // 252 = 42 * 6: keeps the six values equally likely
        out[have++] = static_cast<std::uint8_t>(0x0A + b % 6);
      }
    }
  }
  return out;
}

// Reads the control nibble, PIN length and PIN digits of a plain PIN field; the fill is checked by
// `fill_ok` for each nibble after the PIN, up to nibble `fill_end`.
template <typename FillOk>
outcome<clear_pin> parse_pin_field(const std::uint8_t* field, std::uint8_t control, std::size_t fill_end,
                                   FillOk fill_ok) {
  if (get_nibble(field, 0) != control) {
    return failure{errc::bad_pin_block, "control field is not " + std::to_string(control)};
  }
  const std::size_t n = get_nibble(field, 1);
  if (n < 4 || n > 12) return failure{errc::bad_pin_block, "PIN length nibble outside 4-12"};
  clear_pin pin(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t d = get_nibble(field, 2 + i);
    if (d > 9) return failure{errc::bad_pin_block, "PIN digit is not decimal"};
    pin[i] = static_cast<std::uint8_t>('0' + d);
  }
  for (std::size_t i = 2 + n; i < fill_end; ++i) {
    if (!fill_ok(get_nibble(field, i))) return failure{errc::bad_pin_block, "fill digits are not valid for the format"};
  }
  return pin;
}

std::string_view as_text(const clear_pin& pin) noexcept {
  return {reinterpret_cast<const char*>(pin.data()), pin.size()};
}

}  // namespace

status check_pin(std::string_view pin) {
  if (pin.size() < 4 || pin.size() > 12 || !all_digits(pin)) {
    return {errc::bad_pin, "a PIN is 4 to 12 decimal digits"};
  }
  return ok();
}

status check_pan(std::string_view pan, pin_block_format f) {
  switch (f) {
    case pin_block_format::iso1:
      return ok();  // format 1 does not use the PAN
    case pin_block_format::iso0:
    case pin_block_format::iso3:
      if (pan.size() < 12 || pan.size() > 19 || !all_digits(pan)) {
        return {errc::bad_pan, "formats 0 and 3 need a PAN of 12 to 19 decimal digits"};
      }
      return ok();
    case pin_block_format::iso4:
      if (pan.empty() || pan.size() > 19 || !all_digits(pan)) {
        return {errc::bad_pan, "format 4 needs a PAN of 1 to 19 decimal digits"};
      }
      return ok();
  }
  return {errc::bad_format, "unknown PIN block format"};
}

outcome<secure_bytes> make_pin_block(pin_block_format f, std::string_view pin, std::string_view pan, byte_view fill) {
  if (!is_tdes_format(f)) return failure{errc::bad_format, "make_pin_block builds formats 0, 1 and 3"};
  if (auto st = check_pin(pin); !st) return st.error();
  if (auto st = check_pan(pan, f); !st) return st.error();

  // ISO 9564-1:2017 9.3.2.2 (format 0), 9.3.3 (format 1), 9.3.5.2 (format 3): control nibble,
  // PIN length, PIN digits, then fill (F, random 0-F, random A-F).
  secure_bytes block(block8);
  set_nibble(block.data(), 0, static_cast<std::uint8_t>(f));
  set_nibble(block.data(), 1, static_cast<std::uint8_t>(pin.size()));
  for (std::size_t i = 0; i < pin.size(); ++i) set_nibble(block.data(), 2 + i, digit_value(pin[i]));
  const std::size_t fill_count = 14 - pin.size();
  if (f == pin_block_format::iso0) {  // no random fill: `fill` is ignored
    for (std::size_t i = 0; i < fill_count; ++i) set_nibble(block.data(), 2 + pin.size() + i, 0x0F);
  } else {
    auto nibbles = fill_nibbles(f, fill_count, fill);
    if (!nibbles) return nibbles.error();
    for (std::size_t i = 0; i < fill_count; ++i) set_nibble(block.data(), 2 + pin.size() + i, (*nibbles)[i]);
  }
  if (f != pin_block_format::iso1) {
    const auto pan_field = pan_field_8(pan);
    xor_into(block.view(), pan_field, block.data());
  }
  return block;
}

outcome<clear_pin> read_pin_block(pin_block_format f, byte_view clear_block, std::string_view pan) {
  if (!is_tdes_format(f)) return failure{errc::bad_format, "read_pin_block reads formats 0, 1 and 3"};
  if (clear_block.size() != block8) return failure{errc::bad_data_length, "a format 0, 1 or 3 PIN block is 8 bytes"};
  if (auto st = check_pan(pan, f); !st) return st.error();
  secure_bytes field(clear_block);
  if (f != pin_block_format::iso1) {
    const auto pan_field = pan_field_8(pan);
    xor_into(field.view(), pan_field, field.data());
  }
  const auto control = static_cast<std::uint8_t>(f);
  switch (f) {
    case pin_block_format::iso0:
      return parse_pin_field(field.data(), control, 16, [](std::uint8_t n) { return n == 0x0F; });
    case pin_block_format::iso3:
      return parse_pin_field(field.data(), control, 16, [](std::uint8_t n) { return n >= 0x0A; });
    default:
      return parse_pin_field(field.data(), control, 16, [](std::uint8_t) { return true; });
  }
}

outcome<bytes> encrypt_pin_block_iso4(byte_view aes_key, std::string_view pin, std::string_view pan, byte_view fill) {
  if (!key_length_ok(cipher::aes, aes_key.size())) return failure{errc::bad_key_length, key_length_hint(cipher::aes)};
  if (auto st = check_pin(pin); !st) return st.error();
  if (auto st = check_pan(pan, pin_block_format::iso4); !st) return st.error();
  if (!fill.empty() && fill.size() != 8) return failure{errc::bad_input, "format 4 random fill is 8 bytes"};

  // ISO 9564-1:2017 9.4.2.2: control 4, PIN length, PIN digits, fill A up to byte 8, then 8 random bytes.
  secure_bytes pin_field(block16);
  set_nibble(pin_field.data(), 0, 4);
  set_nibble(pin_field.data(), 1, static_cast<std::uint8_t>(pin.size()));
  for (std::size_t i = 0; i < pin.size(); ++i) set_nibble(pin_field.data(), 2 + i, digit_value(pin[i]));
  for (std::size_t i = 2 + pin.size(); i < 16; ++i) set_nibble(pin_field.data(), i, 0x0A);
  if (fill.empty()) {
    auto r = random_bytes(8);
    if (!r) return r.error();
    std::copy(r->begin(), r->end(), pin_field.data() + 8);
  } else {
    std::copy(fill.begin(), fill.end(), pin_field.data() + 8);
  }
  const auto pan_field = pan_field_16(pan);

  // 9.4.2.3: block A = E(K, plain PIN field); B = A xor plain PAN field; PIN block = E(K, B).
  secure_bytes work(block16);
  if (auto st = ecb_encrypt(cipher::aes, aes_key, pin_field.view(), work.data()); !st) return st.error();
  xor_into(work.view(), pan_field, work.data());
  bytes out(block16);
  if (auto st = ecb_encrypt(cipher::aes, aes_key, work.view(), out.data()); !st) return st.error();
  return out;
}

outcome<clear_pin> decrypt_pin_block_iso4(byte_view aes_key, byte_view block, std::string_view pan) {
  if (!key_length_ok(cipher::aes, aes_key.size())) return failure{errc::bad_key_length, key_length_hint(cipher::aes)};
  if (block.size() != block16) return failure{errc::bad_data_length, "a format 4 PIN block is 16 bytes"};
  if (auto st = check_pan(pan, pin_block_format::iso4); !st) return st.error();
  const auto pan_field = pan_field_16(pan);
  secure_bytes work(block16);
  if (auto st = ecb_decrypt(cipher::aes, aes_key, block, work.data()); !st) return st.error();
  xor_into(work.view(), pan_field, work.data());
  secure_bytes pin_field(block16);
  if (auto st = ecb_decrypt(cipher::aes, aes_key, work.view(), pin_field.data()); !st) return st.error();
  // Fill A from after the PIN to the end of the first 8 bytes; the last 8 bytes are random.
  return parse_pin_field(pin_field.data(), 4, 16, [](std::uint8_t n) { return n == 0x0A; });
}

namespace {

// ECB under a PIN key: its prepared schedules when there are, the key otherwise.
status pin_key_ecb(const pin_key_spec& k, bool encrypt, byte_view in, std::uint8_t* out) {
  if (k.schedule != nullptr && k.schedule->algorithm() == k.algorithm) {
    return encrypt ? ecb_encrypt(*k.schedule, in, out) : ecb_decrypt(*k.schedule, in, out);
  }
  return encrypt ? ecb_encrypt(k.algorithm, k.key, in, out) : ecb_decrypt(k.algorithm, k.key, in, out);
}

outcome<bytes> encrypt_pin_with(const pin_key_spec& k, std::string_view pin, std::string_view pan, byte_view fill) {
  if (k.format == pin_block_format::iso4) {
    if (k.algorithm != cipher::aes) return failure{errc::bad_format, "format 4 PIN blocks are encrypted with AES"};
    return encrypt_pin_block_iso4(k.key, pin, pan, fill);
  }
  if (!is_tdes_format(k.format)) return failure{errc::bad_format, "unknown PIN block format"};
  if (k.algorithm != cipher::tdes) {
    return failure{errc::bad_format, "format 0, 1 and 3 PIN blocks are encrypted with TDES"};
  }
  if (!key_length_ok(k.algorithm, k.key.size())) return failure{errc::bad_key_length, key_length_hint(k.algorithm)};
  auto clear = make_pin_block(k.format, pin, pan, fill);
  if (!clear) return clear.error();
  bytes out(block8);
  if (auto st = pin_key_ecb(k, true, clear->view(), out.data()); !st) return st.error();
  return out;
}

outcome<clear_pin> decrypt_pin_with(const pin_key_spec& k, byte_view block, std::string_view pan) {
  if (k.format == pin_block_format::iso4) {
    if (k.algorithm != cipher::aes) return failure{errc::bad_format, "format 4 PIN blocks are encrypted with AES"};
    return decrypt_pin_block_iso4(k.key, block, pan);
  }
  if (!is_tdes_format(k.format)) return failure{errc::bad_format, "unknown PIN block format"};
  if (k.algorithm != cipher::tdes) {
    return failure{errc::bad_format, "format 0, 1 and 3 PIN blocks are encrypted with TDES"};
  }
  if (!key_length_ok(k.algorithm, k.key.size())) return failure{errc::bad_key_length, key_length_hint(k.algorithm)};
  if (block.size() != block8) return failure{errc::bad_data_length, "a format 0, 1 or 3 PIN block is 8 bytes"};
  secure_bytes clear(block8);
  if (auto st = pin_key_ecb(k, false, block, clear.data()); !st) return st.error();
  return read_pin_block(k.format, clear.view(), pan);
}

}  // namespace

outcome<bytes> encrypt_pin(pin_block_format f, cipher c, byte_view key, std::string_view pin, std::string_view pan,
                           byte_view fill) {
  return encrypt_pin_with({f, c, key}, pin, pan, fill);
}

outcome<clear_pin> decrypt_pin(pin_block_format f, cipher c, byte_view key, byte_view block, std::string_view pan) {
  return decrypt_pin_with({f, c, key}, block, pan);
}

outcome<bytes> translate_pin_block(const pin_key_spec& from, byte_view block, const pin_key_spec& to,
                                   std::string_view pan, byte_view fill) {
  // PCI PIN Security Requirement 3-3: a block that carries the PAN (formats 0, 3, 4) must not be
  // turned into one that does not (format 1). Refused before anything is decrypted.
  if (to.format == pin_block_format::iso1 && from.format != pin_block_format::iso1) {
    return failure{errc::format_not_allowed, "only a format 1 PIN block may be translated into format 1"};
  }
  auto pin = decrypt_pin_with(from, block, pan);
  if (!pin) return pin.error();
  return encrypt_pin_with(to, as_text(*pin), pan, fill);
}

}  // namespace eft::crypto
