// hostsim, termsim and eftswitch as child processes on 127.0.0.1: termsim -> hostsim directly and
// termsim -> eftswitch (PIN translation TPK -> ZPK in the software HSM) -> hostsim; reports and the
// host's record reconciled; faults seen by termsim. Every child is killed at the end of its test.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "sim_process.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using child_process = eft::test::sim_process;
using eft::test::read_json;

// Test keys, the same as simulators/examples (the PVVs and offset below were computed from them).
constexpr const char* tpk = "0123456789ABCDEFFEDCBA9876543210";
constexpr const char* zpk = "89ABCDEF01234567FEDCBA9876543210";

class SimulatorProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("sim-e2e-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path write_hostsim(const std::string& framing, const std::string& spec, const std::string& faults = "",
                         std::uint16_t port = 0) {
    const auto p = dir / "hostsim.yaml";
    std::ofstream(p) << "hostsim: {threads: 1, record_transactions: true}\n"
                        "listeners:\n  - {address: 127.0.0.1, port: "
                     << port << ", framing: " << framing << ", spec: " << spec
                     << "}\n"
                        "keys:\n  zpk: "
                     << zpk
                     << "\n  pvk: 5B8CE3D0F2A16E97C41D3B8A09E6F275\n"
                        "  ibm3624_pvk: 7A3F19C6E2B4D8050C6E91A7F3B2D48E\n"
                        "  imk: 0123456789ABCDEFFEDCBA9876543210\n"
                        "cards:\n"
                        "  - {pan: \"4761739001010010\", pvv: \"0374\"}\n"
                        "  - {pan: \"5413330089600010\", offset: \"1392\", balance: 100000.00}\n"
                     << faults;
    return p;
  }
  fs::path write_termsim(std::uint16_t port, const char* pin_key, std::uint32_t timeout_ms = 5000,
                         const std::string& framing = "len2+tpdu", const std::string& spec = "iso87-binary") {
    const auto p = dir / "termsim.yaml";
    std::ofstream(p)
        << "target: {address: 127.0.0.1, port: " << port << ", framing: " << framing << ", spec: " << spec
        << "}\n"
           "timeout_ms: "
        << timeout_ms
        << "\n"
           "terminals:\n"
           "  - {id: POS00001, merchant: TEST-SHOP, kind: pos, pin_key: "
        << pin_key << "}\n  - {id: ATM00001, merchant: TEST-ATM, kind: atm, pin_key: " << pin_key
        << "}\n"
           "cards:\n"
           "  - {pan: \"4761739001010010\", pin: \"1234\", cvn: 18, psn: \"01\", imk: "
           "0123456789ABCDEFFEDCBA9876543210}\n"
           "  - {pan: \"5413330089600010\", pin: \"4321\", cvn: 16, imk: 0123456789ABCDEFFEDCBA9876543210}\n"
           "mix: {purchase: 3, contactless: 2, magstripe_fallback: 1, refund: 1, atm_withdrawal: 2, "
           "balance_inquiry: 1, reversal: 1}\n"
           "amount: {min: 1.00, max: 50.00}\n";
    return p;
  }
  static std::uint16_t port_of(child_process& p, const std::string& prefix) { return eft::test::port_of(p, prefix); }
  /// A load run's report: no errors, no mismatches, every transaction answered.
  static void expect_clean(const nlohmann::json& r, const char* approved = "00") {
    ASSERT_FALSE(r.is_discarded());
    EXPECT_GT(r["answered"].get<std::uint64_t>(), 50U) << r.dump();
    EXPECT_EQ(r["answered"], r["sent"]) << r.dump();
    for (const auto& [k, v] : r["errors"].items()) EXPECT_EQ(v, 0) << k << " " << r.dump();
    for (const auto& [k, v] : r["mismatches"].items()) EXPECT_EQ(v, 0) << k << " " << r.dump();
    EXPECT_GT(r["answers_by_rc"].value(approved, 0), 0) << r.dump();
    // termsim's own CPU: spent (building PIN blocks, ARQCs and MACs is not free) and divided by the
    // answers as the report says.
    const auto& cpu = r["cpu"];
    const double spent = cpu["user_s"].get<double>() + cpu["system_s"].get<double>();
    EXPECT_GT(spent, 0.0) << r.dump();
    EXPECT_NEAR(cpu["us_per_answer"].get<double>(), spent * 1e6 / r["answered"].get<double>(), 0.01) << r.dump();
  }

  fs::path dir;
};

