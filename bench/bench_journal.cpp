// Journal throughput: transactions per second, each one three records (received, forwarded,
// completed) as the pipeline writes them, with group commit, beside a baseline measured in the same
// run: raw SQLite inserts of the same rows, one commit per transaction. The PostgreSQL backend runs
// in the same program: on a throw-away server it starts on 127.0.0.1 (fsync on, as in production),
// or on the server of --pg-conninfo=CONNINFO; --backend=sqlite skips it. journal_pipeline_pattern is
// the switch's own pattern (two awaited commits per transaction); journal_table_shape weighs today's
// three rows per transaction against one row, the row work alone; journal_open_aged what a start
// costs on a journal with a million transactions against a new one.
//
//   bench_journal --benchmark_counters_tabular=true [--backend=sqlite|postgresql|both] [--pg-conninfo=...]
// Goal: the journal sustains 50,000 transactions/s (150,000 records/s) with durability process_crash.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <sys/resource.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <random>

#include "eft/switch/journal.hpp"
#include "pg_server.hpp"

namespace {

namespace fs = std::filesystem;
using namespace eft::switch_core;

fs::path fresh_path(const char* name) {
  const fs::path dir = fs::temp_directory_path() / ("eft-bench-journal-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / name;
  for (const auto* suffix : {"", "-wal", "-shm", ".lock"}) fs::remove(p.string() + suffix);
  return p;
}

void remove_all() {
  std::error_code ec;
  fs::remove_all(fs::temp_directory_path() / ("eft-bench-journal-" + std::to_string(::getpid())), ec);
}

std::shared_ptr<const journal_keys> keys() {
  return std::make_shared<journal_keys>(std::vector<std::uint8_t>(32, 0x42));
}

// The three records of one transaction, as the pipeline fills them.
journal_batch transaction_records(std::int64_t id, const std::string& pan_hash, bool all_in_one) {
  journal_batch b;
  journal_record r;
  r.txn_id = id;
  r.at_us = journal_now_us();
  r.terminal = "TERM0001";
  r.pan_masked = "476173******0119";
  r.pan_hash = pan_hash;
  r.mti = "0200";
  r.processing_code = "000000";
  r.amount = "000000001000";
  r.currency = "978";
  r.terminal_stan = "000123";
  r.transmission = "1126071500";
  b.records.push_back(r);
  if (!all_in_one) return b;
  journal_record f;
  f.txn_id = id;
  f.event = journal_event::forwarded;
  f.at_us = r.at_us;
  f.host_stan = "004711";
  f.rrn = "633007004711";
  f.route = "visa";
  f.link = "acq1";
  b.records.push_back(f);
  journal_record c = f;
  c.event = journal_event::completed;
  c.rc = "00";
  c.latency_us = 1234;
  b.records.push_back(c);
  return b;
}

// The pipeline's pattern: received posted, forwarded awaited, completed awaited: three batches per
// transaction, many transactions in flight. Here all are posted and the run ends with one flush.
void journal_group_commit(benchmark::State& state, const std::function<std::unique_ptr<journal>()>& open) {
  auto j = open();
  const std::string h = keys()->pan_hash("4761739001010119");
  constexpr std::int64_t per_iteration = 20000;  // transactions, then a flush: all of them durable
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < per_iteration; ++i) {
      const std::int64_t id = j->next_txn_id();
      for (auto& r : transaction_records(id, h, true).records) {
        journal_batch one;
        one.records.push_back(r);
        while (!j->post(std::move(one))) {
          (void)j->flush();  // backpressure: wait for the writer as a session would
          one = journal_batch{};
          one.records.push_back(r);
        }
      }
    }
    (void)j->flush();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const auto n = static_cast<std::int64_t>(state.iterations()) * per_iteration;
  state.SetItemsProcessed(n);
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(n * 3), benchmark::Counter::kIsRate);
  j->close();
  remove_all();
}

