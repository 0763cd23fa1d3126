// The stand-in's local PIN verification in-process: a switch with a software HSM and a journal,
// whose host never signs on, approves under the floor limit only when the PIN verifies against the
// Visa PVV or the IBM 3624 offset on the card's track 2. The cards, PINs, keys, PVV and offset are
// those of the host simulator's example config (simulators/examples/hostsim.yaml), which hostsim
// verifies with its own code; the terminal's PIN blocks are made with the crypto library.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "eft/config/switch.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/switch/journal.hpp"
#include "eft/switch/server.hpp"
#include "eft/switch/stages.hpp"
#include "stage_support.hpp"
#include "test_support.hpp"

namespace eft::switch_core {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::terminal;
using test::test_host;
using namespace test::stage;

// hostsim.yaml: PIN 1234 has PVV 0374 under PVKI 1; PIN 4321 has offset 1392 (validation data: the
// last 12 account-number digits, decimalisation table 0123456789012345).
constexpr const char* visa_pan = "4761739001010010";
constexpr const char* visa_discretionary = "1037400000";  // PVKI 1, PVV 0374
constexpr const char* mc_pan = "5413330089600010";
constexpr const char* mc_discretionary = "00139200";  // the offset at position 2
constexpr const char* journal_key_hex = "00112233445566778899AABBCCDDEEFF0123456789ABCDEF0123456789ABCDEF";

std::string config_yaml(std::uint16_t host_port, const fs::path& journal) {
  return "switch: {workers: 1, status_interval_ms: 0, shutdown_grace_ms: 1000}\n"
         "listeners:\n"
         "  - {name: pos, address: 127.0.0.1, port: 0, framing: len2+tpdu, spec: iso87-binary, pin_key: tpk.pos}\n"
         "links:\n"
         "  - name: acq1\n"
         "    addresses: [127.0.0.1:" +
         std::to_string(host_port) +
         "]\n"
         "    spec: iso87-ascii\n"
         "    reconnect_min_ms: 20\n"
         "    reconnect_max_ms: 200\n"
         "    network_timeout_ms: 500\n"
         "    echo_interval_ms: 0\n"
         "link_groups: [{name: acquirer, links: [acq1]}]\n"
         "routes:\n"
         "  - name: visa\n"
         "    match: {pan_prefixes: [4]}\n"
         "    to: acquirer\n"
         "    pin_key: zpk.acq1\n"
         "    stand_in:\n"
         "      policy: approve\n"
         "      floor_limit: 5000\n"
         "      rc: \"05\"\n"
         "      pin_verify: {method: visa_pvv, pvk: pvk.visa, pvki: 1}\n"
         "  - name: mastercard\n"
         "    match: {pan_prefixes: [5]}\n"
         "    to: acquirer\n"
         "    pin_key: zpk.acq1\n"
         "    stand_in:\n"
         "      policy: approve\n"
         "      floor_limit: 5000\n"
         "      rc: \"05\"\n"
         "      pin_verify:\n"
         "        method: ibm3624\n"
         "        pvk: pvk.3624\n"
         "        decimalization: \"0123456789012345\"\n"
         "        validation_data: NNNNNNNNNNNN\n"
         "        offset_position: 2\n"
         "        offset_length: 4\n"
         "  - name: amex\n"
         "    match: {pan_prefixes: [37]}\n"
         "    to: acquirer\n"
         "    pin_key: zpk.acq1\n"
         "    stand_in:\n"
         "      policy: approve\n"
         "      floor_limit: 5000\n"
         "      rc: \"05\"\n"
         "      pin_verify: {method: visa_pvv, pvk: pvk.visa, required: false}\n"
         "hsm: {backend: software, key_file: keys.yaml}\n"
         "journal:\n"
         "  path: " +
         journal.string() +
         "\n"
         "  durability: process_crash\n"
         "  key_env: EFT_TEST_JOURNAL_KEY\n"
         "  saf_retry_interval_ms: 300\n";
}

// A purchase with track 2 (field 35) and the PIN block of `pin` under the terminal's PIN key.
iso8583::message card_purchase(std::string stan, const char* card, const char* discretionary, const char* pin,
                               std::string amount = "000000001000") {
  auto m = purchase(binary_spec(), std::move(stan), card);
  (void)m.set(4U, amount);
  if (discretionary != nullptr) (void)m.set(35U, std::string(card) + "=3012201" + discretionary);
  if (pin != nullptr) {
    const auto block =
        crypto::encrypt_pin(crypto::pin_block_format::iso0, crypto::cipher::tdes, hex(tpk_hex), pin, card);
    if (block) (void)m.set(52U, chars(*block));
  }
  return m;
}

class StandInPin : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* level = std::getenv("EFT_TEST_LOG");
    spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::err);
    ::setenv("EFT_TEST_JOURNAL_KEY", journal_key_hex, 1);
    std::random_device rd;
    dir = fs::temp_directory_path() / ("eft-standin-pin-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(dir);
    hsm = make_test_hsm(dir / "keys.yaml");
    ASSERT_TRUE(hsm) << "the test HSM cannot be made";
    // The host is down: it refuses every sign-on, so the group never has a ready link.
    host = std::make_unique<test_host>();
    host->refuse_sign_on = true;
  }
  void TearDown() override {
    if (server) server->stop();
    server.reset();
    host.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  config::switch_config cfg() const {
    return config::parse_switch_config_text(config_yaml(host->port(), dir / "journal.db"), dir / "test.yaml");
  }
  void start() {
    server = std::make_unique<switch_server>(cfg(), hsm);
    server->start();
    ASSERT_NE(server->port("pos"), 0);
  }
  // The response code of the answer to one request on a new connection; "none" without answer, "-"
  // without field 39.
  std::string rc_of(const iso8583::message& m) {
    terminal t(server->port("pos"));
    if (!t.send(m)) return "none";
    last = t.receive(binary_spec());
    return last ? std::string(last->get(39U).value_or("-")) : "none";
  }
  std::size_t advices() const {
    auto ro = open_sqlite_journal_read_only(
        dir / "journal.db", std::make_shared<journal_keys>(journal_keys::load("EFT_TEST_JOURNAL_KEY", {})));
    return ro->saf_items("acquirer", false).size();
  }

  fs::path dir;
  std::shared_ptr<crypto::hsm> hsm;
  std::unique_ptr<test_host> host;
  std::unique_ptr<switch_server> server;
  std::optional<iso8583::message> last;  // the last answer rc_of received
};

