// The switch in-process on 127.0.0.1 between blocking test terminals (iso87-binary, 2-byte length +
// TPDU) and a test host (iso87-ascii, 2-byte length): end-to-end purchases, the switch's own STAN
// and RRN toward the host, timeouts, routing and format errors, malformed frames, many requests in
// flight on one link, unmatched and late host answers, reconnection with sign-on, limits, echo,
// graceful stop, and logs that never hold a full PAN.
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <sstream>

#include "eft/config/switch.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/crypto/software_hsm.hpp"
#include "eft/switch/server.hpp"
#include "test_support.hpp"

namespace eft::switch_core {
namespace {

using namespace std::chrono_literals;
using test::terminal;
using test::test_host;
using test::wait_until;

constexpr const char* pan = "4761739001010010";

const iso8583::spec& terminal_spec() {
  static const auto s = iso8583::load_spec("iso87-binary");
  return *s;
}

iso8583::message purchase(std::string stan, std::string amount = "000000001000", std::string card = pan) {
  iso8583::message m(terminal_spec());
  m.set_mti("0200");
  (void)m.set(2U, card);
  (void)m.set(3U, "000000");
  (void)m.set(4U, amount);
  (void)m.set(7U, "0301120000");
  (void)m.set(11U, stan);
  (void)m.set(22U, "051");
  (void)m.set(37U, "TRMRRN" + stan);
  (void)m.set(41U, "TERM0001");
  (void)m.set(42U, "MERCHANT0000001");
  (void)m.set(49U, "840");
  return m;
}

struct options {
  int timeout_ms = 2000;
  int idle_timeout_ms = 60000;
  int read_deadline_ms = 2000;
  int per_address = 0;
  int echo_interval_ms = 0;
  int grace_ms = 2000;
  bool pin_keys = false;  // tpk.pos on the listener, zpk.acq1 on the route, and an hsm: section
};

std::string config_yaml(std::uint16_t host_port, const options& o) {
  return "switch: {workers: 2, status_interval_ms: 0, shutdown_grace_ms: " + std::to_string(o.grace_ms) +
         "}\n"
         "listeners:\n"
         "  - name: pos\n"
         "    address: 127.0.0.1\n"
         "    port: 0\n"
         "    framing: len2+tpdu\n"
         "    spec: iso87-binary\n"
         "    max_connections_per_address: " +
         std::to_string(o.per_address) +
         "\n"
         "    idle_timeout_ms: " +
         std::to_string(o.idle_timeout_ms) +
         "\n"
         "    read_deadline_ms: " +
         std::to_string(o.read_deadline_ms) + "\n" + (o.pin_keys ? "    pin_key: tpk.pos\n" : "") +
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
         "    echo_interval_ms: " +
         std::to_string(o.echo_interval_ms) +
         "\n"
         "link_groups:\n"
         "  - {name: acquirer, links: [acq1]}\n"
         "routes:\n"
         "  - name: visa\n"
         "    match: {pan_prefixes: [4], mti: [0100, 0200]}\n"
         "    to: acquirer\n"
         "    timeout_ms: " +
         std::to_string(o.timeout_ms) + "\n" +
         (o.pin_keys ? "    pin_key: zpk.acq1\nhsm: {backend: software, key_file: keys.yaml}\n" : "");
}

class SwitchIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* level = std::getenv("EFT_TEST_LOG");
    spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::err);
  }
  void TearDown() override {
    if (server) server->stop();
    server.reset();
    host.reset();
  }

  void start(const options& o = {}, std::shared_ptr<crypto::hsm> hsm = nullptr) {
    host = std::make_unique<test_host>();
    server = std::make_unique<switch_server>(
        config::parse_switch_config_text(config_yaml(host->port(), o), "test.yaml"), std::move(hsm));
    server->start();
    port = server->port("pos");
    ASSERT_NE(port, 0);
    ASSERT_TRUE(wait_until([&] { return server->link("acq1")->ready(); })) << "the link never signed on";
  }
  host_link& link() { return *server->link("acq1"); }

  std::unique_ptr<test_host> host;
  std::unique_ptr<switch_server> server;
  std::uint16_t port = 0;
};