// CPU time of the whole process (all threads), microseconds.
double process_cpu_us() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// The pipeline's pattern exactly, closed loop: `state.range(0)` transactions in flight on one I/O
// thread (coroutines, as terminal sessions are), each one: received posted, forwarded written with
// its armed reversal (sealed) and awaited, completed written with the reversal put on standby (for a
// terminal's reversal) and awaited. Groups are as small as the concurrency makes them, as in the
// switch. Reports transactions per second and the CPU time of the process per transaction (I/O
// thread and writer together). With `cards` above 100 (cards_1m: a million), the keys spread as in
// production: that many PAN hashes (a stand-in hash, not the keyed one: the same text shape, no
// HMAC in the measure) and a terminal per 50 cards.
void journal_pipeline_pattern(benchmark::State& state, const std::function<std::unique_ptr<journal>()>& open,
                              std::int64_t cards) {
  namespace asio = boost::asio;
  auto j = open();
  // 100 cards on 1,000 terminals, as a load run spreads them: index entries land all over the trees.
  std::vector<std::string> hashes;
  for (int c = 0; c < 100; ++c) hashes.push_back(keys()->pan_hash("47617390010" + std::to_string(10000 + c)));
  const std::int64_t terminals = std::max<std::int64_t>(1000, cards / 50);
  const auto hash_of = [&](std::int64_t id) -> std::string {
    if (cards <= 100) return hashes[static_cast<std::size_t>(id % 97)];
    std::uint64_t x = static_cast<std::uint64_t>(id * 7919 % cards);
    std::string out;
    for (int i = 0; i < 4; ++i) {  // splitmix64
      std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
      out += fmt::format("{:016x}", z ^ (z >> 31U));
    }
    return out;
  };
  const std::vector<std::uint8_t> reversal(180, 0x30);  // a packed 0400's size
  const auto in_flight = static_cast<int>(state.range(0));
  std::int64_t done = 0;
  double cpu_us = 0;
  for (auto _ : state) {
    asio::io_context io(1);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::int64_t n = 0;
    const double cpu0 = process_cpu_us();
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < in_flight; ++c) {
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
            while (std::chrono::steady_clock::now() < until) {
              const std::int64_t id = j->next_txn_id();
              journal_batch all = transaction_records(id, hash_of(id), true);
              // As the switch writes them: the terminal's own RRN on received (spread over the
              // terminals), the host link's on forwarded and completed (hour, then its STAN: rising).
              const std::int64_t terminal = id % terminals;
              all.records[0].terminal = "T" + std::to_string(1000000 + terminal);
              all.records[0].rrn =
                  std::to_string(100000 + terminal * 797 % 900000) + std::to_string(100000 + id / 1000);
              all.records[1].rrn = all.records[2].rrn = "733107" + std::to_string(100000 + id % 900000);
              journal_batch received;
              received.records.push_back(std::move(all.records[0]));
              (void)j->post(std::move(received));
              journal_batch forwarded;
              forwarded.records.push_back(std::move(all.records[1]));
              saf_item item;
              item.txn_id = id;
              item.link_group = "issuers";
              item.mti = "0400";
              item.summary = "0400 476173******0119 000000001000";
              item.created_us = journal_now_us();
              item.message = reversal;
              forwarded.saf_put.push_back(std::move(item));
              if (auto [ec] = co_await j->async_write(std::move(forwarded), tuple); ec) co_return;
              journal_batch completed;
              completed.records.push_back(std::move(all.records[2]));
              completed.saf_standby.push_back(id);  // kept for a terminal's reversal
              if (auto [ec] = co_await j->async_write(std::move(completed), tuple); ec) co_return;
              ++n;
            }
          },
          asio::detached);
    }
    io.run();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    cpu_us += process_cpu_us() - cpu0;
    done += n;
  }
  state.SetItemsProcessed(done);
  state.counters["cpu_us/txn"] = done > 0 ? cpu_us / static_cast<double>(done) : 0;
  j->close();
  remove_all();
}

