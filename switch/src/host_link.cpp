#include "eft/switch/host_link.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <charconv>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <tuple>
#include <unordered_map>

#include "eft/iso8583/codec.hpp"
#include "eft/switch/framing.hpp"
#include "eft/switch/message_util.hpp"
#include "eft/switch/tls.hpp"

namespace eft::switch_core {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Answers to timed-out requests are recognised as late (not merely unmatched) for this long.
constexpr auto late_window = std::chrono::minutes(10);
constexpr std::size_t late_window_entries = 100000;

awaitable<bool> cancelled() {
  const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  co_return cs.cancelled() != asio::cancellation_type::none;
}

std::string response_code(const iso8583::message& m) {
  auto rc = m.get(39U);
  return rc ? std::string(*rc) : std::string();
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// STAN, RRN, match key

std::uint32_t stan_generator::time_seeded_start(std::chrono::system_clock::time_point now) noexcept {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() % 86400;
  return static_cast<std::uint32_t>(1 + (static_cast<std::uint64_t>(secs) * 10) % 999999);
}

std::string stan_generator::format(std::uint32_t stan) {
  return fmt::format("{:06}", stan % 1000000);
}

std::string make_rrn(std::chrono::system_clock::time_point t, std::string_view stan) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{}{:03}{:02}{}", (tm.tm_year + 1900) % 10, tm.tm_yday + 1, tm.tm_hour, stan);
}

std::string make_match_key(const iso8583::message& msg, const std::vector<std::string>& tokens) {
  std::string key;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) key += '|';
    const std::string& t = tokens[i];
    if (t == "mti_class") {
      key += mti_class(msg.mti());
      continue;
    }
    std::uint32_t f = 0;
    std::from_chars(t.data(), t.data() + t.size(), f);
    if (auto v = msg.get(f)) key += *v;
  }
  return key;
}

std::string_view to_string(exchange_status s) noexcept {
  switch (s) {
    case exchange_status::answered:
      return "answered";
    case exchange_status::not_sent:
      return "not sent";
    case exchange_status::timeout:
      return "timeout";
    case exchange_status::link_lost:
      return "link lost";
    case exchange_status::shutdown:
      return "shutdown";
    case exchange_status::pack_error:
      return "pack error";
  }
  return "?";
}

