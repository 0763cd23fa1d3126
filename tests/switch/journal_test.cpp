// The journal backends against the database itself: rows are read back with the sqlite3 C API or
// libpq, not through the journal's own queries. Backend-neutral cases run on SQLite and on a real
// PostgreSQL server started for the test (skipped only when its binaries are not installed).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/primitives.hpp"
#include "eft/switch/journal.hpp"
#include "eft/switch/sqlite_wal_vfs.hpp"
#include "pg_server.hpp"

namespace eft::switch_core {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;

constexpr std::string_view test_pan = "4761739001010119";

std::shared_ptr<const journal_keys> test_keys() {
  std::vector<std::uint8_t> k(32);
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return std::make_shared<journal_keys>(k);
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("eft-journal-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
    path_ = dir_ / "journal.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<journal> open(journal_durability d = journal_durability::process_crash) {
    sqlite_journal_options o;
    o.path = path_;
    o.durability = d;
    return open_sqlite_journal(o, test_keys());
  }
  // A journal whose writer enters the spread keys once `late_keys` wait.
  std::unique_ptr<journal> open_late(std::size_t late_keys) {
    sqlite_journal_options o;
    o.path = path_;
    o.durability = journal_durability::process_crash;
    o.late_keys = late_keys;
    return open_sqlite_journal(o, test_keys());
  }
  // Runs `body` in a child process that dies right after it with the journal `body` returns still
  // open (as a crash leaves it), and checks that `body` succeeded (returned a journal).
  static void crash_after(const std::function<std::unique_ptr<journal>()>& body) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        if (const auto j = body()) ::_exit(0);  // no clean stop
      } catch (...) {                           // NOLINT(bugprone-empty-catch): the exit code says it
      }
      ::_exit(1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  // Back to schema version 6 as an older build left it: the records' times indexed.
  void back_to_version_6() const {
    exec(
        "DROP TABLE journal_time; CREATE INDEX journal_at ON journal (at_us); "
        "DELETE FROM schema_version WHERE version >= 7");
  }
  // Back to schema version 5 as an older build left it: the armed originals indexed, no mark.
  void back_to_version_5() const {
    back_to_version_6();
    exec(
        "DROP TABLE original_mark; CREATE INDEX original_armed ON original (txn_id) WHERE state = 'armed'; "
        "DELETE FROM schema_version WHERE version >= 6");
  }
  // Back to schema version 3 as an older build left it: the spread keys indexed on the records.
  void back_to_version_3() const {
    back_to_version_5();
    exec(
        "DROP TABLE journal_key; DROP TABLE journal_key_mark; "
        "CREATE INDEX journal_terminal ON journal (terminal, at_us) WHERE terminal IS NOT NULL; "
        "CREATE INDEX journal_rrn ON journal (rrn) WHERE rrn IS NOT NULL; "
        "CREATE INDEX journal_pan_hash ON journal (pan_hash) WHERE pan_hash IS NOT NULL; "
        "DELETE FROM schema_version WHERE version >= 4");
  }
  // A count through the sqlite3 C API, on a connection of its own.
  std::int64_t count(const std::string& sql) const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    std::int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }
  std::string text(const std::string& sql) const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      if (const auto* p = sqlite3_column_text(s, 0)) out = reinterpret_cast<const char*>(p);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
  }
  void exec(const std::string& sql) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  // Every byte of the database and its WAL.
  std::string all_bytes() const {
    std::string out;
    for (const auto* suffix : {"", "-wal", "-shm"}) {
      std::ifstream in(path_.string() + suffix, std::ios::binary);
      out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return out;
  }

  fs::path dir_;
  fs::path path_;
};

enum class backend { sqlite, postgresql };

// The same contract on each backend: what a case checks in the database is read through SQL that
// both accept (COUNT, MAX, plain columns).
class JournalBackendTest : public JournalTest, public ::testing::WithParamInterface<backend> {
 protected:
  void SetUp() override {
    JournalTest::SetUp();
    if (GetParam() == backend::postgresql) {
      if (const std::string why = test::pg_server::unavailable(); !why.empty()) GTEST_SKIP() << why;
      pg_ = std::make_unique<test::pg_server>();
    }
  }
  void TearDown() override {
    pg_.reset();
    JournalTest::TearDown();
  }
  std::unique_ptr<journal> open(journal_durability d = journal_durability::process_crash,
                                std::size_t queue_limit = 65536,
                                std::chrono::seconds reversal_window = std::chrono::seconds(86400)) {
    if (GetParam() == backend::sqlite) {
      sqlite_journal_options o;
      o.path = path_;
      o.durability = d;
      o.queue_limit = queue_limit;
      o.reversal_window = reversal_window;
      return open_sqlite_journal(o, test_keys());
    }
    postgresql_journal_options o;
    o.conninfo = pg_->conninfo();
    o.instance = "sw1";
    o.durability = d;
    o.queue_limit = queue_limit;
    o.reversal_window = reversal_window;
    return open_postgresql_journal(o, test_keys());
  }
  std::int64_t count(const std::string& sql) const {
    if (GetParam() == backend::sqlite) return JournalTest::count(sql);
    bool ok = false;
    const std::string v = pg_->scalar(sql, &ok);
    return ok && !v.empty() ? std::stoll(v) : -1;
  }
  std::string text(const std::string& sql) const {
    return GetParam() == backend::sqlite ? JournalTest::text(sql) : pg_->scalar(sql);
  }
  void exec(const std::string& sql) const {
    if (GetParam() == backend::sqlite) {
      JournalTest::exec(sql);
      return;
    }
    bool ok = false;
    (void)pg_->scalar(sql, &ok);
    ASSERT_TRUE(ok) << sql;
  }
  // Everything the backend stored: the database files, or a pg_dump of the database.
  std::string stored_bytes() const { return GetParam() == backend::sqlite ? all_bytes() : pg_->dump(); }
  const char* version_table() const { return GetParam() == backend::sqlite ? "schema_version" : "eft_journal_version"; }
  std::int64_t tables_named(const std::string& name) const {
    return GetParam() == backend::sqlite
               ? count("SELECT COUNT(*) FROM sqlite_schema WHERE name = '" + name + "'")
               : count("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = '" + name +
                       "'");
  }

  std::unique_ptr<test::pg_server> pg_;
};

journal_record received(std::int64_t id, const journal_keys& k) {
  journal_record r;
  r.txn_id = id;
  r.event = journal_event::received;
  r.at_us = journal_now_us();
  r.terminal = "TERM0001";
  r.pan_masked = "476173******0119";
  r.pan_hash = k.pan_hash(test_pan);
  r.mti = "0200";
  r.processing_code = "000000";
  r.amount = "000000001000";
  r.currency = "978";
  r.terminal_stan = "000123";
  r.transmission = "1126071500";
  return r;
}

// An armed original of transaction `id`, as the pipeline posts it before forwarding.
saf_item armed_original(std::int64_t id) {
  saf_item it;
  it.txn_id = id;
  it.link_group = "acquirer";
  it.mti = "0400";
  it.summary = "0400 476173******0119 000000001000";
  it.created_us = journal_now_us();
  it.message = std::vector<std::uint8_t>(180, 0x30);
  return it;
}

