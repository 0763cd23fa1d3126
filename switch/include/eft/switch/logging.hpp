#pragma once
/// The switch's logs: spdlog, asynchronous (one logging thread drains a bounded queue, so an I/O
/// thread never waits for a disk), as readable text lines or as JSON lines, to a file or standard
/// error. One line per transaction, through log_transaction(): its card number is masked by
/// iso8583::mask_pan like every other message description.

#include <string>
#include <string_view>

#include "eft/config/switch.hpp"

namespace eft::switch_core {

struct transaction;

/// Makes the default logger (and the transaction logger) per `cfg` at `level` (trace ... error).
/// Text lines: `2026-01-31T12:00:00.123 info [thread] message`; JSON lines: `{"ts":...,"level":...,
/// "thread":...,"msg":...}`, and for transactions `{"ts":...,"level":"info","event":"txn",...fields}`.
/// A full queue blocks the thread that logs (lines are never dropped). Call once, before the switch
/// starts; spdlog::shutdown() drains the queue. Throws spdlog::spdlog_ex when the file cannot be opened.
void set_up_logging(const config::logging_config& cfg, std::string_view level);

/// True when transaction lines are JSON (set_up_logging with format json).
bool json_logging() noexcept;

/// Logs one finished transaction: listener, terminal (41), masked PAN, MTI, processing code (3),
/// amount (4), STAN (11), RRN (37), route, link, host STAN, RC and latency in milliseconds. `rc` is the
/// answer's field 39 ("none" when nothing was answered).
void log_transaction(const transaction& t, std::string_view rc, double latency_ms);

/// `s` as the inside of a JSON string (quotes, backslashes and control characters escaped).
std::string json_escape(std::string_view s);

}  // namespace eft::switch_core
