// The PostgreSQL journal's own contract, against a real server started for each case: several
// switch instances sharing one database, the instance lock, migrations, connection loss. The cases
// both backends share are in journal_test.cpp.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "eft/config/switch.hpp"
#include "eft/switch/journal.hpp"
#include "pg_server.hpp"

namespace eft::switch_core {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const journal_keys> test_keys() {
  return std::make_shared<journal_keys>(std::vector<std::uint8_t>(32, 0x5A));
}

class PostgresJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = test::pg_server::unavailable(); !why.empty()) GTEST_SKIP() << why;
    pg_ = std::make_unique<test::pg_server>();
  }
  postgresql_journal_options options(const std::string& instance) const {
    postgresql_journal_options o;
    o.conninfo = pg_->conninfo();
    o.instance = instance;
    o.durability = journal_durability::power_loss;
    o.reconnect_interval = 50ms;
    return o;
  }
  std::unique_ptr<journal> open(const std::string& instance) {
    return open_postgresql_journal(options(instance), test_keys());
  }
  void exec(const std::string& sql) const {
    bool ok = false;
    (void)pg_->scalar(sql, &ok);
    ASSERT_TRUE(ok) << sql;
  }
  std::int64_t count(const std::string& sql) const {
    bool ok = false;
    const std::string v = pg_->scalar(sql, &ok);
    EXPECT_TRUE(ok) << sql;
    return ok && !v.empty() ? std::stoll(v) : -1;
  }
  static saf_item armed(std::int64_t txn) {
    saf_item it;
    it.txn_id = txn;
    it.link_group = "acquirer";
    it.mti = "0400";
    it.summary = "0400 reversal";
    it.created_us = journal_now_us();
    it.message = {'0', '4', '0', '0'};
    return it;
  }
  static journal_record forwarded(std::int64_t txn, const char* stan) {
    journal_record r;
    r.txn_id = txn;
    r.event = journal_event::forwarded;
    r.at_us = journal_now_us();
    r.link = "acq1";
    r.host_stan = stan;
    return r;
  }
  // A terminal's request as received: terminal TERM0001, its STAN, field 7 1126071500, `amount`.
  static journal_record received(std::int64_t txn, const char* stan, const char* amount = "000000001000") {
    journal_record r;
    r.txn_id = txn;
    r.event = journal_event::received;
    r.at_us = journal_now_us();
    r.terminal = "TERM0001";
    r.mti = "0200";
    r.amount = amount;
    r.terminal_stan = stan;
    r.transmission = "1126071500";
    return r;
  }
  static original_ref ref(const char* stan, const char* amount = "000000001000") {
    return original_ref{"TERM0001", stan, "1126071500", amount};
  }
  // An original received, forwarded (its reversal armed) and answered in time (the reversal on standby).
  static std::error_code forward_and_answer(journal& j, std::int64_t txn, const char* stan) {
    journal_batch sent;
    sent.records = {received(txn, stan), forwarded(txn, stan)};
    sent.saf_put = {armed(txn)};
    if (const auto ec = write_and_wait(j, std::move(sent))) return ec;
    journal_batch answered;
    answered.records = {forwarded(txn, stan)};
    answered.records[0].event = journal_event::completed;
    answered.saf_standby = {txn};
    return write_and_wait(j, std::move(answered));
  }
  // Waits (at most 5 s) for one claim's completion; an unknown claim with timed_out when none came.
  static std::pair<std::error_code, original_claim> claim_and_wait(journal& j, original_ref r) {
    std::promise<std::pair<std::error_code, original_claim>> p;
    auto f = p.get_future();
    j.async_claim_original(std::move(r), [&p](std::error_code ec, original_claim c) { p.set_value({ec, c}); });
    if (f.wait_for(5s) != std::future_status::ready) return {make_error_code(std::errc::timed_out), {}};
    return f.get();
  }
  std::string state_of(std::int64_t txn) const {
    return pg_->scalar("SELECT state FROM original WHERE txn_id = " + std::to_string(txn));
  }

  // Waits (at most 5 s) for one write's completion.
  static std::error_code write_and_wait(journal& j, journal_batch b) {
    std::promise<std::error_code> p;
    auto f = p.get_future();
    j.async_write(std::move(b), [&p](std::error_code ec) { p.set_value(ec); });
    if (f.wait_for(5s) != std::future_status::ready) return make_error_code(std::errc::timed_out);
    return f.get();
  }

  std::unique_ptr<test::pg_server> pg_;
};

