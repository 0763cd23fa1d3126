// The switch in-process with a journal, against the test host on 127.0.0.1: what is durable when the
// terminal gets its answer, reversals with field 90, the SAF queue, late answers and recovery. The
// database is read back with the sqlite3 C API.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <tuple>

#include "eft/config/switch.hpp"
#include "eft/iso8583/codec.hpp"
#include "eft/switch/journal.hpp"
#include "eft/switch/metrics.hpp"
#include "eft/switch/saf_forwarder.hpp"
#include "eft/switch/server.hpp"
#include "pg_server.hpp"
#include "test_support.hpp"

namespace eft::switch_core {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::terminal;
using test::test_host;
using test::wait_until;

constexpr const char* pan = "4761739001010010";
constexpr const char* key_hex = "00112233445566778899AABBCCDDEEFF0123456789ABCDEF0123456789ABCDEF";

const iso8583::spec& terminal_spec() {
  static const auto s = iso8583::load_spec("iso87-binary");
  return *s;
}

const iso8583::spec& host_spec() {
  static const auto s = iso8583::load_spec("iso87-ascii");
  return *s;
}

iso8583::message purchase(std::string stan, std::string amount = "000000001000") {
  iso8583::message m(terminal_spec());
  m.set_mti("0200");
  (void)m.set(2U, pan);
  (void)m.set(3U, "000000");
  (void)m.set(4U, amount);
  (void)m.set(7U, "0301120000");
  (void)m.set(11U, stan);
  (void)m.set(22U, "051");
  (void)m.set(32U, "123456");
  (void)m.set(41U, "TERM0001");
  (void)m.set(42U, "MERCHANT0000001");
  (void)m.set(49U, "840");
  return m;
}

std::string config_yaml(std::uint16_t host_port, int timeout_ms, const fs::path& journal,
                        const std::string& route_extra = "") {
  return "switch: {workers: 2, status_interval_ms: 0, shutdown_grace_ms: 2000}\n"
         "listeners:\n"
         "  - {name: pos, address: 127.0.0.1, port: 0, framing: len2+tpdu, spec: iso87-binary}\n"
         "links:\n"
         "  - name: acq1\n"
         "    addresses: [127.0.0.1:" +
         std::to_string(host_port) +
         "]\n"
         "    spec: iso87-ascii\n"
         "    connect_timeout_ms: 1000\n"
         "    reconnect_min_ms: 20\n"
         "    reconnect_max_ms: 200\n"
         "    network_timeout_ms: 500\n"
         "    echo_interval_ms: 0\n"
         "link_groups:\n"
         "  - {name: acquirer, links: [acq1]}\n"
         "routes:\n"
         "  - name: visa\n"
         "    match: {pan_prefixes: [4], mti: [0100, 0200]}\n"
         "    to: acquirer\n"
         "    timeout_ms: " +
         std::to_string(timeout_ms) + "\n" + route_extra +
         "journal:\n"
         "  path: " +
         journal.string() +
         "\n"
         "  durability: process_crash\n"
         "  key_env: EFT_TEST_JOURNAL_KEY\n"
         "  saf_retry_interval_ms: 300\n";
}

class JournalIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* level = std::getenv("EFT_TEST_LOG");
    spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::err);
    ::setenv("EFT_TEST_JOURNAL_KEY", key_hex, 1);
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("eft-journal-it-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
    db_ = dir_ / "journal.db";
  }
  void TearDown() override {
    if (server) server->stop();
    server.reset();
    host.reset();
    pg_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void start(int timeout_ms = 2000, const std::string& route_extra = "") {
    if (!host) host = std::make_unique<test_host>();
    server = std::make_unique<switch_server>(
        config::parse_switch_config_text(yaml(timeout_ms, route_extra), dir_ / "test.yaml"));
    server->start();
    port = server->port("pos");
    ASSERT_NE(port, 0);
    ASSERT_TRUE(wait_until([&] { return server->link("acq1")->ready(); })) << "the link never signed on";
  }

  // One value through the sqlite3 C API on a connection of its own ("" when no row).
  std::string value(const std::string& sql) const {
    sqlite3* db = nullptr;
    std::string out;
    if (sqlite3_open_v2(db_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        if (const auto* p = sqlite3_column_text(s, 0)) out = reinterpret_cast<const char*>(p);
      }
      sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return out;
  }
  std::vector<std::string> host_mtis() const {
    std::vector<std::string> out;
    for (const auto& e : host->events()) {
      const auto sp = e.find(' ');
      const std::string what = e.substr(sp + 1);
      if (what.size() == 4 && what[0] == '0' && what != "0800") out.push_back(what);
    }
    return out;
  }
  // One sample of the Prometheus text of an in-process scrape, by its full name with labels as
  // written ("eft_saf_depth{group=\"acquirer\"}"); -1 when absent.
  double metric(const std::string& sample) const {
    const std::string text = server->metrics().scrape();
    std::size_t at = 0;
    while ((at = text.find(sample + " ", at)) != std::string::npos) {
      if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + sample.size() + 1));
      at += sample.size();
    }
    return -1;
  }
  std::shared_ptr<const journal_keys> keys() const {
    return std::make_shared<journal_keys>(journal_keys::load("EFT_TEST_JOURNAL_KEY", {}));
  }
  // The deployment's config: the SQLite journal db_, or a PostgreSQL one once pg_ runs.
  std::string yaml(int timeout_ms, const std::string& route_extra = "") const {
    std::string y = config_yaml(host->port(), timeout_ms, db_, route_extra);
    if (pg_) {
      const std::string path_line = "  path: " + db_.string() + "\n";
      y.replace(y.find(path_line), path_line.size(),
                "  backend: postgresql\n  conninfo: \"" + pg_->conninfo() + "\"\n  instance: sw1\n");
    }
    return y;
  }

  fs::path dir_;
  fs::path db_;
  std::unique_ptr<test::pg_server> pg_;
  std::unique_ptr<test_host> host;
  std::unique_ptr<switch_server> server;
  std::uint16_t port = 0;
};

