#pragma once
/// Configs of the terminal simulator (termsim) and the host simulator (hostsim): YAML files turned
/// into typed, checked structs. Loading throws eft::config::config_error naming file, line and a hint.
///
/// Simulators are test tools: their configs may hold clear test keys (hex). Those keys are held in
/// wiped memory and never printed.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/emv/cryptogram.hpp"
#include "eft/simulators/edition.hpp"
#include "eft/switch/framing.hpp"

namespace eft::simulators {

/// Where a simulator connects or listens, and how messages are framed and encoded there.
struct endpoint_config {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  switch_core::framing_kind framing = switch_core::framing_kind::len2;
  std::string spec = "iso87-ascii";  ///< built-in dialect name or spec file path
  std::size_t max_frame = 8192;
  std::optional<switch_core::tpdu> tpdu;     ///< len2+tpdu: the TPDU a terminal sends
  iso_edition edition = iso_edition::v1987;  ///< termsim's target: the edition its requests follow
};

/// How a terminal protects its PIN blocks.
enum class pin_protection : std::uint8_t {
  static_key,  ///< a terminal PIN key (TPK), TDES, format 0/1/3
  dukpt_tdes,  ///< TDES DUKPT from a BDK and an initial KSN, format 0
  dukpt_aes,   ///< AES DUKPT from a BDK and an initial KSN, format 4
};

/// A terminal template: connection i of a run uses template i mod count, with its terminal id's
/// trailing number advanced by i / count.
struct terminal_config {
  std::string id = "POS00001";               ///< field 41, 8 characters
  std::string merchant = "MERCHANT0000001";  ///< field 42, 15 characters
  bool atm = false;                          ///< kind: pos or atm (decides which transactions it makes)
  pin_protection pin = pin_protection::static_key;
  crypto::pin_block_format pin_format = crypto::pin_block_format::iso0;
  crypto::secure_bytes pin_key;  ///< TPK (static) or BDK (DUKPT); test key
  crypto::bytes ksn;             ///< DUKPT: the device's initial KSN
  std::uint32_t ksn_field = 53;  ///< DUKPT: the field that carries the KSN
  crypto::secure_bytes mac_key;  ///< retail MAC key (ISO 9797-1 alg 3) for field 64; empty: no MAC
};

/// A card the terminals read.
struct card_config {
  std::string pan;
  std::string expiry = "3012";  ///< YYMM
  std::string service_code = "201";
  std::string discretionary = "0000000000";  ///< track 2 discretionary data (e.g. PVKI and PVV, or an offset)
  std::string pin = "1234";                  ///< test PIN entered by the simulated cardholder
  bool chip = true;
  emv::cryptogram_version cvn = emv::cryptogram_version::visa_18;
  std::string psn = "00";
  std::uint16_t atc = 1;
  crypto::secure_bytes imk;  ///< issuer master key for application cryptograms (test key)
};

/// Transaction types termsim makes.
enum class txn_type : std::uint8_t {
  purchase,            ///< chip, online PIN
  contactless,         ///< chip, no PIN
  magstripe_fallback,  ///< track 2 after a chip failure, online PIN
  atm_withdrawal,      ///< chip, online PIN, processing code 01
  balance_inquiry,     ///< chip, online PIN, processing code 31
  refund,              ///< processing code 20, no PIN
  reversal,            ///< 0400 of an earlier transaction of the same terminal
};
inline constexpr std::size_t txn_type_count = 7;
/// "purchase", "contactless", ...
std::string_view to_string(txn_type t) noexcept;
/// The type of a name, or nothing.
std::optional<txn_type> parse_txn_type(std::string_view name) noexcept;

/// The termsim config.
struct termsim_config {
  std::filesystem::path file;
  endpoint_config target;
  std::uint32_t timeout_ms = 10000;
  std::vector<terminal_config> terminals;
  std::vector<card_config> cards;
  std::array<std::uint32_t, txn_type_count> mix{};  ///< weights by txn_type
  std::uint64_t amount_min = 100;                   ///< minor units
  std::uint64_t amount_max = 20000;                 ///< minor units
  std::string currency = "978";
};

/// Fault actions of hostsim.
enum class fault_action : std::uint8_t { delay, no_answer, duplicate, late, disconnect, garbage };
std::string_view to_string(fault_action a) noexcept;

/// How the wait of a delay or late fault is drawn for each request it hits.
enum class delay_distribution : std::uint8_t {
  uniform,      ///< delay_ms + a whole number of ms drawn uniformly from [0, jitter_ms]
  exponential,  ///< mean delay_ms (memoryless; its standard deviation is its mean)
  normal,       ///< mean delay_ms, standard deviation jitter_ms, clamped at 0
  lognormal,    ///< median delay_ms, shape sigma (the standard deviation of ln(delay)): a long tail
};
/// "uniform", "exponential", "normal", "lognormal".
std::string_view to_string(delay_distribution d) noexcept;
/// The distribution of a name, or nothing.
std::optional<delay_distribution> parse_delay_distribution(std::string_view name) noexcept;

/// What a garbage fault writes instead of the answer.
enum class garbage_kind : std::uint8_t {
  body,     ///< a well-framed frame whose body is not ISO 8583; the link stays up
  framing,  ///< the answer behind a length header of the wrong framing, then the link is closed
};
/// "body", "framing".
std::string_view to_string(garbage_kind g) noexcept;

/// Largest wait a delay or late fault uses, in ms: a configured delay_ms and every drawn delay are
/// capped at it.
inline constexpr std::uint32_t max_fault_delay_ms = 600000;

/// A fault rule: when a request matches (every given criterion), the action is applied with
/// probability `rate`.
struct fault_rule {
  fault_action action = fault_action::delay;
  double rate = 1.0;
  std::vector<std::string> mti;  ///< empty: any
  std::string pan;               ///< empty: any
  std::optional<std::uint64_t> amount;
  std::uint32_t delay_ms = 0;   ///< delay: fixed part, mean or median (see distribution); late: how long after
  std::uint32_t jitter_ms = 0;  ///< uniform: extra in [0, jitter_ms]; normal: standard deviation
  delay_distribution distribution = delay_distribution::uniform;  ///< delay and late only
  double sigma = 0;  ///< lognormal: standard deviation of ln(delay in ms), above 0 (0.5: p99 about 3.2 x median)
  garbage_kind garbage = garbage_kind::body;  ///< garbage only
};

/// A card the issuer knows.
struct issuer_card {
  std::string pan;
  std::string pvv;                      ///< Visa PVV (4 digits); or
  std::string offset;                   ///< IBM 3624 offset
  std::optional<std::string> decline;   ///< always answer this RC (05, 51, 55, ...)
  std::optional<std::int64_t> balance;  ///< minor units; none: unlimited
  std::optional<std::uint64_t> limit;   ///< largest amount per transaction, minor units (RC 61 above)
};

/// The hostsim config.
struct hostsim_config {
  std::filesystem::path file;
  std::vector<endpoint_config> listeners;
  std::uint32_t threads = 1;
  std::filesystem::path record;      ///< JSON record written at exit; empty: none
  bool record_transactions = false;  ///< per-transaction keys in the record
  /// Seed of the draws of fault rules (rate, delays): the same seed and the same requests in the same
  /// order give the same faults.
  std::uint64_t fault_seed = 20261126;
  // Keys (test keys).
  crypto::secure_bytes zpk;
  crypto::pin_block_format pin_format = crypto::pin_block_format::iso0;
  crypto::secure_bytes pvk;  ///< PVV key pair
  int pvki = 1;
  crypto::secure_bytes ibm3624_pvk;
  std::string decimalization = "0123456789012345";
  std::string validation_data = "NNNNNNNNNNNN";  ///< pattern with N for account digits
  crypto::secure_bytes imk;                      ///< issuer master key (ARQC/ARPC)
  crypto::secure_bytes bdk;      ///< TDES DUKPT BDK: PIN blocks with a KSN are format 0 under its PIN key
  crypto::secure_bytes aes_bdk;  ///< AES DUKPT BDK: PIN blocks with a KSN are format 4 (AES-128 PIN key)
  std::uint32_t ksn_field = 53;  ///< the field that carries the KSN
  crypto::secure_bytes mac_key;  ///< retail MAC key: requests' field 64 verified (RC 63), answers MACed
  // Rules.
  std::vector<issuer_card> cards;
  std::string unknown_card_rc = "14";  ///< "00" approves unknown cards
  std::optional<std::uint64_t> limit;  ///< default per-transaction limit
  std::vector<fault_rule> faults;
};

/// Loads and checks a termsim config. Throws config::config_error.
termsim_config load_termsim_config(const std::filesystem::path& file);
/// Loads and checks a hostsim config. Throws config::config_error.
hostsim_config load_hostsim_config(const std::filesystem::path& file);

/// Parses an amount written "12.34" (or "1234" minor units are not accepted: always with a point
/// or a whole number of major units) into minor units with two decimals. Nothing when malformed.
std::optional<std::uint64_t> parse_amount(std::string_view text) noexcept;

}  // namespace eft::simulators
