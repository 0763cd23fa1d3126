// How many idle terminal connections one switch process holds, and at what user-space memory cost:
// `bench_switch_connections [N]` (default 19000) opens N connections from a separate client process
// and reports the server's RSS growth per connection, then checks that the switch still answers a
// request on a new connection while holding them.
//
// Baseline in the same run: a plain Asio server holding each accepted socket with one pending
// wait (no coroutine, no timer). Each server runs in a fresh process, so allocator caches from one
// measurement do not flatter the other.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "eft/config/switch.hpp"
#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/spec.hpp"
#include "eft/switch/server.hpp"

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long kb = 0;
      in >> kb;
      return kb;
    }
    std::getline(in, key);
  }
  return 0;
}

int connect_local(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// A client process, forked while the caller is still single-threaded: reads the port from `in`,
// opens n connections, writes the number it opened to `out`, then holds them until killed.
pid_t fork_clients(std::size_t n, int& to_client, int& from_client) {
  int down[2];
  int up[2];
  if (::pipe(down) != 0 || ::pipe(up) != 0) std::exit(2);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(down[1]);
    ::close(up[0]);
    eft::switch_core::raise_open_file_limit();
    std::uint16_t port = 0;
    if (::read(down[0], &port, sizeof port) != sizeof port) ::_exit(1);
    std::size_t opened = 0;
    for (; opened < n; ++opened) {
      if (connect_local(port) < 0) break;
    }
    (void)!::write(up[1], &opened, sizeof opened);
    for (;;) ::pause();
  }
  ::close(down[0]);
  ::close(up[1]);
  to_client = down[1];
  from_client = up[0];
  return pid;
}

struct measurement {
  std::size_t held = 0;
  long before_kb = 0;
  long after_kb = 0;
  bool served = false;
};

void report(const char* what, const measurement& m) {
  const double per =
      m.held > 0 ? static_cast<double>(m.after_kb - m.before_kb) * 1024.0 / static_cast<double>(m.held) : 0;
  std::printf("%-44s %6zu connections  RSS %7ld -> %7ld KB  %7.0f bytes/connection%s\n", what, m.held, m.before_kb,
              m.after_kb, per, m.served ? "  (still serving)" : "");
  std::fflush(stdout);
}

// The baseline server: accepted sockets held with one pending wait each.
measurement baseline(std::size_t n) {
  int to_client = -1;
  int from_client = -1;
  const pid_t clients = fork_clients(n, to_client, from_client);
  eft::switch_core::raise_open_file_limit();
  asio::io_context io(1);
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::size_t accepted = 0;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> held;
  held.reserve(n);
  std::function<void()> accept_one = [&] {
    acceptor.async_accept([&](const boost::system::error_code& ec, asio::ip::tcp::socket s) {
      if (ec) return;
      held.push_back(std::make_unique<asio::ip::tcp::socket>(std::move(s)));
      held.back()->async_wait(asio::socket_base::wait_read, [](const boost::system::error_code&) {});
      ++accepted;
      accept_one();
    });
  };
  accept_one();
  io.run_for(100ms);
  measurement m;
  m.before_kb = rss_kb();
  const std::uint16_t port = acceptor.local_endpoint().port();
  (void)!::write(to_client, &port, sizeof port);
  std::size_t opened = n;
  bool reported = false;
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (accepted < opened && std::chrono::steady_clock::now() < end) {
    io.run_for(50ms);
    fd_set set;
    FD_ZERO(&set);
    FD_SET(from_client, &set);
    timeval tv{0, 0};
    if (!reported && ::select(from_client + 1, &set, nullptr, nullptr, &tv) > 0) {
      reported = ::read(from_client, &opened, sizeof opened) == sizeof opened;
    }
  }
  io.run_for(300ms);
  m.after_kb = rss_kb();
  m.held = accepted;
  ::kill(clients, SIGKILL);
  ::waitpid(clients, nullptr, 0);
  return m;
}

measurement switch_process(std::size_t n) {
  int to_client = -1;
  int from_client = -1;
  const pid_t clients = fork_clients(n, to_client, from_client);
  spdlog::set_level(spdlog::level::warn);
  const std::string yaml =
      "switch: {workers: 2, status_interval_ms: 0}\n"
      "listeners:\n"
      "  - {name: pos, address: 127.0.0.1, port: 0, spec: iso87-binary, max_connections: " +
      std::to_string(n + 10) + "}\n";
  eft::switch_core::switch_server server(eft::config::parse_switch_config_text(yaml, "bench.yaml"));
  server.start();
  std::this_thread::sleep_for(100ms);
  measurement m;
  m.before_kb = rss_kb();
  const std::uint16_t port = server.port("pos");
  (void)!::write(to_client, &port, sizeof port);
  std::size_t opened = 0;
  (void)!::read(from_client, &opened, sizeof opened);
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (server.counters().connections_open.get() < opened && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(300ms);
  m.after_kb = rss_kb();
  m.held = server.counters().connections_open.get();

  // One more terminal is still served: an echo test answered by the switch itself.
  static const auto spec = eft::iso8583::load_spec("iso87-binary");
  eft::iso8583::message echo(*spec);
  echo.set_mti("0800");
  (void)echo.set(11U, "000001");
  (void)echo.set(70U, "301");
  std::vector<std::byte> body;
  (void)eft::iso8583::pack(echo, body);
  std::vector<std::uint8_t> frame{0, static_cast<std::uint8_t>(body.size())};
  for (const auto b : body) frame.push_back(static_cast<std::uint8_t>(b));
  const int fd = connect_local(port);
  if (fd >= 0 && ::send(fd, frame.data(), frame.size(), 0) == static_cast<ssize_t>(frame.size())) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::uint8_t answer[64];
    m.served = ::recv(fd, answer, sizeof answer, 0) > 2;
  }
  if (fd >= 0) ::close(fd);
  ::kill(clients, SIGKILL);
  ::waitpid(clients, nullptr, 0);
  server.stop();
  return m;
}

template <typename F>
measurement in_child(F f) {
  int p[2];
  if (::pipe(p) != 0) std::exit(2);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    const measurement m = f();
    (void)!::write(p[1], &m, sizeof m);
    ::_exit(0);
  }
  ::close(p[1]);
  measurement m;
  if (::read(p[0], &m, sizeof m) != sizeof m) m = {};
  ::waitpid(pid, nullptr, 0);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 19000;
  eft::switch_core::raise_open_file_limit();
  report("baseline: plain Asio socket + pending wait", in_child([n] { return baseline(n); }));
  const measurement s = in_child([n] { return switch_process(n); });
  report("eftswitch: idle terminal sessions", s);
  return s.held == n && s.served ? 0 : 1;
}
