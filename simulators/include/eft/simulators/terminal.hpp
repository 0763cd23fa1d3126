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
  /// index / templates).
  terminal_state(const terminal_config& t, std::size_t index, std::size_t templates);

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
