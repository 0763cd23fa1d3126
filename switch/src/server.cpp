#include "eft/switch/server.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "eft/iso8583/codec.hpp"
#include "eft/switch/admin_http.hpp"
#include "eft/switch/framing.hpp"
#include "eft/switch/link_group.hpp"
#include "eft/switch/message_util.hpp"
#include "eft/switch/saf_forwarder.hpp"
#include "eft/switch/stages.hpp"
#include "eft/switch/tls.hpp"
#include "reload.hpp"
#include "thread_name.hpp"

namespace eft::switch_core {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using session_socket = asio::basic_stream_socket<tcp, asio::io_context::executor_type>;
using acceptor_type = asio::basic_socket_acceptor<tcp, asio::io_context::executor_type>;
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// File descriptors kept back from terminal connections: logs, links, listeners, resolver, spare.
constexpr std::size_t reserved_descriptors = 64;

// At most one line a second about refused connections or accept failures: a flood must not become a
// flood of log lines.
bool log_allowed(std::atomic<std::int64_t>& last) {
  const std::int64_t now = std::chrono::duration_cast<milliseconds>(steady::now().time_since_epoch()).count();
  std::int64_t prev = last.load(std::memory_order_relaxed);
  return now - prev >= 1000 && last.compare_exchange_strong(prev, now, std::memory_order_relaxed);
}

std::string where(const config::switch_config& c, int line) {
  return line > 0 ? fmt::format("{}:{}", c.source.string(), line) : c.source.string();
}

void log_exception(std::string_view what, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::error("{}: {}", what, x.what());
  } catch (...) {
    spdlog::error("{}: unknown exception", what);
  }
}

struct listener_runtime {
  config::listener_config cfg;
  std::shared_ptr<const iso8583::spec> spec;
  framing fr;
  std::size_t prefix = 2;  // bytes of the length header
  pipeline* pipe = nullptr;
  switch_counters* counters = nullptr;
  std::atomic<std::size_t> open{0};
  std::mutex per_address_mutex;
  std::unordered_map<std::string, std::size_t> per_address;
  std::atomic<std::uint16_t> bound_port{0};
  std::shared_ptr<asio::ssl::context> tls;  // null: plain TCP
  // Limits a reload may change while sessions on every worker read them.
  std::atomic<std::size_t> max_connections{0};
  std::atomic<std::size_t> max_per_address{0};
  std::atomic<std::uint32_t> idle_timeout_ms{0};
  std::atomic<std::uint32_t> read_deadline_ms{0};

  void set_limits(const config::listener_config& c) {
    max_connections.store(c.max_connections, std::memory_order_relaxed);
    max_per_address.store(c.max_connections_per_address, std::memory_order_relaxed);
    idle_timeout_ms.store(c.idle_timeout_ms, std::memory_order_relaxed);
    read_deadline_ms.store(c.read_deadline_ms, std::memory_order_relaxed);
  }
};

struct terminal_session;

struct worker {
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
  std::vector<std::unique_ptr<acceptor_type>> acceptors;
  terminal_session* sessions = nullptr;  // intrusive list of this worker's sessions
  std::optional<asio::steady_timer> sweep_timer;
  bool stopping = false;  // this worker's thread only
};

// A terminal connection. Idle, a session is this object, its socket and one pending wait for
// readability: no coroutine frame, no timer, no buffer. A coroutine (read_frame) exists only while a
// frame is read and handled. Deadlines are checked by the worker's sweep, not by a timer each.
struct terminal_session : std::enable_shared_from_this<terminal_session> {
  terminal_session(session_socket s, listener_runtime* l, worker* w, std::string peer_address)
      : socket(std::move(s)), listener(l), owner(w), peer(std::move(peer_address)) {
    next = owner->sessions;
    if (next != nullptr) next->prev = this;
    owner->sessions = this;
  }

  void expect_idle() {
    const auto ms = listener->idle_timeout_ms.load(std::memory_order_relaxed);
    deadline = ms > 0 ? steady::now() + milliseconds(ms) : steady::time_point::max();
    in_frame = false;
  }
  void expect_frame() {
    const auto ms = listener->read_deadline_ms.load(std::memory_order_relaxed);
    deadline = ms > 0 ? steady::now() + milliseconds(ms) : steady::time_point::max();
    in_frame = true;
  }
  void expect_nothing() { deadline = steady::time_point::max(); }

