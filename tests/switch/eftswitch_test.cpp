// The eftswitch daemon as a child process: --check, a purchase through it, SIGTERM with sign-off
// and exit status 0. The child is always killed at the end of a test, whatever happened.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "child_process.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/emv/card.hpp"
#include "stage_support.hpp"
#include "test_support.hpp"

namespace eft::switch_core {
namespace {

using namespace std::chrono_literals;
using test::child_process;
using test::terminal;
using test::test_host;
using test::wait_until;

// The value of `name` in a running process's environment (/proc/<pid>/environ), or "(unset)".
std::string environment_of(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string entry;
  while (std::getline(in, entry, '\0')) {
    if (entry.compare(0, name.size() + 1, name + "=") == 0) return entry.substr(name.size() + 1);
  }
  return "(unset)";
}

class Eftswitch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("eftswitch-test-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::filesystem::path write_config(std::uint16_t host_port) {
    const auto path = dir / "switch.yaml";
    std::ofstream(path) << "switch: {workers: 2, status_interval_ms: 200, shutdown_grace_ms: 1000}\n"
                           "listeners:\n"
                           "  - {name: pos, address: 127.0.0.1, port: 0, framing: len2+tpdu, spec: iso87-binary}\n"
                           "links:\n"
                           "  - name: acq1\n"
                           "    addresses: [127.0.0.1:"
                        << host_port
                        << "]\n"
                           "    spec: iso87-ascii\n"
                           "    reconnect_min_ms: 20\n"
                           "    reconnect_max_ms: 200\n"
                           "link_groups: [{name: acquirer, links: [acq1]}]\n"
                           "routes: [{name: all, to: acquirer, timeout_ms: 2000}]\n";
    return path;
  }