TEST_F(JournalTest, CreatesAWalDatabaseAtTheCurrentSchemaVersion) {
  auto j = open();
  j->close();
  EXPECT_EQ(text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(count("SELECT MAX(version) FROM schema_version"), journal_schema_version);
  EXPECT_EQ(count("PRAGMA application_id"), 0x4546544A);
}

TEST_F(JournalTest, SqliteKeepsNoAllocationStatisticsForTheJournal) {
  // The statistics cost a global mutex per SQLite malloc and free; the journal turns them off
  // before SQLite initialises. SQLite then reports no memory in use. In a process of its own (the
  // threadsafe style runs this test alone in a fresh copy of the binary), so that nothing else
  // initialised SQLite first.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto j = open();
        journal_batch b;
        b.records.push_back(received(j->next_txn_id(), *test_keys()));
        (void)j->post(std::move(b));
        const bool flushed = j->flush();
        const sqlite3_int64 used = sqlite3_memory_used();
        j->close();
        std::exit(flushed && used == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// The names the threads of this process have (/proc/self/task/*/comm).
std::vector<std::string> thread_names() {
  std::vector<std::string> out;
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "comm");
    std::string name;
    if (std::getline(in, name)) out.push_back(name);
  }
  return out;
}

TEST_F(JournalTest, ItsThreadsAreNamedForOperators) {
  auto j = open();
  const auto names = thread_names();
  EXPECT_EQ(std::count(names.begin(), names.end(), "eft-journal"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "eft-checkpoint"), 1);
  j->close();
  const auto after = thread_names();
  EXPECT_EQ(std::count(after.begin(), after.end(), "eft-journal"), 0) << "close() joins its threads";
  EXPECT_EQ(std::count(after.begin(), after.end(), "eft-checkpoint"), 0);
}

// The WAL restarts from its beginning under steady writes, so its file stays bounded. Each commit
// here is a transaction of its own (the most frames per transaction), faster than the checkpoint
// thread can copy them, and more than twice the emergency bound of frames (131,072) goes through
// the WAL: a file within that bound has restarted.
TEST_F(JournalTest, TheWalRestartsUnderSteadyWritesAndStaysBounded) {
  auto j = open();
  constexpr std::uint64_t bound_frames = 131072 + 1024;  // the bound, and room for one commit
  constexpr std::uint64_t frames_to_write = 2 * bound_frames + 10000;
  constexpr std::uint64_t frame_bytes = 24 + 4096;
  const std::uint64_t calls_before = detail::wal_write_totals().received;
  std::uint64_t frames = 0;
  std::uintmax_t largest = 0;
  const fs::path wal = path_.string() + "-wal";
  const auto keys = test_keys();
  for (int i = 0; frames < frames_to_write; ++i) {
    journal_batch b;
    journal_record r;
    r.txn_id = j->next_txn_id();
    r.event = journal_event::received;
    r.at_us = journal_now_us();
    r.terminal = "T" + std::to_string(i % 1000);
    r.pan_hash = keys->pan_hash(std::string(test_pan.substr(0, 10)) + std::to_string(100000 + i));
    r.rrn = std::to_string(100000000000LL + (i * 7919LL) % 900000000000LL);
    r.amount = "000000001000";
    b.records.push_back(std::move(r));
    saf_item it;
    it.txn_id = b.records.back().txn_id;
    it.link_group = "acquirer";
    it.mti = "0400";
    it.summary = "0400 476173******0119";
    it.created_us = journal_now_us();
    it.message.assign(300, static_cast<std::uint8_t>('x'));
    b.saf_put.push_back(std::move(it));
    ASSERT_TRUE(j->post(std::move(b)));
    ASSERT_TRUE(j->flush());
    // SQLite writes a frame as two calls (header, page); the WAL header adds a few.
    frames = (detail::wal_write_totals().received - calls_before) / 2;
    if (i % 256 == 0) largest = std::max(largest, fs::file_size(wal));
  }
  largest = std::max(largest, fs::file_size(wal));
  // Without a restart the file would hold every frame written: more than twice this.
  EXPECT_LE(largest, bound_frames * frame_bytes) << frames << " frames written";
}

TEST_F(JournalTest, MigratesAVersionOneJournalsArmedReversalsToTheirOriginals) {
  std::int64_t id = 0;
  {
    auto j = open();
    id = j->next_txn_id();
    journal_batch b;
    saf_item it;
    it.txn_id = id;
    it.link_group = "acquirer";
    it.mti = "0400";
    it.summary = "0400 476173******0119";
    it.created_us = journal_now_us();
    it.message = {'0', '4', '0', '0'};
    b.saf_put.push_back(it);
    ASSERT_TRUE(j->post(std::move(b)));
    ASSERT_TRUE(j->flush());
  }
  // Back to version 1 as an older build left it: the armed reversal in the SAF queue.
  back_to_version_3();
  exec(
      "INSERT INTO saf (txn_id, link_group, kind, state, mti, summary, created_us, message) SELECT txn_id, link_group, "
      "'reversal', 'armed', mti, summary, created_us, message FROM original; DROP TABLE original; "
      "DROP TABLE link_stan; DELETE FROM schema_version WHERE version >= 2");
  ASSERT_EQ(count("SELECT COUNT(*) FROM saf WHERE state = 'armed'"), 1);
  auto j = open();
  EXPECT_EQ(count("SELECT MAX(version) FROM schema_version"), journal_schema_version);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE state = 'armed'"), 1);
  EXPECT_EQ(j->recover(), 1U);  // still reversed after the upgrade
  const auto items = j->saf_items({}, true);
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0].txn_id, id);
  EXPECT_EQ(items[0].message, (std::vector<std::uint8_t>{'0', '4', '0', '0'}));
}

TEST_P(JournalBackendTest, AsyncWriteCompletesOnTheCallersExecutorOnceTheRowsAreInTheDatabase) {
  auto j = open(journal_durability::power_loss);
  const auto keys = test_keys();
  asio::io_context io;
  std::error_code got = make_error_code(journal_errc::closed);
  std::thread::id completed_on;
  std::int64_t rows_at_completion = -1;
  std::atomic<bool> done{false};
  journal_batch b;
  b.records.push_back(received(j->next_txn_id(), *keys));
  // A plain handler has the system executor: it completes on a thread of the system pool.
  j->async_write(std::move(b), [&](std::error_code ec) {
    got = ec;
    completed_on = std::this_thread::get_id();
    rows_at_completion = count("SELECT COUNT(*) FROM journal");
    done = true;
  });
  for (int i = 0; i < 500 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(done.load());
  // With a token bound to io's executor the completion runs on this thread, inside io.run().
  std::error_code got2 = make_error_code(journal_errc::closed);
  journal_batch b2;
  b2.records.push_back(received(j->next_txn_id(), *keys));
  io.restart();
  asio::co_spawn(
      io,
      [](journal* jp, journal_batch batch, std::error_code* out) -> asio::awaitable<void> {
        auto [ec] = co_await jp->async_write(std::move(batch), asio::as_tuple(asio::use_awaitable));
        *out = ec;
      }(j.get(), std::move(b2), &got2),
      asio::detached);
  io.run_for(std::chrono::seconds(5));
  EXPECT_FALSE(got2) << got2.message();
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal"), 2);
  EXPECT_FALSE(got) << got.message();
  EXPECT_EQ(rows_at_completion, 1);  // durable (visible to another connection) when completed
  EXPECT_NE(completed_on, std::this_thread::get_id());
}

TEST_P(JournalBackendTest, RecordsHoldTheMaskedPanAndItsKeyedHashNeverTheFullPan) {
  auto j = open();
  const auto keys = test_keys();
  journal_batch b;
  b.records.push_back(received(j->next_txn_id(), *keys));
  saf_item it;
  it.txn_id = b.records[0].txn_id;
  it.link_group = "acquirer";
  it.mti = "0400";
  it.summary = "0400 476173******0119";
  it.message.assign(test_pan.begin(), test_pan.end());  // a message holding the PAN in clear
  it.state = saf_state::ready;
  b.saf_put.push_back(it);
  it.txn_id = j->next_txn_id();  // and an armed reversal, kept with its original
  it.state = saf_state::armed;
  b.saf_put.push_back(it);
  ASSERT_TRUE(j->post(std::move(b)));
  ASSERT_TRUE(j->flush());
  // The hash is HMAC-SHA256 under a key derived from the journal key, not a plain digest.
  const std::string h = text("SELECT pan_hash FROM journal");
  EXPECT_EQ(h.size(), 64U);
  std::vector<std::uint8_t> journal_key(32);
  for (std::size_t i = 0; i < journal_key.size(); ++i) journal_key[i] = static_cast<std::uint8_t>(i * 7 + 1);
  const std::string label = "eft journal pan hash v1";
  auto hash_key = crypto::hmac_sha256(
      journal_key, crypto::byte_view(reinterpret_cast<const std::uint8_t*>(label.data()), label.size()));
  ASSERT_TRUE(hash_key);
  const crypto::byte_view pan_bytes(reinterpret_cast<const std::uint8_t*>(test_pan.data()), test_pan.size());
  auto expected = crypto::hmac_sha256(*hash_key, pan_bytes);
  auto under_raw_key = crypto::hmac_sha256(journal_key, pan_bytes);
  ASSERT_TRUE(expected && under_raw_key);
  EXPECT_EQ(h, crypto::to_hex(*expected));
  EXPECT_NE(h, crypto::to_hex(*under_raw_key));
  EXPECT_EQ(text("SELECT pan_masked FROM journal"), "476173******0119");
  // The SAF message comes back in clear through the journal, and is sealed on disk.
  const auto items = j->saf_items("acquirer", true);
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(std::string(items[0].message.begin(), items[0].message.end()), test_pan);
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE message IS NOT NULL"), 1);
  j->close();
  const std::string bytes = stored_bytes();
  ASSERT_GT(bytes.size(), 4096U);
  EXPECT_EQ(bytes.find(test_pan), std::string::npos) << "the full PAN is in the journal";
  // pg_dump writes bytea as hex: the PAN's bytes must not be there either.
  std::string pan_hex;
  for (const char c : test_pan) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", static_cast<unsigned>(c));
    pan_hex += two;
  }
  EXPECT_EQ(bytes.find(pan_hex), std::string::npos) << "the full PAN is in the journal (hex)";
}

TEST_F(JournalTest, SealedMessagesRefuseTamperingAndOtherKeys) {
  const auto keys = test_keys();
  const std::vector<std::uint8_t> clear{'0', '4', '0', '0', 1, 2, 3};
  auto sealed = keys->seal(clear);
  ASSERT_EQ(sealed.size(), 16U + 16U + 32U);
  EXPECT_EQ(keys->unseal(sealed), clear);
  std::vector<std::uint8_t> other(32, 0x55);
  EXPECT_FALSE(journal_keys(other).unseal(sealed));
  sealed[20] ^= 1;
  EXPECT_FALSE(keys->unseal(sealed));
}

TEST_F(JournalTest, EachSealTakesAnIvOfItsOwnOnEveryThread) {
  // IVs come from a pool per thread, refilled every 64 seals: across refills and threads, no IV
  // repeats and every sealed message opens.
  const auto keys = test_keys();
  const std::vector<std::uint8_t> clear{'0', '4', '0', '0', 9, 8, 7, 6};
  constexpr int per_thread = 1000;
  std::vector<std::vector<std::uint8_t>> sealed[2];
  std::thread other([&] {
    for (int i = 0; i < per_thread; ++i) sealed[1].push_back(keys->seal(clear));
  });
  for (int i = 0; i < per_thread; ++i) sealed[0].push_back(keys->seal(clear));
  other.join();
  std::set<std::vector<std::uint8_t>> ivs;
  for (const auto& list : sealed) {
    for (const auto& s : list) {
      ASSERT_EQ(s.size(), 16U + 16U + 32U);
      EXPECT_EQ(keys->unseal(s), clear);
      ivs.emplace(s.begin(), s.begin() + 16);
    }
  }
  EXPECT_EQ(ivs.size(), 2U * per_thread) << "an IV was used twice";
  EXPECT_FALSE(ivs.contains(std::vector<std::uint8_t>(16, 0))) << "a wiped pool slot was used as an IV";
}