TEST_F(JournalIntegration, AnApprovalIsDurableBeforeTheTerminalGetsItAndHoldsNoFullPan) {
  start();
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000101")));
  const auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  // Read at once, from another connection: received, forwarded and completed are there already.
  EXPECT_EQ(value("SELECT group_concat(event, ',') FROM (SELECT event FROM journal ORDER BY id)"),
            "received,forwarded,completed");
  EXPECT_EQ(value("SELECT pan_masked FROM journal WHERE event = 'received'"), "476173******0010");
  EXPECT_EQ(value("SELECT pan_hash FROM journal WHERE event = 'received'"), keys()->pan_hash(pan));
  EXPECT_EQ(value("SELECT terminal || ' ' || terminal_stan || ' ' || amount || ' ' || currency FROM journal "
                  "WHERE event = 'received'"),
            "TERM0001 000101 000000001000 840");
  ASSERT_EQ(host->stan_rrn().size(), 1U);
  EXPECT_EQ(value("SELECT host_stan || ' ' || rrn || ' ' || route || ' ' || link FROM journal WHERE event = "
                  "'forwarded'"),
            host->stan_rrn()[0].first + " " + host->stan_rrn()[0].second + " visa acq1");
  EXPECT_EQ(value("SELECT rc FROM journal WHERE event = 'completed'"), "00");
  EXPECT_NE(value("SELECT latency_us FROM journal WHERE event = 'completed'"), "");
  // Answered: nothing queued; its reversal waits on standby (sealed) for the terminal's own reversal.
  EXPECT_EQ(value("SELECT COUNT(*) FROM saf"), "0");
  EXPECT_EQ(value("SELECT state FROM original"), "standby");
  // The metrics count the journal's part: two awaited writes (forwarded, completed: DESIGN.md's
  // durable steps), each in a commit of its own, the received record riding with the forwarded one
  // (and the writer's first purge of old originals, at open, in a commit of its own).
  EXPECT_EQ(metric("eft_journal_wait_seconds_count"), 2);
  EXPECT_EQ(metric("eft_journal_commit_writes_total"), 3);
  EXPECT_GE(metric("eft_journal_commits_total"), 2);
  EXPECT_LE(metric("eft_journal_commits_total"), 3);
  EXPECT_EQ(metric("eft_journal_commit_seconds_count"), metric("eft_journal_commits_total"));
  EXPECT_EQ(metric("eft_journal_wait_seconds_bucket{le=\"+Inf\"}"), 2);
  EXPECT_GT(metric("eft_journal_wait_seconds_sum"), 0);
  // Whole 4 KB pages with their 24-byte frame headers: each of those commits changed a few.
  EXPECT_GE(metric("eft_journal_wal_bytes_total"), 2 * (24 + 4096));
  EXPECT_EQ(static_cast<std::int64_t>(metric("eft_journal_wal_bytes_total")) % (24 + 4096), 0);
  server->stop();
  std::string bytes;
  for (const auto* suffix : {"", "-wal"}) {
    std::ifstream in(db_.string() + suffix, std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(bytes.size(), 4096U);
  EXPECT_EQ(bytes.find(pan), std::string::npos) << "the full PAN is in the journal";
}

TEST_F(JournalIntegration, ATimeoutQueuesAReversalWithField90BeforeTheTerminalIsAnsweredAndSafRepeatsItUntilAcked) {
  host = std::make_unique<test_host>();
  host->delay_ms = -1;  // the host never answers: the purchase and the first reversal time out
  start(200);
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000102")));
  const auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "91");
  // The reversal was ready in the SAF queue before the terminal had its answer.
  EXPECT_EQ(value("SELECT state || ' ' || kind || ' ' || mti || ' ' || link_group FROM saf"),
            "ready reversal 0400 acquirer");
  EXPECT_EQ(value("SELECT detail FROM journal WHERE event = 'timed_out'"), "timeout: reversal queued");
  ASSERT_TRUE(wait_until([&] { return server->saf()->depths()["acquirer"].ready == 1; }, 2000ms));
  // Scraped: one ready item for the group, its age counted from its creation.
  EXPECT_EQ(metric("eft_saf_depth{group=\"acquirer\"}"), 1.0);
  EXPECT_GE(metric("eft_saf_oldest_age_seconds{group=\"acquirer\"}"), 0.0);
  EXPECT_LT(metric("eft_saf_oldest_age_seconds{group=\"acquirer\"}"), 5.0);
  ASSERT_GE(host->stan_rrn().size(), 1U);  // the 0200 (the SAF's 0400 may have followed)
  const std::string original_stan = host->stan_rrn()[0].first;

  // The queued message, as the SAF will send it: field 90 per ISO 8583:1987 (n42).
  auto ro = open_sqlite_journal_read_only(db_, keys());
  const auto items = ro->saf_items("acquirer", true);
  ASSERT_EQ(items.size(), 1U);
  iso8583::message rev(host_spec());
  ASSERT_TRUE(iso8583::unpack(std::as_bytes(std::span<const std::uint8_t>(items[0].message)), rev));
  EXPECT_EQ(rev.mti(), "0400");
  const std::string f90(rev.get(90U).value_or(""));
  ASSERT_EQ(f90.size(), 42U);
  EXPECT_EQ(f90.substr(0, 4), "0200");                      // original MTI
  EXPECT_EQ(f90.substr(4, 6), original_stan);               // original STAN (the switch's, toward the host)
  EXPECT_EQ(f90.substr(10, 10), rev.get(7U).value_or(""));  // original transmission date and time
  EXPECT_EQ(f90.substr(20, 11), "00000123456");             // acquiring institution id, zero-filled
  EXPECT_EQ(f90.substr(31, 11), "00000000000");             // forwarding institution id: absent
  EXPECT_EQ(rev.get(2U), pan);
  EXPECT_EQ(rev.get(4U), "000000001000");
  EXPECT_FALSE(rev.has(52U));

  // The SAF sends it (0400), gets no answer, then the host comes back: the repeat (0401) is acked.
  ASSERT_TRUE(wait_until([&] { return host_mtis().size() >= 2; }, 3000ms));
  host->delay_ms = 0;
  ASSERT_TRUE(wait_until([&] { return value("SELECT COUNT(*) FROM saf") == "0"; }, 5000ms));
  const auto mtis = host_mtis();
  ASSERT_GE(mtis.size(), 3U);
  EXPECT_EQ(mtis[0], "0200");
  EXPECT_EQ(mtis[1], "0400");
  EXPECT_EQ(mtis.back(), "0401");
  EXPECT_EQ(value("SELECT COUNT(*) FROM journal WHERE event = 'reversed' AND mti LIKE '041_'"), "1");
  EXPECT_TRUE(wait_until([&] { return server->saf()->counters().acknowledged.load() == 1U; }, 2000ms));
  // The depth metric follows at the forwarder's next pass.
  EXPECT_TRUE(wait_until([&] { return server->status().find("saf acquirer ready=0") != std::string::npos; }, 2000ms))
      << server->status();
  EXPECT_TRUE(wait_until([&] { return metric("eft_saf_depth{group=\"acquirer\"}") == 0.0; }, 2000ms));
  EXPECT_EQ(metric("eft_saf_oldest_age_seconds{group=\"acquirer\"}"), 0.0);
  EXPECT_EQ(metric("eft_saf_acknowledged_total"), 1.0);
  EXPECT_EQ(metric("eft_saf_sent_total"), static_cast<double>(mtis.size() - 1));  // all but the 0200
  EXPECT_EQ(metric("eft_saf_expired_total"), 0.0);
  // Acknowledged once, never sent again.
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(host_mtis().size(), mtis.size());
}

TEST_F(JournalIntegration, ALateAnswerIsJournaledAndNeverReachesTheTerminal) {
  host = std::make_unique<test_host>();
  host->delay_ms = 600;
  start(200);
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000103")));
  const auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "91");
  ASSERT_TRUE(wait_until([&] { return server->link("acq1")->counters().late.get() == 1; }, 3000ms));
  server->journal()->flush();
  EXPECT_EQ(value("SELECT COUNT(*) FROM journal WHERE event = 'late_answer' AND rc = '00' AND txn_id = "
                  "(SELECT txn_id FROM journal WHERE event = 'received')"),
            "1");
  EXPECT_FALSE(t.receive(terminal_spec(), 200ms).has_value());
}

