#pragma once
/// Stand-in: the circuit breaker that declares a route's host unavailable after repeated timeouts,
/// and the PIN verification data a stand-in approval reads from the card's track 2. What the switch
/// then answers is the pipeline's (pipeline_stand_in.cpp).

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "eft/config/switch.hpp"

namespace eft::switch_core {

/// A route's circuit breaker. Closed: every request goes to the host, and each host timeout is
/// remembered for `window_s`; `timeouts` of them open it. Open: no request goes to the host for
/// `open_s`. Then half-open: one request goes through; its answer closes the breaker, its timeout
/// opens it again. Any thread (a mutex held for a few instructions).
class circuit_breaker {
 public:
  using clock = std::chrono::steady_clock;

  /// A breaker with those limits (`cfg.timeouts` > 0).
  explicit circuit_breaker(config::breaker_config cfg) : cfg_(cfg) {}

  /// True when a request may go to the host now. In half-open state only the first caller gets true
  /// until it reports its outcome.
  bool allow(clock::time_point now = clock::now());
  /// Reports the host's answer in time: closes the breaker.
  void on_answer();
  /// Reports a host timeout: counted, and opens the breaker at the limit (or again when half-open).
  void on_timeout(clock::time_point now = clock::now());
  /// Reports a request that went nowhere (not sent, link lost): a half-open probe may be retried.
  void on_no_outcome();
  /// True while open (not yet half-open) at `now`.
  bool is_open(clock::time_point now = clock::now()) const;
  /// The limits it was made with.
  const config::breaker_config& settings() const noexcept { return cfg_; }

 private:
  config::breaker_config cfg_;
  mutable std::mutex mutex_;
  std::deque<clock::time_point> timeouts_;  // of the last window, oldest first
  clock::time_point open_until_{};
  bool opened_ = false;  // opened at least once and not closed since: open, then half-open
  bool probing_ = false;
};

/// The PIN verification data on a card, as the stand-in's pin_verify reads it. Never logged.
struct pin_verification_data {
  std::uint8_t pvki = 0;  ///< visa_pvv: the PIN verification key index
  std::string value;      ///< visa_pvv: the PVV (4 digits); ibm3624: the offset (offset_length digits)
};

/// Reads the PIN verification data from a track 2 value (field 35) by `cfg`: for visa_pvv the PVKI
/// and PVV, the first 5 digits of the discretionary data (right after the service code); for
/// ibm3624 the offset_length digits at offset_position of the discretionary data. Nothing when the
/// track is malformed (iso8583::parse_track2), too short, or carries a PVKI other than cfg.pvki.
std::optional<pin_verification_data> pin_verification_data_of(const config::pin_verify_config& cfg,
                                                              std::string_view track2);

}  // namespace eft::switch_core