TEST_P(JournalBackendTest, GroupCommitPutsManyBatchesInOneTransaction) {
  auto j = open(journal_durability::power_loss);
  const auto keys = test_keys();
  std::atomic<int> done{0};
  constexpr int n = 5000;
  for (int i = 0; i < n; ++i) {
    journal_batch b;
    b.records.push_back(received(j->next_txn_id(), *keys));
    j->async_write(std::move(b), [&done](std::error_code ec) {
      if (!ec) done.fetch_add(1);
    });
  }
  ASSERT_TRUE(j->flush());
  for (int i = 0; i < 500 && done.load() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(done.load(), n);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT txn_id) FROM journal"), n);
  // The writer's stats say the same: every write and the flush marker committed, far fewer commits
  // than writes, a wait for each awaited write and a time for each commit.
  const journal_stats& st = j->stats();
  EXPECT_EQ(st.writes.get(), std::uint64_t{n} + 1);
  EXPECT_LT(st.commits.get(), std::uint64_t{n} / 4);
  EXPECT_EQ(st.commit.count(), st.commits.get());
  EXPECT_EQ(st.wait.count(), std::uint64_t{n});
}

TEST_P(JournalBackendTest, ItsStatsCountEachCommitAndTheWaitOfEachAwaitedWrite) {
  auto j = open(journal_durability::power_loss);
  const auto keys = test_keys();
  // One awaited write at a time, each waited for: a commit each (the SQLite writer also commits
  // its first purge of old originals on its own, right after open).
  constexpr int n = 3;
  const journal_stats& st = j->stats();
  std::uint64_t layer_bytes = 0;  // the WAL layer's count for the whole process, after the first write
  std::uint64_t counted = 0;
  for (int i = 0; i < n; ++i) {
    journal_batch b;
    b.records.push_back(received(j->next_txn_id(), *keys));
    std::promise<std::error_code> done;
    auto f = done.get_future();
    j->async_write(std::move(b), [&done](std::error_code ec) { done.set_value(ec); });
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_FALSE(f.get());
    if (i == 0) {
      layer_bytes = detail::wal_write_totals().received_bytes;
      counted = st.wal_bytes.get();
    }
  }
  if (GetParam() == backend::sqlite) {
    // The last two commits' WAL bytes: whole frames of a 4 KB page and its 24-byte header.
    EXPECT_TRUE(st.counts_wal_bytes);
    const std::uint64_t two = st.wal_bytes.get() - counted;
    EXPECT_EQ(two, detail::wal_write_totals().received_bytes - layer_bytes);
    EXPECT_GE(two, 2U * (24U + 4096U));
    EXPECT_EQ(two % (24U + 4096U), 0U);
    EXPECT_NE(st.status().find(" wal_mb=" + std::to_string(st.wal_bytes.get() >> 20U)), std::string::npos);
  } else {
    EXPECT_FALSE(st.counts_wal_bytes);
    EXPECT_EQ(st.wal_bytes.get(), 0U);
    EXPECT_EQ(st.status().find(" wal_mb="), std::string::npos);
  }
  EXPECT_EQ(st.writes.get(), std::uint64_t{n});
  EXPECT_GE(st.commits.get(), std::uint64_t{n});
  EXPECT_LE(st.commits.get(), std::uint64_t{n} + 1);
  EXPECT_EQ(st.commit.count(), st.commits.get());
  EXPECT_EQ(st.wait.count(), std::uint64_t{n});
  EXPECT_GT(st.commit.sum_us(), 0U);
  EXPECT_GT(st.wait.sum_us(), 0U);
  const std::string line = st.status();
  EXPECT_NE(line.find("journal commits=" + std::to_string(st.commits.get()) + " writes=3 commit_mean_us="),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(" wait_mean_us=" + std::to_string(st.wait.sum_us() / n)), std::string::npos) << line;
  // A posted batch is a write but nobody's wait; the flush marker is a write as well.
  journal_batch b;
  b.records.push_back(received(j->next_txn_id(), *keys));
  ASSERT_TRUE(j->post(std::move(b)));
  ASSERT_TRUE(j->flush());
  EXPECT_EQ(st.writes.get(), std::uint64_t{n} + 2);
  EXPECT_EQ(st.wait.count(), std::uint64_t{n});
  EXPECT_EQ(st.commit.count(), st.commits.get());
}

