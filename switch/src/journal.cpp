#include "eft/switch/journal.hpp"

#include <array>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "eft/crypto/primitives.hpp"
#include "journal_queue.hpp"

namespace eft::switch_core {

namespace {

constexpr std::string_view event_names[] = {"received", "forwarded",   "completed", "declined", "timed_out",
                                            "reversed", "late_answer", "stand_in",  "expired"};

class journal_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "eft.journal"; }
  std::string message(int ev) const override {
    switch (static_cast<journal_errc>(ev)) {
      case journal_errc::busy:
        return "the journal's write queue is full";
      case journal_errc::closed:
        return "the journal is closed";
      case journal_errc::io:
        return "the journal could not be written";
    }
    return "unknown journal error";
  }
};

crypto::secure_bytes derive(crypto::byte_view key, std::string_view label) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(label.data());
  auto mac = crypto::hmac_sha256(key, crypto::byte_view(p, label.size()));
  if (!mac) throw std::invalid_argument("journal key derivation failed");
  crypto::secure_bytes out(crypto::byte_view(mac->data(), mac->size()));
  crypto::wipe(mac->data(), mac->size());
  return out;
}

crypto::byte_view checked_journal_key(crypto::byte_view key) {
  if (key.size() != 32) throw std::invalid_argument("the journal key must be 32 bytes (64 hex digits)");
  return key;
}

}  // namespace

std::string_view to_string(journal_event e) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < std::size(event_names) ? event_names[i] : std::string_view("?");
}

std::optional<journal_event> parse_journal_event(std::string_view s) noexcept {
  for (std::size_t i = 0; i < std::size(event_names); ++i) {
    if (event_names[i] == s) return static_cast<journal_event>(i);
  }
  return std::nullopt;
}

std::string_view to_string(saf_kind k) noexcept {
  return k == saf_kind::advice ? "advice" : "reversal";
}

std::string_view to_string(saf_state s) noexcept {
  return s == saf_state::ready ? "ready" : "armed";
}

const std::error_category& journal_category() noexcept {
  static const journal_category_impl c;
  return c;
}

std::error_code make_error_code(journal_errc e) noexcept {
  return {static_cast<int>(e), journal_category()};
}

void complete_waiters(std::vector<std::unique_ptr<journal_waiter>>& waiters, std::error_code ec) {
  // Sessions share a handful of I/O threads: a few groups, each found by a linear scan.
  std::vector<std::unique_ptr<journal_waiter>> firsts;
  std::vector<std::vector<std::unique_ptr<journal_waiter>>> rest;
  for (auto& w : waiters) {
    if (!w) continue;
    std::size_t i = 0;
    while (i < firsts.size() && !firsts[i]->same_executor(*w)) ++i;
    if (i == firsts.size()) {
      firsts.push_back(std::move(w));
      rest.emplace_back();
    } else {
      rest[i].push_back(std::move(w));
    }
  }
  waiters.clear();
  for (std::size_t i = 0; i < firsts.size(); ++i) firsts[i]->complete_with(std::move(rest[i]), ec);
}

std::int64_t journal_now_us() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One journal key, three keys of one use each (NIST SP 800-108-style derivation with HMAC-SHA256 as
// the PRF and the use as the label): the PAN hash key cannot decrypt, the sealing keys cannot hash.
journal_keys::journal_keys(crypto::byte_view journal_key)
    : enc_key_(derive(checked_journal_key(journal_key), "eft journal saf encryption v1")),
      hash_key_(derive(journal_key, "eft journal pan hash v1").view()),
      mac_key_(derive(journal_key, "eft journal saf authentication v1").view()) {}

journal_keys journal_keys::load(const std::string& env_var, const std::filesystem::path& file) {
  std::string text;
  std::string origin;
  if (const char* v = env_var.empty() ? nullptr : std::getenv(env_var.c_str()); v != nullptr && *v != '\0') {
    text = v;
    origin = "environment variable " + env_var;
  } else if (!file.empty()) {
    std::ifstream in(file);
    if (!in) throw journal_open_error("cannot read the journal key file " + file.string());
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    origin = "journal key file " + file.string();
  } else {
    throw journal_open_error("no journal key: set " + (env_var.empty() ? std::string("journal.key_env") : env_var) +
                             " to 64 hex digits or give journal.key_file");
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start])) != 0) ++start;
  auto key = crypto::secure_from_hex(std::string_view(text).substr(start));
  crypto::wipe(text.data(), text.size());
  if (!key || key->size() != 32) {
    throw journal_open_error("the journal key in the " + origin + " is not 64 hex digits (32 bytes)");
  }
  return journal_keys(key->view());
}

std::string journal_keys::pan_hash(std::string_view pan) const {
  const auto* p = reinterpret_cast<const std::uint8_t*>(pan.data());
  auto mac = hash_key_.mac(crypto::byte_view(p, pan.size()));
  return mac ? crypto::to_hex(*mac) : std::string();
}

