// AES DUKPT, ANSI X9.24-3-2017 (host side: keys computed straight from BDK or initial key + KSN).
#include <array>
#include <bit>
#include <cstring>
#include <string>

#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/primitives.hpp"

namespace eft::crypto {

namespace {

std::string counter_hex(std::uint32_t c) {
  const std::array<std::uint8_t, 4> b = {static_cast<std::uint8_t>(c >> 24), static_cast<std::uint8_t>(c >> 16),
                                         static_cast<std::uint8_t>(c >> 8), static_cast<std::uint8_t>(c)};
  return to_hex(b);
}

failure ksn_length(std::size_t n) {
  return {errc::bad_ksn,
          "AES DUKPT KSNs are 12 bytes (8-byte initial key ID, 4-byte counter); got " + std::to_string(n)};
}

failure aes_key_length() {
  return {errc::bad_key_length, "AES DUKPT BDKs and initial keys are 16, 24 or 32 bytes (AES-128/192/256)"};
}

std::uint16_t algorithm_indicator(dukpt_aes_key_type t) noexcept {
  switch (t) {
    case dukpt_aes_key_type::tdes2:
      return 0x0000;
    case dukpt_aes_key_type::tdes3:
      return 0x0001;
    case dukpt_aes_key_type::aes128:
      return 0x0002;
    case dukpt_aes_key_type::aes192:
      return 0x0003;
    case dukpt_aes_key_type::aes256:
      return 0x0004;
    case dukpt_aes_key_type::hmac128:
    case dukpt_aes_key_type::hmac192:
    case dukpt_aes_key_type::hmac256:
      return 0x0005;
  }
  return 0xFFFF;
}

// The derivation-data tail of intermediate and working keys: the derivation ID (right 4 bytes of the
// initial key ID) and the big-endian counter.
std::array<std::uint8_t, 8> counter_tail(byte_view ksn, std::uint32_t counter) noexcept {
  std::array<std::uint8_t, 8> tail{};
  std::memcpy(tail.data(), ksn.data() + 4, 4);
  tail[4] = static_cast<std::uint8_t>(counter >> 24);
  tail[5] = static_cast<std::uint8_t>(counter >> 16);
  tail[6] = static_cast<std::uint8_t>(counter >> 8);
  tail[7] = static_cast<std::uint8_t>(counter);
  return tail;
}

// 6.3.1 "Derive Key": as many AES-ECB blocks of the derivation data (block counter 1, 2) under the
// derivation key as the derived key needs, truncated to its length.
outcome<secure_bytes> derive(byte_view key, dukpt_aes_usage u, dukpt_aes_key_type t,
                             const std::array<std::uint8_t, 8>& tail) {
  const std::size_t n = key_size(t);
  secure_bytes out((n + 15) / 16 * 16);
  for (std::size_t i = 0; i * 16 < n; ++i) {
    const auto data = dukpt_aes_derivation_data(u, t, tail, static_cast<std::uint8_t>(i + 1));
    if (auto st = ecb_encrypt(cipher::aes, key, data, out.data() + 16 * i); !st) return st.error();
  }
  out.resize(n);
  return out;
}

// Bits of strength that count for the "working key no stronger than its derivation key" rule.
std::size_t strength_bits(dukpt_aes_key_type t) noexcept {
  switch (t) {
    case dukpt_aes_key_type::tdes2:
    case dukpt_aes_key_type::tdes3:
      return 0;  // TDEA (at most 112 bits) derives from any AES key
    default:
      return key_size(t) * 8;
  }
}

}  // namespace

std::string_view to_string(dukpt_aes_usage u) noexcept {
  switch (u) {
    case dukpt_aes_usage::key_encryption:
      return "key-encryption";
    case dukpt_aes_usage::pin_encryption:
      return "pin";
    case dukpt_aes_usage::mac_generation:
      return "mac-generation";
    case dukpt_aes_usage::mac_verification:
      return "mac-verification";
    case dukpt_aes_usage::mac_both:
      return "mac-both";
    case dukpt_aes_usage::data_encrypt:
      return "data-encrypt";
    case dukpt_aes_usage::data_decrypt:
      return "data-decrypt";
    case dukpt_aes_usage::data_both:
      return "data-both";
    case dukpt_aes_usage::key_derivation:
      return "key-derivation";
    case dukpt_aes_usage::initial_key:
      return "initial-key";
  }
  return "unknown";
}

std::string_view to_string(dukpt_aes_key_type t) noexcept {
  switch (t) {
    case dukpt_aes_key_type::tdes2:
      return "tdes2";
    case dukpt_aes_key_type::tdes3:
      return "tdes3";
    case dukpt_aes_key_type::aes128:
      return "aes128";
    case dukpt_aes_key_type::aes192:
      return "aes192";
    case dukpt_aes_key_type::aes256:
      return "aes256";
    case dukpt_aes_key_type::hmac128:
      return "hmac128";
    case dukpt_aes_key_type::hmac192:
      return "hmac192";
    case dukpt_aes_key_type::hmac256:
      return "hmac256";
  }
  return "unknown";
}

std::size_t key_size(dukpt_aes_key_type t) noexcept {
  switch (t) {
    case dukpt_aes_key_type::tdes2:
    case dukpt_aes_key_type::aes128:
    case dukpt_aes_key_type::hmac128:
      return 16;
    case dukpt_aes_key_type::tdes3:
    case dukpt_aes_key_type::aes192:
    case dukpt_aes_key_type::hmac192:
      return 24;
    case dukpt_aes_key_type::aes256:
    case dukpt_aes_key_type::hmac256:
      return 32;
  }
  return 0;
}

outcome<dukpt_aes_key_type> dukpt_aes_key_type_for(std::size_t aes_key_size) {
  switch (aes_key_size) {
    case 16:
      return dukpt_aes_key_type::aes128;
    case 24:
      return dukpt_aes_key_type::aes192;
    case 32:
      return dukpt_aes_key_type::aes256;
    default:
      return aes_key_length();
  }
}

std::array<std::uint8_t, 16> dukpt_aes_derivation_data(dukpt_aes_usage u, dukpt_aes_key_type t,
                                                       std::span<const std::uint8_t, 8> tail,
                                                       std::uint8_t block_counter) noexcept {
  const auto usage = static_cast<std::uint16_t>(u);
  const std::uint16_t algorithm = algorithm_indicator(t);
  const auto bits = static_cast<std::uint16_t>(key_size(t) * 8);
  std::array<std::uint8_t, 16> d = {0x01,
                                    block_counter,
                                    static_cast<std::uint8_t>(usage >> 8),
                                    static_cast<std::uint8_t>(usage),
                                    static_cast<std::uint8_t>(algorithm >> 8),
                                    static_cast<std::uint8_t>(algorithm),
                                    static_cast<std::uint8_t>(bits >> 8),
                                    static_cast<std::uint8_t>(bits)};
  std::memcpy(d.data() + 8, tail.data(), 8);
  return d;
}

outcome<std::uint32_t> dukpt_aes_counter(byte_view ksn) {
  if (ksn.size() != dukpt_aes_ksn_size) return ksn_length(ksn.size());
  return static_cast<std::uint32_t>(ksn[8]) << 24 | static_cast<std::uint32_t>(ksn[9]) << 16 |
         static_cast<std::uint32_t>(ksn[10]) << 8 | ksn[11];
}

status dukpt_aes_check_counter(std::uint32_t counter) {
  if (counter == 0) return {errc::bad_ksn, "counter 00000000 is the initial KSN: no transaction key derives from it"};
  if (counter > dukpt_aes_last_counter) {
    return {errc::ksn_exhausted, "counter " + counter_hex(counter) + " is past FFFF0000, the last usable counter"};
  }
  if (const int ones = std::popcount(counter); ones > dukpt_aes_max_counter_bits) {
    return {errc::bad_ksn, "counter " + counter_hex(counter) + " has " + std::to_string(ones) +
                               " one-bits; devices skip counters with more than 16 (X9.24-3-2017)"};
  }
  return ok();
}

outcome<std::uint32_t> dukpt_aes_next_counter(std::uint32_t counter) {
  if (counter >= dukpt_aes_last_counter) {
    return {errc::ksn_exhausted, "no usable counter after " + counter_hex(counter) + " (last is FFFF0000)"};
  }
  // As for TDES: from n up to n + lowest-one-bit(n) every value keeps n's high bits; skip them.
  std::uint32_t n = counter + 1;
  while (std::popcount(n) > dukpt_aes_max_counter_bits) n += n & (~n + 1);
  return n;
}

outcome<bytes> dukpt_aes_next_ksn(byte_view ksn) {
  auto counter = dukpt_aes_counter(ksn);
  if (!counter) return counter.error();
  auto next = dukpt_aes_next_counter(*counter);
  if (!next) return next.error();
  bytes out(ksn.begin(), ksn.end());
  out[8] = static_cast<std::uint8_t>(*next >> 24);
  out[9] = static_cast<std::uint8_t>(*next >> 16);
  out[10] = static_cast<std::uint8_t>(*next >> 8);
  out[11] = static_cast<std::uint8_t>(*next);
  return out;
}

outcome<secure_bytes> dukpt_aes_initial_key(byte_view bdk, byte_view initial_key_id) {
  auto type = dukpt_aes_key_type_for(bdk.size());
  if (!type) return type.error();
  if (initial_key_id.size() != dukpt_aes_initial_key_id_size && initial_key_id.size() != dukpt_aes_ksn_size) {
    return failure{errc::bad_ksn, "the AES DUKPT initial key ID is 8 bytes (or give the 12-byte KSN); got " +
                                      std::to_string(initial_key_id.size())};
  }
  std::array<std::uint8_t, 8> tail{};
  std::memcpy(tail.data(), initial_key_id.data(), 8);
  return derive(bdk, dukpt_aes_usage::initial_key, *type, tail);
}

outcome<secure_bytes> dukpt_aes_derivation_key(byte_view initial_key, byte_view ksn) {
  auto type = dukpt_aes_key_type_for(initial_key.size());
  if (!type) return type.error();
  auto counter = dukpt_aes_counter(ksn);
  if (!counter) return counter.error();
  if (auto st = dukpt_aes_check_counter(*counter); !st) return st.error();
  // 6.3.1: one derivation per one-bit of the counter from the left; the derivation data carries the
  // counter bits walked so far. Every intermediate key has the initial key's type.
  secure_bytes key(initial_key);
  std::uint32_t walked = 0;
  for (std::uint32_t bit = 1U << 31; bit != 0; bit >>= 1) {
    if ((*counter & bit) == 0) continue;
    walked |= bit;
    auto next = derive(key, dukpt_aes_usage::key_derivation, *type, counter_tail(ksn, walked));
    if (!next) return next;
    key = std::move(*next);
  }
  return key;
}

outcome<secure_bytes> dukpt_aes_key_from_initial_key(byte_view initial_key, byte_view ksn, dukpt_aes_usage u,
                                                     dukpt_aes_key_type t) {
  if (u == dukpt_aes_usage::key_derivation || u == dukpt_aes_usage::initial_key) {
    return failure{errc::bad_format, std::string(to_string(u)) + " is not a working key usage"};
  }
  auto type = dukpt_aes_key_type_for(initial_key.size());
  if (!type) return type.error();
  if (strength_bits(t) > initial_key.size() * 8) {
    return failure{errc::bad_format, std::string(to_string(t)) + " working key from an " +
                                         std::string(to_string(*type)) +
                                         " BDK: a working key is never stronger than its BDK (X9.24-3-2017)"};
  }
  auto derivation_key = dukpt_aes_derivation_key(initial_key, ksn);
  if (!derivation_key) return derivation_key;
  // Counter checked by dukpt_aes_derivation_key; the working key's data carries the full counter.
  return derive(*derivation_key, u, t, counter_tail(ksn, *dukpt_aes_counter(ksn)));
}

outcome<secure_bytes> dukpt_aes_key(byte_view bdk, byte_view ksn, dukpt_aes_usage u, dukpt_aes_key_type t) {
  if (ksn.size() != dukpt_aes_ksn_size) return ksn_length(ksn.size());
  auto initial_key = dukpt_aes_initial_key(bdk, ksn);
  if (!initial_key) return initial_key;
  return dukpt_aes_key_from_initial_key(*initial_key, ksn, u, t);
}

}  // namespace eft::crypto
