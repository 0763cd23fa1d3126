#pragma once
/// The transaction journal and the store-and-forward (SAF) queue: one durable store, written by its
/// own thread, behind a backend-neutral interface.
///
/// Callers (terminal sessions on I/O threads) hand a `journal_batch` to async_write(): it joins a
/// bounded queue and completes on the caller's own executor once it is durable at the configured
/// level. The writer thread takes everything queued, writes it in one database transaction and
/// commits once (group commit): many records per fsync, and the I/O threads never block on the disk.
/// A full queue completes at once with journal_errc::busy (backpressure, not unbounded memory).
///
/// The journal never holds a full PAN, track data, PIN block, CVV or key: records carry the masked
/// PAN and a keyed hash (HMAC-SHA256) of the PAN for look-ups; SAF messages, which must carry the PAN
/// to the host, are stored sealed (AES-256-CBC then HMAC-SHA256) under keys derived from the journal
/// key, which lives outside the config (an environment variable or a key file).

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/primitives.hpp"
#include "eft/switch/counters.hpp"

namespace eft::config {
struct journal_config;
}

namespace eft::switch_core {

/// What happened to a transaction (one journal record each).
enum class journal_event : std::uint8_t {
  received,     ///< a terminal's request was read and validated
  forwarded,    ///< about to be sent to a host (durable before the send)
  completed,    ///< the host answered in time (durable before an approval reaches the terminal)
  declined,     ///< answered locally without the host (no route, no link, format error, stage refusal)
  timed_out,    ///< sent, no answer in time or the link dropped: outcome unknown, reversal queued
  reversed,     ///< the host acknowledged the reversal
  late_answer,  ///< the host answered after the timeout: journaled, never sent to the terminal
  stand_in,     ///< approved or declined by the switch on the host's behalf
  expired,      ///< a SAF item given up (too old or too many attempts): needs an operator
};

/// "received", "forwarded", ... (the value stored in the database).
std::string_view to_string(journal_event e) noexcept;
/// The event of that name, or nullopt.
std::optional<journal_event> parse_journal_event(std::string_view s) noexcept;

/// How far a commit goes before the writer reports it durable.
enum class journal_durability : std::uint8_t {
  /// survives a crash of the switch process (SQLite WAL, synchronous=NORMAL; PostgreSQL
  /// synchronous_commit=off: the server has every commit, but a crash of the *server* may lose its
  /// last ~0.6 s of commits)
  process_crash,
  /// survives power loss: fsync at every group commit (SQLite synchronous=FULL; PostgreSQL
  /// synchronous_commit=on)
  power_loss,
};

/// Errors of the journal (std::error_code category "eft.journal").
enum class journal_errc {
  busy = 1,  ///< the write queue is full: answer the terminal without forwarding
  closed,    ///< the journal is closed or its writer failed
  io,        ///< the database refused the write (disk full, I/O error)
};
const std::error_category& journal_category() noexcept;
std::error_code make_error_code(journal_errc e) noexcept;

/// A journal that cannot be opened: corrupt, locked by another process, written by a newer schema,
/// unreadable, not a journal. Thrown at start-up only; the message names the file (or database and
/// instance) and what to do.
class journal_open_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One journal record. Text fields are empty when unknown; none holds card secrets.
struct journal_record {
  std::int64_t txn_id = 0;  ///< the switch's id of the transaction (journal::next_txn_id())
  journal_event event = journal_event::received;
  std::int64_t at_us = 0;        ///< wall-clock time, microseconds since the UNIX epoch (UTC)
  std::string terminal;          ///< field 41
  std::string pan_masked;        ///< iso8583::mask_pan of the PAN
  std::string pan_hash;          ///< journal_keys::pan_hash of the PAN (64 hex digits)
  std::string mti;               ///< MTI of the message this record is about
  std::string processing_code;   ///< field 3
  std::string amount;            ///< field 4 (minor units, as sent)
  std::string currency;          ///< field 49
  std::string terminal_stan;     ///< field 11 from the terminal
  std::string transmission;      ///< field 7 from the terminal (MMDDhhmmss)
  std::string host_stan;         ///< field 11 toward the host
  std::string rrn;               ///< field 37 (the switch's toward the host, else the terminal's)
  std::string route;             ///< route name
  std::string link;              ///< host link name
  std::string rc;                ///< response code (field 39) of the answer, when there is one
  std::int64_t latency_us = -1;  ///< from receipt to this event; -1 when not measured
  std::string detail;            ///< free text without card data ("timeout", "link_lost", ...)
  std::string instance;          ///< the switch instance that wrote it (PostgreSQL; empty with SQLite)
};

/// Kinds of SAF items.
enum class saf_kind : std::uint8_t {
  reversal,  ///< 0400/0420: a forwarded request whose outcome is unknown or which must be undone
  advice,    ///< 0220: a stand-in approval the host must learn of
};
std::string_view to_string(saf_kind k) noexcept;

/// State of a SAF item.
enum class saf_state : std::uint8_t {
  /// the reversal prepared when the request was forwarded; sent only if the outcome turns unknown.
  /// Backends keep armed reversals apart from the queue (with the forwarded originals): saf_items()
  /// lists them after the queue, with seq 0.
  armed,
  ready,  ///< to be sent (in order of seq) until acknowledged or expired
};
std::string_view to_string(saf_state s) noexcept;

/// One SAF queue entry.
struct saf_item {
  std::int64_t seq = 0;     ///< queue order (assigned by the store; 0 in a new item)
  std::int64_t txn_id = 0;  ///< the transaction it belongs to (one SAF item per transaction)
  std::string link_group;   ///< the host's link group: the queue it is in
  saf_kind kind = saf_kind::reversal;
  saf_state state = saf_state::armed;
  std::string mti;                    ///< MTI of the queued message (0400, 0420, 0220)
  std::string summary;                ///< masked description for operators (no card data)
  std::int64_t created_us = 0;        ///< when it was queued (UNIX microseconds)
  std::int64_t attempts = 0;          ///< sends so far (the second and later go as repeats: 0401/0421/0221)
  std::int64_t next_attempt_us = 0;   ///< not sent before this time
  std::vector<std::uint8_t> message;  ///< the packed message (host dialect), clear in memory only
};

/// Everything one caller needs durable at once; applied atomically, in this order.
struct journal_batch {
  std::vector<journal_record> records;
  std::vector<saf_item> saf_put;             ///< new SAF items (a txn_id already queued is replaced)
  std::vector<std::int64_t> saf_make_ready;  ///< txn_ids whose armed item must now be sent
  /// (txn_id, next_attempt_us): one more send attempt of that item; not sent again before then
  std::vector<std::pair<std::int64_t, std::int64_t>> saf_attempts;
  std::vector<std::int64_t> saf_retry_now;  ///< txn_ids whose item may be sent at once (operator retry)
  std::vector<std::int64_t> saf_remove;     ///< txn_ids whose item (queued or armed) is dropped for good
  /// (txn_id, kind) of items the host acknowledged (or that expired): removed if still of that kind.
  /// A stand-in advice its terminal reversed meanwhile became that advice's reversal, which stays.
  std::vector<std::pair<std::int64_t, saf_kind>> saf_acknowledged;
  /// txn_ids whose armed reversal the host's answer made unneeded, for originals a terminal may still
  /// reverse (authorisations, financials): the reversal is kept sealed on standby, never sent, until a
  /// terminal's reversal claims it (journal::async_claim_original) or the reversal window passes.
  std::vector<std::int64_t> saf_standby;
  bool empty() const noexcept {
    return records.empty() && saf_put.empty() && saf_make_ready.empty() && saf_attempts.empty() &&
           saf_retry_now.empty() && saf_remove.empty() && saf_acknowledged.empty() && saf_standby.empty();
  }
};

/// A terminal's reference to an original it wants reversed: the ids it gave the original (from the
/// reversal's field 90, else its own 11 and 7) and the amount (field 4). None of it is card data.
struct original_ref {
  std::string terminal;       ///< field 41
  std::string terminal_stan;  ///< the original's field 11
  std::string transmission;   ///< the original's field 7
  std::string amount;         ///< field 4 of the reversal: the original must have the same
};

/// What a terminal reversal found (journal::async_claim_original).
enum class original_claim_status : std::uint8_t {
  /// no such original: never forwarded, still in flight, past the reversal window, or another amount
  unknown,
  claimed,  ///< its standby reversal is now ready in the SAF queue (durable when the claim completes)
  already,  ///< reversed before (an earlier claim, the switch's own reversal, recovery): nothing queued
};

/// The result of a claim.
struct original_claim {
  original_claim_status status = original_claim_status::unknown;
  std::int64_t txn_id = 0;  ///< the original's transaction (0 when unknown)
};

/// Journal key material: derived from one 32-byte journal key, never stored in the config, the
/// journal or a log.
class journal_keys {
 public:
  /// From a 32-byte journal key. Throws std::invalid_argument when it has another length.
  explicit journal_keys(crypto::byte_view journal_key);
  /// Reads the key (64 hex digits) from the environment variable `env_var` when set, else from
  /// `file` (when not empty). Throws journal_open_error saying which source failed (never the key).
  static journal_keys load(const std::string& env_var, const std::filesystem::path& file);

