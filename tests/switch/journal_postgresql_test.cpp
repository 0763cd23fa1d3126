// The PostgreSQL journal's own contract, against a real server started for each case: several
// switch instances sharing one database, the instance lock, migrations, connection loss. The cases
// both backends share are in journal_test.cpp.
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

TEST_F(PostgresJournalTest, CreatesTheSchemaAtVersionOneWithRowsCarryingTheInstance) {
  auto j = open("sw1");
  journal_batch b;
  b.records.push_back(forwarded(j->next_txn_id(), "000001"));
  b.saf_put.push_back(armed(b.records[0].txn_id));
  ASSERT_FALSE(write_and_wait(*j, std::move(b)));
  EXPECT_EQ(count("SELECT MAX(version) FROM eft_journal_version"), journal_schema_version);
  EXPECT_EQ(pg_->scalar("SELECT instance FROM journal"), "sw1");
  EXPECT_EQ(pg_->scalar("SELECT instance FROM saf"), "sw1");
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
  // Reopened: no second migration, the same rows.
  j->close();
  auto again = open("sw1");
  EXPECT_EQ(count("SELECT COUNT(*) FROM eft_journal_version"), 1);
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
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf WHERE instance = 'sw2' AND state = 'armed'"), 1);
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
  EXPECT_EQ(count("SELECT COUNT(*) FROM saf"), writers * per_writer / 2);
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

}  // namespace
}  // namespace eft::switch_core