TEST_F(PostgresJournalTest, CreatesTheSchemaAtTheCurrentVersionWithRowsCarryingTheInstance) {
  auto j = open("sw1");
  const std::int64_t id = j->next_txn_id();
  journal_batch b;
  b.records.push_back(forwarded(id, "000001"));
  b.saf_put.push_back(armed(id));
  ASSERT_FALSE(write_and_wait(*j, std::move(b)));
  EXPECT_EQ(count("SELECT MAX(version) FROM eft_journal_version"), journal_schema_version);
  EXPECT_EQ(pg_->scalar("SELECT instance FROM journal"), "sw1");
  // The armed reversal is kept with the original, sealed, apart from the queue.
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf"), 0);
  EXPECT_EQ(pg_->scalar("SELECT instance || ' ' || state FROM original"), "sw1 armed");
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE position('\\x30343030'::bytea IN message) > 0"), 0);
  journal_batch timed_out;
  timed_out.saf_make_ready.push_back(id);
  ASSERT_FALSE(write_and_wait(*j, std::move(timed_out)));
  EXPECT_EQ(pg_->scalar("SELECT instance || ' ' || state || ' ' || kind FROM saf"), "sw1 ready reversal");
  // Text with COPY's special characters arrives as written; empty text is NULL, as with SQLite.
  journal_batch odd;
  odd.records.push_back(forwarded(j->next_txn_id(), "000002"));
  odd.records[0].detail = "tab\there\\back\nnew\rline \\N";
  ASSERT_FALSE(write_and_wait(*j, std::move(odd)));
  const auto records = j->query({});
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].instance, "sw1");
  EXPECT_EQ(records[1].detail, "tab\there\\back\nnew\rline \\N");
  EXPECT_EQ(records[0].latency_us, -1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal WHERE terminal IS NULL AND detail IS NULL"), 1);
  // Reopened: no migration again, the same rows.
  j->close();
  auto again = open("sw1");
  EXPECT_EQ(count("SELECT COUNT(*) FROM eft_journal_version"), journal_schema_version);
  EXPECT_EQ(again->saf_items("acquirer", true).at(0).message, (std::vector<std::uint8_t>{'0', '4', '0', '0'}));
}

TEST_F(PostgresJournalTest, TwoInstancesShareOneDatabaseEachWithItsOwnItems) {
  auto sw1 = open("sw1");
  auto sw2 = open("sw2");
  // Ids are unique across the processes, handed out concurrently; sw1 goes through a few blocks.
  std::vector<std::int64_t> ids1(200000);
  std::vector<std::int64_t> ids2(20000);
  std::thread t1([&] {
    for (auto& id : ids1) id = sw1->next_txn_id();
  });
  std::thread t2([&] {
    for (auto& id : ids2) id = sw2->next_txn_id();
  });
  t1.join();
  t2.join();
  std::set<std::int64_t> all(ids1.begin(), ids1.end());
  all.insert(ids2.begin(), ids2.end());
  EXPECT_EQ(all.size(), ids1.size() + ids2.size());
  EXPECT_GT(*all.begin(), 0);
  EXPECT_TRUE(std::is_sorted(ids1.begin(), ids1.end()));  // one thread: increasing

  journal_batch b1;
  b1.saf_put = {armed(ids1[0]), armed(ids1[1])};
  b1.records = {forwarded(ids1[0], "000101")};
  journal_batch b2;
  b2.saf_put = {armed(ids2[0])};
  b2.records = {forwarded(ids2[0], "000202")};
  ASSERT_FALSE(write_and_wait(*sw1, std::move(b1)));
  ASSERT_FALSE(write_and_wait(*sw2, std::move(b2)));
  EXPECT_EQ(sw1->saf_items({}, false).size(), 2U);
  EXPECT_EQ(sw2->saf_items({}, false).size(), 1U);
  EXPECT_EQ(sw1->last_host_stan("acq1"), 101U);
  EXPECT_EQ(sw2->last_host_stan("acq1"), 202U);
  EXPECT_EQ(sw1->query({}).size(), 2U);  // records of every instance

  // sw1 "restarts": its recovery turns its own armed items ready, never sw2's in-flight one.
  sw1->close();
  sw1 = open("sw1");
  EXPECT_EQ(sw1->recover(), 2U);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf WHERE instance = 'sw1' AND state = 'ready'"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE instance = 'sw1' AND state = 'reversed'"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE instance = 'sw2' AND state = 'armed'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal WHERE event = 'timed_out' AND instance = 'sw1'"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal WHERE event = 'timed_out' AND instance = 'sw2'"), 0);
  const auto depth = sw2->saf_depth();
  ASSERT_EQ(depth.size(), 1U);
  EXPECT_EQ(depth[0].armed, 1U);
  EXPECT_EQ(depth[0].ready, 0U);
}

