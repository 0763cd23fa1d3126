#include "eft/crypto/mac.hpp"

#include <array>
#include <string>

namespace eft::crypto {

namespace {

constexpr std::size_t min_mac_length = 4;

// The last block of a CBC encryption with zero IV over whole blocks.
outcome<bytes> cbc_last_block(cipher c, byte_view key, byte_view padded) {
  auto chain = cbc_encrypt(c, key, {}, padded);
  if (!chain) return chain.error();
  const std::size_t bs = block_size(c);
  return bytes(chain->end() - static_cast<std::ptrdiff_t>(bs), chain->end());
}

// The 8-byte result of a DES or TDES MAC chain (primitives.hpp) over the data padded for it.
template <typename Chain>
outcome<bytes> chained(byte_view data, mac_padding p, Chain chain) {
  bytes h(8);
  if (auto st = chain(pad_iso9797_1(data, 8, p), h.data()); !st) return st.error();
  return h;
}

}  // namespace

bytes pad_iso9797_1(byte_view data, std::size_t block, mac_padding p) {
  bytes out(data.begin(), data.end());
  if (p == mac_padding::method2) out.push_back(0x80);
  const std::size_t rem = out.size() % block;
  if (rem != 0) out.resize(out.size() + block - rem, 0x00);
  if (out.empty()) out.resize(block, 0x00);  // method 1 on empty data: one zero block
  return out;
}

outcome<bytes> mac_iso9797_1_alg1(cipher c, byte_view key, byte_view data, mac_padding p) {
  if (!key_length_ok(c, key.size())) return failure{errc::bad_key_length, key_length_hint(c)};
  return cbc_last_block(c, key, pad_iso9797_1(data, block_size(c), p));
}

outcome<bytes> mac_iso9797_1_alg3(byte_view key, byte_view data, mac_padding p) {
  // ISO/IEC 9797-1:2011 output transformation 3 (MAC algorithm 3): G = e_K(d_K'(H_q)), done by
  // retail_mac_chain with two key set-ups (K, K') instead of one per step; it checks the key length.
  return chained(data, p, [&](byte_view padded, std::uint8_t* out) { return retail_mac_chain(key, padded, out); });
}

std::size_t full_mac_length(const mac_options& o) noexcept {
  switch (o.scheme) {
    case mac_scheme::iso9797_1_alg3:
      return 8;
    case mac_scheme::hmac_sha256:
      return 32;
    case mac_scheme::iso9797_1_alg1:
    case mac_scheme::cmac:
      return block_size(o.block_cipher);
  }
  return 0;
}

std::size_t default_mac_length(const mac_options& o) noexcept {
  const bool des_based =
      o.scheme == mac_scheme::iso9797_1_alg3 ||
      ((o.scheme == mac_scheme::iso9797_1_alg1 || o.scheme == mac_scheme::cmac) && o.block_cipher != cipher::aes);
  return des_based ? 8 : full_mac_length(o);
}

outcome<bytes> compute_mac(const mac_options& o, byte_view key, byte_view data) {
  const std::size_t full = full_mac_length(o);
  const std::size_t length = o.length == 0 ? default_mac_length(o) : o.length;
  if (length < min_mac_length || length > full) {
    return failure{errc::bad_input, "MAC length must be " + std::to_string(min_mac_length) + " to " +
                                        std::to_string(full) + " bytes for this scheme"};
  }
  if (o.padding != mac_padding::method1 && o.padding != mac_padding::method2) {
    return failure{errc::bad_format, "ISO 9797-1 padding method must be 1 or 2"};
  }
  outcome<bytes> mac = failure{errc::bad_format, "unknown MAC scheme"};
  const des_key_schedule* ks = o.schedule;
  switch (o.scheme) {
    case mac_scheme::iso9797_1_alg1:
      if (ks != nullptr && o.block_cipher != cipher::aes && ks->algorithm() == o.block_cipher) {
        mac = chained(data, o.padding,
                      [&](byte_view padded, std::uint8_t* out) { return cbc_mac_chain(*ks, padded, out); });
      } else {
        mac = mac_iso9797_1_alg1(o.block_cipher, key, data, o.padding);
      }
      break;
    case mac_scheme::iso9797_1_alg3:
      if (o.block_cipher == cipher::aes) return failure{errc::bad_format, "MAC algorithm 3 is defined here with DES"};
      if (ks != nullptr && ks->algorithm() == cipher::tdes && key.size() == 16) {
        mac = chained(data, o.padding,
                      [&](byte_view padded, std::uint8_t* out) { return retail_mac_chain(*ks, padded, out); });
      } else {
        mac = mac_iso9797_1_alg3(key, data, o.padding);
      }
      break;
    case mac_scheme::cmac:
      mac = cmac(o.block_cipher, key, data);
      break;
    case mac_scheme::hmac_sha256:
      mac = hmac_sha256(key, data);
      break;
  }
  if (!mac) return mac;
  mac->resize(length);
  return mac;
}

outcome<bool> check_mac(const mac_options& o, byte_view key, byte_view data, byte_view mac) {
  if (o.length != 0 && mac.size() != o.length) {
    return failure{errc::bad_data_length,
                   "MAC of " + std::to_string(mac.size()) + " bytes; expected " + std::to_string(o.length)};
  }
  mac_options with_length = o;
  with_length.length = mac.size();
  if (mac.empty()) return failure{errc::bad_data_length, "empty MAC"};
  auto expected = compute_mac(with_length, key, data);
  if (!expected) return expected.error();
  return equal_ct(*expected, mac);
}

}  // namespace eft::crypto
