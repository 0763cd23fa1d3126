// The transaction integrity invariants (DESIGN.md) proven against the real processes on 127.0.0.1:
// termsim load through eftswitch (SQLite journal, SAF) to hostsim, with the switch killed (SIGKILL)
// at random moments and restarted on the same journal, and with a host that stops answering, drops
// the link with requests in flight, answers late and answers twice. After SAF has drained, hostsim's
// per-transaction record is reconciled with the journal and termsim's report; the journal files and
// every log of the run are scanned for card data in clear. A terminal's own reversal of an approval
// the switch forwarded before a kill -9 is matched through the journal alone, once. Every process is
// killed at the end.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/crypto/primitives.hpp"
#include "sim_process.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using eft::test::read_json;
using eft::test::sim_process;

// Test keys, the same as simulators/examples (the PVVs and offset below were computed from them).
constexpr const char* tpk = "0123456789ABCDEFFEDCBA9876543210";
constexpr const char* zpk = "89ABCDEF01234567FEDCBA9876543210";
constexpr const char* imk = "0123456789ABCDEFFEDCBA9876543210";
constexpr const char* lmk = "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF";
constexpr const char* journal_key = "A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90";
const std::vector<std::string> test_pans = {"4761739001010010", "5413330089600010"};
const std::vector<std::string> test_pins = {"1234", "4321"};

/// One row of the journal table.
struct journal_row {
  std::int64_t txn_id = 0;
  std::string event, terminal, mti, terminal_stan, transmission, host_stan, rrn, rc, detail;
};

std::string column_text(sqlite3_stmt* st, int i) {
  const auto* t = sqlite3_column_text(st, i);
  return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
}

/// The journal's rows and SAF depth, read with the SQLite C API (read-only: works while the switch
/// runs, through the WAL).
struct journal_snapshot {
  std::vector<journal_row> rows;
  std::int64_t saf_armed = 0;
  std::int64_t saf_ready = 0;
  bool ok = false;
};

journal_snapshot read_journal(const fs::path& db_path, bool with_rows) {
  journal_snapshot s;
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close_v2(raw);
    return s;
  }
  const std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> db(raw, &sqlite3_close_v2);
  sqlite3_busy_timeout(db.get(), 2000);
  auto each = [&](const char* sql, auto&& row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql, -1, &st, nullptr) != SQLITE_OK) return false;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
  };
  // Armed reversals (requests in flight) live with their originals; the queue holds the rest.
  s.ok = each(
      "SELECT 'armed', COUNT(*) FROM original WHERE state = 'armed' UNION ALL "
      "SELECT state, COUNT(*) FROM saf GROUP BY state",
      [&](sqlite3_stmt* st) {
        (column_text(st, 0) == "armed" ? s.saf_armed : s.saf_ready) += sqlite3_column_int64(st, 1);
      });
  if (s.ok && with_rows) {
    s.ok = each(
        "SELECT txn_id, event, terminal, mti, terminal_stan, transmission, host_stan, rrn, rc, detail FROM journal "
        "ORDER BY id",
        [&](sqlite3_stmt* st) {
          journal_row r;
          r.txn_id = sqlite3_column_int64(st, 0);
          r.event = column_text(st, 1);
          r.terminal = column_text(st, 2);
          r.mti = column_text(st, 3);
          r.terminal_stan = column_text(st, 4);
          r.transmission = column_text(st, 5);
          r.host_stan = column_text(st, 6);
          r.rrn = column_text(st, 7);
          r.rc = column_text(st, 8);
          r.detail = column_text(st, 9);
          s.rows.push_back(std::move(r));
        });
  }
  return s;
}

/// A free TCP port on 127.0.0.1 (the switch must come back on the same one after each kill).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The PAN as packed BCD (how a binary dialect carries field 2).
std::string bcd_of(const std::string& digits) {
  std::string out;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<char>(((digits[i] - '0') << 4) | (digits[i + 1] - '0')));
  }
  return out;
}

