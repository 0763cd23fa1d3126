// Operations of the real eftswitch process on 127.0.0.1: the admin endpoint (/metrics scraped and
// parsed as the Prometheus text format, /health, /ready), malformed frames counted while other
// sessions go on, a dropped host link that reconnects, signs on and carries traffic again, and
// SIGHUP reloads (applied without dropping connections, or refused with the running config kept).
// Every child process is killed at the end of its test, whatever happened.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "child_process.hpp"
#include "test_support.hpp"

namespace eft::switch_core {
namespace {

using namespace std::chrono_literals;
using test::child_process;
using test::terminal;
using test::test_host;
using test::wait_until;

constexpr const char* pan = "4761739001010010";

const iso8583::spec& terminal_spec() {
  static const auto s = iso8583::load_spec("iso87-binary");
  return *s;
}

iso8583::message purchase(const std::string& stan, const std::string& amount = "000000001000") {
  iso8583::message m(terminal_spec());
  m.set_mti("0200");
  (void)m.set(2U, pan);
  (void)m.set(3U, "000000");
  (void)m.set(4U, amount);
  (void)m.set(11U, stan);
  (void)m.set(41U, "TERM0001");
  return m;
}

struct http_answer {
  int status = 0;
  std::string body;
};

// One HTTP/1.1 GET with Connection: close, read to the end (5 s at most).
http_answer http_get(std::uint16_t port, const std::string& path) {
  terminal conn(port, false);
  http_answer a;
  if (!conn.connected()) return a;
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (!conn.send_raw(std::vector<std::uint8_t>(req.begin(), req.end()))) return a;
  std::string raw;
  std::uint8_t c = 0;
  while (conn.read_exact(&c, 1, 5000ms)) raw.push_back(static_cast<char>(c));
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || raw.size() < 12) return a;
  a.status = std::stoi(raw.substr(9, 3));
  const auto body = raw.find("\r\n\r\n");
  if (body != std::string::npos) a.body = raw.substr(body + 4);
  return a;
}

// The Prometheus text format, independently of the code that wrote it: each sample line
// `name{label="value",...} number` becomes an entry keyed by the name and its labels sorted by name.
std::map<std::string, double> parse_metrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    std::string series = line.substr(0, space);
    const double value = std::stod(line.substr(space + 1));
    const auto brace = series.find('{');
    if (brace != std::string::npos) {
      std::map<std::string, std::string> labels;
      std::string rest = series.substr(brace + 1, series.size() - brace - 2);
      while (!rest.empty()) {
        const auto eq = rest.find("=\"");
        const auto end = rest.find('"', eq + 2);
        labels[rest.substr(0, eq)] = rest.substr(eq + 2, end - eq - 2);
        rest = end + 1 < rest.size() ? rest.substr(end + 2) : std::string();
      }
      series = series.substr(0, brace) + "{";
      bool first = true;
      for (const auto& [k, v] : labels) {
        series += (first ? "" : ",") + k + "=\"" + v + "\"";
        first = false;
      }
      series += "}";
    }
    out[series] = value;
  }
  return out;
}