TEST_F(SimulatorProcesses, TermsimAgainstHostsimDirectly) {
  const auto record = dir / "record.json";
  child_process host(
      {EFT_HOSTSIM_PATH, "--config", write_hostsim("len2+tpdu", "iso87-binary").string(), "--record", record.string()});
  const auto port = port_of(host, "listening on 127.0.0.1:");
  ASSERT_NE(port, 0) << host.output();
  const auto cfg = write_termsim(port, zpk).string();

  child_process send({EFT_TERMSIM_PATH, "send", "--config", cfg, "--type", "purchase", "--amount", "12.34"});
  ASSERT_EQ(send.wait_exit(), 0) << send.output();
  EXPECT_NE(send.output().find("purchase 12.34: RC 00"), std::string::npos) << send.output();
  EXPECT_NE(send.output().find("checks passed"), std::string::npos) << send.output();
  EXPECT_NE(send.output().find("476173******0010"), std::string::npos) << send.output();
  EXPECT_EQ(send.output().find("4761739001010010"), std::string::npos) << "a full PAN printed";

  const auto report = dir / "report.json";
  child_process load({EFT_TERMSIM_PATH, "load", "--config", cfg, "--connections", "20", "--duration", "2",
                      "--no-progress", "--json", report.string()});
  ASSERT_EQ(load.wait_exit(), 0) << load.output();
  EXPECT_NE(load.output().find("latency ms: p50"), std::string::npos) << load.output();
  const auto r = read_json(report);
  expect_clean(r);

  host.signal(SIGTERM);
  ASSERT_EQ(host.wait_exit(), 0) << host.output();
  const auto rec = read_json(record);
  ASSERT_FALSE(rec.is_discarded());
  // The host answered exactly what the terminals counted, plus the single send.
  EXPECT_EQ(rec["answered_total"].get<std::uint64_t>(), r["answered"].get<std::uint64_t>() + 1) << rec.dump();
  EXPECT_GT(rec["counters"].value("pin_verified", 0), 0);
  EXPECT_GT(rec["counters"].value("arqc_verified", 0), 0);
  EXPECT_EQ(rec["counters"].value("pin_wrong", 0), 0);
  EXPECT_EQ(rec["counters"].value("arqc_wrong", 0), 0);
  EXPECT_EQ(rec["transactions"].size(), rec["answered_total"].get<std::size_t>());
  EXPECT_EQ(rec.dump().find("4761739001010010"), std::string::npos) << "a full PAN in the record";
}

// Both simulators in ISO 8583:1993 over TCP: 1200 financial requests and 1420 reversal advices
// answered with action codes, every answer checked by termsim (MTI, STAN, RRN, ARPC), the reversals
// matched to their originals by field 56 at the host.
TEST_F(SimulatorProcesses, TermsimAgainstHostsimInIso8583Of1993) {
  const auto record = dir / "record.json";
  child_process host(
      {EFT_HOSTSIM_PATH, "--config", write_hostsim("len2", "iso93-ascii").string(), "--record", record.string()});
  const auto port = port_of(host, "listening on 127.0.0.1:");
  ASSERT_NE(port, 0) << host.output();
  const auto cfg = write_termsim(port, zpk, 5000, "len2", "iso93-ascii, version: 1993").string();

  child_process send({EFT_TERMSIM_PATH, "send", "--config", cfg, "--type", "reversal", "--amount", "12.34"});
  ASSERT_EQ(send.wait_exit(), 0) << send.output();
  EXPECT_NE(send.output().find("purchase 12.34: RC 000"), std::string::npos) << send.output();
  EXPECT_NE(send.output().find("reversal 12.34: RC 400"), std::string::npos) << send.output();
  // A reversal of an earlier purchase named as 1993 names it: MTI, STAN and field 12.
  child_process purchase(
      {EFT_TERMSIM_PATH, "send", "--config", cfg, "--type", "purchase", "--amount", "7.00", "--json"});
  ASSERT_EQ(purchase.wait_exit(), 0) << purchase.output();
  const auto sent = nlohmann::json::parse(purchase.output(), nullptr, false);
  ASSERT_FALSE(sent.is_discarded()) << purchase.output();
  const auto& req = sent[0]["request"];
  ASSERT_EQ(req["12"].get<std::string>().size(), 12U) << purchase.output();
  EXPECT_EQ(sent[0]["answer"]["39"], "000") << purchase.output();
  const std::string original = "1200" + req["11"].get<std::string>() + req["12"].get<std::string>();
  child_process later(
      {EFT_TERMSIM_PATH, "send", "--config", cfg, "--type", "reversal", "--original", original, "--amount", "7.00"});
  ASSERT_EQ(later.wait_exit(), 0) << later.output();
  EXPECT_NE(later.output().find("reversal 7.00: RC 400"), std::string::npos) << later.output();
  child_process old_form({EFT_TERMSIM_PATH, "send", "--config", cfg, "--type", "reversal", "--original",
                          "02000001231126071500", "--amount", "7.00"});
  EXPECT_EQ(old_form.wait_exit(), 1);
  EXPECT_NE(old_form.output().find("22 digits (the target is ISO 8583:1993)"), std::string::npos) << old_form.output();

  const auto report = dir / "report.json";
  child_process load({EFT_TERMSIM_PATH, "load", "--config", cfg, "--connections", "10", "--duration", "2",
                      "--no-progress", "--json", report.string()});
  ASSERT_EQ(load.wait_exit(), 0) << load.output();
  const auto r = read_json(report);
  expect_clean(r, "000");
  EXPECT_GT(r["answers_by_rc"].value("400", 0), 0) << r.dump();

  host.signal(SIGTERM);
  ASSERT_EQ(host.wait_exit(), 0) << host.output();
  const auto rec = read_json(record);
  ASSERT_FALSE(rec.is_discarded());
  EXPECT_EQ(rec["answered_total"].get<std::uint64_t>(), r["answered"].get<std::uint64_t>() + 4) << rec.dump();
  for (const auto& [mti, n] : rec["received"].items()) EXPECT_EQ(mti[0], '1') << rec.dump();
  EXPECT_GT(rec["received"].value("1200", 0), 0) << rec.dump();
  EXPECT_GT(rec["received"].value("1420", 0), 0) << rec.dump();
  EXPECT_EQ(rec["counters"].value("reversals_unmatched", 0), 0) << rec.dump();
  EXPECT_EQ(rec["counters"]["reversals_applied"], rec["received"]["1420"]) << rec.dump();
  EXPECT_EQ(rec["counters"].value("pin_wrong", 0), 0);
  EXPECT_EQ(rec["counters"].value("arqc_wrong", 0), 0);
}