/// Every form a test card's PIN block takes on the wire: clear ISO 9564 format 0 and encrypted under
/// the terminal and zone PIN keys (format 0 has no random fill, so each card's blocks are fixed), as
/// bytes and as hex digits.
std::vector<std::pair<std::string, std::string>> pin_block_forms() {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < test_pans.size(); ++i) {
    auto clear = eft::crypto::make_pin_block(eft::crypto::pin_block_format::iso0, test_pins[i], test_pans[i]);
    if (!clear) continue;
    std::vector<std::pair<std::string, eft::crypto::bytes>> blocks;
    blocks.emplace_back("clear", eft::crypto::bytes(clear->view().begin(), clear->view().end()));
    for (const auto& [name, hex] : {std::pair{"under the TPK", tpk}, std::pair{"under the ZPK", zpk}}) {
      const auto key = eft::crypto::from_hex(hex);
      if (!key) continue;
      if (auto enc = eft::crypto::ecb_encrypt(eft::crypto::cipher::tdes, *key, clear->view())) {
        blocks.emplace_back(name, std::move(*enc));
      }
    }
    for (const auto& [name, b] : blocks) {
      const std::string what = "PIN block (" + std::string(name) + ") of card " + std::to_string(i + 1);
      out.emplace_back(what, std::string(b.begin(), b.end()));
      out.emplace_back(what + " in hex", eft::crypto::to_hex(b));
    }
  }
  return out;
}

/// What a reconciliation counted.
struct reconciliation {
  std::size_t host_originals = 0;      ///< 0100/0200 the host received
  std::size_t host_approved = 0;       ///< of them answered (or decided) RC 00 by the host
  std::size_t completed_approved = 0;  ///< host approvals completed in the journal
  std::size_t reversed_approved = 0;   ///< host approvals reversed and acknowledged
  std::size_t reversals_first = 0;     ///< 0400 the host received
  std::size_t reversals_repeat = 0;    ///< 0401 the host received
  std::size_t journal_reversed = 0;    ///< `reversed` records (acknowledged reversals) in the journal
  std::size_t journal_timed_out = 0;   ///< `timed_out` records (outcome unknown)
  std::size_t journal_late = 0;        ///< `late_answer` records
  std::size_t terminal_approved = 0;   ///< RC 00 answers termsim counted
};

