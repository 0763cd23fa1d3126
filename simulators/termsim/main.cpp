// termsim: POS terminals and ATMs for testing a switch (ours or another) or a host directly.
//   termsim send --config t.yaml --type purchase --amount 12.34   one transaction, answer decoded and masked
//   termsim load --config t.yaml --connections 1000 --duration 20  load with a live progress line and a report
//   termsim load --config t.yaml --connections 18000 --idle        open and hold connections
#include <sys/resource.h>
#include <unistd.h>
#if defined(__GNUC__) && !defined(__clang__)
// g++ 12 with -fsanitize=address inlines the coroutine frame's sized operator delete of Asio's
// awaitable_frame_base and then reports it as mismatched with the frame's operator new (a false
// positive: both are Asio's own class-specific pair).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "eft/config/error.hpp"
#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/json.hpp"
#include "eft/iso8583/spec.hpp"
#include "eft/simulators/config.hpp"
#include "eft/simulators/histogram.hpp"
#include "eft/simulators/terminal.hpp"
#include "eft/simulators/wire.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace eft;
using namespace eft::simulators;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::atomic<bool> interrupted{false};

// unexpected_answer: an answer whose STAN is not the one outstanding (late, after its request timed
// out, or a duplicate): a fault of the system under test, not a mismatch of the request it met.
enum class error_kind : std::uint8_t {
  connect,
  timeout,
  closed,
  bad_frame,
  malformed,
  build,
  unexpected_answer,
  count
};
constexpr std::array<std::string_view, 7> error_names = {"connect",   "timeout", "closed",           "bad_frame",
                                                         "malformed", "build",   "unexpected_answer"};

// Open loop: a request that leaves more than this after its scheduled time is behind schedule
// (counted and reported: a busy client is late now and then, and catches up), and a run that sent
// fewer than this share of the requests due fell behind: its achieved rate is under the target.
constexpr auto behind_threshold = std::chrono::milliseconds(1);
constexpr double on_time_share = 0.95;

// Exit codes of `termsim load`.
constexpr int exit_clean = 0;
constexpr int exit_errors = 2;  // a transaction errored or an answer did not fit its request
constexpr int exit_behind = 3;  // open loop: the run could not keep its schedule

/// Everything a run counts; shared by the worker threads (atomics) and read by the progress line.
struct run_stats {
  latency_histogram latency;
  std::atomic<std::uint64_t> sent{0}, answered{0}, held{0}, held_peak{0}, connected{0};
  // Numeric codes of field 39: 0-99 the 2-digit response codes (ISO 8583:1987), 100-1099 the 3-digit
  // action codes (ISO 8583:1993) 000-999.
  std::array<std::atomic<std::uint64_t>, 1100> by_rc{};
  std::atomic<std::uint64_t> rc_other{0};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(error_kind::count)> errors{};
  std::array<std::atomic<std::uint64_t>, mismatch_count> mismatches{};
  std::array<std::atomic<std::uint64_t>, txn_type_count> by_type{};
  // Open loop: requests due before the end of the run, those sent behind schedule and by how much at
  // most, and the time from sending to the answer (without the wait for the schedule).
  std::atomic<std::uint64_t> scheduled{0}, behind{0}, behind_max_us{0}, service_us{0}, service_count{0};
  std::mutex samples_mutex;
  std::vector<std::string> samples;  // first few malformed or mismatching answers, masked

  void error(error_kind k) { errors[static_cast<std::size_t>(k)].fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t error_total() const {
    std::uint64_t n = 0;
    for (const auto& e : errors) n += e.load(std::memory_order_relaxed);
    return n;
  }
  std::uint64_t mismatch_total() const {
    std::uint64_t n = 0;
    for (const auto& e : mismatches) n += e.load(std::memory_order_relaxed);
    return n;
  }
  void note_behind(std::uint64_t micros) {
    behind.fetch_add(1, std::memory_order_relaxed);
    auto m = behind_max_us.load(std::memory_order_relaxed);
    while (micros > m && !behind_max_us.compare_exchange_weak(m, micros, std::memory_order_relaxed)) {
    }
  }
  /// Open loop: fewer than on_time_share of the requests due were sent.
  bool fell_behind() const {
    const auto due = scheduled.load();
    return due > 0 && static_cast<double>(sent.load()) < on_time_share * static_cast<double>(due);
  }
  void sample(std::string s) {
    const std::lock_guard lock(samples_mutex);
    if (samples.size() < 5) samples.push_back(std::move(s));
  }
};

struct run_options {
  std::size_t connections = 10;
  double duration_s = 10;
  double rate = 0;  // transactions a second for all connections; 0: closed loop
  double ramp_s = 0;
  unsigned threads = 0;
  unsigned source_addresses = 1;
  bool idle = false;
  bool allow_errors = false;            // errors and mismatches do not fail the run (fault injection)
  std::uint32_t ksn_counter_start = 0;  // DUKPT: first transaction counter; 0: after the configured KSN
  std::optional<txn_type> only_type;
};

struct run {
  const termsim_config* cfg = nullptr;
  run_options opt;
  std::shared_ptr<const iso8583::spec> spec;
  switch_core::framing framing;
  tcp::endpoint target;
  clock_type::time_point start, stop;
  run_stats stats;
};

bool loopback(const tcp::endpoint& e) {
  return e.address().is_v4() && (e.address().to_v4().to_uint() >> 24) == 127;
}

txn_type pick_type(const run& r, const terminal_state& term, std::mt19937_64& rng) {
  if (r.opt.only_type) return *r.opt.only_type;
  std::array<std::uint32_t, txn_type_count> w = r.cfg->mix;
  auto allowed = [&](txn_type t) {
    const bool atm_type = t == txn_type::atm_withdrawal || t == txn_type::balance_inquiry;
    return t == txn_type::reversal || atm_type == term.config().atm;
  };
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!allowed(static_cast<txn_type>(i))) w[i] = 0;
    total += w[i];
  }
  if (total == 0) {
    w = r.cfg->mix;
    for (const auto x : w) total += x;
  }
  if (total == 0) return term.config().atm ? txn_type::atm_withdrawal : txn_type::purchase;
  std::uint64_t pick = rng() % total;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (pick < w[i]) return static_cast<txn_type>(i);
    pick -= w[i];
  }
  return txn_type::purchase;
}