TEST_F(JournalIntegration, AtStartAReversalLeftArmedByACrashedRunIsSentAndAcknowledged) {
  {
    // What a run killed with a request in flight leaves: the forwarded record and an armed reversal.
    sqlite_journal_options o;
    o.path = db_;
    auto j = open_sqlite_journal(o, keys());
    iso8583::message rev(host_spec());
    rev.set_mti("0400");
    (void)rev.set(2U, pan);
    (void)rev.set(3U, "000000");
    (void)rev.set(4U, "000000002500");
    (void)rev.set(11U, "000777");
    (void)rev.set(41U, "TERM0001");
    (void)rev.set(90U, "020000077711261200000000012345600000000000");
    std::vector<std::byte> packed;
    ASSERT_TRUE(iso8583::pack(rev, packed));
    saf_item it;
    it.txn_id = j->next_txn_id();
    it.link_group = "acquirer";
    it.mti = "0400";
    it.summary = "0400 stan=000777";
    it.created_us = journal_now_us();
    for (const auto b : packed) it.message.push_back(static_cast<std::uint8_t>(b));
    journal_batch b;
    journal_record fwd;
    fwd.txn_id = it.txn_id;
    fwd.event = journal_event::forwarded;
    fwd.at_us = journal_now_us();
    b.records.push_back(fwd);
    b.saf_put.push_back(std::move(it));
    ASSERT_TRUE(j->post(std::move(b)));
    ASSERT_TRUE(j->flush());
  }
  start();
  ASSERT_TRUE(wait_until([&] { return value("SELECT COUNT(*) FROM saf") == "0"; }, 5000ms));
  EXPECT_EQ(host_mtis(), std::vector<std::string>{"0400"});
  EXPECT_EQ(value("SELECT group_concat(event, ',') FROM (SELECT event FROM journal ORDER BY id)"),
            "forwarded,timed_out,reversed");
}