  // Called by the sweep when the deadline has passed.
  void expire() {
    if (in_frame) {
      listener->counters->read_deadlines.add();
      spdlog::info("listener {}: {}: frame not complete within {} ms; closing", listener->cfg.name, peer,
                   listener->read_deadline_ms.load(std::memory_order_relaxed));
    } else {
      listener->counters->idle_timeouts.add();
      spdlog::debug("listener {}: {}: idle for {} ms; closing", listener->cfg.name, peer,
                    listener->idle_timeout_ms.load(std::memory_order_relaxed));
    }
    close();
  }

  // Closes the socket; the pending operation completes and ends the session.
  void close() {
    if (closed) return;
    closed = true;
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  // Unlinks and releases the session's share of the limits, once.
  void end() {
    if (ended) return;
    ended = true;
    close();
    if (prev != nullptr) prev->next = next;
    if (next != nullptr) next->prev = prev;
    if (owner->sessions == this) owner->sessions = next;
    prev = next = nullptr;
    listener_runtime& l = *listener;
    l.counters->connections_open.sub();
    l.open.fetch_sub(1, std::memory_order_relaxed);
    if (per_address_counted) {
      const std::lock_guard lock(l.per_address_mutex);
      const auto it = l.per_address.find(peer);
      if (it != l.per_address.end() && --it->second == 0) l.per_address.erase(it);
    }
  }

  session_socket socket;
  steady::time_point deadline = steady::time_point::max();
  listener_runtime* listener;
  worker* owner;
  terminal_session* prev = nullptr;
  terminal_session* next = nullptr;
  std::string peer;
  bool in_frame = false;
  bool busy = false;  // a request is in the pipeline: stop() lets it finish
  bool closed = false;
  bool ended = false;
  bool per_address_counted = false;  // holds a share of the per-address limit
  bool tls = false;                  // a tls_terminal_session
};

using tls_stream = asio::ssl::stream<session_socket&>;

// A terminal connection over TLS. Unlike a plain session it keeps a coroutine while idle: decrypted
// bytes may wait inside the TLS layer where a readiness wait on the socket would not see them. Plain
// sessions do not pay for it (the flag sits in existing padding).
struct tls_terminal_session final : terminal_session {
  tls_terminal_session(session_socket s, listener_runtime* l, worker* w, std::string peer_address,
                       asio::ssl::context& ctx)
      : terminal_session(std::move(s), l, w, std::move(peer_address)), stream(socket, ctx) {
    tls = true;
  }
  tls_stream stream;
};

tls_stream& tls_of(terminal_session& s) {
  return static_cast<tls_terminal_session&>(s).stream;
}

// Reads the rest of one frame, runs it through the pipeline and writes the answer. False: close the
// session. Everything per message (bytes, messages, transaction) lives in this frame only.
awaitable<bool> serve_frame(std::shared_ptr<terminal_session> s, std::array<std::uint8_t, 4> header,
                            std::size_t total) {
  listener_runtime& l = *s->listener;
  std::vector<std::uint8_t> bytes(total);
  std::memcpy(bytes.data(), header.data(), l.prefix);
  const auto rest = asio::buffer(bytes.data() + l.prefix, total - l.prefix);
  boost::system::error_code ec;
  if (s->tls) {
    std::tie(ec, std::ignore) = co_await asio::async_read(tls_of(*s), rest, use_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_read(s->socket, rest, use_tuple);
  }
  if (ec) co_return false;
  s->expect_nothing();
  const frame f = inspect_frame(l.fr, bytes);
  if (f.status != frame_status::complete) {
    l.counters->malformed_frames.add();
    spdlog::warn("listener {}: {}: bad frame ({}); closing", l.cfg.name, s->peer, f.reason);
    co_return false;
  }
  auto t = std::make_unique<transaction>();
  t->listener = l.cfg.name;
  t->source = &l.cfg;
  t->started = steady::now();
  t->request = std::make_unique<iso8583::message>(*l.spec);
  const auto body = std::span<const std::uint8_t>(bytes).subspan(f.header_size, f.body_size);
  if (const iso8583::status st = iso8583::unpack(std::as_bytes(body), *t->request); !st) {
    l.counters->unparsable_messages.add();
    spdlog::warn("listener {}: {}: unreadable message: {}; closing", l.cfg.name, s->peer, st.message());
    co_return false;
  }
  // The request as received stays with the transaction: the MAC covers these bytes, not a repacking.
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(f.header_size));
  bytes.resize(f.body_size);
  t->request_bytes = std::move(bytes);
  s->busy = true;
  co_await l.pipe->process(t.get());
  s->busy = false;
  if (!t->response) co_return true;

  std::vector<std::byte> out = std::move(t->response_bytes);  // packed already by the duplicate check
  if (out.empty()) {
    if (const iso8583::status st = iso8583::pack(*t->response, out); !st) {
      spdlog::warn("listener {}: {}: the answer {} does not pack in the terminal dialect: {}; answering 96", l.cfg.name,
                   s->peer, summary(*t->response), st.message());
      make_local_response(*t->request, "96", *t->response);
      out.clear();
      if (!iso8583::pack(*t->response, out)) co_return false;
    }
  }
  std::array<std::uint8_t, max_header_size> out_header{};
  const std::size_t hn = write_frame_header(l.fr, out.size(), out_header, f.tpdu_header);
  if (hn == 0) {
    spdlog::warn("listener {}: {}: the answer is too long for the framing ({} bytes); closing", l.cfg.name, s->peer,
                 out.size());
    co_return false;
  }
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(out_header.data(), hn), asio::buffer(out)};
  s->expect_frame();  // a terminal that does not read its answer cannot hold the session either
  boost::system::error_code wec;
  if (s->tls) {
    std::tie(wec, std::ignore) = co_await asio::async_write(tls_of(*s), buffers, use_tuple);
  } else {
    std::tie(wec, std::ignore) = co_await asio::async_write(s->socket, buffers, use_tuple);
  }
  if (wec) co_return false;
  l.counters->replies.add();
  co_return true;
}

