#include "eft/switch/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <ctime>
#include <memory>

#include "eft/iso8583/mask.hpp"
#include "eft/switch/message_util.hpp"
#include "eft/switch/pipeline.hpp"

namespace eft::switch_core {

namespace {

constexpr std::string_view transaction_logger_name = "txn";

std::atomic<bool> json_lines{false};
std::shared_ptr<spdlog::logger> transaction_logger;  // set once before the workers start

void append(spdlog::memory_buf_t& dest, std::string_view s) {
  dest.append(s.data(), s.data() + s.size());
}

void append_json_string(spdlog::memory_buf_t& dest, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  dest.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      dest.push_back('\\');
      dest.push_back(ch);
    } else if (ch == '\n') {
      append(dest, "\\n");
    } else if (ch == '\t') {
      append(dest, "\\t");
    } else if (c < 0x20) {
      append(dest, "\\u00");
      dest.push_back(hex[c >> 4]);
      dest.push_back(hex[c & 0xF]);
    } else {
      dest.push_back(ch);
    }
  }
  dest.push_back('"');
}

// UTC "2026-01-31T12:00:00.123".
void append_time(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point t) {
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  const std::time_t tt = spdlog::log_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  fmt::format_to(std::back_inserter(dest), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

// One formatter for both loggers, set on their shared sink: text or JSON lines; in JSON, the
// transaction logger's payload is already a list of JSON members.
class line_formatter final : public spdlog::formatter {
 public:
  explicit line_formatter(bool json) : json_(json) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!json_) {
      append_time(dest, msg.time);
      fmt::format_to(std::back_inserter(dest), " {} [{}] ", std::string_view(level.data(), level.size()),
                     msg.thread_id);
      append(dest, payload);
      dest.push_back('\n');
      return;
    }
    append(dest, "{\"ts\":\"");
    append_time(dest, msg.time);
    fmt::format_to(std::back_inserter(dest), "Z\",\"level\":\"{}\",\"thread\":{},",
                   std::string_view(level.data(), level.size()), msg.thread_id);
    if (std::string_view(msg.logger_name.data(), msg.logger_name.size()) == transaction_logger_name) {
      append(dest, "\"event\":\"txn\",");
      append(dest, payload);
    } else {
      append(dest, "\"msg\":");
      append_json_string(dest, payload);
    }
    append(dest, "}\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<line_formatter>(json_); }

 private:
  bool json_;
};

std::string_view field(const iso8583::message& m, std::uint32_t f) {
  return m.get(f).value_or(std::string_view());
}

}  // namespace

std::string json_escape(std::string_view s) {
  spdlog::memory_buf_t buf;
  append_json_string(buf, s);
  return std::string(buf.data() + 1, buf.size() - 2);
}

void set_up_logging(const config::logging_config& cfg, std::string_view level) {
  spdlog::sink_ptr sink;
  if (cfg.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(cfg.file.string(), false);
  }
  const bool json = cfg.format == "json";
  sink->set_formatter(std::make_unique<line_formatter>(json));
  spdlog::init_thread_pool(cfg.queue, 1);
  const auto lvl = spdlog::level::from_str(std::string(level));
  auto make = [&](std::string name) {
    auto l = std::make_shared<spdlog::async_logger>(std::move(name), sink, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::block);
    l->set_level(lvl);
    l->flush_on(spdlog::level::info);  // flushed by the logging thread, not the caller
    return l;
  };
  auto main_logger = make("eftswitch");
  transaction_logger = make(std::string(transaction_logger_name));
  json_lines.store(json, std::memory_order_release);
  spdlog::set_default_logger(main_logger);
}

bool json_logging() noexcept {
  return json_lines.load(std::memory_order_acquire);
}

void log_transaction(const transaction& t, std::string_view rc, double latency_ms) {
  const std::string_view route = t.route != nullptr ? std::string_view(t.route->name) : std::string_view("-");
  const std::string_view link = t.link != nullptr ? std::string_view(t.link->name()) : std::string_view("-");
  const std::string_view host_stan = t.host_stan.empty() ? std::string_view("-") : std::string_view(t.host_stan);
  if (!json_logging() || !transaction_logger) {
    // Below the log level, the line and the card summary in it are not even built.
    if (!spdlog::should_log(spdlog::level::info)) return;
    spdlog::info("txn listener={} {} route={} link={} host_stan={} rc={} latency_ms={:.1f}", t.listener,
                 summary(*t.request), route, link, host_stan, rc, latency_ms);
    return;
  }
  if (!transaction_logger->should_log(spdlog::level::info)) return;
  const iso8583::message& req = *t.request;
  const auto pan = pan_of(req);
  const std::string masked = pan ? iso8583::mask_pan(*pan) : std::string();
  transaction_logger->info(
      "\"listener\":\"{}\",\"terminal\":\"{}\",\"pan\":\"{}\",\"mti\":\"{}\",\"processing_code\":\"{}\","
      "\"amount\":\"{}\",\"stan\":\"{}\",\"rrn\":\"{}\",\"route\":\"{}\",\"link\":\"{}\",\"host_stan\":\"{}\","
      "\"rc\":\"{}\",\"latency_ms\":{:.3f}",
      json_escape(t.listener), json_escape(field(req, 41U)), json_escape(masked), json_escape(req.mti()),
      json_escape(field(req, 3U)), json_escape(field(req, 4U)), json_escape(field(req, 11U)),
      json_escape(field(req, 37U)), json_escape(route), json_escape(link), json_escape(host_stan), json_escape(rc),
      latency_ms);
}

}  // namespace eft::switch_core