TEST_F(SwitchIntegration, PurchaseGetsTheHostsAnswerWithTheTerminalsOwnStanAndRrn) {
  start();
  terminal t(port);
  ASSERT_TRUE(t.connected());
  ASSERT_TRUE(t.send(purchase("000123")));
  const auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->mti(), "0210");
  EXPECT_EQ(r->get(39U), "00");
  EXPECT_EQ(r->get(38U), "AB1234");
  EXPECT_EQ(r->get(11U), "000123");
  EXPECT_EQ(r->get(37U), "TRMRRN000123");
  EXPECT_EQ(r->get(7U), "0301120000");
  EXPECT_EQ(r->get(2U), pan);
  EXPECT_EQ(r->get(4U), "000000001000");
  // The TPDU comes back with source and destination swapped.
  EXPECT_EQ(t.last_tpdu, (std::array<std::uint8_t, 5>{0x60, 0x00, 0x02, 0x00, 0x01}));

  // Toward the host: the switch's own STAN and an RRN YDDDhh + that STAN.
  const auto seen = host->stan_rrn();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].first.size(), 6U);
  EXPECT_EQ(seen[0].second.size(), 12U);
  EXPECT_EQ(seen[0].second.substr(6), seen[0].first);
  EXPECT_NE(seen[0].second, "TRMRRN000123");

  // A decline passes through unchanged.
  ASSERT_TRUE(t.send(purchase("000124", "000000005100")));
  const auto d = t.receive(terminal_spec());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->get(39U), "51");
  EXPECT_EQ(d->get(11U), "000124");
  EXPECT_EQ(server->counters().answered_by_host.get(), 2U);
  EXPECT_EQ(link().counters().answered.get(), 2U);
}

TEST_F(SwitchIntegration, HostTimeoutAnswers91AndTheLateAnswerIsDropped) {
  options o;
  o.timeout_ms = 200;
  start(o);
  host->delay_ms = 700;
  terminal t(port);
  const auto before = std::chrono::steady_clock::now();
  ASSERT_TRUE(t.send(purchase("000200")));
  const auto r = t.receive(terminal_spec());
  const auto took = std::chrono::steady_clock::now() - before;
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "91");
  EXPECT_EQ(r->get(11U), "000200");
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 650ms);
  EXPECT_EQ(server->counters().timeouts.get(), 1U);
  EXPECT_EQ(server->counters().reversals_needed.get(), 1U);
  // The host's answer arrives later: counted as late, never forwarded.
  ASSERT_TRUE(wait_until([&] { return link().counters().late.get() == 1; }, 3000ms));
  EXPECT_FALSE(t.receive(terminal_spec(), 200ms).has_value());
  EXPECT_EQ(link().in_flight(), 0U);
}

TEST_F(SwitchIntegration, NoIssuerAnswers15AndFormatErrorAnswers30) {
  start();
  terminal t(port);
  // No route's BIN covers 55... and there is no default route: no such issuer.
  ASSERT_TRUE(t.send(purchase("000300", "000000001000", "5500000000000004")));
  auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->mti(), "0210");
  EXPECT_EQ(r->get(39U), "15");
  EXPECT_EQ(r->get(11U), "000300");

  auto bad = purchase("000301");
  bad.unset(4U);
  ASSERT_TRUE(t.send(bad));
  r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "30");
  EXPECT_EQ(r->get(11U), "000301");

  // A network management request from a terminal is answered by the switch itself.
  iso8583::message echo(terminal_spec());
  echo.set_mti("0800");
  (void)echo.set(11U, "000302");
  (void)echo.set(41U, "TERM0001");
  (void)echo.set(70U, "301");
  ASSERT_TRUE(t.send(echo));
  r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->mti(), "0810");
  EXPECT_EQ(r->get(39U), "00");
  EXPECT_EQ(r->get(70U), "301");

  EXPECT_EQ(host->requests.load(), 0);
  EXPECT_EQ(server->counters().no_route.get(), 1U);
  EXPECT_EQ(server->counters().format_errors.get(), 1U);
}

