#pragma once
/// DUKPT (Derived Unique Key Per Transaction): every transaction of a PIN pad gets its own key,
/// derived from a base derivation key (BDK) and the key serial number (KSN) the device sends.
///
/// - TDES DUKPT, ANSI X9.24-1:2009 Annex A: 10-byte KSN (BDK ID and device ID in 59 bits, then a
///   21-bit transaction counter), 16-byte (2-key TDES) BDK, IPEK, transaction keys by the
///   non-reversible key generation process, and the variants of Table A-1 for PIN, MAC and data.
/// - AES DUKPT, ANSI X9.24-3-2017: 12-byte KSN (8-byte initial key ID, then a 32-bit transaction
///   counter), AES-128/192/256 BDK, initial key, intermediate derivation keys and working keys of
///   any type (2TDEA, 3TDEA, AES, HMAC) for any usage, by the derivation data of section 6.3.
///
/// Everything here is host side ("receiving TRSM"): the key for one KSN is computed directly from
/// the BDK (or the initial key) without the device's future-key registers. Keys come back in
/// `secure_bytes`; intermediate keys are wiped before return. Errors carry no key material.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"

namespace eft::crypto {

// ---------------------------------------------------------------------------------------------
// TDES DUKPT (ANSI X9.24-1:2009)
// ---------------------------------------------------------------------------------------------

/// Bytes in a TDES DUKPT key serial number (X9.24-1:2009 A.1: 80 bits).
inline constexpr std::size_t dukpt_tdes_ksn_size = 10;
/// Bytes in a TDES DUKPT BDK, IPEK and every derived key (double-length TDES).
inline constexpr std::size_t dukpt_tdes_key_size = 16;
/// The 21 transaction counter bits at the right of the KSN.
inline constexpr std::uint32_t dukpt_tdes_counter_mask = 0x1FFFFF;
/// A counter with more one-bits than this is never used by a device (X9.24-1:2009 A.2).
inline constexpr int dukpt_tdes_max_counter_bits = 10;
/// The last usable counter (ten one-bits at the top); past it the device is exhausted.
inline constexpr std::uint32_t dukpt_tdes_last_counter = 0x1FF800;

/// What key to derive for a TDES DUKPT transaction (X9.24-1:2009 A.4.1, Table A-1).
enum class dukpt_tdes_usage : std::uint8_t {
  ipek,           ///< the initial PIN encryption key (initial key) of the device, for key injection
  transaction,    ///< the transaction ("current") key itself, before any variant: the future key
                  ///< register the device uses for this counter
  pin,            ///< PIN encryption: transaction key XOR 00000000000000FF 00000000000000FF
  mac_request,    ///< MAC, request (device to host): XOR 000000000000FF00 000000000000FF00
  mac_response,   ///< MAC, response (host to device): XOR 00000000FF000000 00000000FF000000
  data_request,   ///< data encryption, request: XOR 0000000000FF0000 0000000000FF0000, then each
                  ///< half TDES-encrypted under that variant (X9.24-1:2009 A.4.1, Figure A-2)
  data_response,  ///< data encryption, response: XOR 000000FF00000000 000000FF00000000, then as above
};

/// The usage's name as eftctl spells it ("ipek", "pin", "mac-request", ...).
std::string_view to_string(dukpt_tdes_usage u) noexcept;

/// The 21-bit transaction counter of a TDES KSN. bad_ksn unless the KSN is 10 bytes.
outcome<std::uint32_t> dukpt_tdes_counter(byte_view ksn);

/// Checks that a counter can key a transaction: ok for 1..0x1FF800 with at most 10 one-bits.
/// Errors: bad_ksn for 0 (the initial KSN keys no transaction) and for counters with more than
/// 10 one-bits (X9.24-1:2009 A.2: a device skips them, so a KSN carrying one is not genuine);
/// ksn_exhausted for counters past 0x1FF800.
status dukpt_tdes_check_counter(std::uint32_t counter);

/// The next counter a device uses after `counter`: the smallest larger value with at most 10
/// one-bits (X9.24-1:2009 A.2, "New Key" skipping). Errors: ksn_exhausted when `counter` is
/// 0x1FF800 or more; bad_input when `counter` does not fit in 21 bits.
outcome<std::uint32_t> dukpt_tdes_next_counter(std::uint32_t counter);

/// The KSN of the device's next transaction (same BDK ID and device ID, next valid counter).
/// Errors: bad_ksn (length), ksn_exhausted.
outcome<bytes> dukpt_tdes_next_ksn(byte_view ksn);

/// The IPEK (initial key) of a device: X9.24-1:2009 A.6. `bdk` is 16 bytes; the KSN's counter
/// bits are ignored (any KSN of the device gives the same IPEK). Errors: bad_key_length, bad_ksn.
outcome<secure_bytes> dukpt_tdes_ipek(byte_view bdk, byte_view ksn);

/// The transaction key for the KSN's counter, derived from the IPEK by walking the counter's
/// one-bits from the left, one non-reversible key generation per bit (X9.24-1:2009 A.2/A.3).
/// Errors: bad_key_length (IPEK not 16 bytes), bad_ksn, ksn_exhausted (see
/// dukpt_tdes_check_counter).
outcome<secure_bytes> dukpt_tdes_transaction_key(byte_view ipek, byte_view ksn);

/// Applies a usage to a transaction key: the Table A-1 variant, and for data keys the
/// self-encryption of both halves (X9.24-1:2009 A.4.1). `transaction` returns a copy;
/// `ipek` is bad_format (an IPEK is not derived from a transaction key).
outcome<secure_bytes> dukpt_tdes_variant(byte_view transaction_key, dukpt_tdes_usage u);

/// The key of the given usage for a KSN, from the device's IPEK.
outcome<secure_bytes> dukpt_tdes_key_from_ipek(byte_view ipek, byte_view ksn, dukpt_tdes_usage u);

/// The key of the given usage for a KSN, from the BDK: what an HSM does for every DUKPT PIN
/// translation or MAC check. Errors: bad_key_length (BDK not 16 bytes), bad_ksn, ksn_exhausted
/// (not for `ipek`, which any KSN of the device gives).
outcome<secure_bytes> dukpt_tdes_key(byte_view bdk, byte_view ksn, dukpt_tdes_usage u);

// ---------------------------------------------------------------------------------------------
// AES DUKPT (ANSI X9.24-3-2017)
// ---------------------------------------------------------------------------------------------

/// Bytes in an AES DUKPT key serial number: initial key ID (8) then the transaction counter (4).
inline constexpr std::size_t dukpt_aes_ksn_size = 12;
/// Bytes in the initial key ID: BDK ID (4) then derivation ID (4).
inline constexpr std::size_t dukpt_aes_initial_key_id_size = 8;
/// A counter with more one-bits than this is never used by a device (X9.24-3-2017, the
/// originator algorithm).
inline constexpr int dukpt_aes_max_counter_bits = 16;
/// The last usable counter (sixteen one-bits at the top); past it the device is exhausted.
inline constexpr std::uint32_t dukpt_aes_last_counter = 0xFFFF0000;

/// Key usage indicators of the derivation data (X9.24-3-2017 6.3.2, Table 2).
enum class dukpt_aes_usage : std::uint16_t {
  key_encryption = 0x0002,    ///< key encryption key
  pin_encryption = 0x1000,    ///< PIN encryption
  mac_generation = 0x2000,    ///< message authentication, generation (device requests)
  mac_verification = 0x2001,  ///< message authentication, verification (host responses)
  mac_both = 0x2002,          ///< message authentication, both ways
  data_encrypt = 0x3000,      ///< data encryption, encrypt (device requests)
  data_decrypt = 0x3001,      ///< data encryption, decrypt (host responses)
  data_both = 0x3002,         ///< data encryption, both ways
  key_derivation = 0x8000,    ///< intermediate derivation key (internal to the algorithm)
  initial_key = 0x8001,       ///< initial key derivation (internal to the algorithm)
};

/// Working key types: algorithm indicator and length of the derivation data
/// (X9.24-3-2017 6.3.2, Table 3).
enum class dukpt_aes_key_type : std::uint8_t {
  tdes2,    ///< 2-key TDEA, 16 bytes (algorithm 0000, 128 bits)
  tdes3,    ///< 3-key TDEA, 24 bytes (algorithm 0001, 192 bits)
  aes128,   ///< AES-128 (algorithm 0002)
  aes192,   ///< AES-192 (algorithm 0003)
  aes256,   ///< AES-256 (algorithm 0004)
  hmac128,  ///< HMAC key of 128 bits (algorithm 0005)
  hmac192,  ///< HMAC key of 192 bits (algorithm 0005)
  hmac256,  ///< HMAC key of 256 bits (algorithm 0005)
};

/// Names as eftctl spells them ("pin", "mac-generation", ...; "aes128", "tdes2", "hmac256", ...).
std::string_view to_string(dukpt_aes_usage u) noexcept;
std::string_view to_string(dukpt_aes_key_type t) noexcept;

/// Bytes in a key of the type (16, 24 or 32).
std::size_t key_size(dukpt_aes_key_type t) noexcept;

/// The AES type of a BDK or initial key by its length (16, 24, 32 bytes): bad_key_length otherwise.
outcome<dukpt_aes_key_type> dukpt_aes_key_type_for(std::size_t aes_key_size);

/// The 16-byte derivation data block of X9.24-3-2017 6.3.2 Table 2: version 01, block counter,
/// key usage indicator, algorithm indicator, key length in bits, then 8 bytes of `tail` (the
/// initial key ID for the initial key; otherwise the derivation ID, i.e. the right 4 bytes of the
/// initial key ID, followed by the big-endian counter). For backends that derive inside a token
/// (PKCS#11 `CKM_AES_ECB_ENCRYPT_DATA`): key block i (1-based) = AES-ECB(derivation key, data(i)).
std::array<std::uint8_t, 16> dukpt_aes_derivation_data(dukpt_aes_usage u, dukpt_aes_key_type t,
                                                       std::span<const std::uint8_t, 8> tail,
                                                       std::uint8_t block_counter = 1) noexcept;

/// The 32-bit transaction counter of an AES KSN. bad_ksn unless the KSN is 12 bytes.
outcome<std::uint32_t> dukpt_aes_counter(byte_view ksn);

/// Checks that a counter can key a transaction: ok for 1..0xFFFF0000 with at most 16 one-bits.
/// Errors: bad_ksn for 0 and for counters with more than 16 one-bits (a device skips them,
/// X9.24-3-2017); ksn_exhausted past 0xFFFF0000.
status dukpt_aes_check_counter(std::uint32_t counter);

/// The next counter a device uses after `counter`: the smallest larger value with at most 16
/// one-bits. ksn_exhausted when `counter` is 0xFFFF0000 or more.
outcome<std::uint32_t> dukpt_aes_next_counter(std::uint32_t counter);

/// The KSN of the device's next transaction. Errors: bad_ksn (length), ksn_exhausted.
outcome<bytes> dukpt_aes_next_ksn(byte_view ksn);

/// The initial key of a device (X9.24-3-2017 6.3.1 "Derive Initial Key"): same type and length
/// as the BDK (AES-128/192/256). `initial_key_id` is 8 bytes (the left of the KSN; a 12-byte KSN
/// is accepted too and its counter ignored). Errors: bad_key_length, bad_ksn.
outcome<secure_bytes> dukpt_aes_initial_key(byte_view bdk, byte_view initial_key_id);

/// The intermediate derivation key for the KSN's counter, from the initial key, one derivation
/// per one-bit of the counter from the left (X9.24-3-2017 6.3.1, the "transaction key" of the
/// standard's test vectors). Errors: bad_key_length, bad_ksn, ksn_exhausted.
outcome<secure_bytes> dukpt_aes_derivation_key(byte_view initial_key, byte_view ksn);

/// A working key of usage `u` and type `t` for the KSN, from the initial key (6.3.1
/// "Derive Working Key"). The working key may not be stronger than the initial key: an AES-128
/// initial key derives 2TDEA, 3TDEA, AES-128 and HMAC-128 keys, AES-192 adds AES-192 and
/// HMAC-192, AES-256 derives every type (bad_format otherwise). `key_derivation` and
/// `initial_key` are not working-key usages (bad_format).
outcome<secure_bytes> dukpt_aes_key_from_initial_key(byte_view initial_key, byte_view ksn, dukpt_aes_usage u,
                                                     dukpt_aes_key_type t);

/// A working key of usage `u` and type `t` for the KSN, from the BDK: what an HSM does for every
/// AES DUKPT PIN translation or MAC check. Errors as above.
outcome<secure_bytes> dukpt_aes_key(byte_view bdk, byte_view ksn, dukpt_aes_usage u, dukpt_aes_key_type t);

}  // namespace eft::crypto