// What a start costs against the journal's age: a journal holding `state.range(0)` transactions
// (three records each, keys spread as the switch writes them, host STANs on link "acq1"; the very
// first one forwarded on link "backup", silent since), then per iteration what eftswitch does before
// it listens: open the journal, read each link's newest host STAN, close. Beside it, in the same run,
// the full check that opening used to run (PRAGMA quick_check of every page): full_check_s.
void journal_open_aged(benchmark::State& state) {
  const fs::path path = fresh_path("aged.db");
  const std::int64_t transactions = state.range(0);
  {
    sqlite_journal_options o;
    o.path = path;
    o.durability = journal_durability::process_crash;
    auto j = open_sqlite_journal(o, keys());
    std::vector<std::string> hashes;
    for (int c = 0; c < 1000; ++c) hashes.push_back(keys()->pan_hash("47617390010" + std::to_string(10000 + c)));
    journal_batch b;
    for (std::int64_t i = 0; i < transactions; ++i) {
      const std::int64_t id = j->next_txn_id();
      journal_batch t = transaction_records(id, hashes[static_cast<std::size_t>(id % 1000)], true);
      const std::int64_t terminal = id % 20000;
      t.records[0].terminal = "T" + std::to_string(1000000 + terminal);
      t.records[0].rrn = std::to_string(100000 + terminal * 797 % 900000) + std::to_string(100000 + id / 20000);
      t.records[1].host_stan = t.records[2].host_stan = std::to_string(100000 + id % 900000);
      t.records[1].rrn = t.records[2].rrn = "733107" + t.records[1].host_stan;
      t.records[1].link = t.records[2].link = i == 0 ? "backup" : "acq1";
      for (auto& r : t.records) b.records.push_back(std::move(r));
      if (b.records.size() >= 3000) {
        while (!j->post(std::move(b))) (void)j->flush();
        b = journal_batch{};
      }
    }
    if (!b.records.empty()) (void)j->post(std::move(b));
    (void)j->flush();
  }
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    sqlite_journal_options o;
    o.path = path;
    auto j = open_sqlite_journal(o, keys());
    benchmark::DoNotOptimize(j->last_host_stan("acq1"));
    benchmark::DoNotOptimize(j->last_host_stan("backup"));
    j->close();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  state.counters["file_MB"] = static_cast<double>(fs::file_size(path)) / (1024.0 * 1024.0);
  state.counters["full_check_s"] = check_sqlite_journal(path).seconds;
  // The search for a link's newest STAN before link_stan: the records backwards, for the silent
  // link all of them.
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT host_stan FROM journal WHERE link = 'backup' AND event IN ('forwarded', 'reversed') "
                     "AND host_stan <> '' ORDER BY id DESC LIMIT 1",
                     -1, &q, nullptr);
  const auto start = std::chrono::steady_clock::now();
  benchmark::DoNotOptimize(sqlite3_step(q));
  state.counters["old_stan_search_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(q);
  sqlite3_close(db);
  remove_all();
}