TEST_F(SwitchIntegration, MalformedFramesCloseOnlyTheirOwnSession) {
  start();
  terminal good(port);
  terminal oversize(port);
  terminal garbage(port);
  terminal tpdu_only(port);
  ASSERT_TRUE(good.connected() && oversize.connected() && garbage.connected() && tpdu_only.connected());
  // A length over max_frame (8192).
  ASSERT_TRUE(oversize.send_raw({0xFF, 0xFF, 0x60, 0, 1, 0, 2}));
  // A whole frame whose content is not a message of the terminal dialect.
  ASSERT_TRUE(garbage.send_raw({0x00, 0x0B, 0x60, 0, 1, 0, 2, 0x02, 0x00, 0xFF, 0xFF, 0xFF, 0xFF}));
  // A length too short to hold the TPDU.
  ASSERT_TRUE(tpdu_only.send_raw({0x00, 0x03, 0x60, 0, 1}));
  EXPECT_TRUE(oversize.closed_by_peer());
  EXPECT_TRUE(garbage.closed_by_peer());
  EXPECT_TRUE(tpdu_only.closed_by_peer());
  EXPECT_EQ(server->counters().malformed_frames.get(), 2U);
  EXPECT_EQ(server->counters().unparsable_messages.get(), 1U);

  // The other session never noticed; a keep-alive frame is ignored too.
  ASSERT_TRUE(good.send_raw({0x00, 0x00}));
  ASSERT_TRUE(good.send(purchase("000400")));
  const auto r = good.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  EXPECT_EQ(server->counters().keep_alives.get(), 1U);
}

