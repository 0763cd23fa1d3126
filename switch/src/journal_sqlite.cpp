// The SQLite journal: WAL mode, one writer thread, group commit.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <utility>

#include "eft/switch/journal.hpp"
#include "eft/switch/sqlite_wal_vfs.hpp"
#include "journal_queue.hpp"
#include "thread_name.hpp"

namespace eft::switch_core {

namespace {

// Migrations in order: entry i takes the schema from version i to version i + 1. A migration is
// never edited once released; a change of schema is a new entry.
constexpr const char* migrations[] = {
    // 1: journal records, the SAF queue.
    R"sql(
CREATE TABLE journal (
  id INTEGER PRIMARY KEY,
  txn_id INTEGER NOT NULL,
  event TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  terminal TEXT, pan_masked TEXT, pan_hash TEXT, mti TEXT, processing_code TEXT, amount TEXT,
  currency TEXT, terminal_stan TEXT, transmission TEXT, host_stan TEXT, rrn TEXT, route TEXT,
  link TEXT, rc TEXT, latency_us INTEGER, detail TEXT);
CREATE INDEX journal_txn ON journal (txn_id);
CREATE INDEX journal_at ON journal (at_us);
CREATE INDEX journal_terminal ON journal (terminal, at_us) WHERE terminal IS NOT NULL;
CREATE INDEX journal_rrn ON journal (rrn) WHERE rrn IS NOT NULL;
CREATE INDEX journal_pan_hash ON journal (pan_hash) WHERE pan_hash IS NOT NULL;
CREATE TABLE saf (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  txn_id INTEGER NOT NULL UNIQUE,
  link_group TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  mti TEXT NOT NULL,
  summary TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_us INTEGER NOT NULL DEFAULT 0,
  message BLOB NOT NULL);
CREATE INDEX saf_queue ON saf (link_group, state, seq);
)sql",
    // 2: originals. A forwarded request's reversal lives with its original, apart from the queue:
    // armed while the request is in flight, standby once answered (its terminal may still reverse
    // it), reversed once the reversal went to the queue (the queue holds the message from then on).
    R"sql(
CREATE TABLE original (
  txn_id INTEGER PRIMARY KEY,
  link_group TEXT NOT NULL,
  state TEXT NOT NULL,
  mti TEXT NOT NULL,
  summary TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  message BLOB);
CREATE INDEX original_armed ON original (txn_id) WHERE state = 'armed';
INSERT INTO original (txn_id, link_group, state, mti, summary, created_us, message)
  SELECT txn_id, link_group, 'armed', mti, summary, created_us, message FROM saf WHERE state = 'armed';
DELETE FROM saf WHERE state = 'armed';
)sql",
    // 3: each link's newest host STAN, read at start instead of searching the records backwards (for
    // a link silent for long that search read the whole history). The writer keeps it about once a
    // second; the row of link '' holds the newest record id it accounts for: records after that one
    // are searched at start (those of the last second before a crash).
    R"sql(
CREATE TABLE link_stan (link TEXT PRIMARY KEY, host_stan TEXT NOT NULL, id INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO link_stan (link, host_stan, id)
  SELECT link, host_stan, MAX(id) FROM journal
  WHERE (event = 'forwarded' OR event = 'reversed') AND host_stan <> '' AND link <> '' GROUP BY link;
INSERT INTO link_stan (link, host_stan, id) SELECT '', '', COALESCE(MAX(id), 0) FROM journal;
)sql",
    // 4: the look-up keys spread over their trees (terminal, RRN, PAN hash) leave the records'
    // indexes for a key table the writer fills late, sorted, many keys at a time: each index entry
    // made at its record's commit rewrote a page of its own. The records after journal_key_mark's id
    // may not have their keys entered yet; look-ups search those rows too (late_keys below).
    R"sql(
CREATE TABLE journal_key (k TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (k, id)) WITHOUT ROWID;
INSERT INTO journal_key (k, id)
  SELECT 't' || terminal, id FROM journal WHERE terminal IS NOT NULL
  UNION ALL SELECT 'r' || rrn, id FROM journal WHERE rrn IS NOT NULL
  UNION ALL SELECT 'p' || pan_hash, id FROM journal WHERE pan_hash IS NOT NULL
  ORDER BY 1, 2;
CREATE TABLE journal_key_mark (id INTEGER NOT NULL);
INSERT INTO journal_key_mark (id) SELECT COALESCE(MAX(id), 0) FROM journal;
DROP INDEX journal_terminal;
DROP INDEX journal_rrn;
DROP INDEX journal_pan_hash;
)sql",
    // 5: a PAN hash's key holds the hash's first 20 hex digits (80 bits), not all 64: the 'p' keys
    // were most of the key table's bytes. A look-up by PAN hash compares the records' whole hash.
    R"sql(
INSERT OR IGNORE INTO journal_key (k, id)
  SELECT substr(k, 1, 21), id FROM journal_key WHERE k >= 'p' AND k < 'q' AND length(k) > 21;
DELETE FROM journal_key WHERE k >= 'p' AND k < 'q' AND length(k) > 21;
)sql",
    // 6: the armed originals are found from original_mark's txn_id on (every armed one has that id
    // or a later one), not through an index: the index took an entry when a request was forwarded and
    // lost it when answered, a page of its own in nearly every commit. The writer knows which
    // originals it armed; it lowers the mark in the commit that arms an earlier one, and raises it
    // about once a second.
    R"sql(
CREATE TABLE original_mark (txn_id INTEGER NOT NULL);
INSERT INTO original_mark (txn_id)
  SELECT COALESCE((SELECT MIN(txn_id) FROM original WHERE state = 'armed'), (SELECT MAX(txn_id) + 1 FROM original), 0);
DROP INDEX original_armed;
)sql",
    // 7: the records are found by time through journal_time, not through an index on their times: the
    // index took an entry for every record, a page of its own in nearly every commit. The writer adds
    // a row about once a second for the records since the last one (the chunk ending at record id):
    // the earliest time among them, and the latest time of any record up to id. The latest times
    // never decrease, so the records timed at or after T all come after the last row whose latest
    // time is before T; those timed before T all lie in chunks whose earliest time is before T.
    // History gets a row per 4,096 records.
    R"sql(
CREATE TABLE journal_time (id INTEGER PRIMARY KEY, min_at INTEGER NOT NULL, max_at INTEGER NOT NULL);
INSERT INTO journal_time (id, min_at, max_at)
  SELECT MAX(id), MIN(at_us), MAX(latest) FROM (SELECT id, at_us, MAX(at_us) OVER (ORDER BY id) AS latest FROM journal)
  GROUP BY id / 4096;
CREATE INDEX journal_time_max ON journal_time (max_at, id);
DROP INDEX journal_at;
)sql",
};

// Checkpoints (WAL frames copied back into the database file) run on a thread of their own, so the
// writer does not stall on them. Once the WAL holds this many frames the writer checkpoints the few
// frames that thread left, which lets the next commit restart the WAL from its beginning. That last
// step syncs the WAL and the database file while every commit waits, so it is rare: at 8,192 frames
// (32 MB) it came about three times a second at 3,000 tps and set the p99 of the switch path (12-26
// ms); at 32,768 frames (128 MB) the p99 was 5.7-7.6 ms. The checkpoint thread syncs the database
// file after each of its passes, so that step's sync finds only the pages the writer copied itself
// (see sync_database_file).
constexpr int checkpoint_after_frames = 32768;
// The most the writer checkpoints itself (what the checkpoint thread has not copied yet) ...
constexpr int writer_checkpoint_frames = 1024;
// ... unless the WAL grew past this: then it checkpoints whatever is left, so the WAL stays bounded.
constexpr int wal_limit_frames = 131072;

// A PAN hash's look-up key holds this many of its hex digits (schema version 5 and newer): 80 bits
// tell the cards of any journal apart; a look-up still compares each found record's whole hash.
constexpr std::size_t pan_key_digits = 20;

// Originals past the reversal window are purged this many at most per commit, so a backlog never
// holds a commit up for long.
constexpr int purge_chunk = 2000;

// Late keys (schema version 4) are entered this many per commit at least, and at least twice as many
// as the commit brought, so the backlog never grows and no commit waits long for a batch.
constexpr std::size_t key_slice = 64;
// Late keys go into the key table this many to a statement: one statement's fixed cost (its step,
// reset and bindings cleared) for all of them.
constexpr std::size_t keys_per_insert = 16;

// In a journal older than schema version 7 (opened read-only), a terminal's keys are searched from the
// first record of a look-up's range on, less this much: records are timed by the threads that write
// them, a little out of id order.
constexpr std::int64_t window_slack_us = 60'000'000;

constexpr int known_version = static_cast<int>(std::size(migrations));

