#include "eft/crypto/primitives.hpp"

// DES ECB runs on OpenSSL's DES key schedule API: it is deprecated in OpenSSL 3 in favour of EVP,
// but EVP has no single DES without the legacy provider and its per-call set-up costs more than the
// cipher on one block (DUKPT key derivation makes a dozen such calls per transaction).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/des.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

namespace eft::crypto {

namespace {

struct cipher_ctx_free {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
struct mac_ctx_free {
  void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};

enum class mode : std::uint8_t { ecb, cbc };

// AES ciphers, fetched once: EVP_CIPHER_fetch is expensive and the results are immutable and
// thread-safe. (DES and TDES run on the key schedules below.)
const EVP_CIPHER* evp_aes(std::size_t key_len, mode m) noexcept {
  static EVP_CIPHER* table[2][3] = {};
  static const bool fetched = [] {
    const char* names[2][3] = {{"AES-128-ECB", "AES-192-ECB", "AES-256-ECB"},
                               {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"}};
    for (int mm = 0; mm < 2; ++mm) {
      for (int i = 0; i < 3; ++i) table[mm][i] = EVP_CIPHER_fetch(nullptr, names[mm][i], nullptr);
    }
    return true;
  }();
  (void)fetched;
  const int index = key_len == 16 ? 0 : key_len == 24 ? 1 : 2;
  return table[m == mode::cbc ? 1 : 0][index];
}

// A key as OpenSSL's EVP takes it (CMAC, AES): DES and 2-key TDES as 3-key TDES, K -> K K K,
// K1 K2 -> K1 K2 K1.
struct expanded_key {
  std::array<std::uint8_t, 32> buf{};
  std::size_t size = 0;
  ~expanded_key() { wipe(buf.data(), buf.size()); }
};

bool expand(cipher c, byte_view key, expanded_key& out) noexcept {
  if (!key_length_ok(c, key.size())) return false;
  if (c == cipher::des) {
    for (int i = 0; i < 3; ++i) std::memcpy(out.buf.data() + std::ptrdiff_t{8} * i, key.data(), 8);
    out.size = 24;
  } else if (c == cipher::tdes && key.size() == 16) {
    std::memcpy(out.buf.data(), key.data(), 16);
    std::memcpy(out.buf.data() + 16, key.data(), 8);
    out.size = 24;
  } else {
    std::memcpy(out.buf.data(), key.data(), key.size());
    out.size = key.size();
  }
  return true;
}

}  // namespace

// The key schedules of a DES or TDES key (K1 K2 K3; a 16-byte key is K1 K2 K1, whose third schedule
// is the first one copied rather than computed again: setting a key costs nearly as much as
// enciphering a block). Wiped on destruction. The key length was checked by the caller.
struct des_key_schedule::schedules {
  DES_key_schedule k[3];
  std::size_t parts;  // 1 (DES), 2 (2-key TDES) or 3
  schedules(cipher c, byte_view key) noexcept : parts(c == cipher::des ? 1 : key.size() == 16 ? 2 : 3) {
    for (std::size_t i = 0; i < parts; ++i) {
      DES_cblock part;
      std::memcpy(part, key.data() + 8 * i, 8);
      DES_set_key_unchecked(&part, &k[i]);
      wipe(part, sizeof(part));
    }
    if (c == cipher::tdes && key.size() == 16) k[2] = k[0];
  }
  schedules(const schedules&) = delete;
  schedules& operator=(const schedules&) = delete;
  ~schedules() { wipe(k, sizeof(k)); }
};

namespace {

using des_schedules = des_key_schedule::schedules;

// DES and TDES (EDE) in ECB mode on set-up schedules. OpenSSL's functions take the schedules by
// non-const pointer but only read them.
void des_ecb_on(const des_schedules& ks, cipher c, bool encrypt, byte_view in, std::uint8_t* out) {
  auto* k = const_cast<DES_key_schedule*>(ks.k);
  const int enc = encrypt ? DES_ENCRYPT : DES_DECRYPT;
  for (std::size_t off = 0; off < in.size(); off += 8) {
    DES_cblock block;
    std::memcpy(block, in.data() + off, 8);
    auto* dst = reinterpret_cast<DES_cblock*>(out + off);
    if (c == cipher::des) {
      DES_ecb_encrypt(&block, dst, &k[0], enc);
    } else {
      DES_ecb3_encrypt(&block, dst, &k[0], &k[1], &k[2], enc);
    }
    wipe(block, sizeof(block));
  }
}

status des_ecb(cipher c, byte_view key, bool encrypt, byte_view in, std::uint8_t* out) {
  const des_schedules ks(c, key);
  des_ecb_on(ks, c, encrypt, in, out);
  return ok();
}

// DES and TDES (EDE) in CBC mode, on the same key schedules: through EVP a single-DES chain ran as
// TDES with K K K, three times the work, and every call paid the provider's key set-up. Each block
// is read before its output is written, so `out` may be `in`.
status des_cbc(cipher c, byte_view key, bool encrypt, byte_view iv, byte_view in, std::uint8_t* out) {
  des_schedules ks(c, key);  // not const: the CBC functions take them by non-const pointer
  DES_cblock chain{};        // no IV: zeros
  if (!iv.empty()) std::memcpy(chain, iv.data(), 8);
  const int enc = encrypt ? DES_ENCRYPT : DES_DECRYPT;
  const auto length = static_cast<long>(in.size());
  if (c == cipher::des) {
    DES_ncbc_encrypt(in.data(), out, length, &ks.k[0], &chain, enc);
  } else {
    DES_ede3_cbc_encrypt(in.data(), out, length, &ks.k[0], &ks.k[1], &ks.k[2], &chain, enc);
  }
  return ok();
}

status run(cipher c, mode m, bool encrypt, byte_view key, byte_view iv, byte_view in, std::uint8_t* out) {
  if (!key_length_ok(c, key.size())) return {errc::bad_key_length, key_length_hint(c)};
  const std::size_t bs = block_size(c);
  if (in.size() % bs != 0) return {errc::bad_data_length, "data is not a whole number of cipher blocks"};
  if (m == mode::cbc && !iv.empty() && iv.size() != bs) return {errc::bad_data_length, "IV is not one block"};
  if (in.empty()) return ok();
  if (c != cipher::aes) {
    return m == mode::ecb ? des_ecb(c, key, encrypt, in, out) : des_cbc(c, key, encrypt, iv, in, out);
  }
  expanded_key k;
  expand(c, key, k);
  thread_local std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return {errc::backend, "EVP_CIPHER_CTX_new failed"};
  const std::array<std::uint8_t, 16> zero_iv{};
  const std::uint8_t* ivp = m == mode::cbc ? (iv.empty() ? zero_iv.data() : iv.data()) : nullptr;
  const EVP_CIPHER* evp = evp_aes(k.size, m);
  if (evp == nullptr) return {errc::backend, "cipher not available in OpenSSL"};
  // Re-initialising a context with the cipher it already has skips the provider set-up, which
  // costs more than the cipher itself on one block: only the key (and IV, direction) change.
  thread_local const EVP_CIPHER* ctx_cipher = nullptr;
  const bool same = ctx_cipher == evp;
  if (EVP_CipherInit_ex2(ctx.get(), same ? nullptr : evp, k.buf.data(), ivp, encrypt ? 1 : 0, nullptr) != 1) {
    ctx_cipher = nullptr;
    return {errc::backend, "cipher initialisation failed"};
  }
  ctx_cipher = evp;
  if (!same && EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    ctx_cipher = nullptr;
    return {errc::backend, "cipher initialisation failed"};
  }
  int len = 0;
  if (EVP_CipherUpdate(ctx.get(), out, &len, in.data(), static_cast<int>(in.size())) != 1 ||
      static_cast<std::size_t>(len) != in.size()) {
    return {errc::backend, "cipher operation failed"};
  }
  return ok();
}

outcome<bytes> run_copy(cipher c, mode m, bool encrypt, byte_view key, byte_view iv, byte_view in) {
  bytes out(in.size());
  if (auto st = run(c, m, encrypt, key, iv, in, out.data()); !st) return st.error();
  return out;
}

}  // namespace

des_key_schedule::des_key_schedule(cipher c, std::unique_ptr<schedules> s) noexcept
    : cipher_(c), schedules_(std::move(s)) {}
des_key_schedule::~des_key_schedule() = default;

outcome<std::shared_ptr<const des_key_schedule>> des_key_schedule::make(cipher c, byte_view key) {
  if (c == cipher::aes) return failure{errc::bad_format, "key schedules are made for DES and TDES keys"};
  if (!key_length_ok(c, key.size())) return failure{errc::bad_key_length, key_length_hint(c)};
  return std::shared_ptr<const des_key_schedule>(new des_key_schedule(c, std::make_unique<schedules>(c, key)));
}

status ecb_encrypt(const des_key_schedule& k, byte_view in, std::uint8_t* out) {
  if (in.size() % 8 != 0) return {errc::bad_data_length, "data is not a whole number of cipher blocks"};
  des_ecb_on(*k.schedules_, k.cipher_, true, in, out);
  return ok();
}

status ecb_decrypt(const des_key_schedule& k, byte_view in, std::uint8_t* out) {
  if (in.size() % 8 != 0) return {errc::bad_data_length, "data is not a whole number of cipher blocks"};
  des_ecb_on(*k.schedules_, k.cipher_, false, in, out);
  return ok();
}

namespace {

// The CBC-MAC chain over whole blocks with zero IV: every block but the last under `first` (DES or
// TDES), the last under `last` (the same, or TDES for algorithm 3's output transformation).
void mac_chain_on(const des_schedules& ks, cipher first, cipher last, byte_view padded, std::uint8_t* out) {
  auto* k = const_cast<DES_key_schedule*>(ks.k);
  DES_cblock chain{};
  const std::size_t blocks = padded.size() / 8;
  for (std::size_t b = 0; b < blocks; ++b) {
    for (std::size_t i = 0; i < 8; ++i) chain[i] ^= padded[8 * b + i];
    if ((b + 1 < blocks ? first : last) == cipher::des) {
      DES_ecb_encrypt(&chain, &chain, &k[0], DES_ENCRYPT);
    } else {
      DES_ecb3_encrypt(&chain, &chain, &k[0], &k[1], &k[2], DES_ENCRYPT);
    }
  }
  std::memcpy(out, chain, 8);
  wipe(chain, sizeof(chain));
}

status check_padded(byte_view padded) {
  if (padded.empty() || padded.size() % 8 != 0) {
    return {errc::bad_data_length, "MAC data is not a whole, non-zero number of 8-byte blocks"};
  }
  return ok();
}

}  // namespace

status cbc_mac_chain(const des_key_schedule& k, byte_view padded, std::uint8_t* out) {
  if (auto st = check_padded(padded); !st) return st;
  mac_chain_on(*k.schedules_, k.cipher_, k.cipher_, padded, out);
  return ok();
}

status retail_mac_chain(const des_key_schedule& k, byte_view padded, std::uint8_t* out) {
  if (k.cipher_ != cipher::tdes || k.schedules_->parts != 2) {
    return {errc::bad_key_length, "retail MAC keys are 16 bytes (K and K'): a 2-key TDES key"};
  }
  if (auto st = check_padded(padded); !st) return st;
  mac_chain_on(*k.schedules_, cipher::des, cipher::tdes, padded, out);
  return ok();
}

status retail_mac_chain(byte_view key, byte_view padded, std::uint8_t* out) {
  if (key.size() != 16) return {errc::bad_key_length, "retail MAC keys are 16 bytes (K and K')"};
  if (auto st = check_padded(padded); !st) return st;
  const des_schedules ks(cipher::tdes, key);
  mac_chain_on(ks, cipher::des, cipher::tdes, padded, out);
  return ok();
}

std::string key_length_hint(cipher c) {
  switch (c) {
    case cipher::des:
      return "DES keys are 8 bytes";
    case cipher::tdes:
      return "TDES keys are 16 or 24 bytes";
    case cipher::aes:
      return "AES keys are 16, 24 or 32 bytes";
  }
  return {};
}

bool key_length_ok(cipher c, std::size_t n) noexcept {
  switch (c) {
    case cipher::des:
      return n == 8;
    case cipher::tdes:
      return n == 16 || n == 24;
    case cipher::aes:
      return n == 16 || n == 24 || n == 32;
  }
  return false;
}

status ecb_encrypt(cipher c, byte_view key, byte_view in, std::uint8_t* out) {
  return run(c, mode::ecb, true, key, {}, in, out);
}
status ecb_decrypt(cipher c, byte_view key, byte_view in, std::uint8_t* out) {
  return run(c, mode::ecb, false, key, {}, in, out);
}
status cbc_encrypt(cipher c, byte_view key, byte_view iv, byte_view in, std::uint8_t* out) {
  return run(c, mode::cbc, true, key, iv, in, out);
}
status cbc_decrypt(cipher c, byte_view key, byte_view iv, byte_view in, std::uint8_t* out) {
  return run(c, mode::cbc, false, key, iv, in, out);
}
outcome<bytes> ecb_encrypt(cipher c, byte_view key, byte_view in) {
  return run_copy(c, mode::ecb, true, key, {}, in);
}
outcome<bytes> ecb_decrypt(cipher c, byte_view key, byte_view in) {
  return run_copy(c, mode::ecb, false, key, {}, in);
}
outcome<bytes> cbc_encrypt(cipher c, byte_view key, byte_view iv, byte_view in) {
  return run_copy(c, mode::cbc, true, key, iv, in);
}
outcome<bytes> cbc_decrypt(cipher c, byte_view key, byte_view iv, byte_view in) {
  return run_copy(c, mode::cbc, false, key, iv, in);
}

outcome<bytes> cmac(cipher c, byte_view key, byte_view data) {
  expanded_key k;
  if (!expand(c, key, k)) return failure{errc::bad_key_length, key_length_hint(c)};
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  if (mac == nullptr) return failure{errc::backend, "CMAC not available in OpenSSL"};
  std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> ctx(EVP_MAC_CTX_new(mac));
  const char* name = c == cipher::aes ? (k.size == 16   ? "AES-128-CBC"
                                         : k.size == 24 ? "AES-192-CBC"
                                                        : "AES-256-CBC")
                                      : "DES-EDE3-CBC";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, const_cast<char*>(name), 0),  // NOLINT
                         OSSL_PARAM_construct_end()};
  bytes out(block_size(c));
  std::size_t len = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), k.buf.data(), k.size, params) != 1 ||
      EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
    return failure{errc::backend, "CMAC computation failed"};
  }
  return out;
}

