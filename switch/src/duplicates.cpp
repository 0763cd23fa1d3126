#include "eft/switch/duplicates.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "eft/iso8583/codec.hpp"

namespace eft::switch_core {

namespace {
constexpr std::size_t reserved_at_most = 4'000'000;
}  // namespace

std::unique_ptr<iso8583::message> duplicate_entry::answer() const {
  if (response.empty() || dialect == nullptr) return nullptr;
  auto m = std::make_unique<iso8583::message>(*dialect);
  if (!iso8583::unpack(response, *m)) return nullptr;
  return m;
}

duplicate_cache::duplicate_cache(std::chrono::seconds window, std::size_t max_entries, counter* forgotten_early)
    : window_(window), max_entries_(max_entries), forgotten_early_(forgotten_early) {
  // 8 bytes of buckets per request, made (and touched) now: up to 4 million requests (32 MB); a
  // larger bound's table grows past that as before.
  entries_.reserve(std::min<std::size_t>(max_entries_, reserved_at_most));
}

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
  std::size_t early = 0;
  std::pair<std::shared_ptr<duplicate_entry>, bool> result;
  {
    const std::lock_guard lock(mutex_);
    // Past the window first; an entry still in flight stays: a duplicate of it must find it.
    while (!order_.empty() && order_.front().first + window_ < now) {
      const auto it = entries_.find(*order_.front().second);
      if (it != entries_.end() && !it->second->done.load(std::memory_order_acquire)) break;
      if (it != entries_.end()) entries_.erase(it);
      order_.pop_front();
    }
    if (const auto it = entries_.find(key); it != entries_.end()) return {it->second, false};
    // Room for a new one: the memory bound wins over the window (and over an entry in flight).
    while (!order_.empty() && order_.size() >= max_entries_) {
      const auto it = entries_.find(*order_.front().second);
      if (it != entries_.end()) {
        entries_.erase(it);
        ++early;
      }
      order_.pop_front();
    }
    const auto it = entries_.try_emplace(key).first;
    it->second = std::make_shared<duplicate_entry>();
    it->second->txn_id = txn_id;
    order_.emplace_back(now, &it->first);
    result = {it->second, true};
  }
  if (early > 0) {
    if (forgotten_early_ != nullptr) forgotten_early_->add(early);
    // Loud, but at most once a minute: at a steady rate over the bound every request drops one.
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    auto last = last_warning_s_.load(std::memory_order_relaxed);
    if (s - last >= 60 && last_warning_s_.compare_exchange_strong(last, s, std::memory_order_relaxed)) {
      spdlog::warn(
          "duplicate detection: {} requests are remembered, its bound; older ones are forgotten before their "
          "{} s window ends, so a late repeat of one would reach the host (raise journal.duplicate_max_entries "
          "or shorten journal.duplicate_window_s)",
          max_entries_, window_.count());
    }
  }
  return result;
}

void duplicate_cache::complete(duplicate_entry& e, const iso8583::message* response) {
  std::vector<std::byte> packed;
  if (response != nullptr && !iso8583::pack(*response, packed)) packed.clear();
  complete(e, response != nullptr ? &response->dialect() : nullptr, packed);
}

void duplicate_cache::complete(duplicate_entry& e, const iso8583::spec* dialect, std::span<const std::byte> packed) {
  if (dialect != nullptr && !packed.empty()) {
    e.dialect = dialect;
    e.response.assign(packed.begin(), packed.end());  // exactly its size: kept for the whole window
  }
  e.done.store(true, std::memory_order_release);
}

std::size_t duplicate_cache::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace eft::switch_core