TEST_P(JournalBackendTest, CompletionsOfAGroupReachEachCallersOwnThreadInSubmissionOrder) {
  auto j = open();
  const auto keys = test_keys();
  constexpr int per_context = 300;
  struct side {
    asio::io_context io{1};
    std::thread::id thread;
    std::vector<int> order;  // completion order, appended on the context's own thread
    int wrong_thread = 0;
  };
  side sides[2];
  std::vector<std::thread> threads;
  for (auto& sd : sides) {
    // Writes are submitted from the context's thread, all at once, so one commit holds many of them.
    asio::post(sd.io, [&sd, &j, &keys] {
      sd.thread = std::this_thread::get_id();
      for (int i = 0; i < per_context; ++i) {
        journal_batch b;
        b.records.push_back(received(j->next_txn_id(), *keys));
        j->async_write(std::move(b), asio::bind_executor(sd.io, [&sd, i](std::error_code ec) {
                         if (ec) return;
                         if (std::this_thread::get_id() != sd.thread) ++sd.wrong_thread;
                         sd.order.push_back(i);
                       }));
      }
    });
    threads.emplace_back([&sd] { sd.io.run_for(std::chrono::seconds(10)); });
  }
  for (auto& t : threads) t.join();
  for (const auto& sd : sides) {
    ASSERT_EQ(sd.order.size(), static_cast<std::size_t>(per_context));
    EXPECT_EQ(sd.wrong_thread, 0);
    for (int i = 0; i < per_context; ++i) EXPECT_EQ(sd.order[static_cast<std::size_t>(i)], i);
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal"), 2 * per_context);
}

TEST_P(JournalBackendTest, AFullQueueAnswersBusyAtOnce) {
  auto j = open(journal_durability::process_crash, 1);
  int busy = 0;
  for (int i = 0; i < 2000; ++i) {
    journal_batch b;
    b.records.push_back(received(j->next_txn_id(), *test_keys()));
    if (!j->post(std::move(b))) ++busy;
  }
  EXPECT_GT(busy, 0);
  std::atomic<bool> got_busy{false};
  for (int i = 0; i < 2000 && !got_busy; ++i) {
    journal_batch b;
    b.records.push_back(received(1, *test_keys()));
    j->async_write(std::move(b), [&](std::error_code ec) {
      if (ec == journal_errc::busy) got_busy = true;
    });
  }
  ASSERT_TRUE(j->flush());
  for (int i = 0; i < 500 && !got_busy; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(got_busy);
}

TEST_P(JournalBackendTest, ArmedReversalsBecomeReadyAtRecoveryAndSettledOnesAreGone) {
  std::int64_t ids[3] = {};
  {
    auto j = open();
    journal_batch b;
    for (auto& id : ids) id = j->next_txn_id();
    for (std::int64_t id : ids) {
      saf_item it;
      it.txn_id = id;
      it.link_group = "acquirer";
      it.mti = "0400";
      it.summary = "0400";
      it.created_us = journal_now_us();
      it.message = {1, 2, 3};
      b.saf_put.push_back(it);
    }
    ASSERT_TRUE(j->post(std::move(b)));
    journal_batch settle;
    settle.saf_remove.push_back(ids[0]);      // answered in time
    settle.saf_make_ready.push_back(ids[1]);  // timed out
    ASSERT_TRUE(j->post(std::move(settle)));
    ASSERT_TRUE(j->flush());
    EXPECT_EQ(j->recover(), 0U + 1U);  // 3 was still armed: the "crash" happened with it in flight
    // kill -9 equivalent for the file: nothing more is written by this instance.
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf WHERE state = 'ready'"), 2);
  // The armed reversals lived with their originals; a removed one is gone, the others are reversed.
  EXPECT_EQ(count("SELECT COUNT(*) FROM original"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE state = 'reversed' AND message IS NULL"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal WHERE event = 'timed_out' AND txn_id = " + std::to_string(ids[2])), 1);
  auto j = open();
  EXPECT_EQ(j->recover(), 0U);
  EXPECT_GT(j->next_txn_id(), ids[2]);  // ids continue after the highest one journaled (SAF ids included)
  const auto depth = j->saf_depth();
  ASSERT_EQ(depth.size(), 1U);
  EXPECT_EQ(depth[0].ready, 2U);
  EXPECT_GT(depth[0].oldest_ready_us, 0);
}

// A forwarded original as the pipeline journals it: received (the terminal's ids), then forwarded
// with its armed reversal.
journal_batch forwarded_original(std::int64_t id, const journal_keys& k, const std::string& stan,
                                 std::int64_t at_us = journal_now_us()) {
  journal_batch b;
  journal_record r = received(id, k);
  r.terminal_stan = stan;
  r.at_us = at_us;
  journal_record f;
  f.txn_id = id;
  f.event = journal_event::forwarded;
  f.at_us = at_us;
  f.host_stan = stan;
  b.records = {r, f};
  saf_item it;
  it.txn_id = id;
  it.link_group = "acquirer";
  it.mti = "0400";
  it.summary = "0400 476173******0119 000000001000";
  it.created_us = at_us;
  it.message = {'0', '4', '0', '0', static_cast<std::uint8_t>(id & 0x7F)};
  b.saf_put.push_back(std::move(it));
  return b;
}

original_ref ref_of(const std::string& stan, const std::string& amount = "000000001000") {
  return original_ref{"TERM0001", stan, "1126071500", amount};
}

// Claims in order (queued back to back, as concurrent terminal reversals would be), then waits.
std::vector<original_claim> claim_all(journal& j, const std::vector<original_ref>& refs) {
  asio::io_context io;
  std::vector<original_claim> out(refs.size());
  std::vector<std::error_code> errors(refs.size());
  for (std::size_t i = 0; i < refs.size(); ++i) {
    j.async_claim_original(refs[i], asio::bind_executor(io, [&, i](std::error_code ec, original_claim c) {
                             errors[i] = ec;
                             out[i] = c;
                           }));
  }
  io.run();
  for (const auto& ec : errors) EXPECT_FALSE(ec) << ec.message();
  return out;
}

TEST_P(JournalBackendTest, AnAnsweredOriginalWaitsOnStandbyUntilItsTerminalReversesItOnce) {
  const auto keys = test_keys();
  std::int64_t answered = 0;
  std::int64_t timed_out = 0;
  std::int64_t in_flight = 0;
  {
    auto j = open();
    answered = j->next_txn_id();
    timed_out = j->next_txn_id();
    in_flight = j->next_txn_id();
    for (const auto& [id, stan] : {std::pair{answered, "000123"}, {timed_out, "000124"}, {in_flight, "000125"}}) {
      ASSERT_TRUE(j->post(forwarded_original(id, *keys, stan)));
    }
    journal_batch outcomes;
    outcomes.saf_standby.push_back(answered);
    outcomes.saf_make_ready.push_back(timed_out);
    ASSERT_TRUE(j->post(std::move(outcomes)));
    ASSERT_TRUE(j->flush());
    // Standby reversals are neither queued nor armed: the forwarder and the operators never see them.
    const auto items = j->saf_items({}, true);
    ASSERT_EQ(items.size(), 2U);
    EXPECT_EQ(items[0].txn_id, timed_out);
    EXPECT_EQ(items[0].state, saf_state::ready);
    EXPECT_EQ(items[1].txn_id, in_flight);
    EXPECT_EQ(items[1].state, saf_state::armed);
    EXPECT_TRUE(items[1].message.empty()) << "an armed reversal is never unsealed for a listing";
    const auto depth = j->saf_depth();
    ASSERT_EQ(depth.size(), 1U);
    EXPECT_EQ(depth[0].ready, 1U);
    EXPECT_EQ(depth[0].armed, 1U);

    const auto c = claim_all(*j, {ref_of("000123", "000000002000"),  // another amount
                                  ref_of("000999"),                  // never sent
                                  ref_of("000125"),                  // no outcome yet
                                  ref_of("000124"),                  // the switch reversed it already
                                  ref_of("000123"),                  // answered: claimed
                                  ref_of("000123")});                // a repeat (0401)
    EXPECT_EQ(c[0].status, original_claim_status::unknown);
    EXPECT_EQ(c[1].status, original_claim_status::unknown);
    EXPECT_EQ(c[2].status, original_claim_status::unknown);
    EXPECT_EQ(c[3].status, original_claim_status::already);
    EXPECT_EQ(c[3].txn_id, timed_out);
    EXPECT_EQ(c[4].status, original_claim_status::claimed);
    EXPECT_EQ(c[4].txn_id, answered);
    EXPECT_EQ(c[5].status, original_claim_status::already);
    const auto queued = j->saf_items({}, true);
    ASSERT_EQ(queued.size(), 3U);
    EXPECT_EQ(queued[1].txn_id, answered);
    EXPECT_EQ(queued[1].state, saf_state::ready);
    EXPECT_EQ(queued[1].mti, "0400");
    // The very reversal prepared when the original was forwarded.
    EXPECT_EQ(queued[1].message, (std::vector<std::uint8_t>{'0', '4', '0', '0', static_cast<std::uint8_t>(answered)}));
  }
  // After a restart (the in-flight one is recovered): the claim is remembered, nothing is queued twice.
  auto j = open();
  EXPECT_EQ(j->recover(), 1U);
  const auto c = claim_all(*j, {ref_of("000123"), ref_of("000125")});
  EXPECT_EQ(c[0].status, original_claim_status::already);
  EXPECT_EQ(c[1].status, original_claim_status::already);  // recovery reversed it
  EXPECT_EQ(j->saf_items({}, false).size(), 3U);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf WHERE state = 'ready'"), 3);
}

// A stand-in approval as the pipeline journals it: its 0220 advice queued, and the advice's 0420
// reversal kept on standby for the terminal.
journal_batch stand_in_approval(std::int64_t id, const journal_keys& k, const std::string& stan) {
  journal_batch b;
  journal_record r = received(id, k);
  r.terminal_stan = stan;
  b.records = {r};
  saf_item advice;
  advice.txn_id = id;
  advice.link_group = "acquirer";
  advice.kind = saf_kind::advice;
  advice.state = saf_state::ready;
  advice.mti = "0220";
  advice.summary = "0220 476173******0119 000000001000";
  advice.created_us = journal_now_us();
  advice.message = {'0', '2', '2', '0'};
  saf_item reversal = advice;
  reversal.kind = saf_kind::reversal;
  reversal.state = saf_state::armed;
  reversal.mti = "0420";
  reversal.message = {'0', '4', '2', '0'};
  b.saf_put = {advice, reversal};
  b.saf_standby.push_back(id);
  return b;
}

TEST_P(JournalBackendTest, AStandInAdviceItsTerminalReversesIsReplacedByItsReversalWhichTheAdvicesAckLeaves) {
  const auto keys = test_keys();
  auto j = open();
  const std::int64_t unsent = j->next_txn_id();
  const std::int64_t tried = j->next_txn_id();
  ASSERT_TRUE(j->post(stand_in_approval(unsent, *keys, "000201")));
  ASSERT_TRUE(j->post(stand_in_approval(tried, *keys, "000202")));
  journal_batch attempt;  // the forwarder sent this advice once, unacknowledged so far
  attempt.saf_attempts.emplace_back(tried, journal_now_us() + 60000000);
  ASSERT_TRUE(j->post(std::move(attempt)));
  ASSERT_TRUE(j->flush());
  auto items = j->saf_items({}, true);
  ASSERT_EQ(items.size(), 2U) << "the standby reversals are not in the queue";
  EXPECT_EQ(items[0].kind, saf_kind::advice);
  EXPECT_EQ(items[1].attempts, 1);

  const auto c = claim_all(*j, {ref_of("000201"), ref_of("000202"), ref_of("000202")});
  EXPECT_EQ(c[0].status, original_claim_status::claimed);
  EXPECT_EQ(c[0].txn_id, unsent);
  EXPECT_EQ(c[1].status, original_claim_status::claimed);
  EXPECT_EQ(c[1].txn_id, tried);
  EXPECT_EQ(c[2].status, original_claim_status::already);
  items = j->saf_items({}, true);
  ASSERT_EQ(items.size(), 2U);
  for (const auto& it : items) {
    EXPECT_EQ(it.kind, saf_kind::reversal) << it.txn_id;
    EXPECT_EQ(it.state, saf_state::ready);
    EXPECT_EQ(it.mti, "0420");
    EXPECT_EQ(it.attempts, 0) << "the reversal goes as a first send";
    EXPECT_EQ(it.next_attempt_us, 0);
    EXPECT_EQ(it.message, (std::vector<std::uint8_t>{'0', '4', '2', '0'}));
  }

  // The advice sent before the claim is acknowledged now: its reversal stays queued.
  journal_batch acked;
  acked.saf_acknowledged.emplace_back(tried, saf_kind::advice);
  ASSERT_TRUE(j->post(std::move(acked)));
  ASSERT_TRUE(j->flush());
  EXPECT_EQ(j->saf_items({}, false).size(), 2U);
  journal_batch reversed;
  reversed.saf_acknowledged.emplace_back(tried, saf_kind::reversal);
  reversed.saf_acknowledged.emplace_back(unsent, saf_kind::reversal);
  ASSERT_TRUE(j->post(std::move(reversed)));
  ASSERT_TRUE(j->flush());
  EXPECT_TRUE(j->saf_items({}, false).empty());
}

TEST_P(JournalBackendTest, OriginalsPastTheReversalWindowArePurgedButArmedOnesStay) {
  const auto keys = test_keys();
  const std::int64_t long_ago = journal_now_us() - 3600LL * 1000000;
  std::int64_t old_standby = 0;
  std::int64_t old_armed = 0;
  std::int64_t fresh = 0;
  {
    auto j = open();
    old_standby = j->next_txn_id();
    old_armed = j->next_txn_id();
    fresh = j->next_txn_id();
    ASSERT_TRUE(j->post(forwarded_original(old_standby, *keys, "000001", long_ago)));
    ASSERT_TRUE(j->post(forwarded_original(old_armed, *keys, "000002", long_ago)));
    ASSERT_TRUE(j->post(forwarded_original(fresh, *keys, "000003")));
    journal_batch outcomes;
    outcomes.saf_standby = {old_standby, fresh};
    ASSERT_TRUE(j->post(std::move(outcomes)));
    ASSERT_TRUE(j->flush());
    EXPECT_EQ(count("SELECT COUNT(*) FROM original"), 3);
  }
  // A window of a minute: the hour-old standby reversal goes at start; the armed one (a request whose
  // outcome is unknown) is never purged, and recovery still reverses it.
  auto j = open(journal_durability::process_crash, 65536, std::chrono::seconds(60));
  ASSERT_TRUE(j->flush());
  EXPECT_EQ(count("SELECT COUNT(*) FROM original"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE txn_id = " + std::to_string(old_standby)), 0);
  const auto c = claim_all(*j, {ref_of("000001"), ref_of("000003")});
  EXPECT_EQ(c[0].status, original_claim_status::unknown);
  EXPECT_EQ(c[1].status, original_claim_status::claimed);
  EXPECT_EQ(j->recover(), 1U);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf WHERE txn_id = " + std::to_string(old_armed)), 1);
}

TEST_P(JournalBackendTest, TheLastHostStanOfALinkIsItsNewestForwardedOrAcknowledgedOne) {
  auto j = open();
  EXPECT_FALSE(j->last_host_stan("issuer").has_value());
  journal_batch b;
  auto add = [&](journal_event e, const char* link, const char* stan) {
    journal_record r;
    r.txn_id = j->next_txn_id();
    r.event = e;
    r.at_us = journal_now_us();
    r.link = link;
    r.host_stan = stan;
    b.records.push_back(std::move(r));
  };
  add(journal_event::forwarded, "issuer", "999998");
  add(journal_event::forwarded, "other", "000500");
  add(journal_event::reversed, "issuer", "000007");     // the STAN went round: newest, not highest
  add(journal_event::late_answer, "issuer", "000900");  // an answer's STAN: not one this run sent
  ASSERT_TRUE(j->post(std::move(b)));
  ASSERT_TRUE(j->flush());
  EXPECT_EQ(j->last_host_stan("issuer"), 7U);
  EXPECT_EQ(j->last_host_stan("other"), 500U);
  EXPECT_FALSE(j->last_host_stan("none").has_value());
}

journal_record forwarded_on(std::int64_t id, const char* link, const char* stan) {
  journal_record r;
  r.txn_id = id;
  r.event = journal_event::forwarded;
  r.at_us = journal_now_us();
  r.link = link;
  r.host_stan = stan;
  return r;
}

// A start reads each link's newest STAN from link_stan, searching only the records after its mark:
// the records of the last second before a crash.
TEST_F(JournalTest, EachLinksNewestHostStanIsKeptAndTheRecordsAfterTheKeptOneAreSearchedAfterACrash) {
  crash_after([&] {
    auto j = open();
    const auto write = [&](std::vector<journal_record> rs) {
      journal_batch b;
      b.records = std::move(rs);
      return j->post(std::move(b)) && j->flush();
    };
    // The first group after the start; then one a second later (kept with it), then one right
    // after (not kept yet) and the process dies without closing the journal.
    if (!write({forwarded_on(j->next_txn_id(), "issuer", "000005")})) return std::unique_ptr<journal>();
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    const bool ok =
        write({forwarded_on(j->next_txn_id(), "issuer", "000009")}) &&
        write({forwarded_on(j->next_txn_id(), "issuer", "000012"), forwarded_on(j->next_txn_id(), "other", "000077")});
    return ok ? std::move(j) : nullptr;
  });
  EXPECT_EQ(text("SELECT host_stan FROM link_stan WHERE link = 'issuer'"), "000009");
  EXPECT_EQ(count("SELECT COUNT(*) FROM link_stan WHERE link = 'other'"), 0);
  EXPECT_EQ(count("SELECT id FROM link_stan WHERE link = ''"),
            count("SELECT id FROM journal WHERE host_stan = '000009'"));
  {
    auto j = open();
    EXPECT_EQ(j->last_host_stan("issuer"), 12U);
    EXPECT_EQ(j->last_host_stan("other"), 77U);
    EXPECT_FALSE(j->last_host_stan("backup").has_value());
  }
  // A clean stop keeps everything: the next start searches no record.
  EXPECT_EQ(text("SELECT host_stan FROM link_stan WHERE link = 'issuer'"), "000012");
  EXPECT_EQ(text("SELECT host_stan FROM link_stan WHERE link = 'other'"), "000077");
  EXPECT_EQ(count("SELECT id FROM link_stan WHERE link = ''"), count("SELECT MAX(id) FROM journal"));
}

TEST_F(JournalTest, MigratingAVersionTwoJournalKeepsEachLinksNewestHostStan) {
  {
    auto j = open();
    journal_batch b;
    b.records = {forwarded_on(j->next_txn_id(), "issuer", "999998"), forwarded_on(j->next_txn_id(), "other", "000500"),
                 forwarded_on(j->next_txn_id(), "issuer", "000007")};
    b.records.back().event = journal_event::reversed;
    b.records.push_back(forwarded_on(j->next_txn_id(), "issuer", "000900"));
    b.records.back().event = journal_event::late_answer;  // an answer's STAN: not one the switch sent
    ASSERT_TRUE(j->post(std::move(b)));
    ASSERT_TRUE(j->flush());
  }
  back_to_version_3();
  exec("DROP TABLE link_stan; DELETE FROM schema_version WHERE version >= 3");
  auto j = open();
  EXPECT_EQ(count("SELECT MAX(version) FROM schema_version"), journal_schema_version);
  EXPECT_EQ(text("SELECT host_stan FROM link_stan WHERE link = 'issuer'"), "000007");
  EXPECT_EQ(text("SELECT host_stan FROM link_stan WHERE link = 'other'"), "000500");
  EXPECT_EQ(count("SELECT id FROM link_stan WHERE link = ''"), 4);
  EXPECT_EQ(j->last_host_stan("issuer"), 7U);
}

TEST_P(JournalBackendTest, QueriesByTerminalRrnPanHashAndTime) {
  auto j = open();
  const auto keys = test_keys();
  journal_batch b;
  auto r1 = received(j->next_txn_id(), *keys);
  auto f1 = r1;
  f1.event = journal_event::forwarded;
  f1.rrn = "612345000001";
  f1.pan_hash.clear();
  auto r2 = received(j->next_txn_id(), *keys);
  r2.terminal = "TERM0002";
  r2.pan_hash = keys->pan_hash("5413330089020011");
  b.records = {r1, f1, r2};
  ASSERT_TRUE(j->post(std::move(b)));
  ASSERT_TRUE(j->flush());
  journal_query q;
  q.terminal = "TERM0001";
  EXPECT_EQ(j->query(q).size(), 2U);
  q = {};
  q.rrn = "612345000001";
  EXPECT_EQ(j->query(q).size(), 2U);  // every record of the transaction
  q = {};
  q.pan_hash = keys->pan_hash("5413330089020011");
  EXPECT_EQ(j->query(q).size(), 1U);
  q = {};
  q.from_us = r2.at_us + 1;
  EXPECT_EQ(j->query(q).size(), 0U);
}

// A transaction of its own terminal, card and RRNs (`i` picks them from small sets, so that keys
// repeat): received with the terminal's RRN, forwarded with the host's. Four look-up keys.
journal_batch keyed_transaction(std::int64_t id, int i, const journal_keys& k) {
  journal_batch b;
  journal_record r = received(id, k);
  r.terminal = fmt::format("T{:07}", i % 7);
  r.pan_hash = k.pan_hash(fmt::format("47617390010{:05}", i % 5));
  r.rrn = fmt::format("6123{:08}", i);
  journal_record f;
  f.txn_id = id;
  f.event = journal_event::forwarded;
  f.at_us = r.at_us;
  f.rrn = fmt::format("7331{:08}", i);
  b.records = {r, f};
  return b;
}

// What a look-up by each key must find among `n` keyed transactions, counted from how they were made.
void expect_every_key_found(journal& j, int n, const journal_keys& k) {
  for (int t = 0; t < 7; ++t) {
    journal_query q;
    q.terminal = fmt::format("T{:07}", t);
    q.limit = 1000;
    const auto rows = j.query(q);
    EXPECT_EQ(rows.size(), static_cast<std::size_t>((n + 6 - t) / 7)) << q.terminal;  // received rows only
  }
  for (int c = 0; c < 5; ++c) {
    journal_query q;
    q.pan_hash = k.pan_hash(fmt::format("47617390010{:05}", c));
    q.limit = 1000;
    EXPECT_EQ(j.query(q).size(), static_cast<std::size_t>(2 * ((n + 4 - c) / 5))) << "card " << c;
  }
  for (int i = 0; i < n; ++i) {
    for (const auto& rrn : {fmt::format("6123{:08}", i), fmt::format("7331{:08}", i)}) {
      journal_query q;
      q.rrn = rrn;
      const auto rows = j.query(q);
      ASSERT_EQ(rows.size(), 2U) << rrn;  // both records of the transaction
      EXPECT_EQ(rows[0].rrn, fmt::format("6123{:08}", i));
    }
  }
}

TEST_F(JournalTest, SpreadKeysAreEnteredLateAndEveryLookUpFindsThemWaitingOrEntered) {
  const auto keys = test_keys();
  constexpr int n = 61;  // four keys each, a commit each: the keys of 60 entered, of one waiting
  {
    auto j = open_late(16);
    std::vector<std::int64_t> at(n);
    for (int i = 0; i < n; ++i) {
      journal_batch b = keyed_transaction(j->next_txn_id(), i, *keys);
      at[i] = b.records[0].at_us;
      ASSERT_TRUE(j->post(std::move(b)));
      ASSERT_TRUE(j->flush());
    }
    // A terminal's records from a time on: those entered and the one waiting.
    journal_query recent;
    recent.terminal = fmt::format("T{:07}", (n - 1) % 7);
    recent.from_us = at[n / 2];
    std::size_t expected = 0;
    for (int i = 0; i < n; ++i) expected += i % 7 == (n - 1) % 7 && at[i] >= recent.from_us ? 1 : 0;
    EXPECT_EQ(j->query(recent).size(), expected);
    EXPECT_GE(expected, 4U);
    EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key"), 4 * (n - 1));
    EXPECT_EQ(count("SELECT id FROM journal_key_mark"), 2 * (n - 1));
    EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key WHERE id > (SELECT id FROM journal_key_mark)"), 0);
    expect_every_key_found(*j, n, *keys);
  }
  // A clean stop enters what waited.
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key"), 4 * n);
  EXPECT_EQ(count("SELECT id FROM journal_key_mark"), 2 * n);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key WHERE k LIKE 't%'"), n);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('journal_terminal', 'journal_rrn', "
                  "'journal_pan_hash')"),
            0);
  auto reader = open_sqlite_journal_read_only(path_, keys);
  expect_every_key_found(*reader, n, *keys);
}

TEST_F(JournalTest, ATransactionsRecordsWithTheSameRrnGiveOneKeyAndAreAllFoundByIt) {
  const auto keys = test_keys();
  {
    auto j = open_late(1000);
    journal_batch b = keyed_transaction(j->next_txn_id(), 1, *keys);
    journal_record completed = b.records[1];
    completed.event = journal_event::completed;
    completed.rc = "00";
    b.records.push_back(completed);
    ASSERT_TRUE(j->post(std::move(b)));
    ASSERT_TRUE(j->flush());
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key"), 4);  // terminal, PAN hash, the two RRNs
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key WHERE k = 'r733100000001'"), 1);
  auto reader = open_sqlite_journal_read_only(path_, keys);
  journal_query q;
  q.rrn = "733100000001";
  const auto rows = reader->query(q);
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[2].event, journal_event::completed);
}

TEST_F(JournalTest, ATerminalReversalFindsItsOriginalWhetherItsKeyWaitsOrIsEntered) {
  const auto keys = test_keys();
  auto j = open_late(8);
  const std::int64_t entered = j->next_txn_id();
  ASSERT_TRUE(j->post(forwarded_original(entered, *keys, "000201")));
  ASSERT_TRUE(j->flush());
  for (int i = 0; i < 4; ++i) {  // 16 keys more: the batch with the original's goes in
    ASSERT_TRUE(j->post(keyed_transaction(j->next_txn_id(), i + 1, *keys)));
    ASSERT_TRUE(j->flush());
  }
  const std::int64_t waiting = j->next_txn_id();
  journal_batch b = forwarded_original(waiting, *keys, "000202");
  b.saf_standby = {entered, waiting};
  ASSERT_TRUE(j->post(std::move(b)));
  ASSERT_TRUE(j->flush());
  const auto mark = count("SELECT id FROM journal_key_mark");
  EXPECT_GE(mark, count(fmt::format("SELECT id FROM journal WHERE txn_id = {} AND event = 'received'", entered)));
  EXPECT_LT(mark, count(fmt::format("SELECT id FROM journal WHERE txn_id = {} AND event = 'received'", waiting)));
  const auto c = claim_all(*j, {ref_of("000202"), ref_of("000201"), ref_of("000203"), ref_of("000201")});
  EXPECT_EQ(c[0].status, original_claim_status::claimed);
  EXPECT_EQ(c[0].txn_id, waiting);
  EXPECT_EQ(c[1].status, original_claim_status::claimed);
  EXPECT_EQ(c[1].txn_id, entered);
  EXPECT_EQ(c[2].status, original_claim_status::unknown);
  EXPECT_EQ(c[3].status, original_claim_status::already);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf WHERE state = 'ready'"), 2);
}

TEST_F(JournalTest, KeysNotEnteredBeforeACrashAreFoundAndEnteredAfterIt) {
  const auto keys = test_keys();
  crash_after([&] {
    auto j = open_late(100000);
    journal_batch b = forwarded_original(j->next_txn_id(), *keys, "000301");
    b.saf_standby = {b.records[0].txn_id};
    const bool ok = j->post(std::move(b)) && j->post(keyed_transaction(j->next_txn_id(), 3, *keys)) && j->flush();
    return ok ? std::move(j) : nullptr;
  });
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key"), 0);
  EXPECT_EQ(count("SELECT id FROM journal_key_mark"), 0);
  {
    auto reader = open_sqlite_journal_read_only(path_, keys);
    journal_query q;
    q.rrn = "612300000003";
    EXPECT_EQ(reader->query(q).size(), 2U);
  }
  {
    auto j = open();
    const auto c = claim_all(*j, {ref_of("000301")});
    EXPECT_EQ(c[0].status, original_claim_status::claimed);
    journal_query q;
    q.terminal = "TERM0001";
    EXPECT_EQ(j->query(q).size(), 1U);  // the original's received record (the forwarded one has no terminal)
  }
  // received: terminal and PAN hash; the keyed transaction's four
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key"), 6);
  EXPECT_EQ(count("SELECT id FROM journal_key_mark"), count("SELECT MAX(id) FROM journal"));
}

TEST_F(JournalTest, MigratingAVersionThreeJournalEntersTheKeysOfItsHistory) {
  const auto keys = test_keys();
  constexpr int n = 12;
  {
    auto j = open();
    for (int i = 0; i < n; ++i) ASSERT_TRUE(j->post(keyed_transaction(j->next_txn_id(), i, *keys)));
    ASSERT_TRUE(j->flush());
  }
  back_to_version_3();
  ASSERT_EQ(count("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'journal_key'"), 0);
  auto j = open();
  EXPECT_EQ(count("SELECT MAX(version) FROM schema_version"), journal_schema_version);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key"), 4 * n);
  EXPECT_EQ(count("SELECT id FROM journal_key_mark"), 2 * n);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'journal_terminal'"), 0);
  expect_every_key_found(*j, n, *keys);
}

TEST_F(JournalTest, APanHashKeyHoldsTheHashsFirstDigitsAndALookUpComparesTheWholeHash) {
  const auto keys = test_keys();
  const std::string hash = keys->pan_hash(test_pan);
  ASSERT_EQ(hash.size(), 64U);
  // A second card whose hash shares all the key's digits (a collision in the key), and a third whose
  // hash differs in the last of them.
  std::string twin = hash;
  twin.back() = twin.back() == '0' ? '1' : '0';
  std::string near = hash;
  near[19] = near[19] == '0' ? '1' : '0';
  const auto write = [&](journal& j, const std::string& h) {
    journal_batch b;
    b.records.push_back(received(j.next_txn_id(), *keys));
    b.records.back().pan_hash = h;
    ASSERT_TRUE(j.post(std::move(b)));
  };
  const auto expect_found = [&](journal& j) {
    for (const auto& h : {hash, twin, near}) {
      journal_query q;
      q.pan_hash = h;
      const auto rows = j.query(q);
      ASSERT_EQ(rows.size(), 1U);
      EXPECT_EQ(rows[0].pan_hash, h);
    }
    journal_query none;
    none.pan_hash = std::string(64, 'f');
    EXPECT_TRUE(j.query(none).empty());
  };
  {
    auto j = open_late(1000);
    write(*j, hash);
    write(*j, twin);
    write(*j, near);
    ASSERT_TRUE(j->flush());
    EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key"), 0);
    expect_found(*j);  // keys waiting in the writer: the records after the mark are searched
  }
  // Entered at the clean stop: the two keys alike are one key of two records.
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key WHERE k >= 'p' AND k < 'q'"), 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key WHERE k >= 'p' AND k < 'q' AND length(k) = 21"), 3);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT k) FROM journal_key WHERE k >= 'p' AND k < 'q'"), 2);
  EXPECT_EQ(text("SELECT MIN(k) FROM journal_key WHERE k >= 'p' AND k < 'q'").substr(1),
            std::min(hash, near).substr(0, 20));
  auto j = open();
  expect_found(*j);
  auto reader = open_sqlite_journal_read_only(path_, keys);
  expect_found(*reader);
}