TEST_F(JournalIntegration, ARepeatedRequestNeverReachesTheHostTwiceAndGetsTheFirstAnswer) {
  host = std::make_unique<test_host>();
  host->delay_ms = 300;
  start();
  terminal a(port);
  terminal b(port);
  // The repeat arrives while the first is in flight, on another connection: it waits for the answer.
  ASSERT_TRUE(a.send(purchase("000104")));
  ASSERT_TRUE(wait_until([&] { return host->requests.load() == 1; }, 2000ms));
  ASSERT_TRUE(b.send(purchase("000104")));
  const auto ra = a.receive(terminal_spec());
  const auto rb = b.receive(terminal_spec());
  ASSERT_TRUE(ra.has_value() && rb.has_value());
  EXPECT_EQ(ra->get(39U), "00");
  EXPECT_EQ(rb->get(39U), "00");
  EXPECT_EQ(rb->get(38U), ra->get(38U));
  EXPECT_EQ(rb->get(11U), "000104");
  // Once answered, a third copy gets the same answer at once.
  ASSERT_TRUE(a.send(purchase("000104")));
  const auto rc = a.receive(terminal_spec(), 1000ms);
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(rc->get(39U), "00");
  EXPECT_EQ(host->requests.load(), 1);
  EXPECT_EQ(server->counters().duplicates.get(), 2U);
  // Another STAN is another transaction.
  ASSERT_TRUE(a.send(purchase("000105")));
  ASSERT_TRUE(a.receive(terminal_spec()).has_value());
  EXPECT_EQ(host->requests.load(), 2);
  server->journal()->flush();
  EXPECT_EQ(value("SELECT COUNT(*) FROM journal WHERE event = 'declined' AND detail LIKE 'duplicate of txn %'"), "2");
}

// Stand-in with an approve policy: floor limit 50.00, declines with RC 05, breaker after 2 timeouts.
constexpr const char* stand_in_yaml =
    "    stand_in: {policy: approve, floor_limit: 5000, rc: \"05\", breaker: {timeouts: 2, window_s: 60, open_s: 1}}\n";

