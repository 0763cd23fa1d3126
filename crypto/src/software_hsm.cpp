#include "eft/crypto/software_hsm.hpp"

#include <yaml-cpp/yaml.h>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "eft/crypto/card_verification.hpp"
#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/emv.hpp"
#include "eft/crypto/kcv.hpp"
#include "eft/crypto/mac.hpp"

namespace eft::crypto {

namespace {

constexpr std::size_t lmk_size = 32;  // AES-256: the KBPK of the version D blocks in the key file

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

// The schedules of a stored DES or TDES key, set up once instead of at every use; null for other
// keys (and for a DES or TDES key of an unusable length, which its use then reports).
std::shared_ptr<const des_key_schedule> schedule_of(const tr31_header& h, byte_view key) {
  auto c = cipher_of(h);
  if (!c || *c == cipher::aes) return nullptr;
  auto s = des_key_schedule::make(*c, key);
  return s ? std::move(*s) : nullptr;
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

outcome<std::string> kcv_hex(const tr31_header& h, byte_view key) {
  if (h.algorithm == 'H') {
    // HMAC keys have no block-cipher check value: the first 3 bytes of HMAC-SHA256(key, 16 zero bytes).
    const bytes zero(16, 0);
    auto mac = hmac_sha256(key, zero);
    if (!mac) return mac.error();
    return to_hex(byte_view(mac->data(), 3));
  }
  auto c = cipher_of(h);
  if (!c) return c.error();
  auto kcv = key_check_value(*c, key);
  if (!kcv) return kcv.error();
  return to_hex(*kcv);
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

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

}  // namespace

outcome<secure_bytes> load_lmk(const lmk_source& source) {
  std::string text;
  std::string origin;
  if (const char* v = std::getenv(source.env_var.c_str()); v != nullptr && *v != '\0') {
    text = v;
    origin = "environment variable " + source.env_var;
  } else if (!source.file.empty()) {
    std::ifstream in(source.file);
    if (!in) return failure{errc::bad_input, "cannot read the LMK file " + source.file.string()};
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    origin = "LMK file " + source.file.string();
  } else {
    return failure{errc::bad_input, "no local master key: set " + source.env_var + " or give an LMK file"};
  }
  auto lmk = secure_from_hex(trim(text));
  wipe(text.data(), text.size());
  if (!lmk || lmk->size() != lmk_size) {
    return failure{errc::bad_key_length, "the " + origin + " must hold an AES-256 key as 64 hex digits"};
  }
  return lmk;
}

outcome<std::shared_ptr<software_hsm>> software_hsm::open(const std::filesystem::path& key_file, secure_bytes lmk,
                                                          bool production) {
  if (lmk.size() != lmk_size) return failure{errc::bad_key_length, "the LMK is an AES-256 key (32 bytes)"};
  std::shared_ptr<software_hsm> h(new software_hsm(key_file, std::move(lmk), production));
  if (auto st = h->load(); !st) return st.error();
  return h;
}

status software_hsm::load() {
  std::error_code ec;
  if (!std::filesystem::exists(key_file_, ec)) return ok();
  YAML::Node root;
  try {
    root = YAML::LoadFile(key_file_.string());
  } catch (const YAML::Exception& e) {
    return {errc::bad_input, key_file_.string() + ":" + std::to_string(e.mark.line + 1) + ": not a key file: " + e.msg};
  }
  const YAML::Node keys = root["keys"];
  if (!keys) return ok();
  if (!keys.IsMap()) return {errc::bad_input, key_file_.string() + ": 'keys' must map key names to key blocks"};
  for (const auto& kv : keys) {
    const std::string name = kv.first.Scalar();
    const std::string where =
        key_file_.string() + ":" + std::to_string(kv.first.Mark().line + 1) + ": key '" + name + "'";
    if (!valid_key_name(name)) return {errc::bad_input, where + ": bad key name (letters, digits, '.', '_', '-')"};
    auto unwrapped = tr31_unwrap(lmk_, kv.second.Scalar());
    if (!unwrapped) {
      return {unwrapped.error().code, where + ": " + unwrapped.error().message() +
                                          (unwrapped.error().code == errc::key_block_mac ? " (wrong LMK?)" : "")};
    }
    auto kcv = kcv_hex(unwrapped->header, unwrapped->key);
    if (!kcv) return {kcv.error().code, where + ": " + kcv.error().message()};
    auto schedule = schedule_of(unwrapped->header, unwrapped->key.view());
    keys_.emplace(name, stored_key{unwrapped->header, std::move(unwrapped->key), *kcv, std::move(schedule)});
  }
  return ok();
}

status software_hsm::save_locked() {
  YAML::Emitter out;
  out << YAML::Comment(
      "eftswitch software HSM key store: TR-31 version D key blocks under the local master key. Written by the "
      "switch; do not edit.");
  out << YAML::BeginMap << YAML::Key << "keys" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, k] : keys_) {
    tr31_header h = k.header;
    h.version = 'D';
    auto block = tr31_wrap(lmk_, h, k.key);
    if (!block) return block.error();
    out << YAML::Key << name << YAML::Value << *block;
  }
  out << YAML::EndMap << YAML::EndMap;
  const auto tmp = std::filesystem::path(key_file_.string() + ".tmp");
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return {errc::backend, "cannot write " + tmp.string()};
    ::chmod(tmp.c_str(), S_IRUSR | S_IWUSR);
    f << out.c_str() << '\n';
    f.flush();
    if (!f) return {errc::backend, "cannot write " + tmp.string()};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, key_file_, ec);
  if (ec) return {errc::backend, "cannot replace " + key_file_.string() + ": " + ec.message()};
  return ok();
}

