#include "eft/switch/stand_in.hpp"

#include "eft/iso8583/track2.hpp"

namespace eft::switch_core {

bool circuit_breaker::allow(clock::time_point now) {
  const std::lock_guard lock(mutex_);
  if (!opened_) return true;
  if (now < open_until_ || probing_) return false;
  probing_ = true;
  return true;
}

void circuit_breaker::on_answer() {
  const std::lock_guard lock(mutex_);
  opened_ = false;
  probing_ = false;
  timeouts_.clear();
}

void circuit_breaker::on_timeout(clock::time_point now) {
  const std::lock_guard lock(mutex_);
  if (opened_) {
    if (probing_) {
      probing_ = false;
      open_until_ = now + std::chrono::seconds(cfg_.open_s);
    }
    return;
  }
  timeouts_.push_back(now);
  while (!timeouts_.empty() && now - timeouts_.front() > std::chrono::seconds(cfg_.window_s)) timeouts_.pop_front();
  if (timeouts_.size() >= cfg_.timeouts) {
    opened_ = true;
    open_until_ = now + std::chrono::seconds(cfg_.open_s);
    timeouts_.clear();
  }
}

void circuit_breaker::on_no_outcome() {
  const std::lock_guard lock(mutex_);
  probing_ = false;
}

bool circuit_breaker::is_open(clock::time_point now) const {
  const std::lock_guard lock(mutex_);
  return opened_ && now < open_until_;
}

std::optional<pin_verification_data> pin_verification_data_of(const config::pin_verify_config& cfg,
                                                              std::string_view track2) {
  const auto t = iso8583::parse_track2(track2);
  if (!t) return std::nullopt;
  const std::string_view d = t->discretionary;
  pin_verification_data out;
  if (cfg.method == config::pin_verify_method::visa_pvv) {
    // Visa: PVKI (1 digit) and PVV (4 digits) right after the service code.
    if (d.size() < 5) return std::nullopt;
    out.pvki = static_cast<std::uint8_t>(d[0] - '0');
    if (cfg.pvki && *cfg.pvki != out.pvki) return std::nullopt;
    out.value.assign(d.substr(1, 4));
    return out;
  }
  if (d.size() < std::size_t{cfg.offset_position} + cfg.offset_length) return std::nullopt;
  out.value.assign(d.substr(cfg.offset_position, cfg.offset_length));
  return out;
}

}  // namespace eft::switch_core