outcome<bytes> hmac_sha256(byte_view key, byte_view data) {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return failure{errc::backend, "HMAC not available in OpenSSL"};
  std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> ctx(EVP_MAC_CTX_new(mac));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  bytes out(32);
  std::size_t len = 0;
  const std::uint8_t empty_key = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), key.empty() ? &empty_key : key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != 32) {
    return failure{errc::backend, "HMAC computation failed"};
  }
  return out;
}

struct hmac_sha256_key::state {
  std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> keyed;  // initialised with the key, never updated
  // Working copies of `keyed`, reused: a call takes one (or copies `keyed` when none is free),
  // starts it again under the same key and gives it back. A fresh copy per call cost about ten
  // allocations; a restart costs two. Freed (and cleansed by OpenSSL) with the state.
  std::mutex mutex;
  std::vector<std::unique_ptr<EVP_MAC_CTX, mac_ctx_free>> idle;

  std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> take() {
    {
      const std::lock_guard lock(mutex);
      if (!idle.empty()) {
        auto ctx = std::move(idle.back());
        idle.pop_back();
        // A null key restarts the context under the key it holds (OpenSSL 3 HMAC).
        if (EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) == 1) return ctx;
      }
    }
    return std::unique_ptr<EVP_MAC_CTX, mac_ctx_free>(EVP_MAC_CTX_dup(keyed.get()));
  }

  void give_back(std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> ctx) {
    const std::lock_guard lock(mutex);
    if (idle.size() < max_idle) idle.push_back(std::move(ctx));
  }

  static constexpr std::size_t max_idle = 16;  // more threads than this at once just copy
};