// Handles what made the socket readable: one frame, a keep-alive, or the end of the connection.
awaitable<bool> read_frame(std::shared_ptr<terminal_session> s) {
  listener_runtime& l = *s->listener;
  std::array<std::uint8_t, 4> header{};
  boost::system::error_code ec;
  if (s->tls) {
    std::tie(ec, std::ignore) = co_await asio::async_read(tls_of(*s), asio::buffer(header.data(), l.prefix), use_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_read(s->socket, asio::buffer(header.data(), l.prefix), use_tuple);
  }
  if (ec) co_return false;
  const frame f = inspect_frame(l.fr, std::span<const std::uint8_t>(header.data(), l.prefix));
  if (f.status == frame_status::keep_alive) {
    l.counters->keep_alives.add();
    co_return true;
  }
  if (f.status == frame_status::bad_length) {
    l.counters->malformed_frames.add();
    spdlog::warn("listener {}: {}: bad frame ({}); closing", l.cfg.name, s->peer, f.reason);
    co_return false;
  }
  co_return co_await serve_frame(s, header, f.needed);
}

void wait_for_frame(std::shared_ptr<terminal_session> s);

void frame_done(std::shared_ptr<terminal_session> s, const std::exception_ptr& e, bool keep) {
  if (e) {
    log_exception("terminal session ended by an exception", e);
    keep = false;
  }
  if (keep && !s->closed && !s->owner->stopping) {
    wait_for_frame(std::move(s));
  } else {
    s->end();
  }
}

// Idle: one pending wait for readability, holding the session.
void wait_for_frame(std::shared_ptr<terminal_session> s) {
  s->expect_idle();
  terminal_session& session = *s;
  session.socket.async_wait(
      asio::socket_base::wait_read, [s = std::move(s)](const boost::system::error_code& ec) mutable {
        if (ec || s->closed) {
          s->end();
          return;
        }
        s->expect_frame();
        auto ex = s->socket.get_executor();
        asio::co_spawn(ex, read_frame(s),
                       [s](const std::exception_ptr& e, bool keep) mutable { frame_done(std::move(s), e, keep); });
      });
}

std::atomic<std::int64_t> last_handshake_log{0};

// A TLS session: the handshake (bounded by read_deadline_ms through the sweep), then frames until the
// connection ends.
awaitable<void> serve_tls(std::shared_ptr<terminal_session> s) {
  listener_runtime& l = *s->listener;
  s->expect_frame();
  auto [ec] = co_await tls_of(*s).async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) {
    l.counters->tls_handshake_failures.add();
    const std::string why = s->closed ? std::string("not complete in time") : ec.message();
    if (log_allowed(last_handshake_log)) {
      spdlog::warn("listener {}: {}: TLS handshake failed: {}; closing", l.cfg.name, s->peer, why);
    }
    co_return;
  }
  while (!s->closed && !s->owner->stopping) {
    s->expect_idle();
    if (!co_await read_frame(s)) break;
  }
}

std::atomic<std::int64_t> last_refusal_log{0};
std::atomic<std::int64_t> last_accept_error_log{0};

}  // namespace

std::size_t raise_open_file_limit() noexcept {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  return rl.rlim_cur == RLIM_INFINITY ? static_cast<std::size_t>(1) << 20 : static_cast<std::size_t>(rl.rlim_cur);
}

struct switch_server::impl {
  explicit impl(config::switch_config c) : cfg(std::move(c)) {}