  std::filesystem::path dir;
};

TEST_F(Eftswitch, CheckValidatesTheConfig) {
  const auto good = write_config(7000);
  child_process ok({EFT_EFTSWITCH_PATH, "--config", good.string(), "--check"});
  ASSERT_TRUE(ok.started());
  EXPECT_EQ(ok.wait_exit(), 0);
  EXPECT_NE(ok.output().find("OK (1 listeners, 1 links, 1 link groups, 1 routes)"), std::string::npos) << ok.output();

  const auto bad = dir / "bad.yaml";
  std::ofstream(bad) << "listeners:\n  - {name: pos, port: 5000, framing: len3, spec: iso87-binary}\n";
  child_process refused({EFT_EFTSWITCH_PATH, "--config", bad.string(), "--check"});
  EXPECT_EQ(refused.wait_exit(), 1);
  EXPECT_NE(refused.output().find(bad.string() + ":2: listeners[0].framing 'len3' is unknown"), std::string::npos)
      << refused.output();
}

TEST_F(Eftswitch, ServesAPurchaseAndStopsCleanlyOnSigterm) {
  test_host host;
  const auto cfg = write_config(host.port());
  child_process sw({EFT_EFTSWITCH_PATH, "--config", cfg.string()});
  ASSERT_TRUE(sw.started());
  const auto port = sw.wait_for({"listener pos: listening on 127.0.0.1:"});
  ASSERT_TRUE(port.has_value()) << sw.output();
  EXPECT_TRUE(sw.wait_for({"open-file limit ", ": room for about ", " terminal connections"}));
  ASSERT_TRUE(sw.wait_for({"link acq1: ready"})) << sw.output();

  static const auto spec = iso8583::load_spec("iso87-binary");
  terminal t(static_cast<std::uint16_t>(std::stoi(port->substr(0, port->find(' ')))));
  iso8583::message m(*spec);
  m.set_mti("0200");
  (void)m.set(2U, "4761739001010010");
  (void)m.set(3U, "000000");
  (void)m.set(4U, "000000001000");
  (void)m.set(11U, "000042");
  (void)m.set(41U, "TERM0001");
  ASSERT_TRUE(t.send(m));
  const auto r = t.receive(*spec);
  ASSERT_TRUE(r.has_value()) << sw.output();
  EXPECT_EQ(r->get(39U), "00");
  EXPECT_EQ(r->get(11U), "000042");
  EXPECT_TRUE(sw.wait_for({"status: connections=1 ", " replies=1"}));
  // Restarted once with glibc's per-thread cache of 64 blocks per size (same process), when the
  // environment did not set the tunable already.
  if (std::getenv("GLIBC_TUNABLES") == nullptr && std::getenv("LD_PRELOAD") == nullptr) {
    EXPECT_EQ(environment_of(sw.pid(), "GLIBC_TUNABLES"), "glibc.malloc.tcache_count=64");
    EXPECT_EQ(sw.wait_for({"malloc: GLIBC_TUNABLES=glibc.malloc.tcache_count=64"}, 1000ms), "") << sw.output();
  }

  sw.signal(SIGTERM);
  EXPECT_EQ(sw.wait_exit(), 0) << sw.output();
  EXPECT_EQ(host.sign_offs.load(), 1);
  EXPECT_TRUE(t.closed_by_peer(1000ms));
  const std::string& out = sw.output();
  EXPECT_NE(out.find("SIGTERM: shutting down"), std::string::npos) << out;
  EXPECT_NE(out.find("link acq1: sign-off answered"), std::string::npos) << out;
  EXPECT_EQ(out.find("4761739001010010"), std::string::npos) << "a full PAN in the log";
}

// An operator's own thread-cache size stays: eftswitch does not restart with its own.
TEST_F(Eftswitch, KeepsTheOperatorsMallocTunables) {
  test_host host;
  const auto cfg = write_config(host.port());
  const char* before = std::getenv("GLIBC_TUNABLES");
  const std::string saved = before != nullptr ? before : "";
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2:glibc.malloc.tcache_count=7", 1);
  child_process sw({EFT_EFTSWITCH_PATH, "--config", cfg.string()});
  if (before != nullptr) {
    ::setenv("GLIBC_TUNABLES", saved.c_str(), 1);
  } else {
    ::unsetenv("GLIBC_TUNABLES");
  }
  ASSERT_TRUE(sw.started());
  ASSERT_TRUE(sw.wait_for({"listener pos: listening on 127.0.0.1:"})) << sw.output();
  // (glibc splits the environment's own copy of the value where it parses it: the log says it whole.)
  EXPECT_EQ(sw.wait_for({"malloc: GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.tcache_count=7"}, 1000ms), "")
      << sw.output();
  sw.signal(SIGTERM);
  EXPECT_EQ(sw.wait_exit(), 0) << sw.output();
}

// A program with file capabilities (the usual way to let eftswitch bind a port under 1024) runs
// with AT_SECURE set, and glibc then drops the tunable from its environment: eftswitch must not
// restart itself again and again looking for it. Run as nobody (file capabilities raise nothing for
// root); needs root, setcap and su.
TEST_F(Eftswitch, StartsOnceWhenItHasFileCapabilities) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "a sanitizer's runtime under AT_SECURE is not what this checks";
#endif
  if (::geteuid() != 0 || !std::filesystem::exists("/usr/sbin/setcap") || !std::filesystem::exists("/usr/bin/su")) {
    GTEST_SKIP() << "needs root, /usr/sbin/setcap and /usr/bin/su";
  }
  const auto exe = dir / "eftswitch";
  std::filesystem::copy_file(EFT_EFTSWITCH_PATH, exe);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                        std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                        std::filesystem::perms::others_exec);
  child_process setcap({"/usr/sbin/setcap", "cap_net_bind_service+ep", exe.string()});
  ASSERT_EQ(setcap.wait_exit(), 0) << setcap.output();
  // --help exits at once after the start-up code: a restart loop would never get there, and
  // timeout(1) stops it (the test's kill of su would not reach a child running as nobody).
  child_process sw({"/usr/bin/su", "nobody", "-s", "/bin/sh", "-c", "exec timeout 5 " + exe.string() + " --help"});
  ASSERT_TRUE(sw.started());
  EXPECT_EQ(sw.wait_exit(10000ms), 0) << sw.output();
  EXPECT_NE(sw.output().find("the EFT transaction switch daemon"), std::string::npos) << sw.output();
}

