#pragma once
/// The host side of hostsim, without I/O: from a request, the answer an issuer or acquirer host
/// gives (network management, PIN verification under the zone PIN key, ARQC verification and ARPC,
/// card rules and balances, reversals and advices), the fault to inject, and a record of everything
/// for tests to reconcile. Thread-safe: sessions on several threads share one issuer.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eft/iso8583/message.hpp"
#include "eft/simulators/config.hpp"

namespace eft::simulators {

/// What to do with a request.
struct host_decision {
  bool answer = false;                        ///< `answer` holds the response to send
  std::optional<fault_action> fault;          ///< a fault to inject instead of (or around) the answer
  std::uint32_t delay_ms = 0;                 ///< delay and late: wait this long before answering
  garbage_kind garbage = garbage_kind::body;  ///< garbage: what to write instead of the answer
  std::string answer_key;                     ///< "MTI/RC" of the answer made (even when a fault withholds it)
};

/// The name a fault is counted under in the record (faults, withheld, transactions): the action's
/// name, and "garbage_framing" for a garbage fault that breaks the framing.
std::string_view fault_name(fault_action action, garbage_kind garbage) noexcept;

/// Draws the wait of a delay or late fault from its rule's distribution, in whole ms (rounded to
/// the nearest), at most max_fault_delay_ms. uniform is delay_ms + rng() % (jitter_ms + 1) and draws
/// nothing when jitter_ms is 0 (as hostsim always did: a seed repeats the waits of earlier versions);
/// exponential, normal and lognormal are computed from rng's raw output (53-bit uniforms, inverse
/// CDF and Box-Muller), not with <random>'s distributions, whose algorithms vary between standard
/// libraries. A normal draw below 0 is 0.
std::uint32_t draw_fault_delay(const fault_rule& rule, std::mt19937_64& rng);

class issuer {
 public:
  /// The config must outlive the issuer.
  explicit issuer(const hostsim_config& cfg);

  /// Decides the answer to `request` into `answer` (cleared first; made with the request's spec).
  /// Requests it does not answer (unknown MTIs, answers) are counted as unexpected, and no fault
  /// applies to them. `body` is the packed request: with a MAC key, a request other than network
  /// management (authorisation, reversal, advice) whose MAC (field 64, or 128 with a secondary
  /// bitmap) is missing or wrong is answered RC 63 and changes nothing. An answer a fault withholds
  /// (no_answer, disconnect, garbage) is counted as withheld here, under its fault_name; an answer
  /// to send is counted only when the I/O layer reports it written (note_answer_sent). Pack answers
  /// with pack_answer().
  host_decision handle(const iso8583::message& request, iso8583::message& answer, std::span<const std::byte> body = {});
  /// Packs an answer (with its MAC when the config has a MAC key).
  std::optional<std::vector<std::byte>> pack_answer(iso8583::message& answer, std::string* error = nullptr) const;

  /// Counts a frame or message from the system under test that could not be handled; the first few
  /// are kept with their masked description.
  void note_malformed(std::string_view kind, std::string_view masked_sample);
  /// Counts an answer written to the link: `answer_key` is host_decision::answer_key. `copy`: the
  /// second copy a duplicate fault writes (counted in duplicates_sent, not as another answer).
  void note_answer_sent(std::string_view answer_key, bool copy = false);
  /// Counts an answer that was decided but never written, by why ("link_closed": the link closed
  /// before it could be written; "not_packable").
  void note_answer_withheld(std::string_view why);
  /// Counts a connection accepted.
  void note_connection();

  /// The record: requests received by MTI, answers written by MTI/RC (answered_total), second copies
  /// written by duplicate faults (duplicates_sent), answers withheld by why (withheld_total: fault
  /// no_answer, disconnect, garbage or garbage_framing, link_closed, not_packable), PIN, MAC and ARQC
  /// results, faults applied (by fault_name), malformed input, and per-transaction keys when the
  /// config asks for them. PANs are masked. received_total = answered_total + withheld_total +
  /// malformed.unexpected_mti, but for answers still waiting for a delay fault.
  nlohmann::ordered_json record() const;

 private:
  struct card_state {
    const issuer_card* card = nullptr;
    std::optional<std::int64_t> balance;
  };
  struct approved {
    std::string pan;
    std::int64_t amount = 0;  ///< signed effect on the balance (debit negative)
    bool reversed = false;
  };

  std::string verify_pin(const iso8583::message& req, const std::string& pan, const card_state* cs);
  std::optional<std::uint64_t> amount_of(const iso8583::message& req) const;

  const hostsim_config& cfg_;
  mutable std::mutex mutex_;
  std::map<std::string, card_state> cards_;
  std::map<std::string, std::size_t> approved_by_key_;  ///< "terminal|stan" and "pan|amount" -> index
  std::vector<approved> approved_;
  std::mt19937_64 rng_;  ///< fault draws, seeded by the config's fault_seed
  std::uint32_t auth_code_ = 0;
  std::map<std::string, std::uint64_t> received_, answered_, withheld_, counters_, faults_, malformed_;
  std::uint64_t duplicates_sent_ = 0;
  std::vector<std::string> samples_;
  nlohmann::ordered_json transactions_ = nlohmann::ordered_json::array();
};

}  // namespace eft::simulators