TEST_F(SwitchIntegration, TwoHundredTerminalsInFlightOnOneLinkAreMatchedCorrectly) {
  start();
  host->delay_ms = 20;  // keeps many requests in flight at once
  constexpr int terminals = 200;
  constexpr int each = 10;
  std::atomic<int> ok{0};
  std::atomic<int> wrong{0};
  const auto run = [&](int per_terminal) {
    std::vector<std::thread> threads;
    for (int i = 0; i < terminals; ++i) {
      threads.emplace_back([&, i, per_terminal] {
        terminal t(port);
        if (!t.connected()) {
          ++wrong;
          return;
        }
        for (int k = 0; k < per_terminal; ++k) {
          const std::string stan = fmt::format("{:03}{:03}", i, k);
          auto m = purchase(stan);
          (void)m.set(41U, fmt::format("TERM{:04}", i));
          (void)m.set(4U, fmt::format("{:012}", 100000 + i * 100 + k));
          if (!t.send(m)) {
            ++wrong;
            return;
          }
          const auto r = t.receive(terminal_spec(), 10000ms);
          if (r && r->get(11U) == stan && r->get(37U) == "TRMRRN" + stan &&
              r->get(41U) == fmt::format("TERM{:04}", i) && r->get(4U) == fmt::format("{:012}", 100000 + i * 100 + k) &&
              r->get(39U) == "00") {
            ++ok;
          } else {
            ++wrong;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
  };
  run(each);
  EXPECT_EQ(ok.load(), terminals * each);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(host->max_in_flight.load(), 50) << "requests were not multiplexed on the link";
  // Every request reached the host under a STAN of its own.
  std::set<std::string> stans;
  for (const auto& [stan, rrn] : host->stan_rrn()) stans.insert(stan);
  EXPECT_EQ(stans.size(), static_cast<std::size_t>(terminals * each));

  // Throughput with an instant host (measured, not asserted: machines differ).
  host->delay_ms = 0;
  ok = 0;
  const auto t0 = std::chrono::steady_clock::now();
  run(25);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ok.load(), terminals * 25);
  std::printf("[ measure  ] %d purchases from %d terminals through one link in %.2f s: %.0f/s\n", terminals * 25,
              terminals, secs, terminals * 25 / secs);
  EXPECT_EQ(link().counters().unmatched.get(), 0U);
  EXPECT_EQ(link().in_flight(), 0U);
}

TEST_F(SwitchIntegration, UnmatchedHostAnswerIsCountedAndDropped) {
  start();
  host->unmatched_first = true;
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000500")));
  const auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(11U), "000500");
  EXPECT_EQ(r->get(39U), "00");
  EXPECT_TRUE(wait_until([&] { return link().counters().unmatched.get() == 1; }));
  EXPECT_FALSE(t.receive(terminal_spec(), 200ms).has_value());
}

TEST_F(SwitchIntegration, LinkDropReconnectsAndSignsOnBeforeTraffic) {
  start();
  {
    terminal t(port);
    ASSERT_TRUE(t.send(purchase("000600")));
    ASSERT_TRUE(t.receive(terminal_spec()).has_value());
  }
  // The host now refuses sign-ons and drops the link: the switch reconnects but carries no traffic.
  host->refuse_sign_on = true;
  host->drop_connections();
  ASSERT_TRUE(wait_until([&] { return host->connections.load() >= 3; }));
  EXPECT_FALSE(link().ready());
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000601")));
  auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "91");
  EXPECT_EQ(host->requests.load(), 1);

  host->refuse_sign_on = false;
  ASSERT_TRUE(wait_until([&] { return link().ready(); }));
  ASSERT_TRUE(t.send(purchase("000602")));
  r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");

  // On every connection, traffic came only after a successful sign-on.
  std::map<std::string, bool> signed_on;
  for (const auto& e : host->events()) {
    const std::string conn = e.substr(0, e.find(' '));
    const std::string what = e.substr(e.find(' ') + 1);
    if (what == "sign-on 00") signed_on[conn] = true;
    if (what == "0200") {
      EXPECT_TRUE(signed_on[conn]) << "traffic before sign-on on " << conn;
    }
  }
  EXPECT_GE(link().counters().connects.get(), 3U);
  EXPECT_GE(link().counters().sign_on_failures.get(), 1U);
}

TEST_F(SwitchIntegration, GarbageFromTheHostDropsTheLinkWhichComesBack) {
  start();
  host->send_garbage();
  ASSERT_TRUE(wait_until([&] { return link().counters().malformed.get() == 1; }));
  ASSERT_TRUE(wait_until([&] { return link().ready() && host->sign_ons.load() >= 2; }));
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000700")));
  const auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
}

TEST_F(SwitchIntegration, AnswersCutAcrossReadsAndKeepAlivesFromTheHostAreReassembled) {
  start();
  host->split_answers = true;
  terminal t(port);
  for (const char* stan : {"000710", "000711", "000712"}) {
    ASSERT_TRUE(t.send(purchase(stan)));
    const auto r = t.receive(terminal_spec());
    ASSERT_TRUE(r.has_value()) << stan;
    EXPECT_EQ(r->get(39U), "00");
    EXPECT_EQ(r->get(11U), stan);
  }
  EXPECT_EQ(link().counters().malformed.get(), 0U);
  EXPECT_EQ(host->connections.load(), 1);  // never dropped
}

TEST_F(SwitchIntegration, EchoTestsWhenIdleAndTheLinkDropsWhenTheyGoUnanswered) {
  options o;
  o.echo_interval_ms = 100;
  start(o);
  ASSERT_TRUE(wait_until([&] { return host->echoes.load() >= 2; }, 3000ms));
  host->silent_network = true;
  ASSERT_TRUE(wait_until([&] { return !link().ready(); }, 3000ms));
  host->silent_network = false;
  ASSERT_TRUE(wait_until([&] { return link().ready(); }, 3000ms));
}

TEST_F(SwitchIntegration, IdleTimeoutReadDeadlineAndPerAddressLimit) {
  options o;
  o.idle_timeout_ms = 300;
  o.read_deadline_ms = 300;
  o.per_address = 2;
  start(o);
  const auto accepted = [&](std::uint64_t n) {
    return wait_until([&] { return server->counters().connections_accepted.get() == n; });
  };
  terminal idle(port);
  ASSERT_TRUE(accepted(1));
  terminal slow(port);
  ASSERT_TRUE(accepted(2));
  ASSERT_TRUE(slow.send_raw({0x00}));  // half a length header, then nothing
  terminal third(port);                // over the per-address limit
  EXPECT_TRUE(third.closed_by_peer(1000ms));
  EXPECT_TRUE(slow.closed_by_peer(2000ms));
  EXPECT_TRUE(idle.closed_by_peer(2000ms));
  EXPECT_EQ(server->counters().connections_refused.get(), 1U);
  EXPECT_EQ(server->counters().read_deadlines.get(), 1U);
  EXPECT_EQ(server->counters().idle_timeouts.get(), 1U);
  ASSERT_TRUE(wait_until([&] { return server->counters().connections_open.get() == 0; }));
  // The slots are free again.
  terminal again(port);
  ASSERT_TRUE(again.send(purchase("000800")));
  EXPECT_TRUE(again.receive(terminal_spec()).has_value());
}

TEST_F(SwitchIntegration, StopLetsInFlightFinishThenSignsOff) {
  start();
  host->delay_ms = 300;
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000900")));
  ASSERT_TRUE(wait_until([&] { return server->counters().in_flight.get() == 1; }));
  std::thread stopper([&] { server->stop(); });
  const auto r = t.receive(terminal_spec());
  stopper.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  EXPECT_EQ(host->sign_offs.load(), 1);
  EXPECT_TRUE(link().stopped());
  EXPECT_TRUE(t.closed_by_peer(1000ms));
}

TEST_F(SwitchIntegration, StopAfterTheGracePeriodAnswers91AndLogsTheReversal) {
  options o;
  o.grace_ms = 100;
  start(o);
  host->delay_ms = -1;  // never answers
  terminal t(port);
  ASSERT_TRUE(t.send(purchase("000901")));
  ASSERT_TRUE(wait_until([&] { return server->counters().in_flight.get() == 1; }));
  std::thread stopper([&] { server->stop(); });
  const auto r = t.receive(terminal_spec());
  stopper.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "91");
  EXPECT_EQ(server->counters().reversals_needed.get(), 1U);
  EXPECT_EQ(link().counters().lost.get(), 1U);
}

TEST_F(SwitchIntegration, PinBlockIsTranslatedFromTheTerminalKeyToTheZoneKeyInTheHsm) {
  const auto dir = std::filesystem::temp_directory_path() / ("eft-switch-pin-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const crypto::bytes tpk = *crypto::from_hex("0123456789ABCDEFFEDCBA9876543210");
  const crypto::bytes zpk = *crypto::from_hex("89ABCDEF0123456776543210FEDCBA98");
  std::shared_ptr<crypto::hsm> hsm;
  {
    auto lmk = crypto::secure_from_hex("4C4D4B2D746573742D6B65792D6E6F742D666F722D70726F64756374696F6E21");
    auto opened = crypto::software_hsm::open(dir / "keys.yaml", std::move(*lmk));
    ASSERT_TRUE(opened) << opened.error().message();
    crypto::tr31_header p0;
    p0.usage = "P0";
    std::vector<crypto::secure_bytes> parts;
    parts.emplace_back(crypto::byte_view(tpk));
    ASSERT_TRUE((*opened)->import_components("tpk.pos", p0, parts, "08D7B4"));
    parts.clear();
    parts.emplace_back(crypto::byte_view(zpk));
    ASSERT_TRUE((*opened)->import_components("zpk.acq1", p0, parts, ""));
    hsm = *opened;
  }
  options o;
  o.pin_keys = true;
  start(o, hsm);
  const auto block = crypto::encrypt_pin(crypto::pin_block_format::iso0, crypto::cipher::tdes, tpk, "1234", pan);
  ASSERT_TRUE(block);
  auto m = purchase("001100");
  (void)m.set(52U, std::string_view(reinterpret_cast<const char*>(block->data()), block->size()));
  terminal t(port);
  ASSERT_TRUE(t.send(m));
  auto r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  // The host reads the PIN under its zone key.
  const std::string at_host = host->last_pin_block();
  ASSERT_EQ(at_host.size(), 8U);
  const crypto::bytes host_block(at_host.begin(), at_host.end());
  EXPECT_NE(host_block, *block);
  const auto pin = crypto::decrypt_pin(crypto::pin_block_format::iso0, crypto::cipher::tdes, zpk, host_block, pan);
  ASSERT_TRUE(pin) << pin.error().message();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(pin->data()), pin->size()), "1234");

  // A block that does not decrypt to a PIN block under the terminal key is refused with 96, not sent.
  auto bad = purchase("001101");
  (void)bad.set(52U, std::string(8, '\x5A'));
  ASSERT_TRUE(t.send(bad));
  r = t.receive(terminal_spec());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "96");
  EXPECT_EQ(host->requests.load(), 1);
  server->stop();
  std::filesystem::remove_all(dir);
}