class EftswitchOps : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("eftswitch-ops-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
    config = dir / "switch.yaml";
  }
  void TearDown() override {
    sw.reset();
    std::filesystem::remove_all(dir);
  }

  struct options {
    std::uint16_t host_port = 1;
    std::string routes = "[{name: all, to: acquirer, timeout_ms: 2000}]";
    std::string listener_extra;
    std::string link_address = "127.0.0.1";
    std::string tail;  ///< more top-level sections
  };

  static options to(std::uint16_t host_port) {
    options o;
    o.host_port = host_port;
    return o;
  }

  void write_config(const options& o) {
    std::ofstream(config) << "switch: {workers: 2, status_interval_ms: 0, shutdown_grace_ms: 1000}\n"
                             "listeners:\n"
                             "  - {name: pos, address: 127.0.0.1, port: 0, framing: len2+tpdu, spec: iso87-binary, "
                             "read_deadline_ms: 300"
                          << o.listener_extra
                          << "}\n"
                             "links:\n"
                             "  - name: acq1\n"
                             "    addresses: ["
                          << o.link_address << ":" << o.host_port
                          << "]\n"
                             "    spec: iso87-ascii\n"
                             "    reconnect_min_ms: 20\n"
                             "    reconnect_max_ms: 200\n"
                             "link_groups: [{name: acquirer, links: [acq1]}]\n"
                             "routes: "
                          << o.routes
                          << "\n"
                             "metrics: {address: 127.0.0.1, port: 0}\n"
                          << o.tail;
  }

  // Starts the switch and waits for its listener and metrics ports (and the link when `link_ready`).
  void start(const options& o, bool link_ready = true) {
    write_config(o);
    sw = std::make_unique<child_process>(std::vector<std::string>{EFT_EFTSWITCH_PATH, "--config", config.string()});
    ASSERT_TRUE(sw->started());
    const auto p = sw->wait_for({"listener pos: listening on 127.0.0.1:"});
    ASSERT_TRUE(p.has_value()) << sw->output();
    port = static_cast<std::uint16_t>(std::stoi(p->substr(0, p->find(' '))));
    const auto m = sw->wait_for({"metrics: serving /metrics, /health and /ready on 127.0.0.1:"});
    ASSERT_TRUE(m.has_value()) << sw->output();
    metrics_port = static_cast<std::uint16_t>(std::stoi(*m));
    if (link_ready) {
      ASSERT_TRUE(sw->wait_for({"link acq1: ready"})) << sw->output();
    }
  }

  std::map<std::string, double> scrape() {
    const auto a = http_get(metrics_port, "/metrics");
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body.find(pan), std::string::npos) << "a full PAN in the metrics";
    return parse_metrics(a.body);
  }

  std::optional<iso8583::message> exchange(terminal& t, const iso8583::message& m) {
    if (!t.send(m)) return std::nullopt;
    return t.receive(terminal_spec());
  }

  std::filesystem::path dir;
  std::filesystem::path config;
  std::unique_ptr<child_process> sw;
  std::uint16_t port = 0;
  std::uint16_t metrics_port = 0;
};