TEST_F(PostgresJournalTest, ManyConcurrentWritersShareFewCommits) {
  auto j = open("sw1");
  constexpr int writers = 8;
  constexpr int per_writer = 1000;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < per_writer; ++i) {
        journal_batch b;
        const std::int64_t id = j->next_txn_id();
        b.records.push_back(forwarded(id, "000001"));
        b.saf_put.push_back(armed(id));
        if (i % 2 == 0) b.saf_remove.push_back(id);  // settled in the same batch: put, then removed
        j->async_write(std::move(b), [&](std::error_code ec) { (ec ? failed : ok).fetch_add(1); });
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(j->flush());
  for (int i = 0; i < 500 && ok.load() + failed.load() < writers * per_writer; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(ok.load(), writers * per_writer);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT txn_id) FROM journal"), writers * per_writer);
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE state = 'armed'"), writers * per_writer / 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf"), 0);
  // Each transaction that wrote rows has its own xmin: far fewer commits than batches.
  const auto commits = count("SELECT COUNT(DISTINCT xmin::text) FROM journal");
  EXPECT_GE(commits, 1);
  EXPECT_LT(commits, writers * per_writer / 4) << "no group commit";
}

TEST_F(PostgresJournalTest, ASecondProcessOnTheSameInstanceIsRefusedWhileTheFirstLives) {
  auto first = open("sw1");
  try {
    (void)open("sw1");
    FAIL() << "two journals on one instance";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("held by another live process"), std::string::npos) << e.what();
  }
  // Read-only tools still read it; another instance opens.
  auto ro = open_postgresql_journal_read_only(options("sw1"), nullptr);
  EXPECT_TRUE(ro->query({}).empty());
  EXPECT_FALSE(ro->post(journal_batch{}));
  EXPECT_NO_THROW((void)open("sw2"));
  // Once the first is closed, the instance is free.
  first->close();
  EXPECT_NO_THROW((void)open("sw1"));
}

