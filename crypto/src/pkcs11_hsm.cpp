// The PKCS#11 backend. The split between token and host memory is documented in docs/hsm.md
// ("The pkcs11 backend"); every host-memory step below says so where it happens.
#include "eft/crypto/pkcs11_hsm.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include <p11-kit/pkcs11.h>

#include "eft/crypto/card_verification.hpp"
#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/emv.hpp"
#include "eft/crypto/kcv.hpp"
#include "eft/crypto/mac.hpp"
#include "eft/crypto/primitives.hpp"

namespace eft::crypto {

namespace {

constexpr std::size_t transport_key_size = 32;  // AES-256 session key that carries keys out (C_WrapKey)
constexpr std::size_t max_cryptogram_input = 1024;
constexpr std::size_t hmac_min_key_size = 32;  // what tokens take for CKM_SHA256_HMAC
constexpr std::array<std::uint8_t, 16> zero_block{};

// ------------------------------------------------------------------------------------ return codes

struct rv_text {
  CK_RV rv;
  const char* name;
};

constexpr rv_text rv_names[] = {
    {CKR_OK, "CKR_OK"},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
    {CKR_CANT_LOCK, "CKR_CANT_LOCK"},
    {CKR_ATTRIBUTE_READ_ONLY, "CKR_ATTRIBUTE_READ_ONLY"},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
    {CKR_DATA_INVALID, "CKR_DATA_INVALID"},
    {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
    {CKR_ENCRYPTED_DATA_LEN_RANGE, "CKR_ENCRYPTED_DATA_LEN_RANGE"},
    {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED"},
    {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
    {CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE"},
    {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
    {CKR_KEY_NOT_WRAPPABLE, "CKR_KEY_NOT_WRAPPABLE"},
    {CKR_KEY_UNEXTRACTABLE, "CKR_KEY_UNEXTRACTABLE"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
    {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
    {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
    {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
    {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
    {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
    {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
    {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
    {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID"},
    {CKR_WRAPPING_KEY_HANDLE_INVALID, "CKR_WRAPPING_KEY_HANDLE_INVALID"},
    {CKR_WRAPPING_KEY_TYPE_INCONSISTENT, "CKR_WRAPPING_KEY_TYPE_INCONSISTENT"},
    {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
};

std::string rv_name(CK_RV rv) {
  for (const auto& e : rv_names) {
    if (e.rv == rv) return e.name;
  }
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out = "CKR 0x00000000";
  for (int i = 0; i < 8; ++i) out[13 - static_cast<std::size_t>(i)] = digits[(rv >> (4 * i)) & 0x0F];
  return out;
}

failure p11_failure(std::string_view call, CK_RV rv) {
  const errc code = rv == CKR_KEY_FUNCTION_NOT_PERMITTED ? errc::key_usage : errc::backend;
  return {code, std::string(call) + " failed: " + rv_name(rv)};
}

// ----------------------------------------------------------------------------------- the modules

// A module stays loaded for the life of the process once opened: PKCS#11 libraries (SoftHSM with
// OpenSSL 3 among them) register exit handlers that crash when the library is unloaded first. It is
// C_Initialize'd while at least one pkcs11_hsm uses it; the last one C_Finalize's it, so a new
// pkcs11_hsm re-reads the module's configuration (SoftHSM: SOFTHSM2_CONF).
struct loaded_module {
  void* handle = nullptr;
  CK_FUNCTION_LIST_PTR fn = nullptr;
  std::size_t users = 0;
  bool finalize = false;  // we initialised it (not someone else in the process)
};

std::mutex& modules_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, loaded_module>& modules() {
  static std::map<std::string, loaded_module> m;
  return m;
}

outcome<CK_FUNCTION_LIST_PTR> acquire_module(const std::string& path) {
  const std::lock_guard lock(modules_mutex());
  loaded_module& m = modules()[path];
  if (m.handle == nullptr) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      modules().erase(path);
      return failure{errc::backend, "cannot load the PKCS#11 module " + path + ": " + (why ? why : "dlopen failed")};
    }
    void* symbol = ::dlsym(handle, "C_GetFunctionList");
    CK_C_GetFunctionList get = nullptr;
    static_assert(sizeof(get) == sizeof(symbol));
    std::memcpy(&get, &symbol, sizeof(get));
    CK_FUNCTION_LIST_PTR fn = nullptr;
    const CK_RV rv = get == nullptr ? CKR_FUNCTION_NOT_SUPPORTED : get(&fn);
    if (rv != CKR_OK || fn == nullptr) {
      ::dlclose(handle);
      modules().erase(path);
      return failure{errc::backend, path + " is not a PKCS#11 module (C_GetFunctionList: " + rv_name(rv) + ")"};
    }
    m.handle = handle;
    m.fn = fn;
  }
  if (m.users == 0) {
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;  // the module locks with the OS primitives; we call it from many threads
    const CK_RV rv = m.fn->C_Initialize(&args);
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      m.finalize = false;  // someone else in this process initialised it: they finalise it
    } else if (rv != CKR_OK) {
      return p11_failure("C_Initialize", rv);
    } else {
      m.finalize = true;
    }
  }
  ++m.users;
  return m.fn;
}

void release_module(const std::string& path) {
  const std::lock_guard lock(modules_mutex());
  auto it = modules().find(path);
  if (it == modules().end() || it->second.users == 0) return;
  if (--it->second.users == 0 && it->second.finalize) it->second.fn->C_Finalize(nullptr);
}

// ---------------------------------------------------------------------------------- attributes

/// A PKCS#11 attribute template whose values outlive the template (a deque keeps element addresses).
class attribute_list {
 public:
  attribute_list& flag(CK_ATTRIBUTE_TYPE type, bool v) {
    bools_.push_back(v ? CK_TRUE : CK_FALSE);
    list_.push_back({type, &bools_.back(), sizeof(CK_BBOOL)});
    return *this;
  }
  attribute_list& number(CK_ATTRIBUTE_TYPE type, CK_ULONG v) {
    ulongs_.push_back(v);
    list_.push_back({type, &ulongs_.back(), sizeof(CK_ULONG)});
    return *this;
  }
  attribute_list& text(CK_ATTRIBUTE_TYPE type, std::string v) {
    texts_.push_back(std::move(v));
    list_.push_back({type, texts_.back().data(), texts_.back().size()});
    return *this;
  }
  /// Points at the caller's bytes (key values stay in the caller's wiped buffer, never copied).
  attribute_list& view(CK_ATTRIBUTE_TYPE type, byte_view v) {
    list_.push_back({type, const_cast<std::uint8_t*>(v.data()), v.size()});
    return *this;
  }
  CK_ATTRIBUTE* data() noexcept { return list_.data(); }
  CK_ULONG size() const noexcept { return list_.size(); }

 private:
  std::deque<CK_BBOOL> bools_;
  std::deque<CK_ULONG> ulongs_;
  std::deque<std::string> texts_;
  std::vector<CK_ATTRIBUTE> list_;
};

/// What a key object may do in the token.
struct key_caps {
  bool encrypt = false;
  bool decrypt = false;
  bool sign = false;  // sign and verify (MACs)
  bool derive = false;
  bool extractable = false;
  bool readable = false;  // not CKA_SENSITIVE: only for derived check values, never for keys
};

// The token-side attributes of a stored key (docs/hsm.md, "Key objects"). TR-31 usage is enforced by
// tr31_require before the token is called; these flags repeat the broad lines of it in the token.
key_caps caps_for(const tr31_header& h) {
  key_caps c;
  const char u = h.usage.empty() ? '?' : h.usage[0];
  if (h.usage == "P0" || h.usage == "D0") {
    c.encrypt = true;  // also what the check value E(0) / CMAC(0) needs
    c.decrypt = h.mode_of_use == 'D' || h.mode_of_use == 'B' || h.mode_of_use == 'N';
  } else if (u == 'M') {
    c.sign = true;
    c.encrypt = h.algorithm != 'H';  // CBC-MAC (algorithms 1 and 3) runs as CBC encryption
  } else if (h.usage == "C0" || u == 'V') {
    c.encrypt = true;
  } else if (u == 'E' || u == 'B' || u == 'K') {
    c.derive = true;  // EMV and AES DUKPT derivations; TR-31 KBEK/KBAK derivation
  }
  // Host-memory steps: TDES DUKPT needs the BDK, export the key itself. KEKs stay in the token
  // (TR-31 B and D are done there); only an exportable KEK can also open version A blocks.
  c.extractable = h.exportability == 'E' || (u == 'B' && h.algorithm == 'T');
  return c;
}

bool needs_left_half(const tr31_header& h, std::size_t length) {
  return h.algorithm == 'T' && length == 16 && !h.usage.empty() && (h.usage[0] == 'M' || h.usage == "C0");
}

outcome<CK_KEY_TYPE> key_type_for(const tr31_header& h, std::size_t length) {
  switch (h.algorithm) {
    case 'T':
      return length == 16 ? CKK_DES2 : CKK_DES3;
    case 'A':
      return CKK_AES;
    case 'H':
      return CKK_GENERIC_SECRET;
    default:
      return failure{errc::bad_format, std::string("no PKCS#11 key type for key algorithm '") + h.algorithm + "'"};
  }
}

outcome<cipher> cipher_of(const tr31_header& h) {
  switch (h.algorithm) {
    case 'T':
      return cipher::tdes;
    case 'A':
      return cipher::aes;
    case 'D':
      return cipher::des;
    default:
      return failure{errc::bad_format, std::string("no block cipher for key algorithm '") + h.algorithm + "'"};
  }
}

CK_MECHANISM_TYPE ecb_mechanism(cipher c) noexcept {
  return c == cipher::aes ? CKM_AES_ECB : CKM_DES3_ECB;
}
CK_MECHANISM_TYPE cbc_mechanism(cipher c) noexcept {
  return c == cipher::aes ? CKM_AES_CBC : CKM_DES3_CBC;
}
CK_MECHANISM_TYPE derive_mechanism(cipher c) noexcept {
  return c == cipher::aes ? CKM_AES_ECB_ENCRYPT_DATA : CKM_DES3_ECB_ENCRYPT_DATA;
}

bool valid_key_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

status check_key_length(const tr31_header& h, std::size_t n) {
  if (h.algorithm == 'H') {
    if (n >= 16 && n <= 64) return ok();
    return {errc::bad_key_length, "HMAC keys are 16 to 64 bytes"};
  }
  auto c = cipher_of(h);
  if (!c) return c.error();
  if (!key_length_ok(*c, n)) return {errc::bad_key_length, key_length_hint(*c)};
  return ok();
}

// The check value computed from a clear key in host memory (keys being created are there anyway):
// the software backend's rule, so both backends print the same values.
outcome<std::string> host_kcv(const tr31_header& h, byte_view key) {
  if (h.algorithm == 'H') {
    auto mac = hmac_sha256(key, byte_view(zero_block.data(), 16));
    if (!mac) return mac.error();
    return to_hex(byte_view(mac->data(), 3));
  }
  auto c = cipher_of(h);
  if (!c) return c.error();
  auto kcv = key_check_value(*c, key);
  if (!kcv) return kcv.error();
  return to_hex(*kcv);
}

// RFC 3394 key unwrap (AES key wrap, default IV), host side of taking a key out of the token.
outcome<secure_bytes> aes_key_unwrap(byte_view kek, byte_view wrapped) {
  if (wrapped.size() < 24 || wrapped.size() % 8 != 0) {
    return failure{errc::backend, "C_WrapKey returned " + std::to_string(wrapped.size()) + " bytes"};
  }
  const std::size_t n = wrapped.size() / 8 - 1;
  std::array<std::uint8_t, 8> a{};
  std::copy_n(wrapped.begin(), 8, a.begin());
  secure_bytes r(byte_view(wrapped.data() + 8, n * 8));
  secure_bytes b(16);
  for (std::size_t j = 6; j-- > 0;) {
    for (std::size_t i = n; i >= 1; --i) {
      const std::uint64_t t = n * j + i;
      for (std::size_t k = 0; k < 8; ++k) b[k] = static_cast<std::uint8_t>(a[k] ^ (t >> (8 * (7 - k))));
      std::copy_n(r.data() + (i - 1) * 8, 8, b.data() + 8);
      if (auto st = ecb_decrypt(cipher::aes, kek, b.view(), b.data()); !st) return st.error();
      std::copy_n(b.data(), 8, a.begin());
      std::copy_n(b.data() + 8, 8, r.data() + (i - 1) * 8);
    }
  }
  for (std::uint8_t v : a) {
    if (v != 0xA6) return failure{errc::backend, "a key taken out of the token did not unwrap (RFC 3394 check)"};
  }
  return r;
}

// ------------------------------------------------------------------------------ session objects

/// A session object (derived key) destroyed when it goes out of scope.
class session_object {
 public:
  session_object() = default;
  session_object(CK_FUNCTION_LIST_PTR fn, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle)
      : fn_(fn), session_(session), handle_(handle) {}
  session_object(session_object&& o) noexcept
      : fn_(o.fn_), session_(o.session_), handle_(std::exchange(o.handle_, CK_INVALID_HANDLE)) {}
  session_object& operator=(session_object&& o) noexcept {
    if (this != &o) {
      reset();
      fn_ = o.fn_;
      session_ = o.session_;
      handle_ = std::exchange(o.handle_, CK_INVALID_HANDLE);
    }
    return *this;
  }
  session_object(const session_object&) = delete;
  session_object& operator=(const session_object&) = delete;
  ~session_object() { reset(); }

  CK_OBJECT_HANDLE get() const noexcept { return handle_; }
  CK_OBJECT_HANDLE release() noexcept { return std::exchange(handle_, CK_INVALID_HANDLE); }
  void reset() noexcept {
    if (handle_ != CK_INVALID_HANDLE) fn_->C_DestroyObject(session_, handle_);
    handle_ = CK_INVALID_HANDLE;
  }

 private:
  CK_FUNCTION_LIST_PTR fn_ = nullptr;
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE handle_ = CK_INVALID_HANDLE;
};

/// One pooled session, with its transport key (created on first need).
struct session_slot {
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE transport = CK_INVALID_HANDLE;
  secure_bytes transport_key;
};

/// The calls of one operation, on one session held exclusively for it.
class token {
 public:
  token(CK_FUNCTION_LIST_PTR fn, session_slot& slot) : fn_(fn), slot_(slot) {}

  bool stale = false;   // a cached handle turned out invalid (the object was deleted or recreated)
  bool broken = false;  // the session is no longer usable

  CK_FUNCTION_LIST_PTR fn() const noexcept { return fn_; }
  CK_SESSION_HANDLE session() const noexcept { return slot_.handle; }

  failure fail(std::string_view call, CK_RV rv) {
    if (rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID) stale = true;
    if (rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED || rv == CKR_DEVICE_REMOVED ||
        rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_DEVICE_ERROR) {
      broken = true;
    }
    return p11_failure(call, rv);
  }

  /// ECB or CBC (no padding) encryption or decryption of whole blocks; `out` gets in.size() bytes.
  status crypt(bool encrypt, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mechanism, byte_view iv, byte_view in,
               std::uint8_t* out) {
    CK_MECHANISM m{mechanism, iv.empty() ? nullptr : const_cast<std::uint8_t*>(iv.data()), iv.size()};
    CK_RV rv = encrypt ? fn_->C_EncryptInit(session(), &m, key) : fn_->C_DecryptInit(session(), &m, key);
    if (rv != CKR_OK) return fail(encrypt ? "C_EncryptInit" : "C_DecryptInit", rv);
    CK_ULONG n = in.size();
    auto* input = const_cast<std::uint8_t*>(in.data());
    rv = encrypt ? fn_->C_Encrypt(session(), input, in.size(), out, &n)
                 : fn_->C_Decrypt(session(), input, in.size(), out, &n);
    if (rv != CKR_OK) return fail(encrypt ? "C_Encrypt" : "C_Decrypt", rv);
    if (n != in.size()) return failure{errc::backend, "the token returned a result of an unexpected length"};
    return ok();
  }

  status ecb(bool encrypt, CK_OBJECT_HANDLE key, cipher c, byte_view in, std::uint8_t* out) {
    return crypt(encrypt, key, ecb_mechanism(c), {}, in, out);
  }

  /// The last block of a CBC encryption with zero IV (CBC-MAC chaining value).
  outcome<bytes> cbc_last_block(CK_OBJECT_HANDLE key, cipher c, byte_view padded) {
    const std::size_t bs = block_size(c);
    bytes chain(padded.size());
    if (auto st = crypt(true, key, cbc_mechanism(c), byte_view(zero_block.data(), bs), padded, chain.data()); !st) {
      return st.error();
    }
    return bytes(chain.end() - static_cast<std::ptrdiff_t>(bs), chain.end());
  }

  /// C_Sign with a MAC mechanism (CMAC, HMAC): the full tag.
  outcome<bytes> sign(CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mechanism, byte_view data, std::size_t size) {
    CK_MECHANISM m{mechanism, nullptr, 0};
    CK_RV rv = fn_->C_SignInit(session(), &m, key);
    if (rv != CKR_OK) return fail("C_SignInit", rv);
    bytes out(size);
    CK_ULONG n = size;
    // Modules refuse a null data pointer even for empty data (CMAC of the empty message).
    std::uint8_t none = 0;
    auto* input = data.empty() ? &none : const_cast<std::uint8_t*>(data.data());
    rv = fn_->C_Sign(session(), input, data.size(), out.data(), &n);
    if (rv != CKR_OK) return fail("C_Sign", rv);
    out.resize(n);
    return out;
  }

  /// C_DeriveKey with CKM_*_ECB_ENCRYPT_DATA: a session key whose value is the ECB encryption of
  /// `data` under `base`, truncated to `length` (the derived key type fixes it for DES2).
  outcome<session_object> derive(CK_OBJECT_HANDLE base, cipher c, byte_view data, CK_KEY_TYPE type, std::size_t length,
                                 const key_caps& caps) {
    CK_KEY_DERIVATION_STRING_DATA params{const_cast<std::uint8_t*>(data.data()), data.size()};
    CK_MECHANISM m{derive_mechanism(c), &params, sizeof(params)};
    attribute_list t;
    t.number(CKA_CLASS, CKO_SECRET_KEY)
        .number(CKA_KEY_TYPE, type)
        .flag(CKA_TOKEN, false)
        .flag(CKA_SENSITIVE, !caps.readable)
        .flag(CKA_EXTRACTABLE, caps.readable)
        .flag(CKA_ENCRYPT, caps.encrypt)
        .flag(CKA_DECRYPT, caps.decrypt)
        .flag(CKA_SIGN, caps.sign)
        .flag(CKA_VERIFY, caps.sign)
        .flag(CKA_DERIVE, caps.derive);
    if (type == CKK_AES || type == CKK_GENERIC_SECRET) t.number(CKA_VALUE_LEN, length);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    const CK_RV rv = fn_->C_DeriveKey(session(), &m, base, t.data(), t.size(), &h);
    if (rv != CKR_OK) return fail("C_DeriveKey", rv);
    return session_object(fn_, session(), h);
  }

  outcome<CK_OBJECT_HANDLE> create(attribute_list& t) {
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    const CK_RV rv = fn_->C_CreateObject(session(), t.data(), t.size(), &h);
    if (rv != CKR_OK) return fail("C_CreateObject", rv);
    return h;
  }

  status destroy(CK_OBJECT_HANDLE h) {
    const CK_RV rv = fn_->C_DestroyObject(session(), h);
    if (rv != CKR_OK) return fail("C_DestroyObject", rv);
    return ok();
  }

  outcome<std::vector<CK_OBJECT_HANDLE>> find(attribute_list& t) {
    CK_RV rv = fn_->C_FindObjectsInit(session(), t.data(), t.size());
    if (rv != CKR_OK) return fail("C_FindObjectsInit", rv);
    std::vector<CK_OBJECT_HANDLE> out;
    std::array<CK_OBJECT_HANDLE, 64> batch{};
    for (;;) {
      CK_ULONG n = 0;
      rv = fn_->C_FindObjects(session(), batch.data(), batch.size(), &n);
      if (rv != CKR_OK) {
        fn_->C_FindObjectsFinal(session());
        return fail("C_FindObjects", rv);
      }
      out.insert(out.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
      if (n < batch.size()) break;
    }
    rv = fn_->C_FindObjectsFinal(session());
    if (rv != CKR_OK) return fail("C_FindObjectsFinal", rv);
    return out;
  }

  outcome<std::vector<CK_OBJECT_HANDLE>> find_secret_keys(const std::string* label) {
    attribute_list t;
    t.number(CKA_CLASS, CKO_SECRET_KEY);
    if (label != nullptr) t.text(CKA_LABEL, *label);
    return find(t);
  }

  /// A variable-length attribute (label, ID, value); empty when the object does not have it.
  outcome<secure_bytes> attribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) {
    CK_ATTRIBUTE a{type, nullptr, 0};
    CK_RV rv = fn_->C_GetAttributeValue(session(), h, &a, 1);
    if (rv == CKR_ATTRIBUTE_TYPE_INVALID) return secure_bytes();
    if (rv != CKR_OK) return fail("C_GetAttributeValue", rv);
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION) return secure_bytes();
    secure_bytes out(a.ulValueLen);
    a.pValue = out.data();
    rv = fn_->C_GetAttributeValue(session(), h, &a, 1);
    if (rv != CKR_OK) return fail("C_GetAttributeValue", rv);
    out.resize(a.ulValueLen);
    return out;
  }

  /// Takes a key out of the token into host memory: C_WrapKey with CKM_AES_KEY_WRAP under this
  /// session's transport key (a random AES-256 session object whose value we hold), then RFC 3394
  /// unwrap here. The key must be CKA_EXTRACTABLE.
  outcome<secure_bytes> take_out(CK_OBJECT_HANDLE key) {
    if (slot_.transport == CK_INVALID_HANDLE) {
      auto value = random_bytes(transport_key_size);
      if (!value) return value.error();
      attribute_list t;
      t.number(CKA_CLASS, CKO_SECRET_KEY)
          .number(CKA_KEY_TYPE, CKK_AES)
          .flag(CKA_TOKEN, false)
          .flag(CKA_PRIVATE, true)
          .flag(CKA_SENSITIVE, true)
          .flag(CKA_EXTRACTABLE, false)
          .flag(CKA_WRAP, true)
          .flag(CKA_UNWRAP, false)
          .flag(CKA_ENCRYPT, false)
          .flag(CKA_DECRYPT, false)
          .view(CKA_VALUE, value->view());
      auto h = create(t);
      if (!h) return h.error();
      slot_.transport = *h;
      slot_.transport_key = std::move(*value);
    }
    CK_MECHANISM m{CKM_AES_KEY_WRAP, nullptr, 0};
    CK_ULONG n = 0;
    CK_RV rv = fn_->C_WrapKey(session(), &m, slot_.transport, key, nullptr, &n);
    if (rv != CKR_OK) return fail("C_WrapKey", rv);
    bytes wrapped(n);
    rv = fn_->C_WrapKey(session(), &m, slot_.transport, key, wrapped.data(), &n);
    if (rv != CKR_OK) return fail("C_WrapKey", rv);
    wrapped.resize(n);
    return aes_key_unwrap(slot_.transport_key.view(), wrapped);
  }

 private:
  CK_FUNCTION_LIST_PTR fn_;
  session_slot& slot_;
};

// ------------------------------------------------------------------------------------ key entries

/// What the backend knows of a key object (cached by name; the handle is the token's).
struct key_entry {
  std::string name;
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE left = CK_INVALID_HANDLE;  // single-DES companion "<name>#left", when there is one
  tr31_header header;
  std::size_t length = 0;
  bool can_encrypt = false;
  bool can_sign = false;
  bool can_derive = false;
  bool extractable = false;
  std::string kcv;  // filled on first need
};

// Reads a key object's attributes and its TR-31 header (CKA_ID). Errors name the key, never values.
outcome<key_entry> load_entry(token& t, CK_OBJECT_HANDLE h, const std::string& name) {
  key_entry e;
  e.name = name;
  e.handle = h;
  auto id = t.attribute(h, CKA_ID);
  if (!id) return id.error();
  const std::string text(id->begin(), id->end());
  std::size_t consumed = 0;
  auto header = tr31_parse_header(text, consumed);
  if (!header || consumed != text.size()) {
    return failure{errc::backend, "key '" + name + "' has no TR-31 header in CKA_ID (see docs/hsm.md, key objects)"};
  }
  e.header = std::move(*header);

  CK_KEY_TYPE type = 0;
  CK_ULONG value_len = 0;
  CK_BBOOL enc = CK_FALSE, sig = CK_FALSE, der = CK_FALSE, ext = CK_FALSE;
  std::array<CK_ATTRIBUTE, 6> a = {{{CKA_KEY_TYPE, &type, sizeof(type)},
                                    {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
                                    {CKA_ENCRYPT, &enc, sizeof(enc)},
                                    {CKA_SIGN, &sig, sizeof(sig)},
                                    {CKA_DERIVE, &der, sizeof(der)},
                                    {CKA_EXTRACTABLE, &ext, sizeof(ext)}}};
  const CK_RV rv = t.fn()->C_GetAttributeValue(t.session(), h, a.data(), a.size());
  // CKA_VALUE_LEN is not defined for DES keys: the type says their length.
  if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID) return t.fail("C_GetAttributeValue", rv);
  const auto has = [&](std::size_t i) { return a[i].ulValueLen != CK_UNAVAILABLE_INFORMATION; };
  if (!has(0)) return failure{errc::backend, "key '" + name + "' has no key type"};
  switch (type) {
    case CKK_DES2:
      e.length = 16;
      break;
    case CKK_DES3:
      e.length = 24;
      break;
    default:
      e.length = has(1) ? value_len : 0;
  }
  auto expected = key_type_for(e.header, e.length);
  if (!expected || *expected != type || e.length == 0) {
    return failure{errc::backend, "key '" + name + "': the token's key type does not match its TR-31 header"};
  }
  e.can_encrypt = has(2) && enc == CK_TRUE;
  e.can_sign = has(3) && sig == CK_TRUE;
  e.can_derive = has(4) && der == CK_TRUE;
  e.extractable = has(5) && ext == CK_TRUE;

  if (needs_left_half(e.header, e.length)) {
    const std::string label = name + std::string(pkcs11_left_half_suffix);
    auto left = t.find_secret_keys(&label);
    if (!left) return left.error();
    if (left->size() == 1) e.left = left->front();
  }
  return e;
}

// The CMAC subkey K1 (NIST SP 800-38B 6.1) from L = E(K, 0).
void cmac_double(std::span<std::uint8_t> block) noexcept {
  const bool carry = (block[0] & 0x80) != 0;
  for (std::size_t i = 0; i + 1 < block.size(); ++i) {
    block[i] = static_cast<std::uint8_t>((block[i] << 1) | (block[i + 1] >> 7));
  }
  block[block.size() - 1] = static_cast<std::uint8_t>(block[block.size() - 1] << 1);
  if (carry)
    block[block.size() - 1] = static_cast<std::uint8_t>(block[block.size() - 1] ^ (block.size() == 16 ? 0x87 : 0x1B));
}

// One block encrypted under a stored key, by whichever of its permissions allows it: C_Encrypt, or
// a derivation whose (non-sensitive) value is read back, or - for extractable keys only - in host
// memory. Used for check values only: keys whose attributes allow no encryption still get a KCV.
outcome<secure_bytes> encrypt_block_any(token& t, const key_entry& k, cipher c, byte_view block) {
  secure_bytes out(block.size());
  if (k.can_encrypt) {
    if (auto st = t.ecb(true, k.handle, c, block, out.data()); !st) return st.error();
    return out;
  }
  if (k.can_derive) {
    key_caps readable;
    readable.readable = true;
    auto d = t.derive(k.handle, c, block, CKK_GENERIC_SECRET, block.size(), readable);
    if (!d) return d.error();
    return t.attribute(d->get(), CKA_VALUE);
  }
  if (k.extractable) {
    auto clear = t.take_out(k.handle);
    if (!clear) return clear.error();
    if (auto st = ecb_encrypt(c, clear->view(), block, out.data()); !st) return st.error();
    return out;
  }
  return failure{errc::backend, "key '" + k.name + "': the token allows no operation that gives its check value"};
}

// The key check value computed in the token (TDES: E(0), 3 bytes; AES: CMAC(0), 5 bytes, X9.24-1
// 2017 A.3; HMAC: HMAC-SHA256 of 16 zero bytes, 3 bytes), never CKA_CHECK_VALUE.
outcome<std::string> token_kcv(token& t, const key_entry& k) {
  switch (k.header.algorithm) {
    case 'T': {
      auto e = encrypt_block_any(t, k, cipher::tdes, byte_view(zero_block.data(), 8));
      if (!e) return e.error();
      return to_hex(byte_view(e->data(), 3));
    }
    case 'A': {
      if (k.can_sign) {
        auto mac = t.sign(k.handle, CKM_AES_CMAC, byte_view(zero_block.data(), 16), 16);
        if (!mac) return mac.error();
        return to_hex(byte_view(mac->data(), 5));
      }
      // CMAC of one zero block = E(K1), K1 the doubled E(0) (SP 800-38B 6.2).
      auto l = encrypt_block_any(t, k, cipher::aes, byte_view(zero_block.data(), 16));
      if (!l) return l.error();
      cmac_double(l->span());
      auto mac = encrypt_block_any(t, k, cipher::aes, l->view());
      if (!mac) return mac.error();
      return to_hex(byte_view(mac->data(), 5));
    }
    case 'H': {
      if (k.can_sign) {
        auto mac = t.sign(k.handle, CKM_SHA256_HMAC, byte_view(zero_block.data(), 16), 32);
        if (mac) return to_hex(byte_view(mac->data(), 3));
        if (!k.extractable) return mac.error();
      }
      if (k.extractable) {
        auto clear = t.take_out(k.handle);
        if (!clear) return clear.error();
        return host_kcv(k.header, clear->view());
      }
      return failure{errc::backend, "key '" + k.name + "': the token allows no operation that gives its check value"};
    }
    default:
      return failure{errc::bad_format, "key '" + k.name + "' has an algorithm without a check value"};
  }
}

// -------------------------------------------------------------------------------- PIN blocks

std::uint8_t get_nibble(const std::uint8_t* p, std::size_t i) noexcept {
  return static_cast<std::uint8_t>((i % 2 == 0) ? (p[i / 2] >> 4) : (p[i / 2] & 0x0F));
}

void set_nibble(std::uint8_t* p, std::size_t i, std::uint8_t v) noexcept {
  v &= 0x0F;
  p[i / 2] = (i % 2 == 0) ? static_cast<std::uint8_t>((p[i / 2] & 0x0F) | (v << 4))
                          : static_cast<std::uint8_t>((p[i / 2] & 0xF0) | v);
}

bool all_digits(std::string_view s) noexcept {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// ISO 9564-1:2017 9.4.2.3: the plain PAN field of format 4.
std::array<std::uint8_t, 16> pan_field_16(std::string_view pan) noexcept {
  std::array<std::uint8_t, 16> field{};
  if (pan.size() >= 12) {
    set_nibble(field.data(), 0, static_cast<std::uint8_t>(pan.size() - 12));
    for (std::size_t i = 0; i < pan.size(); ++i)
      set_nibble(field.data(), 1 + i, static_cast<std::uint8_t>(pan[i] - '0'));
  } else {
    const std::size_t start = 13 - pan.size();
    for (std::size_t i = 0; i < pan.size(); ++i) {
      set_nibble(field.data(), start + i, static_cast<std::uint8_t>(pan[i] - '0'));
    }
  }
  return field;
}

/// The key that opens or seals a PIN block: a token object, or (TDES DUKPT only) a clear key in
/// host memory.
struct block_key {
  cipher algorithm = cipher::tdes;
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  secure_bytes clear;
  session_object owned;  // a derived working key, destroyed with this

  status ecb(token& t, bool encrypt, byte_view in, std::uint8_t* out) const {
    if (!clear.empty()) {
      return encrypt ? ecb_encrypt(algorithm, clear.view(), in, out) : ecb_decrypt(algorithm, clear.view(), in, out);
    }
    return t.ecb(encrypt, handle, algorithm, in, out);
  }
};

// Decrypts a PIN block and returns the PIN (as decrypt_pin does). Token: the block decryption(s);
// host memory: the clear block and the PIN, both wiped.
outcome<clear_pin> open_pin_block(token& t, const block_key& k, pin_block_format f, byte_view block,
                                  std::string_view pan) {
  if (f == pin_block_format::iso4) {
    if (k.algorithm != cipher::aes) return failure{errc::bad_format, "format 4 PIN blocks are encrypted with AES"};
    if (block.size() != 16) return failure{errc::bad_data_length, "a format 4 PIN block is 16 bytes"};
    if (auto st = check_pan(pan, f); !st) return st.error();
    const auto pan_field = pan_field_16(pan);
    secure_bytes work(16);
    if (auto st = k.ecb(t, false, block, work.data()); !st) return st.error();
    xor_into(work.view(), pan_field, work.data());
    secure_bytes field(16);
    if (auto st = k.ecb(t, false, work.view(), field.data()); !st) return st.error();
    if (get_nibble(field.data(), 0) != 4) return failure{errc::bad_pin_block, "control field is not 4"};
    const std::size_t n = get_nibble(field.data(), 1);
    if (n < 4 || n > 12) return failure{errc::bad_pin_block, "PIN length nibble outside 4-12"};
    clear_pin pin(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t d = get_nibble(field.data(), 2 + i);
      if (d > 9) return failure{errc::bad_pin_block, "PIN digit is not decimal"};
      pin[i] = static_cast<std::uint8_t>('0' + d);
    }
    for (std::size_t i = 2 + n; i < 16; ++i) {
      if (get_nibble(field.data(), i) != 0x0A) {
        return failure{errc::bad_pin_block, "fill digits are not valid for the format"};
      }
    }
    return pin;
  }
  if (f != pin_block_format::iso0 && f != pin_block_format::iso1 && f != pin_block_format::iso3) {
    return failure{errc::bad_format, "unknown PIN block format"};
  }
  if (k.algorithm != cipher::tdes) {
    return failure{errc::bad_format, "format 0, 1 and 3 PIN blocks are encrypted with TDES"};
  }
  if (block.size() != 8) return failure{errc::bad_data_length, "a format 0, 1 or 3 PIN block is 8 bytes"};
  secure_bytes clear(8);
  if (auto st = k.ecb(t, false, block, clear.data()); !st) return st.error();
  return read_pin_block(f, clear.view(), pan);
}

// Encrypts a PIN into a block of the format (as encrypt_pin does). Host memory: building the clear
// block; token: its encryption(s).
outcome<bytes> seal_pin_block(token& t, const block_key& k, pin_block_format f, std::string_view pin,
                              std::string_view pan) {
  if (f == pin_block_format::iso4) {
    if (k.algorithm != cipher::aes) return failure{errc::bad_format, "format 4 PIN blocks are encrypted with AES"};
    if (auto st = check_pin(pin); !st) return st.error();
    if (auto st = check_pan(pan, f); !st) return st.error();
    // ISO 9564-1:2017 9.4.2.2: 4, PIN length, PIN, fill A to byte 8, then 8 random bytes.
    secure_bytes field(16);
    set_nibble(field.data(), 0, 4);
    set_nibble(field.data(), 1, static_cast<std::uint8_t>(pin.size()));
    for (std::size_t i = 0; i < pin.size(); ++i)
      set_nibble(field.data(), 2 + i, static_cast<std::uint8_t>(pin[i] - '0'));
    for (std::size_t i = 2 + pin.size(); i < 16; ++i) set_nibble(field.data(), i, 0x0A);
    auto fill = random_bytes(8);
    if (!fill) return fill.error();
    std::copy(fill->begin(), fill->end(), field.data() + 8);
    secure_bytes work(16);
    if (auto st = k.ecb(t, true, field.view(), work.data()); !st) return st.error();
    const auto pan_field = pan_field_16(pan);
    xor_into(work.view(), pan_field, work.data());
    bytes out(16);
    if (auto st = k.ecb(t, true, work.view(), out.data()); !st) return st.error();
    return out;
  }
  if (f != pin_block_format::iso0 && f != pin_block_format::iso1 && f != pin_block_format::iso3) {
    return failure{errc::bad_format, "unknown PIN block format"};
  }
  if (k.algorithm != cipher::tdes) {
    return failure{errc::bad_format, "format 0, 1 and 3 PIN blocks are encrypted with TDES"};
  }
  auto clear = make_pin_block(f, pin, pan);
  if (!clear) return clear.error();
  bytes out(8);
  if (auto st = k.ecb(t, true, clear->view(), out.data()); !st) return st.error();
  return out;
}

std::string_view as_text(const clear_pin& pin) noexcept {
  return {reinterpret_cast<const char*>(pin.data()), pin.size()};
}

// ------------------------------------------------------------------------------------------ MACs

outcome<mac_options> mac_options_for(const mac_spec& spec, const tr31_header& key_header, bool dukpt_tdes) {
  mac_options o;
  o.scheme = static_cast<mac_scheme>(spec.algorithm);  // the two enums share their order
  if (spec.padding != 1 && spec.padding != 2) return failure{errc::bad_format, "MAC padding is method 1 or 2"};
  o.padding = spec.padding == 2 ? mac_padding::method2 : mac_padding::method1;
  o.length = spec.length;
  if (dukpt_tdes) {
    o.block_cipher = cipher::tdes;
  } else if (spec.algorithm != mac_algorithm::hmac_sha256) {
    auto c = cipher_of(key_header);
    if (!c) return c.error();
    o.block_cipher = *c;
  }
  return o;
}

// The length rules of compute_mac, checked before the token is asked for anything.
outcome<std::size_t> mac_length(const mac_options& o) {
  const std::size_t full = full_mac_length(o);
  const std::size_t length = o.length == 0 ? default_mac_length(o) : o.length;
  if (length < 4 || length > full) {
    return failure{errc::bad_input, "MAC length must be 4 to " + std::to_string(full) + " bytes for this scheme"};
  }
  if (o.padding != mac_padding::method1 && o.padding != mac_padding::method2) {
    return failure{errc::bad_format, "ISO 9797-1 padding method must be 1 or 2"};
  }
  if (o.scheme == mac_scheme::iso9797_1_alg3 && o.block_cipher == cipher::aes) {
    return failure{errc::bad_format, "MAC algorithm 3 is defined here with DES"};
  }
  return length;
}

/// A MAC key: a token object (with its single-DES companion for algorithm 3), or - TDES DUKPT only -
/// a clear key in host memory.
struct mac_key_ref {
  std::string name;
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE left = CK_INVALID_HANDLE;
  char algorithm = 'T';
  std::size_t length = 0;
  mac_options options;
  secure_bytes clear;
  session_object owned;
};

// ISO 9797-1 MAC algorithm 3 in the token: single-DES CBC under K_L over all blocks but the last
// (the companion K_L || K_L), then the last block xor that chaining value through TDES under K:
// e_KL(d_KR(e_KL(x))) = output transformation 3 applied to the last CBC step. Only the (public)
// chaining value and data pass through host memory.
outcome<bytes> retail_mac(token& t, CK_OBJECT_HANDLE left, CK_OBJECT_HANDLE key, byte_view padded) {
  const std::size_t q = padded.size() / 8;
  std::array<std::uint8_t, 8> x{};
  if (q > 1) {
    auto h = t.cbc_last_block(left, cipher::tdes, padded.first((q - 1) * 8));
    if (!h) return h.error();
    std::copy(h->begin(), h->end(), x.begin());
  }
  xor_into(x, padded.subspan((q - 1) * 8, 8), x.data());
  bytes out(8);
  if (auto st = t.ecb(true, key, cipher::tdes, x, out.data()); !st) return st.error();
  return out;
}

outcome<bytes> token_mac(token& t, const mac_key_ref& k, byte_view data) {
  const mac_options& o = k.options;
  auto length = mac_length(o);
  if (!length) return length.error();
  if (!k.clear.empty()) return compute_mac(o, k.clear.view(), data);  // TDES DUKPT: host memory
  outcome<bytes> mac = failure{errc::bad_format, "unknown MAC scheme"};
  switch (o.scheme) {
    case mac_scheme::iso9797_1_alg1:
      if (o.block_cipher == cipher::des) return failure{errc::bad_format, "single DES MAC keys are not supported"};
      mac = t.cbc_last_block(k.key, o.block_cipher, pad_iso9797_1(data, block_size(o.block_cipher), o.padding));
      break;
    case mac_scheme::iso9797_1_alg3:
      if (k.length != 16) return failure{errc::bad_key_length, "retail MAC keys are 16 bytes (K and K')"};
      if (k.left == CK_INVALID_HANDLE) {
        return failure{errc::backend, "key '" + k.name + "' has no single-DES companion object ('" + k.name +
                                          std::string(pkcs11_left_half_suffix) +
                                          "'): import it through eftswitch to use MAC algorithm 3"};
      }
      mac = retail_mac(t, k.left, k.key, pad_iso9797_1(data, 8, o.padding));
      break;
    case mac_scheme::cmac:
      if (o.block_cipher == cipher::des) return failure{errc::bad_format, "single DES MAC keys are not supported"};
      mac =
          t.sign(k.key, o.block_cipher == cipher::aes ? CKM_AES_CMAC : CKM_DES3_CMAC, data, block_size(o.block_cipher));
      break;
    case mac_scheme::hmac_sha256:
      if (k.algorithm != 'H') {
        return failure{errc::bad_format, "on the pkcs11 backend HMAC-SHA256 needs an HMAC key (algorithm H)"};
      }
      if (k.length < hmac_min_key_size) {
        return failure{errc::bad_format,
                       "the token's HMAC-SHA256 takes keys of 32 bytes or more (AES DUKPT: use an "
                       "AES-256 BDK)"};
      }
      mac = t.sign(k.key, CKM_SHA256_HMAC, data, 32);
      break;
  }
  if (!mac) return mac;
  mac->resize(*length);
  return mac;
}

outcome<bool> token_check_mac(token& t, mac_key_ref& k, byte_view data, byte_view mac) {
  if (k.options.length != 0 && mac.size() != k.options.length) {
    return failure{errc::bad_data_length,
                   "MAC of " + std::to_string(mac.size()) + " bytes; expected " + std::to_string(k.options.length)};
  }
  if (mac.empty()) return failure{errc::bad_data_length, "empty MAC"};
  k.options.length = mac.size();
  auto expected = token_mac(t, k, data);
  if (!expected) return expected.error();
  return equal_ct(*expected, mac);
}

// ------------------------------------------------------------------------------------------- EMV

secure_bytes pack_decimal(std::string_view digits) {
  secure_bytes out(digits.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(((digits[2 * i] - '0') << 4) | (digits[2 * i + 1] - '0'));
  }
  return out;
}

// Y of EMV Book 2 A1.4 (the 16 digits option A encrypts) as 8 BCD bytes: option A, or option B for
// PANs over 16 digits. Host memory: PAN-derived data only (no key).
outcome<secure_bytes> icc_y(std::string_view pan, std::string_view psn, icc_key_option option) {
  if (pan.empty() || pan.size() > 19 || !all_digits(pan)) {
    return failure{errc::bad_pan, "a PAN is 1 to 19 decimal digits"};
  }
  if (!psn.empty() && (psn.size() != 2 || !all_digits(psn))) {
    return failure{errc::bad_input, "the PAN sequence number is 2 decimal digits"};
  }
  std::string x;
  x.reserve(21);
  x.append(pan);
  x.append(psn.empty() ? std::string_view("00") : psn);
  if (option == icc_key_option::b && pan.size() > 16) {
    if (x.size() % 2 != 0) x.insert(x.begin(), '0');
    const secure_bytes packed = pack_decimal(x);
    wipe(x.data(), x.size());
    auto sha = sha1(packed.view());
    if (!sha) return sha.error();
    std::string y;
    y.reserve(16);
    for (int pass = 0; pass < 2 && y.size() < 16; ++pass) {
      for (std::size_t i = 0; i < sha->size() * 2 && y.size() < 16; ++i) {
        const int nib = (i % 2 == 0) ? ((*sha)[i / 2] >> 4) : ((*sha)[i / 2] & 0x0F);
        if (pass == 0 && nib < 10) y.push_back(static_cast<char>('0' + nib));
        if (pass == 1 && nib >= 10) y.push_back(static_cast<char>('0' + nib - 10));
      }
    }
    wipe(sha->data(), sha->size());
    auto out = pack_decimal(y);
    wipe(y.data(), y.size());
    return out;
  }
  if (x.size() < 16) x.insert(x.begin(), 16 - x.size(), '0');
  auto out = pack_decimal(std::string_view(x).substr(x.size() - 16));
  wipe(x.data(), x.size());
  return out;
}

/// A double-length key in the token with its single-DES left-half companion (derived on demand).
struct emv_key {
  session_object key;
  session_object left;
};

key_caps derive_encrypt() {
  key_caps c;
  c.encrypt = true;
  c.derive = true;
  return c;
}
key_caps encrypt_only() {
  key_caps c;
  c.encrypt = true;
  return c;
}

// EMV Book 2 A1.4 option A in the token: MK = E_IMK(Y) || E_IMK(Y xor FF..FF), one
// CKM_DES3_ECB_ENCRYPT_DATA derivation; with `left`, also E_IMK(Y) || E_IMK(Y) (single DES under
// the MK's left half).
outcome<emv_key> derive_icc_master_key(token& t, CK_OBJECT_HANDLE imk, byte_view y, bool with_left) {
  secure_bytes data(16);
  std::copy(y.begin(), y.end(), data.data());
  for (std::size_t i = 0; i < 8; ++i) data[8 + i] = static_cast<std::uint8_t>(y[i] ^ 0xFF);
  emv_key out;
  auto mk = t.derive(imk, cipher::tdes, data.view(), CKK_DES2, 16, derive_encrypt());
  if (!mk) return mk.error();
  out.key = std::move(*mk);
  if (with_left) {
    std::copy(y.begin(), y.end(), data.data() + 8);
    auto left = t.derive(imk, cipher::tdes, data.view(), CKK_DES2, 16, encrypt_only());
    if (!left) return left.error();
    out.left = std::move(*left);
  }
  return out;
}

// EMV Book 2 A1.3.1 in the token from the 8-byte R: SK = E_MK(R0 R1 F0 R3..R7) || E_MK(R0 R1 0F
// R3..R7), and its companion E_MK(R0 R1 F0 ..) twice.
outcome<emv_key> derive_session_key(token& t, CK_OBJECT_HANDLE mk, const std::array<std::uint8_t, 8>& r) {
  std::array<std::uint8_t, 16> data{};
  std::copy(r.begin(), r.end(), data.begin());
  std::copy(r.begin(), r.end(), data.begin() + 8);
  data[2] = 0xF0;
  data[10] = 0x0F;
  emv_key out;
  auto sk = t.derive(mk, cipher::tdes, data, CKK_DES2, 16, encrypt_only());
  if (!sk) return sk.error();
  out.key = std::move(*sk);
  data[10] = 0xF0;
  auto left = t.derive(mk, cipher::tdes, data, CKK_DES2, 16, encrypt_only());
  if (!left) return left.error();
  out.left = std::move(*left);
  return out;
}

// ------------------------------------------------------------------------------ TR-31 in the token

// TR-31 versions B and D (key derivation binding) with the KBPK kept in the token. The KBEK and KBAK
// are CMACs of 8-byte derivation data under the KBPK (TR-31:2018 5.3.2.1, 5.3.2.3). A one-block CMAC
// is one encryption: E(M xor K1) for a whole block (TDES), E(M || 80 00.. xor K2) for the 8 bytes
// padded to an AES block, with K1, K2 doubled from L = E(0) (SP 800-38B 6.1-6.2). So both keys are
// derived inside the token with CKM_*_ECB_ENCRYPT_DATA of the masked data: only L, the subkey
// source, passes through host memory - never the KBPK, KBEK or KBAK.
struct tr31_block_keys {
  session_object kbek;
  session_object kbak;
};

std::size_t tr31_mac_size(char version) noexcept {
  return version == 'A' ? 4 : version == 'B' ? 8 : 16;
}

outcome<tr31_block_keys> derive_tr31_block_keys(token& t, const key_entry& kbpk, char version) {
  const cipher c = version == 'D' ? cipher::aes : cipher::tdes;
  const std::size_t bs = block_size(c);
  const std::size_t n = kbpk.length;
  std::uint8_t algorithm = 0;
  if (c == cipher::tdes) {
    algorithm = n == 16 ? 0 : 1;
  } else {
    algorithm = n == 16 ? 2 : n == 24 ? 3 : 4;
  }
  auto l = encrypt_block_any(t, kbpk, c, byte_view(zero_block.data(), bs));
  if (!l) return l.error();
  secure_bytes k1 = l->clone();
  cmac_double(k1.span());
  secure_bytes k2 = k1.clone();
  cmac_double(k2.span());
  const std::size_t bits = n * 8;
  const CK_KEY_TYPE type = c == cipher::aes ? CKK_AES : (n == 16 ? CKK_DES2 : CKK_DES3);
  tr31_block_keys out;
  for (std::uint8_t usage : {std::uint8_t{0}, std::uint8_t{1}}) {
    secure_bytes data((n + bs - 1) / bs * bs);
    for (std::size_t i = 0; i * bs < n; ++i) {
      std::uint8_t* x = data.data() + i * bs;
      const std::array<std::uint8_t, 8> m{
          static_cast<std::uint8_t>(i + 1),      0, usage, 0, 0, algorithm, static_cast<std::uint8_t>(bits >> 8),
          static_cast<std::uint8_t>(bits & 0xFF)};
      std::copy(m.begin(), m.end(), x);
      if (bs == 16) x[8] = 0x80;
      xor_into(byte_view(x, bs), (bs == 16 ? k2 : k1).view(), x);
    }
    key_caps caps;
    caps.encrypt = usage == 0;
    caps.decrypt = usage == 0;
    caps.sign = usage == 1;
    auto k = t.derive(kbpk.handle, c, data.view(), type, n, caps);
    if (!k) return k.error();
    (usage == 0 ? out.kbek : out.kbak) = std::move(*k);
  }
  return out;
}

outcome<bytes> tr31_block_mac(token& t, const tr31_block_keys& k, char version, std::string_view header,
                              byte_view field) {
  bytes input(header.begin(), header.end());
  input.insert(input.end(), field.begin(), field.end());
  const bool aes = version == 'D';
  auto mac = t.sign(k.kbak.get(), aes ? CKM_AES_CMAC : CKM_DES3_CMAC, input, aes ? 16 : 8);
  if (!mac) return mac;
  mac->resize(tr31_mac_size(version));
  return mac;
}

// The rules tr31_wrap applies to a header and key (usage/algorithm/mode, key no longer than the
// KBPK, lengths by algorithm), checked by wrapping under a dummy KBPK of the same length: the same
// code, so the same errors and the same header text (pad block, length field) as the software
// backend. The dummy block is thrown away.
outcome<std::string> tr31_dummy_wrap(const tr31_header& h, byte_view key, std::size_t kbpk_size) {
  const secure_bytes dummy(kbpk_size);
  return tr31_wrap(dummy.view(), h, key);
}

// tr31_unwrap for versions B and D, the KBPK in the token; the checks and errors are tr31_unwrap's.
// Host memory: the clear key field between the token's decryption and its MAC check, and the key.
outcome<tr31_key> tr31_unwrap_in_token(token& t, const key_entry& kbpk, std::string_view block) {
  const auto bad = [](std::string detail) { return failure{errc::bad_key_block, std::move(detail)}; };
  std::size_t header_size = 0;
  auto parsed = tr31_parse_header(block, header_size);
  if (!parsed) return parsed.error();
  tr31_header& h = *parsed;
  const std::size_t declared = std::stoul(std::string(block.substr(1, 4)));
  if (declared != block.size()) {
    return bad("length field says " + std::to_string(declared) + " characters; the block has " +
               std::to_string(block.size()));
  }
  const cipher c = h.version == 'D' ? cipher::aes : cipher::tdes;
  const std::size_t bs = block_size(c);
  if (header_size % bs != 0) {
    return bad("header with optional blocks is " + std::to_string(header_size) + " characters, not a multiple of " +
               std::to_string(bs));
  }
  const std::size_t mac_hex = 2 * tr31_mac_size(h.version);
  const std::string_view rest = block.substr(header_size);
  if (!std::all_of(rest.begin(), rest.end(),
                   [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F'); })) {
    return bad("encrypted key field and MAC must be hex digits 0-9 A-F");
  }
  if (rest.size() < mac_hex + 2 * bs || (rest.size() - mac_hex) % (2 * bs) != 0) {
    return bad("encrypted key field of " + std::to_string(rest.size() < mac_hex ? 0 : (rest.size() - mac_hex) / 2) +
               " bytes is not a whole number of " + std::to_string(bs) + "-byte blocks");
  }
  const failure mac_failure{errc::key_block_mac, "wrong KBPK or altered key block"};
  const bool tdes_kbpk = kbpk.header.algorithm == 'T';
  if (c == cipher::tdes && !tdes_kbpk && kbpk.length != 16 && kbpk.length != 24) {
    return failure{errc::bad_key_length, std::string("version ") + h.version +
                                             " needs a TDES KBPK of 16 or 24 bytes, not " +
                                             std::to_string(kbpk.length)};
  }
  // A KEK of the other cipher cannot have made the block: what the software backend reports.
  if ((c == cipher::tdes) != tdes_kbpk) return mac_failure;

  const std::string_view header_text = block.substr(0, header_size);
  const bytes encrypted = from_hex(rest.substr(0, rest.size() - mac_hex)).value();
  const bytes mac = from_hex(rest.substr(rest.size() - mac_hex)).value();
  auto keys = derive_tr31_block_keys(t, kbpk, h.version);
  if (!keys) return keys.error();
  // The MAC is the CBC IV and covers the clear field (TR-31:2018 5.3.2): the field is not looked at
  // until the MAC verifies.
  secure_bytes field(encrypted.size());
  if (auto st = t.crypt(false, keys->kbek.get(), cbc_mechanism(c), mac, encrypted, field.data()); !st) {
    return st.error();
  }
  auto expected = tr31_block_mac(t, *keys, h.version, header_text, field.view());
  if (!expected) return expected.error();
  if (!equal_ct(*expected, mac)) return mac_failure;

  const std::size_t bits = (static_cast<std::size_t>(field[0]) << 8) | field[1];
  if (bits == 0 || bits % 8 != 0 || bits / 8 > field.size() - 2) {
    return bad("key length field (" + std::to_string(bits) + " bits) does not fit the " +
               std::to_string(field.size() - 2) + "-byte key field");
  }
  tr31_key out;
  out.key = secure_bytes(byte_view(field.data() + 2, bits / 8));
  if (auto rules = tr31_dummy_wrap(h, out.key.view(), kbpk.length); !rules) return bad(rules.error().detail);
  out.header = std::move(h);
  return out;
}

// tr31_wrap for versions B and D (the header's version), the KBPK in the token. Host memory: the
// clear key field (length, key, random padding) between the key's extraction and the token's
// encryption.
outcome<std::string> tr31_wrap_in_token(token& t, const key_entry& kbpk, const tr31_header& h, byte_view key) {
  auto dummy = tr31_dummy_wrap(h, key, kbpk.length);
  if (!dummy) return dummy;
  const cipher c = h.version == 'D' ? cipher::aes : cipher::tdes;
  const std::size_t bs = block_size(c);
  const std::size_t pad = (bs - (2 + key.size()) % bs) % bs;
  secure_bytes field(2 + key.size() + pad);
  field[0] = static_cast<std::uint8_t>((key.size() * 8) >> 8);
  field[1] = static_cast<std::uint8_t>((key.size() * 8) & 0xFF);
  std::copy(key.begin(), key.end(), field.data() + 2);
  if (pad > 0) {
    auto r = random_bytes(pad);
    if (!r) return r.error();
    std::copy(r->begin(), r->end(), field.data() + 2 + key.size());
  }
  const std::size_t mac_len = tr31_mac_size(h.version);
  const std::string text = dummy->substr(0, dummy->size() - 2 * field.size() - 2 * mac_len);
  wipe(dummy->data(), dummy->size());
  auto keys = derive_tr31_block_keys(t, kbpk, h.version);
  if (!keys) return keys.error();
  auto mac = tr31_block_mac(t, *keys, h.version, text, field.view());
  if (!mac) return mac.error();
  bytes encrypted(field.size());
  if (auto st = t.crypt(true, keys->kbek.get(), cbc_mechanism(c), *mac, field.view(), encrypted.data()); !st) {
    return st.error();
  }
  return text + to_hex(encrypted) + to_hex(*mac);
}

// ----------------------------------------------------------------------------- card verification

status check_digits(std::string_view what, std::string_view value, std::size_t n) {
  if (value.size() != n || !all_digits(value)) {
    return failure{errc::bad_input, std::string(what) + " must be " + std::to_string(n) + " decimal digits"};
  }
  return ok();
}

status check_pan_text(std::string_view pan) {
  if (pan.size() < 12 || pan.size() > 19 || !all_digits(pan)) {
    return failure{errc::bad_pan, "a PAN is 12 to 19 decimal digits"};
  }
  return ok();
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

secure_bytes pack_hex_digits(std::string_view digits) {
  secure_bytes out(digits.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>((hex_value(digits[2 * i]) << 4) | hex_value(digits[2 * i + 1]));
  }
  return out;
}

// The Visa decimalisation of CVV and PVV: decimal nibbles first, then A-F less 10.
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

bool equal_text(std::string_view a, std::string_view b) noexcept {
  return equal_ct({reinterpret_cast<const std::uint8_t*>(a.data()), a.size()},
                  {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
}

}  // namespace

// ============================================================================== pkcs11_hsm::impl

struct pkcs11_hsm::impl {
  std::string module_path;
  CK_FUNCTION_LIST_PTR fn = nullptr;
  CK_SLOT_ID slot = 0;
  std::string token_label;
  std::string pin_env;
  secure_bytes pin;  // kept to log new sessions in after a token reset
  bool production = false;
  std::size_t max_sessions = 8;

  std::mutex pool_mutex;
  std::condition_variable pool_cv;
  std::vector<std::unique_ptr<session_slot>> idle;
  std::size_t open_sessions = 0;

  std::shared_mutex cache_mutex;
  std::map<std::string, key_entry, std::less<>> cache;
  std::mutex store_mutex;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() {
    for (auto& s : idle) fn->C_CloseSession(s->handle);
    idle.clear();
    if (fn != nullptr) release_module(module_path);
  }

  // ------------------------------------------------------------------------------- sessions

  outcome<std::unique_ptr<session_slot>> open_session() {
    auto s = std::make_unique<session_slot>();
    CK_RV rv = fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s->handle);
    if (rv != CKR_OK) return p11_failure("C_OpenSession", rv);
    CK_SESSION_INFO info{};
    rv = fn->C_GetSessionInfo(s->handle, &info);
    if (rv != CKR_OK) {
      fn->C_CloseSession(s->handle);
      return p11_failure("C_GetSessionInfo", rv);
    }
    // The login belongs to the application, per token: a new session is logged in already unless
    // the token was reset or every session closed.
    if (info.state != CKS_RW_USER_FUNCTIONS && info.state != CKS_RO_USER_FUNCTIONS) {
      rv = fn->C_Login(s->handle, CKU_USER, pin.data(), pin.size());
      if (rv == CKR_USER_ALREADY_LOGGED_IN) rv = CKR_OK;
    }
    if (rv != CKR_OK) {
      fn->C_CloseSession(s->handle);
      if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED || rv == CKR_PIN_LEN_RANGE) {
        return failure{errc::backend,
                       "token '" + token_label + "' refused the user PIN from " + pin_env + " (" + rv_name(rv) + ")"};
      }
      return p11_failure("C_Login", rv);
    }
    return s;
  }

  outcome<std::unique_ptr<session_slot>> acquire() {
    std::unique_lock lock(pool_mutex);
    pool_cv.wait(lock, [&] { return !idle.empty() || open_sessions < max_sessions; });
    if (!idle.empty()) {
      auto s = std::move(idle.back());
      idle.pop_back();
      return s;
    }
    ++open_sessions;
    lock.unlock();
    auto s = open_session();
    if (!s) {
      lock.lock();
      --open_sessions;
      pool_cv.notify_one();
    }
    return s;
  }

  void give_back(std::unique_ptr<session_slot> s, bool broken) {
    if (broken) fn->C_CloseSession(s->handle);  // its session objects (transport key) go with it
    {
      const std::lock_guard lock(pool_mutex);
      if (broken) {
        --open_sessions;
      } else {
        idle.push_back(std::move(s));
      }
    }
    pool_cv.notify_one();
  }

  void forget_keys() {
    const std::unique_lock lock(cache_mutex);
    cache.clear();
  }

  /// A pooled session held by one operation; given back when the operation ends, closed instead
  /// when it broke (or when the operation left by an exception).
  struct lease {
    impl* owner;
    std::unique_ptr<session_slot> slot;
    bool broken = true;
    lease(impl* o, std::unique_ptr<session_slot> s) : owner(o), slot(std::move(s)) {}
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() {
      if (slot) owner->give_back(std::move(slot), broken);
    }
  };

  /// Runs f(token&) on a pooled session; when a cached handle went stale or the session broke, the
  /// cache is dropped and f runs once more on a good session.
  template <typename F>
  auto run(F&& f) -> decltype(f(std::declval<token&>())) {
    using result = decltype(f(std::declval<token&>()));
    for (int attempt = 0;; ++attempt) {
      auto s = acquire();
      if (!s) return result(s.error());
      bool again = false;
      {
        lease held(this, std::move(*s));
        token t(fn, *held.slot);
        result r = f(t);
        held.broken = t.broken;
        again = !r.has_value() && (t.stale || t.broken) && attempt == 0;
        if (!again) return r;
      }
      forget_keys();
    }
  }

  // ------------------------------------------------------------------------------------ keys

  outcome<key_entry> key(token& t, std::string_view name) {
    {
      const std::shared_lock lock(cache_mutex);
      auto it = cache.find(name);
      if (it != cache.end()) return it->second;
    }
    const std::string label(name);
    auto found = t.find_secret_keys(&label);
    if (!found) return found.error();
    if (found->empty()) return failure{errc::unknown_key, "no key named '" + label + "'"};
    if (found->size() > 1) {
      return failure{errc::backend,
                     std::to_string(found->size()) + " objects on the token are labelled '" + label + "'"};
    }
    auto e = load_entry(t, found->front(), label);
    if (!e) return e.error();
    const std::unique_lock lock(cache_mutex);
    cache[label] = *e;
    return e;
  }

  /// The key, if its header allows the use (unknown_key, key_usage otherwise).
  outcome<key_entry> use(token& t, std::string_view name, key_use u) {
    auto k = key(t, name);
    if (!k) return k;
    if (auto st = tr31_require(k->header, u); !st) {
      return failure{errc::key_usage, "key '" + std::string(name) + "': " + st.error().detail};
    }
    return k;
  }

  outcome<std::string> kcv(token& t, const key_entry& k) {
    if (!k.kcv.empty()) return k.kcv;
    auto v = token_kcv(t, k);
    if (!v) return v;
    const std::unique_lock lock(cache_mutex);
    auto it = cache.find(k.name);
    if (it != cache.end() && it->second.handle == k.handle) it->second.kcv = *v;
    return v;
  }

  outcome<key_info> info(token& t, const key_entry& k) {
    auto v = kcv(t, k);
    if (!v) return v.error();
    return key_info{k.name, k.header, k.length, *v};
  }

  /// Host memory: a stored key taken out of the token for a step the token cannot do.
  static outcome<secure_bytes> take_out(token& t, const key_entry& k, std::string_view why) {
    if (!k.extractable) {
      return failure{errc::backend, "key '" + k.name + "' cannot leave the token (CKA_EXTRACTABLE is false) and " +
                                        std::string(why) + " needs it in host memory on this backend"};
    }
    auto clear = t.take_out(k.handle);
    if (!clear) return clear;
    if (clear->size() != k.length) return failure{errc::backend, "key '" + k.name + "' came out of the token garbled"};
    return clear;
  }

  outcome<key_info> store(token& t, const std::string& name, const tr31_header& given, secure_bytes key) {
    if (!valid_key_name(name)) {
      return failure{errc::bad_input, "bad key name '" + name + "' (letters, digits, '.', '_', '-')"};
    }
    if (auto st = check_key_length(given, key.size()); !st) return st.error();
    tr31_header header = given;
    header.version = 'D';  // as the software backend keeps it; A and B carry TDES keys only
    if (auto st = tr31_check_header(header); !st) return st.error();
    auto expected_kcv = host_kcv(header, key.view());
    if (!expected_kcv) return expected_kcv.error();
    if (header.algorithm == 'H' && key.size() < hmac_min_key_size) {
      // Tokens take HMAC-SHA256 keys of the hash length or more (SoftHSM: CKR_KEY_SIZE_RANGE below
      // 32 bytes). A shorter key is stored zero-padded to 32 bytes: HMAC pads every key shorter than
      // its 64-byte block with zeros (RFC 2104 section 2), so MACs and the check value are the same.
      key.resize(hmac_min_key_size);
    }
    auto type = key_type_for(header, key.size());
    if (!type) return type.error();

    const std::lock_guard lock(store_mutex);
    auto existing = t.find_secret_keys(&name);
    if (!existing) return existing.error();
    if (!existing->empty()) return failure{errc::bad_input, "a key named '" + name + "' exists already"};

    const std::string left_label = name + std::string(pkcs11_left_half_suffix);
    auto stale_left = t.find_secret_keys(&left_label);  // left over by an interrupted store
    if (!stale_left) return stale_left.error();
    for (CK_OBJECT_HANDLE h : *stale_left) {
      if (auto st = t.destroy(h); !st) return st.error();
    }

    session_object left_guard;  // destroyed unless the key itself is stored
    if (needs_left_half(header, key.size())) {
      secure_bytes left(16);
      std::copy_n(key.data(), 8, left.data());
      std::copy_n(key.data(), 8, left.data() + 8);
      attribute_list lt;
      lt.number(CKA_CLASS, CKO_SECRET_KEY)
          .number(CKA_KEY_TYPE, CKK_DES2)
          .flag(CKA_TOKEN, true)
          .flag(CKA_PRIVATE, true)
          .text(CKA_LABEL, left_label)
          .text(CKA_ID, "eftswitch single-DES companion")
          .view(CKA_VALUE, left.view())
          .flag(CKA_SENSITIVE, true)
          .flag(CKA_EXTRACTABLE, false)
          .flag(CKA_ENCRYPT, true)
          .flag(CKA_DECRYPT, false)
          .flag(CKA_SIGN, false)
          .flag(CKA_VERIFY, false)
          .flag(CKA_DERIVE, false)
          .flag(CKA_WRAP, false)
          .flag(CKA_UNWRAP, false)
          .flag(CKA_MODIFIABLE, false)
          .flag(CKA_COPYABLE, false);
      auto h = t.create(lt);
      if (!h) return h.error();
      left_guard = session_object(t.fn(), t.session(), *h);
    }

    const key_caps caps = caps_for(header);
    attribute_list kt;
    kt.number(CKA_CLASS, CKO_SECRET_KEY)
        .number(CKA_KEY_TYPE, *type)
        .flag(CKA_TOKEN, true)
        .flag(CKA_PRIVATE, true)
        .text(CKA_LABEL, name)
        .text(CKA_ID, header.to_string())
        .view(CKA_VALUE, key.view())
        .flag(CKA_SENSITIVE, true)
        .flag(CKA_EXTRACTABLE, caps.extractable)
        .flag(CKA_ENCRYPT, caps.encrypt)
        .flag(CKA_DECRYPT, caps.decrypt)
        .flag(CKA_SIGN, caps.sign)
        .flag(CKA_VERIFY, caps.sign)
        .flag(CKA_DERIVE, caps.derive)
        .flag(CKA_WRAP, false)
        .flag(CKA_UNWRAP, false)
        .flag(CKA_MODIFIABLE, false)
        .flag(CKA_COPYABLE, false);
    auto h = t.create(kt);
    if (!h) return h.error();
    session_object key_guard(t.fn(), t.session(), *h);
    key.clear();

    auto e = load_entry(t, *h, name);
    if (!e) return e.error();
    // The token's own check value must be the one computed from the clear key: a token that stored
    // something else (parity changes, truncation) is caught here, not at the first transaction.
    auto v = token_kcv(t, *e);
    if (!v) return v.error();
    if (*v != *expected_kcv) {
      return failure{errc::backend, "key '" + name + "': the token computes a different check value than the key's"};
    }
    e->kcv = *v;
    key_guard.release();
    left_guard.release();
    {
      const std::unique_lock cache_lock(cache_mutex);
      cache[name] = *e;
    }
    return key_info{name, e->header, e->length, e->kcv};
  }

  // ------------------------------------------------------------------------------ PIN keys

  // The working key of an AES DUKPT transaction derived in the token (X9.24-3-2017 6.3.1): the
  // initial key from the BDK, one intermediate derivation key per one-bit of the counter, then the
  // working key; every step a CKM_AES_ECB_ENCRYPT_DATA derivation of the data of 6.3.2.
  static outcome<session_object> dukpt_aes_working_key(token& t, const key_entry& bdk, byte_view ksn, dukpt_aes_usage u,
                                                       CK_KEY_TYPE out_type, key_caps caps) {
    if (bdk.header.algorithm != 'A') return failure{errc::bad_format, "AES DUKPT needs an AES BDK (algorithm A)"};
    auto type = dukpt_aes_key_type_for(bdk.length);
    if (!type) return type.error();
    auto counter = dukpt_aes_counter(ksn);
    if (!counter) return counter.error();
    if (auto st = dukpt_aes_check_counter(*counter); !st) return st.error();
    const std::size_t n = key_size(*type);
    const auto data_for = [&](dukpt_aes_usage usage, const std::array<std::uint8_t, 8>& tail) {
      bytes d;
      for (std::size_t i = 0; i * 16 < n; ++i) {
        const auto block = dukpt_aes_derivation_data(usage, *type, tail, static_cast<std::uint8_t>(i + 1));
        d.insert(d.end(), block.begin(), block.end());
      }
      return d;
    };
    const auto tail_of = [&](std::uint32_t c) {
      std::array<std::uint8_t, 8> tail{};
      std::copy_n(ksn.data() + 4, 4, tail.data());
      tail[4] = static_cast<std::uint8_t>(c >> 24);
      tail[5] = static_cast<std::uint8_t>(c >> 16);
      tail[6] = static_cast<std::uint8_t>(c >> 8);
      tail[7] = static_cast<std::uint8_t>(c);
      return tail;
    };
    key_caps derive_only;
    derive_only.derive = true;
    std::array<std::uint8_t, 8> id{};
    std::copy_n(ksn.data(), 8, id.data());
    auto key = t.derive(bdk.handle, cipher::aes, data_for(dukpt_aes_usage::initial_key, id), CKK_AES, n, derive_only);
    if (!key) return key;
    std::uint32_t walked = 0;
    for (std::uint32_t bit = 1U << 31; bit != 0; bit >>= 1) {
      if ((*counter & bit) == 0) continue;
      walked |= bit;
      auto next = t.derive(key->get(), cipher::aes, data_for(dukpt_aes_usage::key_derivation, tail_of(walked)), CKK_AES,
                           n, derive_only);
      if (!next) return next;
      *key = std::move(*next);
    }
    return t.derive(key->get(), cipher::aes, data_for(u, tail_of(*counter)), out_type, n, caps);
  }

  outcome<block_key> pin_source_key(token& t, const pin_source& from) {
    if (from.ksn.empty()) {
      auto k = use(t, from.key, key_use::pin_decrypt);
      if (!k) return k.error();
      auto c = cipher_of(k->header);
      if (!c) return c.error();
      block_key out;
      out.algorithm = *c;
      out.handle = k->handle;
      return out;
    }
    auto bdk = use(t, from.key, key_use::derive);
    if (!bdk) return bdk.error();
    if (from.ksn.size() == dukpt_tdes_ksn_size) {
      if (bdk->header.algorithm != 'T') return failure{errc::bad_format, "TDES DUKPT needs a TDES BDK (algorithm T)"};
      // Host memory: the BDK and the transaction's PIN key (X9.24-1 A.6, A.2: single-DES steps and
      // XORs of key halves have no PKCS#11 mechanism). Both wiped when this operation ends.
      auto clear_bdk = take_out(t, *bdk, "TDES DUKPT");
      if (!clear_bdk) return clear_bdk.error();
      auto k = dukpt_tdes_key(clear_bdk->view(), from.ksn, dukpt_tdes_usage::pin);
      if (!k) return k.error();
      block_key out;
      out.algorithm = cipher::tdes;
      out.clear = std::move(*k);
      return out;
    }
    if (from.ksn.size() == dukpt_aes_ksn_size) {
      key_caps caps;
      caps.decrypt = true;
      auto k = dukpt_aes_working_key(t, *bdk, from.ksn, dukpt_aes_usage::pin_encryption, CKK_AES, caps);
      if (!k) return k.error();
      block_key out;
      out.algorithm = cipher::aes;
      out.handle = k->get();
      out.owned = std::move(*k);
      return out;
    }
    return failure{errc::bad_ksn, "a KSN is 10 bytes (TDES DUKPT) or 12 bytes (AES DUKPT)"};
  }

  // ---------------------------------------------------------------------------------- MAC keys

  outcome<mac_key_ref> resolve_mac_key(token& t, const mac_spec& spec, key_use u) {
    mac_key_ref r;
    r.name = spec.key;
    if (spec.ksn.empty()) {
      auto k = use(t, spec.key, u);
      if (!k) return k.error();
      auto o = mac_options_for(spec, k->header, false);
      if (!o) return o.error();
      r.key = k->handle;
      r.left = k->left;
      r.algorithm = k->header.algorithm;
      r.length = k->length;
      r.options = *o;
      return r;
    }
    auto bdk = use(t, spec.key, key_use::derive);
    if (!bdk) return bdk.error();
    if (spec.ksn.size() == dukpt_tdes_ksn_size) {
      if (bdk->header.algorithm != 'T') return failure{errc::bad_format, "TDES DUKPT needs a TDES BDK (algorithm T)"};
      // Host memory: the BDK and the transaction's MAC key, as for PIN translation.
      auto clear_bdk = take_out(t, *bdk, "TDES DUKPT");
      if (!clear_bdk) return clear_bdk.error();
      auto k = dukpt_tdes_key(clear_bdk->view(), spec.ksn,
                              spec.dukpt_response ? dukpt_tdes_usage::mac_response : dukpt_tdes_usage::mac_request);
      if (!k) return k.error();
      auto o = mac_options_for(spec, bdk->header, true);
      if (!o) return o.error();
      r.clear = std::move(*k);
      r.length = r.clear.size();
      r.options = *o;
      return r;
    }
    auto o = mac_options_for(spec, bdk->header, false);
    if (!o) return o.error();
    o->block_cipher = cipher::aes;
    if (spec.ksn.size() != dukpt_aes_ksn_size) {
      return failure{errc::bad_ksn, "AES DUKPT KSNs are 12 bytes (8-byte initial key ID, 4-byte counter); got " +
                                        std::to_string(spec.ksn.size())};
    }
    r.options = *o;
    if (auto length = mac_length(r.options); !length) return length.error();  // before any token work
    // X9.24-3: the device MACs requests with the "generation" key and checks responses with the
    // "verification" key; the host derives the same keys for the opposite roles.
    const bool hmac = o->scheme == mac_scheme::hmac_sha256;
    key_caps caps;
    caps.encrypt = !hmac;
    caps.sign = true;
    auto k = dukpt_aes_working_key(
        t, *bdk, spec.ksn, spec.dukpt_response ? dukpt_aes_usage::mac_verification : dukpt_aes_usage::mac_generation,
        hmac ? CKK_GENERIC_SECRET : CKK_AES, caps);
    if (!k) return k.error();
    r.key = k->get();
    r.owned = std::move(*k);
    r.algorithm = hmac ? 'H' : 'A';
    r.length = bdk->length;
    return r;
  }
};

// ================================================================================== pkcs11_hsm

pkcs11_hsm::pkcs11_hsm(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
pkcs11_hsm::~pkcs11_hsm() = default;

bool pkcs11_hsm::production() const noexcept {
  return impl_->production;
}

outcome<std::shared_ptr<pkcs11_hsm>> pkcs11_hsm::open(const pkcs11_options& options) {
  if (options.module.empty()) return failure{errc::bad_input, "no PKCS#11 module given"};
  if (options.token_label.empty()) return failure{errc::bad_input, "no token label given"};
  const char* pin = options.pin_env.empty() ? nullptr : std::getenv(options.pin_env.c_str());
  if (pin == nullptr || *pin == '\0') {
    return failure{errc::bad_input, "set " +
                                        (options.pin_env.empty() ? std::string("the PIN variable") : options.pin_env) +
                                        " to the user PIN of token '" + options.token_label + "'"};
  }
  auto state = std::make_unique<impl>();
  state->module_path = options.module.string();
  state->token_label = options.token_label;
  state->pin_env = options.pin_env;
  state->pin = secure_bytes(byte_view(reinterpret_cast<const std::uint8_t*>(pin), std::strlen(pin)));
  state->production = options.production;
  state->max_sessions = std::max<std::size_t>(1, options.max_sessions);

  auto fn = acquire_module(state->module_path);
  if (!fn) return fn.error();
  state->fn = *fn;  // from here the impl's destructor releases the module

  CK_ULONG count = 0;
  CK_RV rv = state->fn->C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv != CKR_OK) return p11_failure("C_GetSlotList", rv);
  std::vector<CK_SLOT_ID> slots(count);
  rv = state->fn->C_GetSlotList(CK_TRUE, slots.data(), &count);
  if (rv != CKR_OK) return p11_failure("C_GetSlotList", rv);
  slots.resize(count);
  bool found = false;
  for (CK_SLOT_ID s : slots) {
    CK_TOKEN_INFO info{};
    if (state->fn->C_GetTokenInfo(s, &info) != CKR_OK) continue;
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    std::string label(reinterpret_cast<const char*>(info.label), sizeof(info.label));
    while (!label.empty() && (label.back() == ' ' || label.back() == '\0')) label.pop_back();
    if (label == options.token_label) {
      state->slot = s;
      found = true;
      break;
    }
  }
  if (!found) {
    return failure{errc::backend, "no token labelled '" + options.token_label + "' in " + state->module_path + " (" +
                                      std::to_string(slots.size()) + " token(s) present)"};
  }
  // One session now, logged in: a wrong PIN or a missing token fails at start-up, not at the first
  // transaction.
  auto first = state->open_session();
  if (!first) return first.error();
  state->idle.push_back(std::move(*first));
  state->open_sessions = 1;
  return std::shared_ptr<pkcs11_hsm>(new pkcs11_hsm(std::move(state)));
}

outcome<bytes> pkcs11_hsm::translate_pin(const pin_source& from, byte_view pin_block, const pin_destination& to,
                                         std::string_view pan) {
  return impl_->run([&](token& t) -> outcome<bytes> {
    auto in = impl_->pin_source_key(t, from);
    if (!in) return in.error();
    auto out = impl_->use(t, to.key, key_use::pin_encrypt);
    if (!out) return out.error();
    auto out_cipher = cipher_of(out->header);
    if (!out_cipher) return out_cipher.error();
    // PCI PIN Security Requirement 3-3: nothing goes into format 1 unless it came in format 1;
    // refused before anything is decrypted.
    if (to.format == pin_block_format::iso1 && from.format != pin_block_format::iso1) {
      return failure{errc::format_not_allowed, "only a format 1 PIN block may be translated into format 1"};
    }
    // Host memory: the clear PIN between the token's decryption and its encryption.
    auto pin = open_pin_block(t, *in, from.format, pin_block, pan);
    if (!pin) return pin.error();
    block_key dest;
    dest.algorithm = *out_cipher;
    dest.handle = out->handle;
    return seal_pin_block(t, dest, to.format, as_text(*pin), pan);
  });
}

outcome<bool> pkcs11_hsm::verify_pin_ibm3624(const pin_source& from, byte_view pin_block, std::string_view pan,
                                             const ibm3624_check& check) {
  return impl_->run([&](token& t) -> outcome<bool> {
    auto in = impl_->pin_source_key(t, from);
    if (!in) return in.error();
    auto pvk = impl_->use(t, check.pvk, key_use::verify_pin);
    if (!pvk) return pvk.error();
    auto pin = open_pin_block(t, *in, from.format, pin_block, pan);
    if (!pin) return pin.error();
    const std::string_view digits = as_text(*pin);
    // The checks of verify_ibm3624_offset, in its order.
    if (pvk->header.algorithm != 'T') return failure{errc::bad_key_length, "an IBM 3624 PVK is 8, 16 or 24 bytes"};
    if (check.decimalization.size() != 16 || !all_digits(check.decimalization)) {
      return failure{errc::bad_input, "a decimalization table is 16 decimal digits"};
    }
    if (check.validation_data.size() != 16 || std::any_of(check.validation_data.begin(), check.validation_data.end(),
                                                          [](char c) { return hex_value(c) < 0; })) {
      return failure{errc::bad_input, "validation data is 16 hex digits"};
    }
    if (auto st = check_pin(digits); !st) return st.error();
    const std::string_view offset = check.offset;
    if (offset.size() < 4 || offset.size() > 12 || !all_digits(offset)) {
      return failure{errc::bad_input, "a PIN offset is 4 to 12 decimal digits"};
    }
    const std::size_t n = digits.size();
    const std::size_t k = offset.size();
    if (k > n) return failure{errc::bad_input, "the PIN offset is longer than the PIN"};
    const std::size_t m = check.check_length == 0 ? k : check.check_length;
    if (m < 4 || m > k) return failure{errc::bad_input, "the check length is 4 up to the offset length"};
    // Token: E_PVK(validation data) (IBM CCA E.1); host: decimalisation and the comparison.
    const secure_bytes vd = pack_hex_digits(check.validation_data);
    secure_bytes enc(8);
    if (auto st = t.ecb(true, pvk->handle, cipher::tdes, vd.view(), enc.data()); !st) return st.error();
    auto natural = ibm3624_decimalize(enc.view(), check.decimalization);
    if (!natural) return natural.error();
    unsigned diff = 0;
    for (std::size_t i = 0; i < m; ++i) {
      const std::size_t at = n - 1 - i;
      const int value = (((*natural)[at] - '0') + (offset[k - 1 - i] - '0')) % 10;
      diff |= static_cast<unsigned>(value ^ (digits[at] - '0'));
    }
    return diff == 0;
  });
}

outcome<bool> pkcs11_hsm::verify_pin_pvv(const pin_source& from, byte_view pin_block, std::string_view pan,
                                         const pvv_check& check) {
  return impl_->run([&](token& t) -> outcome<bool> {
    auto in = impl_->pin_source_key(t, from);
    if (!in) return in.error();
    auto pvk = impl_->use(t, check.pvk, key_use::verify_pin);
    if (!pvk) return pvk.error();
    auto pin = open_pin_block(t, *in, from.format, pin_block, pan);
    if (!pin) return pin.error();
    const std::string_view digits = as_text(*pin);
    // The checks of verify_pvv / generate_pvv, in their order.
    if (auto st = check_digits("a PVV", check.pvv, 4); !st) return st.error();
    if (pvk->header.algorithm != 'T') return failure{errc::bad_key_length, "a PVK (pair A || B) is 16 or 24 bytes"};
    if (check.pvki < 0 || check.pvki > 9) return failure{errc::bad_input, "the PVK index is one digit, 0 to 9"};
    if (auto st = check_pin(digits); !st) return st.error();
    if (auto st = check_pan_text(pan); !st) return st.error();
    // Visa PVV: TSP = 11 PAN digits before the check digit, PVKI, first 4 PIN digits (host memory),
    // encrypted under the PVK in the token, decimalised here.
    std::array<char, 16> tsp{};
    const std::string_view account = pan.substr(pan.size() - 12, 11);
    std::size_t at = 0;
    for (char c : account) tsp[at++] = c;
    tsp[at++] = static_cast<char>('0' + check.pvki);
    for (char c : digits.substr(0, 4)) tsp[at++] = c;
    secure_bytes block = pack_hex_digits({tsp.data(), tsp.size()});
    wipe(tsp.data(), tsp.size());
    if (auto st = t.ecb(true, pvk->handle, cipher::tdes, block.view(), block.data()); !st) return st.error();
    std::string pvv = visa_decimalize(block.view(), 4);
    const bool match = equal_text(pvv, check.pvv);
    wipe(pvv.data(), pvv.size());
    return match;
  });
}

outcome<bytes> pkcs11_hsm::generate_mac(const mac_spec& spec, byte_view data) {
  return impl_->run([&](token& t) -> outcome<bytes> {
    auto k = impl_->resolve_mac_key(t, spec, key_use::mac_generate);
    if (!k) return k.error();
    return token_mac(t, *k, data);
  });
}

outcome<bool> pkcs11_hsm::verify_mac(const mac_spec& spec, byte_view data, byte_view mac) {
  return impl_->run([&](token& t) -> outcome<bool> {
    auto k = impl_->resolve_mac_key(t, spec, key_use::mac_verify);
    if (!k) return k.error();
    return token_check_mac(t, *k, data, mac);
  });
}

outcome<arqc_result> pkcs11_hsm::verify_arqc(const arqc_check& c) {
  return impl_->run([&](token& t) -> outcome<arqc_result> {
    auto imk = impl_->use(t, c.imk, key_use::arqc);
    if (!imk) return imk.error();
    // The checks of crypto::verify_arqc and generate_arqc, in their order.
    if (c.arqc.size() != 8) return failure{errc::bad_data_length, "the ARQC is 8 bytes"};
    auto p = emv_cvn_profile(c.cvn);
    if (!p) return p.error();
    if (c.data.empty() || c.data.size() > max_cryptogram_input) {
      return failure{errc::bad_data_length, "the cryptogram input is 1 to 1024 bytes"};
    }
    if (c.atc.size() != 2) return failure{errc::bad_data_length, "the ATC is 2 bytes"};
    if (imk->header.algorithm != 'T' || imk->length != 16) {
      return failure{errc::bad_key_length, "the issuer master key is a 16-byte TDES key"};
    }
    auto y = icc_y(c.pan, c.psn, p->master_key);
    if (!y) return y.error();
    if (p->ac_key == emv_session_key::mastercard) {
      if (c.un.empty()) {
        return failure{errc::bad_input, "CVN " + std::to_string(c.cvn) + " needs the 4-byte unpredictable number"};
      }
      if (c.un.size() != 4) return failure{errc::bad_data_length, "the unpredictable number is 4 bytes"};
    }

    // Token: the ICC master key and session keys (CKM_DES3_ECB_ENCRYPT_DATA) and the MAC.
    auto mk = derive_icc_master_key(t, imk->handle, y->view(), p->ac_key == emv_session_key::none);
    if (!mk) return mk.error();
    const std::array<std::uint8_t, 8> common_r = {c.atc[0], c.atc[1], 0, 0, 0, 0, 0, 0};
    emv_key session;
    if (p->ac_key != emv_session_key::none) {
      std::array<std::uint8_t, 8> r = common_r;
      if (p->ac_key == emv_session_key::mastercard) std::copy(c.un.begin(), c.un.end(), r.begin() + 4);
      auto sk = derive_session_key(t, mk->key.get(), r);
      if (!sk) return sk.error();
      session = std::move(*sk);
    }
    const emv_key& ac = p->ac_key == emv_session_key::none ? *mk : session;
    const mac_padding padding = p->padding == emv_padding::method1 ? mac_padding::method1 : mac_padding::method2;
    auto arqc = retail_mac(t, ac.left.get(), ac.key.get(), pad_iso9797_1(c.data, 8, padding));
    if (!arqc) return arqc.error();
    arqc_result result;
    result.valid = equal_ct(*arqc, c.arqc);
    if (!result.valid) return result;

    // The ARPC key: the ICC master key, or the common session key of the ATC.
    emv_key arpc_session;
    const emv_key* arpc_key = &*mk;
    if (p->arpc_key == emv_session_key::common) {
      if (p->ac_key == emv_session_key::common) {
        arpc_key = &session;
      } else {
        auto sk = derive_session_key(t, mk->key.get(), common_r);
        if (!sk) return sk.error();
        arpc_session = std::move(*sk);
        arpc_key = &arpc_session;
      }
    }
    if (c.csu.empty()) {
      // EMV Book 2 8.2.1, method 1: E_K(ARQC xor (ARC || 00..)).
      if (p->arpc_method != 1) {
        return failure{errc::bad_format, "CVN " + std::to_string(c.cvn) + " uses ARPC method 2 (card status update)"};
      }
      if (c.arc.size() != 2) return failure{errc::bad_data_length, "the authorisation response code is 2 bytes"};
      bytes x(c.arqc.begin(), c.arqc.end());
      x[0] ^= c.arc[0];
      x[1] ^= c.arc[1];
      if (auto st = t.ecb(true, arpc_key->key.get(), cipher::tdes, x, x.data()); !st) return st.error();
      result.arpc = std::move(x);
      return result;
    }
    // EMV Book 2 8.2.2, method 2: MAC algorithm 3, padding 2, over ARQC || CSU || proprietary data.
    if (p->arpc_method != 2) {
      return failure{errc::bad_format,
                     "CVN " + std::to_string(c.cvn) + " uses ARPC method 1 (authorisation response code)"};
    }
    if (c.csu.size() != 4) return failure{errc::bad_data_length, "the card status update is 4 bytes"};
    if (c.proprietary_auth_data.size() > 8) {
      return failure{errc::bad_data_length, "proprietary authentication data is at most 8 bytes"};
    }
    bytes input(c.arqc.begin(), c.arqc.end());
    input.insert(input.end(), c.csu.begin(), c.csu.end());
    input.insert(input.end(), c.proprietary_auth_data.begin(), c.proprietary_auth_data.end());
    auto mac = retail_mac(t, arpc_key->left.get(), arpc_key->key.get(), pad_iso9797_1(input, 8, mac_padding::method2));
    if (!mac) return mac.error();
    mac->resize(4);
    result.arpc = std::move(*mac);
    return result;
  });
}

namespace {

// The Visa CVV method in the token (card_verification.hpp): E_KA(block 1) with the single-DES
// companion, xor block 2, then TDES under A || B; the decimalisation in host memory.
outcome<std::string> token_cvv(token& t, const key_entry& cvk, const cvv_input& in) {
  if (cvk.header.algorithm != 'T' || cvk.length != 16) {
    return failure{errc::bad_key_length, "a CVK pair (key A || key B) is 16 bytes"};
  }
  if (auto st = check_pan_text(in.pan); !st) return st.error();
  if (auto st = check_digits("the expiry date", in.expiry, 4); !st) return st.error();
  if (auto st = check_digits("the service code", in.service_code, 3); !st) return st.error();
  if (cvk.left == CK_INVALID_HANDLE) {
    return failure{errc::backend, "key '" + cvk.name + "' has no single-DES companion object ('" + cvk.name +
                                      std::string(pkcs11_left_half_suffix) +
                                      "'): import it through eftswitch to compute CVVs"};
  }
  std::array<char, 32> digits{};
  digits.fill('0');
  std::size_t at = 0;
  for (std::string_view part :
       {std::string_view(in.pan), std::string_view(in.expiry), std::string_view(in.service_code)}) {
    for (char c : part) digits[at++] = c;
  }
  secure_bytes blocks = pack_hex_digits({digits.data(), digits.size()});
  wipe(digits.data(), digits.size());
  secure_bytes x(8);
  if (auto st = t.ecb(true, cvk.left, cipher::tdes, blocks.view().first(8), x.data()); !st) return st.error();
  xor_into(x.view(), blocks.view().subspan(8, 8), x.data());
  if (auto st = t.ecb(true, cvk.handle, cipher::tdes, x.view(), x.data()); !st) return st.error();
  return visa_decimalize(x.view(), 3);
}

}  // namespace

outcome<std::string> pkcs11_hsm::generate_cvv(const cvv_input& in) {
  return impl_->run([&](token& t) -> outcome<std::string> {
    auto cvk = impl_->use(t, in.cvk, key_use::generate_cvv);
    if (!cvk) return cvk.error();
    return token_cvv(t, *cvk, in);
  });
}

outcome<bool> pkcs11_hsm::verify_cvv(const cvv_input& in, std::string_view cvv) {
  return impl_->run([&](token& t) -> outcome<bool> {
    auto cvk = impl_->use(t, in.cvk, key_use::verify_cvv);
    if (!cvk) return cvk.error();
    if (auto st = check_digits("a CVV", cvv, 3); !st) return st.error();
    auto expected = token_cvv(t, *cvk, in);
    if (!expected) return expected.error();
    const bool match = equal_text(*expected, cvv);
    wipe(expected->data(), expected->size());
    return match;
  });
}

outcome<key_info> pkcs11_hsm::generate_key(const std::string& name, const tr31_header& header, std::size_t length) {
  if (auto st = check_key_length(header, length); !st) return st.error();
  return impl_->run([&](token& t) -> outcome<key_info> {
    // Host memory: the new key between the RNG and C_CreateObject.
    auto key = random_bytes(length);
    if (!key) return key.error();
    if (header.algorithm == 'T' || header.algorithm == 'D') set_odd_parity(key->span());
    return impl_->store(t, name, header, std::move(*key));
  });
}

outcome<key_info> pkcs11_hsm::import_key(const std::string& name, std::string_view kek, std::string_view block) {
  return impl_->run([&](token& t) -> outcome<key_info> {
    auto wrapping = impl_->use(t, kek, key_use::unwrap_key);
    if (!wrapping) return wrapping.error();
    if (!block.empty() && block[0] == 'A') {
      // Version A binds by key variants (KBEK = KBPK xor 45.., KBAK = KBPK xor 4D..), which the token
      // cannot form: host memory holds the KEK and the key, for an exportable KEK only.
      auto clear_kek = impl::take_out(t, *wrapping, "a TR-31 version A block (variant binding)");
      if (!clear_kek) return clear_kek.error();
      auto unwrapped = tr31_unwrap(clear_kek->view(), block);
      if (!unwrapped) return unwrapped.error();
      clear_kek->clear();
      return impl_->store(t, name, unwrapped->header, std::move(unwrapped->key));
    }
    // Versions B and D: the KEK stays in the token; host memory holds the key until C_CreateObject.
    auto unwrapped = tr31_unwrap_in_token(t, *wrapping, block);
    if (!unwrapped) return unwrapped.error();
    return impl_->store(t, name, unwrapped->header, std::move(unwrapped->key));
  });
}

outcome<key_info> pkcs11_hsm::import_components(const std::string& name, const tr31_header& header,
                                                std::span<const secure_bytes> components,
                                                std::string_view expected_kcv) {
  if (components.empty()) return failure{errc::bad_input, "no key components"};
  // Host memory: the components and their XOR, until C_CreateObject.
  secure_bytes key(components[0].size());
  for (const auto& part : components) {
    if (part.size() != key.size()) return failure{errc::bad_key_length, "key components differ in length"};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(key[i] ^ part[i]);
  }
  if (auto st = check_key_length(header, key.size()); !st) return st.error();
  if (!expected_kcv.empty()) {
    auto kcv = host_kcv(header, key.view());
    if (!kcv) return kcv.error();
    std::string expected(expected_kcv);
    for (auto& ch : expected) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (kcv->compare(0, expected.size(), expected) != 0 || expected.size() < 4) {
      return failure{errc::bad_input, "key check value mismatch: the components give " + *kcv};
    }
  }
  return impl_->run(
      [&](token& t) -> outcome<key_info> { return impl_->store(t, name, header, secure_bytes(key.view())); });
}

outcome<std::string> pkcs11_hsm::export_key(std::string_view name, std::string_view kek) {
  return impl_->run([&](token& t) -> outcome<std::string> {
    auto target = impl_->key(t, name);
    if (!target) return target.error();
    if (target->header.exportability != 'E') {
      return failure{errc::key_usage, "key '" + std::string(name) + "' is not exportable"};
    }
    auto wrapping = impl_->use(t, kek, key_use::wrap_key);
    if (!wrapping) return wrapping.error();
    // Host memory: the key being exported (it is CKA_EXTRACTABLE), while the block is built; the
    // KEK stays in the token.
    auto clear = impl::take_out(t, *target, "TR-31 export");
    if (!clear) return clear.error();
    tr31_header h = target->header;
    h.version = wrapping->header.algorithm == 'A' ? 'D' : 'B';
    return tr31_wrap_in_token(t, *wrapping, h, clear->view());
  });
}

outcome<std::vector<key_info>> pkcs11_hsm::list_keys() {
  return impl_->run([&](token& t) -> outcome<std::vector<key_info>> {
    auto all = t.find_secret_keys(nullptr);
    if (!all) return all.error();
    std::map<std::string, key_entry, std::less<>> fresh;
    for (CK_OBJECT_HANDLE h : *all) {
      auto label = t.attribute(h, CKA_LABEL);
      if (!label) return label.error();
      const std::string name(label->begin(), label->end());
      if (!valid_key_name(name) || fresh.count(name) != 0) continue;  // companions, other applications' objects
      auto e = load_entry(t, h, name);
      if (!e) {
        if (t.stale || t.broken) return e.error();
        continue;  // not one of ours: no TR-31 header
      }
      {
        const std::shared_lock lock(impl_->cache_mutex);
        auto it = impl_->cache.find(name);
        if (it != impl_->cache.end() && it->second.handle == h) e->kcv = it->second.kcv;
      }
      if (e->kcv.empty()) {
        auto v = token_kcv(t, *e);
        if (!v) return v.error();
        e->kcv = *v;
      }
      fresh.emplace(name, std::move(*e));
    }
    std::vector<key_info> out;
    out.reserve(fresh.size());
    for (const auto& [name, e] : fresh) out.push_back({name, e.header, e.length, e.kcv});
    const std::unique_lock lock(impl_->cache_mutex);
    impl_->cache = std::move(fresh);  // the listing is the token's current state
    return out;
  });
}

outcome<key_info> pkcs11_hsm::describe_key(std::string_view name) {
  return impl_->run([&](token& t) -> outcome<key_info> {
    auto k = impl_->key(t, name);
    if (!k) return k.error();
    return impl_->info(t, *k);
  });
}

}  // namespace eft::crypto
