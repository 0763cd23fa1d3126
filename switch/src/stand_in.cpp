#include "eft/switch/stand_in.hpp"

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

}  // namespace eft::switch_core