TEST_F(PostgresJournalTest, AServerStoppedMidRunFailsWritesWithIoThenTheyResumeWhenItIsBack) {
  auto j = open("sw1");
  journal_batch b;
  b.records.push_back(forwarded(j->next_txn_id(), "000001"));
  ASSERT_FALSE(write_and_wait(*j, std::move(b)));
  pg_->stop();
  journal_batch lost;
  lost.records.push_back(forwarded(j->next_txn_id(), "000002"));
  EXPECT_EQ(write_and_wait(*j, std::move(lost)), journal_errc::io);
  ASSERT_TRUE(pg_->start());
  std::error_code ec = journal_errc::io;
  for (int i = 0; i < 100 && ec; ++i) {
    journal_batch again;
    again.records.push_back(forwarded(j->next_txn_id(), "000003"));
    ec = write_and_wait(*j, std::move(again));
    if (ec) std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal WHERE host_stan = '000001'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal WHERE host_stan = '000002'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal WHERE host_stan = '000003'"), 1);
  // The instance is held again after the reconnection.
  EXPECT_THROW((void)open("sw1"), journal_open_error);
  EXPECT_EQ(j->last_host_stan("acq1"), 3U);  // the reader reconnects too
}

TEST_F(PostgresJournalTest, RefusesADamagedJournalAndAnUnreachableServer) {
  { (void)open("sw1"); }
  bool ok = false;
  (void)pg_->scalar("DROP TABLE saf", &ok);
  ASSERT_TRUE(ok);
  try {
    (void)open("sw1");
    FAIL() << "opened a journal without its saf table";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'saf'"), 0);
  pg_->stop(true);
  try {
    (void)open("sw1");
    FAIL() << "opened a journal on a stopped server";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
  }
}

TEST_F(PostgresJournalTest, TheFactoryOpensThePostgresqlBackendOfAConfig) {
  config::journal_config c;
  c.backend = config::journal_backend::postgresql;
  c.conninfo = pg_->conninfo();
  c.instance = "sw7";
  auto j = open_journal(c, test_keys());
  journal_batch b;
  b.records.push_back(forwarded(j->next_txn_id(), "000077"));
  ASSERT_FALSE(write_and_wait(*j, std::move(b)));
  EXPECT_EQ(pg_->scalar("SELECT instance FROM journal"), "sw7");
  auto ro = open_journal(c, nullptr, journal_access::read_only);
  EXPECT_EQ(ro->last_host_stan("acq1"), 77U);
}

TEST_F(PostgresJournalTest, AClaimByAnotherInstanceQueuesTheReversalThereAndTheFirstThenFindsItReversed) {
  auto sw1 = open("sw1");
  auto sw2 = open("sw2");
  const std::int64_t id = sw1->next_txn_id();
  journal_batch sent;
  sent.records = {received(id, "000123"), forwarded(id, "000001")};
  sent.saf_put = {armed(id)};
  ASSERT_FALSE(write_and_wait(*sw1, std::move(sent)));
  // In flight (armed): nothing a terminal may reverse yet.
  auto [ec, c] = claim_and_wait(*sw2, ref("000123"));
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(c.status, original_claim_status::unknown);
  journal_batch answered;
  answered.saf_standby = {id};
  ASSERT_FALSE(write_and_wait(*sw1, std::move(answered)));
  EXPECT_EQ(state_of(id), "standby");

  // Another amount or another STAN: not this original.
  std::tie(ec, c) = claim_and_wait(*sw2, ref("000123", "000000009999"));
  EXPECT_EQ(c.status, original_claim_status::unknown);
  std::tie(ec, c) = claim_and_wait(*sw2, ref("000124"));
  EXPECT_EQ(c.status, original_claim_status::unknown);
  EXPECT_EQ(state_of(id), "standby");

  // sw2 (the terminal failed over to it) claims sw1's original: the reversal is queued under sw2.
  const std::int64_t before = journal_now_us();
  std::tie(ec, c) = claim_and_wait(*sw2, ref("000123"));
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(c.status, original_claim_status::claimed);
  EXPECT_EQ(c.txn_id, id);
  EXPECT_EQ(state_of(id), "reversed");
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE message IS NULL"), 1);
  EXPECT_EQ(pg_->scalar("SELECT instance || ' ' || state || ' ' || kind || ' ' || mti || ' ' || attempts FROM saf "
                        "WHERE txn_id = " +
                        std::to_string(id)),
            "sw2 ready reversal 0400 0");
  EXPECT_GE(count("SELECT created_us FROM saf"), before);
  const auto items = sw2->saf_items({}, true);
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0].message, (std::vector<std::uint8_t>{'0', '4', '0', '0'}));
  EXPECT_TRUE(sw1->saf_items({}, false).empty());

  // The first instance (a repeat of the reversal) finds it reversed and queues nothing more.
  std::tie(ec, c) = claim_and_wait(*sw1, ref("000123"));
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(c.status, original_claim_status::already);
  EXPECT_EQ(c.txn_id, id);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf"), 1);
}