std::string_view to_string(link_state s) noexcept {
  switch (s) {
    case link_state::down:
      return "down";
    case link_state::connecting:
      return "connecting";
    case link_state::signing_on:
      return "signing-on";
    case link_state::ready:
      return "ready";
    case link_state::stopping:
      return "stopping";
    case link_state::stopped:
      return "stopped";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// The owner-thread side

struct host_link::impl {
  struct pending_request {
    std::unique_ptr<exchange_waiter> waiter;
    std::string stan;
    std::string rrn;
    std::multimap<steady::time_point, std::string>::iterator deadline;
  };
  struct network_wait {
    asio::steady_timer* event = nullptr;
    std::unique_ptr<iso8583::message>* reply = nullptr;
  };

  impl(host_link& l, asio::any_io_executor executor)
      : link(l),
        ex(std::move(executor)),
        write_signal(ex),
        deadline_timer(ex),
        manage_timer(ex),
        backoff_timer(ex),
        connect_timer(ex),
        stans(stan_generator::time_seeded_start(std::chrono::system_clock::now())),
        backoff_ms(l.cfg_.reconnect_min_ms),
        rng(std::random_device{}()) {
    fr.kind = parse_framing_kind(l.cfg_.framing).value_or(framing_kind::len2);
    fr.max_frame = l.cfg_.max_frame;
    if (l.cfg_.tls) {
      tls_ctx = make_client_tls_context(
          *l.cfg_.tls, "link " + l.cfg_.name + " (config line " + std::to_string(l.cfg_.tls->line) + ")");
    }
  }

  const config::host_link_config& cfg() const { return link.cfg_; }
  void set_state(link_state s) { link.state_.store(s, std::memory_order_release); }
  void set_ready(bool r) { link.ready_.store(r, std::memory_order_release); }

  // Packs a message with its frame header and queues it for the writer. False (logged) when it
  // does not pack.
  bool enqueue(const iso8583::message& m, std::string* error = nullptr) {
    std::vector<std::byte> body;
    const iso8583::status st = iso8583::pack(m, body);
    if (!st) {
      if (error != nullptr) *error = st.message();
      spdlog::warn("link {}: cannot pack {} for the host: {}", cfg().name, summary(m), st.message());
      return false;
    }
    std::array<std::uint8_t, max_header_size> header{};
    const std::size_t n = write_frame_header(fr, body.size(), header);
    if (n == 0) {
      if (error != nullptr) *error = fmt::format("{} bytes do not fit the link's framing", body.size());
      spdlog::warn("link {}: {} is too long for the framing ({} bytes)", cfg().name, summary(m), body.size());
      return false;
    }
    std::vector<std::uint8_t> frame(n + body.size());
    std::memcpy(frame.data(), header.data(), n);
    std::memcpy(frame.data() + n, body.data(), body.size());
    write_queue.push_back(std::move(frame));
    write_signal.cancel();
    return true;
  }

  void exchange(std::unique_ptr<iso8583::message> req, milliseconds timeout, std::unique_ptr<exchange_waiter> w,
                bool ids_assigned) {
    if (!link.ready() || stopping || !socket) {
      w->complete(exchange_result{exchange_status::not_sent, nullptr, {}, {}, "link not ready"});
      return;
    }
    const auto now = std::chrono::system_clock::now();
    if (!ids_assigned && link.spec_->field(7) != nullptr) (void)req->set(7U, transmission_time(now));
    std::string key;
    std::string stan;
    std::string rrn;
    if (ids_assigned) {
      stan = std::string(req->get(11U).value_or(""));
      rrn = std::string(req->get(37U).value_or(""));
      key = make_match_key(*req, cfg().match_key);
      if (pending.count(key) != 0) {
        w->complete(exchange_result{exchange_status::not_sent, nullptr, {}, {}, "STAN in use"});
        return;
      }
    }
    // A STAN still pending from a full round earlier is skipped.
    for (int attempt = 0; attempt < 16 && key.empty(); ++attempt) {
      stan = stan_generator::format(stans.next());
      rrn = make_rrn(now, stan);
      (void)req->set(11U, stan);
      (void)req->set(37U, rrn);
      key = make_match_key(*req, cfg().match_key);
      if (pending.count(key) != 0) key.clear();
    }
    if (key.empty()) {
      spdlog::error("link {}: no free STAN for {}", cfg().name, summary(*req));
      w->complete(exchange_result{exchange_status::not_sent, nullptr, {}, {}, "no free STAN"});
      return;
    }
    std::string error;
    if (!enqueue(*req, &error)) {
      w->complete(exchange_result{exchange_status::pack_error, nullptr, {}, {}, std::move(error)});
      return;
    }
    const auto dit = deadlines.emplace(steady::now() + timeout, key);
    pending.emplace(std::move(key), pending_request{std::move(w), std::move(stan), std::move(rrn), dit});
    link.in_flight_.fetch_add(1, std::memory_order_relaxed);
    link.counters_.sent.add();
    if (dit == deadlines.begin()) deadline_timer.cancel();  // earlier than the armed deadline
  }

  void complete(std::unordered_map<std::string, pending_request>::iterator it, exchange_status status,
                std::unique_ptr<iso8583::message> response) {
    auto waiter = std::move(it->second.waiter);
    exchange_result r{status, std::move(response), std::move(it->second.stan), std::move(it->second.rrn), {}};
    pending.erase(it);
    link.in_flight_.fetch_sub(1, std::memory_order_relaxed);
    waiter->complete(std::move(r));
  }

  void expire_due() {
    const auto now = steady::now();
    while (!deadlines.empty() && deadlines.begin()->first <= now) {
      const std::string key = deadlines.begin()->second;
      deadlines.erase(deadlines.begin());
      const auto it = pending.find(key);
      if (it == pending.end()) continue;
      link.counters_.timeouts.add();
      spdlog::warn("link {}: no answer in time to stan={} rrn={}", cfg().name, it->second.stan, it->second.rrn);
      remember_timeout(key, now);
      complete(it, exchange_status::timeout, nullptr);
    }
  }

  void remember_timeout(const std::string& key, steady::time_point now) {
    recent_timeouts[key] = now;
    recent_order.emplace_back(now, key);
    while (!recent_order.empty() &&
           (recent_order.size() > late_window_entries || recent_order.front().first + late_window < now)) {
      const auto it = recent_timeouts.find(recent_order.front().second);
      if (it != recent_timeouts.end() && it->second == recent_order.front().first) recent_timeouts.erase(it);
      recent_order.pop_front();
    }
  }

  void fail_all_pending(exchange_status status) {
    if (pending.empty()) return;
    spdlog::warn("link {}: {} request(s) without an answer ({}): reversal needed", cfg().name, pending.size(),
                 to_string(status));
    link.counters_.lost.add(pending.size());
    deadlines.clear();
    while (!pending.empty()) complete(pending.begin(), status, nullptr);
  }

  void answer_network_request(const iso8583::message& req) {
    iso8583::message answer(*link.spec_);
    answer.set_mti(response_mti(req.mti()));
    (void)copy_fields(req, answer, undefined_field_policy::drop);
    (void)answer.set(39U, "00");
    link.counters_.host_requests.add();
    spdlog::debug("link {}: answering the host's {}", cfg().name, summary(req));
    enqueue(answer);
  }

  void on_message(std::unique_ptr<iso8583::message> msg) {
    const std::string_view mti = msg->mti();
    if (is_request_mti(mti)) {
      if (mti[1] == '8') {
        answer_network_request(*msg);
        return;
      }
      link.counters_.unmatched.add();
      spdlog::warn("link {}: the host sent a request ({}); not supported, dropped", cfg().name, summary(*msg));
      return;
    }
    if (mti.size() == 4 && mti[1] == '8') {
      if (auto stan = msg->get(11U)) {
        const auto it = network_waits.find(std::string(*stan));
        if (it != network_waits.end()) {
          *it->second.reply = std::move(msg);
          it->second.event->cancel();
          return;
        }
      }
      link.counters_.unmatched.add();
      spdlog::warn("link {}: unmatched network management answer {} dropped", cfg().name, summary(*msg));
      return;
    }
    const std::string key = make_match_key(*msg, cfg().match_key);
    const auto it = pending.find(key);
    if (it == pending.end()) {
      if (recent_timeouts.erase(key) > 0) {
        spdlog::warn("link {}: late answer {} dropped (its request had timed out)", cfg().name, summary(*msg));
        if (link.late_answer_) link.late_answer_(link, *msg);
        // Counted once handed on: whoever sees the counter move can find the answer journaled.
        link.counters_.late.add();
      } else {
        link.counters_.unmatched.add();
        spdlog::warn("link {}: unmatched answer {} dropped", cfg().name, summary(*msg));
      }
      return;
    }
    deadlines.erase(it->second.deadline);
    link.counters_.answered.add();
    complete(it, exchange_status::answered, std::move(msg));
  }

  awaitable<std::unique_ptr<iso8583::message>> network_request(std::string nmi) {
    auto msg = std::make_unique<iso8583::message>(*link.spec_);
    msg->set_mti("0800");
    if (link.spec_->field(7) != nullptr) (void)msg->set(7U, transmission_time(std::chrono::system_clock::now()));
    std::string stan = stan_generator::format(stans.next());
    (void)msg->set(11U, stan);
    (void)msg->set(70U, nmi);
    std::unique_ptr<iso8583::message> reply;
    if (!enqueue(*msg)) co_return reply;
    asio::steady_timer event(ex, milliseconds(cfg().network_timeout_ms));
    network_waits[stan] = network_wait{&event, &reply};
    co_await event.async_wait(use_tuple);
    network_waits.erase(stan);
    co_return reply;
  }

  // A host that stays down must not fill the log: the first failure and every tenth are warnings.
  void note_failure(const std::string& what) {
    ++failures_in_row;
    if (failures_in_row == 1 || failures_in_row % 10 == 0) {
      spdlog::warn("link {}: {} (failure {} in a row; retrying with backoff up to {} ms)", cfg().name, what,
                   failures_in_row, cfg().reconnect_max_ms);
    } else {
      spdlog::debug("link {}: {} (failure {} in a row)", cfg().name, what, failures_in_row);
    }
  }

  awaitable<bool> connect() {
    set_state(link_state::connecting);
    for (const auto& a : cfg().addresses) {
      if (stopping) co_return false;
      std::vector<tcp::endpoint> endpoints;
      boost::system::error_code ec;
      const auto ip = asio::ip::make_address(a.host, ec);
      if (!ec) {
        endpoints.emplace_back(ip, a.port);
      } else {
        tcp::resolver resolver(ex);
        auto [rec, results] = co_await resolver.async_resolve(a.host, std::to_string(a.port), use_tuple);
        if (rec) {
          note_failure(fmt::format("cannot resolve {}: {}", a.host, rec.message()));
          continue;
        }
        for (const auto& r : results) endpoints.push_back(r.endpoint());
      }
      tcp::socket s(ex);
      connect_timer.expires_after(milliseconds(cfg().connect_timeout_ms));
      auto result = co_await (asio::async_connect(s, endpoints, use_tuple) || connect_timer.async_wait(use_tuple));
      if (result.index() == 1) {
        if (!stopping) note_failure(fmt::format("connecting to {}:{} timed out", a.host, a.port));
        continue;
      }
      const auto [cec, endpoint] = std::get<0>(result);
      if (cec) {
        note_failure(fmt::format("cannot connect to {}:{}: {}", a.host, a.port, cec.message()));
        continue;
      }
      s.set_option(tcp::no_delay(true), ec);
      socket.emplace(std::move(s));
      if (tls_ctx && !co_await handshake(a)) {
        tls.reset();
        socket->close(ec);
        socket.reset();
        continue;
      }
      spdlog::info("link {}: connected to {}:{}{}", cfg().name, endpoint.address().to_string(), endpoint.port(),
                   tls ? " (TLS)" : "");
      failures_in_row = 0;
      co_return true;
    }
    co_return false;
  }

  // TLS client handshake on the connected socket, within connect_timeout_ms.
  awaitable<bool> handshake(config::link_address a) {
    const config::tls_config& t = *cfg().tls;
    tls.emplace(*socket, *tls_ctx);
    if (!t.server_name.empty()) {
      // SSL_set_tlsext_host_name without its C cast.
      SSL_ctrl(tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(t.server_name.c_str()));
      if (t.verify_peer) tls->set_verify_callback(asio::ssl::host_name_verification(t.server_name));
    }
    connect_timer.expires_after(milliseconds(cfg().connect_timeout_ms));
    auto result = co_await (tls->async_handshake(asio::ssl::stream_base::client, use_tuple) ||
                            connect_timer.async_wait(use_tuple));
    if (result.index() == 1) {
      if (!stopping) note_failure(fmt::format("TLS handshake with {}:{} timed out", a.host, a.port));
      co_return false;
    }
    const auto [ec] = std::get<0>(result);
    if (ec) {
      const std::string detail = last_tls_error();
      note_failure(fmt::format("TLS handshake with {}:{} failed: {}{}", a.host, a.port, ec.message(),
                               detail.empty() ? "" : " (" + detail + ")"));
      co_return false;
    }
    co_return true;
  }

  awaitable<void> backoff() {
    const std::uint32_t half = backoff_ms / 2;
    const std::uint32_t wait = half + static_cast<std::uint32_t>(rng() % (backoff_ms - half + 1));
    backoff_ms =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{backoff_ms} * 2, cfg().reconnect_max_ms));
    backoff_timer.expires_after(milliseconds(wait));
    co_await backoff_timer.async_wait(use_tuple);
  }

  awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(asio::mutable_buffer b) {
    if (tls) co_return co_await tls->async_read_some(b, use_tuple);
    co_return co_await socket->async_read_some(b, use_tuple);
  }

  // Answers are cut out of one receive buffer: a read takes whatever the host has sent, under load
  // several answers at once, instead of two reads (length, then body) per answer.
  awaitable<void> read_loop() {
    std::vector<std::uint8_t> buffer(16384);
    std::size_t begin = 0;  // first byte not yet consumed
    std::size_t end = 0;    // one past the last byte read
    for (;;) {
      const frame f = inspect_frame(fr, std::span<const std::uint8_t>(buffer.data() + begin, end - begin));
      if (f.status == frame_status::keep_alive) {
        last_received = steady::now();
        begin += f.header_size;
        continue;
      }
      if (f.status == frame_status::bad_length) {
        link.counters_.malformed.add();
        spdlog::warn("link {}: bad frame from the host ({}); dropping the connection", cfg().name,
                     f.reason.empty() ? std::string_view("unusable length") : f.reason);
        co_return;
      }
      if (f.status == frame_status::complete) {
        auto msg = std::make_unique<iso8583::message>(*link.spec_);
        const auto body = std::span<const std::uint8_t>(buffer).subspan(begin + f.header_size, f.body_size);
        const iso8583::status st = iso8583::unpack(std::as_bytes(body), *msg);
        if (!st) {
          link.counters_.malformed.add();
          spdlog::warn("link {}: unreadable message from the host: {}; dropping the connection", cfg().name,
                       st.message());
          co_return;
        }
        begin += f.total();
        last_received = steady::now();
        on_message(std::move(msg));
        continue;
      }
      // Not a whole frame yet: its start moves to the front (less than a frame) and the buffer holds
      // all of it (its length is checked against max_frame already).
      if (begin > 0) {
        std::memmove(buffer.data(), buffer.data() + begin, end - begin);
        end -= begin;
        begin = 0;
      }
      if (buffer.size() < f.needed) buffer.resize(f.needed);
      auto [ec, n] = co_await read_some(asio::buffer(buffer.data() + end, buffer.size() - end));
      if (ec) {
        if (ec != asio::error::operation_aborted)
          spdlog::warn("link {}: connection closed: {}", cfg().name, ec.message());
        co_return;
      }
      end += n;
    }
  }

  awaitable<void> write_loop() {
    std::vector<std::vector<std::uint8_t>> batch;
    std::vector<asio::const_buffer> buffers;
    for (;;) {
      if (write_queue.empty()) {
        write_signal.expires_at(steady::time_point::max());
        co_await write_signal.async_wait(use_tuple);
        if (co_await cancelled()) co_return;
        continue;
      }
      // Everything queued since the last write goes out in one gathered write.
      batch.swap(write_queue);
      buffers.clear();
      for (const auto& b : batch) buffers.push_back(asio::buffer(b));
      boost::system::error_code ec;
      if (tls) {
        std::tie(ec, std::ignore) = co_await asio::async_write(*tls, buffers, use_tuple);
      } else {
        std::tie(ec, std::ignore) = co_await asio::async_write(*socket, buffers, use_tuple);
      }
      batch.clear();
      if (ec) {
        if (ec != asio::error::operation_aborted) spdlog::warn("link {}: write failed: {}", cfg().name, ec.message());
        co_return;
      }
    }
  }

  awaitable<void> manage() {
    if (cfg().sign_on) {
      set_state(link_state::signing_on);
      const auto reply = co_await network_request("001");
      if (!reply || response_code(*reply) != "00") {
        link.counters_.sign_on_failures.add();
        spdlog::warn("link {}: sign-on {}; dropping the connection", cfg().name,
                     reply ? "refused with RC " + response_code(*reply) : std::string("unanswered"));
        co_return;
      }
      link.counters_.sign_ons.add();
    }
    backoff_ms = cfg().reconnect_min_ms;
    if (!stopping) {
      set_state(link_state::ready);
      set_ready(true);
      spdlog::info("link {}: ready{}", cfg().name, cfg().sign_on ? " (signed on)" : "");
    }
    const milliseconds echo(cfg().echo_interval_ms);
    for (;;) {
      if (stopping) {
        set_ready(false);
        if (cfg().sign_on) {
          const auto reply = co_await network_request("002");
          spdlog::info("link {}: sign-off {}", cfg().name, reply ? "answered" : "unanswered");
        }
        co_return;
      }
      manage_timer.expires_at(echo.count() > 0 ? last_received + echo : steady::time_point::max());
      co_await manage_timer.async_wait(use_tuple);
      if (co_await cancelled()) co_return;
      if (stopping || echo.count() == 0 || steady::now() - last_received < echo) continue;
      link.counters_.echoes_sent.add();
      const auto reply = co_await network_request("301");
      if (!reply) {
        spdlog::warn("link {}: echo test unanswered; dropping the connection", cfg().name);
        co_return;
      }
    }
  }

  awaitable<void> connection() {
    last_received = steady::now();
    co_await (read_loop() || write_loop() || manage());
  }

  awaitable<void> run() {
    while (!stopping) {
      if (!co_await connect()) {
        if (stopping) break;
        link.counters_.connect_failures.add();
        set_state(link_state::down);
        co_await backoff();
        continue;
      }
      link.counters_.connects.add();
      co_await connection();
      set_ready(false);
      boost::system::error_code ignored;
      tls.reset();
      socket->shutdown(tcp::socket::shutdown_both, ignored);
      socket->close(ignored);
      socket.reset();
      write_queue.clear();
      fail_all_pending(stopping ? exchange_status::shutdown : exchange_status::link_lost);
      if (!stopping) {
        spdlog::warn("link {}: connection lost; reconnecting", cfg().name);
        set_state(link_state::down);
        co_await backoff();
      }
    }
    finish();
  }

  void finish() {
    fail_all_pending(exchange_status::shutdown);
    finished = true;
    deadline_timer.cancel();
    set_ready(false);
    set_state(link_state::stopped);
    spdlog::info("link {}: stopped", cfg().name);
  }

  awaitable<void> deadline_loop() {
    while (!finished) {
      deadline_timer.expires_at(deadlines.empty() ? steady::time_point::max() : deadlines.begin()->first);
      co_await deadline_timer.async_wait(use_tuple);
      expire_due();
    }
  }

  void request_stop() {
    if (stopping) return;
    stopping = true;
    set_ready(false);
    if (!started) {
      finish();
      return;
    }
    if (link.state() != link_state::stopped) set_state(link_state::stopping);
    manage_timer.cancel();
    backoff_timer.cancel();
    connect_timer.cancel();
  }

  host_link& link;
  asio::any_io_executor ex;
  framing fr;
  std::optional<tcp::socket> socket;
  std::shared_ptr<asio::ssl::context> tls_ctx;         // null: plain TCP
  std::optional<asio::ssl::stream<tcp::socket&>> tls;  // over *socket while connected with TLS
  asio::steady_timer write_signal;
  asio::steady_timer deadline_timer;
  asio::steady_timer manage_timer;
  asio::steady_timer backoff_timer;
  asio::steady_timer connect_timer;
  std::vector<std::vector<std::uint8_t>> write_queue;
  bool stopping = false;
  bool started = false;
  bool finished = false;
  std::unordered_map<std::string, pending_request> pending;
  std::multimap<steady::time_point, std::string> deadlines;
  std::unordered_map<std::string, network_wait> network_waits;
  std::unordered_map<std::string, steady::time_point> recent_timeouts;
  std::deque<std::pair<steady::time_point, std::string>> recent_order;
  stan_generator stans;
  steady::time_point last_received{};
  std::uint32_t backoff_ms;
  std::uint64_t failures_in_row = 0;
  std::mt19937 rng;
};