  awaitable<void> accept_loop(worker* w, listener_runtime* l, acceptor_type* a) {
    for (;;) {
      auto [ec, sock] = co_await a->async_accept(w->io, use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || w->stopping) co_return;
        if (log_allowed(last_accept_error_log))
          spdlog::warn("listener {}: accept failed: {}", l->cfg.name, ec.message());
        // Out of descriptors or memory: give closing sessions a moment instead of spinning.
        asio::steady_timer pause(w->io, milliseconds(50));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      if (w->stopping) co_return;
      admit(w, l, std::move(sock));
    }
  }

  void admit(worker* w, listener_runtime* l, session_socket sock) {
    boost::system::error_code ec;
    const auto remote = sock.remote_endpoint(ec);
    std::string peer = ec ? std::string("?") : remote.address().to_string();
    const char* refusal = nullptr;
    const std::size_t per_address_limit = l->max_per_address.load(std::memory_order_relaxed);
    if (l->open.fetch_add(1, std::memory_order_relaxed) >= l->max_connections.load(std::memory_order_relaxed)) {
      l->open.fetch_sub(1, std::memory_order_relaxed);
      refusal = "max_connections reached";
    } else if (per_address_limit > 0) {
      const std::lock_guard lock(l->per_address_mutex);
      std::size_t& count = l->per_address[peer];
      if (count >= per_address_limit) {
        l->open.fetch_sub(1, std::memory_order_relaxed);
        if (count == 0) l->per_address.erase(peer);
        refusal = "max_connections_per_address reached";
      } else {
        ++count;
      }
    }
    if (refusal != nullptr) {
      counters.connections_refused.add();
      if (log_allowed(last_refusal_log)) spdlog::warn("listener {}: {}: refused ({})", l->cfg.name, peer, refusal);
      sock.close(ec);
      return;
    }
    sock.set_option(tcp::no_delay(true), ec);
    counters.connections_accepted.add();
    counters.connections_open.add();
    if (l->tls) {
      auto session = std::make_shared<tls_terminal_session>(std::move(sock), l, w, std::move(peer), *l->tls);
      session->per_address_counted = per_address_limit > 0;
      std::shared_ptr<terminal_session> base = session;
      asio::co_spawn(w->io, serve_tls(base), [base](const std::exception_ptr& e) {
        log_exception("TLS terminal session ended by an exception", e);
        base->end();
      });
      return;
    }
    auto session = std::make_shared<terminal_session>(std::move(sock), l, w, std::move(peer));
    session->per_address_counted = per_address_limit > 0;
    wait_for_frame(std::move(session));
  }

  // Closes sessions whose idle or read deadline has passed; one pass over the worker's sessions per
  // tick instead of a timer per session.
  awaitable<void> sweep_loop(worker* w, milliseconds tick) {
    while (!w->stopping) {
      w->sweep_timer->expires_after(tick);
      co_await w->sweep_timer->async_wait(use_tuple);
      if (w->stopping) break;
      const auto now = steady::now();
      for (terminal_session* s = w->sessions; s != nullptr; s = s->next) {
        if (!s->closed && s->deadline <= now) s->expire();
      }
    }
  }

  // A quarter of the shortest deadline in use, from 10 ms to 1 s; zero when no listener has one.
  milliseconds sweep_tick() const {
    std::uint32_t shortest = 0;
    for (const auto& l : listeners) {
      for (const std::uint32_t ms : {l->cfg.idle_timeout_ms, l->cfg.read_deadline_ms}) {
        if (ms > 0 && (shortest == 0 || ms < shortest)) shortest = ms;
      }
    }
    if (shortest == 0) return milliseconds(0);
    return milliseconds(std::clamp<std::uint32_t>(shortest / 4, 10, 1000));
  }

  awaitable<void> status_loop() {
    while (!stopping_status) {
      status_timer->expires_after(milliseconds(cfg.status_interval_ms));
      co_await status_timer->async_wait(use_tuple);
      if (stopping_status) break;
      spdlog::info("status: {}", status());
    }
  }

  std::string status() const {
    std::string s = counters.status();
    for (const auto& l : links) s += " | " + l->status();
    if (saf) s += " | " + saf->status();
    if (journal) s += " | " + journal->stats().status();
    return s;
  }