  /// HMAC-SHA256 of the PAN's digits under the PAN-hash key, as 64 uppercase hex digits. Equal PANs
  /// hash equally across restarts and journals that share the key.
  std::string pan_hash(std::string_view pan) const;
  /// Seals a SAF message: IV (16) || AES-256-CBC ciphertext || HMAC-SHA256(IV || ciphertext) (32).
  std::vector<std::uint8_t> seal(crypto::byte_view clear) const;
  /// Opens a sealed message; nullopt when it was altered or sealed under another key.
  std::optional<std::vector<std::uint8_t>> unseal(crypto::byte_view sealed) const;

 private:
  crypto::secure_bytes enc_key_;
  crypto::hmac_sha256_key hash_key_;  // keyed once: a PAN hash per transaction
  crypto::hmac_sha256_key mac_key_;   // keyed once: a sealed reversal per forwarded request
};

/// Which records a query returns (all conditions given must hold).
struct journal_query {
  std::string terminal;
  std::string rrn;
  std::string pan_hash;
  std::int64_t txn_id = 0;   ///< 0: any
  std::int64_t from_us = 0;  ///< at_us >= from_us
  std::int64_t to_us = 0;    ///< at_us < to_us; 0: no upper bound
  std::size_t limit = 1000;  ///< most records returned, oldest first
};

/// Depth and age of one host's SAF queue.
struct saf_stats {
  std::string link_group;
  std::size_t ready = 0;             ///< items waiting to be sent
  std::size_t armed = 0;             ///< prepared reversals of requests in flight
  std::int64_t oldest_ready_us = 0;  ///< created_us of the oldest ready item; 0 when none
};

/// The completion of one write, type-erased for the writer's queue.
class journal_waiter {
 public:
  virtual ~journal_waiter() = default;
  /// Delivers the result on the waiter's own executor (never inside this call).
  virtual void complete(std::error_code ec) = 0;
  /// Delivers the result to this waiter and then to each of `same` (waiters for which
  /// same_executor(*this) holds) with one post to the shared executor, in order (never inside this call).
  virtual void complete_with(std::vector<std::unique_ptr<journal_waiter>> same, std::error_code ec) = 0;
  /// True when `other` delivers on the same executor as this one (then one post serves both).
  virtual bool same_executor(const journal_waiter& other) const = 0;
  /// Calls the handler here and now: only from a function already running on the waiter's executor.
  virtual void invoke(std::error_code ec) = 0;
};

/// The completion of one claim (journal::async_claim_original), type-erased for the writer's queue.
class original_claim_waiter {
 public:
  virtual ~original_claim_waiter() = default;
  /// Delivers the result on the waiter's own executor (never inside this call); `claim` is unknown
  /// when `ec` is set.
  virtual void complete(std::error_code ec, original_claim claim) = 0;
};

/// Completes every waiter with `ec`, in order within each executor, with one post per distinct
/// executor instead of one per waiter: a group commit of hundreds of writes wakes each I/O thread
/// once. Null entries are skipped; the vector is left empty.
void complete_waiters(std::vector<std::unique_ptr<journal_waiter>>& waiters, std::error_code ec);

namespace detail {
template <typename Handler>
class journal_waiter_impl final : public journal_waiter {
 public:
  explicit journal_waiter_impl(Handler h)
      : handler_(std::move(h)), work_(boost::asio::make_work_guard(boost::asio::get_associated_executor(handler_))) {}
  void complete(std::error_code ec) override {
    auto ex = work_.get_executor();
    boost::asio::post(ex, [h = std::move(handler_), ec]() mutable { std::move(h)(ec); });
    work_.reset();
  }
  void complete_with(std::vector<std::unique_ptr<journal_waiter>> same, std::error_code ec) override {
    auto ex = work_.get_executor();
    boost::asio::post(ex, [h = std::move(handler_), same = std::move(same), ec]() mutable {
      std::move(h)(ec);
      for (auto& w : same) w->invoke(ec);
    });
    work_.reset();
  }
  bool same_executor(const journal_waiter& other) const override {
    const auto* o = dynamic_cast<const journal_waiter_impl*>(&other);
    return o != nullptr && o->work_.get_executor() == work_.get_executor();
  }
  void invoke(std::error_code ec) override {
    Handler h = std::move(handler_);
    work_.reset();
    std::move(h)(ec);
  }