// ---------------------------------------------------------------------------------------------

host_link::host_link(config::host_link_config cfg, std::shared_ptr<const iso8583::spec> spec,
                     boost::asio::any_io_executor owner)
    : cfg_(std::move(cfg)), spec_(std::move(spec)) {
  impl_ = std::make_unique<impl>(*this, std::move(owner));
}

host_link::~host_link() = default;

void host_link::start() {
  asio::post(impl_->ex, [this] {
    impl* i = impl_.get();
    if (i->started || i->stopping) return;
    i->started = true;
    const std::string name = cfg_.name;
    asio::co_spawn(i->ex, i->run(), [name](const std::exception_ptr& e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        spdlog::critical("link {}: stopped by an exception: {}", name, x.what());
      }
    });
    asio::co_spawn(i->ex, i->deadline_loop(), asio::detached);
  });
}

void host_link::stop() {
  asio::post(impl_->ex, [this] { impl_->request_stop(); });
}

void host_link::submit(std::unique_ptr<iso8583::message> request, std::chrono::milliseconds timeout,
                       std::unique_ptr<exchange_waiter> waiter, bool ids_assigned) {
  asio::post(impl_->ex,
             [this, request = std::move(request), timeout, waiter = std::move(waiter), ids_assigned]() mutable {
               impl_->exchange(std::move(request), timeout, std::move(waiter), ids_assigned);
             });
}

void host_link::resume_stans_after(std::uint32_t last_stan) noexcept {
  impl_->stans.restart_at(static_cast<std::uint32_t>((std::uint64_t{last_stan} + stan_resume_gap) % 999999 + 1));
}

std::pair<std::string, std::string> host_link::assign_ids(iso8583::message& request) {
  const auto now = std::chrono::system_clock::now();
  if (spec_->field(7) != nullptr) (void)request.set(7U, transmission_time(now));
  std::string stan = stan_generator::format(impl_->stans.next());
  std::string rrn = make_rrn(now, stan);
  (void)request.set(11U, stan);
  (void)request.set(37U, rrn);
  return {std::move(stan), std::move(rrn)};
}

std::string host_link::status() const {
  return fmt::format("{} {} in_flight={} sent={} answered={} timeouts={} lost={} unmatched={} late={} connects={}",
                     cfg_.name, to_string(state()), in_flight(), counters_.sent.get(), counters_.answered.get(),
                     counters_.timeouts.get(), counters_.lost.get(), counters_.unmatched.get(), counters_.late.get(),
                     counters_.connects.get());
}

}  // namespace eft::switch_core