TEST_F(JournalIntegration, StandInApprovesUnderTheFloorLimitWithADurableAdviceSentWhenTheHostIsBack) {
  host = std::make_unique<test_host>();
  start(2000, stand_in_yaml);
  // The group goes down: the host drops the link and refuses to sign it on again.
  host->refuse_sign_on = true;
  host->drop_connections();
  ASSERT_TRUE(wait_until([&] { return !server->link("acq1")->ready(); }, 2000ms));
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000201", "000000001000")));
  const auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->mti(), "0210");
  EXPECT_EQ(r->get(39U), "00");
  const std::string auth(r->get(38U).value_or(""));
  ASSERT_EQ(auth.size(), 6U);
  EXPECT_EQ(auth[0], 'S');
  EXPECT_EQ(r->get(11U), "000201");
  // Journaled and the advice durable before the answer: read at once from another connection.
  EXPECT_EQ(value("SELECT rc || ' ' || route || ' ' || mti FROM journal WHERE event = 'stand_in'"), "00 visa 0210");
  EXPECT_EQ(value("SELECT state || ' ' || kind || ' ' || mti || ' ' || link_group FROM saf"),
            "ready advice 0220 acquirer");
  EXPECT_EQ(value("SELECT COUNT(*) FROM journal WHERE event = 'forwarded'"), "0");
  {
    auto ro = open_sqlite_journal_read_only(db_, keys());
    const auto items = ro->saf_items("acquirer", true);
    ASSERT_EQ(items.size(), 1U);
    iso8583::message adv(host_spec());
    ASSERT_TRUE(iso8583::unpack(std::as_bytes(std::span<const std::uint8_t>(items[0].message)), adv));
    EXPECT_EQ(adv.mti(), "0220");
    EXPECT_EQ(adv.get(38U), auth);
    EXPECT_EQ(adv.get(39U), "00");
    EXPECT_EQ(adv.get(2U), pan);
    EXPECT_EQ(adv.get(4U), "000000001000");
    EXPECT_EQ(adv.get(41U), "TERM0001");
    EXPECT_FALSE(adv.has(52U));
  }
  // Above the floor limit: the route's stand-in RC, nothing queued.
  ASSERT_TRUE(t.send(purchase("000202", "000000006000")));
  const auto r2 = t.receive(terminal_spec());
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->get(39U), "05");
  EXPECT_FALSE(r2->has(38U));
  EXPECT_EQ(value("SELECT COUNT(*) FROM saf"), "1");
  EXPECT_EQ(metric("eft_stand_in_total{route=\"visa\",decision=\"approved\"}"), 1.0);
  EXPECT_EQ(metric("eft_stand_in_total{route=\"visa\",decision=\"declined\"}"), 1.0);
  EXPECT_EQ(host->requests.load(), 0);
  // The host comes back: the advice goes as 0220 and is removed on the 0230.
  host->refuse_sign_on = false;
  ASSERT_TRUE(wait_until([&] { return value("SELECT COUNT(*) FROM saf") == "0"; }, 5000ms));
  EXPECT_EQ(host_mtis(), std::vector<std::string>{"0220"});
  server->journal()->flush();
  EXPECT_EQ(value("SELECT COUNT(*) FROM journal WHERE event = 'reversed' AND mti = '0230'"), "1");
}

TEST_F(JournalIntegration, TheBreakerOpensAfterRepeatedTimeoutsAndLetsOneRequestThroughAfterOpenS) {
  host = std::make_unique<test_host>();
  host->delay_ms = -1;
  start(200, stand_in_yaml);
  terminal t(port);
  for (const char* stan : {"000301", "000302"}) {
    ASSERT_TRUE(t.send(purchase(stan)));
    const auto r = t.receive(terminal_spec());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->get(39U), "91");  // the route's timeout_rc
  }
  auto sent_0200 = [&] {
    const auto m = host_mtis();
    return std::count(m.begin(), m.end(), std::string("0200"));
  };
  EXPECT_EQ(sent_0200(), 2);
  // Open: the link is up, yet nothing goes to the host; the stand-in approves at once.
  ASSERT_TRUE(server->link("acq1")->ready());
  ASSERT_TRUE(t.send(purchase("000303")));
  const auto r3 = t.receive(terminal_spec(), 150ms);
  ASSERT_TRUE(r3.has_value());
  EXPECT_EQ(r3->get(39U), "00");
  EXPECT_EQ(r3->get(38U).value_or("").substr(0, 1), "S");
  EXPECT_EQ(sent_0200(), 2);
  // After open_s, one request goes through; answered, it closes the breaker.
  host->delay_ms = 0;
  std::this_thread::sleep_for(1100ms);
  ASSERT_TRUE(t.send(purchase("000304")));
  const auto r4 = t.receive(terminal_spec());
  ASSERT_TRUE(r4.has_value());
  EXPECT_EQ(r4->get(39U), "00");
  EXPECT_EQ(r4->get(38U), "AB1234");
  EXPECT_EQ(sent_0200(), 3);
  ASSERT_TRUE(t.send(purchase("000305")));
  ASSERT_TRUE(t.receive(terminal_spec()).has_value());
  EXPECT_EQ(sent_0200(), 4);
}

