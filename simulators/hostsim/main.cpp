// hostsim: an issuer or acquirer host for testing a switch (or any system that sends ISO 8583 to a
// host). Listens on the configured links, answers network management, authorisations, reversals and
// advices as simulators/src/issuer.cpp decides, injects the configured faults, and writes a JSON record
// of what it received and answered at exit (and on SIGUSR1).
#if defined(__GNUC__) && !defined(__clang__)
// The same g++ 12 false positive as in termsim/main.cpp: with -fsanitize=address the inlined frame
// delete of an Asio coroutine is taken for a mismatch with Asio's own frame operator new.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <csignal>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "eft/config/error.hpp"
#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/json.hpp"
#include "eft/iso8583/spec.hpp"
#include "eft/simulators/config.hpp"
#include "eft/simulators/issuer.hpp"
#include "eft/simulators/wire.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace eft;
using namespace eft::simulators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct link_setup {
  endpoint_config cfg;
  std::shared_ptr<const iso8583::spec> spec;
  switch_core::framing framing;
};

// A frame to write, and what the record counts once it is written.
struct outgoing {
  std::vector<std::uint8_t> frame;
  std::string answer_key;    // "MTI/RC" of an answer; empty: not an answer (garbage)
  bool copy = false;         // the second copy of a duplicate fault
  bool close_after = false;  // the link closes once this is written (a frame that breaks the framing)
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket s, const link_setup* link, issuer* iss)
      : sock_(std::move(s)), link_(link), issuer_(iss), wake_(sock_.get_executor()) {
    wake_.expires_at(asio::steady_timer::time_point::max());
  }

  void start() {
    asio::co_spawn(sock_.get_executor(), reader(shared_from_this()), asio::detached);
    asio::co_spawn(sock_.get_executor(), writer(shared_from_this()), asio::detached);
  }

  void send(outgoing o) {
    if (o.frame.empty()) {  // too long for the framing
      if (!o.answer_key.empty() && !o.copy) issuer_->note_answer_withheld("not_packable");
      return;
    }
    if (closed_) {
      lost(o);
      return;
    }
    out_.push_back(std::move(o));
    wake_.cancel_one();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
    wake_.cancel();
    for (const auto& o : out_) lost(o);
    out_.clear();
  }

 private:
  // An answer that will never be written (the link closed first) is counted as withheld, so that
  // the record holds only answers that reached the link.
  void lost(const outgoing& o) {
    if (!o.answer_key.empty() && !o.copy) issuer_->note_answer_withheld("link_closed");
  }

  static asio::awaitable<void> writer(std::shared_ptr<session> self) {
    std::vector<std::uint8_t> batch;
    std::vector<outgoing> items;
    while (!self->closed_) {
      if (self->out_.empty()) {
        co_await self->wake_.async_wait(use_tuple);
        continue;
      }
      batch.clear();
      items.clear();
      bool last = false;
      while (!self->out_.empty() && !last) {
        last = self->out_.front().close_after;
        batch.insert(batch.end(), self->out_.front().frame.begin(), self->out_.front().frame.end());
        items.push_back(std::move(self->out_.front()));
        self->out_.pop_front();
      }
      auto [ec, n] = co_await asio::async_write(self->sock_, asio::buffer(batch), use_tuple);
      (void)n;
      for (const auto& o : items) {
        if (ec) {
          self->lost(o);
        } else if (!o.answer_key.empty()) {
          self->issuer_->note_answer_sent(o.answer_key, o.copy);
        }
      }
      // After a frame that breaks the framing nothing on the link can be framed again: what is
      // still queued behind it is withheld (link_closed) by close().
      if (ec || last) self->close();
    }
  }

  static asio::awaitable<void> send_later(std::shared_ptr<session> self, outgoing o, std::uint32_t delay_ms) {
    asio::steady_timer t(self->sock_.get_executor());
    t.expires_after(std::chrono::milliseconds(delay_ms));
    co_await t.async_wait(use_tuple);
    self->send(std::move(o));
  }

  static asio::awaitable<void> reader(std::shared_ptr<session> self) {
    std::vector<std::uint8_t> buf(512);
    iso8583::message req(*self->link_->spec);
    iso8583::message ans(*self->link_->spec);
    for (;;) {
      const read_result r = co_await read_frame(&self->sock_, self->link_->framing, &buf);
      if (r.ec) break;
      if (r.bad_frame) {
        self->issuer_->note_malformed("bad_frame", r.reason);
        break;
      }
      const auto st = iso8583::unpack(std::as_bytes(std::span(r.body.data(), r.body.size())), req);
      if (!st) {
        self->issuer_->note_malformed("unparsable", st.message());
        continue;
      }
      const host_decision d = self->issuer_->handle(req, ans, std::as_bytes(std::span(r.body.data(), r.body.size())));
      if (!d.answer && !d.fault) continue;
      outgoing o;
      if (d.answer) {
        std::string why;
        const auto packed = self->issuer_->pack_answer(ans, &why);
        if (!packed) {
          self->issuer_->note_malformed("answer_not_packable", why);
          self->issuer_->note_answer_withheld("not_packable");
          continue;
        }
        o.frame = frame_message(self->link_->framing, *packed, r.tpdu ? std::optional(r.tpdu->reply()) : std::nullopt);
        o.answer_key = d.answer_key;
      }
      if (!d.fault) {
        self->send(std::move(o));
        continue;
      }
      switch (*d.fault) {
        case fault_action::delay:
        case fault_action::late:
          asio::co_spawn(self->sock_.get_executor(), send_later(self, std::move(o), d.delay_ms), asio::detached);
          break;
        case fault_action::duplicate: {
          outgoing second{o.frame, o.answer_key, true};
          self->send(std::move(o));
          self->send(std::move(second));
          break;
        }
        case fault_action::no_answer:
          break;
        case fault_action::disconnect:
          self->close();
          co_return;
        case fault_action::garbage: {
          static constexpr std::string_view junk = "\x7F\x01GARBAGE-NOT-ISO8583";
          const auto junk_body = std::as_bytes(std::span(junk.data(), junk.size()));
          outgoing g;  // not an answer: the record counts the answer it replaces as withheld
          if (d.garbage == garbage_kind::body) {
            g.frame =
                frame_message(self->link_->framing, junk_body, r.tpdu ? std::optional(r.tpdu->reply()) : std::nullopt);
            self->send(std::move(g));
            break;
          }
          // The answer itself behind the other framing's length header, as a host set up with the
          // wrong framing sends it. The stream is out of step after it: the writer closes the link
          // once it is written, and nothing more is read.
          const auto packed = self->issuer_->pack_answer(ans);
          if (packed) g.frame = frame_with_wrong_length(self->link_->framing, *packed);
          if (g.frame.empty()) g.frame = frame_with_wrong_length(self->link_->framing, junk_body);
          g.close_after = true;
          self->send(std::move(g));
          co_return;
        }
      }
    }
    self->close();
  }

  tcp::socket sock_;
  const link_setup* link_;
  issuer* issuer_;
  asio::steady_timer wake_;
  std::deque<outgoing> out_;
  bool closed_ = false;
};