namespace {

// The IVs of sealed messages come from a pool of random bytes per thread, 64 IVs per fill: one
// RAND_bytes call costs about as much for 16 bytes as for 1,024 (its locks and fork and reseed
// checks), and was half the cost of sealing. Each IV is still fresh output of the CSPRNG, used once
// and wiped from the pool as it is taken.
constexpr std::size_t iv_size = 16;
constexpr std::size_t ivs_per_fill = 64;

bool take_iv(std::uint8_t* out) {
  thread_local crypto::secure_bytes pool;
  thread_local std::size_t taken = 0;
  if (taken == pool.size()) {
    auto fresh = crypto::random_bytes(iv_size * ivs_per_fill);
    if (!fresh) return false;
    pool = std::move(*fresh);
    taken = 0;
  }
  std::memcpy(out, pool.data() + taken, iv_size);
  crypto::wipe(pool.data() + taken, iv_size);
  taken += iv_size;
  return true;
}

}  // namespace

std::vector<std::uint8_t> journal_keys::seal(crypto::byte_view clear) const {
  std::array<std::uint8_t, iv_size> iv{};
  if (!take_iv(iv.data())) return {};
  // PKCS#7 padding: the messages have any length.
  const std::size_t pad = 16 - clear.size() % 16;
  crypto::secure_bytes padded(clear.size() + pad);
  if (!clear.empty()) std::memcpy(padded.data(), clear.data(), clear.size());
  std::memset(padded.data() + clear.size(), static_cast<int>(pad), pad);
  auto ct =
      crypto::cbc_encrypt(crypto::cipher::aes, enc_key_.view(), crypto::byte_view(iv.data(), iv.size()), padded.view());
  if (!ct) return {};
  std::vector<std::uint8_t> out(16 + ct->size() + 32);
  std::memcpy(out.data(), iv.data(), 16);
  std::memcpy(out.data() + 16, ct->data(), ct->size());
  auto mac = mac_key_.mac(crypto::byte_view(out.data(), 16 + ct->size()));
  if (!mac || mac->size() != 32) return {};
  std::memcpy(out.data() + 16 + ct->size(), mac->data(), 32);
  return out;
}

std::optional<std::vector<std::uint8_t>> journal_keys::unseal(crypto::byte_view sealed) const {
  if (sealed.size() < 16 + 16 + 32 || (sealed.size() - 48) % 16 != 0) return std::nullopt;
  const auto body = sealed.first(sealed.size() - 32);
  auto mac = mac_key_.mac(body);
  if (!mac || !crypto::equal_ct(*mac, sealed.last(32))) return std::nullopt;
  auto clear = crypto::cbc_decrypt(crypto::cipher::aes, enc_key_.view(), body.first(16), body.subspan(16));
  if (!clear || clear->empty()) return std::nullopt;
  const std::uint8_t pad = clear->back();
  if (pad == 0 || pad > 16 || pad > clear->size()) return std::nullopt;
  clear->resize(clear->size() - pad);
  return std::move(*clear);
}

std::string journal_stats::status() const {
  const auto mean = [](const journal_timing& t) { return t.count() > 0 ? t.sum_us() / t.count() : 0U; };
  return "journal commits=" + std::to_string(commits.get()) + " writes=" + std::to_string(writes.get()) +
         " commit_mean_us=" + std::to_string(mean(commit)) + " wait_mean_us=" + std::to_string(mean(wait)) +
         (counts_wal_bytes ? " wal_mb=" + std::to_string(wal_bytes.get() >> 20U) : std::string());
}