hmac_sha256_key::hmac_sha256_key(byte_view key) {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  auto st = std::make_shared<state>();
  if (mac != nullptr) st->keyed.reset(EVP_MAC_CTX_new(mac));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  const std::uint8_t empty_key = 0;
  if (st->keyed && EVP_MAC_init(st->keyed.get(), key.empty() ? &empty_key : key.data(), key.size(), params) != 1) {
    st->keyed.reset();
  }
  state_ = std::move(st);
}

outcome<bytes> hmac_sha256_key::mac(byte_view data) const {
  if (!state_->keyed) return failure{errc::backend, "HMAC not available in OpenSSL"};
  auto ctx = state_->take();
  bytes out(32);
  std::size_t len = 0;
  if (!ctx || EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != 32) {
    return failure{errc::backend, "HMAC computation failed"};  // a failed context is not reused
  }
  state_->give_back(std::move(ctx));
  return out;
}

outcome<bytes> sha1(byte_view data) {
  bytes out(20);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha1(), nullptr) != 1 || len != 20) {
    return failure{errc::backend, "SHA-1 computation failed"};
  }
  return out;
}

outcome<secure_bytes> random_bytes(std::size_t n) {
  secure_bytes out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) return failure{errc::backend, "RAND_bytes failed"};
  return out;
}

void set_odd_parity(std::span<std::uint8_t> key) noexcept {
  for (auto& b : key) {
    const auto ones = __builtin_popcount(static_cast<unsigned>(b & 0xFE));
    b = static_cast<std::uint8_t>((b & 0xFE) | (ones % 2 == 0 ? 1 : 0));
  }
}

void xor_into(byte_view a, byte_view b, std::uint8_t* out) noexcept {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) out[i] = static_cast<std::uint8_t>(a[i] ^ b[i]);
}

}  // namespace eft::crypto