TEST_F(PostgresJournalTest, TwoInstancesClaimingTheSameOriginalsAtOnceQueueEachReversalOnce) {
  auto sw1 = open("sw1");
  auto sw2 = open("sw2");
  constexpr int originals = 200;
  std::vector<std::string> stans;
  for (int i = 0; i < originals; ++i) {
    stans.push_back(fmt::format("{:06}", i + 1));
    ASSERT_FALSE(forward_and_answer(i % 2 == 0 ? *sw1 : *sw2, sw1->next_txn_id(), stans.back().c_str()));
  }
  std::atomic<int> claimed{0};
  std::atomic<int> already{0};
  std::atomic<int> other{0};
  const auto claim_all = [&](journal& j) {
    std::vector<std::future<void>> done;
    for (const auto& stan : stans) {
      auto p = std::make_shared<std::promise<void>>();
      done.push_back(p->get_future());
      j.async_claim_original(ref(stan.c_str()), [&, p](std::error_code ec, original_claim c) {
        if (ec) {
          other.fetch_add(1);
        } else if (c.status == original_claim_status::claimed) {
          claimed.fetch_add(1);
        } else if (c.status == original_claim_status::already) {
          already.fetch_add(1);
        } else {
          other.fetch_add(1);
        }
        p->set_value();
      });
    }
    for (auto& f : done) ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  };
  std::thread t1([&] { claim_all(*sw1); });
  std::thread t2([&] { claim_all(*sw2); });
  t1.join();
  t2.join();
  EXPECT_EQ(claimed.load(), originals);
  EXPECT_EQ(already.load(), originals);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf"), originals);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT txn_id) FROM saf"), originals);
  EXPECT_EQ(count("SELECT COUNT(*) FROM original WHERE state = 'reversed'"), originals);
  EXPECT_EQ(sw1->saf_items({}, false).size() + sw2->saf_items({}, false).size(), static_cast<std::size_t>(originals));
}

