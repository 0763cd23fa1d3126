#include "eft/switch/duplicates.hpp"

namespace eft::switch_core {

duplicate_cache::duplicate_cache(std::chrono::seconds window, std::size_t max_entries)
    : window_(window), max_entries_(max_entries) {}

std::optional<std::string> duplicate_cache::key_of(const iso8583::message& request) {
  const auto terminal = request.get(41U);
  const auto stan = request.get(11U);
  const auto when = request.get(7U);
  if (!terminal || !stan || !when || request.mti().size() != 4) return std::nullopt;
  std::string k(request.mti().substr(0, 3));
  k += '|';
  k += *terminal;
  k += '|';
  k += *stan;
  k += '|';
  k += *when;
  return k;
}

std::pair<std::shared_ptr<duplicate_entry>, bool> duplicate_cache::admit(const std::string& key, std::int64_t txn_id) {
  const auto now = clock::now();
  const std::lock_guard lock(mutex_);
  while (!order_.empty() && (order_.front().first + window_ < now || order_.size() >= max_entries_)) {
    const auto it = entries_.find(order_.front().second);
    // Only a finished entry is forgotten: a duplicate of one in flight must still find it.
    if (it != entries_.end() && !it->second->done.load(std::memory_order_acquire) && order_.size() < max_entries_) {
      break;
    }
    if (it != entries_.end()) entries_.erase(it);
    order_.pop_front();
  }
  const auto [it, inserted] = entries_.try_emplace(key);
  if (!inserted) return {it->second, false};
  it->second = std::make_shared<duplicate_entry>();
  it->second->txn_id = txn_id;
  order_.emplace_back(now, key);
  return {it->second, true};
}

void duplicate_cache::complete(duplicate_entry& e, const iso8583::message* response) {
  if (response != nullptr) e.response = std::make_unique<const iso8583::message>(*response);
  e.done.store(true, std::memory_order_release);
}

std::size_t duplicate_cache::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace eft::switch_core