  void bind_listeners() {
    for (auto& l : listeners) {
      boost::system::error_code ec;
      const auto address = asio::ip::make_address(l->cfg.address, ec);
      if (ec) {
        throw std::runtime_error(fmt::format("{}: listener {}: address '{}' is not an IP address",
                                             where(cfg, l->cfg.line), l->cfg.name, l->cfg.address));
      }
      std::uint16_t port = l->cfg.port;
      for (auto& w : workers) {
        auto a = std::make_unique<acceptor_type>(w->io);
        const tcp::endpoint ep(address, port);
        const auto fail = [&](std::string_view step) {
          throw std::runtime_error(fmt::format("{}: listener {} cannot {} {}:{}: {}", where(cfg, l->cfg.line),
                                               l->cfg.name, step, l->cfg.address, port, ec.message()));
        };
        if (a->open(ep.protocol(), ec)) fail("open a socket for");
        a->set_option(asio::socket_base::reuse_address(true), ec);
        if (a->set_option(reuse_port(true), ec)) fail("set SO_REUSEPORT on");
        if (a->bind(ep, ec)) fail("bind");
        if (a->listen(asio::socket_base::max_listen_connections, ec)) fail("listen on");
        port = a->local_endpoint().port();  // the ephemeral port of the first worker, for the others
        w->acceptors.push_back(std::move(a));
      }
      l->bound_port = port;
      spdlog::info("listener {}: listening on {}:{} ({} workers, framing {}, spec {}{})", l->cfg.name, l->cfg.address,
                   port, workers.size(), l->cfg.framing, l->spec->name,
                   !l->tls                   ? ""
                   : l->cfg.tls->verify_peer ? ", TLS with client certificates"
                                             : ", TLS");
    }
  }

  config::switch_config cfg;
  switch_counters counters;
  // Declared before the links: links (and the handlers they may hold) go first, io_contexts last.
  std::vector<std::unique_ptr<worker>> workers;
  // After the workers: joined (its pool finished) before the io_contexts it completes into go.
  std::unique_ptr<crypto::async_hsm> hsm;
  std::vector<std::unique_ptr<listener_runtime>> listeners;
  std::vector<std::unique_ptr<host_link>> links;
  std::vector<std::unique_ptr<link_group>> groups;
  std::unique_ptr<switch_core::pipeline> pipe;
  // The journal outlives the forwarder that reads it; both go before the links and groups.
  std::unique_ptr<switch_core::journal> journal;
  std::unique_ptr<saf_forwarder> saf;
  std::optional<asio::steady_timer> status_timer;
  std::atomic<bool> stopping_status{false};
  std::size_t capacity = 0;
  bool started = false;
  bool stopped = false;
  std::mutex mutex;
  std::condition_variable workers_done;
  std::size_t running = 0;
  // Operations: metrics, the admin endpoint, reloads.
  std::shared_ptr<crypto::hsm> raw_hsm;  // route pin keys of a reload are checked with it
  std::map<std::string, link_group*, std::less<>> groups_by_name;
  std::unique_ptr<switch_metrics> metrics;
  std::mutex reload_mutex;
  std::atomic<bool> serving{false};          // listeners bound and not stopping: /ready may say yes
  std::unique_ptr<admin_http_server> admin;  // last: stopped first, before what it reads goes

  bool ready(std::string& why) const {
    if (!serving.load(std::memory_order_acquire)) {
      why = "listeners not bound (starting or stopping)";
      return false;
    }
    if (groups.empty()) return true;
    for (const auto& g : groups) {
      if (g->up()) return true;
    }
    why = "no link group has a ready link";
    return false;
  }
};