 private:
  Handler handler_;
  boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work_;
};

template <typename Handler>
class original_claim_waiter_impl final : public original_claim_waiter {
 public:
  explicit original_claim_waiter_impl(Handler h)
      : handler_(std::move(h)), work_(boost::asio::make_work_guard(boost::asio::get_associated_executor(handler_))) {}
  void complete(std::error_code ec, original_claim claim) override {
    auto ex = work_.get_executor();
    boost::asio::post(ex, [h = std::move(handler_), ec, claim]() mutable { std::move(h)(ec, claim); });
    work_.reset();
  }

 private:
  Handler handler_;
  boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work_;
};
}  // namespace detail

/// Upper bounds (seconds) of the journal's commit and wait histograms; +Inf follows.
inline constexpr std::array<double, 13> journal_time_buckets_s = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                                  0.025,  0.05,    0.1,    0.25,  1.0,    5.0};

/// A histogram of the journal's durations.
using journal_timing = duration_histogram<journal_time_buckets_s.size()>;

/// What a journal's writer did since it was opened (metrics, benchmarks).
struct journal_stats {
  counter commits;  ///< database transactions committed (or failed) by the writer
  counter writes;   ///< batches, claims and flush markers those commits carried
  /// The writer's time per commit, from taking its group to completing it.
  journal_timing commit{journal_time_buckets_s};
  /// Per awaited write (a batch or claim someone waits for): from its submission to its completion,
  /// the queue's wait included. The part of a transaction's latency that is the journal's.
  journal_timing wait{journal_time_buckets_s};
  /// SQLite: the bytes those commits wrote to the WAL (frame headers and pages: each page a commit
  /// changes is written whole). Counted only where counts_wal_bytes.
  counter wal_bytes;
  bool counts_wal_bytes = false;  ///< set by the backend before its writer starts