// The migrations that read every record, announced in a warning with the number of records.
struct slow_migration {
  const char* work;
  const char* pace;
};
const slow_migration* slow_migration_to(int version) {
  static constexpr slow_migration enter_keys{"entering the look-up keys of", "about 2 s a million records"};
  static constexpr slow_migration shorten_keys{"shortening the PAN-hash keys among the look-up keys of",
                                               "about 0.5 s a million records"};
  static constexpr slow_migration read_times{"reading the times of", "about 0.7 s a million records"};
  switch (version) {
    case 4:
      return &enter_keys;
    case 5:
      return &shorten_keys;
    case 7:
      return &read_times;
    default:
      return nullptr;
  }
}
static_assert(known_version == journal_schema_version);

// The journal's application_id (PRAGMA application_id): "EFTJ".
constexpr int application_id = 0x4546544A;

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;

struct stmt_closer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_closer>;

[[noreturn]] void refuse(const std::filesystem::path& path, const std::string& what) {
  throw journal_open_error("journal " + path.string() + ": " + what);
}

// A journal that cannot be trusted: `what` says why; it is never written to.
[[noreturn]] void refuse_corrupt(const std::filesystem::path& path, const std::string& what) {
  refuse(path, "corrupt (" + what + "); left untouched: restore it from a backup or move it aside to start a new one");
}

std::string errmsg(sqlite3* db) {
  return db != nullptr ? sqlite3_errmsg(db) : "out of memory";
}

stmt_ptr prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    throw journal_open_error(std::string("journal: cannot prepare a statement: ") + errmsg(db));
  }
  return stmt_ptr(s);
}

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  if (v.empty()) {
    sqlite3_bind_null(s, i);
  } else {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p != nullptr ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

// Runs SQL that returns no rows of interest; the SQLite result code.
int exec(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
}

// The single integer a pragma or query returns; nullopt with `rc` set on failure.
std::optional<std::int64_t> single_int(sqlite3* db, const char* sql, int& rc) {
  sqlite3_stmt* raw = nullptr;
  rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  if (rc != SQLITE_OK) return std::nullopt;
  const stmt_ptr s(raw);
  rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) {
    rc = SQLITE_OK;
    return sqlite3_column_int64(raw, 0);
  }
  if (rc == SQLITE_DONE) rc = SQLITE_OK;
  return std::nullopt;
}

// The tables the switch acts on at start and while it runs (the SAF queue, the originals that
// recovery arms and terminal reversals claim) and the schema's own, those present (an older schema
// has fewer). Their size is bounded by the reversal window, not by the journal's age.
std::vector<std::string> state_tables(sqlite3* db) {
  std::vector<std::string> out;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('schema_version', "
                         "'saf', 'original', 'original_mark', 'sqlite_sequence') ORDER BY name",
                         -1, &raw, nullptr) != SQLITE_OK) {
    return {"sqlite_schema"};  // the check of it reports what is wrong
  }
  const stmt_ptr s(raw);
  while (sqlite3_step(raw) == SQLITE_ROW) out.push_back(column_text(raw, 0));
  return out;
}

// PRAGMA quick_check (integrity_check when `thorough`: index entries against their rows too) of one
// table with its indexes, or of the whole database when `table` is empty. "ok" alone, or the problems
// found (at most `max_problems`), never an empty list.
std::vector<std::string> quick_check(sqlite3* db, const std::string& table, bool thorough, int max_problems) {
  std::string sql = thorough ? "PRAGMA integrity_check" : "PRAGMA quick_check";
  sql += table.empty() ? fmt::format("({})", max_problems) : fmt::format("(\"{}\")", table);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return {errmsg(db)};
  const stmt_ptr s(raw);
  std::vector<std::string> out;
  int rc = SQLITE_ROW;
  while (static_cast<int>(out.size()) < max_problems && (rc = sqlite3_step(raw)) == SQLITE_ROW) {
    out.push_back(column_text(raw, 0));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) out.push_back(errmsg(db));
  if (out.empty()) out.emplace_back("no answer from " + sql);
  return out;
}

using detail::queued_write;

// Through journal_time (schema version 7): the record id after which lies every record timed at or
// after `at` (an SQL expression), and the one up to which lies every record timed before `at`. The
// records after journal_time's last row (the last second's) are searched whole when any of them is
// timed before `at`.
std::string records_from(std::string_view at) {
  return fmt::format(
      "COALESCE((SELECT id FROM journal_time WHERE max_at < {} ORDER BY max_at DESC, id DESC LIMIT 1), 0)", at);
}
std::string records_before(std::string_view at) {
  return fmt::format(
      "(CASE WHEN (SELECT MIN(at_us) FROM journal WHERE id > (SELECT COALESCE(MAX(id), 0) FROM journal_time)) < {0} "
      "THEN 9223372036854775807 ELSE COALESCE((SELECT id FROM journal_time WHERE min_at < {0} ORDER BY id DESC "
      "LIMIT 1), 0) END)",
      at);
}

// Look-up keys held by the writer until entered ('t' terminal, 'r' RRN, 'p' PAN hash, then the value,
// with the record id and its transaction's): their text in one buffer, so that holding a key
// allocates nothing and sorting moves 24 bytes a key.
class late_key_batch {
 public:
  struct entry {
    std::uint32_t at;
    std::uint32_t size;
    std::int64_t id;
    std::int64_t txn;
  };

  void add(char kind, std::string_view value, std::int64_t id, std::int64_t txn) {
    entries_.push_back(
        entry{static_cast<std::uint32_t>(text_.size()), static_cast<std::uint32_t>(value.size() + 1), id, txn});
    text_ += kind;
    text_ += value;
  }
  std::string_view key(const entry& e) const { return {text_.data() + e.at, e.size}; }
  // In the key table's order: by key, then record id.
  void sort() {
    std::sort(entries_.begin(), entries_.end(), [this](const entry& a, const entry& b) {
      const int c = key(a).compare(key(b));
      return c < 0 || (c == 0 && a.id < b.id);
    });
  }
  // The record ids of `k` among entries from `from` on (sorted ones when `sorted`).
  void ids_of(std::string_view k, std::size_t from, bool sorted, std::vector<std::int64_t>& out) const {
    auto it = entries_.begin() + static_cast<std::ptrdiff_t>(from);
    if (sorted) {
      it = std::lower_bound(it, entries_.end(), k, [this](const entry& e, std::string_view v) { return key(e) < v; });
    }
    for (; it != entries_.end(); ++it) {
      if (key(*it) == k) {
        out.push_back(it->id);
      } else if (sorted) {
        break;
      }
    }
  }
  const std::vector<entry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  void clear() {
    entries_.clear();
    text_.clear();
  }
  void swap(late_key_batch& o) noexcept {
    entries_.swap(o.entries_);
    text_.swap(o.text_);
  }

 private:
  std::vector<entry> entries_;
  std::string text_;
};

class sqlite_journal final : public detail::queued_journal {
 public:
  sqlite_journal(const sqlite_journal_options& o, std::shared_ptr<const journal_keys> keys, bool read_only)
      : queued_journal(o.queue_limit, read_only), options_(o), keys_(std::move(keys)) {
    open_database();
    if (read_only_) return;
    prepare_statements();
    sqlite3_wal_hook(db_.get(), &sqlite_journal::wal_hook, this);
    checkpointer_ = std::thread([this] { checkpoint_loop(); });
    detail::name_thread(checkpointer_, "eft-checkpoint");
    writer_ = std::thread([this] { run(); });
    detail::name_thread(writer_, "eft-journal");
    queue_.poke();  // the first pass purges what passed the reversal window while the switch was down
  }

