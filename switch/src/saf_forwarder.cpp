#include "eft/switch/saf_forwarder.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/use_future.hpp>

#include <set>

#include "eft/iso8583/codec.hpp"
#include "eft/switch/message_util.hpp"
#include "eft/switch/reversal.hpp"
#include "thread_name.hpp"

namespace eft::switch_core {

namespace asio = boost::asio;

namespace {

// How often the queues are looked at without a wake-up (links coming up, retry times passing).
constexpr auto poll_interval = std::chrono::milliseconds(200);

// Waits for a journal write on this (non-I/O) thread.
bool write_durably(journal& j, journal_batch b) {
  auto f = j.async_write(std::move(b), asio::use_future);
  try {
    f.get();
    return true;
  } catch (const std::system_error& e) {
    spdlog::error("SAF: journal write failed: {}", e.what());
    return false;
  }
}

}  // namespace

saf_forwarder::saf_forwarder(journal& j, std::map<std::string, link_group*, std::less<>> groups,
                             config::journal_config cfg, std::uint32_t send_timeout_ms)
    : journal_(j), groups_(std::move(groups)), cfg_(std::move(cfg)), send_timeout_ms_(send_timeout_ms) {}

saf_forwarder::~saf_forwarder() {
  stop();
}

void saf_forwarder::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
  detail::name_thread(thread_, "eft-saf");
}

void saf_forwarder::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void saf_forwarder::wake() {
  {
    const std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

std::map<std::string, saf_forwarder::depth> saf_forwarder::depths() const {
  const std::lock_guard lock(mutex_);
  return depths_;
}

std::string saf_forwarder::status() const {
  std::string s;
  const std::int64_t now = journal_now_us();
  for (const auto& [group, d] : depths()) {
    s += s.empty() ? "saf" : ",";
    s += " " + group + " ready=" + std::to_string(d.ready) +
         " oldest_s=" + std::to_string(d.oldest_us > 0 ? (now - d.oldest_us) / 1000000 : 0);
  }
  if (s.empty()) s = "saf";
  s += " sent=" + std::to_string(counters_.sent.load()) +
       " acknowledged=" + std::to_string(counters_.acknowledged.load()) +
       " expired=" + std::to_string(counters_.expired.load());
  return s;
}

void saf_forwarder::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      woken_ = false;
    }
    try {
      pass();
    } catch (const std::exception& e) {
      spdlog::error("SAF: {}", e.what());
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, poll_interval, [this] { return stopping_ || woken_; });
  }
}