TEST_F(SimulatorProcesses, TermsimThroughEftswitchToHostsim) {
  const auto record = dir / "record.json";
  child_process host(
      {EFT_HOSTSIM_PATH, "--config", write_hostsim("len2", "iso87-ascii").string(), "--record", record.string()});
  const auto host_port = port_of(host, "listening on 127.0.0.1:");
  ASSERT_NE(host_port, 0) << host.output();

  // The switch's HSM: the terminals' TPK and the host's ZPK as test keys under a fresh local master key.
  ::setenv("EFT_HSM_LMK", "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF", 1);
  const auto sw_cfg = dir / "switch.yaml";
  std::ofstream(sw_cfg) << "switch: {workers: 2, status_interval_ms: 0, shutdown_grace_ms: 1000}\n"
                           "listeners:\n  - {name: pos, address: 127.0.0.1, port: 0, framing: len2+tpdu, spec: "
                           "iso87-binary, pin_key: tpk.pos, pin_format: iso0}\n"
                           "links:\n  - {name: issuer, addresses: [127.0.0.1:"
                        << host_port
                        << "], spec: iso87-ascii, reconnect_min_ms: 20, reconnect_max_ms: 200}\n"
                           "link_groups: [{name: issuers, links: [issuer]}]\n"
                           "routes: [{name: all, to: issuers, timeout_ms: 3000, pin_key: zpk.host, pin_format: iso0}]\n"
                           "hsm: {backend: software, key_file: keys.yaml}\n";
  for (const auto& [name, key] : {std::pair{"tpk.pos", tpk}, std::pair{"zpk.host", zpk}}) {
    child_process imp({EFT_EFTCTL_PATH, "keys", "import", "--config", sw_cfg.string(), "--name", name, "--usage", "P0",
                       "--mode", "B", "--component", key});
    ASSERT_EQ(imp.wait_exit(), 0) << imp.output();
  }
  child_process sw({EFT_EFTSWITCH_PATH, "--config", sw_cfg.string()});
  const auto sw_port = port_of(sw, "listener pos: listening on 127.0.0.1:");
  ASSERT_NE(sw_port, 0) << sw.output();
  ASSERT_TRUE(sw.wait_for("link issuer: ready")) << sw.output();
  const auto cfg = write_termsim(sw_port, tpk).string();

  child_process send({EFT_TERMSIM_PATH, "send", "--config", cfg, "--type", "atm_withdrawal", "--amount", "40.00",
                      "--card", "1", "--terminal", "1"});
  ASSERT_EQ(send.wait_exit(), 0) << send.output() << sw.output();
  EXPECT_NE(send.output().find("atm_withdrawal 40.00: RC 00"), std::string::npos) << send.output();

  const auto report = dir / "report.json";
  child_process load({EFT_TERMSIM_PATH, "load", "--config", cfg, "--connections", "20", "--duration", "2",
                      "--no-progress", "--json", report.string()});
  ASSERT_EQ(load.wait_exit(), 0) << load.output();
  expect_clean(read_json(report));

  sw.signal(SIGTERM);
  EXPECT_EQ(sw.wait_exit(), 0) << sw.output();
  host.signal(SIGTERM);
  ASSERT_EQ(host.wait_exit(), 0) << host.output();
  const auto rec = read_json(record);
  // PINs were translated by the switch from the TPK to the ZPK: the host verified them all.
  EXPECT_GT(rec["counters"].value("pin_verified", 0), 0) << rec.dump();
  EXPECT_EQ(rec["counters"].value("pin_wrong", 0), 0) << rec.dump();
  EXPECT_EQ(rec["counters"].value("pin_block_errors", 0), 0) << rec.dump();
  EXPECT_GT(rec["counters"].value("arqc_verified", 0), 0) << rec.dump();
  EXPECT_EQ(rec["counters"].value("sign_on", 0), 1) << rec.dump();
}