asio::awaitable<void> accept_loop(tcp::acceptor* acc, const link_setup* link, issuer* iss,
                                  std::vector<std::unique_ptr<asio::io_context>>* ctxs) {
  std::size_t next = 0;
  for (;;) {
    auto& ctx = *(*ctxs)[next++ % ctxs->size()];
    auto [ec, sock] = co_await acc->async_accept(ctx, use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acc->is_open()) co_return;
      continue;
    }
    boost::system::error_code ignore;
    sock.set_option(tcp::no_delay(true), ignore);
    iss->note_connection();
    auto s = std::make_shared<session>(std::move(sock), link, iss);
    asio::post(ctx, [s] { s->start(); });
  }
}

void write_record(const hostsim_config& cfg, const issuer& iss, const std::string& path) {
  if (path.empty()) return;
  std::ofstream out(path + ".tmp");
  out << iss.record().dump(2) << "\n";
  out.close();
  std::filesystem::rename(path + ".tmp", path);
  (void)cfg;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hostsim: an ISO 8583 issuer/acquirer host simulator"};
  std::string config_path, record_path;
  bool check = false;
  unsigned threads = 0;
  app.add_option("--config,-c", config_path, "hostsim YAML config")->required();
  app.add_option("--record", record_path, "write the JSON record here at exit (overrides hostsim.record)");
  app.add_option("--threads", threads, "I/O threads (overrides hostsim.threads)");
  app.add_flag("--check", check, "validate the config and exit");
  CLI11_PARSE(app, argc, argv);

  hostsim_config cfg;
  try {
    cfg = load_hostsim_config(config_path);
  } catch (const config::config_error& e) {
    std::cerr << "hostsim: " << e.what() << "\n";
    return 1;
  }
  if (check) {
    std::cout << "hostsim: " << config_path << " is valid\n";
    return 0;
  }
  if (record_path.empty()) record_path = cfg.record.string();
  if (threads == 0) threads = cfg.threads;

  std::vector<link_setup> links;
  for (const auto& l : cfg.listeners) {
    links.push_back(link_setup{l, iso8583::load_spec(l.spec), switch_core::framing{l.framing, l.max_frame}});
  }
  issuer iss(cfg);
  std::vector<std::unique_ptr<asio::io_context>> ctxs;
  for (unsigned i = 0; i < threads; ++i) ctxs.push_back(std::make_unique<asio::io_context>(1));
  auto& main_ctx = *ctxs[0];
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  for (const auto& l : links) {
    try {
      auto a = std::make_unique<tcp::acceptor>(main_ctx);
      const tcp::endpoint ep(asio::ip::make_address(l.cfg.address), l.cfg.port);
      a->open(ep.protocol());
      a->set_option(asio::socket_base::reuse_address(true));
      a->bind(ep);
      a->listen(asio::socket_base::max_listen_connections);
      std::cout << "hostsim: listening on " << l.cfg.address << ":" << a->local_endpoint().port() << " ("
                << switch_core::to_string(l.cfg.framing) << ", " << l.spec->name << ")" << std::endl;
      acceptors.push_back(std::move(a));
    } catch (const std::exception& e) {
      std::cerr << "hostsim: cannot listen on " << l.cfg.address << ":" << l.cfg.port << ": " << e.what() << "\n";
      return 1;
    }
  }
  for (std::size_t i = 0; i < links.size(); ++i) {
    asio::co_spawn(main_ctx, accept_loop(acceptors[i].get(), &links[i], &iss, &ctxs), asio::detached);
  }

  asio::signal_set stop_signals(main_ctx, SIGINT, SIGTERM);
  asio::signal_set dump_signal(main_ctx, SIGUSR1);
  std::function<void()> arm_dump = [&] {
    dump_signal.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      write_record(cfg, iss, record_path);
      arm_dump();
    });
  };
  arm_dump();
  stop_signals.async_wait([&](const boost::system::error_code&, int) {
    for (auto& a : acceptors) a->close();
    dump_signal.cancel();
    for (auto& c : ctxs) c->stop();
  });

  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& c : ctxs) guards.push_back(asio::make_work_guard(*c));
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < ctxs.size(); ++i) workers.emplace_back([&ctxs, i] { ctxs[i]->run(); });
  main_ctx.run();
  for (auto& c : ctxs) c->stop();
  for (auto& w : workers) w.join();

  write_record(cfg, iss, record_path);
  const auto rec = iss.record();
  std::cerr << "hostsim: stopped; received " << rec["received_total"] << ", answered " << rec["answered_total"] << " (+"
            << rec["duplicates_sent"] << " duplicates), withheld " << rec["withheld"].dump() << ", malformed "
            << rec["malformed"].dump() << (record_path.empty() ? "" : ", record " + record_path) << "\n";
  return 0;
}
