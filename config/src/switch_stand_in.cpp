// The stand_in: map of a route: what the switch decides while the route's host is unavailable, and
// the circuit breaker that declares it unavailable after repeated timeouts.
#include <algorithm>

#include "switch_ops.hpp"
#include "yaml_util.hpp"

namespace eft::config::detail {

stand_in_config parse_stand_in(const std::filesystem::path& file, const YAML::Node& n, const std::string& where) {
  if (!n.IsMap()) {
    fail(
        file, n, where + " must be a map",
        R"(for example {policy: approve, floor_limit: 5000, rc: "91", breaker: {timeouts: 5, window_s: 60, open_s: 30}})");
  }
  check_keys(file, n, where, {"policy", "floor_limit", "rc", "breaker"});
  stand_in_config c;
  c.line = line_of(n);
  if (!n["policy"]) fail(file, n, where + " has no policy", "add policy: decline (or approve, with floor_limit)");
  const std::string policy = scalar(file, n["policy"], where + ".policy");
  if (policy == "decline") {
    c.policy = stand_in_policy::decline;
  } else if (policy == "approve") {
    c.policy = stand_in_policy::approve;
  } else {
    fail(file, n["policy"], where + ".policy '" + policy + "' is unknown", "use decline or approve");
  }
  if (n["floor_limit"]) {
    c.floor_limit = number(file, n["floor_limit"], where + ".floor_limit", 0, 999'999'999'999ULL);
  } else if (c.policy == stand_in_policy::approve) {
    fail(file, n, where + " approves without a floor_limit",
         "add floor_limit: <largest amount approved, in minor units of field 4>");
  }
  if (n["rc"]) {
    c.rc = scalar(file, n["rc"], where + ".rc");
    const bool ok = c.rc.size() == 2 && std::all_of(c.rc.begin(), c.rc.end(), [](char ch) {
                      return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z');
                    });
    if (!ok || c.rc == "00") {
      fail(file, n["rc"], where + ".rc '" + c.rc + "' is not a decline response code",
           R"(two characters other than "00", e.g. "91" or "05" (quote it))");
    }
  }
  if (const YAML::Node b = n["breaker"]) {
    const std::string bw = where + ".breaker";
    if (!b.IsMap()) fail(file, b, bw + " must be a map", "for example {timeouts: 5, window_s: 60, open_s: 30}");
    check_keys(file, b, bw, {"timeouts", "window_s", "open_s"});
    if (!b["timeouts"]) fail(file, b, bw + " has no timeouts", "add timeouts: <host timeouts that open it>");
    c.breaker.timeouts = static_cast<std::uint32_t>(number(file, b["timeouts"], bw + ".timeouts", 1, 1'000'000));
    if (b["window_s"])
      c.breaker.window_s = static_cast<std::uint32_t>(number(file, b["window_s"], bw + ".window_s", 1, 86400));
    if (b["open_s"]) c.breaker.open_s = static_cast<std::uint32_t>(number(file, b["open_s"], bw + ".open_s", 1, 86400));
  }
  return c;
}

}  // namespace eft::config::detail
