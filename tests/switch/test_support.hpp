#pragma once
// Test stand-ins for the switch's integration tests, all on 127.0.0.1:
//  - test_host: an acquirer host on its own thread that signs links on, answers echoes and
//    requests (0210 RC 00, or RC 51 for amount 51.00), and can be told to delay, stay silent,
//    refuse sign-ons, send an unmatched answer first, send garbage or drop its connections;
//  - terminal: a blocking POS terminal connection with receive timeouts.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/message.hpp"
#include "eft/iso8583/spec.hpp"
#include "eft/switch/framing.hpp"

namespace eft::test {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

/// Polls `pred` until true or the timeout; true when it became true.
inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

/// Frames a packed message with a 2-byte length (and a TPDU when given).
inline std::vector<std::uint8_t> frame_bytes(const iso8583::message& m,
                                             std::optional<std::array<std::uint8_t, 5>> tpdu = std::nullopt) {
  std::vector<std::byte> body;
  if (!iso8583::pack(m, body)) return {};
  const std::size_t len = body.size() + (tpdu ? 5 : 0);
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len & 0xFF)};
  if (tpdu) out.insert(out.end(), tpdu->begin(), tpdu->end());
  for (const auto b : body) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

class test_host {
 public:
  explicit test_host(const std::string& spec = "iso87-ascii") : spec_(iso8583::load_spec(spec)) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(this), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~test_host() {
    asio::post(io_, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      for (auto& c : conns_) c->close();
    });
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  test_host(const test_host&) = delete;
  test_host& operator=(const test_host&) = delete;

  std::uint16_t port() const { return port_; }

  // Behaviour (any thread).
  std::atomic<int> delay_ms{0};              ///< answers to requests wait this long; < 0: never answered
  std::atomic<bool> refuse_sign_on{false};   ///< answer sign-ons with RC 91
  std::atomic<bool> unmatched_first{false};  ///< before each answer, send one with an unknown STAN
  std::atomic<bool> silent_network{false};   ///< do not answer 0800s (echo failures)
  /// Each answer goes out behind a keep-alive (zero-length frame), cut in two writes 20 ms apart, the
  /// first ending inside the answer's length header: the switch must reassemble it.
  std::atomic<bool> split_answers{false};

  // What happened (any thread).
  std::atomic<int> connections{0};
  std::atomic<int> sign_ons{0};
  std::atomic<int> sign_offs{0};
  std::atomic<int> echoes{0};
  std::atomic<int> requests{0};
  std::atomic<int> max_in_flight{0};

  /// "c1 connect", "c1 sign-on 00", "c1 0200", "c1 sign-off", ... in order.
  std::vector<std::string> events() const {
    const std::lock_guard lock(mutex_);
    return events_;
  }
  /// The STANs and RRNs the switch used toward the host.
  std::vector<std::pair<std::string, std::string>> stan_rrn() const {
    const std::lock_guard lock(mutex_);
    return stan_rrn_;
  }
  /// Field 52 of the last request (empty when it had none).
  std::string last_pin_block() const {
    const std::lock_guard lock(mutex_);
    return last_pin_block_;
  }

  void drop_connections() {
    asio::post(io_, [this] {
      for (auto& c : conns_) c->close();
    });
  }
  /// Sends a frame that is not an ISO 8583 message on every connection.
  void send_garbage() {
    asio::post(io_, [this] {
      for (auto& c : conns_) c->send({0x00, 0x04, 'J', 'U', 'N', 'K'});
    });
  }

