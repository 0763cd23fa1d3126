// The HSM stages of the pipeline in-process, between test terminals and the test host on 127.0.0.1:
// MAC verification and generation with a static terminal MAC key and with TDES DUKPT, DUKPT PIN
// translation to the zone key, and the issuer's ARQC check and ARPC. The expectations are
// independent of the switch: the published X9.24-1 DUKPT vectors (PIN block, request and response
// MAC keys), the crypto library on the host side, and the emv library's card side for the ARPC.
#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>

#include "eft/config/switch.hpp"
#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/mac.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/crypto/software_hsm.hpp"
#include "eft/emv/card.hpp"
#include "eft/switch/server.hpp"
#include "stage_support.hpp"
#include "test_support.hpp"

namespace eft::switch_core {
namespace {

using namespace std::chrono_literals;
using test::terminal;
using test::test_host;
using test::wait_until;
using namespace test::stage;

std::string config_yaml(std::uint16_t host_port) {
  return "switch: {workers: 2, status_interval_ms: 0, shutdown_grace_ms: 1000}\n"
         "listeners:\n"
         "  - {name: pos, address: 127.0.0.1, port: 0, framing: len2+tpdu, spec: iso87-binary, mac_key: tak.pos}\n"
         "  - name: dukpt\n"
         "    address: 127.0.0.1\n"
         "    port: 0\n"
         "    spec: iso87-ascii\n"
         "    pin_bdk: bdk.pos\n"
         "    mac_bdk: bdk.pos\n"
         "  - {name: chip, address: 127.0.0.1, port: 0, framing: len2+tpdu, spec: iso87-binary}\n"
         "  - {name: aes, address: 127.0.0.1, port: 0, spec: iso87-ascii, mac_bdk: bdk.aes}\n"
         "links:\n"
         "  - name: acq1\n"
         "    addresses: [127.0.0.1:" +
         std::to_string(host_port) +
         "]\n"
         "    spec: iso87-ascii\n"
         "    reconnect_min_ms: 20\n"
         "    reconnect_max_ms: 200\n"
         "link_groups: [{name: acquirer, links: [acq1]}]\n"
         "routes:\n"
         "  - name: visa\n"
         "    match: {pan_prefixes: [4]}\n"
         "    to: acquirer\n"
         "    timeout_ms: 2000\n"
         "    pin_key: zpk.acq1\n"
         "    issuer: {imk: imk.visa}\n"
         "hsm: {backend: software, key_file: keys.yaml}\n";
}

class Stages : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* level = std::getenv("EFT_TEST_LOG");
    spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::err);
    dir = std::filesystem::temp_directory_path() / ("eft-stages-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto opened = make_test_hsm(dir / "keys.yaml");
    ASSERT_TRUE(opened) << "the test HSM cannot be made";
    hsm = opened;
    host = std::make_unique<test_host>();
    server =
        std::make_unique<switch_server>(config::parse_switch_config_text(config_yaml(host->port()), "test.yaml"), hsm);
    server->start();
    ASSERT_TRUE(wait_until([&] { return server->link("acq1")->ready(); })) << "the link never signed on";
  }
  void TearDown() override {
    if (server) server->stop();
    server.reset();
    host.reset();
    std::filesystem::remove_all(dir);
  }

  std::filesystem::path dir;
  std::shared_ptr<crypto::hsm> hsm;
  std::unique_ptr<test_host> host;
  std::unique_ptr<switch_server> server;
};

TEST(MacVectors, RetailMacOfTheCryptoLibraryIsThePublishedOne) {
  // ISO/IEC 9797-1 B.4: the second implementation the terminal and host sides of these tests use.
  const std::string_view data = "Now is the time for all ";
  const auto mac = crypto::mac_iso9797_1_alg3(hex(tak_hex), bytes_of(data), crypto::mac_padding::method1);
  ASSERT_TRUE(mac);
  EXPECT_EQ(crypto::to_hex(*mac), "A1C72E74EA3FA9B6");
}