// A journal record straight into the journal table, as the writer stores it (empty text as NULL).
sqlite3_stmt* prepare_journal_insert(sqlite3* db) {
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO journal (txn_id, event, at_us, terminal, pan_masked, pan_hash, mti, "
                     "processing_code, amount, currency, terminal_stan, transmission, host_stan, rrn, route, link, "
                     "rc, latency_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     -1, &ins, nullptr);
  return ins;
}

void insert_journal_row(sqlite3_stmt* ins, const journal_record& r) {
  sqlite3_bind_int64(ins, 1, r.txn_id);
  sqlite3_bind_text(ins, 2, to_string(r.event).data(), -1, SQLITE_STATIC);
  sqlite3_bind_int64(ins, 3, r.at_us);
  const std::string* text[] = {
      &r.terminal,      &r.pan_masked,   &r.pan_hash,  &r.mti, &r.processing_code, &r.amount, &r.currency,
      &r.terminal_stan, &r.transmission, &r.host_stan, &r.rrn, &r.route,           &r.link,   &r.rc};
  for (int i = 0; i < 14; ++i) {
    if (text[i]->empty()) {
      sqlite3_bind_null(ins, 4 + i);
    } else {
      sqlite3_bind_text(ins, 4 + i, text[i]->c_str(), -1, SQLITE_STATIC);  // r outlives the step
    }
  }
  sqlite3_bind_int64(ins, 18, r.latency_us);
  sqlite3_step(ins);
  sqlite3_reset(ins);
}

// Baseline: the same three rows per transaction straight into SQLite (same schema, same indexes),
// one transaction and one commit per payment transaction.
void raw_sqlite_commit_per_transaction(benchmark::State& state, bool full_sync) {
  const fs::path p = fresh_path("raw.db");
  {  // the journal's schema
    sqlite_journal_options o;
    o.path = p;
    open_sqlite_journal(o, keys())->close();
  }
  sqlite3* db = nullptr;
  sqlite3_open(p.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
  sqlite3_exec(db, full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = prepare_journal_insert(db);
  const std::string h = keys()->pan_hash("4761739001010119");
  std::int64_t id = 0;
  for (auto _ : state) {
    ++id;
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (const auto& r : transaction_records(id, h, true).records) insert_journal_row(ins, r);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 3), benchmark::Counter::kIsRate);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  remove_all();
}

// The journal's row work alone, in two table shapes, straight into SQLite on one thread as the writer
// runs it: each commit holds 50 transactions being forwarded and the completions of the 50 forwarded
// in the commit before (about 100 in flight), with the keys spread as the switch writes them
// (terminal, terminal RRN and PAN hash over 1,000 terminals and 100 cards; host RRN rising). No
// sealing, no queue, no threads: what the table shape costs, to weigh a schema change before making it.
//  - three_rows: the schema before version 4 (received, forwarded and completed rows, five indexes;
//    the original and its armed reversal, then put on standby); three_rows/late_N is version 4's;
//  - one_row: one row per transaction holding the request, the host's ids, the outcome and the sealed
//    reversal, inserted when forwarded and updated in place when completed; the same look-ups
//    (transaction id as the row id, time, terminal, RRNs, PAN hash, armed ones).
// With late keys (the /late_N variants) the look-ups whose keys are spread over their tree (terminal,
// RRN, PAN hash) are not indexes on the rows: their keys are kept in memory and entered, sorted, into
// one key table (key, row id) every N commits, inside that commit. Everything else is as without.
// With `aged`, that many transactions are written the same way before the measured ones, as in a
// journal with history; `cards` distinct PANs (and a terminal per 50 cards) spread the keys.
struct table_shape {
  bool one_row = false;
  int late_keys_every = 0;  // commits between two entries of the spread keys; 0: indexed on the rows
  int cards = 100;
  std::int64_t aged = 0;
};

void journal_table_shape(benchmark::State& state, table_shape shape) {
  const bool one_row = shape.one_row;
  const bool late = shape.late_keys_every > 0;
  const fs::path p = fresh_path(one_row ? "one-row.db" : "three-rows.db");
  if (!one_row) {
    sqlite_journal_options o;
    o.path = p;
    open_sqlite_journal(o, keys())->close();
  }
  sqlite3* db = nullptr;
  sqlite3_open(p.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
  if (one_row) {
    sqlite3_exec(db,
                 "CREATE TABLE txn (txn_id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, state TEXT NOT NULL, "
                 "terminal TEXT, pan_masked TEXT, pan_hash TEXT, mti TEXT, processing_code TEXT, amount TEXT, "
                 "currency TEXT, terminal_stan TEXT, transmission TEXT, terminal_rrn TEXT, host_stan TEXT, "
                 "host_rrn TEXT, route TEXT, link TEXT, rc TEXT, latency_us INTEGER, done_us INTEGER, reversal BLOB);"
                 "CREATE INDEX txn_at ON txn (at_us);"
                 "CREATE INDEX txn_host_rrn ON txn (host_rrn) WHERE host_rrn IS NOT NULL;"
                 "CREATE INDEX txn_armed ON txn (txn_id) WHERE state = 'armed';",
                 nullptr, nullptr, nullptr);
    if (!late) {
      sqlite3_exec(db,
                   "CREATE INDEX txn_terminal ON txn (terminal, at_us);"
                   "CREATE INDEX txn_terminal_rrn ON txn (terminal_rrn) WHERE terminal_rrn IS NOT NULL;"
                   "CREATE INDEX txn_pan_hash ON txn (pan_hash);",
                   nullptr, nullptr, nullptr);
    }
    if (late) {
      sqlite3_exec(db,
                   "CREATE TABLE journal_key (k TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (k, id)) WITHOUT ROWID",
                   nullptr, nullptr, nullptr);
    }
  } else if (!late) {  // the journal's schema before version 4: the spread keys indexed on the rows
    sqlite3_exec(db,
                 "CREATE INDEX journal_terminal ON journal (terminal, at_us) WHERE terminal IS NOT NULL;"
                 "CREATE INDEX journal_rrn ON journal (rrn) WHERE rrn IS NOT NULL;"
                 "CREATE INDEX journal_pan_hash ON journal (pan_hash) WHERE pan_hash IS NOT NULL;",
                 nullptr, nullptr, nullptr);
  }
  const auto prepare = [db](const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) std::cerr << sqlite3_errmsg(db) << "\n";
    return st;
  };
  sqlite3_stmt* begin = prepare("BEGIN IMMEDIATE");
  sqlite3_stmt* commit = prepare("COMMIT");
  sqlite3_stmt* ins =
      one_row ? prepare(
                    "INSERT INTO txn (txn_id, at_us, state, terminal, pan_masked, pan_hash, mti, processing_code, "
                    "amount, currency, terminal_stan, transmission, terminal_rrn, host_stan, host_rrn, route, "
                    "link, reversal) VALUES (?1, ?2, 'armed', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                    "?14, ?15, ?16, ?17)")
              : prepare_journal_insert(db);
  sqlite3_stmt* arm = one_row ? nullptr
                              : prepare(
                                    "INSERT INTO original (txn_id, link_group, state, mti, summary, created_us, "
                                    "message) VALUES (?, 'issuers', 'armed', '0400', ?, ?, ?)");
  sqlite3_stmt* done =
      prepare(one_row ? "UPDATE txn SET state = 'standby', rc = '00', latency_us = 1234, done_us = ?2 WHERE txn_id = ?1"
                      : "UPDATE original SET state = 'standby' WHERE txn_id = ? AND state = 'armed'");
  sqlite3_stmt* key = late ? prepare("INSERT INTO journal_key (k, id) VALUES (?, ?)") : nullptr;
  std::vector<std::pair<std::string, std::int64_t>> pending_keys;
  const auto keep_key = [&](char kind, const std::string& k, std::int64_t row) {
    if (late && !k.empty()) pending_keys.emplace_back(kind + k, row);
  };
  const std::vector<std::uint8_t> reversal(180, 0x30);  // a sealed 0400's size
  std::vector<std::string> hashes;
  for (int c = 0; c < shape.cards; ++c) hashes.push_back(keys()->pan_hash(std::to_string(4761739000000000 + c)));
  const std::int64_t terminals = std::max(1000, shape.cards / 50);
  const auto text = [](sqlite3_stmt* st, int i, const std::string& v) {
    if (v.empty()) {
      sqlite3_bind_null(st, i);
    } else {
      sqlite3_bind_text(st, i, v.c_str(), -1, SQLITE_STATIC);  // as insert_journal_row: v outlives the step
    }
  };
  constexpr int per_commit = 50;
  std::int64_t next = 1;
  std::int64_t done_n = 0;
  std::int64_t commits = 0;
  double cpu_us = 0;
  const auto one_commit = [&] {
    sqlite3_step(begin);
    sqlite3_reset(begin);
    for (std::int64_t id = next; id < next + per_commit; ++id) {  // forwarded now
      const std::size_t card = static_cast<std::size_t>(id * 7919 % static_cast<std::int64_t>(hashes.size()));
      journal_batch b = transaction_records(id, hashes[card], true);
      const std::int64_t terminal = id % terminals;
      journal_record& r = b.records[0];
      r.terminal = "T" + std::to_string(1000000 + terminal);
      r.rrn = std::to_string(100000 + terminal * 797 % 900000) + std::to_string(100000 + id / 1000);
      const std::string host_rrn = "733107" + std::to_string(100000 + id % 900000);
      if (one_row) {
        sqlite3_bind_int64(ins, 1, id);
        sqlite3_bind_int64(ins, 2, r.at_us);
        const std::string* v[] = {
            &r.terminal,         &r.pan_masked,     &r.pan_hash,     &r.mti, &r.processing_code,      &r.amount,
            &r.currency,         &r.terminal_stan,  &r.transmission, &r.rrn, &b.records[1].host_stan, &host_rrn,
            &b.records[1].route, &b.records[1].link};
        for (int i = 0; i < 14; ++i) text(ins, 3 + i, *v[i]);
        sqlite3_bind_blob(ins, 17, reversal.data(), static_cast<int>(reversal.size()), SQLITE_STATIC);
        sqlite3_step(ins);
        sqlite3_reset(ins);
        keep_key('t', r.terminal, id);
        keep_key('r', r.rrn, id);
        keep_key('p', r.pan_hash, id);
      } else {
        b.records[1].rrn = host_rrn;
        insert_journal_row(ins, r);
        const std::int64_t received_row = sqlite3_last_insert_rowid(db);
        keep_key('t', r.terminal, received_row);
        keep_key('r', r.rrn, received_row);
        keep_key('p', r.pan_hash, received_row);
        insert_journal_row(ins, b.records[1]);
        keep_key('r', host_rrn, sqlite3_last_insert_rowid(db));
        sqlite3_bind_int64(arm, 1, id);
        sqlite3_bind_text(arm, 2, "0400 476173******0119 000000001000", -1, SQLITE_STATIC);
        sqlite3_bind_int64(arm, 3, r.at_us);
        sqlite3_bind_blob(arm, 4, reversal.data(), static_cast<int>(reversal.size()), SQLITE_STATIC);
        sqlite3_step(arm);
        sqlite3_reset(arm);
      }
    }
    for (std::int64_t id = next - per_commit; id < next; ++id) {  // forwarded in the commit before: answered
      if (id < 1) continue;
      if (!one_row) {
        journal_record c = transaction_records(id, hashes[0], true).records[2];
        c.rrn = "733107" + std::to_string(100000 + id % 900000);
        insert_journal_row(ins, c);
        keep_key('r', c.rrn, sqlite3_last_insert_rowid(db));
      }
      sqlite3_bind_int64(done, 1, id);
      if (one_row) sqlite3_bind_int64(done, 2, journal_now_us());
      sqlite3_step(done);
      sqlite3_reset(done);
      ++done_n;
    }
    if (late && ++commits % shape.late_keys_every == 0) {
      std::sort(pending_keys.begin(), pending_keys.end());
      for (const auto& [k, row] : pending_keys) {
        sqlite3_bind_text(key, 1, k.c_str(), static_cast<int>(k.size()), SQLITE_STATIC);
        sqlite3_bind_int64(key, 2, row);
        sqlite3_step(key);
        sqlite3_reset(key);
      }
      pending_keys.clear();
    }
    sqlite3_step(commit);
    sqlite3_reset(commit);
    next += per_commit;
  };
  while (next <= shape.aged) one_commit();
  done_n = 0;
  for (auto _ : state) {
    const double cpu0 = process_cpu_us();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < until) one_commit();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    cpu_us += process_cpu_us() - cpu0;
  }
  state.SetItemsProcessed(done_n);
  state.counters["cpu_us/txn"] = done_n > 0 ? cpu_us / static_cast<double>(done_n) : 0;
  for (auto* st : {begin, commit, ins, arm, done, key}) sqlite3_finalize(st);
  sqlite3_close(db);
  remove_all();
}

std::function<std::unique_ptr<journal>()> sqlite_journal(
    journal_durability d, std::chrono::seconds reversal_window = std::chrono::seconds(86400)) {
  return [d, reversal_window] {
    sqlite_journal_options o;
    o.path = fresh_path("group.db");
    o.durability = d;
    o.reversal_window = reversal_window;
    o.queue_limit = 1 << 20;
    return open_sqlite_journal(o, keys());
  };
}

// Each run under an instance name of its own, so that a run never meets the previous run's lock.
std::function<std::unique_ptr<journal>()> postgresql_journal(std::string conninfo, journal_durability d) {
  return [conninfo = std::move(conninfo), d] {
    static int run = 0;
    postgresql_journal_options o;
    o.conninfo = conninfo;
    o.instance = "bench" + std::to_string(::getpid()) + "-" + std::to_string(++run);
    o.durability = d;
    o.queue_limit = 1 << 20;
    return open_postgresql_journal(o, keys());
  };
}

}  // namespace

