// TLS on the real eftswitch process, on 127.0.0.1, with certificates made by the openssl command for
// each test: a TLS listener that demands client certificates (mutual TLS) and a TLS host link that
// verifies the host and presents its own certificate, through a TLS front of the test host. Peers
// without the right certificate, plain TCP on a TLS port and unloadable files are refused.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ssl.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "child_process.hpp"
#include "test_support.hpp"

namespace eft::switch_core {
namespace {

using namespace std::chrono_literals;
namespace ssl = boost::asio::ssl;
namespace asio = boost::asio;
using asio::ip::tcp;
using test::child_process;
using test::terminal;
using test::test_host;
using test::wait_until;

constexpr const char* pan = "4761739001010010";

const iso8583::spec& terminal_spec() {
  static const auto s = iso8583::load_spec("iso87-binary");
  return *s;
}

iso8583::message purchase(const std::string& stan) {
  iso8583::message m(terminal_spec());
  m.set_mti("0200");
  (void)m.set(2U, pan);
  (void)m.set(3U, "000000");
  (void)m.set(4U, "000000001000");
  (void)m.set(11U, stan);
  (void)m.set(41U, "TERM0001");
  return m;
}

// Runs a shell command (the openssl CLI); true on exit status 0.
bool run(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

// A CA, and certificates it signs: "server" for localhost / 127.0.0.1, "client" for a terminal or
// the switch; "rogue-ca" and "rogue" are a second CA and a client certificate it signs.
bool make_certificates(const std::filesystem::path& dir) {
  const std::string d = dir.string() + "/";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
  auto ca = [&](const std::string& name) {
    return run("openssl req -x509" + ec + "-keyout " + d + name + ".key -out " + d + name +
               ".pem -days 2 -subj /CN=" + name);
  };
  auto leaf = [&](const std::string& name, const std::string& ca_name, const std::string& ext) {
    std::ofstream(d + name + ".ext") << ext << "\n";
    return run("openssl req" + ec + "-keyout " + d + name + ".key -out " + d + name + ".csr -subj /CN=" + name) &&
           run("openssl x509 -req -in " + d + name + ".csr -CA " + d + ca_name + ".pem -CAkey " + d + ca_name +
               ".key -CAcreateserial -out " + d + name + ".pem -days 2 -extfile " + d + name + ".ext");
  };
  return ca("ca") && ca("rogue-ca") && leaf("server", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1") &&
         leaf("client", "ca", "extendedKeyUsage=clientAuth,serverAuth") &&
         leaf("rogue", "rogue-ca", "extendedKeyUsage=clientAuth");
}

// A TLS front of the (plain) test host: terminates TLS with the server certificate, demands a client
// certificate signed by the CA, and relays bytes both ways.
class tls_front {
 public:
  tls_front(const std::filesystem::path& certs, std::uint16_t target) : target_(target) {
    ctx_.use_certificate_chain_file((certs / "server.pem").string());
    ctx_.use_private_key_file((certs / "server.key").string(), ssl::context::pem);
    ctx_.load_verify_file((certs / "ca.pem").string());
    ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(this), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~tls_front() {
    io_.stop();
    thread_.join();
  }
  tls_front(const tls_front&) = delete;
  tls_front& operator=(const tls_front&) = delete;

  std::uint16_t port() const { return port_; }
  std::atomic<int> handshakes{0};
  std::atomic<int> refused{0};

 private:
  using tls_socket = ssl::stream<tcp::socket>;
  static asio::awaitable<void> accept_loop(tls_front* self) {
    for (;;) {
      auto [ec, s] = co_await self->acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(self->io_, relay(self, std::make_shared<tls_socket>(std::move(s), self->ctx_)), asio::detached);
    }
  }
  static asio::awaitable<void> relay(tls_front* self, std::shared_ptr<tls_socket> tls) {
    auto [ec] = co_await tls->async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      ++self->refused;
      co_return;
    }
    ++self->handshakes;
    auto plain = std::make_shared<tcp::socket>(self->io_);
    auto [cec] = co_await plain->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), self->target_),
                                               asio::as_tuple(asio::use_awaitable));
    if (cec) co_return;
    asio::co_spawn(self->io_, down(plain, tls), asio::detached);
    std::array<char, 4096> buf{};
    for (;;) {
      auto [rec, n] = co_await tls->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (rec) break;
      auto [wec, wn] =
          co_await asio::async_write(*plain, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
    boost::system::error_code ignored;
    plain->close(ignored);
  }
  static asio::awaitable<void> down(std::shared_ptr<tcp::socket> plain, std::shared_ptr<tls_socket> tls) {
    std::array<char, 4096> buf{};
    for (;;) {
      auto [rec, n] = co_await plain->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (rec) break;
      auto [wec, wn] =
          co_await asio::async_write(*tls, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
    boost::system::error_code ignored;
    tls->lowest_layer().close(ignored);
  }

  std::uint16_t target_;
  asio::io_context io_;
  ssl::context ctx_{ssl::context::tls_server};
  tcp::acceptor acceptor_{io_};
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// A blocking TLS terminal (2-byte length + TPDU framing) that verifies the switch as "localhost".
class tls_terminal {
 public:
  tls_terminal(std::uint16_t port, const std::filesystem::path& certs, const std::string& identity) {
    ctx_.load_verify_file((certs / "ca.pem").string());
    ctx_.set_verify_mode(ssl::verify_peer);
    if (!identity.empty()) {
      ctx_.use_certificate_chain_file((certs / (identity + ".pem")).string());
      ctx_.use_private_key_file((certs / (identity + ".key")).string(), ssl::context::pem);
    }
    // The SSL object takes the context's certificate when it is made: after the set-up above.
    stream_.emplace(io_, ctx_);
    boost::system::error_code ec;
    stream_->lowest_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return;
    timeval tv{5, 0};
    ::setsockopt(stream_->lowest_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    stream_->set_verify_callback(ssl::host_name_verification("localhost"));
    stream_->handshake(ssl::stream_base::client, ec);
    handshake_ok_ = !ec;
  }
  bool handshake_ok() const { return handshake_ok_; }

  std::optional<iso8583::message> exchange(const iso8583::message& m) {
    const auto bytes = test::frame_bytes(m, std::array<std::uint8_t, 5>{0x60, 0x00, 0x01, 0x00, 0x02});
    boost::system::error_code ec;
    asio::write(*stream_, asio::buffer(bytes), ec);
    if (ec) return std::nullopt;
    std::array<std::uint8_t, 7> header{};
    asio::read(*stream_, asio::buffer(header), ec);
    if (ec) return std::nullopt;
    std::vector<std::uint8_t> body(((std::size_t{header[0]} << 8) | header[1]) - 5);
    asio::read(*stream_, asio::buffer(body), ec);
    if (ec) return std::nullopt;
    iso8583::message r(terminal_spec());
    if (!iso8583::unpack(std::as_bytes(std::span<const std::uint8_t>(body)), r)) return std::nullopt;
    return r;
  }

 private:
  asio::io_context io_;
  ssl::context ctx_{ssl::context::tls_client};
  std::optional<ssl::stream<tcp::socket>> stream_;
  bool handshake_ok_ = false;
};

class EftswitchTls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("eftswitch-tls-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir / "certs");
    ASSERT_TRUE(make_certificates(dir / "certs")) << "the openssl command failed";
    config = dir / "switch.yaml";
  }
  void TearDown() override {
    sw.reset();
    std::filesystem::remove_all(dir);
  }

  // Paths in the config are relative to it (certs/...).
  void write_config(std::uint16_t link_port, const std::string& link_ca = "certs/ca.pem") {
    std::ofstream(config) << "switch: {workers: 2, status_interval_ms: 0, shutdown_grace_ms: 1000}\n"
                             "listeners:\n"
                             "  - name: pos\n"
                             "    address: 127.0.0.1\n"
                             "    port: 0\n"
                             "    framing: len2+tpdu\n"
                             "    spec: iso87-binary\n"
                             "    read_deadline_ms: 1000\n"
                             "    tls: {cert_file: certs/server.pem, key_file: certs/server.key, ca_file: "
                             "certs/ca.pem, verify_peer: true}\n"
                             "links:\n"
                             "  - name: acq1\n"
                             "    addresses: [127.0.0.1:"
                          << link_port
                          << "]\n"
                             "    spec: iso87-ascii\n"
                             "    reconnect_min_ms: 50\n"
                             "    reconnect_max_ms: 200\n"
                             "    tls: {ca_file: "
                          << link_ca
                          << ", verify_peer: true, server_name: localhost, cert_file: certs/client.pem, key_file: "
                             "certs/client.key}\n"
                             "link_groups: [{name: acquirer, links: [acq1]}]\n"
                             "routes: [{name: all, to: acquirer, timeout_ms: 2000}]\n"
                             "metrics: {address: 127.0.0.1, port: 0}\n";
  }

  void start() {
    sw = std::make_unique<child_process>(std::vector<std::string>{EFT_EFTSWITCH_PATH, "--config", config.string()});
    ASSERT_TRUE(sw->started());
    const auto p = sw->wait_for({"listener pos: listening on 127.0.0.1:"});
    ASSERT_TRUE(p.has_value()) << sw->output();
    EXPECT_NE(p->find("TLS with client certificates"), std::string::npos) << *p;
    port = static_cast<std::uint16_t>(std::stoi(p->substr(0, p->find(' '))));
  }

  std::filesystem::path dir;
  std::filesystem::path config;
  std::unique_ptr<child_process> sw;
  std::uint16_t port = 0;
};

TEST_F(EftswitchTls, MutualTlsOnTheListenerAndTheHostLink) {
  test_host host;
  tls_front front(dir / "certs", host.port());
  write_config(front.port());
  start();
  ASSERT_TRUE(sw->wait_for({"link acq1: connected to 127.0.0.1:", " (TLS)"})) << sw->output();
  ASSERT_TRUE(sw->wait_for({"link acq1: ready"})) << sw->output();
  EXPECT_EQ(front.handshakes.load(), 1);
  EXPECT_EQ(host.sign_ons.load(), 1);

  tls_terminal t(port, dir / "certs", "client");
  ASSERT_TRUE(t.handshake_ok()) << sw->output();
  for (int i = 0; i < 3; ++i) {
    const auto r = t.exchange(purchase("00080" + std::to_string(i)));
    ASSERT_TRUE(r.has_value()) << sw->output();
    EXPECT_EQ(r->get(39U), "00");
    EXPECT_EQ(r->get(11U), "00080" + std::to_string(i));
  }
  EXPECT_EQ(host.requests.load(), 3);

  // Without a client certificate, with one from another CA, or in plain TCP: no transaction.
  tls_terminal anonymous(port, dir / "certs", "");
  EXPECT_FALSE(anonymous.handshake_ok() && anonymous.exchange(purchase("000810")).has_value());
  tls_terminal rogue(port, dir / "certs", "rogue");
  EXPECT_FALSE(rogue.handshake_ok() && rogue.exchange(purchase("000811")).has_value());
  terminal plain(port);
  ASSERT_TRUE(plain.send(purchase("000812")));
  EXPECT_TRUE(plain.closed_by_peer());
  EXPECT_EQ(host.requests.load(), 3);
  EXPECT_TRUE(sw->wait_for({"TLS handshake failed"})) << sw->output();

  sw->signal(SIGTERM);
  EXPECT_EQ(sw->wait_exit(), 0) << sw->output();
  EXPECT_EQ(host.sign_offs.load(), 1);  // the sign-off went through TLS too
  EXPECT_EQ(sw->output().find(pan), std::string::npos);
}

TEST_F(EftswitchTls, LinkRefusesAHostItCannotVerify) {
  test_host host;
  tls_front front(dir / "certs", host.port());
  write_config(front.port(), "certs/rogue-ca.pem");  // the front's certificate is not signed by this CA
  start();
  ASSERT_TRUE(sw->wait_for({"link acq1: TLS handshake with 127.0.0.1:", " failed: "})) << sw->output();
  EXPECT_EQ(host.connections.load(), 0);
  EXPECT_EQ(host.sign_ons.load(), 0);
  sw->signal(SIGTERM);
  EXPECT_EQ(sw->wait_exit(), 0) << sw->output();
  EXPECT_EQ(sw->output().find("link acq1: ready"), std::string::npos);
}

TEST_F(EftswitchTls, UnloadableCertificateStopsStartUpWithFileLineAndHint) {
  write_config(7000);
  std::ofstream(dir / "certs/server.pem") << "not a certificate\n";
  child_process check({EFT_EFTSWITCH_PATH, "--config", config.string(), "--check"});
  EXPECT_EQ(check.wait_exit(), 1);
  EXPECT_NE(check.output().find(config.string() + ":9: listener pos: tls.cert_file " +
                                (dir / "certs/server.pem").string() + " does not load"),
            std::string::npos)
      << check.output();
  EXPECT_NE(check.output().find("(a PEM certificate, optionally followed by its chain)"), std::string::npos)
      << check.output();

  std::filesystem::remove(dir / "certs/server.key");
  child_process missing({EFT_EFTSWITCH_PATH, "--config", config.string(), "--check"});
  EXPECT_EQ(missing.wait_exit(), 1);
  EXPECT_NE(missing.output().find(config.string() + ":9: listeners[0].tls.key_file '" +
                                  (dir / "certs/server.key").string() + "' does not exist"),
            std::string::npos)
      << missing.output();
}

}  // namespace
}  // namespace eft::switch_core