  /// For the status line: "journal commits=120 writes=300 commit_mean_us=52 wait_mean_us=88" (means
  /// since open), then " wal_mb=12" where counted.
  std::string status() const;
};

/// A journal backend. Writes from any thread through async_write(); the synchronous reads are for
/// start-up, tests and eftctl (they may block: never call them on an I/O thread).
///
/// Originals (schema version 2): a forwarded request's armed reversal (saf_put with state armed) is
/// kept, sealed, with the original and apart from the SAF queue: saf_make_ready and recover() copy it
/// into the queue as ready and mark the original reversed; saf_standby keeps it on standby for a
/// terminal's reversal; saf_remove drops it. Originals that are not armed are purged by the writer
/// once older than the reversal window.
class journal {
 public:
  virtual ~journal() = default;

  /// A new transaction id, unique in this journal (any thread, lock-free).
  virtual std::int64_t next_txn_id() noexcept = 0;

  /// Queues a batch and completes with void(std::error_code) on the token's associated executor once
  /// it is durable (empty error), or at once with journal_errc::busy when the queue is full, or with
  /// journal_errc::closed / io when it cannot be written.
  template <typename Token>
  auto async_write(journal_batch batch, Token&& token) {
    return boost::asio::async_initiate<Token, void(std::error_code)>(
        [this](auto handler, journal_batch b) {
          using handler_type = std::decay_t<decltype(handler)>;
          submit(std::move(b), std::make_unique<detail::journal_waiter_impl<handler_type>>(std::move(handler)));
        },
        token, std::move(batch));
  }