/// One terminal connection: connect, then transactions until the end of the run (or hold it idle).
asio::awaitable<void> terminal_loop(run* r, std::size_t index) {
  auto ex = co_await asio::this_coro::executor;
  const auto& cfg = *r->cfg;
  const std::size_t templates = cfg.terminals.size();
  terminal_state term(cfg.terminals[index % templates], index, templates, r->opt.ksn_counter_start);
  std::mt19937_64 rng(0x5eed0000ULL + index);
  iso8583::message req(*r->spec), ans(*r->spec);
  std::vector<std::uint8_t> buf(512);
  txn_context ctx;
  asio::steady_timer timer(ex);
  std::uint64_t request_gen = 0;
  std::uint64_t timed_out_gen = 0;

  // Ramp-up: connection i starts at ramp * i / N.
  if (r->opt.ramp_s > 0 && r->opt.connections > 1) {
    timer.expires_at(r->start +
                     std::chrono::microseconds(static_cast<std::int64_t>(
                         r->opt.ramp_s * 1e6 * static_cast<double>(index) / static_cast<double>(r->opt.connections))));
    co_await timer.async_wait(use_tuple);
  }
  const double interval_s = r->opt.rate > 0 ? static_cast<double>(r->opt.connections) / r->opt.rate : 0;
  // Open loop: the schedule starts once the first connection is up (connecting is not late), at a
  // random point of the first interval so that connections do not send in step.
  auto next_send = clock_type::now();
  bool schedule_started = false;

  while (clock_type::now() < r->stop && !interrupted) {
    tcp::socket sock(ex);
    boost::system::error_code ec;
    sock.open(tcp::v4(), ec);
    if (r->opt.source_addresses > 1 && loopback(r->target)) {
      // Spread source addresses over 127.0.0.x so one client is not limited by one address's ports.
      const auto a =
          asio::ip::address_v4((127U << 24) + 1 + static_cast<std::uint32_t>(index % r->opt.source_addresses));
      sock.bind(tcp::endpoint(a, 0), ec);
    }
    auto [cec] = co_await sock.async_connect(r->target, use_tuple);
    if (cec) {
      r->stats.error(error_kind::connect);
      timer.expires_after(std::chrono::milliseconds(500));
      co_await timer.async_wait(use_tuple);
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    r->stats.connected.fetch_add(1, std::memory_order_relaxed);
    if (interval_s > 0 && !schedule_started) {
      schedule_started = true;
      next_send = clock_type::now() + std::chrono::microseconds(static_cast<std::int64_t>(
                                          interval_s * 1e6 * static_cast<double>(rng() % 1000) / 1000.0));
    }

    if (r->opt.idle) {
      const auto now_held = r->stats.held.fetch_add(1, std::memory_order_relaxed) + 1;
      auto peak = r->stats.held_peak.load(std::memory_order_relaxed);
      while (now_held > peak && !r->stats.held_peak.compare_exchange_weak(peak, now_held, std::memory_order_relaxed)) {
      }
      // Held until the run ends or the peer closes; a timer bounds the wait for the end of the run.
      timer.expires_at(r->stop);
      timer.async_wait([&sock](const boost::system::error_code& e) {
        if (!e) {
          boost::system::error_code ignore;
          sock.cancel(ignore);
        }
      });
      std::array<std::uint8_t, 1> one{};
      auto [rec, n] = co_await sock.async_read_some(asio::buffer(one), use_tuple);
      (void)n;
      timer.cancel();
      r->stats.held.fetch_sub(1, std::memory_order_relaxed);
      if (rec && rec != asio::error::operation_aborted) r->stats.error(error_kind::closed);
      if (!rec) r->stats.sample("unexpected bytes on an idle connection");
      if (clock_type::now() >= r->stop || interrupted) break;
      continue;
    }

    bool broken = false;
    while (!broken && clock_type::now() < r->stop && !interrupted) {
      if (interval_s > 0) {
        if (next_send > clock_type::now()) {
          timer.expires_at(next_send);
          co_await timer.async_wait(use_tuple);
          if (clock_type::now() >= r->stop) break;
        }
      } else {
        next_send = clock_type::now();
      }
      const auto intended = next_send;
      if (interval_s > 0) {
        next_send += std::chrono::microseconds(static_cast<std::int64_t>(interval_s * 1e6));
        r->stats.scheduled.fetch_add(1, std::memory_order_relaxed);
      }

      txn_type type = pick_type(*r, term, rng);
      if (type == txn_type::reversal && !term.reversible)
        type = term.config().atm ? txn_type::atm_withdrawal : txn_type::purchase;
      const card_config& card = cfg.cards[rng() % cfg.cards.size()];
      const std::uint64_t amount =
          cfg.amount_min + (cfg.amount_max > cfg.amount_min ? rng() % (cfg.amount_max - cfg.amount_min + 1) : 0);
      std::optional<txn_context> original;
      if (type == txn_type::reversal) original.swap(term.reversible);
      const std::string err =
          build_request(cfg, term, card, type, amount, original ? &*original : nullptr, rng, req, ctx);
      std::string perr;
      const auto packed = err.empty() ? pack_request(term.config(), req, &perr) : std::nullopt;
      if (!err.empty() || !packed) {
        r->stats.error(error_kind::build);
        r->stats.sample("cannot build " + std::string(to_string(type)) + ": " + (err.empty() ? perr : err));
        timer.expires_after(std::chrono::milliseconds(100));
        co_await timer.async_wait(use_tuple);
        continue;
      }
      const auto frame = frame_message(r->framing, *packed, r->cfg->target.tpdu);
      const auto sent_at = clock_type::now();
      if (interval_s > 0 && sent_at - intended > behind_threshold) {
        r->stats.note_behind(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(sent_at - intended).count()));
      }
      r->stats.sent.fetch_add(1, std::memory_order_relaxed);
      r->stats.by_type[static_cast<std::size_t>(type)].fetch_add(1, std::memory_order_relaxed);
      auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(frame), use_tuple);
      (void)wn;
      if (wec) {
        r->stats.error(error_kind::closed);
        break;
      }
      // The timeout handler may already be queued when the answer arrives: it acts only while its
      // request is still the one outstanding (the generation), never on a later one.
      const std::uint64_t gen = ++request_gen;
      timed_out_gen = 0;
      timer.expires_after(std::chrono::milliseconds(cfg.timeout_ms));
      timer.async_wait([&sock, &request_gen, &timed_out_gen, gen](const boost::system::error_code& e) {
        if (!e && request_gen == gen) {
          timed_out_gen = gen;
          boost::system::error_code ignore;
          sock.cancel(ignore);
        }
      });
      // Answers to earlier requests that came late are read and dropped until ours arrives.
      for (;;) {
        const read_result rr = co_await read_frame(&sock, r->framing, &buf);
        if (rr.ec || rr.bad_frame) {
          r->stats.error(timed_out_gen == gen ? error_kind::timeout
                         : rr.bad_frame       ? error_kind::bad_frame
                                              : error_kind::closed);
          broken = true;
          break;
        }
        const auto st = iso8583::unpack(std::as_bytes(std::span(rr.body.data(), rr.body.size())), ans);
        if (!st) {
          r->stats.error(error_kind::malformed);
          r->stats.sample("malformed answer: " + st.message());
          continue;
        }
        if (ans.get(11).value_or("") != ctx.stan) {
          // not ours (a late or duplicate answer): counted, not checked against this request
          r->stats.sample("answer to another request: " + iso8583::to_json(ans).dump());
          r->stats.error(error_kind::unexpected_answer);
          continue;
        }
        const auto answered_at = clock_type::now();
        // From the scheduled time, not the sending time: a system that makes requests queue cannot
        // hide the queueing (coordinated omission).
        const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(answered_at - intended);
        r->stats.service_us.fetch_add(
            static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(answered_at - sent_at).count()),
            std::memory_order_relaxed);
        r->stats.service_count.fetch_add(1, std::memory_order_relaxed);
        const auto check = check_answer(term, ctx, ans, std::as_bytes(std::span(rr.body.data(), rr.body.size())));
        r->stats.latency.record(static_cast<std::uint64_t>(latency.count()));
        r->stats.answered.fetch_add(1, std::memory_order_relaxed);
        if ((check.rc.size() == 2 || check.rc.size() == 3) &&
            std::all_of(check.rc.begin(), check.rc.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          std::size_t code = 0;
          for (const char c : check.rc) code = code * 10 + static_cast<std::size_t>(c - '0');
          r->stats.by_rc[check.rc.size() == 3 ? 100 + code : code].fetch_add(1, std::memory_order_relaxed);
        } else {
          r->stats.rc_other.fetch_add(1, std::memory_order_relaxed);
        }
        for (std::size_t m = 0; m < mismatch_count; ++m) {
          if ((check.mismatches >> m) & 1U) r->stats.mismatches[m].fetch_add(1, std::memory_order_relaxed);
        }
        if (!check.ok()) r->stats.sample("answer that does not fit its request: " + iso8583::to_json(ans).dump());
        const bool financial = type == txn_type::purchase || type == txn_type::contactless ||
                               type == txn_type::magstripe_fallback || type == txn_type::atm_withdrawal;
        if (financial && approves(check.rc)) term.reversible = ctx;
        break;
      }
      ++request_gen;
      timer.cancel();
    }
    boost::system::error_code ignore;
    sock.close(ignore);
    if (broken && clock_type::now() < r->stop && !interrupted) {
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(use_tuple);
    }
  }
  // Open loop: the slots that came due while this connection was still waiting (for an answer, a
  // connection) were never sent; they count as due.
  if (interval_s > 0 && !r->opt.idle && schedule_started) {
    const auto end = std::min(clock_type::now(), r->stop);
    if (next_send < end) {
      const auto missed =
          static_cast<std::uint64_t>(std::chrono::duration<double>(end - next_send).count() / interval_s) + 1;
      r->stats.scheduled.fetch_add(missed, std::memory_order_relaxed);
    }
  }
}