// One look at every queue: per group, the oldest ready items first; a group whose head cannot go
// now (not due, no link, no acknowledgement) waits, so items never overtake each other.
void saf_forwarder::pass() {
  std::set<std::string> blocked;
  auto items = journal_.saf_items({}, true);
  std::map<std::string, depth> now_depths;
  for (const auto& g : groups_) now_depths[g.first] = depth{};
  for (const auto& item : items) {
    if (item.state != saf_state::ready) continue;
    depth& d = now_depths[item.link_group];
    ++d.ready;
    if (d.oldest_us == 0 || item.created_us < d.oldest_us) d.oldest_us = item.created_us;
  }
  {
    const std::lock_guard lock(mutex_);
    depths_ = std::move(now_depths);
  }
  for (auto& item : items) {
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (item.state != saf_state::ready || blocked.count(item.link_group) != 0) continue;
    const std::int64_t now = journal_now_us();
    const bool too_old = cfg_.saf_expiry_s > 0 && now - item.created_us > std::int64_t{cfg_.saf_expiry_s} * 1000000;
    const bool too_many = cfg_.saf_max_attempts > 0 && item.attempts >= std::int64_t{cfg_.saf_max_attempts};
    if (too_old || too_many) {
      spdlog::error(
          "SAF EXPIRED: {} for link group {} (txn {}) given up after {} attempt(s), {} s old: the host never "
          "acknowledged it; settle it by hand",
          item.summary, item.link_group, item.txn_id, item.attempts, (now - item.created_us) / 1000000);
      journal_batch b;
      journal_record r;
      r.txn_id = item.txn_id;
      r.event = journal_event::expired;
      r.at_us = now;
      r.mti = item.mti;
      r.detail = too_old ? "SAF item expired (age)" : "SAF item expired (attempts)";
      b.records.push_back(std::move(r));
      b.saf_acknowledged.emplace_back(item.txn_id, item.kind);
      if (write_durably(journal_, std::move(b))) counters_.expired.fetch_add(1);
      continue;
    }
    if (item.next_attempt_us > now) {
      blocked.insert(item.link_group);
      continue;
    }
    const auto g = groups_.find(item.link_group);
    host_link* link = g == groups_.end() ? nullptr : g->second->select();
    if (link == nullptr || item.message.empty()) {
      if (item.message.empty()) {
        spdlog::error("SAF: item of txn {} cannot be opened (another journal key?); left in the queue", item.txn_id);
      }
      blocked.insert(item.link_group);
      continue;
    }
    auto msg = std::make_unique<iso8583::message>(link->spec());
    if (const iso8583::status st = iso8583::unpack(std::as_bytes(std::span<const std::uint8_t>(item.message)), *msg);
        !st) {
      spdlog::error("SAF: item of txn {} does not unpack in the dialect of link {}: {}", item.txn_id, link->name(),
                    st.message());
      blocked.insert(item.link_group);
      continue;
    }
    const std::string sent_mti = item.attempts > 0 ? repeat_mti(item.mti) : item.mti;
    msg->set_mti(sent_mti);
    const std::string what = summary(*msg);
    // The attempt is durable before the send: a switch that dies with this message on the wire
    // sends it again as a repeat (0401/0421), never a second time as an original.
    {
      journal_batch attempt;
      attempt.saf_attempts.emplace_back(item.txn_id,
                                        journal_now_us() + std::int64_t{cfg_.saf_retry_interval_ms} * 1000);
      if (!write_durably(journal_, std::move(attempt))) {
        blocked.insert(item.link_group);
        continue;
      }
    }
    counters_.sent.fetch_add(1);
    exchange_result r =
        link->async_exchange(std::move(msg), std::chrono::milliseconds(send_timeout_ms_), asio::use_future).get();
    if (r.status == exchange_status::not_sent) {
      // Nothing went out: it may go again at once (as a repeat, which a host treats alike).
      journal_batch again;
      again.saf_retry_now.push_back(item.txn_id);
      (void)write_durably(journal_, std::move(again));
      blocked.insert(item.link_group);
      continue;
    }
    const bool acked = r.status == exchange_status::answered && r.response && acknowledges(sent_mti, r.response->mti());
    journal_batch b;
    if (acked) {
      journal_record rec;
      rec.txn_id = item.txn_id;
      rec.event = journal_event::reversed;
      rec.at_us = journal_now_us();
      rec.mti = std::string(r.response->mti());
      rec.link = link->name();
      rec.host_stan = r.stan;
      rec.rrn = r.rrn;
      rec.rc = std::string(r.response->get(39U).value_or(""));
      b.records.push_back(std::move(rec));
      b.saf_acknowledged.emplace_back(item.txn_id, item.kind);
      if (write_durably(journal_, std::move(b))) counters_.acknowledged.fetch_add(1);
      spdlog::info("SAF: {} acknowledged by link {} (txn {})", what, link->name(), item.txn_id);
    } else {
      // The attempt is already journaled (before the send), with its retry time.
      spdlog::warn("SAF: {} on link {} not acknowledged ({}); repeating in {} ms", what, link->name(),
                   to_string(r.status), cfg_.saf_retry_interval_ms);
      blocked.insert(item.link_group);
    }
  }
}

}  // namespace eft::switch_core