TEST_F(PostgresJournalTest, AClaimThatWaitsOnAnotherInstancesClaimOfTheOriginalFindsItAlreadyReversed) {
  auto sw1 = open("sw1");
  const std::int64_t id = sw1->next_txn_id();
  ASSERT_FALSE(forward_and_answer(*sw1, id, "000123"));
  // Another instance's claim, caught between its statements: it holds the original's row.
  PGconn* other = PQconnectdb(pg_->conninfo().c_str());
  ASSERT_EQ(PQstatus(other), CONNECTION_OK);
  const auto run = [other](const std::string& sql) {
    PGresult* r = PQexec(other, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
  };
  ASSERT_TRUE(run("BEGIN"));
  ASSERT_TRUE(run("UPDATE original SET state = 'reversed', message = NULL WHERE txn_id = " + std::to_string(id)));
  std::promise<std::pair<std::error_code, original_claim>> p;
  auto f = p.get_future();
  sw1->async_claim_original(ref("000123"), [&p](std::error_code ec, original_claim c) { p.set_value({ec, c}); });
  // sw1 saw the original on standby and now waits for the row.
  std::int64_t waiting = 0;
  for (int i = 0; i < 500 && waiting == 0; ++i) {
    std::this_thread::sleep_for(10ms);
    waiting = count("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
  }
  EXPECT_EQ(waiting, 1);
  EXPECT_EQ(f.wait_for(0s), std::future_status::timeout);
  ASSERT_TRUE(run("COMMIT"));
  PQfinish(other);
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  const auto [ec, c] = f.get();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(c.status, original_claim_status::already);
  EXPECT_EQ(c.txn_id, id);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf"), 0);  // the other instance queues it, not sw1
}

TEST_F(PostgresJournalTest, ThePurgeDropsSettledOriginalsPastTheWindowOfEveryInstanceButNeverArmedOnes) {
  auto o = options("sw1");
  // Three seconds, not one: `recent` below must stay within the window until the backlog's chunks
  // are purged, which on a loaded machine took longer than a second.
  o.reversal_window = 3s;
  auto j = open_postgresql_journal(o, test_keys());
  const std::int64_t in_flight = j->next_txn_id();
  const std::int64_t standby = j->next_txn_id();
  const std::int64_t reversed = j->next_txn_id();
  const std::int64_t retired = j->next_txn_id();
  journal_batch b;
  b.saf_put = {armed(in_flight), armed(standby), armed(reversed)};
  b.saf_standby = {standby};
  b.saf_make_ready = {reversed};
  ASSERT_FALSE(write_and_wait(*j, std::move(b)));
  {
    // A retired instance's original, never to be opened again.
    auto gone = open("sw9");
    journal_batch g;
    g.saf_put = {armed(retired)};
    g.saf_standby = {retired};
    ASSERT_FALSE(write_and_wait(*gone, std::move(g)));
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM original"), 4);
  // A backlog of several chunks (a switch down for long): purged chunk after chunk, without waiting
  // a second between them.
  exec(
      "INSERT INTO original (txn_id, instance, link_group, state, mti, summary, created_us) SELECT n, 'sw8', "
      "'acquirer', 'reversed', '0400', '', 1 FROM generate_series(1000000000000, 1000000024999) n");
  std::this_thread::sleep_for(3100ms);
  // Settled just now: within the window, kept.
  const std::int64_t recent = j->next_txn_id();
  journal_batch r;
  r.saf_put = {armed(recent)};
  r.saf_standby = {recent};
  ASSERT_FALSE(write_and_wait(*j, std::move(r)));  // the writer purges (due once a second) before writing
  ASSERT_TRUE(j->flush());
  for (int i = 0; i < 300 && count("SELECT COUNT(*) FROM original") > 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(state_of(in_flight), "armed");
  EXPECT_EQ(state_of(recent), "standby");
  EXPECT_EQ(count("SELECT COUNT(*) FROM original"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf WHERE txn_id = " + std::to_string(reversed)), 1);  // the queue keeps it
  // An armed original past the window is still the reversal of a request in flight: recovery sends it.
  j->close();
  j = open_postgresql_journal(o, test_keys());
  EXPECT_EQ(j->recover(), 1U);
  EXPECT_EQ(state_of(in_flight), "reversed");
}

TEST_F(PostgresJournalTest, AVersionOneJournalMigratesItsArmedReversalsOutOfTheQueue) {
  std::int64_t in_flight = 0;
  std::int64_t advice = 0;
  {
    auto j = open("sw1");
    in_flight = j->next_txn_id();
    advice = j->next_txn_id();
    journal_batch b;
    b.saf_put = {armed(in_flight), armed(advice)};
    b.saf_put[1].kind = saf_kind::advice;
    b.saf_put[1].state = saf_state::ready;
    b.saf_put[1].mti = "0220";
    ASSERT_FALSE(write_and_wait(*j, std::move(b)));
  }
  // Back to version 1 as its build left it: the armed reversal in the queue, no originals table.
  exec(
      "INSERT INTO saf (txn_id, instance, link_group, kind, state, mti, summary, created_us, message) SELECT txn_id, "
      "instance, link_group, 'reversal', 'armed', mti, summary, created_us, message FROM original; DROP TABLE "
      "original; DELETE FROM eft_journal_version WHERE version >= 2");
  ASSERT_EQ(count("SELECT COUNT(*) FROM saf WHERE state = 'armed'"), 1);
  // A reader never migrates: it says what to do instead of failing its queries.
  try {
    (void)open_postgresql_journal_read_only(options("sw1"), test_keys());
    FAIL() << "read a version 1 journal with this build's queries";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 1"), std::string::npos) << e.what();
  }
  auto j = open("sw1");
  EXPECT_EQ(count("SELECT MAX(version) FROM eft_journal_version"), journal_schema_version);
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf"), 1);
  EXPECT_EQ(count("SELECT txn_id FROM saf"), advice);
  EXPECT_EQ(
      pg_->scalar("SELECT instance || ' ' || state || ' ' || (message IS NOT NULL) FROM original WHERE txn_id = " +
                  std::to_string(in_flight)),
      "sw1 armed true");
  auto items = j->saf_items({}, true);
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[1].txn_id, in_flight);
  EXPECT_EQ(items[1].state, saf_state::armed);
  EXPECT_EQ(items[1].seq, 0);
  EXPECT_TRUE(items[1].message.empty());  // an armed reversal is never unsealed for a listing
  // The switch that wrote it is gone: recovery queues the migrated reversal, message intact.
  EXPECT_EQ(j->recover(), 1U);
  items = j->saf_items({}, true);
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[1].txn_id, in_flight);
  EXPECT_EQ(items[1].state, saf_state::ready);
  EXPECT_EQ(items[1].message, (std::vector<std::uint8_t>{'0', '4', '0', '0'}));
}

}  // namespace
}  // namespace eft::switch_core
