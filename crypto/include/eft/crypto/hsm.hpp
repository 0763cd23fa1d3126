#pragma once
/// The vendor-neutral HSM interface the switch calls. Operations are stated by intent (translate this
/// PIN block, verify this ARQC); keys are named ("zpk.acquirer1", "bdk.pos") and their material
/// never crosses this interface. Every key carries its TR-31 usage and mode of use, and a backend
/// refuses an operation with a key whose header does not allow it (errc::key_usage): a PIN key
/// cannot make a MAC.
///
/// These calls are synchronous; async_hsm.hpp runs them off the I/O threads and completes on the
/// caller's executor. A failed verification is a result (false), not an error.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/crypto/tr31.hpp"

namespace eft::crypto {

/// What the HSM says about a key: everything but its material.
struct key_info {
  std::string name;
  tr31_header header;      ///< usage, algorithm, mode of use, key version, exportability
  std::size_t length = 0;  ///< key length in bytes
  std::string kcv;         ///< key check value, uppercase hex (TDES: 3 bytes of E(0); AES: 5 bytes of CMAC(0))
};

/// Where an encrypted PIN block comes from.
struct pin_source {
  std::string key;  ///< terminal PIN key or zone PIN key name; the BDK name for DUKPT
  bytes ksn;        ///< DUKPT key serial number (10 bytes TDES, 12 bytes AES); empty for a static key
  pin_block_format format = pin_block_format::iso0;
};

/// Where a translated PIN block goes.
struct pin_destination {
  std::string key;  ///< zone PIN key name
  pin_block_format format = pin_block_format::iso0;
};

/// MAC algorithms.
enum class mac_algorithm : std::uint8_t {
  iso9797_1_alg1,  ///< CBC-MAC (TDES), ISO/IEC 9797-1 algorithm 1
  iso9797_1_alg3,  ///< retail MAC, ISO/IEC 9797-1 algorithm 3
  cmac,            ///< CMAC with the key's cipher (TDES or AES)
  hmac_sha256,     ///< HMAC-SHA256
};

/// Which MAC and key.
struct mac_spec {
  std::string key;              ///< MAC key name; the BDK name for DUKPT
  bytes ksn;                    ///< DUKPT: the working MAC key derives from BDK and KSN; empty otherwise
  bool dukpt_response = false;  ///< DUKPT: use the response MAC key (host to terminal)
  mac_algorithm algorithm = mac_algorithm::iso9797_1_alg3;
  std::uint8_t padding = 1;  ///< ISO 9797-1 padding method 1 or 2 (algorithms 1 and 3)
  std::size_t length = 8;    ///< MAC length in bytes (truncation)
};

/// An ARQC to check and the answer to build.
struct arqc_check {
  std::string imk;  ///< issuer master key for application cryptograms (usage E0)
  int cvn = 10;     ///< cryptogram version number: Visa 10, 18, 22; Mastercard 16, 17, 20, 21
  std::string pan;
  std::string psn;              ///< PAN sequence number, 2 digits
  bytes atc;                    ///< application transaction counter, 2 bytes
  bytes data;                   ///< the complete cryptogram input before padding
  bytes un;                     ///< unpredictable number (Mastercard session keys)
  bytes arqc;                   ///< the cryptogram the card sent
  bytes arc;                    ///< authorisation response code for ARPC method 1 (2 bytes)
  bytes csu;                    ///< card status update for ARPC method 2 (4 bytes); method 2 when not empty
  bytes proprietary_auth_data;  ///< method 2, optional
};

/// The outcome of an ARQC check.
struct arqc_result {
  bool valid = false;
  bytes arpc;  ///< ARPC to send back (empty when the ARQC did not verify)
};

/// IBM 3624 verification parameters.
struct ibm3624_check {
  std::string pvk;              ///< PIN verification key name (usage V1)
  std::string decimalization;   ///< 16 decimal digits
  std::string validation_data;  ///< 16 hex digits, usually from the PAN
  std::string offset;           ///< the PIN offset on file
  std::size_t check_length = 4;
};

/// Visa PVV verification parameters.
struct pvv_check {
  std::string pvk;  ///< PIN verification key name (usage V2)
  int pvki = 1;
  std::string pvv;  ///< the PVV on file (4 digits)
};

/// Card verification value inputs.
struct cvv_input {
  std::string cvk;  ///< card verification key name (usage C0)
  std::string pan;
  std::string expiry;        ///< YYMM
  std::string service_code;  ///< 3 digits (000 for CVV2, 999 for iCVV)
};

/// The HSM. Implementations are thread-safe.
class hsm {
 public:
  virtual ~hsm() = default;

  /// Backend name ("software", "pkcs11").
  virtual std::string_view backend() const noexcept = 0;
  /// True when the HSM is marked as production (clear-key tools refuse to run against it).
  virtual bool production() const noexcept = 0;

  /// Translates a PIN block from a terminal PIN key (or DUKPT BDK + KSN) to a zone PIN key, with
  /// format conversion under the PCI PIN rules. The clear PIN never leaves the backend.
  virtual outcome<bytes> translate_pin(const pin_source& from, byte_view pin_block, const pin_destination& to,
                                       std::string_view pan) = 0;
  /// Verifies the PIN in a block against an IBM 3624 offset.
  virtual outcome<bool> verify_pin_ibm3624(const pin_source& from, byte_view pin_block, std::string_view pan,
                                           const ibm3624_check& check) = 0;
  /// Verifies the PIN in a block against a Visa PVV.
  virtual outcome<bool> verify_pin_pvv(const pin_source& from, byte_view pin_block, std::string_view pan,
                                       const pvv_check& check) = 0;

  /// Generates a MAC over data.
  virtual outcome<bytes> generate_mac(const mac_spec& spec, byte_view data) = 0;
  /// Verifies a MAC over data (constant time).
  virtual outcome<bool> verify_mac(const mac_spec& spec, byte_view data, byte_view mac) = 0;

  /// Verifies an ARQC and, when valid, builds the ARPC (method 1 with arc, method 2 with csu).
  virtual outcome<arqc_result> verify_arqc(const arqc_check& check) = 0;

  /// Generates a card verification value (3 digits).
  virtual outcome<std::string> generate_cvv(const cvv_input& in) = 0;
  /// Verifies a card verification value.
  virtual outcome<bool> verify_cvv(const cvv_input& in, std::string_view cvv) = 0;

  /// Generates a random key with the given header and length (bytes) and stores it under name.
  virtual outcome<key_info> generate_key(const std::string& name, const tr31_header& header, std::size_t length) = 0;
  /// Imports a key from a TR-31 block wrapped under the key encryption key `kek` (usage K0/K1).
  virtual outcome<key_info> import_key(const std::string& name, std::string_view kek, std::string_view block) = 0;
  /// Imports a key from clear components (XORed), checked against the expected KCV when given.
  virtual outcome<key_info> import_components(const std::string& name, const tr31_header& header,
                                              std::span<const secure_bytes> components,
                                              std::string_view expected_kcv) = 0;
  /// Exports a key as a TR-31 block under the key encryption key `kek` (the key must be exportable).
  virtual outcome<std::string> export_key(std::string_view name, std::string_view kek) = 0;
  /// Lists the keys: names, headers, lengths and check values, never material.
  virtual outcome<std::vector<key_info>> list_keys() = 0;
  /// The description of one key.
  virtual outcome<key_info> describe_key(std::string_view name) = 0;
};

}  // namespace eft::crypto