outcome<key_info> software_hsm::store(const std::string& name, tr31_header header, secure_bytes key) {
  if (!valid_key_name(name))
    return failure{errc::bad_input, "bad key name '" + name + "' (letters, digits, '.', '_', '-')"};
  if (auto st = check_key_length(header, key.size()); !st) return st.error();
  auto kcv = kcv_hex(header, key);
  if (!kcv) return kcv.error();
  key_info info{name, header, key.size(), *kcv};
  const std::unique_lock lock(mutex_);
  auto previous = keys_.find(name);
  if (previous != keys_.end()) return failure{errc::bad_input, "a key named '" + name + "' exists already"};
  auto schedule = schedule_of(header, key.view());
  keys_.emplace(name, stored_key{std::move(header), std::move(key), *kcv, std::move(schedule)});
  if (auto st = save_locked(); !st) {
    keys_.erase(name);
    return st.error();
  }
  return info;
}

outcome<software_hsm::usable_key> software_hsm::use_key(std::string_view name, key_use use) const {
  const std::shared_lock lock(mutex_);
  auto it = keys_.find(name);
  if (it == keys_.end()) return failure{errc::unknown_key, "no key named '" + std::string(name) + "'"};
  if (auto st = tr31_require(it->second.header, use); !st) {
    return failure{errc::key_usage, "key '" + std::string(name) + "': " + st.error().detail};
  }
  return usable_key{it->second.header, it->second.key.clone(), it->second.schedule};
}

outcome<software_hsm::pin_key> software_hsm::pin_source_key(const pin_source& from) const {
  if (from.ksn.empty()) {
    auto k = use_key(from.key, key_use::pin_decrypt);
    if (!k) return k.error();
    auto c = cipher_of(k->header);
    if (!c) return c.error();
    return pin_key{*c, std::move(k->key), std::move(k->schedule)};
  }
  auto bdk = use_key(from.key, key_use::derive);
  if (!bdk) return bdk.error();
  if (from.ksn.size() == dukpt_tdes_ksn_size) {
    auto k = dukpt_tdes_key(bdk->key, from.ksn, dukpt_tdes_usage::pin);
    if (!k) return k.error();
    return pin_key{cipher::tdes, std::move(*k), nullptr};
  }
  if (from.ksn.size() == dukpt_aes_ksn_size) {
    auto type = dukpt_aes_key_type_for(bdk->key.size());
    if (!type) return type.error();
    auto k = dukpt_aes_key(bdk->key, from.ksn, dukpt_aes_usage::pin_encryption, *type);
    if (!k) return k.error();
    return pin_key{cipher::aes, std::move(*k), nullptr};
  }
  return failure{errc::bad_ksn, "a KSN is 10 bytes (TDES DUKPT) or 12 bytes (AES DUKPT)"};
}

