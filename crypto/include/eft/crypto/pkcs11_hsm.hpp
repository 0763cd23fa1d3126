#pragma once
/// The PKCS#11 HSM backend: any PKCS#11 v2.40 token, loaded with dlopen (SoftHSM2 in the tests, a
/// hardware token in production). Keys are secret-key objects on the token found by CKA_LABEL = key
/// name; each key's TR-31 header is stored in the same object, as the ASCII text of the header in
/// CKA_ID, so an operation checks the key's usage and mode of use exactly as the software backend
/// does (tr31_require) before the token is asked for anything.
///
/// What runs inside the token and what runs in host memory is listed in docs/hsm.md ("The pkcs11
/// backend"). In short, with SoftHSM 2.6.1 as the yardstick: every encryption, decryption, CMAC,
/// HMAC and key derivation under a stored key runs in the token (EMV card and session keys and AES
/// DUKPT working keys are derived there with CKM_*_ECB_ENCRYPT_DATA and never leave it). The host
/// sees the clear PIN block of a PIN translation or verification (the token has no PIN-translate
/// mechanism), the TDES DUKPT key of one transaction (X9.24-1 needs single-DES steps and XORs of key
/// halves), the key a TR-31 block carries (TR-31 B and D run with the KEK in the token; version A
/// needs an exportable KEK in host memory), and clear keys being created (C_CreateObject). All of
/// it in wiped memory, only for the operation.
///
/// ISO 9797-1 MAC algorithm 3 and the Visa CVV method need single DES under the left half K_L of a
/// double-length key, which PKCS#11 has no mechanism for: the backend stores, beside every 16-byte
/// TDES key of usage M0-M8 or C0 that it creates, a companion object labelled "<name>#left" holding
/// K_L || K_L (a TDES key that computes single DES under K_L). Keys derived per transaction get the
/// same companion by derivation, inside the token.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "eft/crypto/hsm.hpp"

namespace eft::crypto {

/// Where the pkcs11 backend finds its token. The deployment config (eft::config::hsm_config:
/// module, token_label, pin_env) maps onto this; the crypto library takes plain values.
struct pkcs11_options {
  std::filesystem::path module;         ///< the PKCS#11 library to dlopen
  std::string token_label;              ///< the token's label (CK_TOKEN_INFO.label, trailing blanks ignored)
  std::string pin_env = "EFT_HSM_PIN";  ///< environment variable holding the user PIN (never the PIN itself)
  bool production = false;              ///< production HSMs refuse eftctl's clear-key tools
  std::size_t max_sessions = 8;         ///< sessions in the pool: operations beyond this wait for a free one
};

/// Suffix of the single-DES companion object of a TDES MAC or CVV key ("zak.host#left"). '#' is
/// not allowed in key names, so a companion never collides with a key.
inline constexpr std::string_view pkcs11_left_half_suffix = "#left";

class pkcs11_hsm final : public hsm {
 public:
  /// Loads the module (dlopen; the module is shared with other pkcs11_hsm objects on the same path
  /// and C_Initialize'd with CKF_OS_LOCKING_OK by the first of them, C_Finalize'd by the last),
  /// finds the token by label, opens a session and logs in as the user with the PIN read from
  /// `options.pin_env`. Errors: bad_input (no module path, PIN variable unset or empty), backend
  /// (module cannot be loaded, no token with that label, login refused: the detail names the
  /// PKCS#11 return code, never the PIN).
  static outcome<std::shared_ptr<pkcs11_hsm>> open(const pkcs11_options& options);

  ~pkcs11_hsm() override;
  pkcs11_hsm(const pkcs11_hsm&) = delete;
  pkcs11_hsm& operator=(const pkcs11_hsm&) = delete;

  std::string_view backend() const noexcept override { return "pkcs11"; }
  bool production() const noexcept override;

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
  /// The key is drawn from the host RNG and created with C_CreateObject (so that the single-DES
  /// companion of a MAC or CVV key can be made from it); it exists in host memory only for that.
  outcome<key_info> generate_key(const std::string& name, const tr31_header& header, std::size_t length) override;
  /// Versions B and D: the block's encryption and MAC keys are derived from the KEK inside the token
  /// and the key field is decrypted and MACed there; the clear key is in host memory until
  /// C_CreateObject. Version A (variant binding) needs the KEK in host memory: only an exportable
  /// KEK (exportability 'E', hence CKA_EXTRACTABLE) opens it; otherwise errc::backend says so.
  outcome<key_info> import_key(const std::string& name, std::string_view kek, std::string_view block) override;
  outcome<key_info> import_components(const std::string& name, const tr31_header& header,
                                      std::span<const secure_bytes> components, std::string_view expected_kcv) override;
  /// The key (exportability 'E', hence CKA_EXTRACTABLE) is taken out of the token (C_WrapKey under a
  /// per-session transport key) and the key field built in host memory; the block is encrypted and
  /// MACed in the token under keys derived from the KEK (version D for an AES KEK, B for TDES).
  outcome<std::string> export_key(std::string_view name, std::string_view kek) override;
  /// Every secret-key object whose label is a valid key name and whose CKA_ID holds a TR-31 header;
  /// other objects on the token (other applications', companions) are skipped. Check values are
  /// computed in the token (TDES: E(0); AES: CMAC(0), X9.24), not taken from CKA_CHECK_VALUE.
  outcome<std::vector<key_info>> list_keys() override;
  outcome<key_info> describe_key(std::string_view name) override;

 private:
  struct impl;
  explicit pkcs11_hsm(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace eft::crypto