class TransactionIntegrity : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("eft-integrity-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    ::setenv("EFT_HSM_LMK", lmk, 1);
    ::setenv("EFT_JOURNAL_KEY", journal_key, 1);
  }
  void TearDown() override {
    // Children first (their destructors kill them), then the files; kept when the test failed.
    sw.reset();
    host.reset();
    if (!HasFailure() && std::getenv("EFT_INTEGRITY_KEEP") == nullptr) {
      fs::remove_all(dir);
    } else {
      std::cout << "integrity: files of the run (journal, logs, record, report) kept in " << dir << "\n";
    }
  }

  void start_host(const std::string& faults) {
    const auto p = dir / "hostsim.yaml";
    std::ofstream(p) << "hostsim: {threads: 1, record_transactions: true}\n"
                        "listeners:\n  - {address: 127.0.0.1, port: 0, framing: len2, spec: iso87-ascii}\n"
                        "keys:\n  zpk: "
                     << zpk
                     << "\n  pvk: 5B8CE3D0F2A16E97C41D3B8A09E6F275\n"
                        "  ibm3624_pvk: 7A3F19C6E2B4D8050C6E91A7F3B2D48E\n"
                        "  imk: "
                     << imk
                     << "\n"
                        "cards:\n"
                        "  - {pan: \"4761739001010010\", pvv: \"0374\"}\n"
                        "  - {pan: \"5413330089600010\", offset: \"1392\", balance: 1000000.00}\n"
                     << faults;
    host = std::make_unique<sim_process>(
        std::vector<std::string>{EFT_HOSTSIM_PATH, "--config", p.string(), "--record", record_path().string()},
        dir / "hostsim.log");
    host_port = eft::test::port_of(*host, "listening on 127.0.0.1:");
    ASSERT_NE(host_port, 0) << host->output();
  }

  void write_switch(std::uint32_t route_timeout_ms) {
    switch_port = free_port();
    ASSERT_NE(switch_port, 0);
    std::ofstream(switch_cfg()) << "switch: {workers: 2, status_interval_ms: 0, shutdown_grace_ms: 2000}\n"
                                   "listeners:\n  - {name: pos, address: 127.0.0.1, port: "
                                << switch_port
                                << ", framing: len2+tpdu, spec: iso87-binary, pin_key: tpk.pos, pin_format: iso0}\n"
                                   "links:\n  - {name: issuer, addresses: [127.0.0.1:"
                                << host_port
                                << "], framing: len2, spec: iso87-ascii, reconnect_min_ms: 20, reconnect_max_ms: 200, "
                                   "sign_on: true}\n"
                                   "link_groups: [{name: issuers, links: [issuer]}]\n"
                                   "routes: [{name: all, to: issuers, timeout_ms: "
                                << route_timeout_ms
                                << ", timeout_rc: \"91\", pin_key: zpk.host, pin_format: iso0}]\n"
                                   "hsm: {backend: software, key_file: keys.yaml}\n"
                                   "journal: {path: journal.db, durability: process_crash, key_env: EFT_JOURNAL_KEY, "
                                   "saf_retry_interval_ms: 300, duplicate_window_s: 300}\n";
    for (const auto& [name, key] : {std::pair{"tpk.pos", tpk}, std::pair{"zpk.host", zpk}}) {
      sim_process imp({EFT_EFTCTL_PATH, "keys", "import", "--config", switch_cfg().string(), "--name", name, "--usage",
                       "P0", "--mode", "B", "--component", key},
                      dir / "eftctl.log");
      ASSERT_EQ(imp.wait_exit(), 0) << imp.output();
    }
  }

  /// Starts (or restarts) eftswitch on the same config and journal; waits for its link.
  void start_switch() {
    sw.reset();
    ++switch_runs;
    sw = std::make_unique<sim_process>(std::vector<std::string>{EFT_EFTSWITCH_PATH, "--config", switch_cfg().string()},
                                       dir / ("eftswitch-" + std::to_string(switch_runs) + ".log"));
    ASSERT_TRUE(sw->wait_for("listener pos: listening on 127.0.0.1:", 15s)) << sw->output();
    ASSERT_TRUE(sw->wait_for("link issuer: ready", 15s)) << sw->output();
  }

  /// termsim load toward the switch (no terminal-initiated reversals: every 04xx the host sees is the
  /// switch's, so each can be tied to its original). The kills and host faults make errors on
  /// purpose: the run's exit status ignores them (--allow-errors) and the report is reconciled instead.
  std::unique_ptr<sim_process> start_load(double seconds) {
    const auto p = write_termsim();
    return std::make_unique<sim_process>(
        std::vector<std::string>{EFT_TERMSIM_PATH, "load", "--config", p.string(), "--connections", "8", "--duration",
                                 std::to_string(seconds), "--no-progress", "--allow-errors", "--json",
                                 report_path().string()},
        dir / "termsim.log");
  }

  /// termsim's config toward the switch: terminals POS00001 and ATM00001, the two test cards.
  fs::path write_termsim() {
    const auto p = dir / "termsim.yaml";
    std::ofstream(p) << "target: {address: 127.0.0.1, port: " << switch_port
                     << ", framing: len2+tpdu, spec: iso87-binary}\n"
                        "timeout_ms: 4000\n"
                        "terminals:\n"
                        "  - {id: POS00001, merchant: TEST-SHOP, kind: pos, pin_key: "
                     << tpk << "}\n  - {id: ATM00001, merchant: TEST-ATM, kind: atm, pin_key: " << tpk
                     << "}\n"
                        "cards:\n"
                        "  - {pan: \"4761739001010010\", pin: \"1234\", cvn: 18, psn: \"01\", imk: "
                     << imk << "}\n  - {pan: \"5413330089600010\", pin: \"4321\", cvn: 16, imk: " << imk
                     << "}\n"
                        "mix: {purchase: 3, contactless: 2, magstripe_fallback: 1, refund: 1, atm_withdrawal: 2, "
                        "balance_inquiry: 1}\n"
                        "amount: {min: 1.00, max: 50.00}\n";
    return p;
  }

  /// One `termsim send` (its extra arguments after the config), waited for: its JSON steps (request
  /// and answer of each, masked), or a discarded value.
  nlohmann::json termsim_send(const std::vector<std::string>& args) {
    std::vector<std::string> argv{EFT_TERMSIM_PATH, "send", "--config", write_termsim().string(), "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    sim_process send(argv, dir / ("termsim-send-" + std::to_string(++sends) + ".log"));
    const int status = send.wait_exit(20s);
    EXPECT_EQ(status, 0) << send.output();
    return nlohmann::json::parse(send.output(), nullptr, false);
  }

  /// Waits (bounded) until the SAF queue is empty: every reversal acknowledged.
  void wait_saf_drained(std::chrono::seconds bound) {
    const auto end = std::chrono::steady_clock::now() + bound;
    journal_snapshot s;
    while (std::chrono::steady_clock::now() < end) {
      s = read_journal(journal_path(), false);
      if (s.ok && s.saf_armed == 0 && s.saf_ready == 0) return;
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "SAF not drained in " << bound.count() << " s: armed=" << s.saf_armed << " ready=" << s.saf_ready;
  }

  /// Stops the switch (SIGTERM: signs off) and the host (writes its record).
  void stop_all() {
    sw->signal(SIGTERM);
    EXPECT_EQ(sw->wait_exit(), 0) << sw->output();
    host->signal(SIGTERM);
    ASSERT_EQ(host->wait_exit(), 0) << host->output();
  }

  /// The invariants, checked over the host's record, the journal and termsim's report.
  reconciliation reconcile() {
    reconciliation c;
    const auto rec = read_json(record_path());
    const auto report = read_json(report_path());
    if (rec.is_discarded() || report.is_discarded() || !rec.contains("transactions")) {
      ADD_FAILURE() << "no host record or termsim report";
      return c;
    }
    const journal_snapshot j = read_journal(journal_path(), true);
    EXPECT_TRUE(j.ok) << "the journal cannot be read";
    EXPECT_EQ(j.saf_armed + j.saf_ready, 0) << "SAF items left";

    // The journal by transaction; the host RRN of each forwarded request leads to its transaction.
    std::map<std::int64_t, std::vector<const journal_row*>> by_txn;
    std::map<std::string, std::int64_t> txn_by_rrn;
    for (const auto& r : j.rows) {
      by_txn[r.txn_id].push_back(&r);
      if (r.event == "forwarded") {
        EXPECT_TRUE(txn_by_rrn.emplace(r.rrn, r.txn_id).second) << "host RRN " << r.rrn << " forwarded twice";
      }
      if (r.event == "reversed") ++c.journal_reversed;
      if (r.event == "timed_out") ++c.journal_timed_out;
      if (r.event == "late_answer") ++c.journal_late;
    }
    auto has = [&](std::int64_t txn, const char* event, const char* rc) {
      const auto it = by_txn.find(txn);
      if (it == by_txn.end()) return false;
      return std::any_of(it->second.begin(), it->second.end(),
                         [&](const journal_row* r) { return r->event == event && (rc == nullptr || r->rc == rc); });
    };
    auto received = [&](std::int64_t txn) -> const journal_row* {
      const auto it = by_txn.find(txn);
      if (it == by_txn.end()) return nullptr;
      for (const auto* r : it->second)
        if (r->event == "received") return r;
      return nullptr;
    };

    // Reversals the host received, by original (field 90: MTI, STAN, transmission time).
    std::map<std::string, std::size_t> first_reversals;
    std::set<std::string> acknowledged_reversals;
    for (const auto& t : rec["transactions"]) {
      const std::string mti = t.value("mti", "");
      if (mti != "0400" && mti != "0401") continue;
      const std::string original = t.value("original", "").substr(0, 20);
      if (mti == "0400") {
        ++c.reversals_first;
        ++first_reversals[original];
      } else {
        ++c.reversals_repeat;
      }
      if (t.value("rc", "") == "00") acknowledged_reversals.insert(original);
    }
    for (const auto& [original, n] : first_reversals) {
      EXPECT_EQ(n, 1U) << "the reversal of " << original << " reached the host " << n
                       << " times as an original (0400); repeats must be 0401";
    }

    std::set<std::string> host_rrns;
    std::set<std::string> terminal_keys;
    for (const auto& t : rec["transactions"]) {
      const std::string mti = t.value("mti", "");
      if (mti != "0100" && mti != "0200") continue;
      ++c.host_originals;
      const std::string rrn = t.value("rrn", "");
      const std::string stan = t.value("stan", "");
      EXPECT_TRUE(host_rrns.insert(rrn).second) << "a request reached the host twice: host RRN " << rrn;
      const auto txn_it = txn_by_rrn.find(rrn);
      if (txn_it == txn_by_rrn.end()) {
        ADD_FAILURE() << "the host received RRN " << rrn << " that the journal never forwarded";
        continue;
      }
      const std::int64_t txn = txn_it->second;
      if (const journal_row* in = received(txn)) {
        const std::string key = in->mti + "|" + in->terminal + "|" + in->terminal_stan + "|" + in->transmission;
        EXPECT_TRUE(terminal_keys.insert(key).second)
            << "a terminal request (" << key << ") reached the host twice (txn " << txn << ")";
      }
      const std::string fault = t.value("fault", "");
      const bool answered_in_time = fault.empty() || fault == "duplicate" || fault == "delay";
      const bool completed = has(txn, "completed", nullptr);
      if (!answered_in_time) {
        EXPECT_FALSE(completed) << "txn " << txn << " completed although the host's answer was " << fault;
      }
      if (t.value("rc", "") != "00") continue;
      ++c.host_approved;
      const bool reversed = has(txn, "reversed", nullptr);
      const std::string original = mti + stan + t.value("transmission", "");
      if (has(txn, "completed", "00")) {
        ++c.completed_approved;
        EXPECT_FALSE(reversed) << "txn " << txn << " both completed and reversed";
      } else if (reversed) {
        ++c.reversed_approved;
        EXPECT_EQ(acknowledged_reversals.count(original), 1U)
            << "txn " << txn << " journaled as reversed, but the host acknowledged no reversal of " << original;
      } else {
        ADD_FAILURE() << "the host approved RRN " << rrn << " (txn " << txn << ", fault '" << fault
                      << "') but it is neither completed nor reversed in the journal";
      }
    }

    // Every approval a terminal received was completed in the journal first (a completed approval
    // may still miss its terminal: the switch died between the two, or the terminal gave up).
    c.terminal_approved = report["answers_by_rc"].value("00", std::size_t{0});
    EXPECT_LE(c.terminal_approved, c.completed_approved) << report.dump();
    EXPECT_EQ(report["mismatches"].value("arpc", 0), 0) << report.dump();
    EXPECT_EQ(report["mismatches"].value("mac", 0), 0) << report.dump();
    EXPECT_GT(c.completed_approved, 100U) << "too little traffic to prove anything";
    return c;
  }

  /// Scans the journal files and every log and report of the run for card data in clear.
  void scan_for_card_data() {
    std::size_t files = 0;
    const auto blocks = pin_block_forms();
    ASSERT_EQ(blocks.size(), 12U) << "the PIN blocks to look for cannot be built";
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      // Configs hold test keys and PANs by design (simulator configs); everything else must not.
      if (name.ends_with(".yaml")) continue;
      const std::string content = read_file(e.path());
      ++files;
      for (const auto& pan : test_pans) {
        EXPECT_EQ(content.find(pan), std::string::npos) << "a full PAN in clear in " << name;
        EXPECT_EQ(content.find(bcd_of(pan)), std::string::npos) << "a full PAN (BCD) in " << name;
        // Track 2 equivalent data starts with the PAN and a separator.
        EXPECT_EQ(content.find(pan + "D"), std::string::npos) << "track data in " << name;
      }
      for (const auto& [what, form] : blocks) {
        EXPECT_EQ(content.find(form), std::string::npos) << "a " << what << " in " << name;
      }
      for (const char* key : {tpk, zpk, lmk, journal_key}) {
        EXPECT_EQ(content.find(key), std::string::npos) << "a key in clear in " << name;
      }
    }
    EXPECT_GE(files, 4U);
  }

  /// Copies the journal files as they are now (after a kill -9 the WAL holds the newest pages).
  void snapshot_journal_files(const std::string& tag) {
    for (const char* suffix : {"", "-wal"}) {
      const fs::path from = journal_path().string() + suffix;
      std::error_code ec;
      if (fs::exists(from)) fs::copy_file(from, dir / ("journal-" + tag + ".db" + suffix), ec);
    }
  }

  static void print(const std::string& what, const reconciliation& c) {
    std::cout << "integrity " << what << ": host originals=" << c.host_originals << " approved=" << c.host_approved
              << " completed=" << c.completed_approved << " reversed=" << c.reversed_approved
              << " terminal_approved=" << c.terminal_approved << " reversals 0400=" << c.reversals_first
              << " repeats 0401=" << c.reversals_repeat << " journal reversed=" << c.journal_reversed
              << " timed_out=" << c.journal_timed_out << " late=" << c.journal_late << "\n";
  }

  fs::path switch_cfg() const { return dir / "switch.yaml"; }
  fs::path journal_path() const { return dir / "journal.db"; }
  fs::path record_path() const { return dir / "hostsim-record.json"; }
  fs::path report_path() const { return dir / "termsim-report.json"; }

  fs::path dir;
  std::unique_ptr<sim_process> host;
  std::unique_ptr<sim_process> sw;
  std::uint16_t host_port = 0;
  std::uint16_t switch_port = 0;
  int switch_runs = 0;
  int sends = 0;
};