switch_server::switch_server(config::switch_config cfg, std::shared_ptr<crypto::hsm> hsm)
    : impl_(std::make_unique<impl>(std::move(cfg))) {
  impl& m = *impl_;
  std::map<std::string, std::shared_ptr<const iso8583::spec>> specs;
  const auto spec = [&](const std::string& name, int line) {
    auto& s = specs[name];
    if (!s) {
      try {
        s = iso8583::load_spec(name);
      } catch (const iso8583::spec_error& e) {
        throw std::runtime_error(fmt::format("{}: spec '{}' cannot be loaded: {}", where(m.cfg, line), name, e.what()));
      }
    }
    return s;
  };
  std::size_t n = m.cfg.workers;
  if (n == 0) n = std::max(1U, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < n; ++i) m.workers.push_back(std::make_unique<worker>());
  for (const auto& lc : m.cfg.listeners) {
    auto l = std::make_unique<listener_runtime>();
    l->cfg = lc;
    l->spec = spec(lc.spec, lc.line);
    const auto kind = parse_framing_kind(lc.framing);
    if (!kind) throw std::runtime_error(fmt::format("{}: framing '{}' is unknown", where(m.cfg, lc.line), lc.framing));
    l->fr = framing{*kind, lc.max_frame};
    if (lc.tls)
      l->tls = make_server_tls_context(*lc.tls, fmt::format("{}: listener {}", where(m.cfg, lc.tls->line), lc.name));
    l->prefix = inspect_frame(l->fr, {}).needed;
    m.listeners.push_back(std::move(l));
  }
  for (std::size_t i = 0; i < m.cfg.links.size(); ++i) {
    const auto& lc = m.cfg.links[i];
    if (!parse_framing_kind(lc.framing)) {
      throw std::runtime_error(fmt::format("{}: framing '{}' is unknown", where(m.cfg, lc.line), lc.framing));
    }
    m.links.push_back(std::make_unique<host_link>(lc, spec(lc.spec, lc.line),
                                                  asio::any_io_executor(m.workers[i % n]->io.get_executor())));
  }
  std::map<std::string, link_group*, std::less<>> by_name;
  for (const auto& gc : m.cfg.groups) {
    std::vector<host_link*> members;
    for (const auto& name : gc.links) {
      host_link* l = link(name);
      if (l == nullptr) {
        throw std::runtime_error(
            fmt::format("{}: group {} names an unknown link {}", where(m.cfg, gc.line), gc.name, name));
      }
      members.push_back(l);
    }
    m.groups.push_back(std::make_unique<link_group>(gc.name, gc.policy, std::move(members)));
    by_name[gc.name] = m.groups.back().get();
  }
  for (const auto& r : m.cfg.routes) {
    if (by_name.find(r.group) == by_name.end()) {
      throw std::runtime_error(
          fmt::format("{}: route {} names an unknown group {}", where(m.cfg, r.line), r.name, r.group));
    }
  }
  m.groups_by_name = by_name;
  m.pipe = std::make_unique<switch_core::pipeline>(m.cfg.routes, std::move(by_name), m.counters);
  for (auto& l : m.listeners) {
    l->pipe = m.pipe.get();
    l->counters = &m.counters;
    l->set_limits(l->cfg);
  }
  m.metrics = std::make_unique<switch_metrics>(m.counters);
  {
    std::vector<const host_link*> links;
    for (const auto& l : m.links) links.push_back(l.get());
    std::vector<const link_group*> groups;
    for (const auto& g : m.groups) groups.push_back(g.get());
    m.metrics->set_links(std::move(links), std::move(groups));
    std::vector<listener_view> views;
    for (const auto& l : m.listeners) {
      const listener_runtime* lr = l.get();
      views.push_back(listener_view{l->cfg.name, [lr] { return lr->open.load(std::memory_order_relaxed); }});
    }
    m.metrics->set_listeners(std::move(views));
  }
  m.pipe->replace_routes(route_table::make(m.cfg.routes, m.groups_by_name, m.metrics.get(), m.cfg.terminal_groups));
  m.raw_hsm = hsm;

  // Keys: every one named must be in the HSM with its usage, checked now rather than per transaction.
  ksn_sizes dukpt_listeners = check_config_keys(m.cfg, hsm.get());
  if (hsm) {
    std::size_t threads = m.cfg.hsm ? m.cfg.hsm->threads : 0;
    // A PKCS#11 call blocks (a token, a network HSM): never on an I/O thread (DESIGN.md, concurrency).
    if (threads == 0 && m.cfg.hsm && m.cfg.hsm->backend == "pkcs11") threads = 2;
    const std::size_t queue = m.cfg.hsm ? m.cfg.hsm->queue_limit : 1024;
    m.hsm = std::make_unique<crypto::async_hsm>(std::move(hsm), threads, queue);
    const crypto::async_hsm* h = m.hsm.get();
    m.metrics->set_hsm_queue_depth([h] { return h->pending(); });
    add_hsm_stages(*m.pipe, *m.hsm, m.counters, std::move(dukpt_listeners));
  }
}

switch_server::~switch_server() {
  try {
    stop();
  } catch (const std::exception& e) {
    spdlog::error("stopping the switch failed: {}", e.what());
  }
}

pipeline& switch_server::pipeline() noexcept {
  return *impl_->pipe;
}