std::string ms(std::uint64_t micros) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", static_cast<double>(micros) / 1000.0);
  return b;
}

nlohmann::ordered_json report_json(const run& r, double elapsed) {
  const auto& s = r.stats;
  nlohmann::ordered_json j;
  j["target"] = r.target.address().to_string() + ":" + std::to_string(r.target.port());
  j["mode"] = r.opt.idle ? "idle" : r.opt.rate > 0 ? "open_loop" : "closed_loop";
  j["connections"] = r.opt.connections;
  j["target_rate"] = r.opt.rate;
  j["duration_s"] = elapsed;
  j["sent"] = s.sent.load();
  j["answered"] = s.answered.load();
  j["tps"] = elapsed > 0 ? static_cast<double>(s.answered.load()) / elapsed : 0.0;
  if (r.opt.rate > 0 && !r.opt.idle) {
    // Each connection has one request outstanding, like a terminal: too few connections for the
    // latency cap the rate, and the schedule slips. Said here rather than hidden.
    j["scheduled"] = s.scheduled.load();
    j["behind_schedule"] = s.behind.load();
    j["behind_schedule_max_ms"] = static_cast<double>(s.behind_max_us.load()) / 1000.0;
    j["behind_threshold_ms"] = std::chrono::duration<double, std::milli>(behind_threshold).count();
    j["achieved_rate"] = elapsed > 0 ? static_cast<double>(s.sent.load()) / elapsed : 0.0;
    j["fell_behind"] = s.fell_behind();
    const auto n = s.service_count.load();
    j["service_latency_mean_ms"] =
        n > 0 ? static_cast<double>(s.service_us.load()) / static_cast<double>(n) / 1000.0 : 0.0;
  }
  j["held"] = s.held_peak.load();
  j["connects"] = s.connected.load();
  nlohmann::ordered_json lat;
  lat["p50"] = static_cast<double>(s.latency.percentile(50)) / 1000.0;
  lat["p90"] = static_cast<double>(s.latency.percentile(90)) / 1000.0;
  lat["p99"] = static_cast<double>(s.latency.percentile(99)) / 1000.0;
  lat["p99.9"] = static_cast<double>(s.latency.percentile(99.9)) / 1000.0;
  lat["max"] = static_cast<double>(s.latency.max()) / 1000.0;
  lat["mean"] = s.latency.mean() / 1000.0;
  j["latency_ms"] = lat;
  nlohmann::ordered_json rc = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < s.by_rc.size(); ++i) {
    if (const auto n = s.by_rc[i].load(); n > 0) {
      std::string code = std::to_string(i < 100 ? i : i - 100);
      code.insert(0, (i < 100 ? 2 : 3) - code.size(), '0');
      rc[code] = n;
    }
  }
  if (s.rc_other > 0) rc["other"] = s.rc_other.load();
  j["answers_by_rc"] = rc;
  nlohmann::ordered_json types = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < txn_type_count; ++i) {
    if (const auto n = s.by_type[i].load(); n > 0) types[std::string(to_string(static_cast<txn_type>(i)))] = n;
  }
  j["sent_by_type"] = types;
  nlohmann::ordered_json errors = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < error_names.size(); ++i) errors[std::string(error_names[i])] = s.errors[i].load();
  j["errors"] = errors;
  nlohmann::ordered_json mm = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < mismatch_count; ++i)
    mm[std::string(to_string(static_cast<mismatch>(i)))] = s.mismatches[i].load();
  j["mismatches"] = mm;
  j["samples"] = s.samples;
  // termsim's own CPU (all threads, from the start of the process): a load generator short of CPU
  // caps what it measures, and a benchmark divides this by the answers to compare paths.
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    const auto secs = [](const timeval& tv) {
      return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    nlohmann::ordered_json cpu;
    cpu["user_s"] = secs(ru.ru_utime);
    cpu["system_s"] = secs(ru.ru_stime);
    const double answered = static_cast<double>(s.answered.load());
    cpu["us_per_answer"] = answered > 0 ? (secs(ru.ru_utime) + secs(ru.ru_stime)) * 1e6 / answered : 0.0;
    j["cpu"] = cpu;
  }
  return j;
}