 private:
  struct conn : std::enable_shared_from_this<conn> {
    explicit conn(tcp::socket s, int n) : socket(std::move(s)), id(n) {}
    void send(std::vector<std::uint8_t> bytes) {
      if (closed) return;
      queue.push_back(std::move(bytes));
      if (queue.size() == 1) write_next();
    }
    void write_next() {
      asio::async_write(socket, asio::buffer(queue.front()),
                        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                          if (ec) return;
                          self->queue.pop_front();
                          if (!self->queue.empty()) self->write_next();
                        });
    }
    void close() {
      closed = true;
      boost::system::error_code ec;
      socket.shutdown(tcp::socket::shutdown_both, ec);
      socket.close(ec);
    }
    tcp::socket socket;
    int id;
    bool closed = false;
    std::deque<std::vector<std::uint8_t>> queue;
  };

  void event(std::string e) {
    const std::lock_guard lock(mutex_);
    events_.push_back(std::move(e));
  }

  static asio::awaitable<void> accept_loop(test_host* self) {
    for (;;) {
      auto [ec, s] = co_await self->acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      const int n = ++self->connections;
      auto c = std::make_shared<conn>(std::move(s), n);
      self->conns_.push_back(c);
      self->event("c" + std::to_string(n) + " connect");
      asio::co_spawn(self->io_, serve(self, c), asio::detached);
    }
  }

  static asio::awaitable<void> answer_later(test_host* self, std::shared_ptr<conn> c, std::vector<std::uint8_t> bytes,
                                            int ms) {
    asio::steady_timer t(self->io_, std::chrono::milliseconds(ms));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    --self->in_flight_;
    c->send(std::move(bytes));
  }

  static asio::awaitable<void> answer_split(test_host* self, std::shared_ptr<conn> c, std::vector<std::uint8_t> bytes) {
    std::vector<std::uint8_t> first{0x00, 0x00, bytes[0]};  // a keep-alive, then half a length header
    c->send(std::move(first));
    asio::steady_timer t(self->io_, std::chrono::milliseconds(20));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    bytes.erase(bytes.begin());
    c->send(std::move(bytes));
  }

  static asio::awaitable<void> serve(test_host* self, std::shared_ptr<conn> c) {
    const std::string tag = "c" + std::to_string(c->id) + " ";
    for (;;) {
      std::array<std::uint8_t, 2> header{};
      auto [ec, n] = co_await asio::async_read(c->socket, asio::buffer(header), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      std::vector<std::uint8_t> body((std::size_t{header[0]} << 8) | header[1]);
      auto [ec2, n2] = co_await asio::async_read(c->socket, asio::buffer(body), asio::as_tuple(asio::use_awaitable));
      if (ec2) break;
      iso8583::message m(*self->spec_);
      if (!iso8583::unpack(std::as_bytes(std::span<const std::uint8_t>(body)), m)) {
        self->event(tag + "garbage");
        break;
      }
      iso8583::message r(*self->spec_);
      std::string mti(m.mti());
      mti[2] = static_cast<char>(mti[2] + 1);
      r.set_mti(mti);
      if (m.mti() == "0800") {
        const std::string nmi(m.get(70U).value_or(""));
        for (const std::uint32_t f : {7U, 11U, 70U}) {
          if (auto v = m.get(f)) (void)r.set(f, *v);
        }
        std::string rc = "00";
        if (nmi == "001") {
          rc = self->refuse_sign_on ? "91" : "00";
          if (rc == "00") ++self->sign_ons;
          self->event(tag + "sign-on " + rc);
        } else if (nmi == "002") {
          ++self->sign_offs;
          self->event(tag + "sign-off");
        } else if (nmi == "301") {
          ++self->echoes;
          self->event(tag + "echo");
        }
        (void)r.set(39U, rc);
        if (!self->silent_network) c->send(frame_bytes(r));
        continue;
      }
      ++self->requests;
      {
        const std::lock_guard lock(self->mutex_);
        self->events_.push_back(tag + std::string(m.mti()));
        self->stan_rrn_.emplace_back(std::string(m.get(11U).value_or("")), std::string(m.get(37U).value_or("")));
        self->last_pin_block_ = std::string(m.get(52U).value_or(""));
      }
      m.for_each_field([&](std::uint32_t f, const iso8583::message::node& node) {
        if (f != 52 && f != 35 && f != 55) (void)r.set(f, m.value(node));
      });
      (void)r.set(39U, m.get(4U) == "000000005100" ? "51" : "00");
      (void)r.set(38U, "AB1234");
      if (self->unmatched_first) {
        iso8583::message stray = r;
        (void)stray.set(11U, "000000");
        c->send(frame_bytes(stray));
      }
      const int delay = self->delay_ms;
      if (delay < 0) continue;
      const int now_in_flight = ++self->in_flight_;
      int prev = self->max_in_flight;
      while (now_in_flight > prev && !self->max_in_flight.compare_exchange_weak(prev, now_in_flight)) {
      }
      if (delay == 0 && self->split_answers) {
        --self->in_flight_;
        asio::co_spawn(self->io_, answer_split(self, c, frame_bytes(r)), asio::detached);
      } else if (delay == 0) {
        --self->in_flight_;
        c->send(frame_bytes(r));
      } else {
        asio::co_spawn(self->io_, answer_later(self, c, frame_bytes(r), delay), asio::detached);
      }
    }
    c->close();
  }

  std::shared_ptr<const iso8583::spec> spec_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  tcp::acceptor acceptor_{io_};
  std::uint16_t port_ = 0;
  std::vector<std::shared_ptr<conn>> conns_;
  std::atomic<int> in_flight_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
  std::vector<std::pair<std::string, std::string>> stan_rrn_;
  std::string last_pin_block_;
  std::thread thread_;
};