void switch_server::start() {
  impl& m = *impl_;
  if (m.started) return;
  open_journal(m);
  const std::size_t limit = raise_open_file_limit();
  const std::size_t overhead = reserved_descriptors + m.links.size() + m.listeners.size() * m.workers.size();
  m.capacity = limit > overhead ? limit - overhead : 0;
  std::size_t wanted = 0;
  for (const auto& l : m.listeners) wanted += l->cfg.max_connections;
  spdlog::info("open-file limit {}: room for about {} terminal connections (listeners allow {})", limit, m.capacity,
               wanted);
  if (wanted > m.capacity) {
    spdlog::warn(
        "the listeners' max_connections ({}) exceed what the open-file limit allows ({}); raise the hard limit "
        "(ulimit -Hn, LimitNOFILE=) or lower max_connections",
        wanted, m.capacity);
  }
  m.bind_listeners();
  for (auto& w : m.workers) w->guard.emplace(w->io.get_executor());
  for (auto& w : m.workers) {
    for (std::size_t i = 0; i < w->acceptors.size(); ++i) {
      listener_runtime* l = m.listeners[i].get();
      asio::co_spawn(w->io, m.accept_loop(w.get(), l, w->acceptors[i].get()),
                     [](const std::exception_ptr& e) { log_exception("listener stopped by an exception", e); });
    }
  }
  if (const milliseconds tick = m.sweep_tick(); tick.count() > 0) {
    for (auto& w : m.workers) {
      w->sweep_timer.emplace(w->io);
      asio::co_spawn(w->io, m.sweep_loop(w.get(), tick), asio::detached);
    }
  }
  if (m.cfg.status_interval_ms > 0) {
    m.status_timer.emplace(m.workers[0]->io);
    asio::co_spawn(m.workers[0]->io, m.status_loop(), asio::detached);
  }
  for (auto& l : m.links) l->start();
  if (m.saf) m.saf->start();
  m.running = m.workers.size();
  for (std::size_t i = 0; i < m.workers.size(); ++i) {
    worker* wp = m.workers[i].get();
    wp->thread = std::thread([&m, wp] {
      for (;;) {
        try {
          wp->io.run();
          break;
        } catch (const std::exception& e) {
          spdlog::critical("worker: unexpected exception: {}", e.what());
        }
      }
      const std::lock_guard lock(m.mutex);
      --m.running;
      m.workers_done.notify_all();
    });
    detail::name_thread(wp->thread, "eft-io-" + std::to_string(i));
  }
  m.started = true;
  m.serving = true;
  if (m.cfg.metrics) {
    try {
      m.admin = std::make_unique<admin_http_server>(
          m.cfg.metrics->address, m.cfg.metrics->port,
          admin_handlers{[&m] { return m.metrics->scrape(); }, [&m](std::string& why) { return m.ready(why); }});
    } catch (const std::exception& e) {
      stop();
      throw std::runtime_error(fmt::format("{}: {}", where(m.cfg, m.cfg.metrics->line), e.what()));
    }
    spdlog::info("metrics: serving /metrics, /health and /ready on {}:{}", m.cfg.metrics->address, m.admin->port());
  }
  spdlog::info("switch started: {} workers, {} listeners, {} links, {} routes", m.workers.size(), m.listeners.size(),
               m.links.size(), m.cfg.routes.size());
}