void print_report(const nlohmann::ordered_json& j) {
  std::cout << "termsim report: " << j["mode"].get<std::string>() << ", " << j["connections"] << " connections to "
            << j["target"].get<std::string>() << ", " << j["duration_s"].get<double>() << " s\n";
  if (j["mode"] == "idle") {
    std::cout << "  held connections: " << j["held"] << " at most at once (connects " << j["connects"] << ")\n";
  } else {
    char tps[32];
    std::snprintf(tps, sizeof tps, "%.1f", j["tps"].get<double>());
    std::cout << "  transactions: " << j["sent"] << " sent, " << j["answered"] << " answered, " << tps << " tps\n";
    if (j.contains("scheduled")) {
      char line[160];
      std::snprintf(
          line, sizeof line, "  schedule: %llu due at %.1f tps, %llu sent more than %.0f ms late (at most %.1f ms)\n",
          static_cast<unsigned long long>(j["scheduled"].get<std::uint64_t>()), j["target_rate"].get<double>(),
          static_cast<unsigned long long>(j["behind_schedule"].get<std::uint64_t>()),
          j["behind_threshold_ms"].get<double>(), j["behind_schedule_max_ms"].get<double>());
      std::cout << line;
    }
    const auto& l = j["latency_ms"];
    std::cout << "  latency ms: p50 " << l["p50"] << "  p90 " << l["p90"] << "  p99 " << l["p99"] << "  p99.9 "
              << l["p99.9"] << "  max " << l["max"] << "\n";
    std::cout << "  sent by type:";
    for (const auto& [k, v] : j["sent_by_type"].items()) std::cout << " " << k << " " << v;
    std::cout << "\n  answers by RC:";
    for (const auto& [k, v] : j["answers_by_rc"].items()) std::cout << " " << k << " " << v;
    std::cout << "\n";
    if (j.contains("cpu")) {
      char line[160];
      std::snprintf(line, sizeof line, "  termsim CPU: %.2f s user, %.2f s system, %.1f us per answer\n",
                    j["cpu"]["user_s"].get<double>(), j["cpu"]["system_s"].get<double>(),
                    j["cpu"]["us_per_answer"].get<double>());
      std::cout << line;
    }
  }
  std::cout << "  errors:";
  std::uint64_t n = 0;
  for (const auto& [k, v] : j["errors"].items()) {
    if (v.get<std::uint64_t>() > 0) std::cout << " " << k << " " << v;
    n += v.get<std::uint64_t>();
  }
  std::cout << (n == 0 ? " none" : "") << "\n  mismatches:";
  n = 0;
  for (const auto& [k, v] : j["mismatches"].items()) {
    if (v.get<std::uint64_t>() > 0) std::cout << " " << k << " " << v;
    n += v.get<std::uint64_t>();
  }
  std::cout << (n == 0 ? " none" : "") << "\n";
  for (const auto& s : j["samples"]) std::cout << "  sample: " << s.get<std::string>() << "\n";
  if (j.value("fell_behind", false)) {
    // One request outstanding per connection: at most connections / latency a second.
    const double rate = j["target_rate"].get<double>();
    const double service_s = j["service_latency_mean_ms"].get<double>() / 1000.0;
    const auto conns = j["connections"].get<std::uint64_t>();
    const double capacity = service_s > 0 ? static_cast<double>(conns) / service_s : 0.0;
    const auto due = j["scheduled"].get<std::uint64_t>();
    const auto sent = j["sent"].get<std::uint64_t>();
    char cause[160];
    if (capacity > 0 && capacity < rate) {
      std::snprintf(cause, sizeof cause, ": too few connections for the latency (use about %.0f or more)",
                    std::ceil(rate * service_s * 1.5));
    } else {
      std::snprintf(cause, sizeof cause, ", enough on average: the client is short of CPU or the latency varies");
    }
    char line[640];
    std::snprintf(line, sizeof line,
                  "  WARNING: the run fell behind its schedule: achieved %.1f tps of the %.1f asked (%llu of %llu "
                  "requests due sent, %llu of them late). Each connection has one request outstanding, so %llu "
                  "connections at %.1f ms per transaction carry at most %.1f tps%s.\n",
                  j["achieved_rate"].get<double>(), rate, static_cast<unsigned long long>(sent),
                  static_cast<unsigned long long>(due),
                  static_cast<unsigned long long>(j["behind_schedule"].get<std::uint64_t>()),
                  static_cast<unsigned long long>(conns), service_s * 1000.0, capacity, cause);
    std::cout << line;
  }
}