  /// A terminal reversal of `ref`: in one write, ordered with the batches queued before it, the
  /// newest original the terminal sent with those ids (its received record) within the reversal
  /// window, with the same amount and an outcome journaled, is claimed: a standby reversal becomes a
  /// ready SAF item (created now) and the original is marked reversed, so a repeat, a concurrent
  /// duplicate or a claim after a restart finds it `already` and queues nothing. Completes with
  /// void(std::error_code, original_claim) once durable, or with journal_errc::busy / closed / io
  /// (and an unknown claim) as async_write does.
  template <typename Token>
  auto async_claim_original(original_ref ref, Token&& token) {
    return boost::asio::async_initiate<Token, void(std::error_code, original_claim)>(
        [this](auto handler, original_ref r) {
          using handler_type = std::decay_t<decltype(handler)>;
          submit_claim(std::move(r),
                       std::make_unique<detail::original_claim_waiter_impl<handler_type>>(std::move(handler)));
        },
        token, std::move(ref));
  }

  /// Queues a batch nobody waits for (written in order with the others). False when the queue is
  /// full or the journal closed: the batch is dropped.
  virtual bool post(journal_batch batch) = 0;

  /// Waits until everything queued so far is durable (tests, shutdown). False when the writer failed.
  virtual bool flush() = 0;

  /// Records matching a query, oldest first (blocking).
  virtual std::vector<journal_record> query(const journal_query& q) = 0;
  /// SAF items of a link group (all groups when empty), in queue order; `with_messages` unseals the
  /// messages (needs the journal key) (blocking).
  virtual std::vector<saf_item> saf_items(std::string_view link_group, bool with_messages) = 0;
  /// Depth and oldest age per link group (blocking).
  virtual std::vector<saf_stats> saf_depth() = 0;

  /// The host STAN of the newest request journaled as sent on `link` (a forwarded request or an
  /// acknowledged SAF message), or nullopt when there is none (blocking; start-up).
  virtual std::optional<std::uint32_t> last_host_stan(std::string_view link) = 0;

  /// Start-up recovery: every armed reversal belongs to a request forwarded by an earlier run whose
  /// outcome is unknown; each becomes ready (its reversal will be sent, its original is marked
  /// reversed) and a timed_out record says so. Standby reversals stay as they are. Returns how many
  /// (blocking; call before traffic).
  virtual std::size_t recover() = 0;

  /// Stops the writer after writing what is queued. Later writes complete with journal_errc::closed.
  virtual void close() = 0;

  /// The writer's commits and the waits of awaited writes since open (any thread).
  const journal_stats& stats() const noexcept { return stats_; }

 protected:
  journal_stats stats_;

  virtual void submit(journal_batch batch, std::unique_ptr<journal_waiter> waiter) = 0;
  /// Queues a claim (async_claim_original); a refused one completes at once (busy, closed).
  virtual void submit_claim(original_ref ref, std::unique_ptr<original_claim_waiter> waiter) = 0;
};