// The switch's stand-in verifies PINs itself while the host is down, and agrees with hostsim (an
// independent implementation, verifying the same cards' PVV and IBM 3624 offset) on which are right.
TEST_F(SimulatorProcesses, EftswitchStandInVerifiesPinsLikeHostsimWhileTheHostIsDown) {
  const auto record = dir / "record.json";
  auto host = std::make_unique<child_process>(std::vector<std::string>{
      EFT_HOSTSIM_PATH, "--config", write_hostsim("len2", "iso87-ascii").string(), "--record", record.string()});
  const auto host_port = port_of(*host, "listening on 127.0.0.1:");
  ASSERT_NE(host_port, 0) << host->output();

  ::setenv("EFT_HSM_LMK", "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF", 1);
  ::setenv("EFT_JOURNAL_KEY", "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", 1);
  const auto sw_cfg = dir / "switch.yaml";
  const std::string stand_in = "{policy: approve, floor_limit: 5000, rc: \"05\", pin_verify: ";
  std::ofstream(sw_cfg) << "switch: {workers: 1, status_interval_ms: 0, shutdown_grace_ms: 1000}\n"
                           "listeners:\n  - {name: pos, address: 127.0.0.1, port: 0, framing: len2+tpdu, spec: "
                           "iso87-binary, pin_key: tpk.pos}\n"
                           "links:\n  - {name: issuer, addresses: [127.0.0.1:"
                        << host_port
                        << "], spec: iso87-ascii, reconnect_min_ms: 20, reconnect_max_ms: 100, "
                           "network_timeout_ms: 500, echo_interval_ms: 0}\n"
                           "link_groups: [{name: issuers, links: [issuer]}]\n"
                           "routes:\n"
                           "  - {name: visa, match: {pan_prefixes: [4]}, to: issuers, timeout_ms: 3000, pin_key: "
                           "zpk.host,\n     stand_in: "
                        << stand_in
                        << "{method: visa_pvv, pvk: pvk.visa}}}\n"
                           "  - {name: mc, match: {pan_prefixes: [5]}, to: issuers, timeout_ms: 3000, pin_key: "
                           "zpk.host,\n     stand_in: "
                        << stand_in
                        << "{method: ibm3624, pvk: pvk.3624, decimalization: \"0123456789012345\", "
                           "validation_data: NNNNNNNNNNNN, offset_position: 1}}}\n"
                           "hsm: {backend: software, key_file: keys.yaml}\n"
                           "journal: {path: journal.db, durability: process_crash, saf_retry_interval_ms: 200}\n";
  const std::vector<std::array<const char*, 4>> keys = {{"tpk.pos", "P0", "B", tpk},
                                                        {"zpk.host", "P0", "B", zpk},
                                                        {"pvk.visa", "V2", "V", "5B8CE3D0F2A16E97C41D3B8A09E6F275"},
                                                        {"pvk.3624", "V1", "V", "7A3F19C6E2B4D8050C6E91A7F3B2D48E"}};
  for (const auto& [name, usage, mode, key] : keys) {
    child_process imp({EFT_EFTCTL_PATH, "keys", "import", "--config", sw_cfg.string(), "--name", name, "--usage", usage,
                       "--mode", mode, "--component", key});
    ASSERT_EQ(imp.wait_exit(), 0) << imp.output();
  }
  child_process check({EFT_EFTSWITCH_PATH, "--check-config", sw_cfg.string()});
  ASSERT_EQ(check.wait_exit(), 0) << check.output();
  {
    // The IBM 3624 key named for the PVV method: both checkers refuse it with file:line.
    std::ifstream in(sw_cfg);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.replace(text.find("pvk: pvk.visa"), 13, "pvk: pvk.3624");
    const auto bad = dir / "bad.yaml";
    std::ofstream(bad) << text;
    const std::string why =
        bad.string() +
        ":9: stand_in.pin_verify.pvk 'pvk.3624' is a key of usage V1, not a Visa PVV PIN verification key (V2)";
    child_process sw_check({EFT_EFTSWITCH_PATH, "--check-config", bad.string()});
    EXPECT_EQ(sw_check.wait_exit(), 1);
    EXPECT_NE(sw_check.output().find(why), std::string::npos) << sw_check.output();
    child_process ctl_check({EFT_EFTCTL_PATH, "config", "check", bad.string()});
    EXPECT_EQ(ctl_check.wait_exit(), 1);
    EXPECT_NE(ctl_check.output().find(why), std::string::npos) << ctl_check.output();
  }
  child_process sw({EFT_EFTSWITCH_PATH, "--config", sw_cfg.string()});
  const auto sw_port = port_of(sw, "listener pos: listening on 127.0.0.1:");
  ASSERT_NE(sw_port, 0) << sw.output();
  ASSERT_TRUE(sw.wait_for("link issuer: ready")) << sw.output();

  // The hostsim cards with their PVV (PVKI 1) and offset on track 2, each with its right PIN and a
  // wrong one, and a Visa card whose track is too short to hold a PVV.
  const auto cfg = dir / "termsim.yaml";
  std::ofstream(cfg) << "target: {address: 127.0.0.1, port: " << sw_port
                     << ", framing: len2+tpdu, spec: iso87-binary}\n"
                        "timeout_ms: 5000\n"
                        "terminals:\n  - {id: POS00001, merchant: TEST-SHOP, kind: pos, pin_key: "
                     << tpk
                     << "}\n"
                        "cards:\n"
                        "  - {pan: \"4761739001010010\", discretionary: \"1037400000\", pin: \"1234\", chip: false}\n"
                        "  - {pan: \"4761739001010010\", discretionary: \"1037400000\", pin: \"1243\", chip: false}\n"
                        "  - {pan: \"5413330089600010\", discretionary: \"0139200000\", pin: \"4321\", chip: false}\n"
                        "  - {pan: \"5413330089600010\", discretionary: \"0139200000\", pin: \"4312\", chip: false}\n"
                        "  - {pan: \"4761739001010010\", discretionary: \"103\", pin: \"1234\", chip: false}\n"
                        "mix: {magstripe_fallback: 1}\n";
  const auto rc_of = [&](int card) {
    child_process send({EFT_TERMSIM_PATH, "send", "--config", cfg.string(), "--type", "magstripe_fallback", "--amount",
                        "12.34", "--card", std::to_string(card)});
    (void)send.wait_exit();
    const std::string out = send.output();
    const auto at = out.find(": RC ");
    return at == std::string::npos ? out : out.substr(at + 5, 2);
  };
  // The host decides.
  std::vector<std::string> by_host;
  for (int card = 0; card < 4; ++card) by_host.push_back(rc_of(card));
  EXPECT_EQ(by_host, (std::vector<std::string>{"00", "55", "00", "55"})) << sw.output();

  // The host goes down: the switch decides, with the same answers.
  host->signal(SIGTERM);
  ASSERT_EQ(host->wait_exit(), 0) << host->output();
  ASSERT_TRUE(sw.wait_for("link issuer: connection lost")) << sw.output();
  std::vector<std::string> by_switch;
  for (int card = 0; card < 4; ++card) by_switch.push_back(rc_of(card));
  EXPECT_EQ(by_switch, by_host) << sw.output();
  EXPECT_EQ(rc_of(4), "05") << "no PVV on the track: the policy's decline code";
  const auto rec = read_json(record);
  ASSERT_FALSE(rec.is_discarded());
  EXPECT_EQ(rec["counters"].value("pin_verified", 0), 2) << rec.dump();
  EXPECT_EQ(rec["counters"].value("pin_wrong", 0), 2) << rec.dump();
  // Nothing of the card but the masked PAN in the switch's log.
  for (const char* secret : {"4761739001010010", "5413330089600010", "1037400000", "0139200000", "=3012"}) {
    EXPECT_EQ(sw.output().find(secret), std::string::npos) << secret;
  }

  // The host comes back: the two stand-in approvals reach it as 0220 advices, the wrong PINs never.
  const auto record2 = dir / "record2.json";
  host = std::make_unique<child_process>(std::vector<std::string>{
      EFT_HOSTSIM_PATH, "--config", write_hostsim("len2", "iso87-ascii", "", host_port).string(), "--record",
      record2.string()});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  const auto acknowledged = [&] {
    const std::string& o = sw.output();
    std::size_t n = 0;
    for (auto at = o.find("acknowledged by link issuer"); at != std::string::npos;
         at = o.find("acknowledged by link issuer", at + 1)) {
      ++n;
    }
    return n;
  };
  while (acknowledged() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(acknowledged(), 2U) << sw.output();
  host->signal(SIGTERM);
  ASSERT_EQ(host->wait_exit(), 0) << host->output();
  const auto rec2 = read_json(record2);
  EXPECT_EQ(rec2["received"].value("0220", 0), 2) << rec2.dump();
  EXPECT_EQ(rec2["received"].value("0200", 0), 0) << rec2.dump();
  sw.signal(SIGTERM);
  EXPECT_EQ(sw.wait_exit(), 0) << sw.output();
}

TEST_F(SimulatorProcesses, RandomFaultsAreCountedOnBothSidesAndIdleConnectionsAreHeld) {
  const auto record = dir / "record.json";
  const auto hs = write_hostsim("len2+tpdu", "iso87-binary",
                                "faults:\n  - {action: duplicate, rate: 0.05}\n  - {action: disconnect, rate: 0.02}\n");
  child_process host({EFT_HOSTSIM_PATH, "--config", hs.string(), "--record", record.string()});
  const auto port = port_of(host, "listening on 127.0.0.1:");
  ASSERT_NE(port, 0) << host.output();
  const auto cfg = write_termsim(port, zpk, 2000).string();

  const auto report = dir / "report.json";
  child_process load({EFT_TERMSIM_PATH, "load", "--config", cfg, "--connections", "10", "--duration", "1.5",
                      "--no-progress", "--json", report.string()});
  EXPECT_EQ(load.wait_exit(), 2) << "errors fail the run: " << load.output();
  const auto r = read_json(report);
  ASSERT_FALSE(r.is_discarded());
  EXPECT_GT(r["answered"].get<std::uint64_t>(), 50U) << r.dump();
  EXPECT_GT(r["errors"]["unexpected_answer"].get<std::uint64_t>(), 0U) << "duplicates are answers to earlier requests";
  EXPECT_EQ(r["mismatches"]["stan"], 0) << "an answer to another request is not a mismatch of this one";
  EXPECT_GT(r["errors"]["closed"].get<std::uint64_t>(), 0U) << "disconnects drop requests in flight";
  EXPECT_EQ(r["mismatches"]["arpc"], 0) << r.dump();
  EXPECT_FALSE(r["samples"].empty());
  EXPECT_EQ(r.dump().find("4761739001010010"), std::string::npos) << "a full PAN in a sample";
  // A fault run whose errors are the point: they do not fail it.
  const auto allowed = dir / "allowed.json";
  child_process tolerant({EFT_TERMSIM_PATH, "load", "--config", cfg, "--connections", "10", "--duration", "1",
                          "--no-progress", "--allow-errors", "--json", allowed.string()});
  EXPECT_EQ(tolerant.wait_exit(), 0) << tolerant.output();
  const auto a = read_json(allowed);
  ASSERT_FALSE(a.is_discarded());
  EXPECT_GT(a["errors"]["unexpected_answer"].get<std::uint64_t>() + a["errors"]["closed"].get<std::uint64_t>(), 0U)
      << a.dump();

  const auto idle = dir / "idle.json";
  child_process hold({EFT_TERMSIM_PATH, "load", "--config", cfg, "--connections", "300", "--duration", "1", "--idle",
                      "--source-addresses", "4", "--no-progress", "--json", idle.string()});
  ASSERT_EQ(hold.wait_exit(), 0) << hold.output();
  const auto i = read_json(idle);
  EXPECT_EQ(i["held"], 300) << i.dump();
  EXPECT_EQ(i["sent"], 0) << i.dump();

  host.signal(SIGTERM);
  ASSERT_EQ(host.wait_exit(), 0) << host.output();
  const auto rec = read_json(record);
  EXPECT_GT(rec["faults"].value("duplicate", 0), 0) << rec.dump();
  EXPECT_GT(rec["faults"].value("disconnect", 0), 0) << rec.dump();
  EXPECT_GE(rec["counters"].value("connections", 0), 310) << rec.dump();
  // The record reconciles with the terminals' reports (both load runs went to this host): what was
  // sent was received, and an answer counts when it was written, so a request dropped by a
  // disconnect is withheld, not answered.
  EXPECT_EQ(rec["received_total"].get<std::uint64_t>(), r["sent"].get<std::uint64_t>() + a["sent"].get<std::uint64_t>())
      << rec.dump() << r.dump() << a.dump();
  EXPECT_EQ(rec["answered_total"].get<std::uint64_t>(),
            r["answered"].get<std::uint64_t>() + a["answered"].get<std::uint64_t>())
      << rec.dump() << r.dump() << a.dump();
  EXPECT_EQ(rec["withheld"].value("disconnect", 0), rec["faults"]["disconnect"]) << rec.dump();
  EXPECT_EQ(rec["duplicates_sent"], rec["faults"]["duplicate"]) << rec.dump();
  EXPECT_EQ(rec["received_total"].get<std::uint64_t>(),
            rec["answered_total"].get<std::uint64_t>() + rec["withheld_total"].get<std::uint64_t>())
      << rec.dump();
}

TEST_F(SimulatorProcesses, HostRecordCountsOnlyAnswersWrittenToTheLink) {
  const auto record = dir / "record.json";
  const auto hs =
      write_hostsim("len2+tpdu", "iso87-binary",
                    "faults:\n  - {action: no_answer, amount: 77.77}\n  - {action: garbage, amount: 66.66}\n"
                    "  - {action: disconnect, amount: 33.33}\n  - {action: duplicate, amount: 44.44}\n");
  child_process host({EFT_HOSTSIM_PATH, "--config", hs.string(), "--record", record.string()});
  const auto port = port_of(host, "listening on 127.0.0.1:");
  ASSERT_NE(port, 0) << host.output();
  // 3 s to answer: an answer under a loaded machine (sanitizers, parallel tests) is still in time.
  const auto cfg = write_termsim(port, zpk, 3000).string();

  // Six purchases: two answered, one answered twice, three never answered.
  std::size_t answered_at_terminal = 0;
  for (const char* amount : {"12.34", "77.77", "66.66", "33.33", "44.44", "12.35"}) {
    child_process send({EFT_TERMSIM_PATH, "send", "--config", cfg, "--amount", amount});
    if (send.wait_exit() == 0) ++answered_at_terminal;
  }
  EXPECT_EQ(answered_at_terminal, 3U);

  host.signal(SIGTERM);
  ASSERT_EQ(host.wait_exit(), 0) << host.output();
  const auto rec = read_json(record);
  ASSERT_FALSE(rec.is_discarded());
  EXPECT_EQ(rec["received_total"], 6) << rec.dump();
  EXPECT_EQ(rec["answered_total"], 3) << rec.dump();
  EXPECT_EQ(rec["answered"].value("0210/00", 0), 3) << rec.dump();
  EXPECT_EQ(rec["duplicates_sent"], 1) << rec.dump();
  EXPECT_EQ(rec["withheld_total"], 3) << rec.dump();
  EXPECT_EQ(rec["withheld"], nlohmann::json({{"disconnect", 1}, {"garbage", 1}, {"no_answer", 1}})) << rec.dump();
  EXPECT_EQ(rec["faults"], nlohmann::json({{"disconnect", 1}, {"duplicate", 1}, {"garbage", 1}, {"no_answer", 1}}))
      << rec.dump();
  EXPECT_EQ(rec["transactions"].size(), 6U) << "every request decided is listed, with its fault";
}

// garbage: framing writes the answer behind the other framing's length header and closes the link.
// termsim reports it as a bad frame, neither a timeout nor a malformed message, on a binary-length
// link (an ASCII length read as a 2-byte one is over max_frame) and on an ASCII-length one (a
// binary length holds non-digits), and a load run reconnects and goes on. The host withholds those
// answers as garbage_framing, and its record reconciles with the load report.
TEST_F(SimulatorProcesses, FramingGarbageIsABadFrameAtTheTerminalAndWithheldAtTheHost) {
  const auto record = dir / "record.json";
  const auto hs = write_hostsim("len2+tpdu", "iso87-binary",
                                "faults:\n  - {action: garbage, garbage: framing, amount: 66.66}\n"
                                "  - {action: garbage, garbage: framing, rate: 0.05}\n");
  child_process host({EFT_HOSTSIM_PATH, "--config", hs.string(), "--record", record.string()});
  const auto port = port_of(host, "listening on 127.0.0.1:");
  ASSERT_NE(port, 0) << host.output();
  // 5 s to answer: no answer may time out in this run, even on a machine loaded by sanitizers.
  const auto cfg = write_termsim(port, zpk, 5000).string();

  child_process send({EFT_TERMSIM_PATH, "send", "--config", cfg, "--amount", "66.66"});
  EXPECT_EQ(send.wait_exit(), 1) << send.output();
  EXPECT_NE(send.output().find("termsim: connection a frame longer than the link's maximum"), std::string::npos)
      << send.output();

  const auto report = dir / "report.json";
  child_process load({EFT_TERMSIM_PATH, "load", "--config", cfg, "--connections", "10", "--duration", "1.5",
                      "--no-progress", "--json", report.string()});
  EXPECT_EQ(load.wait_exit(), 2) << "errors fail the run: " << load.output();
  const auto r = read_json(report);
  ASSERT_FALSE(r.is_discarded());
  EXPECT_GT(r["answered"].get<std::uint64_t>(), 50U) << r.dump();
  EXPECT_GT(r["errors"]["bad_frame"].get<std::uint64_t>(), 0U) << r.dump();
  for (const char* other : {"timeout", "malformed", "closed", "unexpected_answer"}) {
    EXPECT_EQ(r["errors"][other], 0) << other << " " << r.dump();
  }
  for (const auto& [k, v] : r["mismatches"].items()) EXPECT_EQ(v, 0) << k << " " << r.dump();

  host.signal(SIGTERM);
  ASSERT_EQ(host.wait_exit(), 0) << host.output();
  const auto rec = read_json(record);
  ASSERT_FALSE(rec.is_discarded());
  const auto broken = rec["faults"].value("garbage_framing", 0);
  // Every broken frame reached a terminal, which read it as one (the send's and the load's).
  EXPECT_EQ(broken, r["errors"]["bad_frame"].get<std::uint64_t>() + 1) << rec.dump() << r.dump();
  EXPECT_EQ(rec["withheld"], nlohmann::json({{"garbage_framing", broken}})) << rec.dump();
  EXPECT_EQ(rec["received_total"].get<std::uint64_t>(), r["sent"].get<std::uint64_t>() + 1) << rec.dump() << r.dump();
  EXPECT_EQ(rec["answered_total"], r["answered"]) << rec.dump() << r.dump();
  EXPECT_EQ(rec["received_total"].get<std::uint64_t>(),
            rec["answered_total"].get<std::uint64_t>() + rec["withheld_total"].get<std::uint64_t>())
      << rec.dump();
  // The send's connection and the load's 10, then a reconnection after broken frames (not after the
  // last ones of a connection when the run ends first).
  EXPECT_GT(rec["counters"].value("connections", 0), 11) << rec.dump();
  EXPECT_LE(rec["counters"].value("connections", 0), broken + 10) << rec.dump();

  // An ASCII-length link: the binary length's first byte is 0, not a digit. The host goes on
  // serving the next connection.
  child_process ascii_host(
      {EFT_HOSTSIM_PATH, "--config",
       write_hostsim("ascii4", "iso87-ascii", "faults:\n  - {action: garbage, garbage: framing, amount: 66.66}\n")
           .string()});
  const auto ascii_port = port_of(ascii_host, "listening on 127.0.0.1:");
  ASSERT_NE(ascii_port, 0) << ascii_host.output();
  const auto ascii_cfg = write_termsim(ascii_port, zpk, 5000, "ascii4", "iso87-ascii").string();
  child_process ascii_send({EFT_TERMSIM_PATH, "send", "--config", ascii_cfg, "--amount", "66.66"});
  EXPECT_EQ(ascii_send.wait_exit(), 1) << ascii_send.output();
  EXPECT_NE(ascii_send.output().find("termsim: connection the 4-digit ASCII length holds a non-digit"),
            std::string::npos)
      << ascii_send.output();
  child_process ascii_ok({EFT_TERMSIM_PATH, "send", "--config", ascii_cfg, "--amount", "12.34"});
  EXPECT_EQ(ascii_ok.wait_exit(), 0) << ascii_ok.output();
  EXPECT_NE(ascii_ok.output().find("purchase 12.34: RC 00"), std::string::npos) << ascii_ok.output();
  ascii_host.signal(SIGTERM);
  EXPECT_EQ(ascii_host.wait_exit(), 0) << ascii_host.output();
}

// Open loop with one request outstanding per connection: 4 connections at 50 ms carry 80 tps at
// most. Asked for 400, the run says it fell behind (and fails); with enough connections it keeps
// its schedule and passes.
TEST_F(SimulatorProcesses, OpenLoopThatCannotKeepItsRateSaysSoAndFails) {
  child_process host(
      {EFT_HOSTSIM_PATH, "--config",
       write_hostsim("len2+tpdu", "iso87-binary", "faults:\n  - {action: delay, delay_ms: 50}\n").string()});
  const auto port = port_of(host, "listening on 127.0.0.1:");
  ASSERT_NE(port, 0) << host.output();
  const auto cfg = write_termsim(port, zpk, 5000).string();

  const auto report = dir / "behind.json";
  child_process behind({EFT_TERMSIM_PATH, "load", "--config", cfg, "--connections", "4", "--duration", "1.5", "--rate",
                        "400", "--no-progress", "--json", report.string()});
  EXPECT_EQ(behind.wait_exit(), 3) << behind.output();
  EXPECT_NE(behind.output().find("WARNING: the run fell behind its schedule"), std::string::npos) << behind.output();
  EXPECT_NE(behind.output().find("too few connections for the latency"), std::string::npos) << behind.output();
  const auto r = read_json(report);
  ASSERT_FALSE(r.is_discarded());
  EXPECT_EQ(r["fell_behind"], true) << r.dump();
  for (const auto& [k, v] : r["errors"].items()) EXPECT_EQ(v, 0) << k << " " << r.dump();
  // About 600 due in 1.5 s; at most about 4 / 0.05 s x 1.5 s = 120 sent, nearly all late.
  EXPECT_GT(r["scheduled"].get<std::uint64_t>(), 500U) << r.dump();
  EXPECT_LT(r["sent"].get<std::uint64_t>(), 150U) << r.dump();
  EXPECT_GT(r["behind_schedule"].get<std::uint64_t>(), r["sent"].get<std::uint64_t>() / 2) << r.dump();
  EXPECT_LT(r["achieved_rate"].get<double>(), 100.0) << r.dump();
  // Latency counts from the scheduled time: the queue behind the connections shows, far above the
  // host's 50 ms.
  EXPECT_GT(r["latency_ms"]["p50"].get<double>(), 200.0) << r.dump();
  EXPECT_GE(r["service_latency_mean_ms"].get<double>(), 50.0) << r.dump();

  const auto ok = dir / "on-time.json";
  child_process on_time({EFT_TERMSIM_PATH, "load", "--config", cfg, "--connections", "20", "--duration", "1.5",
                         "--rate", "100", "--no-progress", "--json", ok.string()});
  EXPECT_EQ(on_time.wait_exit(), 0) << on_time.output();
  EXPECT_EQ(on_time.output().find("WARNING"), std::string::npos) << on_time.output();
  const auto o = read_json(ok);
  ASSERT_FALSE(o.is_discarded());
  EXPECT_EQ(o["fell_behind"], false) << o.dump();
  EXPECT_GE(static_cast<double>(o["sent"].get<std::uint64_t>()), 0.95 * o["scheduled"].get<double>()) << o.dump();
  EXPECT_GT(o["sent"].get<std::uint64_t>(), 100U) << o.dump();
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0) << host.output();
}