void raise_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

tcp::endpoint resolve(const endpoint_config& e) {
  return tcp::endpoint(asio::ip::make_address(e.address), e.port);
}

int run_load(const termsim_config& cfg, run_options opt, const std::string& json_path, bool progress) {
  if (const auto why = ksn_collision(cfg, opt.idle ? 0 : opt.connections); !why.empty()) {
    std::cerr << "termsim: " << cfg.file.string() << ": " << why << "\n";
    return 1;
  }
  if (const auto why = terminal_id_collision(cfg, opt.idle ? 0 : opt.connections); !why.empty()) {
    std::cerr << "termsim: " << cfg.file.string() << ": " << why << "\n";
    return 1;
  }
  raise_file_limit();
  auto r = std::make_unique<run>();
  r->cfg = &cfg;
  r->opt = opt;
  r->spec = iso8583::load_spec(cfg.target.spec);
  r->framing = switch_core::framing{cfg.target.framing, cfg.target.max_frame};
  r->target = resolve(cfg.target);
  const unsigned threads =
      opt.threads > 0 ? opt.threads : std::max(1U, std::min(4U, std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<asio::io_context>> ctxs;
  for (unsigned i = 0; i < threads; ++i) ctxs.push_back(std::make_unique<asio::io_context>(1));
  r->start = clock_type::now();
  r->stop = r->start + std::chrono::microseconds(static_cast<std::int64_t>(opt.duration_s * 1e6));
  for (std::size_t i = 0; i < opt.connections; ++i) {
    asio::co_spawn(*ctxs[i % threads], terminal_loop(r.get(), i), asio::detached);
  }
  std::vector<std::thread> workers;
  for (auto& c : ctxs) workers.emplace_back([&c] { c->run(); });

  std::signal(SIGINT, [](int) { interrupted = true; });
  std::signal(SIGTERM, [](int) { interrupted = true; });
  std::uint64_t last_answered = 0;
  auto last = clock_type::now();
  const bool tty = ::isatty(2) != 0;
  while (clock_type::now() < r->stop && !interrupted) {
    std::this_thread::sleep_for(std::chrono::milliseconds(opt.duration_s < 3 ? 100 : 1000));
    const auto now = clock_type::now();
    if (!progress) continue;
    const double dt = std::chrono::duration<double>(now - last).count();
    const auto answered = r->stats.answered.load();
    char line[256];
    if (opt.idle) {
      std::snprintf(line, sizeof line, "[%5.1fs] held %llu / %zu connections  errors %llu",
                    std::chrono::duration<double>(now - r->start).count(),
                    static_cast<unsigned long long>(r->stats.held.load()), opt.connections,
                    static_cast<unsigned long long>(r->stats.error_total()));
    } else {
      std::snprintf(line, sizeof line,
                    "[%5.1fs] %8.1f tps  p50 %s ms  p99 %s ms  answered %llu  errors %llu  mismatches %llu",
                    std::chrono::duration<double>(now - r->start).count(),
                    dt > 0 ? static_cast<double>(answered - last_answered) / dt : 0.0,
                    ms(r->stats.latency.percentile(50)).c_str(), ms(r->stats.latency.percentile(99)).c_str(),
                    static_cast<unsigned long long>(answered), static_cast<unsigned long long>(r->stats.error_total()),
                    static_cast<unsigned long long>(r->stats.mismatch_total()));
    }
    std::cerr << (tty ? "\r" : "") << line << (tty ? "\033[K" : "\n") << std::flush;
    last_answered = answered;
    last = now;
  }
  if (progress && tty) std::cerr << "\n";
  const double elapsed = std::chrono::duration<double>(std::min(clock_type::now(), r->stop) - r->start).count();
  // Idle holders are released by their timers at the stop time; transactions in flight finish or
  // time out. Bound the wait, then stop the loops.
  auto j = report_json(*r, elapsed);
  const auto deadline = clock_type::now() + std::chrono::milliseconds(cfg.timeout_ms + 1000);
  bool all_done = false;
  while (clock_type::now() < deadline && !all_done) {
    all_done = true;
    for (auto& c : ctxs) all_done = all_done && c->stopped();
    if (!all_done) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& c : ctxs) c->stop();
  for (auto& w : workers) w.join();
  j = report_json(*r, elapsed);
  print_report(j);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << j.dump(2) << "\n";
  }
  if (!opt.allow_errors && (r->stats.error_total() > 0 || r->stats.mismatch_total() > 0)) return exit_errors;
  if (r->stats.fell_behind()) return exit_behind;
  return exit_clean;
}

int run_send(const termsim_config& cfg, txn_type type, std::optional<std::uint64_t> amount, std::size_t card_index,
             std::size_t terminal_index, bool json, const std::string& original_ids, std::uint32_t ksn_counter_start) {
  if (card_index >= cfg.cards.size()) {
    std::cerr << "termsim: --card " << card_index << " is past the " << cfg.cards.size() << " cards of the config\n";
    return 1;
  }
  const auto spec = iso8583::load_spec(cfg.target.spec);
  const switch_core::framing framing{cfg.target.framing, cfg.target.max_frame};
  const std::size_t templates = cfg.terminals.size();
  terminal_state term(cfg.terminals[terminal_index % templates], terminal_index, templates, ksn_counter_start);
  std::mt19937_64 rng(std::random_device{}());
  iso8583::message req(*spec), ans(*spec);
  txn_context ctx;
  txn_context original;
  const txn_context* orig = nullptr;
  const card_config& card = cfg.cards[card_index];
  const std::uint64_t amt = amount.value_or(cfg.amount_min);

  asio::io_context io;
  tcp::socket sock(io);
  boost::system::error_code ec;
  sock.connect(resolve(cfg.target), ec);
  if (ec) {
    std::cerr << "termsim: cannot connect to " << cfg.target.address << ":" << cfg.target.port << ": " << ec.message()
              << "\n";
    return 1;
  }
  std::vector<txn_type> steps;
  if (!original_ids.empty()) {
    // An original sent earlier (another run, before a restart of the switch): MTI n4, STAN n6, then
    // field 7 n10 (ISO 8583:1987, whose reversals name it in field 90) or field 12 n12 (ISO
    // 8583:1993, whose reversals name it in field 56).
    original.mti = original_ids.substr(0, 4);
    original.stan = original_ids.substr(4, 6);
    if (original_ids.size() == 22) {
      original.local_time = original_ids.substr(10, 12);
    } else {
      original.transmission_time = original_ids.substr(10, 10);
    }
    original.processing_code = term.config().atm ? "010000" : "000000";
    original.amount = amount_field(amt);
    original.card = &card;
    original.rrn = terminal_rrn(term.id(), original.stan);
    orig = &original;
  } else if (type == txn_type::reversal) {
    steps.push_back(term.config().atm ? txn_type::atm_withdrawal : txn_type::purchase);
  }
  steps.push_back(type);
  int status = 0;
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto t : steps) {
    const std::string err = build_request(cfg, term, card, t, amt, orig, rng, req, ctx);
    std::string perr;
    const auto packed = err.empty() ? pack_request(term.config(), req, &perr) : std::nullopt;
    if (!packed) {
      std::cerr << "termsim: cannot build the " << to_string(t) << ": " << (err.empty() ? perr : err) << "\n";
      return 1;
    }
    if (!json) std::cout << "== request (" << to_string(t) << ", masked)\n" << iso8583::dump(req) << "\n";
    const auto frame = frame_message(framing, *packed, cfg.target.tpdu);
    const auto t0 = clock_type::now();
    asio::write(sock, asio::buffer(frame), ec);
    std::vector<std::uint8_t> buf(512);
    std::optional<read_result> got;
    asio::co_spawn(io, read_frame(&sock, framing, &buf),
                   [&got](const std::exception_ptr&, read_result res) { got = res; });
    io.restart();
    io.run_for(std::chrono::milliseconds(cfg.timeout_ms));
    if (!got) {
      std::cerr << "termsim: no answer within " << cfg.timeout_ms << " ms\n";
      return 1;
    }
    const read_result rr = *got;
    const double latency_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
    if (rr.ec || rr.bad_frame) {
      std::cerr << "termsim: connection " << (rr.bad_frame ? std::string(rr.reason) : rr.ec.message()) << "\n";
      return 1;
    }
    const auto body = std::as_bytes(std::span(rr.body.data(), rr.body.size()));
    const auto st = iso8583::unpack(body, ans);
    if (!st) {
      std::cerr << "termsim: malformed answer: " << st.message() << "\n";
      return 1;
    }
    const auto check = check_answer(term, ctx, ans, body);
    std::string problems;
    for (std::size_t m = 0; m < mismatch_count; ++m) {
      if ((check.mismatches >> m) & 1U)
        problems += (problems.empty() ? "" : ", ") + std::string(to_string(static_cast<mismatch>(m)));
    }
    const std::string checked = std::string("MTI, STAN, RRN, terminal, amount") +
                                (ctx.field55.empty() ? "" : ", ARPC") + (term.config().mac_key.empty() ? "" : ", MAC");
    if (json) {
      out.push_back({{"type", std::string(to_string(t))},
                     {"request", iso8583::to_json(req)},
                     {"answer", iso8583::to_json(ans)},
                     {"rc", check.rc},
                     {"latency_ms", latency_ms},
                     {"mismatches", problems}});
    } else {
      std::cout << "== answer (masked)\n" << iso8583::dump(ans) << "\n";
      char lat[32];
      std::snprintf(lat, sizeof lat, "%.2f", latency_ms);
      std::cout << "== " << to_string(t) << " " << format_amount(amt) << ": RC " << check.rc << " in " << lat
                << " ms; checks " << (problems.empty() ? "passed (" + checked + ")" : "FAILED: " + problems) << "\n";
    }
    if (!check.ok()) status = 2;
    if (approves(check.rc)) {
      original = ctx;
      orig = &original;
    }
  }
  if (json) std::cout << out.dump(2) << "\n";
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"termsim: POS terminal and ATM simulator for ISO 8583 switches and hosts"};
  app.require_subcommand(1);
  std::string config_path;
  auto* send = app.add_subcommand("send", "one transaction; prints the request and the answer, decoded and masked");
  auto* load = app.add_subcommand("load", "many terminals for a while; live progress line and a report");
  auto* check = app.add_subcommand("check", "validate the config and exit");
  for (auto* c : {send, load, check}) c->add_option("--config,-c", config_path, "termsim YAML config")->required();

  std::string type_name = "purchase", amount_text;
  std::size_t card_index = 0, terminal_index = 0;
  bool json = false;
  send->add_option("--type", type_name,
                   "purchase, contactless, magstripe_fallback, atm_withdrawal, balance_inquiry, refund, reversal");
  send->add_option("--amount", amount_text, "amount in major units, e.g. 12.34");
  send->add_option("--card", card_index, "index of the card in the config");
  send->add_option("--terminal", terminal_index, "index of the terminal");
  send->add_flag("--json", json, "print the masked request and answer as JSON");
  std::string original_ids;
  send->add_option("--original", original_ids,
                   "with --type reversal: reverse this earlier transaction of the terminal instead of making one "
                   "first: its MTI, STAN and transmission time (field 7) as 20 digits, e.g. 02000001231126071500 "
                   "(with version: 1993, MTI, STAN and local date and time (field 12) as 22 digits); "
                   "--amount, --card and --terminal as it had them");

  run_options opt;
  std::string json_path, only_type;
  bool no_progress = false;
  load->add_option("--connections,-n", opt.connections, "terminal connections");
  load->add_option("--duration,-d", opt.duration_s, "seconds");
  load->add_option("--rate", opt.rate, "open loop: transactions a second for all connections (0: closed loop)");
  load->add_option("--ramp-up", opt.ramp_s, "seconds over which connections start");
  load->add_option("--threads", opt.threads, "I/O threads (0: up to 4)");
  load->add_option("--source-addresses", opt.source_addresses, "spread connections over 127.0.0.1..127.0.0.N");
  load->add_flag("--idle", opt.idle, "open and hold the connections, send nothing");
  load->add_option("--type", only_type, "only this transaction type (default: the config's mix)");
  load->add_option("--json", json_path, "write the report as JSON here");
  load->add_flag("--no-progress", no_progress, "no live progress line");
  load->add_flag("--allow-errors", opt.allow_errors,
                 "errors and mismatches do not fail the run (exit 0 unless it fell behind): for runs with injected "
                 "faults, whose report is checked by other means");
  std::uint64_t ksn_counter_start = 0;
  for (auto* c : {send, load}) {
    c->add_option("--ksn-counter-start", ksn_counter_start,
                  "DUKPT: the transaction counter of each terminal's first PIN transaction (default: the one after the "
                  "configured KSN's); a host that remembers KSNs takes a counter used before as a replay, so start "
                  "past the last run's");
  }
  load->footer(
      "Exit codes: 0 a clean run; 1 the run could not start (config, options, DUKPT devices that would "
      "collide); 2 a transaction errored (connect, timeout, closed, bad_frame, malformed, build, "
      "unexpected_answer) or an answer did not fit its request (mismatches), unless --allow-errors; 3 open "
      "loop (--rate): the run fell behind its schedule (fewer than 95 % of the requests due were sent).");
  send->footer(
      "Exit codes: 0 answered and every check passed; 1 no answer, or the request could not be made; 2 an "
      "answer that does not fit its request.");
  CLI11_PARSE(app, argc, argv);

  termsim_config cfg;
  try {
    cfg = load_termsim_config(config_path);
  } catch (const config::config_error& e) {
    std::cerr << "termsim: " << e.what() << "\n";
    return 1;
  }
  if (check->parsed()) {
    std::cout << "termsim: " << config_path << " is valid\n";
    return 0;
  }
  if (ksn_counter_start > 0) {
    if (const auto why = ksn_counter_start_problem(cfg, ksn_counter_start); !why.empty()) {
      std::cerr << "termsim: --ksn-counter-start: " << why << "\n";
      return 1;
    }
    opt.ksn_counter_start = static_cast<std::uint32_t>(ksn_counter_start);
  }
  if (send->parsed()) {
    const auto t = parse_txn_type(type_name);
    if (!t) {
      std::cerr << "termsim: --type '" << type_name << "' is unknown\n";
      return 1;
    }
    std::optional<std::uint64_t> amount;
    if (!amount_text.empty()) {
      amount = parse_amount(amount_text);
      if (!amount) {
        std::cerr << "termsim: --amount '" << amount_text << "' is not an amount (e.g. 12.34)\n";
        return 1;
      }
    }
    // The original as the edition's reversals name it: ISO 8583:1987 by MTI, STAN and field 7 (20
    // digits), ISO 8583:1993 by MTI, STAN and field 12 (22 digits).
    const bool v93 = cfg.target.edition == iso_edition::v1993;
    const bool ids_ok =
        original_ids.size() == (v93 ? 22U : 20U) && original_ids.substr(0, 1) == (v93 ? "1" : "0") &&
        std::all_of(original_ids.begin(), original_ids.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!original_ids.empty() && (*t != txn_type::reversal || !ids_ok)) {
      std::cerr << "termsim: --original '" << original_ids << "' needs --type reversal and "
                << (v93 ? "22 digits (the target is ISO 8583:1993): the original's MTI, STAN and field 12, "
                          "e.g. 1200000123261126071500"
                        : "20 digits: the original's MTI, STAN and field 7, e.g. 02000001231126071500")
                << "\n";
      return 1;
    }
    return run_send(cfg, *t, amount, card_index, terminal_index, json, original_ids, opt.ksn_counter_start);
  }
  if (!only_type.empty()) {
    opt.only_type = parse_txn_type(only_type);
    if (!opt.only_type) {
      std::cerr << "termsim: --type '" << only_type << "' is unknown\n";
      return 1;
    }
  }
  if (opt.connections == 0 || opt.duration_s <= 0) {
    std::cerr << "termsim: --connections and --duration must be positive\n";
    return 1;
  }
  return run_load(cfg, opt, json_path, !no_progress);
}
