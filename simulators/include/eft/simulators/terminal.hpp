#pragma once
/// The terminal side of termsim, without I/O: builds the requests a POS terminal or ATM sends (PIN
/// blocks under a TPK or DUKPT, field 55 with a valid ARQC, MAC) and checks each answer (MTI, STAN,
/// RRN, terminal, amount, ARPC, MAC).

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eft/iso8583/message.hpp"
#include "eft/simulators/config.hpp"

namespace eft::simulators {

/// What a terminal remembers of a request to check its answer (and to reverse it later).
struct txn_context {
  txn_type type = txn_type::purchase;
  std::string mti;
  std::string processing_code;
  std::string stan;
  std::string rrn;
  std::string transmission_time;  ///< field 7
  std::string local_time;         ///< field 12 (hhmmss, or YYMMDDhhmmss in ISO 8583:1993)
  std::string amount;             ///< field 4, 12 digits
  std::string terminal_id;
  const card_config* card = nullptr;
  std::uint16_t atc = 0;
  crypto::bytes field55;  ///< request field 55 (chip transactions)
};

/// Why an answer does not fit its request.
enum class mismatch : std::uint8_t { mti, stan, rrn, terminal, amount, arpc_missing, arpc, mac_missing, mac };
inline constexpr std::size_t mismatch_count = 9;
std::string_view to_string(mismatch m) noexcept;

/// One answer checked.
struct answer_check {
  std::string rc;                ///< field 39 ("" when absent)
  std::uint32_t mismatches = 0;  ///< bit i: mismatch i
  bool ok() const noexcept { return mismatches == 0; }
};

/// A terminal's running state: its id, STAN, DUKPT counter and what it may reverse.
class terminal_state {
 public:
  /// Terminal `index` of a run made from template `t` (its id's trailing number advanced by
  /// index / templates, and so is its DUKPT device id: see device_ksn()). `ksn_counter_start`:
  /// when not 0, the first DUKPT transaction uses this counter (or the next valid one after it)
  /// instead of the one after the configured KSN's; the caller checks it is in range
  /// (ksn_counter_start_problem()).
  terminal_state(const terminal_config& t, std::size_t index, std::size_t templates,
                 std::uint32_t ksn_counter_start = 0);

  const terminal_config& config() const noexcept { return *config_; }
  const std::string& id() const noexcept { return id_; }
  /// The next STAN (000001-999999, then round again).
  std::string next_stan();
  /// The KSN of the next DUKPT transaction (advanced past the initial KSN first).
  crypto::outcome<crypto::bytes> next_ksn();

  /// The last approved financial transaction, reversible once.
  std::optional<txn_context> reversible;
  std::uint32_t sequence = 0;  ///< transactions made (drives the card ATC)

