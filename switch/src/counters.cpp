#include "eft/switch/counters.hpp"

#include <fmt/format.h>

namespace eft::switch_core {

std::string switch_counters::status() const {
  return fmt::format(
      "connections={} accepted={} refused={} idle_timeouts={} read_deadlines={} malformed_frames={} "
      "unparsable={} requests={} in_flight={} host_answers={} rc30={} rc92={} rc91_unavailable={} timeouts={} "
      "reversals_needed={} local_answers={} replies={} mac_failures={} arqc_failures={}",
      connections_open.get(), connections_accepted.get(), connections_refused.get(), idle_timeouts.get(),
      read_deadlines.get(), malformed_frames.get(), unparsable_messages.get(), requests.get(), in_flight.get(),
      answered_by_host.get(), format_errors.get(), no_route.get(), host_unavailable.get(), timeouts.get(),
      reversals_needed.get(), local_answers.get(), replies.get(), mac_failures.get(), arqc_failures.get());
}

}  // namespace eft::switch_core