TEST_F(TransactionIntegrity, SwitchKilledUnderLoadReconcilesAfterSafDrains) {
  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("EFT_INTEGRITY_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::cout << "integrity: seed " << seed << " (EFT_INTEGRITY_SEED=" << seed << " repeats this run)\n";
  std::mt19937_64 rng(seed);

  // Half of the first reversals go unanswered: SAF repeats them (0401), some of them across a kill.
  ASSERT_NO_FATAL_FAILURE(start_host("faults:\n  - {action: no_answer, rate: 0.5, mti: [\"0400\"]}\n"));
  ASSERT_NO_FATAL_FAILURE(write_switch(1000));
  ASSERT_NO_FATAL_FAILURE(start_switch());
  auto load = start_load(12.0);

  std::int64_t in_flight_total = 0;
  constexpr int kills = 4;
  for (int k = 0; k < kills; ++k) {
    const auto pause = std::chrono::milliseconds(std::uniform_int_distribution<int>(600, 2000)(rng));
    std::this_thread::sleep_for(pause);
    sw->kill_now();
    const journal_snapshot s = read_journal(journal_path(), false);
    std::cout << "integrity: kill -9 #" << (k + 1) << " after " << pause.count() << " ms: in flight (armed reversals) "
              << s.saf_armed << ", reversals waiting " << s.saf_ready << "\n";
    in_flight_total += s.saf_armed;
    snapshot_journal_files("kill" + std::to_string(k + 1));
    ASSERT_NO_FATAL_FAILURE(start_switch());
    if (s.saf_armed > 0) {
      EXPECT_TRUE(sw->wait_for("forwarded by an earlier run have no known outcome", 5s)) << sw->output();
    }
  }
  ASSERT_EQ(load->wait_exit(30s), 0) << load->output();
  ASSERT_NO_FATAL_FAILURE(wait_saf_drained(30s));
  ASSERT_NO_FATAL_FAILURE(stop_all());

  const auto report = read_json(report_path());
  std::cout << "integrity: termsim sent=" << report.value("sent", 0) << " answered=" << report.value("answered", 0)
            << " errors=" << report["errors"].dump() << " (connect/closed errors are the kills)\n";
  const reconciliation c = reconcile();
  print("crash", c);
  std::cout << "integrity crash: kills=" << kills << " in flight at kill=" << in_flight_total << "\n";
  // What was in flight at a kill comes back as a reversal (the recovery), acknowledged by the host.
  EXPECT_GE(static_cast<std::int64_t>(c.journal_reversed), in_flight_total);
  scan_for_card_data();
}

TEST_F(TransactionIntegrity, FaultyHostReconcilesAfterSafDrains) {
  // Faults on authorisations only: the reversals themselves are answered, so SAF drains in time.
  ASSERT_NO_FATAL_FAILURE(
      start_host("faults:\n"
                 "  - {action: no_answer, rate: 0.03, mti: [\"0100\", \"0200\"]}\n"
                 "  - {action: disconnect, rate: 0.005, mti: [\"0100\", \"0200\"]}\n"
                 "  - {action: late, rate: 0.03, delay_ms: 900, mti: [\"0100\", \"0200\"]}\n"
                 "  - {action: duplicate, rate: 0.05, mti: [\"0100\", \"0200\"]}\n"));
  ASSERT_NO_FATAL_FAILURE(write_switch(500));
  ASSERT_NO_FATAL_FAILURE(start_switch());
  auto load = start_load(10.0);
  ASSERT_EQ(load->wait_exit(30s), 0) << load->output();
  ASSERT_NO_FATAL_FAILURE(wait_saf_drained(30s));
  // Late answers of the last requests still on their way.
  std::this_thread::sleep_for(1s);
  ASSERT_NO_FATAL_FAILURE(stop_all());

  const auto rec = read_json(record_path());
  std::cout << "integrity: host faults " << rec["faults"].dump() << "\n";
  for (const char* f : {"no_answer", "disconnect", "late", "duplicate"}) {
    EXPECT_GT(rec["faults"].value(f, 0), 0) << f << " never happened: " << rec["faults"].dump();
  }
  const reconciliation c = reconcile();
  print("faults", c);
  EXPECT_GT(c.reversed_approved, 0U);
  EXPECT_GT(c.journal_late, 0U);
  scan_for_card_data();
}

TEST_F(TransactionIntegrity, ATerminalReversesAnApprovalForwardedBeforeAKill) {
  ASSERT_NO_FATAL_FAILURE(start_host(""));
  ASSERT_NO_FATAL_FAILURE(write_switch(2000));
  ASSERT_NO_FATAL_FAILURE(start_switch());

  // A purchase of 12.34 by POS00001, approved by the host.
  const auto purchase = termsim_send({"--type", "purchase", "--amount", "12.34"});
  ASSERT_TRUE(purchase.is_array() && purchase.size() == 1) << purchase.dump();
  ASSERT_EQ(purchase[0].value("rc", ""), "00") << purchase.dump();
  const auto& req = purchase[0]["request"];
  const std::string original = req.value("0", "") + req.value("11", "") + req.value("7", "");
  ASSERT_EQ(original.size(), 20U) << req.dump();
  ASSERT_EQ(original.substr(0, 4), "0200");
  // Its reversal waits on standby: not queued work for operators.
  {
    sim_process list({EFT_EFTCTL_PATH, "saf", "list", "--config", switch_cfg().string()}, dir / "eftctl-saf.log");
    ASSERT_EQ(list.wait_exit(), 0) << list.output();
    EXPECT_NE(list.output().find("SAF queue empty"), std::string::npos) << list.output();
    EXPECT_EQ(list.output().find("depth "), std::string::npos) << list.output();
  }

  // kill -9: the switch keeps nothing of it in memory; the journal is all the next run has.
  sw->kill_now();
  ASSERT_NO_FATAL_FAILURE(start_switch());
  const auto reversal = termsim_send({"--type", "reversal", "--original", original, "--amount", "12.34"});
  ASSERT_TRUE(reversal.is_array() && reversal.size() == 1) << reversal.dump();
  EXPECT_EQ(reversal[0]["answer"].value("0", ""), "0410") << reversal.dump();
  EXPECT_EQ(reversal[0].value("rc", ""), "00") << reversal.dump();
  ASSERT_NO_FATAL_FAILURE(wait_saf_drained(15s));

  // Repeated after another kill -9: answered 00, nothing queued for the host.
  sw->kill_now();
  ASSERT_NO_FATAL_FAILURE(start_switch());
  const auto repeat = termsim_send({"--type", "reversal", "--original", original, "--amount", "12.34"});
  ASSERT_TRUE(repeat.is_array() && repeat.size() == 1) << repeat.dump();
  EXPECT_EQ(repeat[0].value("rc", ""), "00") << repeat.dump();
  const journal_snapshot after_repeat = read_journal(journal_path(), false);
  EXPECT_EQ(after_repeat.saf_armed + after_repeat.saf_ready, 0);

  // An original the switch never forwarded, and the right one with another amount: RC 25.
  const std::string unknown =
      "0200" + std::string(original.substr(4, 6) == "999999" ? "999998" : "999999") + original.substr(10);
  const auto u = termsim_send({"--type", "reversal", "--original", unknown, "--amount", "12.34"});
  ASSERT_TRUE(u.is_array() && u.size() == 1) << u.dump();
  EXPECT_EQ(u[0].value("rc", ""), "25") << u.dump();
  const auto other_amount = termsim_send({"--type", "reversal", "--original", original, "--amount", "12.35"});
  ASSERT_TRUE(other_amount.is_array() && other_amount.size() == 1) << other_amount.dump();
  EXPECT_EQ(other_amount[0].value("rc", ""), "25") << other_amount.dump();
  std::this_thread::sleep_for(500ms);  // anything wrongly queued would go now (SAF passes every ~200 ms)
  ASSERT_NO_FATAL_FAILURE(stop_all());

  // The host saw the purchase once and exactly one 0400 for it, naming it as the host saw it (the
  // switch's STAN and field 7, not the terminal's), and no repeat.
  const auto rec = read_json(record_path());
  ASSERT_TRUE(rec.contains("transactions")) << rec.dump();
  std::vector<nlohmann::json> purchases, reversals;
  for (const auto& t : rec["transactions"]) {
    const std::string mti = t.value("mti", "");
    if (mti == "0200") purchases.push_back(t);
    if (mti == "0400" || mti == "0401") reversals.push_back(t);
  }
  ASSERT_EQ(purchases.size(), 1U) << rec.dump();
  EXPECT_EQ(purchases[0].value("rc", ""), "00");
  ASSERT_EQ(reversals.size(), 1U) << rec.dump();
  EXPECT_EQ(reversals[0].value("mti", ""), "0400");
  const std::string host_original = "0200" + purchases[0].value("stan", "") + purchases[0].value("transmission", "");
  EXPECT_EQ(reversals[0].value("original", "").substr(0, 20), host_original) << reversals[0].dump();
  EXPECT_NE(purchases[0].value("stan", ""), original.substr(4, 6));  // the switch's own STAN went to the host
  EXPECT_EQ(reversals[0].value("rc", ""), "00");

  // The journal: one acknowledged reversal of the purchase's transaction; the terminal's three later
  // reversals journaled as answered (00, 00 via the claim; 25s as declined).
  const journal_snapshot j = read_journal(journal_path(), true);
  ASSERT_TRUE(j.ok);
  std::int64_t txn = 0;
  for (const auto& r : j.rows) {
    if (r.event == "forwarded" && r.mti == "0200") txn = r.txn_id;
  }
  ASSERT_NE(txn, 0);
  std::size_t reversed = 0, claimed = 0, already = 0;
  for (const auto& r : j.rows) {
    if (r.event == "reversed") {
      ++reversed;
      EXPECT_EQ(r.txn_id, txn);
    }
    if (r.event == "completed" && r.detail.find("terminal reversal of txn " + std::to_string(txn)) == 0) {
      (r.detail.find("reversal queued") != std::string::npos ? claimed : already) += 1;
    }
  }
  EXPECT_EQ(reversed, 1U);
  EXPECT_EQ(claimed, 1U);
  EXPECT_EQ(already, 1U);
  scan_for_card_data();
}

}  // namespace