TEST_F(Stages, CorrectMacIsAnsweredWithAValidMacAndAWrongOneIsRefusedWith63) {
  terminal t(server->port("pos"));
  auto m = purchase(binary_spec(), "000501");
  add_mac(m, tak_hex);
  ASSERT_TRUE(t.send(m));
  auto r = t.receive(binary_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  EXPECT_TRUE(mac_valid(*r, tak_hex)) << "the answer's MAC does not verify under the terminal MAC key";
  EXPECT_EQ(host->requests.load(), 1);

  auto wrong = purchase(binary_spec(), "000502");
  add_mac(wrong, tak_hex);
  (void)wrong.set(4U, "000000009999");  // changed after the MAC was computed
  ASSERT_TRUE(t.send(wrong));
  r = t.receive(binary_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "63");
  EXPECT_EQ(r->get(11U), "000502");
  EXPECT_TRUE(mac_valid(*r, tak_hex));

  ASSERT_TRUE(t.send(purchase(binary_spec(), "000503")));  // no MAC at all
  r = t.receive(binary_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "63");
  EXPECT_EQ(host->requests.load(), 1) << "a refused request reached the host";
  EXPECT_EQ(server->counters().mac_failures.get(), 2U);
}

TEST_F(Stages, DukptPinIsTranslatedToTheZoneKeyAndDukptMacsCheckBothWays) {
  terminal t(server->port("dukpt"), false);
  auto m = purchase(ascii_spec(), "000601", std::string(x924_pan));
  (void)m.set(52U, chars(hex(x924_pin_block)));
  crypto::bytes f53 = hex(x924_ksn);
  f53.resize(48, 0);  // field 53 is b 48 in iso87-ascii: the KSN first, zero filled
  (void)m.set(53U, chars(f53));
  add_mac(m, x924_mac_request_key);
  ASSERT_TRUE(t.send(m));
  auto r = t.receive(ascii_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  EXPECT_TRUE(mac_valid(*r, x924_mac_response_key)) << "the answer is not MACed with the DUKPT response MAC key";
  // The host reads PIN 1234 under its zone key.
  const std::string at_host = host->last_pin_block();
  ASSERT_EQ(at_host.size(), 8U);
  const auto pin = crypto::decrypt_pin(crypto::pin_block_format::iso0, crypto::cipher::tdes, hex(zpk_hex),
                                       bytes_of(at_host), x924_pan);
  ASSERT_TRUE(pin) << pin.error().message();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(pin->data()), pin->size()), "1234");

  // MACed with the response key instead of the request key: refused.
  auto wrong = purchase(ascii_spec(), "000602", std::string(x924_pan));
  (void)wrong.set(53U, chars(f53));
  add_mac(wrong, x924_mac_response_key);
  ASSERT_TRUE(t.send(wrong));
  r = t.receive(ascii_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "63");
  EXPECT_EQ(host->requests.load(), 1);
}

TEST_F(Stages, ArqcIsVerifiedForTheIssuerAndTheCardAcceptsTheArpc) {
  emv::card_profile card;
  card.pan = pan;
  card.version = emv::cryptogram_version::visa_18;
  card.imk = crypto::secure_from_hex(imk_hex).value();
  card.atc = 0x0042;
  emv::terminal_data terminal_data;
  terminal_data.amount = 1000;
  const auto f55 = emv::generate_request_field55(card, terminal_data);
  ASSERT_TRUE(f55) << f55.error().message();

  terminal t(server->port("chip"));
  auto m = purchase(binary_spec(), "000701");
  (void)m.set(55U, chars(*f55));
  ASSERT_TRUE(t.send(m));
  auto r = t.receive(binary_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  const auto answer55 = r->get(55U);
  ASSERT_TRUE(answer55.has_value()) << "no field 55 in the answer";
  const auto auth = emv::check_issuer_response(card, *f55, bytes_of(*answer55));
  ASSERT_TRUE(auth) << auth.error().message();
  EXPECT_TRUE(auth->valid) << "the card refuses the ARPC";

  // A cryptogram the card did not make: declined with the route's arqc_failure_rc (05), not sent.
  crypto::bytes forged = *f55;
  emv::tlv_tree tree;
  ASSERT_TRUE(emv::parse(*f55, tree));
  const auto* arqc = tree.find(0x9F26);
  ASSERT_NE(arqc, nullptr);
  forged[arqc->offset + arqc->header_size] ^= 0x01;
  auto bad = purchase(binary_spec(), "000702");
  (void)bad.set(55U, chars(forged));
  ASSERT_TRUE(t.send(bad));
  r = t.receive(binary_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "05");
  EXPECT_EQ(host->requests.load(), 1);
  EXPECT_EQ(server->counters().arqc_failures.get(), 1U);
}

// AES DUKPT: the request is MACed (AES-CMAC, 8 bytes) with the published X9.24-3 MAC generation key of
// the KSN, the answer with the "MAC verification" key the crypto library derives for the terminal.
TEST_F(Stages, AesDukptMacsUseTheX924_3KeysOfTheKsn) {
  const auto cmac = [](std::string_view key, const iso8583::message& m) {
    crypto::mac_options o;
    o.scheme = crypto::mac_scheme::cmac;
    o.block_cipher = crypto::cipher::aes;
    o.length = 8;
    return crypto::compute_mac(o, hex(key), mac_input(m));
  };
  terminal t(server->port("aes"), false);
  auto m = purchase(ascii_spec(), "000901");
  crypto::bytes f53 = hex(aes_ksn);
  f53.resize(48, 0);
  (void)m.set(53U, chars(f53));
  (void)m.set(64U, std::string(8, '\0'));
  const auto mac = cmac(aes_mac_generation_key, m);
  ASSERT_TRUE(mac);
  (void)m.set(64U, chars(*mac));
  ASSERT_TRUE(t.send(m));
  auto r = t.receive(ascii_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  const auto response_key = crypto::dukpt_aes_key(hex(aes_bdk), hex(aes_ksn), crypto::dukpt_aes_usage::mac_verification,
                                                  crypto::dukpt_aes_key_type::aes128);
  ASSERT_TRUE(response_key);
  const auto expected = cmac(crypto::to_hex(response_key->view()), *r);
  ASSERT_TRUE(expected);
  EXPECT_EQ(r->get(64U), chars(*expected));

  // The TDES request key of the same counter is not the AES one: refused.
  auto wrong = purchase(ascii_spec(), "000902");
  (void)wrong.set(53U, chars(f53));
  add_mac(wrong, x924_mac_request_key);
  ASSERT_TRUE(t.send(wrong));
  r = t.receive(ascii_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "63");
  EXPECT_EQ(host->requests.load(), 1);
}

}  // namespace
}  // namespace eft::switch_core