// A deployment with the HSM stages: a MACing POS listener, a DUKPT listener (PIN and MAC keys of one
// KSN) and a chip listener; a route that translates PINs to the zone key and acts for the issuer.
std::filesystem::path write_stage_config(const std::filesystem::path& dir, std::uint16_t host_port) {
  std::ofstream(dir / "lmk.hex") << test::stage::test_lmk_hex << '\n';
  const auto path = dir / "switch.yaml";
  std::ofstream(path) << "switch: {workers: 2, status_interval_ms: 200, shutdown_grace_ms: 1000}\n"
                         "listeners:\n"
                         "  - {name: pos, address: 127.0.0.1, port: 0, framing: len2+tpdu, spec: iso87-binary,\n"
                         "     mac_key: tak.pos}\n"
                         "  - {name: dukpt, address: 127.0.0.1, port: 0, spec: iso87-ascii, pin_bdk: bdk.pos,\n"
                         "     mac_bdk: bdk.pos}\n"
                         "  - {name: chip, address: 127.0.0.1, port: 0, framing: len2+tpdu, spec: iso87-binary}\n"
                         "links:\n"
                         "  - {name: acq1, addresses: [127.0.0.1:"
                      << host_port
                      << "], spec: iso87-ascii, reconnect_min_ms: 20, reconnect_max_ms: 200}\n"
                         "link_groups: [{name: acquirer, links: [acq1]}]\n"
                         "routes:\n"
                         "  - name: visa\n"
                         "    match: {pan_prefixes: [4]}\n"
                         "    to: acquirer\n"
                         "    timeout_ms: 2000\n"
                         "    pin_key: zpk.acq1\n"
                         "    issuer: {imk: imk.visa}\n"
                         "hsm: {backend: software, key_file: keys.yaml, lmk_file: lmk.hex}\n";
  return path;
}

std::uint16_t port_in(const std::optional<std::string>& rest) {
  return rest ? static_cast<std::uint16_t>(std::stoi(rest->substr(0, rest->find(' ')))) : 0;
}

TEST_F(Eftswitch, CheckConfigNamesKeysMissingFromTheHsmAndBadKeys) {
  ASSERT_TRUE(test::stage::make_test_hsm(dir / "keys.yaml"));
  const auto cfg = write_stage_config(dir, 7000);
  child_process ok({EFT_EFTSWITCH_PATH, "--check-config", cfg.string()});
  EXPECT_EQ(ok.wait_exit(), 0) << ok.output();
  EXPECT_NE(ok.output().find("OK (3 listeners, 1 links, 1 link groups, 1 routes)"), std::string::npos) << ok.output();

  std::string text;
  {
    std::ifstream in(cfg);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto rewrite = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    std::ofstream(cfg) << t;
  };
  rewrite("mac_key: tak.pos", "mac_key: zpk.acq1");
  child_process wrong_usage({EFT_EFTSWITCH_PATH, "--check-config", cfg.string()});
  EXPECT_EQ(wrong_usage.wait_exit(), 1);
  EXPECT_NE(wrong_usage.output().find(
                cfg.string() + ":3: mac_key 'zpk.acq1' is a key of usage P0, not an ISO 9797-1 alg 3 MAC key (M3)"),
            std::string::npos)
      << wrong_usage.output();
  rewrite("imk: imk.visa", "imk: imk.mastercard");
  child_process missing({EFT_EFTSWITCH_PATH, "--check-config", cfg.string()});
  EXPECT_EQ(missing.wait_exit(), 1);
  EXPECT_NE(missing.output().find(cfg.string() + ":17: issuer.imk 'imk.mastercard'"), std::string::npos)
      << missing.output();
  rewrite("issuer: {imk: imk.visa}", "issuer: {imk: imk.visa, cvn: 10}");
  child_process unknown({EFT_EFTSWITCH_PATH, "--check-config", cfg.string()});
  EXPECT_EQ(unknown.wait_exit(), 1);
  EXPECT_NE(unknown.output().find(cfg.string() + ":17: unknown key 'routes[0].issuer.cvn' (allowed keys: imk, "
                                                 "cryptogram_version, arqc_failure_rc)"),
            std::string::npos)
      << unknown.output();
}