TEST_F(EftswitchOps, MetricsCountWhatWasSent) {
  test_host host;
  start(to(host.port()));
  EXPECT_EQ(http_get(metrics_port, "/ready").status, 200);
  const auto health = http_get(metrics_port, "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_EQ(http_get(metrics_port, "/nothing").status, 404);

  terminal t(port);
  for (int i = 0; i < 3; ++i) {
    const auto r = exchange(t, purchase("00010" + std::to_string(i)));
    ASSERT_TRUE(r.has_value()) << sw->output();
    EXPECT_EQ(r->get(39U), "00");
  }
  for (int i = 0; i < 2; ++i) {
    const auto r = exchange(t, purchase("00020" + std::to_string(i), "000000005100"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->get(39U), "51");
  }

  // A reply is counted once its write completes, which the terminal may see before the switch does.
  std::map<std::string, double> m;
  EXPECT_TRUE(wait_until([&] {
    m = scrape();
    return m["eft_replies_total"] == 5;
  })) << "eft_replies_total "
      << m["eft_replies_total"];
  EXPECT_EQ(m["eft_transactions_total{rc=\"00\",route=\"all\"}"], 3);
  EXPECT_EQ(m["eft_transactions_total{rc=\"51\",route=\"all\"}"], 2);
  EXPECT_EQ(m["eft_transaction_latency_seconds_count{route=\"all\"}"], 5);
  EXPECT_EQ(m["eft_transaction_latency_seconds_bucket{le=\"+Inf\",route=\"all\"}"], 5);
  EXPECT_GT(m["eft_transaction_latency_seconds_sum{route=\"all\"}"], 0);
  EXPECT_LE(m["eft_transaction_latency_seconds_bucket{le=\"0.001\",route=\"all\"}"],
            m["eft_transaction_latency_seconds_bucket{le=\"30\",route=\"all\"}"]);
  // Buckets below a millisecond, where the switch's own part of a transaction lies.
  EXPECT_EQ(m.count("eft_transaction_latency_seconds_bucket{le=\"0.0001\",route=\"all\"}"), 1U);
  EXPECT_LE(m["eft_transaction_latency_seconds_bucket{le=\"0.0001\",route=\"all\"}"],
            m["eft_transaction_latency_seconds_bucket{le=\"0.0005\",route=\"all\"}"]);
  EXPECT_EQ(m["eft_requests_total"], 5);
  EXPECT_EQ(m["eft_replies_total"], 5);
  EXPECT_EQ(m["eft_in_flight"], 0);
  // Exported even while zero, so that alerts on them never see a missing series.
  for (const char* zero : {"eft_duplicates_total", "eft_duplicates_forgotten_total", "eft_reversals_queued_total",
                           "eft_journal_failures_total"}) {
    EXPECT_EQ(m.count(zero), 1U) << zero;
    EXPECT_EQ(m[zero], 0) << zero;
  }
  EXPECT_EQ(m["eft_connections_open"], 1);
  EXPECT_EQ(m["eft_connections_accepted_total"], 1);
  EXPECT_EQ(m["eft_listener_connections_open{listener=\"pos\"}"], 1);
  EXPECT_EQ(m["eft_link_up{link=\"acq1\"}"], 1);
  EXPECT_EQ(m["eft_link_state{link=\"acq1\",state=\"ready\"}"], 1);
  EXPECT_EQ(m["eft_link_state{link=\"acq1\",state=\"down\"}"], 0);
  EXPECT_EQ(m["eft_link_sent_total{link=\"acq1\"}"], 5);
  EXPECT_EQ(m["eft_link_answered_total{link=\"acq1\"}"], 5);
  EXPECT_EQ(m["eft_link_in_flight{link=\"acq1\"}"], 0);
  EXPECT_EQ(m["eft_link_group_up{group=\"acquirer\"}"], 1);
  EXPECT_EQ(host.requests.load(), 5);

  sw->signal(SIGTERM);
  EXPECT_EQ(sw->wait_exit(), 0) << sw->output();
}

TEST_F(EftswitchOps, ReadyNeedsALinkGroupUpWhileHealthOnlyNeedsTheProcess) {
  start(to(1), false);  // nothing listens on port 1: the link never comes up
  const auto ready = http_get(metrics_port, "/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("no link group has a ready link"), std::string::npos) << ready.body;
  EXPECT_EQ(http_get(metrics_port, "/health").status, 200);
  ASSERT_TRUE(wait_until([&] { return scrape()["eft_link_connect_failures_total{link=\"acq1\"}"] >= 1; }));
  EXPECT_EQ(scrape()["eft_link_up{link=\"acq1\"}"], 0);
  sw->signal(SIGTERM);
  EXPECT_EQ(sw->wait_exit(), 0) << sw->output();
}

TEST_F(EftswitchOps, MalformedFramesAreCountedAndOnlyTheirSessionCloses) {
  test_host host;
  start(to(host.port()));
  terminal good(port);
  terminal oversize(port);
  terminal bad_bitmap(port);
  terminal truncated_message(port);
  terminal truncated_frame(port);
  terminal tpdu_only(port);
  ASSERT_TRUE(good.connected() && oversize.connected() && bad_bitmap.connected() && truncated_message.connected() &&
              truncated_frame.connected() && tpdu_only.connected());
  ASSERT_TRUE(wait_until([&] { return scrape()["eft_connections_open"] == 6; }));

  // A length over max_frame (8192).
  ASSERT_TRUE(oversize.send_raw({0xFF, 0xFF, 0x60, 0, 1, 0, 2}));
  // MTI 0200 and a bitmap announcing every field, then nothing like those fields.
  ASSERT_TRUE(
      bad_bitmap.send_raw({0x00, 0x0F, 0x60, 0, 1, 0, 2, 0x02, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
  // A real purchase cut short, in a frame whose length matches what is sent.
  {
    std::vector<std::byte> body;
    ASSERT_TRUE(iso8583::pack(purchase("000300"), body));
    body.resize(body.size() - 6);
    const std::size_t len = body.size() + 5;
    std::vector<std::uint8_t> f{static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), 0x60, 0, 1, 0, 2};
    for (const auto b : body) f.push_back(static_cast<std::uint8_t>(b));
    ASSERT_TRUE(truncated_message.send_raw(f));
  }
  // A frame that announces 40 bytes and brings 6: closed at the read deadline (300 ms).
  ASSERT_TRUE(truncated_frame.send_raw({0x00, 0x28, 0x60, 0, 1, 0, 2, 0x02}));
  // A length too short to hold the TPDU.
  ASSERT_TRUE(tpdu_only.send_raw({0x00, 0x03, 0x60, 0, 1}));

  EXPECT_TRUE(oversize.closed_by_peer());
  EXPECT_TRUE(bad_bitmap.closed_by_peer());
  EXPECT_TRUE(truncated_message.closed_by_peer());
  EXPECT_TRUE(truncated_frame.closed_by_peer());
  EXPECT_TRUE(tpdu_only.closed_by_peer());

  const auto r = exchange(good, purchase("000301"));
  ASSERT_TRUE(r.has_value()) << sw->output();
  EXPECT_EQ(r->get(39U), "00");

  auto m = scrape();
  EXPECT_EQ(m["eft_malformed_frames_total"], 2);
  EXPECT_EQ(m["eft_unparsable_messages_total"], 2);
  EXPECT_EQ(m["eft_read_deadlines_total"], 1);
  EXPECT_EQ(m["eft_connections_open"], 1);
  EXPECT_EQ(m["eft_requests_total"], 1);
  EXPECT_EQ(host.requests.load(), 1);
  sw->signal(SIGTERM);
  EXPECT_EQ(sw->wait_exit(), 0) << sw->output();
}

TEST_F(EftswitchOps, DroppedLinkReconnectsSignsOnAndTrafficResumes) {
  test_host host;
  start(to(host.port()));
  terminal t(port);
  auto r = exchange(t, purchase("000400"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");

  host.drop_connections();
  ASSERT_TRUE(wait_until([&] { return host.sign_ons.load() >= 2; }, 5000ms)) << sw->output();
  ASSERT_TRUE(wait_until([&] { return scrape()["eft_link_up{link=\"acq1\"}"] == 1; }));
  r = exchange(t, purchase("000401"));
  ASSERT_TRUE(r.has_value()) << sw->output();
  EXPECT_EQ(r->get(39U), "00");

  std::map<std::string, bool> signed_on;
  for (const auto& e : host.events()) {
    const std::string conn = e.substr(0, e.find(' '));
    const std::string what = e.substr(e.find(' ') + 1);
    if (what == "sign-on 00") signed_on[conn] = true;
    if (what == "0200") {
      EXPECT_TRUE(signed_on[conn]) << "traffic before sign-on on " << conn;
    }
  }
  const auto m = scrape();
  EXPECT_EQ(m.at("eft_link_connects_total{link=\"acq1\"}"), 2);
  EXPECT_EQ(m.at("eft_link_sign_ons_total{link=\"acq1\"}"), 2);
  EXPECT_EQ(m.at("eft_transactions_total{rc=\"00\",route=\"all\"}"), 2);
  sw->signal(SIGTERM);
  EXPECT_EQ(sw->wait_exit(), 0) << sw->output();
}

TEST_F(EftswitchOps, SighupAppliesRoutesAndLimitsOrRefusesAndKeepsRunning) {
  test_host host;
  start(to(host.port()));
  terminal held(port);
  auto r = exchange(held, purchase("000500"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");

  // New routes (Mastercard prefixes only: no route knows this Visa BIN, RC 15) and max_connections 1.
  options next = to(host.port());
  next.routes = "[{name: mastercard, match: {pan_prefixes: [51, 52, 53, 54, 55]}, to: acquirer}]";
  next.listener_extra = ", max_connections: 1";
  write_config(next);
  sw->signal(SIGHUP);
  ASSERT_TRUE(sw->wait_for({"SIGHUP: reloaded ", ": 1 routes"})) << sw->output();
  r = exchange(held, purchase("000501"));  // the same connection: not dropped by the reload
  ASSERT_TRUE(r.has_value()) << sw->output();
  EXPECT_EQ(r->get(39U), "15");
  terminal second(port);
  EXPECT_TRUE(second.closed_by_peer());  // over the new max_connections

  // A config that does not load is refused; the one in force stays.
  std::ofstream(config) << "switch: {workers: 2}\nlisteners: [{name: pos, port: 0, spec: iso87-binary, colour: red}]\n";
  sw->signal(SIGHUP);
  const auto refused = sw->wait_for({"SIGHUP: reload refused, the running config stays: " + config.string() + ":2: "});
  ASSERT_TRUE(refused.has_value()) << sw->output();
  EXPECT_NE(refused->find("unknown key 'listeners[0].colour'"), std::string::npos) << *refused;
  r = exchange(held, purchase("000502"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "15");

  // A valid config that changes what only a restart can change (a link's address) is refused too.
  options moved = to(host.port());
  moved.link_address = "127.0.0.2";
  write_config(moved);
  sw->signal(SIGHUP);
  ASSERT_TRUE(sw->wait_for({"SIGHUP: reload refused", "link acq1: addresses changed; that needs a restart"}))
      << sw->output();
  r = exchange(held, purchase("000503"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "15");

  const auto m = scrape();
  EXPECT_EQ(m.at("eft_config_reloads_total{result=\"applied\"}"), 1);
  EXPECT_EQ(m.at("eft_config_reloads_total{result=\"refused\"}"), 2);
  EXPECT_EQ(m.at("eft_transactions_total{rc=\"00\",route=\"all\"}"), 1);
  EXPECT_EQ(m.at("eft_transactions_total{rc=\"15\",route=\"-\"}"), 3);  // no route knows the BIN
  EXPECT_EQ(m.at("eft_connections_refused_total"), 1);
  EXPECT_EQ(m.at("eft_connections_accepted_total"), 1);
  EXPECT_EQ(host.requests.load(), 1);
  EXPECT_EQ(host.connections.load(), 1);  // the link was never touched

  sw->signal(SIGTERM);
  EXPECT_EQ(sw->wait_exit(), 0) << sw->output();
}

// A reload keeps an open breaker of a route that stays with the same breaker settings (the dead host
// gets no traffic), and starts a new one, closed, for a route whose breaker settings changed.
TEST_F(EftswitchOps, SighupKeepsAnOpenBreakerUnlessItsSettingsChange) {
  test_host host;
  host.delay_ms = -1;  // never answers
  const std::string breaker = R"(stand_in: {policy: decline, rc: "05", breaker: {timeouts: 2, open_s: 60}})";
  options o = to(host.port());
  o.routes = "[{name: all, to: acquirer, timeout_ms: 200, " + breaker + "}]";
  start(o);
  terminal t(port);
  for (const char* stan : {"000601", "000602"}) {
    const auto r = exchange(t, purchase(stan));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->get(39U), "91");  // timed out
  }
  auto r = exchange(t, purchase("000603"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "05");  // open: the stand-in declines at once
  ASSERT_TRUE(wait_until([&] { return host.requests.load() == 2; }));

  // Another route added and this one's timeout_rc changed: its breaker stays open.
  options kept = o;
  kept.routes =
      "[{name: mc, match: {pan_prefixes: [5]}, to: acquirer}, {name: all, to: acquirer, timeout_ms: 200, "
      "timeout_rc: \"68\", " +
      breaker + "}]";
  write_config(kept);
  sw->signal(SIGHUP);
  ASSERT_TRUE(sw->wait_for({"SIGHUP: reloaded ", ": 2 routes"})) << sw->output();
  r = exchange(t, purchase("000604"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "05") << "the reload closed the open breaker";
  EXPECT_EQ(host.requests.load(), 2);

  // Its breaker settings changed: a new breaker, closed; the request goes to the host and times out.
  options changed = kept;
  changed.routes =
      "[{name: mc, match: {pan_prefixes: [5]}, to: acquirer}, {name: all, match: {mti: [0200]}, to: "
      "acquirer, timeout_ms: 200, timeout_rc: \"68\", stand_in: {policy: decline, rc: \"05\", breaker: "
      "{timeouts: 3, open_s: 60}}}, {name: rest, to: acquirer}]";
  write_config(changed);
  sw->signal(SIGHUP);
  ASSERT_TRUE(sw->wait_for({"SIGHUP: reloaded ", ": 3 routes"})) << sw->output();
  r = exchange(t, purchase("000605"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "68");
  EXPECT_EQ(host.requests.load(), 3);

  sw->signal(SIGTERM);
  EXPECT_EQ(sw->wait_exit(), 0) << sw->output();
}

TEST_F(EftswitchOps, JsonLinesToAFileWithOneMaskedLinePerTransaction) {
  test_host host;
  options o = to(host.port());
  o.tail = "logging: {format: json, file: logs/eftswitch.log}\n";
  std::filesystem::create_directories(dir / "logs");
  write_config(o);
  sw = std::make_unique<child_process>(std::vector<std::string>{EFT_EFTSWITCH_PATH, "--config", config.string()});
  ASSERT_TRUE(sw->started());
  const auto log = dir / "logs/eftswitch.log";
  auto read_lines = [&] {
    std::vector<std::string> lines;
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  };
  auto find_line = [&](const std::string& part) -> std::optional<std::string> {
    for (const auto& l : read_lines()) {
      if (l.find(part) != std::string::npos) return l;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(wait_until([&] { return find_line("link acq1: ready").has_value(); })) << sw->output();
  const auto listening = find_line("listener pos: listening on 127.0.0.1:");
  ASSERT_TRUE(listening.has_value());
  const auto msg = nlohmann::json::parse(*listening).at("msg").get<std::string>();
  const auto at = msg.find("127.0.0.1:") + 10;
  port = static_cast<std::uint16_t>(std::stoi(msg.substr(at, msg.find(' ', at) - at)));

  terminal t(port);
  auto r = exchange(t, purchase("000700"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "00");
  r = exchange(t, purchase("000701", "000000005100"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->get(39U), "51");
  sw->signal(SIGTERM);
  EXPECT_EQ(sw->wait_exit(), 0) << sw->output();

  std::vector<nlohmann::json> txns;
  const auto lines = read_lines();
  ASSERT_FALSE(lines.empty());
  for (const auto& l : lines) {
    EXPECT_EQ(l.find(pan), std::string::npos) << "a full PAN in the log: " << l;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(l)) << l;
    EXPECT_TRUE(j.contains("ts") && j.contains("level")) << l;
    if (j.value("event", "") == "txn") txns.push_back(j);
  }
  ASSERT_EQ(txns.size(), 2U);
  EXPECT_EQ(txns[0]["terminal"], "TERM0001");
  EXPECT_EQ(txns[0]["pan"].get<std::string>().substr(0, 6), "476173");
  EXPECT_EQ(txns[0]["pan"].get<std::string>().substr(txns[0]["pan"].get<std::string>().size() - 4), "0010");
  EXPECT_EQ(txns[0]["mti"], "0200");
  EXPECT_EQ(txns[0]["processing_code"], "000000");
  EXPECT_EQ(txns[0]["amount"], "000000001000");
  EXPECT_EQ(txns[0]["stan"], "000700");
  EXPECT_EQ(txns[0]["route"], "all");
  EXPECT_EQ(txns[0]["link"], "acq1");
  EXPECT_EQ(txns[0]["rc"], "00");
  EXPECT_GE(txns[0]["latency_ms"].get<double>(), 0.0);
  EXPECT_EQ(txns[1]["rc"], "51");
  EXPECT_EQ(txns[1]["amount"], "000000005100");
}

}  // namespace
}  // namespace eft::switch_core