/// A terminal: one blocking TCP connection to the switch, 2-byte length + TPDU framing (or plain
/// 2-byte length).
class terminal {
 public:
  explicit terminal(std::uint16_t port, bool tpdu = true) : tpdu_(tpdu) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~terminal() {
    if (fd_ >= 0) ::close(fd_);
  }
  terminal(const terminal&) = delete;
  terminal& operator=(const terminal&) = delete;

  bool connected() const { return connected_; }

  bool send_raw(const std::vector<std::uint8_t>& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool send(const iso8583::message& m) {
    return send_raw(tpdu_ ? frame_bytes(m, std::array<std::uint8_t, 5>{0x60, 0x00, 0x01, 0x00, 0x02}) : frame_bytes(m));
  }

  /// Reads exactly n bytes; false on timeout, close or error.
  bool read_exact(std::uint8_t* p, std::size_t n, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    std::size_t done = 0;
    while (done < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
      const ssize_t r = ::recv(fd_, p + done, n - done, 0);
      if (r <= 0) return false;
      done += static_cast<std::size_t>(r);
    }
    return true;
  }

  /// The next answer, or nothing within the timeout. `last_tpdu` holds the TPDU that came with it.
  std::optional<iso8583::message> receive(const iso8583::spec& spec, std::chrono::milliseconds timeout = 5000ms) {
    std::array<std::uint8_t, 2> header{};
    if (!read_exact(header.data(), 2, timeout)) return std::nullopt;
    std::size_t len = (std::size_t{header[0]} << 8) | header[1];
    if (tpdu_) {
      if (len < 5 || !read_exact(last_tpdu.data(), 5, timeout)) return std::nullopt;
      len -= 5;
    }
    std::vector<std::uint8_t> body(len);
    if (!read_exact(body.data(), len, timeout)) return std::nullopt;
    iso8583::message m(spec);
    if (!iso8583::unpack(std::as_bytes(std::span<const std::uint8_t>(body)), m)) return std::nullopt;
    return m;
  }

  /// True when the switch closes the connection within the timeout (data before the close is skipped).
  bool closed_by_peer(std::chrono::milliseconds timeout = 3000ms) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
      std::uint8_t buf[256];
      const ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r <= 0) return true;
    }
  }

  std::array<std::uint8_t, 5> last_tpdu{};

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool tpdu_;
};

}  // namespace eft::test