TEST_F(JournalTest, MigratingAVersionFourJournalShortensItsPanHashKeys) {
  const auto keys = test_keys();
  constexpr int n = 12;
  {
    auto j = open();
    for (int i = 0; i < n; ++i) ASSERT_TRUE(j->post(keyed_transaction(j->next_txn_id(), i, *keys)));
    ASSERT_TRUE(j->flush());
  }
  // As a version 4 build left it: each PAN-hash key holds the whole hash.
  back_to_version_5();
  exec(
      "UPDATE journal_key SET k = 'p' || (SELECT pan_hash FROM journal j WHERE j.id = journal_key.id) "
      "WHERE k >= 'p' AND k < 'q'; DELETE FROM schema_version WHERE version >= 5");
  ASSERT_EQ(count("SELECT COUNT(*) FROM journal_key WHERE k >= 'p' AND k < 'q' AND length(k) = 65"), n);
  {
    auto reader = open_sqlite_journal_read_only(path_, keys);  // read-only: not migrated, still found
    expect_every_key_found(*reader, n, *keys);
  }
  auto j = open();
  EXPECT_EQ(count("SELECT MAX(version) FROM schema_version"), journal_schema_version);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key WHERE k >= 'p' AND k < 'q' AND length(k) = 21"), n);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_key"), 4 * n);
  expect_every_key_found(*j, n, *keys);
}