TEST_F(JournalIntegration, AStandInConfigWithoutAFloorLimitIsRefusedWithItsLine) {
  host = std::make_unique<test_host>();
  try {
    (void)config::parse_switch_config_text(config_yaml(host->port(), 2000, db_, "    stand_in: {policy: approve}\n"),
                                           dir_ / "test.yaml");
    FAIL() << "accepted";
  } catch (const config::config_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("test.yaml:"), std::string::npos) << what;
    EXPECT_NE(what.find("stand_in approves without a floor_limit"), std::string::npos) << what;
  }
}

// A terminal's reversal of an original sent as purchase(stan): its own STAN and field 90 (n42 by
// position: original MTI, STAN, transmission date and time, acquirer id, forwarding id).
iso8583::message terminal_reversal(std::string mti, std::string stan, std::string original_stan,
                                   std::string amount = "000000001000") {
  iso8583::message m = purchase(std::move(stan), std::move(amount));
  m.set_mti(mti);
  (void)m.set(7U, "0301120500");
  (void)m.set(90U, "0200" + original_stan + "0301120000" + "00000123456" + "00000000000");
  return m;
}

TEST_F(JournalIntegration, ATerminalReversalIsMatchedToTheOriginalAndQueuedWithTheHostSideIdsOnce) {
  host = std::make_unique<test_host>();
  start();
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000401")));
  const auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->get(39U), "00");
  ASSERT_EQ(host->stan_rrn().size(), 1U);
  const auto [host_stan, host_rrn] = host->stan_rrn()[0];
  ASSERT_NE(host_stan, "000401");

  // Held back from the host until the reversal is durable; then answered 0410 RC 00.
  host->delay_ms = -1;
  ASSERT_TRUE(t.send(terminal_reversal("0400", "000402", "000401")));
  const auto a = t.receive(terminal_spec());
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->mti(), "0410");
  EXPECT_EQ(a->get(39U), "00");
  EXPECT_EQ(a->get(11U), "000402");
  // Ready in SAF, under the original's transaction, before the answer.
  EXPECT_EQ(value("SELECT state || ' ' || kind || ' ' || mti || ' ' || link_group FROM saf"),
            "ready reversal 0400 acquirer");
  EXPECT_EQ(value("SELECT txn_id FROM saf"), value("SELECT txn_id FROM journal WHERE event = 'forwarded'"));
  {
    auto ro = open_sqlite_journal_read_only(db_, keys());
    const auto items = ro->saf_items("acquirer", true);
    ASSERT_EQ(items.size(), 1U);
    iso8583::message rev(host_spec());
    ASSERT_TRUE(iso8583::unpack(std::as_bytes(std::span<const std::uint8_t>(items[0].message)), rev));
    EXPECT_EQ(rev.get(11U), host_stan);
    EXPECT_EQ(rev.get(37U), host_rrn);
    const std::string f90(rev.get(90U).value_or(""));
    ASSERT_EQ(f90.size(), 42U);
    EXPECT_EQ(f90.substr(0, 4), "0200");
    EXPECT_EQ(f90.substr(4, 6), host_stan);                   // the STAN the host saw, not 000401
    EXPECT_EQ(f90.substr(10, 10), rev.get(7U).value_or(""));  // the host's field 7 of the original
    EXPECT_NE(f90.substr(10, 10), "0301120000");
    EXPECT_EQ(f90.substr(20, 11), "00000123456");
    EXPECT_EQ(f90.substr(31, 11), "00000000000");
    EXPECT_EQ(rev.get(4U), "000000001000");
  }
  // A repeat gets the same answer and queues nothing more.
  ASSERT_TRUE(t.send(terminal_reversal("0401", "000403", "000401")));
  const auto a2 = t.receive(terminal_spec());
  ASSERT_TRUE(a2.has_value());
  EXPECT_EQ(a2->get(39U), "00");
  EXPECT_EQ(value("SELECT COUNT(*) FROM saf"), "1");
  // The host acknowledges; one 0400 (or its repeats) reached it, and nothing after.
  host->delay_ms = 0;
  ASSERT_TRUE(wait_until([&] { return value("SELECT COUNT(*) FROM saf") == "0"; }, 5000ms));
  ASSERT_TRUE(t.send(terminal_reversal("0401", "000404", "000401")));
  const auto a3 = t.receive(terminal_spec());
  ASSERT_TRUE(a3.has_value());
  EXPECT_EQ(a3->get(39U), "00");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(value("SELECT COUNT(*) FROM saf"), "0");
  const auto mtis = host_mtis();
  EXPECT_EQ(std::count(mtis.begin(), mtis.end(), std::string("0200")), 1);
  EXPECT_EQ(value("SELECT COUNT(*) FROM journal WHERE event = 'reversed'"), "1");

  // Unknown original, or another amount: 0410 RC 25, nothing queued.
  ASSERT_TRUE(t.send(terminal_reversal("0400", "000405", "999999")));
  const auto u = t.receive(terminal_spec());
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->mti(), "0410");
  EXPECT_EQ(u->get(39U), "25");
  ASSERT_TRUE(t.send(terminal_reversal("0400", "000406", "000401", "000000002000")));
  const auto u2 = t.receive(terminal_spec());
  ASSERT_TRUE(u2.has_value());
  EXPECT_EQ(u2->get(39U), "25");
  EXPECT_EQ(value("SELECT COUNT(*) FROM saf"), "0");
}

