// The stand_in: map of a route: what the switch decides while the route's host is unavailable, and
// the circuit breaker that declares it unavailable after repeated timeouts.
#include <algorithm>

#include "switch_ops.hpp"
#include "yaml_util.hpp"

namespace eft::config::detail {

namespace {

// The pin_verify: map of a stand_in (docs/switch.md, "Stand-in").
pin_verify_config parse_pin_verify(const std::filesystem::path& file, const YAML::Node& n, const std::string& where) {
  if (!n.IsMap()) {
    fail(file, n, where + " must be a map",
         "for example {method: visa_pvv, pvk: pvk.visa} or {method: ibm3624, "
         "pvk: pvk.3624, decimalization: \"0123456789012345\", validation_data: NNNNNNNNNNNN}");
  }
  check_keys(
      file, n, where,
      {"method", "pvk", "required", "pvki", "decimalization", "validation_data", "offset_position", "offset_length"});
  pin_verify_config c;
  c.line = line_of(n);
  if (!n["method"]) fail(file, n, where + " has no method", "add method: visa_pvv (or ibm3624)");
  const std::string method = scalar(file, n["method"], where + ".method");
  if (method == "visa_pvv") {
    c.method = pin_verify_method::visa_pvv;
  } else if (method == "ibm3624") {
    c.method = pin_verify_method::ibm3624;
  } else {
    fail(file, n["method"], where + ".method '" + method + "' is unknown", "use visa_pvv or ibm3624");
  }
  const bool ibm = c.method == pin_verify_method::ibm3624;
  if (!n["pvk"]) {
    fail(file, n, where + " has no pvk",
         ibm ? "add pvk: <IBM 3624 PIN verification key of the HSM, usage V1>"
             : "add pvk: <Visa PVV PIN verification key of the HSM, usage V2>");
  }
  c.pvk = scalar(file, n["pvk"], where + ".pvk");
  if (c.pvk.empty()) fail(file, n["pvk"], where + ".pvk is empty", "name a key of the HSM, e.g. pvk.visa");
  if (n["required"]) c.required = flag(file, n["required"], where + ".required");
  for (const char* k : {"decimalization", "validation_data", "offset_position", "offset_length"}) {
    if (!ibm && n[k]) fail(file, n[k], where + "." + k + " is for method ibm3624", "remove it, or use ibm3624");
  }
  if (ibm && n["pvki"]) fail(file, n["pvki"], where + ".pvki is for method visa_pvv", "remove it");
  if (n["pvki"]) c.pvki = static_cast<std::uint8_t>(number(file, n["pvki"], where + ".pvki", 0, 9));
  if (!ibm) return c;
  if (!n["decimalization"]) {
    fail(file, n, where + " has no decimalization", R"(add decimalization: "0123456789012345" (16 digits, quoted))");
  }
  c.decimalization = scalar(file, n["decimalization"], where + ".decimalization");
  if (c.decimalization.size() != 16 || !all_digits(c.decimalization)) {
    fail(file, n["decimalization"], where + ".decimalization is not 16 decimal digits",
         R"(e.g. "0123456789012345" (quote it))");
  }
  if (!n["validation_data"]) {
    fail(file, n, where + " has no validation_data",
         "add validation_data: NNNNNNNNNNNN (hex digits, and N for each account-number digit)");
  }
  c.validation_data = scalar(file, n["validation_data"], where + ".validation_data");
  const auto first_n = c.validation_data.find('N');
  const auto last_n = c.validation_data.rfind('N');
  const bool pattern_ok = !c.validation_data.empty() && c.validation_data.size() <= 16 &&
                          c.validation_data.find_first_not_of("0123456789ABCDEFN") == std::string::npos &&
                          (first_n == std::string::npos || c.validation_data.find_first_not_of('N', first_n) > last_n);
  if (!pattern_ok) {
    fail(file, n["validation_data"],
         where + ".validation_data '" + c.validation_data +
             "' is not a PIN validation "
             "data pattern",
         "up to 16 characters: hex digits (upper case) and one run of N for the last account-number "
         "digits, e.g. NNNNNNNNNNNN");
  }
  if (n["offset_position"]) {
    c.offset_position =
        static_cast<std::uint32_t>(number(file, n["offset_position"], where + ".offset_position", 0, 30));
  }
  if (n["offset_length"]) {
    c.offset_length = static_cast<std::uint32_t>(number(file, n["offset_length"], where + ".offset_length", 4, 12));
  }
  return c;
}

}  // namespace

stand_in_config parse_stand_in(const std::filesystem::path& file, const YAML::Node& n, const std::string& where) {
  if (!n.IsMap()) {
    fail(
        file, n, where + " must be a map",
        R"(for example {policy: approve, floor_limit: 5000, rc: "91", breaker: {timeouts: 5, window_s: 60, open_s: 30}})");
  }
  check_keys(file, n, where, {"policy", "floor_limit", "rc", "breaker", "pin_verify"});
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
  if (const YAML::Node p = n["pin_verify"]) {
    if (c.policy != stand_in_policy::approve) {
      fail(file, p, where + ".pin_verify needs policy: approve", "remove pin_verify, or approve under a floor_limit");
    }
    c.pin_verify = parse_pin_verify(file, p, where + ".pin_verify");
  }
  return c;
}

}  // namespace eft::config::detail