std::set<std::int64_t> armed_ids(journal& j) {
  std::set<std::int64_t> out;
  for (const auto& it : j.saf_items({}, false)) {
    if (it.state == saf_state::armed) out.insert(it.txn_id);
  }
  return out;
}

// Originals armed in any order (a transaction received first may be forwarded last) and settled in
// any order, against a model of which are armed: the switch's own listing (from the mark on) and
// recovery after a stop find exactly the armed ones, and no armed original lies before the mark.
TEST_F(JournalTest, TheArmedOriginalsAreFoundFromTheirMarkWhateverOrderTheyAreArmedAndSettledIn) {
  std::mt19937 rng(20261129);
  std::set<std::int64_t> model;
  std::int64_t timed_out = 0;
  {
    auto j = open();
    std::vector<std::int64_t> ids(60);
    for (auto& id : ids) id = j->next_txn_id();
    std::shuffle(ids.begin(), ids.end(), rng);
    std::size_t next = 0;
    for (int round = 0; round < 3; ++round) {
      for (int step = 0; step < 6; ++step) {
        journal_batch b;
        for (int k = 0; k < 3 && next < ids.size(); ++k) {
          b.saf_put.push_back(armed_original(ids[next]));
          model.insert(ids[next++]);
        }
        std::vector<std::int64_t> settle;
        for (const auto id : model) {
          if (rng() % 3 == 0) settle.push_back(id);
        }
        for (const auto id : settle) {
          if (std::find_if(b.saf_put.begin(), b.saf_put.end(), [&](const saf_item& it) { return it.txn_id == id; }) !=
              b.saf_put.end()) {
            continue;  // armed in this very batch: settled in a later one
          }
          switch (rng() % 3) {
            case 0:
              b.saf_standby.push_back(id);
              break;  // answered
            case 1:   // timed out
              b.saf_make_ready.push_back(id);
              ++timed_out;
              break;
            default:
              b.saf_remove.push_back(id);
              break;  // not sent after all
          }
          model.erase(id);
        }
        ASSERT_TRUE(j->post(std::move(b)));
        ASSERT_TRUE(j->flush());
        EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE state = 'armed' AND txn_id < "
                        "(SELECT txn_id FROM original_mark)"),
                  0)
            << "round " << round << " step " << step;
        EXPECT_EQ(armed_ids(*j), model) << "round " << round << " step " << step;
      }
      // The writer raises the mark about once a second: to the oldest original still armed.
      std::this_thread::sleep_for(std::chrono::milliseconds(1100));
      journal_batch b;
      b.records.push_back(received(j->next_txn_id(), *test_keys()));
      ASSERT_TRUE(j->post(std::move(b)));
      ASSERT_TRUE(j->flush());
      if (!model.empty()) {
        EXPECT_EQ(count("SELECT txn_id FROM original_mark"), *model.begin()) << "round " << round;
      }
      EXPECT_EQ(armed_ids(*j), model);
    }
    ASSERT_FALSE(model.empty());
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE state = 'armed'"), static_cast<std::int64_t>(model.size()));
  auto j = open();
  EXPECT_EQ(armed_ids(*j), model);
  EXPECT_EQ(j->recover(), model.size());
  EXPECT_TRUE(armed_ids(*j).empty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf WHERE state = 'ready'"),
            timed_out + static_cast<std::int64_t>(model.size()));
}

