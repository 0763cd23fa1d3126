#pragma once
/// Block-cipher building blocks over OpenSSL 3: TDES (2- and 3-key) and single DES on OpenSSL's DES
/// key schedules (no legacy provider needed), AES-128/192/256 through EVP, in ECB and CBC without
/// padding; CMAC and HMAC-SHA256. Every algorithm of the crypto library is written on top of these.

#include <cstdint>
#include <memory>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"

namespace eft::crypto {

/// Block cipher families.
enum class cipher : std::uint8_t {
  des,   ///< single DES, 8-byte key
  tdes,  ///< triple DES EDE, 16-byte (K1 K2 K1) or 24-byte key
  aes,   ///< AES, 16-, 24- or 32-byte key
};

/// Block size in bytes (8 for DES and TDES, 16 for AES).
constexpr std::size_t block_size(cipher c) noexcept {
  return c == cipher::aes ? 16 : 8;
}

/// Why a key length does not suit the cipher ("TDES keys are 16 or 24 bytes").
std::string key_length_hint(cipher c);

/// True when the key length suits the cipher.
bool key_length_ok(cipher c, std::size_t n) noexcept;

/// ECB encryption or decryption of whole blocks; `out` may equal `in`. Errors: bad_key_length,
/// bad_data_length (not whole blocks), backend.
status ecb_encrypt(cipher c, byte_view key, byte_view in, std::uint8_t* out);
status ecb_decrypt(cipher c, byte_view key, byte_view in, std::uint8_t* out);

/// CBC encryption or decryption of whole blocks with the given IV (block size; all zeros when empty);
/// `out` may equal `in`.
status cbc_encrypt(cipher c, byte_view key, byte_view iv, byte_view in, std::uint8_t* out);
status cbc_decrypt(cipher c, byte_view key, byte_view iv, byte_view in, std::uint8_t* out);

/// The key schedules of a DES or TDES key, set up once for a key used many times (a stored key):
/// setting up one DES key costs about as much as enciphering a block, and each TDES operation sets
/// up two or three. Immutable once made, so one may serve several threads at once; wiped on
/// destruction.
class des_key_schedule {
 public:
  /// Errors: bad_key_length (DES keys are 8 bytes, TDES 16 or 24), bad_format for AES.
  static outcome<std::shared_ptr<const des_key_schedule>> make(cipher c, byte_view key);
  ~des_key_schedule();
  des_key_schedule(const des_key_schedule&) = delete;
  des_key_schedule& operator=(const des_key_schedule&) = delete;
  des_key_schedule(des_key_schedule&&) = delete;
  des_key_schedule& operator=(des_key_schedule&&) = delete;

  /// des or tdes.
  cipher algorithm() const noexcept { return cipher_; }

  struct schedules;  ///< OpenSSL's; defined where they are used

 private:
  des_key_schedule(cipher c, std::unique_ptr<schedules> s) noexcept;
  friend status ecb_encrypt(const des_key_schedule& k, byte_view in, std::uint8_t* out);
  friend status ecb_decrypt(const des_key_schedule& k, byte_view in, std::uint8_t* out);
  friend status cbc_mac_chain(const des_key_schedule& k, byte_view padded, std::uint8_t* out);
  friend status retail_mac_chain(const des_key_schedule& k, byte_view padded, std::uint8_t* out);
  cipher cipher_;
  std::unique_ptr<schedules> schedules_;
};

/// ECB encryption or decryption of whole blocks under prepared schedules; the same results as the
/// forms above with the key. `out` may equal `in`. Errors: bad_data_length (not whole blocks).
status ecb_encrypt(const des_key_schedule& k, byte_view in, std::uint8_t* out);
status ecb_decrypt(const des_key_schedule& k, byte_view in, std::uint8_t* out);

/// The CBC-MAC chains of ISO/IEC 9797-1 over data already padded to whole 8-byte blocks, zero IV;
/// each writes the 8-byte result (before any truncation) to `out`. Errors: bad_data_length (empty,
/// or not whole blocks).
/// MAC algorithm 1 under prepared DES or TDES schedules: the last block of the CBC encryption.
status cbc_mac_chain(const des_key_schedule& k, byte_view padded, std::uint8_t* out);
/// MAC algorithm 3 (retail MAC, ANSI X9.19) under a 2-key TDES key K || K' (bad_key_length
/// otherwise): single-DES CBC under K, the last block then E_K(D_K'(.)), which makes the last step
/// TDES under K K' K. On prepared schedules, or on the key (its schedules set up for the call).
status retail_mac_chain(const des_key_schedule& k, byte_view padded, std::uint8_t* out);
status retail_mac_chain(byte_view key, byte_view padded, std::uint8_t* out);

/// Convenience forms returning a new buffer.
outcome<bytes> ecb_encrypt(cipher c, byte_view key, byte_view in);
outcome<bytes> ecb_decrypt(cipher c, byte_view key, byte_view in);
outcome<bytes> cbc_encrypt(cipher c, byte_view key, byte_view iv, byte_view in);
outcome<bytes> cbc_decrypt(cipher c, byte_view key, byte_view iv, byte_view in);

/// CMAC (NIST SP 800-38B) with TDES or AES; the full block-size tag.
outcome<bytes> cmac(cipher c, byte_view key, byte_view data);

/// HMAC-SHA256 (RFC 2104, FIPS 198-1); the 32-byte tag.
outcome<bytes> hmac_sha256(byte_view key, byte_view data);

/// HMAC-SHA256 under one key set up once, for hot paths that MAC many messages under the same key
/// (the journal's PAN hashes and sealed messages): each call copies the keyed state instead of
/// fetching the digest and processing the key again. Copies share the state; calls from several
/// threads at once are safe.
class hmac_sha256_key {
 public:
  /// Keys it (any length). A key OpenSSL refuses leaves it unusable: mac() then fails with backend.
  explicit hmac_sha256_key(byte_view key);
  /// The 32-byte tag of `data`, equal to hmac_sha256(key, data).
  outcome<bytes> mac(byte_view data) const;

 private:
  struct state;
  std::shared_ptr<state> state_;  // shared by copies; its pool of contexts is locked
};

/// SHA-1 (FIPS 180-4), 20 bytes: only where a standard requires it (EMV ICC master key option B).
outcome<bytes> sha1(byte_view data);

/// Cryptographically strong random bytes.
outcome<secure_bytes> random_bytes(std::size_t n);

/// Sets the DES odd-parity bit of every byte (the low bit), as key generation and derivations that
/// produce DES keys do.
void set_odd_parity(std::span<std::uint8_t> key) noexcept;

/// XOR of two equal-length byte ranges into `out`.
void xor_into(byte_view a, byte_view b, std::uint8_t* out) noexcept;

}  // namespace eft::crypto