// Runs eftctl with the arguments (and `input` on stdin); its stdout and stderr, and the exit status.
std::pair<std::string, int> eftctl(const std::string& args, const std::string& input = "") {
  const std::string cmd = "printf '%s' '" + input + "' | " EFT_EFTCTL_PATH " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {"popen failed", -1};
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// The host never charges a stand-in approval its terminal reversed: the queued 0220 advice is
// replaced by the advice's reversal, prepared with it, and only that reaches the host.
TEST_F(JournalIntegration, AStandInApprovalItsTerminalReversesReachesTheHostAsAReversalNotAnAdvice) {
  host = std::make_unique<test_host>();
  start(2000, stand_in_yaml);
  host->refuse_sign_on = true;
  host->drop_connections();
  ASSERT_TRUE(wait_until([&] { return !server->link("acq1")->ready(); }, 2000ms));
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000301", "000000001000")));
  const auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->get(39U), "00");
  ASSERT_EQ(value("SELECT kind || ' ' || mti FROM saf"), "advice 0220");

  ASSERT_TRUE(t.send(terminal_reversal("0400", "000302", "000301")));
  const auto a = t.receive(terminal_spec());
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->mti(), "0410");
  EXPECT_EQ(a->get(39U), "00");
  // Durable before the answer: one item, the reversal, in place of the advice.
  EXPECT_EQ(value("SELECT COUNT(*) || ' ' || state || ' ' || kind || ' ' || mti FROM saf"), "1 ready reversal 0400");
  {
    auto ro = open_sqlite_journal_read_only(db_, keys());
    const auto items = ro->saf_items("acquirer", true);
    ASSERT_EQ(items.size(), 1U);
    iso8583::message rev(host_spec());
    ASSERT_TRUE(iso8583::unpack(std::as_bytes(std::span<const std::uint8_t>(items[0].message)), rev));
    const std::string f90(rev.get(90U).value_or(""));
    ASSERT_EQ(f90.size(), 42U);
    EXPECT_EQ(f90.substr(0, 4), "0220");  // it reverses the advice, by the ids the advice carries
    EXPECT_EQ(f90.substr(4, 6), "000301");
    EXPECT_EQ(rev.get(4U), "000000001000");
    EXPECT_EQ(rev.get(38U), r->get(38U));
    EXPECT_FALSE(rev.has(52U));
  }
  host->refuse_sign_on = false;
  ASSERT_TRUE(wait_until([&] { return value("SELECT COUNT(*) FROM saf") == "0"; }, 5000ms));
  EXPECT_EQ(host_mtis(), std::vector<std::string>{"0400"});
}