/// Settings of the SQLite journal.
struct sqlite_journal_options {
  std::filesystem::path path;                                      ///< the database file
  journal_durability durability = journal_durability::power_loss;  ///< see journal_durability
  std::size_t queue_limit = 65536;                                 ///< batches waiting at most; then journal_errc::busy
  std::size_t max_group = 8192;                                    ///< batches per commit at most
  /// How long a terminal may reverse an answered original; older originals are purged by the writer.
  std::chrono::seconds reversal_window{86400};
  /// The records' look-up keys spread over their trees (terminal, RRN, PAN hash) are held by the
  /// writer until this many wait, then entered sorted into the key table, a slice per commit (schema
  /// version 4). Look-ups search the records whose keys wait too; a restart finds them again.
  std::size_t late_keys = 8192;
};

/// The schema version this build writes. 2: the originals (armed and standby reversals) apart from
/// the SAF queue. 3: (SQLite) each link's newest host STAN in a table of its own (link_stan).
/// 4: (SQLite) the terminal, RRN and PAN-hash keys in a key table entered late (journal_key).
/// 5: (SQLite) a PAN-hash key holds the hash's first 20 hex digits.
/// 6: (SQLite) the armed originals found from a mark (original_mark), without an index.
/// 7: (SQLite) the records found by time through a row a second (journal_time), without an index.
inline constexpr int journal_schema_version = 7;

/// Opens (creating when absent) the SQLite journal in WAL mode and starts its writer thread.
///
/// Refuses, with journal_open_error and without writing to the file:
///  - a file that is not an SQLite database; a journal whose state tables (SAF queue, originals,
///    schema version: what recovery and terminal reversals read) fail PRAGMA quick_check, or whose
///    last transaction id cannot be read (corrupt). The records' history is not checked at open
///    (that grows with the journal's age): see check_sqlite_journal();
///  - a database without the journal's schema_version table that holds other tables (not a journal);
///  - a schema newer than journal_schema_version (written by a newer build: never downgraded);
///  - a journal another process holds: an exclusive lock (flock) on "<path>.lock" is held for the
///    journal's life, so a second switch on the same file stops at start; read-only tools (eftctl)
///    take no lock and read through WAL snapshots;
///  - a database another process holds a write transaction on (SQLITE_BUSY).
/// Older schemas are migrated in order, each migration in its own transaction.
std::unique_ptr<journal> open_sqlite_journal(const sqlite_journal_options& options,
                                             std::shared_ptr<const journal_keys> keys);

/// What check_sqlite_journal() found.
struct journal_check_result {
  bool ok = false;
  std::vector<std::string> problems;  ///< SQLite's own words, at most 100; empty when ok
  std::int64_t pages = 0;             ///< pages in the database file
  std::int64_t bytes = 0;             ///< pages times the page size
  double seconds = 0;                 ///< how long the check took
};

/// Checks every page of an SQLite journal (PRAGMA quick_check; integrity_check when `thorough`, which
/// also matches each index entry with its row), the records' history included: what opening the
/// journal does not do, so that a switch starts in the same time however old its journal is. Reads
/// one snapshot through its own read-only connection, so it runs beside a live switch; while it runs
/// the WAL cannot be copied back past that snapshot and grows with the traffic. Throws
/// journal_open_error for a file that is missing, not an SQLite database or not a journal.
journal_check_result check_sqlite_journal(const std::filesystem::path& path, bool thorough = false);

/// Opens an SQLite journal read-only for queries (eftctl): no lock file, no writer, no migration.
/// Writes (async_write, post, recover) are refused. Throws journal_open_error.
std::unique_ptr<journal> open_sqlite_journal_read_only(const std::filesystem::path& path,
                                                       std::shared_ptr<const journal_keys> keys);