outcome<bytes> software_hsm::translate_pin(const pin_source& from, byte_view pin_block, const pin_destination& to,
                                           std::string_view pan) {
  auto in = pin_source_key(from);
  if (!in) return in.error();
  auto out = use_key(to.key, key_use::pin_encrypt);
  if (!out) return out.error();
  auto out_cipher = cipher_of(out->header);
  if (!out_cipher) return out_cipher.error();
  return translate_pin_block({from.format, in->algorithm, in->key, in->schedule.get()}, pin_block,
                             {to.format, *out_cipher, out->key, out->schedule.get()}, pan);
}

outcome<bool> software_hsm::verify_pin_ibm3624(const pin_source& from, byte_view pin_block, std::string_view pan,
                                               const ibm3624_check& check) {
  auto in = pin_source_key(from);
  if (!in) return in.error();
  auto pvk = use_key(check.pvk, key_use::verify_pin);
  if (!pvk) return pvk.error();
  auto pin = decrypt_pin(from.format, in->algorithm, in->key, pin_block, pan);
  if (!pin) return pin.error();
  const std::string_view digits(reinterpret_cast<const char*>(pin->data()), pin->size());
  return verify_ibm3624_offset(pvk->key, check.decimalization, check.validation_data, digits, check.offset,
                               check.check_length);
}

outcome<bool> software_hsm::verify_pin_pvv(const pin_source& from, byte_view pin_block, std::string_view pan,
                                           const pvv_check& check) {
  auto in = pin_source_key(from);
  if (!in) return in.error();
  auto pvk = use_key(check.pvk, key_use::verify_pin);
  if (!pvk) return pvk.error();
  auto pin = decrypt_pin(from.format, in->algorithm, in->key, pin_block, pan);
  if (!pin) return pin.error();
  const std::string_view digits(reinterpret_cast<const char*>(pin->data()), pin->size());
  return verify_pvv(pvk->key, check.pvki, digits, pan, check.pvv);
}

namespace {

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

}  // namespace

outcome<software_hsm::mac_key> software_hsm::resolve_mac_key(const mac_spec& spec, key_use use) const {
  if (spec.ksn.empty()) {
    auto k = use_key(spec.key, use);
    if (!k) return k.error();
    auto o = mac_options_for(spec, k->header, false);
    if (!o) return o.error();
    o->schedule = k->schedule.get();
    return mac_key{std::move(k->key), *o, std::move(k->schedule)};
  }
  auto bdk = use_key(spec.key, key_use::derive);
  if (!bdk) return bdk.error();
  if (spec.ksn.size() == dukpt_tdes_ksn_size) {
    auto k = dukpt_tdes_key(bdk->key, spec.ksn,
                            spec.dukpt_response ? dukpt_tdes_usage::mac_response : dukpt_tdes_usage::mac_request);
    if (!k) return k.error();
    auto o = mac_options_for(spec, bdk->header, true);
    if (!o) return o.error();
    return mac_key{std::move(*k), *o, nullptr};
  }
  auto type = dukpt_aes_key_type_for(bdk->key.size());
  if (!type) return type.error();
  // X9.24-3: the device MACs requests with the "generation" key and checks responses with the
  // "verification" key; the host derives the same keys for the opposite roles.
  auto k =
      dukpt_aes_key(bdk->key, spec.ksn,
                    spec.dukpt_response ? dukpt_aes_usage::mac_verification : dukpt_aes_usage::mac_generation, *type);
  if (!k) return k.error();
  auto o = mac_options_for(spec, bdk->header, false);
  if (!o) return o.error();
  o->block_cipher = cipher::aes;
  return mac_key{std::move(*k), *o, nullptr};
}

outcome<bytes> software_hsm::generate_mac(const mac_spec& spec, byte_view data) {
  auto k = resolve_mac_key(spec, key_use::mac_generate);
  if (!k) return k.error();
  return compute_mac(k->options, k->key, data);
}

outcome<bool> software_hsm::verify_mac(const mac_spec& spec, byte_view data, byte_view mac) {
  auto k = resolve_mac_key(spec, key_use::mac_verify);
  if (!k) return k.error();
  return check_mac(k->options, k->key, data, mac);
}

