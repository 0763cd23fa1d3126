#pragma once
/// The admin HTTP endpoint (Boost.Beast): GET /metrics (Prometheus text format), GET /health (the
/// process is alive and its event loop answers) and GET /ready (the switch can take traffic). It runs
/// on its own thread and io_context, so a slow scraper never delays a terminal.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace eft::switch_core {

/// What the endpoint serves; each function is called on the endpoint's thread.
struct admin_handlers {
  std::function<std::string()> metrics;  ///< the /metrics body
  /// True when ready; otherwise false with the reason in the argument (the /ready body).
  std::function<bool(std::string&)> ready;
};

class admin_http_server {
 public:
  /// Binds address:port (port 0: an ephemeral port) and starts serving on a thread of its own.
  /// Throws std::runtime_error when the address cannot be bound.
  admin_http_server(const std::string& address, std::uint16_t port, admin_handlers handlers);
  /// Stops serving and joins the thread.
  ~admin_http_server();
  admin_http_server(const admin_http_server&) = delete;
  admin_http_server& operator=(const admin_http_server&) = delete;

  /// The bound port.
  std::uint16_t port() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace eft::switch_core