TEST_F(JournalIntegration, EftctlQueriesTheJournalByPanAndManagesTheSafQueue) {
  host = std::make_unique<test_host>();
  start(200);
  const std::string config = (dir_ / "switch.yaml").string();
  std::ofstream(config) << config_yaml(host->port(), 200, db_);
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000106")));
  ASSERT_TRUE(t.receive(terminal_spec()).has_value());
  host->delay_ms = -1;  // the next one times out and its reversal stays queued
  ASSERT_TRUE(t.send(purchase("000107")));
  ASSERT_TRUE(t.receive(terminal_spec()).has_value());

  // Queries while the switch runs, by PAN (hashed with the journal key) and by terminal.
  auto [out, rc] = eftctl("journal --config " + config + " --pan " + pan);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("completed"), std::string::npos) << out;
  EXPECT_NE(out.find("timed_out"), std::string::npos) << out;
  EXPECT_NE(out.find("476173******0010"), std::string::npos) << out;
  EXPECT_EQ(out.find(pan), std::string::npos) << out;
  std::tie(out, rc) = eftctl("journal --json --config " + config + " --terminal TERM0001 --from 2000-01-01");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\"terminal_stan\":\"000107\""), std::string::npos) << out;
  std::tie(out, rc) = eftctl("saf list --config " + config);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("reversal ready 0400"), std::string::npos) << out;
  EXPECT_NE(out.find("depth acquirer: ready=1"), std::string::npos) << out;
  // The full check of every page, which the switch does not run at start, beside the live switch.
  std::tie(out, rc) = eftctl("journal --config " + config + " --check");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("(quick_check): ok"), std::string::npos) << out;
  std::tie(out, rc) = eftctl("journal --config " + config + " --check --thorough");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("(integrity_check): ok"), std::string::npos) << out;
  std::tie(out, rc) = eftctl("journal --config " + config + " --thorough");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("--thorough goes with --check"), std::string::npos) << out;

  // Writes need the switch stopped: the journal's lock says it runs.
  std::tie(out, rc) = eftctl("saf purge --config " + config + " --group acquirer --yes");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("locked by another process"), std::string::npos) << out;
  server->stop();
  std::tie(out, rc) = eftctl("saf purge --config " + config + " --group acquirer", "no\n");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(value("SELECT COUNT(*) FROM saf"), "1");
  std::tie(out, rc) = eftctl("saf purge --config " + config + " --group acquirer", "purge\n");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(value("SELECT COUNT(*) FROM saf"), "0");
  EXPECT_EQ(value("SELECT COUNT(*) FROM journal WHERE event = 'expired' AND detail LIKE 'purged%'"), "1");
}

TEST_F(JournalIntegration, WithAPostgresqlJournalTheSwitchReversesThroughSafAndEftctlReadsIt) {
  if (const std::string why = test::pg_server::unavailable(); !why.empty()) GTEST_SKIP() << why;
  pg_ = std::make_unique<test::pg_server>();
  host = std::make_unique<test_host>();
  host->delay_ms = -1;  // the purchase and the first reversal time out
  start(200);
  const std::string config = (dir_ / "switch.yaml").string();
  std::ofstream(config) << yaml(200);
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000108")));
  const auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "91");
  EXPECT_EQ(pg_->scalar("SELECT string_agg(event, ',' ORDER BY id) FROM journal WHERE instance = 'sw1'"),
            "received,forwarded,timed_out");
  EXPECT_EQ(pg_->scalar("SELECT state || ' ' || mti || ' ' || instance FROM saf"), "ready 0400 sw1");
  auto [out, rc] = eftctl("saf list --config " + config);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("reversal ready 0400"), std::string::npos) << out;
  // The forwarder sends it, the host comes back and acknowledges the repeat.
  ASSERT_TRUE(wait_until([&] { return host_mtis().size() >= 2; }, 3000ms));
  host->delay_ms = 0;
  ASSERT_TRUE(wait_until([&] { return pg_->scalar("SELECT COUNT(*) FROM saf") == "0"; }, 5000ms));
  EXPECT_EQ(pg_->scalar("SELECT COUNT(*) FROM journal WHERE event = 'reversed'"), "1");
  std::tie(out, rc) = eftctl("journal --config " + config + " --pan " + pan);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("timed_out"), std::string::npos) << out;
  EXPECT_NE(out.find("476173******0010"), std::string::npos) << out;
  EXPECT_NE(out.find("instance=sw1"), std::string::npos) << out;
  EXPECT_EQ(out.find(pan), std::string::npos) << out;
  // A second switch on the same instance stops at start; writes by eftctl need this one stopped.
  try {
    switch_server second(config::parse_switch_config_text(yaml(200), dir_ / "second.yaml"));
    second.start();
    ADD_FAILURE() << "a second switch started on instance sw1";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find("held by another live process"), std::string::npos) << e.what();
  }
  std::tie(out, rc) = eftctl("saf retry --config " + config + " --all");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("held by another live process"), std::string::npos) << out;
  server->stop();
  const std::string dump = pg_->dump();
  ASSERT_GT(dump.size(), 1000U);
  EXPECT_EQ(dump.find(pan), std::string::npos) << "the full PAN is in the database";
}

TEST_F(JournalIntegration, TheSwitchRefusesToStartOnACorruptJournalAndLeavesItAlone) {
  {
    std::ofstream out(db_, std::ios::binary);
    out << std::string(4096, 'Z');
  }
  host = std::make_unique<test_host>();
  server = std::make_unique<switch_server>(
      config::parse_switch_config_text(config_yaml(host->port(), 2000, db_), dir_ / "test.yaml"));
  try {
    server->start();
    FAIL() << "started on a corrupt journal";
  } catch (const journal_open_error& e) {
    EXPECT_NE(std::string(e.what()).find(db_.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not an SQLite database"), std::string::npos) << e.what();
  }
  std::ifstream in(db_, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), std::string(4096, 'Z'));
  server.reset();
}

}  // namespace
}  // namespace eft::switch_core