/// Settings of the PostgreSQL journal: several switch processes share one database, each under an
/// instance name of its own.
struct postgresql_journal_options {
  /// libpq connection string or URI ("host=db1 dbname=eft user=eftswitch"), without a password: it
  /// comes from PGPASSWORD, ~/.pgpass or peer/certificate authentication. The tables live in the
  /// connection's current schema (set search_path with options=-csearch_path=NAME).
  std::string conninfo;
  std::string instance;  ///< this switch process's name (1..63 of A-Z a-z 0-9 _ . -)
  journal_durability durability = journal_durability::power_loss;  ///< see journal_durability
  std::size_t queue_limit = 65536;                                 ///< batches waiting at most; then journal_errc::busy
  std::size_t max_group = 8192;                                    ///< batches per commit at most
  /// After a lost connection, writes complete with journal_errc::io at once until this long has
  /// passed since the last attempt to reconnect.
  std::chrono::milliseconds reconnect_interval{500};
  /// How long a terminal may reverse an answered original; older originals are purged by the writer.
  std::chrono::seconds reversal_window{86400};
};

/// Opens (creating the tables when the schema is empty) the PostgreSQL journal of one instance and
/// starts its writer thread, which holds one connection for the journal's life.
///
/// Scope of an instance: records, SAF items and originals carry the instance that wrote them;
/// saf_items(), saf_depth(), recover() and last_host_stan() see this instance's only, so one switch
/// never sends, recovers or counts another live switch's items; query() returns every instance's
/// records. A terminal reversal's claim finds the originals of every instance (a terminal may reach
/// another switch after a failover) and queues the reversal under the claiming instance; a row lock
/// lets one of two instances claiming at once queue it. The purge removes every instance's originals
/// past the window (a retired instance's too).
/// next_txn_id() is unique across all instances: ids come in blocks of 65536 reserved from the
/// sequence txn_block (the next block is reserved by the writer when half of the current one is used).
///
/// A lost connection: the group being written completes with journal_errc::io (nothing of it is
/// committed), later writes too until a reconnection succeeds (tried at most every
/// reconnect_interval); then writing goes on. If on reconnection another process holds the instance,
/// the journal fails for good (journal_errc::closed).
///
/// Refuses, with journal_open_error and without writing to the database:
///  - a server that cannot be reached or authenticated, a conninfo that does not parse;
///  - a schema holding tables without the journal's eft_journal_version table (not a journal);
///  - a version newer than journal_schema_version (written by a newer build: never downgraded);
///  - a journal whose tables are missing (damaged);
///  - an instance another live process holds (a session-level advisory lock on the instance name,
///    held by the writer's connection, so it goes with the process, even at kill -9).
/// Older schemas are migrated in order, each migration in its own transaction, one process at a time.
std::unique_ptr<journal> open_postgresql_journal(const postgresql_journal_options& options,
                                                 std::shared_ptr<const journal_keys> keys);

/// Opens a PostgreSQL journal read-only for queries (eftctl): no instance lock, no writer, no
/// migration; saf_items() and saf_depth() show options.instance's items. Throws journal_open_error.
std::unique_ptr<journal> open_postgresql_journal_read_only(const postgresql_journal_options& options,
                                                           std::shared_ptr<const journal_keys> keys);

/// Whether a journal is opened to write (the switch; eftctl saf retry and purge) or to read only.
enum class journal_access : std::uint8_t { read_write, read_only };

/// The journal a deployment's journal: section names: SQLite (path) or PostgreSQL (conninfo,
/// instance), with its durability and queue limit. The one place that chooses the backend. Throws
/// journal_open_error (see open_sqlite_journal and open_postgresql_journal for the reasons).
std::unique_ptr<journal> open_journal(const config::journal_config& c, std::shared_ptr<const journal_keys> keys,
                                      journal_access access = journal_access::read_write);

/// Microseconds since the UNIX epoch now.
std::int64_t journal_now_us() noexcept;

}  // namespace eft::switch_core

template <>
struct std::is_error_code_enum<eft::switch_core::journal_errc> : std::true_type {};
