#pragma once
/// The software HSM backend: in-process OpenSSL 3. DEVELOPMENT AND TEST GRADE: keys live in the
/// switch's own memory, with no tamper resistance.
///
/// Keys are kept in a key file as TR-31 version D key blocks under a local master key (LMK, an
/// AES-256 key). The LMK is supplied at start-up from an environment variable or a separate file,
/// never from the deployment config. Loaded keys are held in wiped memory; keys derived per
/// transaction (DUKPT, EMV session keys) and clear PINs are wiped as soon as an operation ends.

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "eft/crypto/hsm.hpp"
#include "eft/crypto/mac.hpp"
#include "eft/crypto/primitives.hpp"

namespace eft::crypto {

/// Where the local master key comes from.
struct lmk_source {
  std::string env_var = "EFT_HSM_LMK";  ///< environment variable holding the LMK as 64 hex digits
  std::filesystem::path file;           ///< or a file holding the hex (used when the variable is unset)
};

/// Reads the LMK (32 bytes, hex). Errors name the variable or file, never the value.
outcome<secure_bytes> load_lmk(const lmk_source& source);

class software_hsm final : public hsm {
 public:
  /// Opens the key file (created empty when missing) and unwraps every key under the LMK. Any block
  /// that fails its MAC makes the whole open fail: a key file is never half loaded.
  static outcome<std::shared_ptr<software_hsm>> open(const std::filesystem::path& key_file, secure_bytes lmk,
                                                     bool production = false);

  std::string_view backend() const noexcept override { return "software"; }
  bool production() const noexcept override { return production_; }

  outcome<bytes> translate_pin(const pin_source& from, byte_view pin_block, const pin_destination& to,
                               std::string_view pan) override;
  outcome<bool> verify_pin_ibm3624(const pin_source& from, byte_view pin_block, std::string_view pan,
                                   const ibm3624_check& check) override;
  outcome<bool> verify_pin_pvv(const pin_source& from, byte_view pin_block, std::string_view pan,
                               const pvv_check& check) override;
  outcome<bytes> generate_mac(const mac_spec& spec, byte_view data) override;
  outcome<bool> verify_mac(const mac_spec& spec, byte_view data, byte_view mac) override;
  outcome<arqc_result> verify_arqc(const arqc_check& check) override;
  outcome<std::string> generate_cvv(const cvv_input& in) override;
  outcome<bool> verify_cvv(const cvv_input& in, std::string_view cvv) override;
  outcome<key_info> generate_key(const std::string& name, const tr31_header& header, std::size_t length) override;
  outcome<key_info> import_key(const std::string& name, std::string_view kek, std::string_view block) override;
  outcome<key_info> import_components(const std::string& name, const tr31_header& header,
                                      std::span<const secure_bytes> components, std::string_view expected_kcv) override;
  outcome<std::string> export_key(std::string_view name, std::string_view kek) override;
  outcome<std::vector<key_info>> list_keys() override;
  outcome<key_info> describe_key(std::string_view name) override;

 private:
  struct stored_key {
    tr31_header header;
    secure_bytes key;
    std::string kcv;
    /// DES and TDES keys: their schedules, set up once when the key is stored (null otherwise).
    std::shared_ptr<const des_key_schedule> schedule;
  };
  /// A key taken for one operation: a copy in wiped memory, so no lock is held while it is used.
  struct usable_key {
    tr31_header header;
    secure_bytes key;
    std::shared_ptr<const des_key_schedule> schedule;  ///< the stored key's, shared
  };
  /// The clear working key that decrypts an incoming PIN block.
  struct pin_key {
    cipher algorithm = cipher::tdes;
    secure_bytes key;
    std::shared_ptr<const des_key_schedule> schedule;  ///< a stored key's; null for a derived one
  };
  struct mac_key {
    secure_bytes key;
    mac_options options;                               ///< options.schedule points into `schedule` when set
    std::shared_ptr<const des_key_schedule> schedule;  ///< a stored key's; null for a derived one
  };

  software_hsm(std::filesystem::path key_file, secure_bytes lmk, bool production)
      : key_file_(std::move(key_file)), lmk_(std::move(lmk)), production_(production) {}

  /// The key, if it exists and its header allows the use (unknown_key, key_usage otherwise).
  outcome<usable_key> use_key(std::string_view name, key_use use) const;
  /// The static PIN key, or the DUKPT PIN key derived from the BDK and KSN.
  outcome<pin_key> pin_source_key(const pin_source& from) const;
  /// The static MAC key, or the DUKPT request/response MAC key, with the MAC options to use.
  outcome<mac_key> resolve_mac_key(const mac_spec& spec, key_use use) const;

  status load();
  status save_locked();  // caller holds the unique lock
  outcome<key_info> store(const std::string& name, tr31_header header, secure_bytes key);

  std::filesystem::path key_file_;
  secure_bytes lmk_;
  bool production_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, stored_key, std::less<>> keys_;
};

}  // namespace eft::crypto