 private:
  const terminal_config* config_;
  std::string id_;
  std::uint32_t stan_;
  crypto::bytes ksn_;
};

/// The initial KSN of copy `copy` (0, 1, ...) of a terminal template whose initial KSN is
/// `template_ksn`: a device of its own, with `copy` added to the device id and the rest kept, so
/// that no two copies encrypt under the same DUKPT keys. TDES (10 bytes, X9.24-1 A.1): the 19 bits
/// left of the 21-bit counter (the usual split: a 40-bit key set id holding the BDK id, then a 19-bit
/// device id), modulo 2^19. AES (12 bytes, X9.24-3): the 32-bit derivation id (device id) after the
/// 32-bit BDK id, modulo 2^32. Copy 0 is the template KSN itself. Other sizes come back unchanged.
crypto::bytes device_ksn(const crypto::bytes& template_ksn, std::uint64_t copy);

/// Why a run of `connections` connections made from `cfg`'s templates would give two connections
/// the same DUKPT device (template KSNs too close, or more copies than device ids); empty when
/// every connection has a device of its own.
std::string ksn_collision(const termsim_config& cfg, std::size_t connections);

/// Why a run of `connections` connections made from `cfg`'s templates would give two connections
/// the same terminal id (field 41): a template id without trailing digits to count up, more copies
/// than its digits can number, or templates whose counted ids overlap; empty when every connection
/// has an id of its own.
std::string terminal_id_collision(const termsim_config& cfg, std::size_t connections);

/// Why `counter` cannot start the DUKPT transaction counters of `cfg`'s terminals (0 or past the
/// last counter of a TDES or AES terminal); empty when it can.
std::string ksn_counter_start_problem(const termsim_config& cfg, std::uint64_t counter);

/// A terminal setting the target spec cannot carry: what, and how to fix it.
struct fit_problem {
  std::string what;
  std::string fix;
  explicit operator bool() const noexcept { return !what.empty(); }
};
/// Whether `spec`'s field 52 holds the PIN blocks of terminal `t` (8 bytes for TDES formats,
/// 16 for format 4); no problem for a terminal without a PIN key.
fit_problem pin_block_fit(const terminal_config& t, const iso8583::spec& spec);
/// Whether `spec`'s field `t.ksn_field` holds the KSNs of DUKPT terminal `t` (as termsim writes
/// them: bytes in a b field, hex digits in a text field) and is free for them; no problem for a
/// terminal without DUKPT.
fit_problem ksn_fit(const terminal_config& t, const iso8583::spec& spec);
/// A field's definition as the spec writes it, e.g. "n 16", "ans ..999 (LLL)".
std::string describe_field(const iso8583::field_spec& f);

/// The RRN (field 37, n12) a terminal gives its request of STAN `stan` (n6): six digits of a hash of
/// its id, then the STAN.
std::string terminal_rrn(std::string_view terminal_id, std::string_view stan);

/// Builds a request into `out` (made with the target spec) and fills `ctx`. `original` is the
/// transaction a reversal reverses. Returns an empty string or why the request cannot be built
/// (no card data in it).
std::string build_request(const termsim_config& cfg, terminal_state& term, const card_config& card, txn_type type,
                          std::uint64_t amount, const txn_context* original, std::mt19937_64& rng,
                          iso8583::message& out, txn_context& ctx);

/// Packs a request and, when the terminal has a MAC key, sets the MAC field (64, or 128 when the
/// message has fields above 64) to the retail MAC (ISO 9797-1 algorithm 3, padding method 1) of the
/// packed message without its last 8 bytes (the MAC field is the last one). Returns the packed bytes, or nothing when
/// the message does not pack.
std::optional<std::vector<std::byte>> pack_request(const terminal_config& term, iso8583::message& msg,
                                                   std::string* error = nullptr);

/// Packs a message with its MAC field (64, or 128 when the message has fields above 64, as a
/// reversal's field 90) set to the retail MAC (ISO 9797-1 algorithm 3, padding method 1) under
/// `mac_key` of the packed message without its last 8 bytes (the MAC field is the last one);
/// without a key, packs it as it is. Nothing when it does not pack (why in `error`).
std::optional<std::vector<std::byte>> pack_with_mac(const crypto::secure_bytes& mac_key, iso8583::message& msg,
                                                    std::string* error = nullptr);
/// True when the packed message `body` ends with its MAC field (64, or 128 when the message has
/// fields above 64) holding the retail MAC under `mac_key` of the bytes before it (`msg` is `body`
/// unpacked).
bool mac_matches(const crypto::secure_bytes& mac_key, const iso8583::message& msg, std::span<const std::byte> body);

/// Checks an answer against its request. `body` is the packed answer (for the MAC).
answer_check check_answer(const terminal_state& term, const txn_context& ctx, const iso8583::message& answer,
                          std::span<const std::byte> body);

/// Field 4 text of an amount in minor units.
std::string amount_field(std::uint64_t minor);
/// "12.34" for 1234.
std::string format_amount(std::uint64_t minor);

}  // namespace eft::simulators