outcome<arqc_result> software_hsm::verify_arqc(const arqc_check& c) {
  auto imk = use_key(c.imk, key_use::arqc);
  if (!imk) return imk.error();
  auto valid = crypto::verify_arqc(c.cvn, imk->key, c.pan, c.psn, c.atc, c.data, c.arqc, c.un);
  if (!valid) return valid.error();
  arqc_result r;
  r.valid = *valid;
  if (!r.valid) return r;
  auto arpc = c.csu.empty()
                  ? generate_arpc_method1(c.cvn, imk->key, c.pan, c.psn, c.atc, c.arqc, c.arc, c.un)
                  : generate_arpc_method2(c.cvn, imk->key, c.pan, c.psn, c.atc, c.arqc, c.csu, c.proprietary_auth_data);
  if (!arpc) return arpc.error();
  r.arpc = std::move(*arpc);
  return r;
}

outcome<std::string> software_hsm::generate_cvv(const cvv_input& in) {
  auto cvk = use_key(in.cvk, key_use::generate_cvv);
  if (!cvk) return cvk.error();
  return crypto::generate_cvv(cvk->key, in.pan, in.expiry, in.service_code);
}

outcome<bool> software_hsm::verify_cvv(const cvv_input& in, std::string_view cvv) {
  auto cvk = use_key(in.cvk, key_use::verify_cvv);
  if (!cvk) return cvk.error();
  return crypto::verify_cvv(cvk->key, in.pan, in.expiry, in.service_code, cvv);
}

outcome<key_info> software_hsm::generate_key(const std::string& name, const tr31_header& header, std::size_t length) {
  if (auto st = check_key_length(header, length); !st) return st.error();
  auto key = random_bytes(length);
  if (!key) return key.error();
  if (header.algorithm == 'T' || header.algorithm == 'D') set_odd_parity(key->span());
  return store(name, header, std::move(*key));
}

outcome<key_info> software_hsm::import_key(const std::string& name, std::string_view kek, std::string_view block) {
  auto wrapping = use_key(kek, key_use::unwrap_key);
  if (!wrapping) return wrapping.error();
  auto unwrapped = tr31_unwrap(wrapping->key, block);
  if (!unwrapped) return unwrapped.error();
  return store(name, unwrapped->header, std::move(unwrapped->key));
}

outcome<key_info> software_hsm::import_components(const std::string& name, const tr31_header& header,
                                                  std::span<const secure_bytes> components,
                                                  std::string_view expected_kcv) {
  if (components.empty()) return failure{errc::bad_input, "no key components"};
  secure_bytes key(components[0].size());
  for (const auto& part : components) {
    if (part.size() != key.size()) return failure{errc::bad_key_length, "key components differ in length"};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(key[i] ^ part[i]);
  }
  if (auto st = check_key_length(header, key.size()); !st) return st.error();
  if (!expected_kcv.empty()) {
    auto kcv = kcv_hex(header, key);
    if (!kcv) return kcv.error();
    std::string expected(expected_kcv);
    for (auto& ch : expected) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (kcv->compare(0, expected.size(), expected) != 0 || expected.size() < 4) {
      return failure{errc::bad_input, "key check value mismatch: the components give " + *kcv};
    }
  }
  return store(name, header, std::move(key));
}

outcome<std::string> software_hsm::export_key(std::string_view name, std::string_view kek) {
  usable_key target;
  {
    const std::shared_lock lock(mutex_);
    auto it = keys_.find(name);
    if (it == keys_.end()) return failure{errc::unknown_key, "no key named '" + std::string(name) + "'"};
    if (it->second.header.exportability != 'E') {
      return failure{errc::key_usage, "key '" + std::string(name) + "' is not exportable"};
    }
    target = usable_key{it->second.header, it->second.key.clone(), it->second.schedule};
  }
  auto wrapping = use_key(kek, key_use::wrap_key);
  if (!wrapping) return wrapping.error();
  tr31_header h = target.header;
  h.version = wrapping->header.algorithm == 'A' ? 'D' : 'B';
  return tr31_wrap(wrapping->key, h, target.key);
}

outcome<std::vector<key_info>> software_hsm::list_keys() {
  const std::shared_lock lock(mutex_);
  std::vector<key_info> out;
  out.reserve(keys_.size());
  for (const auto& [name, k] : keys_) out.push_back({name, k.header, k.key.size(), k.kcv});
  return out;
}

outcome<key_info> software_hsm::describe_key(std::string_view name) {
  const std::shared_lock lock(mutex_);
  auto it = keys_.find(name);
  if (it == keys_.end()) return failure{errc::unknown_key, "no key named '" + std::string(name) + "'"};
  return key_info{it->first, it->second.header, it->second.key.size(), it->second.kcv};
}

}  // namespace eft::crypto
