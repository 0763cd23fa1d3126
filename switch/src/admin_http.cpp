#include "eft/switch/admin_http.hpp"
#include "thread_name.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace eft::switch_core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// A scraper gets this long for each request and each answer; an idle keep-alive connection is closed
// after it.
constexpr auto io_timeout = std::chrono::seconds(10);
constexpr std::size_t max_request_bytes = 8192;

http::response<http::string_body> answer(const http::request<http::string_body>& req, const admin_handlers& h) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "eftswitch");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "only GET and HEAD\n";
  } else if (path == "/metrics") {
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = h.metrics ? h.metrics() : std::string();
  } else if (path == "/health") {
    res.result(http::status::ok);
    res.body() = "ok\n";
  } else if (path == "/ready") {
    std::string why;
    const bool ready = h.ready ? h.ready(why) : true;
    res.result(ready ? http::status::ok : http::status::service_unavailable);
    res.body() = ready ? std::string("ready\n") : "not ready: " + why + "\n";
  } else {
    res.result(http::status::not_found);
    res.body() = "not found: try /metrics, /health or /ready\n";
  }
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();
  return res;
}

asio::awaitable<void> serve(beast::tcp_stream stream, const admin_handlers* handlers) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(max_request_bytes);
    parser.header_limit(max_request_bytes);
    stream.expires_after(io_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec) break;
    auto res = answer(parser.get(), *handlers);
    const bool keep = res.keep_alive();
    stream.expires_after(io_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    if (wec || !keep) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

struct admin_http_server::impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  admin_handlers handlers;
  std::thread thread;
  std::uint16_t port = 0;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        spdlog::warn("metrics: accept failed: {}", ec.message());
        continue;
      }
      asio::co_spawn(io, serve(beast::tcp_stream(std::move(socket)), &handlers), asio::detached);
    }
  }
};

admin_http_server::admin_http_server(const std::string& address, std::uint16_t port, admin_handlers handlers)
    : impl_(std::make_unique<impl>()) {
  impl& m = *impl_;
  m.handlers = std::move(handlers);
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("metrics.address '" + address + "' is not an IP address");
  const tcp::endpoint ep(ip, port);
  const auto fail = [&](const char* step) {
    throw std::runtime_error("metrics: cannot " + std::string(step) + " " + address + ":" + std::to_string(port) +
                             ": " + ec.message());
  };
  if (m.acceptor.open(ep.protocol(), ec)) fail("open a socket for");
  m.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (m.acceptor.bind(ep, ec)) fail("bind");
  if (m.acceptor.listen(asio::socket_base::max_listen_connections, ec)) fail("listen on");
  m.port = m.acceptor.local_endpoint().port();
  asio::co_spawn(m.io, m.accept_loop(), asio::detached);
  m.thread = std::thread([&m] {
    for (;;) {
      try {
        m.io.run();
        break;
      } catch (const std::exception& e) {
        spdlog::error("metrics: {}", e.what());
      }
    }
  });
  detail::name_thread(m.thread, "eft-admin");
}

admin_http_server::~admin_http_server() {
  impl& m = *impl_;
  asio::post(m.io, [&m] {
    boost::system::error_code ignored;
    m.acceptor.close(ignored);
  });
  m.io.stop();
  if (m.thread.joinable()) m.thread.join();
}

std::uint16_t admin_http_server::port() const noexcept {
  return impl_->port;
}

}  // namespace eft::switch_core