TEST_F(StandInPin, VisaPvvRightPinApprovesUnderTheFloorAndAWrongOneGets55WithoutAdvice) {
  start();
  EXPECT_EQ(rc_of(card_purchase("000101", visa_pan, visa_discretionary, "1234")), "00");
  EXPECT_EQ(last->get(38U).value_or("").substr(0, 1), "S");
  EXPECT_EQ(advices(), 1U);

  EXPECT_EQ(rc_of(card_purchase("000102", visa_pan, visa_discretionary, "1235")), "55");
  EXPECT_FALSE(last->has(38U));
  EXPECT_EQ(advices(), 1U) << "a wrong PIN queued an advice";
  // Right PIN, another card's PVV on the track: the PVV covers the PAN too.
  EXPECT_EQ(rc_of(card_purchase("000103", "4000000000000002", visa_discretionary, "1234")), "55");
  EXPECT_EQ(host->requests.load(), 0);
}

TEST_F(StandInPin, Ibm3624OffsetRightPinApprovesAndAWrongOneGets55) {
  start();
  EXPECT_EQ(rc_of(card_purchase("000201", mc_pan, mc_discretionary, "4321")), "00");
  EXPECT_EQ(advices(), 1U);
  EXPECT_EQ(rc_of(card_purchase("000202", mc_pan, mc_discretionary, "4322")), "55");
  // The offset read from another position of the track is another offset: the same PIN fails.
  EXPECT_EQ(rc_of(card_purchase("000203", mc_pan, "13920000", "4321")), "55");
  EXPECT_EQ(advices(), 1U);
}

TEST_F(StandInPin, MissingPinDataIsDeclinedWithThePolicysCode) {
  start();
  // No track 2: nothing to verify the PIN against.
  EXPECT_EQ(rc_of(card_purchase("000301", visa_pan, nullptr, "1234")), "05");
  // Track 2 too short for PVKI and PVV; a PVKI the route has no key for.
  EXPECT_EQ(rc_of(card_purchase("000302", visa_pan, "103", "1234")), "05");
  EXPECT_EQ(rc_of(card_purchase("000303", visa_pan, "2037400000", "1234")), "05");
  // No PIN block while the policy requires one.
  EXPECT_EQ(rc_of(card_purchase("000304", visa_pan, visa_discretionary, nullptr)), "05");
  // A right PIN above the floor limit is still declined.
  EXPECT_EQ(rc_of(card_purchase("000305", visa_pan, visa_discretionary, "1234", "000000006000")), "05");
  EXPECT_EQ(advices(), 0U);
}

TEST_F(StandInPin, WhenNotRequiredARequestWithoutPinIsApprovedButAPinBlockIsStillVerified) {
  start();
  constexpr const char* amex = "378282246310005";
  EXPECT_EQ(rc_of(card_purchase("000401", amex, "1037400000", nullptr)), "00");
  EXPECT_EQ(advices(), 1U);
  EXPECT_EQ(rc_of(card_purchase("000402", amex, "1037400000", "1234")), "55");  // not this card's PVV
  EXPECT_EQ(rc_of(card_purchase("000403", amex, nullptr, "1234")), "05");
  EXPECT_EQ(advices(), 1U);
}

TEST_F(StandInPin, ThePinVerificationKeyIsCheckedAtStartWithItsLine) {
  auto c = cfg();
  EXPECT_NO_THROW((void)check_config_keys(c, hsm.get()));
  c.routes[0].stand_in->pin_verify->pvk = "pvk.3624";  // an IBM 3624 key for the PVV method
  try {
    (void)check_config_keys(c, hsm.get());
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "test.yaml").string() +
                                         ":22: stand_in.pin_verify.pvk 'pvk.3624' is a key of usage V1, not a Visa "
                                         "PVV PIN verification key (V2)");
  }
  c.routes[0].stand_in->pin_verify->pvk = "pvk.none";
  try {
    (void)check_config_keys(c, hsm.get());
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("test.yaml:22: stand_in.pin_verify.pvk 'pvk.none'"), std::string::npos)
        << e.what();
  }
  // The switch refuses to start with it.
  EXPECT_THROW(switch_server(c, hsm), std::runtime_error);
}

}  // namespace
}  // namespace eft::switch_core