TEST_F(JournalTest, MigratingAVersionFiveJournalMarksItsArmedOriginalsAndDropsTheirIndex) {
  std::set<std::int64_t> armed;
  {
    auto j = open();
    journal_batch b;
    std::vector<std::int64_t> ids(6);
    for (auto& id : ids) id = j->next_txn_id();
    for (const auto id : ids) b.saf_put.push_back(armed_original(id));
    ASSERT_TRUE(j->post(std::move(b)));
    journal_batch settle;
    settle.saf_standby = {ids[0], ids[3]};
    ASSERT_TRUE(j->post(std::move(settle)));
    ASSERT_TRUE(j->flush());
    armed = {ids[1], ids[2], ids[4], ids[5]};
  }
  back_to_version_5();
  {
    auto reader = open_sqlite_journal_read_only(path_, test_keys());  // read-only: not migrated, still found
    EXPECT_EQ(armed_ids(*reader), armed);
  }
  auto j = open();
  EXPECT_EQ(count("SELECT MAX(version) FROM schema_version"), journal_schema_version);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'original_armed'"), 0);
  EXPECT_EQ(count("SELECT txn_id FROM original_mark"), *armed.begin());
  EXPECT_EQ(armed_ids(*j), armed);
  EXPECT_EQ(j->recover(), armed.size());
}

// Records timed out of id order as a clock stepped back, and at the same microsecond, written over
// several runs (a clean stop, then a crash that leaves the last records without their time row).
struct timed_records {
  struct entry {
    std::int64_t txn_id;
    std::int64_t at_us;
    std::string terminal;
  };
  std::vector<entry> written;

  journal_batch batch(journal& j, std::mt19937& rng, std::int64_t base_us, int n) {
    journal_batch b;
    for (int i = 0; i < n; ++i) {
      journal_record r = received(j.next_txn_id(), *test_keys());
      r.at_us = base_us + std::int64_t{i} * 1'000'000 + static_cast<std::int64_t>(rng() % 3) * 400'000;  // some ties
      r.terminal = rng() % 2 == 0 ? "TERM0001" : "TERM0002";
      written.push_back({r.txn_id, r.at_us, r.terminal});
      b.records.push_back(std::move(r));
    }
    return b;
  }

  // Every look-up by time (with a terminal or not) finds exactly the records written in that range.
  void expect_found_by_time(journal& j, std::mt19937& rng, const std::string& who) const {
    std::int64_t lo = std::numeric_limits<std::int64_t>::max();
    std::int64_t hi = std::numeric_limits<std::int64_t>::min();
    for (const auto& e : written) {
      lo = std::min(lo, e.at_us);
      hi = std::max(hi, e.at_us);
    }
    for (int k = 0; k < 150; ++k) {
      const auto span = static_cast<std::uint64_t>(hi - lo + 4'000'000);
      journal_query q;
      q.limit = 100000;
      q.from_us = lo - 2'000'000 + static_cast<std::int64_t>(rng() % span);
      if (k % 3 != 0) q.to_us = q.from_us + static_cast<std::int64_t>(rng() % (span / 2 + 1)) + 1;
      if (k % 2 == 0) q.terminal = "TERM0002";
      std::multiset<std::pair<std::int64_t, std::int64_t>> expected;
      for (const auto& e : written) {
        if (e.at_us >= q.from_us && (q.to_us == 0 || e.at_us < q.to_us) &&
            (q.terminal.empty() || e.terminal == q.terminal)) {
          expected.emplace(e.txn_id, e.at_us);
        }
      }
      std::multiset<std::pair<std::int64_t, std::int64_t>> found;
      for (const auto& r : j.query(q)) found.emplace(r.txn_id, r.at_us);
      EXPECT_EQ(found, expected) << who << ": from " << q.from_us << " to " << q.to_us << " terminal '" << q.terminal
                                 << "'";
    }
  }
};

TEST_F(JournalTest, RecordsAreFoundByTimeWhateverOrderTheirTimesAreIn) {
  std::mt19937 rng(7);
  timed_records recs;
  const std::int64_t base = journal_now_us() - 86'400'000'000;
  {
    auto j = open();
    ASSERT_TRUE(j->post(recs.batch(*j, rng, base, 40)));
    ASSERT_TRUE(j->post(recs.batch(*j, rng, base - 30'000'000, 40)));  // the clock stepped back 70 s
    ASSERT_TRUE(j->flush());
  }
  {
    auto j = open();
    ASSERT_TRUE(j->post(recs.batch(*j, rng, base + 100'000'000, 40)));
    ASSERT_TRUE(j->flush());
  }
  // A crash: the last records have no time row yet; the next start reads their times back.
  crash_after([&] {
    auto j = open();
    journal_batch b = recs.batch(*j, rng, base + 50'000'000, 40);
    if (!j->post(std::move(b)) || !j->flush()) return std::unique_ptr<journal>();
    return j;
  });
  // The child's records, as the parent's model of them (the same generator, the same ids).
  {
    auto j = open_sqlite_journal_read_only(path_, test_keys());
    journal_query all;
    all.limit = 100000;
    const auto rows = j->query(all);
    ASSERT_EQ(rows.size(), 160U);
    for (std::size_t i = 120; i < rows.size(); ++i)
      recs.written.push_back({rows[i].txn_id, rows[i].at_us, rows[i].terminal});
    recs.expect_found_by_time(*j, rng, "read-only, after the crash");
  }
  auto j = open();
  ASSERT_TRUE(j->post(recs.batch(*j, rng, base + 10'000'000, 30)));
  ASSERT_TRUE(j->flush());
  recs.expect_found_by_time(*j, rng, "writing");
  j->close();
  EXPECT_GE(count("SELECT COUNT(*) FROM journal_time"), 3);  // a row per run at least (the crash's at the next)
  auto reader = open_sqlite_journal_read_only(path_, test_keys());
  recs.expect_found_by_time(*reader, rng, "read-only");
}