// End-to-end cases against the real process: a DUKPT PIN the host reads under its zone
// key, a wrong MAC refused, a right one answered with a valid MAC, an ARQC verified with the ARPC back.
TEST_F(Eftswitch, MacDukptPinAndChipCryptogramsEndToEnd) {
  using namespace test::stage;
  ASSERT_TRUE(make_test_hsm(dir / "keys.yaml"));
  test_host host;
  const auto cfg = write_stage_config(dir, host.port());
  child_process sw({EFT_EFTSWITCH_PATH, "--config", cfg.string()});
  ASSERT_TRUE(sw.started());
  const std::uint16_t pos = port_in(sw.wait_for({"listener pos: listening on 127.0.0.1:"}));
  const std::uint16_t dukpt = port_in(sw.wait_for({"listener dukpt: listening on 127.0.0.1:"}));
  const std::uint16_t chip = port_in(sw.wait_for({"listener chip: listening on 127.0.0.1:"}));
  ASSERT_TRUE(pos != 0 && dukpt != 0 && chip != 0) << sw.output();
  ASSERT_TRUE(sw.wait_for({"link acq1: ready"})) << sw.output();

  // DUKPT: the published X9.24-1 PIN block and request MAC; the host reads PIN 1234 under the ZPK.
  terminal d(dukpt, false);
  auto m = purchase(ascii_spec(), "000801", std::string(x924_pan));
  (void)m.set(52U, chars(hex(x924_pin_block)));
  crypto::bytes f53 = hex(x924_ksn);
  f53.resize(48, 0);
  (void)m.set(53U, chars(f53));
  add_mac(m, x924_mac_request_key);
  ASSERT_TRUE(d.send(m));
  auto r = d.receive(ascii_spec());
  ASSERT_TRUE(r.has_value()) << sw.output();
  EXPECT_EQ(r->get(39U), "00");
  EXPECT_TRUE(mac_valid(*r, x924_mac_response_key));
  const std::string at_host = host.last_pin_block();
  const auto pin = crypto::decrypt_pin(crypto::pin_block_format::iso0, crypto::cipher::tdes, hex(zpk_hex),
                                       bytes_of(at_host), x924_pan);
  ASSERT_TRUE(pin) << pin.error().message();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(pin->data()), pin->size()), "1234");

  // Static terminal MAC key: right MAC answered with a valid MAC; wrong MAC refused with 63.
  terminal p(pos);
  auto good = purchase(binary_spec(), "000802");
  add_mac(good, tak_hex);
  ASSERT_TRUE(p.send(good));
  r = p.receive(binary_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  EXPECT_TRUE(mac_valid(*r, tak_hex));
  auto bad = purchase(binary_spec(), "000803");
  add_mac(bad, tak_hex);
  (void)bad.set(4U, "000000000001");
  ASSERT_TRUE(p.send(bad));
  r = p.receive(binary_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "63");
  EXPECT_EQ(host.requests.load(), 2);

  // Chip: the card's ARQC verified by the issuer route; the card accepts the ARPC in field 55.
  emv::card_profile card;
  card.pan = pan;
  card.version = emv::cryptogram_version::visa_10;
  card.imk = crypto::secure_from_hex(imk_hex).value();
  card.atc = 0x0007;
  emv::terminal_data td;
  td.amount = 1000;
  const auto f55 = emv::generate_request_field55(card, td);
  ASSERT_TRUE(f55) << f55.error().message();
  terminal c(chip);
  auto chip_purchase = purchase(binary_spec(), "000804");
  (void)chip_purchase.set(55U, chars(*f55));
  ASSERT_TRUE(c.send(chip_purchase));
  r = c.receive(binary_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  ASSERT_TRUE(r->get(55U).has_value());
  const auto auth = emv::check_issuer_response(card, *f55, bytes_of(*r->get(55U)));
  ASSERT_TRUE(auth) << auth.error().message();
  EXPECT_TRUE(auth->valid);

  EXPECT_TRUE(sw.wait_for({"status: ", " mac_failures=1 arqc_failures=0"})) << sw.output();
  sw.signal(SIGTERM);
  EXPECT_EQ(sw.wait_exit(), 0) << sw.output();
  const std::string& out = sw.output();
  EXPECT_EQ(out.find(pan), std::string::npos) << "a full PAN in the log";
  EXPECT_EQ(out.find(x924_pan), std::string::npos) << "a full PAN in the log";
}

}  // namespace
}  // namespace eft::switch_core