int main(int argc, char** argv) {
  std::string backend = "both";
  std::string conninfo;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--backend=", 10) == 0) {
      backend = argv[i] + 10;
    } else if (std::strncmp(argv[i], "--pg-conninfo=", 14) == 0) {
      conninfo = argv[i] + 14;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (backend != "sqlite" && backend != "postgresql" && backend != "both") {
    std::cerr << "--backend must be sqlite, postgresql or both\n";
    return 2;
  }
  if (backend != "postgresql") {
    benchmark::RegisterBenchmark("raw_sqlite_commit_per_transaction/baseline_normal", raw_sqlite_commit_per_transaction,
                                 false)
        ->UseRealTime()
        ->MinTime(2.0);
    benchmark::RegisterBenchmark("raw_sqlite_commit_per_transaction/baseline_full_fsync",
                                 raw_sqlite_commit_per_transaction, true)
        ->UseRealTime()
        ->MinTime(2.0);
    for (const auto d : {journal_durability::process_crash, journal_durability::power_loss}) {
      const std::string name = std::string("journal_group_commit/sqlite/") +
                               (d == journal_durability::process_crash ? "process_crash" : "power_loss");
      benchmark::RegisterBenchmark(name.c_str(), journal_group_commit, sqlite_journal(d))
          ->UseManualTime()
          ->MinTime(2.0);
    }
    // A reversal window of a second: the purge of answered originals runs within the run, as in a
    // switch that has run longer than its window.
    for (const bool one_row : {false, true}) {
      for (const int every : {0, 20, 100}) {
        std::string name = one_row ? "journal_table_shape/one_row" : "journal_table_shape/three_rows";
        if (every > 0) name += "/late_" + std::to_string(every);
        benchmark::RegisterBenchmark(name.c_str(), journal_table_shape, table_shape{one_row, every})
            ->UseManualTime()
            ->Iterations(1);
      }
    }
    // Keys spread as in production (a million cards, 20,000 terminals), on a new journal and on one
    // holding a million transactions already.
    for (const std::int64_t aged : {std::int64_t{0}, std::int64_t{1000000}}) {
      for (const int every : {0, 100}) {
        std::string name = "journal_table_shape/three_rows";
        if (every > 0) name += "/late_" + std::to_string(every);
        name += "/cards_1m";
        if (aged > 0) name += "/aged_1m";
        benchmark::RegisterBenchmark(name.c_str(), journal_table_shape, table_shape{false, every, 1000000, aged})
            ->UseManualTime()
            ->Iterations(1);
      }
    }
    benchmark::RegisterBenchmark("journal_open_aged", journal_open_aged)
        ->Arg(0)
        ->Arg(1000000)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
    benchmark::RegisterBenchmark("journal_pipeline_pattern/sqlite", journal_pipeline_pattern,
                                 sqlite_journal(journal_durability::process_crash, std::chrono::seconds(1)), 100)
        ->Arg(10)
        ->Arg(100)
        ->Arg(1000)
        ->UseManualTime()
        ->Iterations(1);
    benchmark::RegisterBenchmark("journal_pipeline_pattern/sqlite/cards_1m", journal_pipeline_pattern,
                                 sqlite_journal(journal_durability::process_crash, std::chrono::seconds(1)), 1000000)
        ->Arg(100)
        ->UseManualTime()
        ->Iterations(3);
  }
  std::unique_ptr<eft::test::pg_server> server;
  if (backend != "sqlite") {
    if (conninfo.empty()) {
      if (const std::string why = eft::test::pg_server::unavailable(); !why.empty()) {
        std::cerr << "PostgreSQL skipped: " << why << "\n";
      } else {
        server = std::make_unique<eft::test::pg_server>(true);
        conninfo = server->conninfo();
      }
    }
    if (!conninfo.empty()) {
      for (const auto d : {journal_durability::process_crash, journal_durability::power_loss}) {
        const std::string name = std::string("journal_group_commit/postgresql/") +
                                 (d == journal_durability::process_crash ? "process_crash" : "power_loss");
        benchmark::RegisterBenchmark(name.c_str(), journal_group_commit, postgresql_journal(conninfo, d))
            ->UseManualTime()
            ->MinTime(2.0);
      }
      benchmark::RegisterBenchmark("journal_pipeline_pattern/postgresql", journal_pipeline_pattern,
                                   postgresql_journal(conninfo, journal_durability::process_crash), 100)
          ->Arg(10)
          ->Arg(100)
          ->Arg(1000)
          ->UseManualTime()
          ->Iterations(1);
    }
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