TEST_F(JournalTest, MigratingAVersionSixJournalTimesItsHistory) {
  std::mt19937 rng(11);
  timed_records recs;
  const std::int64_t base = journal_now_us() - 3'600'000'000;
  {
    auto j = open();
    // Steps back of 5 s: version 6 looked a terminal's records up from 60 s before the range, which
    // held for records timed a little out of order only.
    for (const std::int64_t start_s : {0, 45, 90, 135}) {
      ASSERT_TRUE(j->post(recs.batch(*j, rng, base + start_s * 1'000'000, 50)));
    }
    ASSERT_TRUE(j->flush());
  }
  back_to_version_6();
  {
    auto reader = open_sqlite_journal_read_only(path_, test_keys());  // read-only: not migrated, still found
    recs.expect_found_by_time(*reader, rng, "version 6, read-only");
  }
  auto j = open();
  EXPECT_EQ(count("SELECT MAX(version) FROM schema_version"), journal_schema_version);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'journal_at'"), 0);
  EXPECT_EQ(count("SELECT MAX(id) FROM journal_time"), count("SELECT MAX(id) FROM journal"));
  recs.expect_found_by_time(*j, rng, "migrated");
}

TEST_F(JournalTest, RefusesAFileThatIsNotADatabaseAndLeavesItUntouched) {
  {
    std::ofstream out(path_, std::ios::binary);
    out << std::string(8192, 'x');
  }
  const auto before = fs::file_size(path_);
  try {
    (void)open();
    FAIL() << "opened a corrupt journal";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("not an SQLite database"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fs::file_size(path_), before);
  std::ifstream in(path_, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), std::string(8192, 'x'));
}

// A journal with records (2,000) and originals (200 armed reversals), checkpointed into the file.
void write_history(journal& j) {
  journal_batch b;
  for (int i = 0; i < 2000; ++i) b.records.push_back(received(j.next_txn_id(), *test_keys()));
  for (int i = 0; i < 200; ++i) b.saf_put.push_back(armed_original(b.records[static_cast<std::size_t>(i)].txn_id));
  ASSERT_TRUE(j.post(std::move(b)));
  ASSERT_TRUE(j.flush());
}

// Writes 0x5A over one page of the database file (pages count from 1).
void scribble_page(const fs::path& path, std::int64_t page) {
  ASSERT_GT(page, 1);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp((page - 1) * 4096);
  const std::string junk(4096, '\x5A');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

TEST_F(JournalTest, RefusesAJournalWhoseOriginalsAreCorruptAndLeavesItUntouched) {
  { write_history(*open()); }
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const std::int64_t page = count("SELECT pageno FROM dbstat WHERE name = 'original' ORDER BY pageno LIMIT 1");
  scribble_page(path_, page);
  const auto file_bytes = [&] {
    std::ifstream in(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string before = file_bytes();
  try {
    (void)open();
    FAIL() << "opened a journal whose originals are corrupt";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt (quick_check of original"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(file_bytes() == before) << "the database file changed";
}

TEST_F(JournalTest, RefusesAJournalWhoseLastTransactionIdCannotBeRead) {
  { write_history(*open()); }
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  // The index the newest id is read through: without it ids would restart from 1.
  scribble_page(path_, count("SELECT rootpage FROM sqlite_schema WHERE name = 'journal_txn'"));
  try {
    (void)open();
    FAIL() << "opened a journal whose last transaction id cannot be read";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("the last transaction id cannot be read"), std::string::npos) << e.what();
  }
}

// The records' history is not read at start (its check grows with the journal's age); the full
// check, which eftctl journal --check runs, finds a damaged page of it.
TEST_F(JournalTest, ADamagedPageOfTheHistoryIsLeftToTheFullCheckWhichFindsIt) {
  {
    auto j = open();
    write_history(*j);
    const auto clean = check_sqlite_journal(path_);  // beside the open journal, as beside a live switch
    EXPECT_TRUE(clean.ok);
    EXPECT_TRUE(clean.problems.empty());
    EXPECT_GT(clean.pages, 20);
  }
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const std::int64_t oldest =
      count("SELECT pageno FROM dbstat WHERE name = 'journal' AND pagetype = 'leaf' ORDER BY pageno LIMIT 1");
  ASSERT_NE(oldest, count("SELECT rootpage FROM sqlite_schema WHERE name = 'journal'"));
  scribble_page(path_, oldest);
  {
    auto j = open();  // starts: the state tables and the newest ids are sound
    journal_batch b;
    b.records.push_back(received(j->next_txn_id(), *test_keys()));
    EXPECT_EQ(b.records.back().txn_id, 2001);
    ASSERT_TRUE(j->post(std::move(b)));
    EXPECT_TRUE(j->flush());
  }
  const auto damaged = check_sqlite_journal(path_);
  EXPECT_FALSE(damaged.ok);
  ASSERT_FALSE(damaged.problems.empty());
  EXPECT_FALSE(check_sqlite_journal(path_, true).ok);
  {
    std::ofstream out(dir_ / "other.db", std::ios::binary);
    out << std::string(8192, 'x');
  }
  EXPECT_THROW((void)check_sqlite_journal(dir_ / "other.db"), journal_open_error);
  EXPECT_THROW((void)check_sqlite_journal(dir_ / "missing.db"), journal_open_error);
}

TEST_P(JournalBackendTest, RefusesASchemaNewerThanThisBuild) {
  { (void)open(); }
  exec(std::string("INSERT INTO ") + version_table() + " (version, applied_us) VALUES (99, 0)");
  try {
    (void)open();
    FAIL() << "opened a newer journal";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count(std::string("SELECT MAX(version) FROM ") + version_table()), 99);
}

TEST_P(JournalBackendTest, RefusesAnotherApplicationsDatabase) {
  exec("CREATE TABLE accounts (id INTEGER)");
  try {
    (void)open();
    FAIL() << "opened another application's database";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("not an eftswitch journal"), std::string::npos) << e.what();
  }
  EXPECT_EQ(tables_named("journal"), 0);
  EXPECT_EQ(tables_named("accounts"), 1);
}

TEST_F(JournalTest, RefusesAJournalHeldByAnotherProcess) {
  auto j = open();
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char verdict = 'o';
    try {
      sqlite_journal_options o;
      o.path = path_;
      (void)open_sqlite_journal(o, test_keys());
    } catch (const journal_open_error& e) {
      verdict = std::string(e.what()).find("locked by another process") != std::string::npos ? 'l' : 'e';
    }
    (void)::write(pipe_fds[1], &verdict, 1);
    ::_exit(0);
  }
  char verdict = '?';
  ASSERT_EQ(::read(pipe_fds[0], &verdict, 1), 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  EXPECT_EQ(verdict, 'l');
  // Read-only tools still read it.
  auto ro = open_sqlite_journal_read_only(path_, nullptr);
  EXPECT_TRUE(ro->query({}).empty());
  EXPECT_FALSE(ro->post(journal_batch{}));
}

TEST_F(JournalTest, RefusesADatabaseWithAnOpenWriteTransactionElsewhere) {
  { (void)open(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  try {
    (void)open();
    ADD_FAILURE() << "opened a locked journal";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
  }
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

TEST_F(JournalTest, KeyComesFromTheEnvironmentOrAFileAndErrorsNeverShowIt) {
  const std::string hex(64, 'A');
  ::setenv("EFT_TEST_JOURNAL_KEY", hex.c_str(), 1);
  EXPECT_EQ(journal_keys::load("EFT_TEST_JOURNAL_KEY", {}).pan_hash("1"),
            journal_keys(std::vector<std::uint8_t>(32, 0xAA)).pan_hash("1"));
  ::setenv("EFT_TEST_JOURNAL_KEY", "00112233", 1);
  try {
    (void)journal_keys::load("EFT_TEST_JOURNAL_KEY", {});
    FAIL();
  } catch (const journal_open_error& e) {
    EXPECT_EQ(std::string(e.what()).find("00112233"), std::string::npos);
  }
  ::unsetenv("EFT_TEST_JOURNAL_KEY");
  const fs::path key_file = dir_ / "journal.key";
  std::ofstream(key_file) << hex << "\n";
  EXPECT_EQ(journal_keys::load("EFT_TEST_JOURNAL_KEY", key_file).pan_hash("1"),
            journal_keys(std::vector<std::uint8_t>(32, 0xAA)).pan_hash("1"));
  EXPECT_THROW((void)journal_keys::load("EFT_TEST_JOURNAL_KEY", {}), journal_open_error);
}

INSTANTIATE_TEST_SUITE_P(Backends, JournalBackendTest, ::testing::Values(backend::sqlite, backend::postgresql),
                         [](const ::testing::TestParamInfo<backend>& i) {
                           return i.param == backend::sqlite ? std::string("SQLite") : std::string("PostgreSQL");
                         });

}  // namespace
}  // namespace eft::switch_core