TEST(SwitchStartUp, PinKeysMustBePinKeysOfTheHsm) {
  const auto dir = std::filesystem::temp_directory_path() / ("eft-switch-keys-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto lmk = crypto::secure_from_hex("4C4D4B2D746573742D6B65792D6E6F742D666F722D70726F64756374696F6E21");
  auto opened = crypto::software_hsm::open(dir / "keys.yaml", std::move(*lmk));
  ASSERT_TRUE(opened);
  crypto::tr31_header mac;
  mac.usage = "M3";
  mac.mode_of_use = 'C';
  ASSERT_TRUE((*opened)->generate_key("tpk.pos", mac, 16));
  options o;
  o.pin_keys = true;
  const auto cfg = config::parse_switch_config_text(config_yaml(7000, o), "test.yaml");
  const auto error_of = [&](std::shared_ptr<crypto::hsm> h) {
    try {
      switch_server s(cfg, std::move(h));
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error_of(nullptr), "test.yaml:3: pin_key 'tpk.pos' needs an HSM, and none is open");
  EXPECT_EQ(error_of(*opened), "test.yaml:3: pin_key 'tpk.pos' is a key of usage M3, not a PIN key (P0)");
  std::filesystem::remove_all(dir);
}

TEST_F(SwitchIntegration, LogsNeverHoldTheFullPan) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  spdlog::set_level(spdlog::level::trace);
  {
    options o;
    o.timeout_ms = 100;
    start(o);
    terminal t(port);
    auto with_track = purchase("001000");
    (void)with_track.set(35U, std::string(pan) + "=25122011758928889");
    ASSERT_TRUE(t.send(with_track));
    ASSERT_TRUE(t.receive(terminal_spec()).has_value());
    ASSERT_TRUE(t.send(purchase("001001", "000000001000", "5500000000000004")));  // no route
    ASSERT_TRUE(t.receive(terminal_spec()).has_value());
    host->delay_ms = 300;
    ASSERT_TRUE(t.send(purchase("001002")));  // timeout: "reversal needed"
    ASSERT_TRUE(t.receive(terminal_spec()).has_value());
    ASSERT_TRUE(wait_until([&] { return link().counters().late.get() == 1; }));
    server->stop();
  }
  spdlog::set_default_logger(previous);
  const std::string logs = captured.str();
  EXPECT_NE(logs.find("476173******0010"), std::string::npos) << logs;
  EXPECT_NE(logs.find("reversal needed"), std::string::npos);
  EXPECT_NE(logs.find("txn listener=pos"), std::string::npos);
  EXPECT_EQ(logs.find(pan), std::string::npos) << "a full PAN in the logs";
  EXPECT_EQ(logs.find("5500000000000004"), std::string::npos) << "a full PAN in the logs";
  EXPECT_EQ(logs.find("25122011758928889"), std::string::npos) << "track data in the logs";
}

}  // namespace
}  // namespace eft::switch_core