  ~sqlite_journal() override {
    try {
      close();
    } catch (...) {  // NOLINT(bugprone-empty-catch): destructors do not throw
    }
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  std::int64_t next_txn_id() noexcept override { return next_txn_.fetch_add(1, std::memory_order_relaxed); }

  std::vector<journal_record> query(const journal_query& q) override {
    std::string sql =
        "SELECT txn_id, event, at_us, terminal, pan_masked, pan_hash, mti, processing_code, amount, currency, "
        "terminal_stan, transmission, host_stan, rrn, route, link, rc, latency_us, detail FROM journal WHERE 1=1";
    if (key_table_) {
      // The keys entered, and the records after the mark whose keys may wait still in the writer.
      const auto keyed = [](const char* kind, const char* column, const char* param, const char* bound = "",
                            const std::string& key = {}) {
        return fmt::format(
            "SELECT id FROM journal_key WHERE k = '{0}' || {4}{3} UNION ALL SELECT id FROM journal WHERE id > "
            "(SELECT id FROM journal_key_mark) AND {1} = {2}{3}",
            kind, column, param, bound, key.empty() ? std::string(param) : key);
      };
      // A terminal's records in a time range: its keys from the first record of the range on, not all
      // of its history (before version 7, records timed a little out of id order: the bound has a margin).
      std::string from_bound;
      if (q.from_us != 0) {
        from_bound = time_table_
                         ? " AND id > " + records_from(":from")
                         : " AND id >= (SELECT id FROM journal WHERE at_us >= :from_bound ORDER BY at_us LIMIT 1)";
      }
      if (!q.terminal.empty()) {
        sql += " AND id IN (" + keyed("t", "terminal", ":terminal", from_bound.c_str()) + ")";
      }
      if (!q.rrn.empty()) {
        sql += " AND txn_id IN (SELECT txn_id FROM journal WHERE id IN (" + keyed("r", "rrn", ":rrn") + "))";
      }
      if (!q.pan_hash.empty()) {
        // The key holds the hash's first digits (schema version 5): the records' whole hash decides.
        const std::string key =
            short_pan_keys_ ? fmt::format("substr(:pan_hash, 1, {})", pan_key_digits) : std::string(":pan_hash");
        sql += " AND txn_id IN (SELECT txn_id FROM journal WHERE id IN (" +
               keyed("p", "pan_hash", ":pan_hash", "", key) + ") AND pan_hash = :pan_hash)";
      }
    } else {  // a journal of schema version 3 or older opened read-only: its records are indexed
      if (!q.terminal.empty()) sql += " AND terminal = :terminal";
      if (!q.rrn.empty()) sql += " AND txn_id IN (SELECT txn_id FROM journal WHERE rrn = :rrn)";
      if (!q.pan_hash.empty()) sql += " AND txn_id IN (SELECT txn_id FROM journal WHERE pan_hash = :pan_hash)";
    }
    if (q.txn_id != 0) sql += " AND txn_id = :txn";
    if (q.from_us != 0) sql += " AND at_us >= :from";
    if (q.to_us != 0) sql += " AND at_us < :to";
    if (time_table_) {  // a time range reads the records of its seconds, not the whole history
      if (q.from_us != 0) sql += " AND id > " + records_from(":from");
      if (q.to_us != 0) sql += " AND id <= " + records_before(":to");
    }
    sql += " ORDER BY id LIMIT :limit";
    const std::lock_guard lock(read_mutex_);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(reader(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return {};
    const stmt_ptr s(raw);
    const auto bind = [&](const char* name, const std::string& v) {
      if (const int i = sqlite3_bind_parameter_index(raw, name); i > 0) bind_text(raw, i, v);
    };
    const auto bind_int = [&](const char* name, std::int64_t v) {
      if (const int i = sqlite3_bind_parameter_index(raw, name); i > 0) sqlite3_bind_int64(raw, i, v);
    };
    bind(":terminal", q.terminal);
    bind(":rrn", q.rrn);
    bind(":pan_hash", q.pan_hash);
    bind_int(":txn", q.txn_id);
    bind_int(":from", q.from_us);
    bind_int(":from_bound", q.from_us - window_slack_us);
    bind_int(":to", q.to_us);
    bind_int(":limit", static_cast<std::int64_t>(q.limit));
    std::vector<journal_record> out;
    while (sqlite3_step(raw) == SQLITE_ROW) {
      journal_record r;
      r.txn_id = sqlite3_column_int64(raw, 0);
      r.event = parse_journal_event(column_text(raw, 1)).value_or(journal_event::received);
      r.at_us = sqlite3_column_int64(raw, 2);
      std::string* text[] = {
          &r.terminal,      &r.pan_masked,   &r.pan_hash,  &r.mti, &r.processing_code, &r.amount, &r.currency,
          &r.terminal_stan, &r.transmission, &r.host_stan, &r.rrn, &r.route,           &r.link,   &r.rc};
      for (int i = 0; i < static_cast<int>(std::size(text)); ++i) *text[i] = column_text(raw, 3 + i);
      r.latency_us = sqlite3_column_type(raw, 17) == SQLITE_NULL ? -1 : sqlite3_column_int64(raw, 17);
      r.detail = column_text(raw, 18);
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<saf_item> saf_items(std::string_view link_group, bool with_messages) override {
    // The queue in order, then the armed reversals of requests in flight (never unsealed here).
    const char* sql =
        "SELECT seq, txn_id, link_group, kind, state, mti, summary, created_us, attempts, next_attempt_us, message "
        "FROM saf WHERE (?1 IS NULL OR link_group = ?1) ORDER BY seq";
    const std::string armed_sql =
        "SELECT 0, txn_id, link_group, 'reversal', 'armed', mti, summary, created_us, 0, 0, NULL FROM original "
        "WHERE " +
        armed_originals() + " AND (?1 IS NULL OR link_group = ?1) ORDER BY txn_id";
    const std::lock_guard lock(read_mutex_);
    std::vector<saf_item> out;
    const std::string group(link_group);  // bound without a copy: must outlive the steps
    for (const char* q : {sql, armed_sql.c_str()}) {
      sqlite3_stmt* raw = nullptr;
      if (sqlite3_prepare_v2(reader(), q, -1, &raw, nullptr) != SQLITE_OK) return out;
      const stmt_ptr s(raw);
      bind_text(raw, 1, group);
      read_saf_rows(raw, with_messages, out);
    }
    return out;
  }

  std::vector<saf_stats> saf_depth() override {
    const std::string sql =
        "SELECT link_group, SUM(ready), SUM(armed), MIN(oldest) FROM ("
        "SELECT link_group, state = 'ready' AS ready, 0 AS armed, "
        "CASE WHEN state = 'ready' THEN created_us END AS oldest FROM saf "
        "UNION ALL SELECT link_group, 0, 1, NULL FROM original WHERE " +
        armed_originals() + ") GROUP BY link_group ORDER BY link_group";
    const std::lock_guard lock(read_mutex_);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(reader(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return {};
    const stmt_ptr s(raw);
    std::vector<saf_stats> out;
    while (sqlite3_step(raw) == SQLITE_ROW) {
      out.push_back(saf_stats{column_text(raw, 0), static_cast<std::size_t>(sqlite3_column_int64(raw, 1)),
                              static_cast<std::size_t>(sqlite3_column_int64(raw, 2)), sqlite3_column_int64(raw, 3)});
    }
    return out;
  }

  std::optional<std::uint32_t> last_host_stan(std::string_view link) override {
    // What the writer last kept for the link, or a newer record it had not kept yet: only the
    // records after its mark are searched, however long the journal.
    const char* sql =
        "SELECT host_stan FROM (SELECT host_stan, id FROM link_stan WHERE link = ?1 AND link <> '' UNION ALL "
        "SELECT host_stan, id FROM journal WHERE id > COALESCE((SELECT id FROM link_stan WHERE link = ''), 0) AND "
        "link = ?1 AND event IN ('forwarded', 'reversed') AND host_stan <> '') ORDER BY id DESC LIMIT 1";
    const std::lock_guard lock(read_mutex_);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(reader(), sql, -1, &raw, nullptr) != SQLITE_OK) return std::nullopt;
    const stmt_ptr s(raw);
    sqlite3_bind_text(raw, 1, link.data(), static_cast<int>(link.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(raw) != SQLITE_ROW) return std::nullopt;
    return detail::parse_host_stan(column_text(raw, 0));
  }

  std::size_t recover() override {
    if (read_only_) return 0;
    // Before traffic; the writer owns the connection, so recovery goes through it as one batch.
    std::vector<saf_item> armed;
    for (auto& it : saf_items({}, false)) {
      if (it.state == saf_state::armed) armed.push_back(std::move(it));
    }
    if (armed.empty()) return 0;
    if (!post(detail::recovery_batch(armed)) || !flush())
      throw journal_open_error("journal: recovery could not be written");
    return armed.size();
  }

  void close() override {
    if (!queue_.close()) return;
    if (writer_.joinable()) writer_.join();
    {
      const std::lock_guard lock(checkpoint_mutex_);
      checkpoint_stop_ = true;
    }
    checkpoint_wake_.notify_one();
    if (checkpointer_.joinable()) checkpointer_.join();
    stmts_.clear();
    db_.reset();
    reader_.reset();
    // Released only once the database is closed: another process may take the journal now.
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = -1;
  }

 private:
  // The condition that finds the armed originals: from the mark on (schema version 6 and newer), or
  // through the index of an older journal opened read-only.
  std::string armed_originals() const {
    return armed_mark_ ? "txn_id >= (SELECT txn_id FROM original_mark) AND state = 'armed'" : "state = 'armed'";
  }

  void read_saf_rows(sqlite3_stmt* raw, bool with_messages, std::vector<saf_item>& out) const {
    while (sqlite3_step(raw) == SQLITE_ROW) {
      saf_item it;
      it.seq = sqlite3_column_int64(raw, 0);
      it.txn_id = sqlite3_column_int64(raw, 1);
      it.link_group = column_text(raw, 2);
      it.kind = column_text(raw, 3) == "advice" ? saf_kind::advice : saf_kind::reversal;
      it.state = column_text(raw, 4) == "ready" ? saf_state::ready : saf_state::armed;
      it.mti = column_text(raw, 5);
      it.summary = column_text(raw, 6);
      it.created_us = sqlite3_column_int64(raw, 7);
      it.attempts = sqlite3_column_int64(raw, 8);
      it.next_attempt_us = sqlite3_column_int64(raw, 9);
      if (with_messages && keys_ && it.state == saf_state::ready) {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(raw, 10));
        const auto n = static_cast<std::size_t>(sqlite3_column_bytes(raw, 10));
        if (auto clear = keys_->unseal(crypto::byte_view(p, n))) it.message = std::move(*clear);
      }
      out.push_back(std::move(it));
    }
  }

  sqlite3* reader() {
    if (!reader_) {
      sqlite3* db = nullptr;
      if (sqlite3_open_v2(options_.path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) ==
          SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
      }
      reader_.reset(db);
    }
    return reader_.get();
  }

  // SQLite keeps allocation statistics by default, under a global mutex taken on every one of its
  // mallocs and frees (about 1 us of the writer's 47 per answer at 8,000 tps). Nothing here reads
  // them (sqlite3_memory_used, sqlite3_status). Set once per process at the first journal's open,
  // before SQLite initialises and before any other thread uses it (eftswitch and eftctl open their
  // journal at start-up); once SQLite runs it is refused (SQLITE_MISUSE) and the statistics stay on.
  static void without_allocation_statistics() {
    static const int rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)rc;
  }

  void open_database() {
    without_allocation_statistics();
    const auto& path = options_.path;
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    if (read_only_ && !exists) refuse(path, "no such file");
    if (!read_only_) take_lock_file();
    const int flags = read_only_ ? SQLITE_OPEN_READONLY
                                 : SQLITE_OPEN_READWRITE | (exists ? 0 : SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    sqlite3* raw = nullptr;
    // The writer's WAL writes go out a commit at a time (sqlite_wal_vfs.hpp).
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, read_only_ ? nullptr : detail::wal_coalescing_vfs());
    db_.reset(raw);
    if (rc != SQLITE_OK) refuse(path, "cannot be opened: " + errmsg(raw));
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, read_only_ ? 2000 : 200);
    check_readable(exists);
    if (read_only_) {
      int qrc = 0;
      key_table_ =
          single_int(db_.get(), "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'journal_key_mark'", qrc).value_or(0) >
          0;
      const auto version = single_int(db_.get(), "SELECT MAX(version) FROM schema_version", qrc).value_or(0);
      short_pan_keys_ = version >= 5;
      armed_mark_ = version >= 6;
      time_table_ = version >= 7;
      reader_ = std::move(db_);
      return;
    }
    configure();
    migrate();
    key_table_ = true;
    short_pan_keys_ = true;
    armed_mark_ = true;
    time_table_ = true;
    int qrc = 0;
    const auto max_txn =
        single_int(db_.get(),
                   "SELECT MAX(m) FROM (SELECT MAX(txn_id) AS m FROM journal UNION ALL SELECT MAX(txn_id) FROM saf "
                   "UNION ALL SELECT MAX(txn_id) FROM original)",
                   qrc);
    // Ids restarting from 1 would make a terminal's reversal or an operator's look-up find another
    // transaction: a journal whose last id cannot be read is not used.
    if (qrc != SQLITE_OK) {
      refuse_corrupt(options_.path, "the last transaction id cannot be read: " + errmsg(db_.get()));
    }
    next_txn_.store(std::max<std::int64_t>(max_txn.value_or(0), 0) + 1);
    load_link_stans();
    load_late_keys();
    load_armed();
    load_time();
    wal_bytes_seen_ = detail::wal_bytes_written(db_.get());  // the migrations' are not the writer's
    stats_.counts_wal_bytes = true;
  }

  // The host STANs of the records after link_stan's mark (written in the last second before a crash),
  // for the writer to keep at its first pass.
  void load_link_stans() {
    sqlite3* db = db_.get();
    int rc = 0;
    kept_id_ = single_int(db, "SELECT id FROM link_stan WHERE link = ''", rc).value_or(0);
    newest_id_ = std::max(kept_id_, single_int(db, "SELECT MAX(id) FROM journal", rc).value_or(0));
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db,
                           "SELECT link, host_stan, id FROM journal WHERE id > ?1 AND event IN ('forwarded', "
                           "'reversed') AND host_stan <> '' AND link <> '' ORDER BY id",
                           -1, &raw, nullptr) != SQLITE_OK) {
      refuse(options_.path, "cannot be read: " + errmsg(db));
    }
    const stmt_ptr s(raw);
    sqlite3_bind_int64(raw, 1, kept_id_);
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      link_stans_[column_text(raw, 0)] = {column_text(raw, 1), sqlite3_column_int64(raw, 2)};
    }
    if (rc != SQLITE_DONE) {
      refuse_corrupt(options_.path, "its newest records cannot be read: " + errmsg(db));
    }
  }

  // The keys of the records after the key table's mark (not entered before the last stop or crash),
  // for the writer to enter again (entering is idempotent).
  void load_late_keys() {
    sqlite3* db = db_.get();
    int rc = 0;
    key_mark_ = single_int(db, "SELECT id FROM journal_key_mark", rc).value_or(0);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT id, terminal, rrn, pan_hash, txn_id FROM journal WHERE id > ?1 ORDER BY id", -1,
                           &raw, nullptr) != SQLITE_OK) {
      refuse(options_.path, "cannot be read: " + errmsg(db));
    }
    const stmt_ptr s(raw);
    sqlite3_bind_int64(raw, 1, key_mark_);
    journal_record r;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      r.terminal = column_text(raw, 1);
      r.rrn = column_text(raw, 2);
      r.pan_hash = column_text(raw, 3);
      r.txn_id = sqlite3_column_int64(raw, 4);
      keep_keys(r, sqlite3_column_int64(raw, 0));
    }
    if (rc != SQLITE_DONE) {
      refuse_corrupt(options_.path, "its newest records cannot be read: " + errmsg(db));
    }
    keys_brought_ = 0;
  }

  // journal_time's last row, and the times of the records after it (written in the last second before
  // a crash), for the writer's next row.
  void load_time() {
    sqlite3* db = db_.get();
    int rc = 0;
    int rc_latest = 0;
    time_id_ = single_int(db, "SELECT MAX(id) FROM journal_time", rc).value_or(0);
    const auto last_latest = single_int(db, "SELECT max_at FROM journal_time ORDER BY id DESC LIMIT 1", rc_latest);
    sqlite3_stmt* raw = nullptr;
    if (rc != SQLITE_OK || rc_latest != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT MIN(at_us), MAX(at_us) FROM journal WHERE id > ?1", -1, &raw, nullptr) !=
            SQLITE_OK) {
      refuse_corrupt(options_.path, "its record times cannot be read: " + errmsg(db));
    }
    const stmt_ptr s(raw);
    sqlite3_bind_int64(raw, 1, time_id_);
    if (sqlite3_step(raw) != SQLITE_ROW)
      refuse_corrupt(options_.path, "its record times cannot be read: " + errmsg(db));
    const bool tail = sqlite3_column_type(raw, 0) != SQLITE_NULL;  // records after the last row
    chunk_first_at_ = tail ? sqlite3_column_int64(raw, 0) : std::numeric_limits<std::int64_t>::max();
    latest_at_ = std::max<std::int64_t>(last_latest.value_or(std::numeric_limits<std::int64_t>::min()),
                                        tail ? sqlite3_column_int64(raw, 1) : std::numeric_limits<std::int64_t>::min());
  }

  // The armed originals (from the mark on), for the writer to follow from the start.
  void load_armed() {
    sqlite3* db = db_.get();
    int rc = 0;
    armed_mark_at_ = single_int(db, "SELECT txn_id FROM original_mark", rc).value_or(0);
    if (rc != SQLITE_OK) refuse_corrupt(options_.path, "its armed originals' mark cannot be read: " + errmsg(db));
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT txn_id FROM original WHERE txn_id >= ?1 AND state = 'armed'", -1, &raw,
                           nullptr) != SQLITE_OK) {
      refuse(options_.path, "cannot be read: " + errmsg(db));
    }
    const stmt_ptr s(raw);
    sqlite3_bind_int64(raw, 1, armed_mark_at_);
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) armed_.insert(armed_.end(), sqlite3_column_int64(raw, 0));
    if (rc != SQLITE_DONE) refuse_corrupt(options_.path, "its armed originals cannot be read: " + errmsg(db));
    newest_armed_ = armed_.empty() ? armed_mark_at_ - 1 : *armed_.rbegin();
  }

  // A second switch on the same journal stops here; the lock goes with the process (even kill -9).
  void take_lock_file() {
    const std::string lock_path = options_.path.string() + ".lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0) refuse(options_.path, "cannot open the lock file " + lock_path + ": " + std::strerror(errno));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      refuse(options_.path,
             "locked by another process (" + lock_path +
                 " is held): another eftswitch uses this journal; stop it or give this one its own journal.path");
    }
  }

  // Reads the header and checks the pages: a file that is not a journal is refused, never rewritten.
  void check_readable(bool exists) {
    sqlite3* db = db_.get();
    int rc = 0;
    const auto tables = single_int(db, "SELECT COUNT(*) FROM sqlite_schema", rc);
    if (rc == SQLITE_NOTADB)
      refuse(options_.path, "not an SQLite database (corrupt or another kind of file); left untouched");
    if ((rc & 0xFF) == SQLITE_BUSY) refuse(options_.path, "locked by another process (SQLite busy); left untouched");
    if (rc != SQLITE_OK) refuse(options_.path, "cannot be read: " + errmsg(db) + "; left untouched");
    if (!exists || tables.value_or(0) == 0) return;
    // The tables that recovery, the SAF and terminal reversals read, with their indexes: bounded by
    // the reversal window, not by the journal's age. The records' history is not read here (a
    // quick_check of all of it took 6.7 s for 3 million transactions, 1.9 GB, and grows every day):
    // check_sqlite_journal() and `eftctl journal --check` do that beside the running switch.
    for (const std::string& table : state_tables(db)) {
      const std::string verdict = quick_check(db, table, false, 10).front();
      if (verdict != "ok") {
        refuse_corrupt(options_.path, "quick_check of " + table + ": " + verdict);
      }
    }
    const auto app = single_int(db, "PRAGMA application_id", rc);
    const auto has_version =
        single_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'", rc);
    if (has_version.value_or(0) == 0 || app.value_or(0) != application_id) {
      refuse(options_.path,
             "an SQLite database that is not an eftswitch journal (no schema_version table or "
             "another application_id); left untouched");
    }
  }

  void configure() {
    sqlite3* db = db_.get();
    int rc = 0;
    // WAL: readers (eftctl) never block the writer; one fsync per group commit at most.
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &raw, nullptr) == SQLITE_OK) {
      const stmt_ptr s(raw);
      rc = sqlite3_step(raw);
      if (rc != SQLITE_ROW || column_text(raw, 0) != "wal") {
        if ((sqlite3_extended_errcode(db) & 0xFF) == SQLITE_BUSY) {
          refuse(options_.path, "locked by another process (SQLite busy); left untouched");
        }
        refuse(options_.path, "cannot switch to WAL mode: " + errmsg(db));
      }
    }
    const char* sync =
        options_.durability == journal_durability::power_loss ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    if (exec(db, sync) != SQLITE_OK) refuse(options_.path, "cannot set the durability: " + errmsg(db));
    (void)exec(db, "PRAGMA foreign_keys=OFF");
    // No automatic checkpoints in the writer: wal_hook() hands them to the checkpoint thread.
    (void)exec(db, "PRAGMA wal_autocheckpoint=0");
    // 8 MB of page cache: the right edge of each B-tree (where inserts go) and the busy leaves of the
    // key table (terminal, RRN, PAN hash). Not more: while the database is under 1 GB, each
    // commit scans every cached page (SQLite 3.40 parks a page at the page number after the 1 GB
    // lock byte during B-tree balancing, and the cache truncation at commit then walks its whole
    // hash table). With 64 MB that scan was 6 % of the switch's CPU (12-13 % of the writer's) in a 5 s run.
    (void)exec(db, "PRAGMA cache_size=-8192");
  }

  void migrate() {
    sqlite3* db = db_.get();
    if (exec(db, "BEGIN IMMEDIATE") != SQLITE_OK) {
      if ((sqlite3_extended_errcode(db) & 0xFF) == SQLITE_BUSY) {
        refuse(options_.path, "locked by another process (a write transaction is open); left untouched");
      }
      refuse(options_.path, "cannot be written: " + errmsg(db));
    }
    int rc = 0;
    const auto has = single_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'schema_version'", rc);
    int version = 0;
    if (has.value_or(0) == 0) {
      if (exec(db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_us INTEGER NOT NULL)") !=
          SQLITE_OK) {
        (void)exec(db, "ROLLBACK");
        refuse(options_.path, "cannot create the schema: " + errmsg(db));
      }
      (void)exec(db, fmt::format("PRAGMA application_id={}", application_id).c_str());
    } else {
      version = static_cast<int>(single_int(db, "SELECT MAX(version) FROM schema_version", rc).value_or(0));
    }
    if (version > known_version) {
      (void)exec(db, "ROLLBACK");
      refuse(options_.path, fmt::format("written by a newer eftswitch (schema version {}, this build knows up to {}); "
                                        "left untouched: run the newer build, never a downgrade",
                                        version, known_version));
    }
    if (exec(db, "COMMIT") != SQLITE_OK) refuse(options_.path, "cannot be written: " + errmsg(db));
    for (int v = version; v < known_version; ++v) {
      // Version 4 enters the look-up keys of the whole history once (6 s for a million
      // transactions, 3 million records, on 2 vCPUs), version 5 rewrites the PAN-hash keys among them
      // (1.5 s for a million transactions), version 7 reads every record's time (2.1 s for 2.9 million
      // records); the switch listens only after it.
      const slow_migration* slow = slow_migration_to(v + 1);
      const auto records = slow != nullptr ? single_int(db, "SELECT MAX(id) FROM journal", rc).value_or(0) : 0;
      if (version > 0 && records > 0) {
        spdlog::warn(
            "journal {}: migrating to schema version {}: {} up to {} records ({}); the switch listens once "
            "this is done",
            options_.path.string(), v + 1, slow->work, records, slow->pace);
      } else if (version > 0) {
        spdlog::info("journal {}: migrating to schema version {}", options_.path.string(), v + 1);
      }
      const std::string step = fmt::format("{}\nINSERT INTO schema_version (version, applied_us) VALUES ({}, {});",
                                           migrations[v], v + 1, journal_now_us());
      if (exec(db, "BEGIN IMMEDIATE") != SQLITE_OK || exec(db, step.c_str()) != SQLITE_OK) {
        const std::string why = errmsg(db);
        (void)exec(db, "ROLLBACK");
        refuse(options_.path, fmt::format("migration to schema version {} failed: {}", v + 1, why));
      }
      if (exec(db, "COMMIT") != SQLITE_OK) refuse(options_.path, "cannot be written: " + errmsg(db));
      if (version > 0) spdlog::info("journal {}: migrated to schema version {}", options_.path.string(), v + 1);
    }
  }

  enum stmt_id {
    insert_record,
    insert_saf,
    insert_original,
    ready_saf,
    reverse_original,
    standby_original,
    remove_saf,
    remove_original,
    acknowledge_saf,
    attempt_saf,
    retry_saf,
    find_original,
    find_original_at,
    insert_key,
    insert_keys,
    set_key_mark,
    set_armed_mark,
    insert_time,
    claim_saf,
    claim_original,
    purge_originals,
    upsert_link_stan,
    begin_group,
    commit_group,
    rollback_group,
    stmt_count
  };

  void prepare_statements() {
    sqlite3* db = db_.get();
    stmts_.resize(stmt_count);
    stmts_[insert_record] = prepare(
        db,
        "INSERT INTO journal (txn_id, event, at_us, terminal, pan_masked, pan_hash, mti, processing_code, amount, "
        "currency, terminal_stan, transmission, host_stan, rrn, route, link, rc, latency_us, detail) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    stmts_[insert_saf] =
        prepare(db,
                "INSERT OR REPLACE INTO saf (txn_id, link_group, kind, state, mti, summary, "
                "created_us, attempts, next_attempt_us, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    stmts_[insert_original] = prepare(db,
                                      "INSERT OR REPLACE INTO original (txn_id, link_group, state, mti, summary, "
                                      "created_us, message) VALUES (?, ?, 'armed', ?, ?, ?, ?)");
    // The armed reversal goes to the queue; the queue's copy is the one sent from now on. An item the
    // queue holds already for the transaction stays as it is (its attempts decide 0400 or 0401).
    stmts_[ready_saf] = prepare(db,
                                "INSERT OR IGNORE INTO saf (txn_id, link_group, kind, state, mti, summary, "
                                "created_us, attempts, next_attempt_us, message) SELECT txn_id, link_group, "
                                "'reversal', 'ready', mti, summary, created_us, 0, 0, message FROM original "
                                "WHERE txn_id = ? AND state = 'armed'");
    stmts_[reverse_original] =
        prepare(db, "UPDATE original SET state = 'reversed', message = NULL WHERE txn_id = ? AND state = 'armed'");
    stmts_[standby_original] =
        prepare(db, "UPDATE original SET state = 'standby' WHERE txn_id = ? AND state = 'armed'");
    stmts_[remove_saf] = prepare(db, "DELETE FROM saf WHERE txn_id = ?");
    stmts_[remove_original] = prepare(db, "DELETE FROM original WHERE txn_id = ? AND state = 'armed'");
    stmts_[acknowledge_saf] = prepare(db, "DELETE FROM saf WHERE txn_id = ? AND kind = ?");
    // A terminal's originals by the ids it gave them, newest first: those whose keys are entered
    // (from the first record of the reversal window on, found through journal_time) ...
    const std::string find_sql =
        "SELECT j.txn_id, j.amount, o.state FROM journal_key k JOIN journal j ON j.id = k.id JOIN original o ON "
        "o.txn_id = j.txn_id WHERE k.k = ?1 AND k.id > " +
        records_from("?4") +
        " AND j.event = 'received' AND j.terminal_stan = ?2 AND j.transmission = ?3 AND j.at_us >= ?4 ORDER BY "
        "k.id DESC";
    stmts_[find_original] = prepare(db, find_sql.c_str());
    // ... and one whose key waits in the writer, by its record id.
    stmts_[find_original_at] = prepare(db,
                                       "SELECT j.txn_id, j.amount, o.state FROM journal j JOIN original o ON "
                                       "o.txn_id = j.txn_id WHERE j.id = ?1 AND j.terminal = ?5 AND "
                                       "j.event = 'received' AND j.terminal_stan = ?2 AND j.transmission = ?3 AND "
                                       "j.at_us >= ?4");
    stmts_[insert_key] = prepare(db, "INSERT OR IGNORE INTO journal_key (k, id) VALUES (?, ?)");
    std::string many = "INSERT OR IGNORE INTO journal_key (k, id) VALUES (?, ?)";
    for (std::size_t i = 1; i < keys_per_insert; ++i) many += ", (?, ?)";
    stmts_[insert_keys] = prepare(db, many.c_str());
    stmts_[set_key_mark] = prepare(db, "UPDATE journal_key_mark SET id = ?");
    stmts_[set_armed_mark] = prepare(db, "UPDATE original_mark SET txn_id = ?");
    stmts_[insert_time] = prepare(db, "INSERT INTO journal_time (id, min_at, max_at) VALUES (?, ?, ?)");
    // A stand-in approval's advice still queued is replaced by the advice's reversal: sent or not,
    // the host ends with nothing to charge. Any other item of the transaction stays as it is.
    stmts_[claim_saf] = prepare(db,
                                "INSERT INTO saf (txn_id, link_group, kind, state, mti, summary, "
                                "created_us, attempts, next_attempt_us, message) SELECT txn_id, link_group, "
                                "'reversal', 'ready', mti, summary, ?2, 0, 0, message FROM original "
                                "WHERE txn_id = ?1 AND state = 'standby' ON CONFLICT (txn_id) DO UPDATE SET "
                                "link_group = excluded.link_group, kind = excluded.kind, state = excluded.state, "
                                "mti = excluded.mti, summary = excluded.summary, created_us = excluded.created_us, "
                                "attempts = 0, next_attempt_us = 0, message = excluded.message WHERE kind = 'advice'");
    stmts_[claim_original] =
        prepare(db, "UPDATE original SET state = 'reversed', message = NULL WHERE txn_id = ? AND state = 'standby'");
    // Originals are created in txn_id order: only the oldest chunk is looked at, never the whole table.
    stmts_[purge_originals] = prepare(db,
                                      "DELETE FROM original WHERE txn_id IN (SELECT txn_id FROM (SELECT txn_id, "
                                      "state, created_us FROM original ORDER BY txn_id LIMIT ?2) "
                                      "WHERE state <> 'armed' AND created_us < ?1)");
    stmts_[upsert_link_stan] = prepare(db,
                                       "INSERT INTO link_stan (link, host_stan, id) VALUES (?, ?, ?) ON CONFLICT "
                                       "(link) DO UPDATE SET host_stan = excluded.host_stan, id = excluded.id");
    stmts_[retry_saf] = prepare(db, "UPDATE saf SET next_attempt_us = 0 WHERE txn_id = ?");
    stmts_[attempt_saf] = prepare(db, "UPDATE saf SET attempts = attempts + 1, next_attempt_us = ? WHERE txn_id = ?");
    // Every group's transaction: compiled once instead of at each commit.
    stmts_[begin_group] = prepare(db, "BEGIN IMMEDIATE");
    stmts_[commit_group] = prepare(db, "COMMIT");
    stmts_[rollback_group] = prepare(db, "ROLLBACK");
  }

  // One step of a prepared statement; false on failure.
  static bool step_reset(sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE;
  }

  bool write(const journal_batch& b) {
    sqlite3_stmt* ins = stmts_[insert_record].get();
    for (const auto& r : b.records) {
      sqlite3_bind_int64(ins, 1, r.txn_id);
      const std::string_view ev = to_string(r.event);
      sqlite3_bind_text(ins, 2, ev.data(), static_cast<int>(ev.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 3, r.at_us);
      const std::string* text[] = {
          &r.terminal,      &r.pan_masked,   &r.pan_hash,  &r.mti, &r.processing_code, &r.amount, &r.currency,
          &r.terminal_stan, &r.transmission, &r.host_stan, &r.rrn, &r.route,           &r.link,   &r.rc};
      for (int i = 0; i < static_cast<int>(std::size(text)); ++i) bind_text(ins, 4 + i, *text[i]);
      if (r.latency_us >= 0) sqlite3_bind_int64(ins, 18, r.latency_us);
      bind_text(ins, 19, r.detail);
      if (!step_reset(ins)) return false;
      newest_id_ = sqlite3_last_insert_rowid(db_.get());
      chunk_first_at_ = std::min(chunk_first_at_, r.at_us);
      latest_at_ = std::max(latest_at_, r.at_us);
      keep_keys(r, newest_id_);
      if ((r.event == journal_event::forwarded || r.event == journal_event::reversed) && !r.host_stan.empty() &&
          !r.link.empty()) {
        link_stans_[r.link] = {r.host_stan, newest_id_};
      }
    }
    sqlite3_stmt* put = stmts_[insert_saf].get();
    sqlite3_stmt* arm = stmts_[insert_original].get();
    for (const auto& it : b.saf_put) {
      const std::vector<std::uint8_t> sealed = keys_ ? keys_->seal(it.message) : std::vector<std::uint8_t>();
      if (sealed.empty()) return false;  // never store a message in clear
      if (it.state == saf_state::armed) {
        sqlite3_bind_int64(arm, 1, it.txn_id);
        bind_text(arm, 2, it.link_group);
        bind_text(arm, 3, it.mti);
        sqlite3_bind_text(arm, 4, it.summary.data(), static_cast<int>(it.summary.size()), SQLITE_STATIC);
        sqlite3_bind_int64(arm, 5, it.created_us);
        sqlite3_bind_blob(arm, 6, sealed.data(), static_cast<int>(sealed.size()), SQLITE_STATIC);
        if (!step_reset(arm) || !note_armed(it.txn_id)) return false;
        continue;
      }
      const std::string kind(to_string(it.kind));
      const std::string state(to_string(it.state));
      sqlite3_bind_int64(put, 1, it.txn_id);
      bind_text(put, 2, it.link_group);
      bind_text(put, 3, kind);
      bind_text(put, 4, state);
      bind_text(put, 5, it.mti);
      sqlite3_bind_text(put, 6, it.summary.data(), static_cast<int>(it.summary.size()), SQLITE_STATIC);
      sqlite3_bind_int64(put, 7, it.created_us);
      sqlite3_bind_int64(put, 8, it.attempts);
      sqlite3_bind_int64(put, 9, it.next_attempt_us);
      sqlite3_bind_blob(put, 10, sealed.data(), static_cast<int>(sealed.size()), SQLITE_STATIC);
      if (!step_reset(put)) return false;
    }
    for (const auto id : b.saf_make_ready) {
      if (!step_with_id(ready_saf, id) || !step_with_id(reverse_original, id)) return false;
      armed_.erase(id);
    }
    for (const auto id : b.saf_standby) {
      if (!step_with_id(standby_original, id)) return false;
      armed_.erase(id);
    }
    for (const auto& [id, next] : b.saf_attempts) {
      sqlite3_bind_int64(stmts_[attempt_saf].get(), 1, next);
      sqlite3_bind_int64(stmts_[attempt_saf].get(), 2, id);
      if (!step_reset(stmts_[attempt_saf].get())) return false;
    }
    for (const auto id : b.saf_retry_now) {
      sqlite3_bind_int64(stmts_[retry_saf].get(), 1, id);
      if (!step_reset(stmts_[retry_saf].get())) return false;
    }
    for (const auto id : b.saf_remove) {
      if (!step_with_id(remove_saf, id) || !step_with_id(remove_original, id)) return false;
      armed_.erase(id);
    }
    for (const auto& [id, kind] : b.saf_acknowledged) {
      sqlite3_stmt* s = stmts_[acknowledge_saf].get();
      const std::string_view k = to_string(kind);
      sqlite3_bind_int64(s, 1, id);
      sqlite3_bind_text(s, 2, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
      if (!step_reset(s)) return false;
    }
    return true;
  }

  // A journal_time row for the records since the last one, inside the group's transaction; false when
  // the database failed.
  bool keep_time() {
    if (newest_id_ == time_id_) return true;
    sqlite3_stmt* s = stmts_[insert_time].get();
    sqlite3_bind_int64(s, 1, newest_id_);
    sqlite3_bind_int64(s, 2, chunk_first_at_);
    sqlite3_bind_int64(s, 3, latest_at_);
    if (!step_reset(s)) return false;
    time_id_ = newest_id_;
    chunk_first_at_ = std::numeric_limits<std::int64_t>::max();
    return true;
  }

  // An original just armed, inside the group's transaction: an id before the mark moves the mark to it
  // (an earlier transaction forwarded late). False when the database failed.
  bool note_armed(std::int64_t txn_id) {
    armed_.insert(txn_id);
    newest_armed_ = std::max(newest_armed_, txn_id);
    if (txn_id >= armed_mark_at_) return true;
    armed_mark_at_ = txn_id;
    return step_with_id(set_armed_mark, txn_id);
  }

  // Raises the armed originals' mark to the oldest one still armed (past the newest one armed when
  // none is), inside the group's transaction; false when the database failed.
  bool keep_armed_mark() {
    const std::int64_t mark = armed_mark_wanted();
    if (mark <= armed_mark_at_) return true;
    armed_mark_at_ = mark;
    return step_with_id(set_armed_mark, mark);
  }

  // Each link's newest host STAN seen since the last call, and the newest record id as the mark,
  // inside the group's transaction; false when the database failed.
  bool keep_link_stans() {
    if (newest_id_ == kept_id_) return true;
    sqlite3_stmt* up = stmts_[upsert_link_stan].get();
    link_stans_[""] = {"", newest_id_};
    for (const auto& [link, seen] : link_stans_) {
      sqlite3_bind_text(up, 1, link.data(), static_cast<int>(link.size()), SQLITE_STATIC);  // '' too, not NULL
      sqlite3_bind_text(up, 2, seen.first.data(), static_cast<int>(seen.first.size()), SQLITE_STATIC);
      sqlite3_bind_int64(up, 3, seen.second);
      if (!step_reset(up)) return false;
    }
    link_stans_.clear();
    kept_id_ = newest_id_;
    return true;
  }

  bool step_with_id(stmt_id which, std::int64_t id) {
    sqlite3_stmt* s = stmts_[which].get();
    sqlite3_bind_int64(s, 1, id);
    return step_reset(s);
  }

  // The look-up keys of a record just written (or read back at open), held until entered.
  void keep_keys(const journal_record& r, std::int64_t id) {
    const auto keep = [&](char kind, std::string_view value) {
      if (value.empty()) return;
      pending_keys_.add(kind, value, id, r.txn_id);
      ++keys_brought_;
    };
    keep('t', r.terminal);
    keep('r', r.rrn);
    keep('p', std::string_view(r.pan_hash).substr(0, pan_key_digits));
  }

  // Enters late keys inside the group's transaction: once `late_keys` wait, they are sorted and
  // entered a slice per commit (all of them when `all`); the mark moves once a sorted batch is in
  // whole. False when the database failed.
  bool enter_keys(bool all) {
    const std::size_t brought = std::exchange(keys_brought_, 0);
    sqlite3_stmt* ins = stmts_[insert_key].get();
    for (;;) {
      if (entered_ == entering_keys_.size()) {
        if (pending_keys_.size() < std::max<std::size_t>(options_.late_keys, 1) && !(all && key_mark_ < newest_id_)) {
          return true;
        }
        entering_keys_.clear();
        entering_keys_.swap(pending_keys_);
        entering_keys_.sort();
        entered_ = 0;
        entering_mark_ = newest_id_;
      }
      const std::size_t left = entering_keys_.size() - entered_;
      const std::size_t n = all ? left : std::min(left, std::max(key_slice, 2 * brought));
      const auto& entries = entering_keys_.entries();
      // Entered keys_per_insert to a statement, the last few one at a time.
      sqlite3_stmt* many = stmts_[insert_keys].get();
      std::array<std::size_t, keys_per_insert> held{};
      std::size_t holding = 0;
      const auto bind_key = [&](sqlite3_stmt* s, int at, std::size_t i) {
        const std::string_view k = entering_keys_.key(entries[i]);
        sqlite3_bind_text(s, at, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
        sqlite3_bind_int64(s, at + 1, entries[i].id);
      };
      for (std::size_t i = entered_; i < entered_ + n; ++i) {
        const auto& e = entries[i];
        const std::string_view k = entering_keys_.key(e);
        // RRN and PAN-hash look-ups find transactions: one record of each is enough (a transaction's
        // forwarded and completed records carry the same host RRN). A terminal's finds records.
        if (k.front() != 't' && i > 0 && e.txn != 0 && entries[i - 1].txn == e.txn &&
            entering_keys_.key(entries[i - 1]) == k) {
          continue;
        }
        held[holding++] = i;
        if (holding < keys_per_insert) continue;
        for (std::size_t h = 0; h < holding; ++h) bind_key(many, static_cast<int>(2 * h + 1), held[h]);
        if (!step_reset(many)) return false;
        holding = 0;
      }
      for (std::size_t h = 0; h < holding; ++h) {
        bind_key(ins, 1, held[h]);
        if (!step_reset(ins)) return false;
      }
      entered_ += n;
      if (entered_ < entering_keys_.size()) return true;
      sqlite3_bind_int64(stmts_[set_key_mark].get(), 1, entering_mark_);
      if (!step_reset(stmts_[set_key_mark].get())) return false;
      key_mark_ = entering_mark_;
      entering_keys_.clear();
      entered_ = 0;
      if (!all) return true;
    }
  }

  // The record ids of a key the writer holds (not entered yet, or not known to be), newest first.
  std::vector<std::int64_t> held_ids(const std::string& key) const {
    std::vector<std::int64_t> ids;
    pending_keys_.ids_of(key, 0, false, ids);
    entering_keys_.ids_of(key, entered_, true, ids);
    std::sort(ids.begin(), ids.end(), std::greater<>());
    return ids;
  }

  // The first of a terminal's originals found by `find` (bound and stepped here) that has a verdict;
  // false when the database failed.
  static bool judge_found(sqlite3_stmt* find, const original_ref& ref, original_claim& out) {
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(find)) == SQLITE_ROW) {
      const auto verdict = detail::judge_original(ref, column_text(find, 1), column_text(find, 2));
      if (!verdict) continue;
      out.status = *verdict;
      out.txn_id = sqlite3_column_int64(find, 0);
      rc = SQLITE_DONE;
      break;
    }
    sqlite3_reset(find);
    sqlite3_clear_bindings(find);
    return rc == SQLITE_DONE;
  }

  // A terminal reversal's claim, inside the group's transaction; false when the database failed.
  bool claim(const original_ref& ref, original_claim& out) {
    out = original_claim{};
    const std::int64_t window_start = journal_now_us() - std::int64_t{options_.reversal_window.count()} * 1000000;
    const std::string key = "t" + ref.terminal;
    const auto bind = [&](sqlite3_stmt* find) {
      bind_text(find, 2, ref.terminal_stan);
      bind_text(find, 3, ref.transmission);
      sqlite3_bind_int64(find, 4, window_start);
    };
    bool found = false;
    for (const std::int64_t id : held_ids(key)) {
      sqlite3_stmt* find = stmts_[find_original_at].get();
      sqlite3_bind_int64(find, 1, id);
      bind(find);
      bind_text(find, 5, ref.terminal);
      if (!judge_found(find, ref, out)) return false;
      if ((found = out.txn_id != 0)) break;
    }
    if (!found) {
      sqlite3_stmt* find = stmts_[find_original].get();
      sqlite3_bind_text(find, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
      bind(find);
      if (!judge_found(find, ref, out)) return false;
    }
    if (out.status != original_claim_status::claimed) return true;
    sqlite3_stmt* take = stmts_[claim_saf].get();
    sqlite3_bind_int64(take, 1, out.txn_id);
    sqlite3_bind_int64(take, 2, journal_now_us());
    return step_reset(take) && step_with_id(claim_original, out.txn_id);
  }

  // Removes originals older than the reversal window (not armed ones), a chunk at a time; true when
  // a full chunk went (more may wait).
  bool purge(bool& ok) {
    sqlite3_stmt* del = stmts_[purge_originals].get();
    sqlite3_bind_int64(del, 1, journal_now_us() - std::int64_t{options_.reversal_window.count()} * 1000000);
    sqlite3_bind_int(del, 2, purge_chunk);
    ok = step_reset(del);
    return ok && sqlite3_changes(db_.get()) >= purge_chunk;
  }

  // The writer: takes what is queued, writes it in one transaction, commits once, completes.
  void run() {
    std::vector<queued_write> group;
    auto next_purge = std::chrono::steady_clock::now();  // at start, then about once a second
    while (queue_.take(group, options_.max_group)) {
      (void)queue_.poked();
      std::error_code result;
      sqlite3* db = db_.get();
      const auto now = std::chrono::steady_clock::now();
      const bool purge_due = now >= next_purge;
      if (group.empty() && !purge_due) continue;
      if (failed_) {
        result = journal_errc::closed;
      } else {
        bool ok = step_reset(stmts_[begin_group].get());
        for (auto& q : group) {
          if (!ok) break;
          ok = q.claim_ref ? claim(*q.claim_ref, q.claim) : write(q.batch);
        }
        if (ok && purge_due) {
          // A full chunk: more is due at the next commit, else in a second.
          next_purge = purge(ok) ? now : now + std::chrono::seconds(1);
          ok = ok && keep_link_stans() && keep_armed_mark() && keep_time();
        }
        ok = ok && enter_keys(false);
        ok = ok && step_reset(stmts_[commit_group].get());
        if (!ok) {
          spdlog::critical("journal {}: write failed: {}; refusing further transactions", options_.path.string(),
                           errmsg(db));
          if (sqlite3_get_autocommit(db) == 0) (void)step_reset(stmts_[rollback_group].get());
          failed_ = true;
          result = journal_errc::io;
        }
      }
      count_wal_bytes();
      finish(group, result, now);
    }
    // A clean stop leaves nothing for the next start to search.
    if (!failed_ && (newest_id_ != kept_id_ || newest_id_ != key_mark_ || newest_id_ != time_id_ ||
                     armed_mark_wanted() > armed_mark_at_)) {
      bool ok = step_reset(stmts_[begin_group].get()) && keep_link_stans() && enter_keys(true) && keep_armed_mark() &&
                keep_time() && step_reset(stmts_[commit_group].get());
      if (!ok && sqlite3_get_autocommit(db_.get()) == 0) (void)step_reset(stmts_[rollback_group].get());
      count_wal_bytes();
    }
  }

  std::int64_t armed_mark_wanted() const { return armed_.empty() ? newest_armed_ + 1 : *armed_.begin(); }

  // The WAL bytes of the writer's commits since the last call go to stats_ (the layer counts them
  // from the WAL's opening; its restarts do not reset that count).
  void count_wal_bytes() {
    const std::uint64_t written = detail::wal_bytes_written(db_.get());
    stats_.wal_bytes.add(written >= wal_bytes_seen_ ? written - wal_bytes_seen_ : written);
    wal_bytes_seen_ = written;
  }

  // After each commit, on the writer thread, with the number of frames in the WAL.
  static int wal_hook(void* self, sqlite3* db, const char* name, int frames) {
    auto* j = static_cast<sqlite_journal*>(self);
    if (frames < checkpoint_after_frames) return SQLITE_OK;
    // What the checkpoint thread left when it last finished (log frames, of which copied); a WAL
    // shorter than that log was restarted since, and nothing of it is copied.
    const std::uint64_t seen = j->checkpointed_.load(std::memory_order_acquire);
    const auto log = static_cast<int>(seen >> 32);
    const auto copied = static_cast<int>(seen & 0xFFFFFFFFU);
    const int left = frames >= log ? frames - copied : frames;
    if (frames >= wal_limit_frames) {
      // A checkpoint fails at once (SQLITE_BUSY) while another connection runs one. When commits come
      // faster than the checkpoint thread copies, it runs nearly all the time, and the WAL grew past
      // this bound (to 830 MB in a test on a loaded machine): its pass is waited for here.
      const std::lock_guard run(j->checkpoint_run_mutex_);
      (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (left <= writer_checkpoint_frames) {
      (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else {
      j->checkpoint_wake_.notify_one();
    }
    return SQLITE_OK;
  }

  // Writes the database file's dirty pages to disk (the checkpoint thread, after a pass that copied
  // frames). The writer's checkpoint that lets the WAL restart syncs the database file with every
  // commit waiting; SQLite's passive passes do not sync it (they never reach the WAL's end under
  // load), so that sync used to write everything copied since the last restart: at 8,000 tps 11-13
  // commits per 8 s took 5-10 ms. With the passes' pages on disk already, none took over 5 ms.
  // Power-loss safety is unchanged: SQLite still syncs before the WAL restarts.
  static void sync_database_file(sqlite3* db) {
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == nullptr ||
        file->pMethods == nullptr) {
      return;
    }
    (void)file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
  }

  // The checkpoint thread: on its own connection, copies WAL frames into the database file while
  // the writer goes on committing (a passive checkpoint never blocks the writer).
  void checkpoint_loop() {
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(options_.path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      spdlog::warn("journal {}: no checkpoint thread ({}); the WAL grows until the writer checkpoints it",
                   options_.path.string(), errmsg(raw));
      sqlite3_close_v2(raw);
      return;
    }
    const db_ptr db(raw);
    (void)exec(raw, options_.durability == journal_durability::power_loss ? "PRAGMA synchronous=FULL"
                                                                          : "PRAGMA synchronous=NORMAL");
    std::unique_lock lock(checkpoint_mutex_);
    while (!checkpoint_stop_) {
      checkpoint_wake_.wait_for(lock, std::chrono::milliseconds(200));
      if (checkpoint_stop_) break;
      lock.unlock();
      int log = 0;
      int copied = 0;
      int rc = SQLITE_OK;
      {
        const std::lock_guard run(checkpoint_run_mutex_);
        rc = sqlite3_wal_checkpoint_v2(raw, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
      }
      if (rc == SQLITE_OK && copied > 0) sync_database_file(raw);
      if (rc == SQLITE_OK && log >= 0 && copied >= 0) {
        checkpointed_.store((static_cast<std::uint64_t>(log) << 32) | static_cast<std::uint32_t>(copied),
                            std::memory_order_release);
      }
      lock.lock();
    }
  }

  sqlite_journal_options options_;
  std::shared_ptr<const journal_keys> keys_;
  int lock_fd_ = -1;
  db_ptr db_;      // the writer's connection (writer thread only once started)
  db_ptr reader_;  // queries, under read_mutex_
  std::mutex read_mutex_;
  std::vector<stmt_ptr> stmts_;
  std::atomic<std::int64_t> next_txn_{1};
  // The writer's: each link's newest host STAN and its record id since link_stan was last written,
  // the newest record id written and the one link_stan accounts for.
  std::map<std::string, std::pair<std::string, std::int64_t>> link_stans_;
  std::int64_t newest_id_ = 0;
  std::int64_t kept_id_ = 0;
  // The writer's late keys ('t' terminal, 'r' RRN, 'p' PAN hash, with the record id): those waiting,
  // and a sorted batch being entered (entered_ of them so far), which holds every key of the records
  // up to entering_mark_; the key table holds every key of the records up to key_mark_.
  late_key_batch pending_keys_;
  late_key_batch entering_keys_;
  std::size_t entered_ = 0;
  std::size_t keys_brought_ = 0;
  std::uint64_t wal_bytes_seen_ = 0;  // the layer's count of WAL bytes at the last count_wal_bytes()
  std::int64_t entering_mark_ = 0;
  std::int64_t key_mark_ = 0;
  bool key_table_ = false;       // schema version 4 or newer: the spread keys are in journal_key
  bool short_pan_keys_ = false;  // schema version 5 or newer: PAN-hash keys hold pan_key_digits
  bool armed_mark_ = false;      // schema version 6 or newer: armed originals from original_mark's txn_id on
  bool time_table_ = false;      // schema version 7 or newer: records found by time through journal_time
  // The writer's: journal_time's last row (its record id), the earliest time of the records after it,
  // and the latest time of any record.
  std::int64_t time_id_ = 0;
  std::int64_t chunk_first_at_ = std::numeric_limits<std::int64_t>::max();
  std::int64_t latest_at_ = std::numeric_limits<std::int64_t>::min();
  // The writer's: the originals armed (exactly those of the database), the newest id ever armed, and
  // original_mark's txn_id (at most the first of armed_).
  std::set<std::int64_t> armed_;
  std::int64_t newest_armed_ = 0;
  std::int64_t armed_mark_at_ = 0;
  std::thread writer_;
  std::thread checkpointer_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  std::mutex checkpoint_run_mutex_;  // held by the checkpoint thread while it checkpoints
  bool checkpoint_stop_ = false;
  std::atomic<std::uint64_t> checkpointed_{0};  // (WAL frames << 32) | frames copied, at the last checkpoint
};

}  // namespace

std::unique_ptr<journal> open_sqlite_journal(const sqlite_journal_options& options,
                                             std::shared_ptr<const journal_keys> keys) {
  return std::make_unique<sqlite_journal>(options, std::move(keys), false);
}

journal_check_result check_sqlite_journal(const std::filesystem::path& path, bool thorough) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) refuse(path, "no such file");
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  const db_ptr db(raw);
  if (rc != SQLITE_OK) refuse(path, "cannot be opened: " + errmsg(raw));
  sqlite3_busy_timeout(raw, 2000);
  int qrc = 0;
  const auto app = single_int(raw, "PRAGMA application_id", qrc);
  if (qrc == SQLITE_NOTADB) refuse(path, "not an SQLite database (corrupt or another kind of file)");
  if (qrc != SQLITE_OK) refuse(path, "cannot be read: " + errmsg(raw));
  if (app.value_or(0) != application_id) refuse(path, "an SQLite database that is not an eftswitch journal");
  const auto started = std::chrono::steady_clock::now();
  journal_check_result out;
  out.pages = single_int(raw, "PRAGMA page_count", qrc).value_or(0);
  out.bytes = out.pages * single_int(raw, "PRAGMA page_size", qrc).value_or(0);
  out.problems = quick_check(raw, "", thorough, 100);
  out.ok = out.problems.size() == 1 && out.problems.front() == "ok";
  if (out.ok) out.problems.clear();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

std::unique_ptr<journal> open_sqlite_journal_read_only(const std::filesystem::path& path,
                                                       std::shared_ptr<const journal_keys> keys) {
  sqlite_journal_options o;
  o.path = path;
  return std::make_unique<sqlite_journal>(o, std::move(keys), true);
}

}  // namespace eft::switch_core