void switch_server::stop() {
  impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  m.serving = false;
  spdlog::info("stopping: no new connections; in-flight transactions get up to {} ms", m.cfg.shutdown_grace_ms);
  for (auto& w : m.workers) {
    worker* wp = w.get();
    asio::post(wp->io, [wp] {
      wp->stopping = true;
      boost::system::error_code ignored;
      for (auto& a : wp->acceptors) a->close(ignored);
      // Sessions in the middle of a transaction finish it and then close.
      for (terminal_session* s = wp->sessions; s != nullptr; s = s->next) {
        if (!s->busy) s->close();
      }
      if (wp->sweep_timer) wp->sweep_timer->cancel();
    });
  }
  m.stopping_status = true;
  if (m.status_timer) asio::post(m.workers[0]->io, [&m] { m.status_timer->cancel(); });

  const auto grace_end = steady::now() + milliseconds(m.cfg.shutdown_grace_ms);
  while (m.counters.in_flight.get() > 0 && steady::now() < grace_end) std::this_thread::sleep_for(milliseconds(5));
  if (const auto left = m.counters.in_flight.get(); left > 0) {
    spdlog::warn("stopping: {} transaction(s) still in flight after the grace period", left);
  }

  std::uint32_t sign_off_wait = 0;
  for (auto& l : m.links) {
    sign_off_wait = std::max(sign_off_wait, l->config().network_timeout_ms);
    l->stop();
  }
  const auto links_end = steady::now() + milliseconds(sign_off_wait + 1000);
  const auto all_stopped = [&m] {
    return std::all_of(m.links.begin(), m.links.end(), [](const auto& l) { return l->stopped(); });
  };
  while (!all_stopped() && steady::now() < links_end) std::this_thread::sleep_for(milliseconds(5));
  if (m.saf) m.saf->stop();

  for (auto& w : m.workers) {
    worker* wp = w.get();
    asio::post(wp->io, [wp] { wp->guard.reset(); });
  }
  {
    std::unique_lock lock(m.mutex);
    if (!m.workers_done.wait_for(lock, std::chrono::seconds(5), [&m] { return m.running == 0; })) {
      spdlog::warn("stopping: workers still busy after 5 s; stopping them");
      for (auto& w : m.workers) w->io.stop();
    }
  }
  for (auto& w : m.workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (m.journal) m.journal->close();
  spdlog::info("stopped: {}", m.status());
  m.admin.reset();
}

std::string switch_server::reload(const config::switch_config& next) {
  impl& m = *impl_;
  const std::lock_guard lock(m.reload_mutex);
  std::string why = detail::reload_refusal(m.cfg, next);
  if (why.empty()) {
    try {
      (void)check_config_keys(next, m.raw_hsm.get());  // the keys routes name (zone PIN keys, issuer keys)
    } catch (const std::exception& e) {
      why = e.what();
    }
  }
  if (!why.empty()) {
    m.metrics->count_reload(false);
    return why;
  }
  for (std::size_t i = 0; i < m.listeners.size(); ++i) m.listeners[i]->set_limits(next.listeners[i]);
  // The routes that stay keep their breakers: a reload must not send traffic to a host found dead.
  m.pipe->replace_routes(
      route_table::make(next.routes, m.groups_by_name, m.metrics.get(), next.terminal_groups, m.pipe->routes().get()));
  m.cfg.routes = next.routes;
  m.cfg.terminal_groups = next.terminal_groups;
  m.cfg.listeners = next.listeners;
  m.cfg.shutdown_grace_ms = next.shutdown_grace_ms;
  m.metrics->count_reload(true);
  return {};
}

void switch_server::reload_refused() noexcept {
  impl_->metrics->count_reload(false);
}

std::uint16_t switch_server::metrics_port() const noexcept {
  return impl_->admin ? impl_->admin->port() : 0;
}

const switch_metrics& switch_server::metrics() const noexcept {
  return *impl_->metrics;
}

std::uint16_t switch_server::port(std::string_view listener) const {
  for (const auto& l : impl_->listeners) {
    if (l->cfg.name == listener) return l->bound_port.load();
  }
  return 0;
}

host_link* switch_server::link(std::string_view name) const {
  for (const auto& l : impl_->links) {
    if (l->name() == name) return l.get();
  }
  return nullptr;
}

const switch_counters& switch_server::counters() const noexcept {
  return impl_->counters;
}
std::size_t switch_server::connection_capacity() const noexcept {
  return impl_->capacity;
}
std::size_t switch_server::workers() const noexcept {
  return impl_->workers.size();
}
std::string switch_server::status() const {
  return impl_->status();
}
switch_core::journal* switch_server::journal() const noexcept {
  return impl_->journal.get();
}
const saf_forwarder* switch_server::saf() const noexcept {
  return impl_->saf.get();
}

// Opens the journal before anything binds: a journal that is corrupt, locked or newer stops the
// start here. Then recovery: what an earlier run forwarded without an outcome gets its reversal.
void switch_server::open_journal(impl& m) {
  const config::journal_config& jc = m.cfg.journal;
  if (!jc.enabled()) return;
  auto keys = std::make_shared<const journal_keys>(journal_keys::load(jc.key_env, jc.key_file));
  m.journal = switch_core::open_journal(jc, keys);
  if (const std::size_t n = m.journal->recover(); n > 0) {
    spdlog::warn("journal {}: {} transaction(s) forwarded by an earlier run have no known outcome: reversals queued",
                 jc.where(), n);
  }
  spdlog::info("journal {}: open (durability {}, schema version {})", jc.where(), to_string(jc.durability),
               journal_schema_version);
  // A host may refuse (or match wrongly) a STAN and RRN it saw from the run before: continue where
  // the journal says the last run stopped, not from a time-seeded guess.
  for (auto& l : m.links) {
    if (const auto last = m.journal->last_host_stan(l->name())) l->resume_stans_after(*last);
  }
  m.pipe->set_journal(m.journal.get(), keys, jc.reversal_mti);
  m.pipe->set_duplicate_window(std::chrono::seconds(jc.duplicate_window_s), jc.duplicate_max_entries);
  switch_core::pipeline* p = m.pipe.get();
  for (auto& l : m.links) {
    l->on_late_answer([p](const host_link& link, const iso8583::message& answer) { p->late_answer(link, answer); });
  }
  std::map<std::string, link_group*, std::less<>> groups;
  for (auto& g : m.groups) groups[g->name()] = g.get();
  std::uint32_t timeout = 1000;
  for (const auto& r : m.cfg.routes) timeout = std::max(timeout, r.timeout_ms);
  m.saf = std::make_unique<saf_forwarder>(*m.journal, std::move(groups), jc, timeout);
  m.metrics->set_saf(m.saf.get());
  m.metrics->set_journal(m.journal.get());
}

}  // namespace eft::switch_core