TEST_F(SimulatorProcesses, FaultsAreSeenByTermsimAndBadConfigIsRefused) {
  const auto hs =
      write_hostsim("len2+tpdu", "iso87-binary",
                    "faults:\n  - {action: no_answer, amount: 77.77}\n  - {action: garbage, amount: 66.66}\n"
                    "  - {action: delay, amount: 55.55, delay_ms: 300}\n");
  child_process host({EFT_HOSTSIM_PATH, "--config", hs.string()});
  const auto port = port_of(host, "listening on 127.0.0.1:");
  ASSERT_NE(port, 0) << host.output();
  // 3 s to answer: an answer under a loaded machine (sanitizers, parallel tests) is still in time.
  const auto cfg = write_termsim(port, zpk, 3000).string();

  child_process silent({EFT_TERMSIM_PATH, "send", "--config", cfg, "--amount", "77.77"});
  EXPECT_EQ(silent.wait_exit(), 1);
  EXPECT_NE(silent.output().find("no answer within 3000 ms"), std::string::npos) << silent.output();
  child_process garbage({EFT_TERMSIM_PATH, "send", "--config", cfg, "--amount", "66.66"});
  EXPECT_EQ(garbage.wait_exit(), 1);
  EXPECT_NE(garbage.output().find("malformed answer"), std::string::npos) << garbage.output();
  child_process slow({EFT_TERMSIM_PATH, "send", "--config", cfg, "--amount", "55.55"});
  EXPECT_EQ(slow.wait_exit(), 0) << slow.output();
  const auto at = slow.output().find("RC 00 in ");
  ASSERT_NE(at, std::string::npos) << slow.output();
  EXPECT_GE(std::stod(slow.output().substr(at + 9)), 300.0) << slow.output();

  const auto bad = dir / "bad.yaml";
  std::ofstream(bad) << "target: {address: 127.0.0.1, port: 5000}\nterminals:\n  - {id: POS1, kind: kiosk}\n";
  child_process refused({EFT_TERMSIM_PATH, "check", "--config", bad.string()});
  EXPECT_EQ(refused.wait_exit(), 1);
  EXPECT_NE(refused.output().find("bad.yaml:3: kind 'kiosk' is unknown (use pos or atm)"), std::string::npos)
      << refused.output();
}

}  // namespace
