// TDES DUKPT, ANSI X9.24-1:2009 Annex A (host side: keys computed straight from BDK or IPEK + KSN).
#include <array>
#include <bit>
#include <cstring>
#include <string>

#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/primitives.hpp"

namespace eft::crypto {

namespace {

// Fixed-size scratch for key halves and registers, wiped on every exit path.
template <std::size_t N>
struct scratch {
  std::array<std::uint8_t, N> b{};
  scratch() = default;
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  ~scratch() { wipe(b.data(), N); }
  std::uint8_t* data() noexcept { return b.data(); }
  std::uint8_t& operator[](std::size_t i) noexcept { return b[i]; }
  byte_view view() const noexcept { return {b.data(), N}; }
};

// The C0C0C0C000000000C0C0C0C000000000 mask of A.2 ("Non-reversible Key Generation Process", step 4)
// and A.6 (right half of the IPEK).
constexpr std::array<std::uint8_t, 16> key_mask = {0xC0, 0xC0, 0xC0, 0xC0, 0, 0, 0, 0,
                                                   0xC0, 0xC0, 0xC0, 0xC0, 0, 0, 0, 0};

std::string counter_hex(std::uint32_t c) {
  const std::array<std::uint8_t, 3> b = {static_cast<std::uint8_t>(c >> 16), static_cast<std::uint8_t>(c >> 8),
                                         static_cast<std::uint8_t>(c)};
  return to_hex(b);
}

failure ksn_length(std::size_t n) {
  return {errc::bad_ksn, "TDES DUKPT KSNs are 10 bytes; got " + std::to_string(n)};
}

failure bdk_length() {
  return {errc::bad_key_length, "TDES DUKPT keys are 16 bytes (2-key TDES)"};
}

// One pass of the non-reversible key generation process (X9.24-1:2009 A.2, steps 1-7): `key`
// (16 bytes) becomes the key for the KSN register value `reg` (the right-most 8 KSN bytes with
// the counter bits walked so far).
status non_reversible_key(std::span<std::uint8_t, 16> key, const std::array<std::uint8_t, 8>& reg) {
  scratch<8> right;  // the new right half (Crypto Register-2)
  scratch<8> left;   // the new left half (Crypto Register-1)
  xor_into(reg, key.subspan(8, 8), right.data());
  if (auto st = ecb_encrypt(cipher::des, key.first(8), right.view(), right.data()); !st) return st;
  xor_into(right.view(), key.subspan(8, 8), right.data());
  xor_into(key, key_mask, key.data());
  xor_into(reg, key.subspan(8, 8), left.data());
  if (auto st = ecb_encrypt(cipher::des, key.first(8), left.view(), left.data()); !st) return st;
  xor_into(left.view(), key.subspan(8, 8), left.data());
  std::memcpy(key.data(), left.data(), 8);
  std::memcpy(key.data() + 8, right.data(), 8);
  return ok();
}

}  // namespace

std::string_view to_string(dukpt_tdes_usage u) noexcept {
  switch (u) {
    case dukpt_tdes_usage::ipek:
      return "ipek";
    case dukpt_tdes_usage::transaction:
      return "transaction";
    case dukpt_tdes_usage::pin:
      return "pin";
    case dukpt_tdes_usage::mac_request:
      return "mac-request";
    case dukpt_tdes_usage::mac_response:
      return "mac-response";
    case dukpt_tdes_usage::data_request:
      return "data-request";
    case dukpt_tdes_usage::data_response:
      return "data-response";
  }
  return "unknown";
}

outcome<std::uint32_t> dukpt_tdes_counter(byte_view ksn) {
  if (ksn.size() != dukpt_tdes_ksn_size) return ksn_length(ksn.size());
  return static_cast<std::uint32_t>((ksn[7] & 0x1F) << 16 | ksn[8] << 8 | ksn[9]);
}

status dukpt_tdes_check_counter(std::uint32_t counter) {
  if (counter == 0) return {errc::bad_ksn, "counter 000000 is the initial KSN: no transaction key derives from it"};
  if (counter > dukpt_tdes_last_counter) {
    return {errc::ksn_exhausted, "counter " + counter_hex(counter) + " is past 1FF800, the last usable counter"};
  }
  if (const int ones = std::popcount(counter); ones > dukpt_tdes_max_counter_bits) {
    return {errc::bad_ksn, "counter " + counter_hex(counter) + " has " + std::to_string(ones) +
                               " one-bits; devices skip counters with more than 10 (X9.24-1:2009 A.2)"};
  }
  return ok();
}

outcome<std::uint32_t> dukpt_tdes_next_counter(std::uint32_t counter) {
  if (counter > dukpt_tdes_counter_mask) return {errc::bad_input, "a TDES DUKPT counter has 21 bits"};
  if (counter >= dukpt_tdes_last_counter) {
    return {errc::ksn_exhausted, "no usable counter after " + counter_hex(counter) + " (last is 1FF800)"};
  }
  // Every value from n up to n + lowest-one-bit(n) keeps n's high bits, so none of them qualifies
  // while n has too many one-bits: jump past them (the device's "add the shift register" step).
  std::uint32_t n = counter + 1;
  while (std::popcount(n) > dukpt_tdes_max_counter_bits) n += n & (~n + 1);
  return n;
}

outcome<bytes> dukpt_tdes_next_ksn(byte_view ksn) {
  auto counter = dukpt_tdes_counter(ksn);
  if (!counter) return counter.error();
  auto next = dukpt_tdes_next_counter(*counter);
  if (!next) return next.error();
  bytes out(ksn.begin(), ksn.end());
  out[7] = static_cast<std::uint8_t>((out[7] & 0xE0) | (*next >> 16));
  out[8] = static_cast<std::uint8_t>(*next >> 8);
  out[9] = static_cast<std::uint8_t>(*next);
  return out;
}

outcome<secure_bytes> dukpt_tdes_ipek(byte_view bdk, byte_view ksn) {
  if (bdk.size() != dukpt_tdes_key_size) return bdk_length();
  if (ksn.size() != dukpt_tdes_ksn_size) return ksn_length(ksn.size());
  // A.6: the left 8 KSN bytes with the 21 counter bits cleared, encrypted under the BDK (left half
  // of the IPEK) and under the BDK XOR C0C0C0C000000000C0C0C0C000000000 (right half).
  std::array<std::uint8_t, 8> reg{};
  std::memcpy(reg.data(), ksn.data(), 8);
  reg[7] &= 0xE0;
  secure_bytes ipek(dukpt_tdes_key_size);
  if (auto st = ecb_encrypt(cipher::tdes, bdk, reg, ipek.data()); !st) return st.error();
  scratch<16> masked;
  xor_into(bdk, key_mask, masked.data());
  if (auto st = ecb_encrypt(cipher::tdes, masked.view(), reg, ipek.data() + 8); !st) return st.error();
  return ipek;
}

outcome<secure_bytes> dukpt_tdes_transaction_key(byte_view ipek, byte_view ksn) {
  if (ipek.size() != dukpt_tdes_key_size) return bdk_length();
  auto counter = dukpt_tdes_counter(ksn);
  if (!counter) return counter.error();
  if (auto st = dukpt_tdes_check_counter(*counter); !st) return st.error();
  // A.3 (host side): start from the IPEK with the counter bits of the KSN register cleared, and for
  // each one-bit of the counter from the left set it in the register and generate the next key.
  std::array<std::uint8_t, 8> reg{};
  std::memcpy(reg.data(), ksn.data() + 2, 8);
  reg[5] &= 0xE0;
  reg[6] = 0;
  reg[7] = 0;
  secure_bytes key(ipek);
  std::span<std::uint8_t, 16> k(key.data(), 16);
  for (std::uint32_t bit = 1U << 20; bit != 0; bit >>= 1) {
    if ((*counter & bit) == 0) continue;
    reg[5] |= static_cast<std::uint8_t>(bit >> 16);
    reg[6] |= static_cast<std::uint8_t>(bit >> 8);
    reg[7] |= static_cast<std::uint8_t>(bit);
    if (auto st = non_reversible_key(k, reg); !st) return st.error();
  }
  return key;
}

outcome<secure_bytes> dukpt_tdes_variant(byte_view transaction_key, dukpt_tdes_usage u) {
  if (transaction_key.size() != dukpt_tdes_key_size) return bdk_length();
  secure_bytes key(transaction_key);
  // Table A-1: the variant constant XORs 0xFF into byte i of each half.
  std::size_t i = 0;
  switch (u) {
    case dukpt_tdes_usage::ipek:
      return failure{errc::bad_format, "an IPEK derives from the BDK, not from a transaction key"};
    case dukpt_tdes_usage::transaction:
      return key;
    case dukpt_tdes_usage::pin:
      i = 7;
      break;
    case dukpt_tdes_usage::mac_request:
      i = 6;
      break;
    case dukpt_tdes_usage::mac_response:
      i = 4;
      break;
    case dukpt_tdes_usage::data_request:
      i = 5;
      break;
    case dukpt_tdes_usage::data_response:
      i = 3;
      break;
  }
  key[i] ^= 0xFF;
  key[i + 8] ^= 0xFF;
  if (u != dukpt_tdes_usage::data_request && u != dukpt_tdes_usage::data_response) return key;
  // A.4.1, Figure A-2: each half of the data variant encrypted under the whole variant (two ECB
  // blocks in one call), so the data key is not a plain variant of the PIN and MAC keys.
  secure_bytes data_key(dukpt_tdes_key_size);
  if (auto st = ecb_encrypt(cipher::tdes, key, key, data_key.data()); !st) return st.error();
  return data_key;
}

outcome<secure_bytes> dukpt_tdes_key_from_ipek(byte_view ipek, byte_view ksn, dukpt_tdes_usage u) {
  if (u == dukpt_tdes_usage::ipek) {
    if (ipek.size() != dukpt_tdes_key_size) return bdk_length();
    return secure_bytes(ipek);
  }
  auto key = dukpt_tdes_transaction_key(ipek, ksn);
  if (!key || u == dukpt_tdes_usage::transaction) return key;
  return dukpt_tdes_variant(*key, u);
}

outcome<secure_bytes> dukpt_tdes_key(byte_view bdk, byte_view ksn, dukpt_tdes_usage u) {
  auto ipek = dukpt_tdes_ipek(bdk, ksn);
  if (!ipek || u == dukpt_tdes_usage::ipek) return ipek;
  return dukpt_tdes_key_from_ipek(*ipek, ksn, u);
}

}  // namespace eft::crypto