namespace detail {

bool journal_queue::push(queued_write q, bool accepting, bool force) {
  std::unique_lock lock(mutex_);
  const bool closed = closing_ || !accepting;
  if (!closed && (force || queue_.size() < limit_)) {
    // Someone waits for this one: the writer goes at once. A posted batch alone does not wake it:
    // it joins the next awaited write's commit (a received record, the forwarded one behind it).
    const bool awaited = q.waiter || q.flushed != nullptr || q.claim_waiter;
    if (awaited) ++awaited_;
    queue_.push_back(std::move(q));
    const bool wake = awaited || queue_.size() == posted_batch;
    lock.unlock();
    if (wake) wake_.notify_one();
    return true;
  }
  lock.unlock();
  const std::error_code refused = closed ? journal_errc::closed : journal_errc::busy;
  if (q.waiter) q.waiter->complete(refused);
  if (q.claim_waiter) q.claim_waiter->complete(refused, original_claim{});
  if (q.flushed != nullptr) q.flushed->set_value(false);
  return false;
}

bool journal_queue::take(std::vector<queued_write>& group, std::size_t max) {
  group.clear();
  std::unique_lock lock(mutex_);
  while (!closing_ && !poked_ && awaited_ == 0 && queue_.size() < posted_batch) {
    if (queue_.empty()) {
      wake_.wait(lock);
    } else if (wake_.wait_for(lock, posted_delay) == std::cv_status::timeout) {
      break;  // posted batches wait no longer than this for company
    }
  }
  if (queue_.empty() && closing_) return false;
  if (queue_.size() <= max) {
    group.swap(queue_);
    awaited_ = 0;
    return true;
  }
  const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(max);
  for (auto it = queue_.begin(); it != end; ++it) {
    if (it->waiter || it->flushed != nullptr || it->claim_waiter) --awaited_;
    group.push_back(std::move(*it));
  }
  queue_.erase(queue_.begin(), end);
  return true;
}

void journal_queue::poke() noexcept {
  try {
    const std::lock_guard lock(mutex_);
    poked_ = true;
  } catch (...) {  // NOLINT(bugprone-empty-catch): a lost poke only delays the writer's extra work
  }
  wake_.notify_one();
}

bool journal_queue::poked() noexcept {
  const std::lock_guard lock(mutex_);
  return std::exchange(poked_, false);
}

bool journal_queue::close() {
  {
    const std::lock_guard lock(mutex_);
    if (closing_) return false;
    closing_ = true;
  }
  wake_.notify_all();
  return true;
}

void journal_queue::complete(std::vector<queued_write>& group, std::error_code result) {
  std::vector<std::unique_ptr<journal_waiter>> waiters;
  waiters.reserve(group.size());
  for (auto& q : group) {
    if (q.waiter) waiters.push_back(std::move(q.waiter));
    if (q.flushed != nullptr) q.flushed->set_value(!result);
    if (q.claim_waiter) q.claim_waiter->complete(result, result ? original_claim{} : q.claim);
  }
  complete_waiters(waiters, result);
}

void queued_journal::finish(std::vector<queued_write>& group, std::error_code result,
                            std::chrono::steady_clock::time_point began) {
  const auto now = std::chrono::steady_clock::now();
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  stats_.commits.add();
  stats_.writes.add(group.size());
  stats_.commit.record(duration_cast<microseconds>(now - began));
  for (const auto& q : group) {
    if (q.waiter || q.claim_waiter) stats_.wait.record(duration_cast<microseconds>(now - q.submitted));
  }
  detail::journal_queue::complete(group, result);
}

bool queued_journal::post(journal_batch batch) {
  queued_write q;
  q.batch = std::move(batch);
  return enqueue(std::move(q));
}

bool queued_journal::flush() {
  std::promise<bool> done;
  auto f = done.get_future();
  queued_write q;
  q.flushed = &done;
  if (!enqueue(std::move(q), true)) return false;
  return f.get();
}

void queued_journal::submit(journal_batch batch, std::unique_ptr<journal_waiter> waiter) {
  queued_write q;
  q.batch = std::move(batch);
  q.waiter = std::move(waiter);
  q.submitted = std::chrono::steady_clock::now();
  (void)enqueue(std::move(q));
}

void queued_journal::submit_claim(original_ref ref, std::unique_ptr<original_claim_waiter> waiter) {
  queued_write q;
  q.claim_ref = std::move(ref);
  q.claim_waiter = std::move(waiter);
  q.submitted = std::chrono::steady_clock::now();
  (void)enqueue(std::move(q));
}

bool queued_journal::enqueue(queued_write q, bool force) {
  return queue_.push(std::move(q), !failed_ && !read_only_, force);
}

std::optional<std::uint32_t> parse_host_stan(std::string_view stan) noexcept {
  std::uint32_t v = 0;
  for (const char c : stan) {
    if (c < '0' || c > '9' || v > 999999) return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v == 0 || v > 999999) return std::nullopt;
  return v;
}

journal_batch recovery_batch(const std::vector<saf_item>& armed) {
  journal_batch b;
  const std::int64_t now = journal_now_us();
  for (const auto& it : armed) {
    b.saf_make_ready.push_back(it.txn_id);
    journal_record r;
    r.txn_id = it.txn_id;
    r.event = journal_event::timed_out;
    r.at_us = now;
    r.detail = "recovered at start: outcome unknown, reversal queued";
    b.records.push_back(std::move(r));
  }
  return b;
}

std::optional<original_claim_status> judge_original(const original_ref& ref, std::string_view amount,
                                                    std::string_view state) noexcept {
  if (amount != ref.amount) return std::nullopt;  // another transaction with the same ids, or a wrong amount
  if (state == "standby") return original_claim_status::claimed;
  if (state == "reversed") return original_claim_status::already;
  return std::nullopt;  // armed: no outcome yet (a terminal reverses only what it was answered)
}

}  // namespace detail

}  // namespace eft::switch_core
