#include "eft/config/switch.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>

#include "eft/iso8583/spec.hpp"
#include "switch_ops.hpp"
#include "yaml_util.hpp"

namespace eft::config {

namespace {

using detail::all_digits;
using detail::cat;
using detail::check_keys;
using detail::fail;
using detail::flag;
using detail::line_of;
using detail::list;
using detail::number;
using detail::scalar;

constexpr std::uint64_t max_ms = 24ULL * 3600 * 1000;  // a day: longer is a typo

std::string framing_list() {
  std::string s;
  for (std::size_t i = 0; i < std::size(framing_names); ++i) {
    if (i > 0) s += i + 1 == std::size(framing_names) ? " or " : ", ";
    s += framing_names[i];
  }
  return s;
}

std::string builtin_list() {
  std::string s;
  for (const auto& n : iso8583::builtin_spec_names()) {
    s += s.empty() ? "" : ", ";
    s += n;
  }
  return s;
}

std::string name_of(const std::filesystem::path& file, const YAML::Node& entry, const std::string& where) {
  const YAML::Node n = entry["name"];
  if (!n) fail(file, entry, where + " has no name", "add name: <letters, digits, '.', '_' or '-'>");
  std::string name = scalar(file, n, where + ".name");
  const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
  if (!ok) fail(file, n, where + ".name '" + name + "' is not a usable name", "use letters, digits, '.', '_' or '-'");
  return name;
}

void unique(const std::filesystem::path& file, const YAML::Node& at, std::set<std::string>& seen,
            const std::string& name, const std::string& what) {
  if (!seen.insert(name).second) {
    fail(file, at, "duplicate " + what + " name '" + name + "'", "each " + what + " needs a name of its own");
  }
}

std::string key_name(const std::filesystem::path& file, const YAML::Node& n, const std::string& key) {
  std::string s = scalar(file, n, key);
  if (s.empty()) fail(file, n, key + " is empty", "name a key of the HSM, e.g. tpk.pos or zpk.acquirer1");
  return s;
}

std::string pin_format_of(const std::filesystem::path& file, const YAML::Node& n, const std::string& key) {
  std::string s = scalar(file, n, key);
  if (s != "iso0" && s != "iso1" && s != "iso3" && s != "iso4") {
    fail(file, n, key + " '" + s + "' is unknown", "use iso0, iso1, iso3 or iso4 (ISO 9564-1 formats)");
  }
  return s;
}

std::string framing_of(const std::filesystem::path& file, const YAML::Node& n, const std::string& key) {
  std::string s = scalar(file, n, key);
  if (std::find(std::begin(framing_names), std::end(framing_names), s) == std::end(framing_names)) {
    fail(file, n, key + " '" + s + "' is unknown", "use " + framing_list());
  }
  return s;
}

// A built-in spec name stays a name; anything else is a YAML file relative to the config file. Both
// are loaded here so that a bad spec is reported at the config line that names it.
std::string spec_of(const std::filesystem::path& file, const YAML::Node& n, const std::string& key,
                    std::shared_ptr<const iso8583::spec>& loaded) {
  const std::string s = scalar(file, n, key);
  const auto builtins = iso8583::builtin_spec_names();
  std::string resolved = s;
  if (std::find(builtins.begin(), builtins.end(), s) == builtins.end()) {
    const std::filesystem::path p = detail::relative_to(file, s);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      fail(file, n, key + " '" + s + "' is neither a built-in spec nor a readable file",
           "built-in specs: " + builtin_list() + "; spec files are relative to the config file");
    }
    resolved = p.string();
  }
  try {
    loaded = iso8583::load_spec(resolved);
  } catch (const iso8583::spec_error& e) {
    fail(file, n, key + " '" + s + "' cannot be loaded: " + e.what());
  }
  return resolved;
}

void need_field(const std::filesystem::path& file, const YAML::Node& at, const iso8583::spec& spec,
                const std::string& spec_name, std::uint32_t field, const std::string& why) {
  if (spec.field(field) == nullptr) {
    fail(file, at, "spec '" + spec_name + "' does not define field " + std::to_string(field), why);
  }
}

// ISO 9564-1 format 4 (AES) PIN blocks are 16 bytes; the built-in dialects define field 52 as b 8,
// room for formats 0, 1 and 3 only. Refused here rather than on every PIN transaction.
void need_pin_block_room(const std::filesystem::path& file, const YAML::Node& at, const std::string& key,
                         const std::string& format, const iso8583::spec& spec, const std::string& spec_name) {
  if (format != "iso4") return;
  const iso8583::field_spec* f = spec.field(52);
  const std::size_t room = f == nullptr ? 0 : (f->cls == iso8583::field_class::b ? f->length : f->length / 2);
  if (room >= 16) return;
  fail(file, at,
       key + " iso4 needs a 16-byte PIN block, but " +
           (f == nullptr ? "spec '" + spec_name + "' has no field 52"
                         : "field 52 of spec '" + spec_name + "' holds " + std::to_string(room) + " bytes"),
       "use a dialect whose field 52 holds 16 bytes (class b, length 16), or format iso0, iso1 or iso3");
}

// The DUKPT and MAC keys of a listener (stages.md: KSN in field 53, MAC in field 64 or 128).
void parse_listener_keys(const std::filesystem::path& file, const YAML::Node& n, const std::string& where,
                         listener_config& c) {
  if (n["pin_bdk"]) c.pin_bdk = key_name(file, n["pin_bdk"], where + ".pin_bdk");
  if (n["mac_key"]) c.mac_key = key_name(file, n["mac_key"], where + ".mac_key");
  if (n["mac_bdk"]) c.mac_bdk = key_name(file, n["mac_bdk"], where + ".mac_bdk");
  if (!c.pin_key.empty() && !c.pin_bdk.empty()) {
    fail(file, n["pin_bdk"], where + " has both pin_key and pin_bdk",
         "terminals encrypt PINs under a static key (pin_key) or DUKPT (pin_bdk), not both");
  }
  if (!c.mac_key.empty() && !c.mac_bdk.empty()) {
    fail(file, n["mac_bdk"], where + " has both mac_key and mac_bdk",
         "terminals MAC under a static key (mac_key) or DUKPT (mac_bdk), not both");
  }
}

listener_config parse_listener(const std::filesystem::path& file, const YAML::Node& n, std::size_t index) {
  const std::string where = "listeners[" + std::to_string(index) + "]";
  if (!n.IsMap()) fail(file, n, where + " must be a map", "for example {name: pos, port: 5000, spec: iso87-binary}");
  check_keys(
      file, n, where,
      {"name", "address", "port", "framing", "spec", "max_connections", "max_connections_per_address", "max_frame",
       "idle_timeout_ms", "read_deadline_ms", "pin_key", "pin_format", "pin_bdk", "mac_key", "mac_bdk", "tls"});
  listener_config c;
  c.line = line_of(n);
  c.name = name_of(file, n, where);
  if (n["address"]) c.address = scalar(file, n["address"], where + ".address");
  if (!n["port"]) fail(file, n, where + " has no port", "add port: <1-65535>");
  c.port = static_cast<std::uint16_t>(number(file, n["port"], where + ".port", 0, 65535));
  if (n["framing"]) c.framing = framing_of(file, n["framing"], where + ".framing");
  if (!n["spec"]) fail(file, n, where + " has no spec", "add spec: iso87-binary (or a spec file)");
  std::shared_ptr<const iso8583::spec> spec;
  c.spec = spec_of(file, n["spec"], where + ".spec", spec);
  for (const std::uint32_t f : {11U, 39U}) {
    need_field(file, n["spec"], *spec, c.spec, f, "the switch reads the STAN and writes response codes");
  }
  if (n["max_connections"]) {
    c.max_connections = number(file, n["max_connections"], where + ".max_connections", 1, 10'000'000);
  }
  if (n["max_connections_per_address"]) {
    c.max_connections_per_address =
        number(file, n["max_connections_per_address"], where + ".max_connections_per_address", 0, 10'000'000);
  }
  if (n["max_frame"]) c.max_frame = number(file, n["max_frame"], where + ".max_frame", 16, 65535);
  if (n["idle_timeout_ms"])
    c.idle_timeout_ms =
        static_cast<std::uint32_t>(number(file, n["idle_timeout_ms"], where + ".idle_timeout_ms", 0, max_ms));
  if (n["read_deadline_ms"]) {
    c.read_deadline_ms =
        static_cast<std::uint32_t>(number(file, n["read_deadline_ms"], where + ".read_deadline_ms", 0, max_ms));
  }
  if (n["pin_key"]) c.pin_key = key_name(file, n["pin_key"], where + ".pin_key");
  if (n["pin_format"]) {
    c.pin_format = pin_format_of(file, n["pin_format"], where + ".pin_format");
    need_pin_block_room(file, n["pin_format"], where + ".pin_format", c.pin_format, *spec, c.spec);
  }
  parse_listener_keys(file, n, where, c);
  if (n["tls"]) c.tls = detail::parse_tls(file, n["tls"], where + ".tls", true);
  return c;
}

link_address parse_address(const std::filesystem::path& file, const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(file, n, key);
  link_address a;
  std::string port;
  if (!s.empty() && s.front() == '[') {  // [::1]:7000
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      fail(file, n, key + " '" + s + "' is not host:port", "write IPv6 addresses as [::1]:7000");
    }
    a.host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || s.find(':') != colon) {
      fail(file, n, key + " '" + s + "' is not host:port", "for example 10.0.0.5:7000 or [::1]:7000");
    }
    a.host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc() || ptr != port.data() + port.size() || v == 0 || v > 65535) {
    fail(file, n, key + " '" + s + "' has no usable port", "ports are 1 to 65535");
  }
  a.port = static_cast<std::uint16_t>(v);
  return a;
}

host_link_config parse_link(const std::filesystem::path& file, const YAML::Node& n, std::size_t index) {
  const std::string where = "links[" + std::to_string(index) + "]";
  if (!n.IsMap()) {
    fail(file, n, where + " must be a map", "for example {name: acq1, addresses: [10.0.0.5:7000], spec: iso87-ascii}");
  }
  check_keys(file, n, where,
             {"name", "addresses", "framing", "spec", "max_frame", "connect_timeout_ms", "reconnect_min_ms",
              "reconnect_max_ms", "echo_interval_ms", "network_timeout_ms", "sign_on", "match_key", "tls"});
  host_link_config c;
  c.line = line_of(n);
  c.name = name_of(file, n, where);
  if (!n["addresses"]) fail(file, n, where + " has no addresses", "add addresses: [host:port, ...]");
  const YAML::Node addrs = n["addresses"];
  if (addrs.IsSequence()) {
    for (std::size_t i = 0; i < addrs.size(); ++i) {
      c.addresses.push_back(parse_address(file, addrs[i], where + ".addresses[" + std::to_string(i) + "]"));
    }
  } else {
    c.addresses.push_back(parse_address(file, addrs, where + ".addresses"));
  }
  if (c.addresses.empty()) fail(file, addrs, where + ".addresses is empty", "list at least one host:port");
  if (n["framing"]) c.framing = framing_of(file, n["framing"], where + ".framing");
  if (!n["spec"]) fail(file, n, where + " has no spec", "add spec: iso87-ascii (or a spec file)");
  std::shared_ptr<const iso8583::spec> spec;
  c.spec = spec_of(file, n["spec"], where + ".spec", spec);
  if (n["max_frame"]) c.max_frame = number(file, n["max_frame"], where + ".max_frame", 16, 65535);
  auto ms = [&](const char* key, std::uint32_t& out, std::uint64_t min) {
    if (n[key]) out = static_cast<std::uint32_t>(number(file, n[key], where + "." + key, min, max_ms));
  };
  ms("connect_timeout_ms", c.connect_timeout_ms, 1);
  ms("reconnect_min_ms", c.reconnect_min_ms, 1);
  ms("reconnect_max_ms", c.reconnect_max_ms, 1);
  ms("echo_interval_ms", c.echo_interval_ms, 0);
  ms("network_timeout_ms", c.network_timeout_ms, 1);
  if (c.reconnect_max_ms < c.reconnect_min_ms) {
    fail(file, n["reconnect_max_ms"] ? n["reconnect_max_ms"] : n, where + ".reconnect_max_ms is below reconnect_min_ms",
         "the backoff grows from reconnect_min_ms up to reconnect_max_ms");
  }
  if (n["sign_on"]) c.sign_on = flag(file, n["sign_on"], where + ".sign_on");
  if (n["match_key"]) {
    c.match_key = list(file, n["match_key"], where + ".match_key");
    if (c.match_key.empty())
      fail(file, n["match_key"], where + ".match_key is empty", "the default is mti_class,11,41");
    bool has_unique = false;
    for (const auto& t : c.match_key) {
      if (t == "mti_class") continue;
      unsigned f = 0;
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), f);
      if (ec != std::errc() || ptr != t.data() + t.size() || f < 2 || f > 192) {
        fail(file, n["match_key"], cat({where, ".match_key entry '", t, "' is neither mti_class nor a field number"}),
             "for example mti_class,11,41 or 11,37,32");
      }
      need_field(file, n["match_key"], *spec, c.spec, f, "every match key field must be in the host spec");
      has_unique = has_unique || f == 11 || f == 37;
    }
    if (!has_unique) {
      fail(file, n["match_key"], where + ".match_key has neither field 11 nor 37",
           "the switch makes 11 and 37 unique per link: one of them must be in the key");
    }
  } else {
    for (const std::uint32_t f : {11U, 41U}) {
      need_field(file, n["spec"], *spec, c.spec, f, "the default match key is mti_class,11,41: set match_key");
    }
  }
  need_field(file, n["spec"], *spec, c.spec, 11, "the switch assigns its own STAN toward the host");
  need_field(file, n["spec"], *spec, c.spec, 37, "the switch assigns its own RRN toward the host");
  need_field(file, n["spec"], *spec, c.spec, 39, "host answers carry their response code in field 39");
  if (c.sign_on || c.echo_interval_ms > 0) {
    need_field(file, n["spec"], *spec, c.spec, 70, "sign-on and echo are 0800 messages with field 70");
  }
  if (n["tls"]) c.tls = detail::parse_tls(file, n["tls"], where + ".tls", false);
  return c;
}

link_group_config parse_group(const std::filesystem::path& file, const YAML::Node& n, std::size_t index,
                              const std::vector<host_link_config>& links) {
  const std::string where = "link_groups[" + std::to_string(index) + "]";
  if (!n.IsMap()) fail(file, n, where + " must be a map", "for example {name: acquirer, links: [acq1-a, acq1-b]}");
  check_keys(file, n, where, {"name", "links", "policy"});
  link_group_config c;
  c.line = line_of(n);
  c.name = name_of(file, n, where);
  if (!n["links"]) fail(file, n, where + " has no links", "add links: [<host link names>]");
  c.links = list(file, n["links"], where + ".links");
  if (c.links.empty()) fail(file, n["links"], where + ".links is empty", "list at least one host link");
  std::set<std::string> seen;
  for (const auto& l : c.links) {
    const bool known = std::any_of(links.begin(), links.end(), [&](const auto& x) { return x.name == l; });
    if (!known) {
      std::string defined;
      for (const auto& x : links) defined += cat({defined.empty() ? "" : ", ", x.name});
      fail(file, n["links"], cat({where, ".links names '", l, "', which is not a host link"}),
           defined.empty() ? "define it under links:" : cat({"defined links: ", defined}));
    }
    if (!seen.insert(l).second) fail(file, n["links"], cat({where, ".links lists '", l, "' twice"}));
  }
  if (n["policy"]) {
    const std::string p = scalar(file, n["policy"], where + ".policy");
    if (p == "primary_backup") {
      c.policy = group_policy::primary_backup;
    } else if (p == "round_robin") {
      c.policy = group_policy::round_robin;
    } else {
      fail(file, n["policy"], where + ".policy '" + p + "' is unknown", "use primary_backup or round_robin");
    }
  }
  return c;
}

std::vector<std::string> digit_list(const std::filesystem::path& file, const YAML::Node& n, const std::string& key,
                                    std::size_t min_len, std::size_t max_len, const std::string& hint) {
  std::vector<std::string> v = list(file, n, key);
  if (v.empty()) fail(file, n, key + " is empty", "leave the criterion out to match everything");
  for (const auto& s : v) {
    if (!all_digits(s) || s.size() < min_len || s.size() > max_len) {
      const std::string range = min_len == max_len ? std::to_string(min_len)
                                                   : cat({std::to_string(min_len), " to ", std::to_string(max_len)});
      fail(file, n, cat({key, " entry '", s, "' is not ", range, " digits"}), hint);
    }
  }
  return v;
}

std::string rc_of(const std::filesystem::path& file, const YAML::Node& n, const std::string& key,
                  const std::string& examples) {
  std::string rc = scalar(file, n, key);
  const bool ok = rc.size() == 2 && std::all_of(rc.begin(), rc.end(), [](char ch) {
                    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z');
                  });
  if (!ok)
    fail(file, n, key + " '" + rc + "' is not a response code", "two characters, e.g. " + examples + " (quote it)");
  return rc;
}

// The criteria added for BIN tables, terminal groups and amount limits (routing.md).
void parse_route_match(const std::filesystem::path& file, const YAML::Node& m, const std::string& where,
                       route_config& c) {
  if (m["bin_file"]) {
    const std::string f = scalar(file, m["bin_file"], where + ".match.bin_file");
    c.bin_file = detail::relative_to(file, f);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(c.bin_file, ec)) {
      fail(file, m["bin_file"], where + ".match.bin_file '" + f + "' is not a readable file",
           "BIN table files are relative to the config file");
    }
    c.bin_ranges = std::make_shared<const std::vector<bin_range>>(load_bin_file(c.bin_file));
  }
  if (m["terminal_group"]) {
    c.terminal_groups = list(file, m["terminal_group"], where + ".match.terminal_group");
    if (c.terminal_groups.empty()) {
      fail(file, m["terminal_group"], where + ".match.terminal_group is empty",
           "leave the criterion out to match every terminal");
    }
  }
  constexpr std::uint64_t max_amount = 999'999'999'999ULL;  // field 4 is n 12
  if (m["min_amount"]) c.min_amount = number(file, m["min_amount"], where + ".match.min_amount", 0, max_amount);
  if (m["max_amount"]) c.max_amount = number(file, m["max_amount"], where + ".match.max_amount", 0, max_amount);
  if (c.min_amount && c.max_amount && *c.min_amount > *c.max_amount) {
    fail(file, m["max_amount"], where + ".match.max_amount is below min_amount",
         "amounts are in minor units of field 4: min_amount <= max_amount");
  }
}

issuer_config parse_issuer(const std::filesystem::path& file, const YAML::Node& n, const std::string& where) {
  if (!n.IsMap()) fail(file, n, where + " must be a map", "for example {imk: imk.visa, cryptogram_version: auto}");
  check_keys(file, n, where, {"imk", "cryptogram_version", "arqc_failure_rc"});
  issuer_config c;
  c.line = line_of(n);
  if (!n["imk"]) fail(file, n, where + " has no imk", "name the issuer master key for ACs (usage E0) in the HSM");
  c.imk = key_name(file, n["imk"], where + ".imk");
  c.cryptogram_version = "auto";
  if (n["cryptogram_version"]) {
    c.cryptogram_version = scalar(file, n["cryptogram_version"], where + ".cryptogram_version");
    static constexpr std::string_view versions[] = {"auto",          "visa_10",       "visa_18",
                                                    "visa_22",       "mastercard_16", "mastercard_17",
                                                    "mastercard_20", "mastercard_21", "emv_csk"};
    if (std::find(std::begin(versions), std::end(versions), c.cryptogram_version) == std::end(versions)) {
      fail(file, n["cryptogram_version"], where + ".cryptogram_version '" + c.cryptogram_version + "' is unknown",
           "use auto, visa_10, visa_18, visa_22, mastercard_16, mastercard_17, mastercard_20, mastercard_21 or "
           "emv_csk");
    }
  }
  if (n["arqc_failure_rc"])
    c.arqc_failure_rc = rc_of(file, n["arqc_failure_rc"], where + ".arqc_failure_rc", R"("05" or "88")");
  return c;
}

terminal_group_config parse_terminal_group(const std::filesystem::path& file, const YAML::Node& n, std::size_t index,
                                           const std::vector<listener_config>& listeners) {
  const std::string where = "terminal_groups[" + std::to_string(index) + "]";
  if (!n.IsMap()) fail(file, n, where + " must be a map", "for example {name: atm, listeners: [atm]}");
  check_keys(file, n, where, {"name", "listeners", "terminal_ids"});
  terminal_group_config c;
  c.line = line_of(n);
  c.name = name_of(file, n, where);
  if (n["listeners"]) c.listeners = list(file, n["listeners"], where + ".listeners");
  if (n["terminal_ids"]) c.terminal_ids = list(file, n["terminal_ids"], where + ".terminal_ids");
  if (c.listeners.empty() && c.terminal_ids.empty()) {
    fail(file, n, where + " has no members", "add listeners: [...] and/or terminal_ids: [TERM0001, ATM*]");
  }
  for (const auto& l : c.listeners) {
    if (std::none_of(listeners.begin(), listeners.end(), [&](const auto& x) { return x.name == l; })) {
      std::string defined;
      for (const auto& x : listeners) defined += cat({defined.empty() ? "" : ", ", x.name});
      fail(file, n["listeners"], cat({where, ".listeners names '", l, "', which is not a listener"}),
           cat({"defined listeners: ", defined}));
    }
  }
  return c;
}

route_config parse_route(const std::filesystem::path& file, const YAML::Node& n, std::size_t index,
                         const std::vector<link_group_config>& groups, const std::vector<host_link_config>& links) {
  const std::string where = "routes[" + std::to_string(index) + "]";
  if (!n.IsMap())
    fail(file, n, where + " must be a map", "for example {name: visa, match: {pan_prefixes: [4]}, to: acquirer}");
  check_keys(file, n, where,
             {"name", "match", "to", "timeout_ms", "timeout_rc", "pin_key", "pin_format", "issuer", "stand_in"});
  route_config c;
  c.line = line_of(n);
  c.name = name_of(file, n, where);
  if (const YAML::Node m = n["match"]) {
    if (!m.IsMap()) fail(file, m, where + ".match must be a map", "keys: pan_prefixes, mti, processing_code");
    check_keys(file, m, where + ".match",
               {"pan_prefixes", "mti", "processing_code", "bin_file", "terminal_group", "min_amount", "max_amount"});
    parse_route_match(file, m, where, c);
    if (m["pan_prefixes"]) {
      c.pan_prefixes = digit_list(file, m["pan_prefixes"], where + ".match.pan_prefixes", 1, 19,
                                  "PAN prefixes are leading card number digits, e.g. [4, 51, 2221]");
    }
    if (m["mti"]) {
      c.mtis = digit_list(file, m["mti"], where + ".match.mti", 4, 4, "MTIs are 4 digits, e.g. [0100, 0200]");
    }
    if (m["processing_code"]) {
      c.processing_codes = digit_list(file, m["processing_code"], where + ".match.processing_code", 1, 6,
                                      "processing code prefixes are 1 to 6 digits, e.g. [00, 01, 31]");
    }
  }
  if (!n["to"]) fail(file, n, where + " has no destination", "add to: <link group name>");
  c.group = scalar(file, n["to"], where + ".to");
  const bool known = std::any_of(groups.begin(), groups.end(), [&](const auto& g) { return g.name == c.group; });
  if (!known) {
    std::string defined;
    for (const auto& g : groups) defined += (defined.empty() ? "" : ", ") + g.name;
    fail(file, n["to"], where + ".to '" + c.group + "' is not a link group",
         defined.empty() ? "define it under link_groups:" : "defined groups: " + defined);
  }
  if (n["timeout_ms"])
    c.timeout_ms = static_cast<std::uint32_t>(number(file, n["timeout_ms"], where + ".timeout_ms", 1, 600000));
  if (n["timeout_rc"]) c.timeout_rc = rc_of(file, n["timeout_rc"], where + ".timeout_rc", R"("91" or "68")");
  if (n["pin_key"]) c.pin_key = key_name(file, n["pin_key"], where + ".pin_key");
  if (n["pin_format"]) c.pin_format = pin_format_of(file, n["pin_format"], where + ".pin_format");
  if (c.pin_format == "iso4") {
    // A 16-byte block must fit field 52 of every link the route may use (its group was found above).
    const auto group = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.name == c.group; });
    for (const auto& name : group->links) {
      const auto link = std::find_if(links.begin(), links.end(), [&](const auto& l) { return l.name == name; });
      if (link == links.end()) continue;  // parse_group names only defined links
      need_pin_block_room(file, n["pin_format"], where + ".pin_format (to link " + name + ")", c.pin_format,
                          *iso8583::load_spec(link->spec), link->spec);
    }
  }
  if (n["issuer"]) c.issuer = parse_issuer(file, n["issuer"], where + ".issuer");
  if (n["stand_in"]) c.stand_in = detail::parse_stand_in(file, n["stand_in"], where + ".stand_in");
  return c;
}

template <typename T, typename Parse>
std::vector<T> parse_list(const std::filesystem::path& file, const YAML::Node& root, const char* key,
                          const std::string& what, Parse parse) {
  std::vector<T> out;
  const YAML::Node n = root[key];
  if (!n) return out;
  if (!n.IsSequence()) fail(file, n, std::string(key) + " must be a list", "write each " + what + " as '- name: ...'");
  std::set<std::string> names;
  for (std::size_t i = 0; i < n.size(); ++i) {
    out.push_back(parse(n[i], i));
    unique(file, n[i]["name"], names, out.back().name, what);
  }
  return out;
}

// Routes name terminal groups defined under terminal_groups:.
void check_terminal_group_names(const std::filesystem::path& file, const YAML::Node& root, const switch_config& c) {
  for (std::size_t i = 0; i < c.routes.size(); ++i) {
    for (const auto& g : c.routes[i].terminal_groups) {
      const bool known =
          std::any_of(c.terminal_groups.begin(), c.terminal_groups.end(), [&](const auto& x) { return x.name == g; });
      if (known) continue;
      std::string defined;
      for (const auto& x : c.terminal_groups) defined += cat({defined.empty() ? "" : ", ", x.name});
      fail(file, root["routes"][i]["match"]["terminal_group"],
           cat({"routes[", std::to_string(i), "].match.terminal_group '", g, "' is not a terminal group"}),
           defined.empty() ? "define it under terminal_groups:" : cat({"defined terminal groups: ", defined}));
    }
  }
}

// DUKPT, MAC and issuer keys live in the HSM too.
void check_keys_need_hsm(const std::filesystem::path& file, const YAML::Node& root, const switch_config& c) {
  const auto needs = [&](const YAML::Node& at, const std::string& what, const std::string& key) {
    if (key.empty()) return;
    fail(file, at, what + " '" + key + "' needs an HSM", "add an hsm: section holding the key");
  };
  for (std::size_t i = 0; i < c.listeners.size(); ++i) {
    const std::string w = "listeners[" + std::to_string(i) + "]";
    const YAML::Node n = root["listeners"][i];
    needs(n["pin_bdk"], w + ".pin_bdk", c.listeners[i].pin_bdk);
    needs(n["mac_key"], w + ".mac_key", c.listeners[i].mac_key);
    needs(n["mac_bdk"], w + ".mac_bdk", c.listeners[i].mac_bdk);
  }
  for (std::size_t i = 0; i < c.routes.size(); ++i) {
    if (c.routes[i].stand_in && c.routes[i].stand_in->pin_verify) {
      needs(root["routes"][i]["stand_in"]["pin_verify"]["pvk"],
            "routes[" + std::to_string(i) + "].stand_in.pin_verify.pvk", c.routes[i].stand_in->pin_verify->pvk);
    }
    if (c.routes[i].issuer) {
      needs(root["routes"][i]["issuer"]["imk"], "routes[" + std::to_string(i) + "].issuer.imk",
            c.routes[i].issuer->imk);
    }
  }
}

}  // namespace

const link_group_config* switch_config::group(std::string_view name) const noexcept {
  for (const auto& g : groups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

const host_link_config* switch_config::link(std::string_view name) const noexcept {
  for (const auto& l : links) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

// A PostgreSQL journal: a conninfo without a password, an instance name usable as a key and in logs.
static void check_postgresql(const std::filesystem::path& file, const YAML::Node& j, const journal_config& c) {
  if (j["path"]) {
    fail(file, j["path"], "journal.path is for the SQLite backend",
         "remove it: a PostgreSQL journal is named by journal.conninfo and journal.instance");
  }
  if (c.conninfo.empty()) {
    fail(file, j["conninfo"] ? j["conninfo"] : j, "journal.conninfo is missing or empty",
         "add conninfo: \"host=db1 dbname=eft user=eftswitch\" (a libpq connection string or URI)");
  }
  std::string lower = c.conninfo;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  // Keyword form (password=...), URI query (?password=...) or URI user info (postgresql://user:secret@host).
  const bool uri = lower.starts_with("postgresql://") || lower.starts_with("postgres://");
  const std::size_t authority = lower.find("://") + 3;
  const std::size_t at = uri ? lower.find('@', authority) : std::string::npos;
  const bool userinfo_password =
      uri && at != std::string::npos && lower.find(':', authority) < at && lower.find('/', authority) > at;
  if (lower.find("password") != std::string::npos || userinfo_password) {
    fail(file, j["conninfo"], "journal.conninfo holds a password; a config file must not",
         "remove it and give the password in the PGPASSWORD environment variable or a ~/.pgpass file (mode 0600), "
         "or use peer or certificate authentication");
  }
  if (c.instance.empty()) {
    fail(file, j["instance"] ? j["instance"] : j, "journal.instance is missing or empty",
         "add instance: sw1, a name of this switch process unique among those sharing the database");
  }
  const bool name_ok =
      c.instance.size() <= 63 && std::all_of(c.instance.begin(), c.instance.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '.' || ch == '-';
      });
  if (!name_ok) {
    fail(file, j["instance"], "journal.instance '" + c.instance + "' is not a usable name",
         "use 1 to 63 of A-Z a-z 0-9 _ . -");
  }
}

static journal_config parse_journal(const std::filesystem::path& file, const YAML::Node& j) {
  if (!j.IsMap()) fail(file, j, "journal must be a map", "for example journal: {path: journal.db}");
  check_keys(file, j, "journal",
             {"backend", "path", "conninfo", "instance", "durability", "key_env", "key_file", "queue_limit",
              "reversal_mti", "saf_retry_interval_ms", "saf_max_attempts", "saf_expiry_s", "duplicate_window_s",
              "duplicate_max_entries", "reversal_window_s"});
  journal_config c;
  c.line = line_of(j);
  if (j["backend"]) {
    const std::string b = scalar(file, j["backend"], "journal.backend");
    if (b == "postgresql") {
      c.backend = journal_backend::postgresql;
    } else if (b != "sqlite") {
      fail(file, j["backend"], "journal.backend '" + b + "' is unknown",
           "use sqlite (one file, one switch) or postgresql (one database shared by several switches)");
    }
  }
  if (j["path"]) c.path = detail::relative_to(file, scalar(file, j["path"], "journal.path"));
  if (j["conninfo"]) c.conninfo = scalar(file, j["conninfo"], "journal.conninfo");
  if (j["instance"]) c.instance = scalar(file, j["instance"], "journal.instance");
  if (c.backend == journal_backend::postgresql) {
    check_postgresql(file, j, c);
  } else if (j["conninfo"] || j["instance"]) {
    fail(file, j["conninfo"] ? j["conninfo"] : j["instance"],
         "journal.conninfo and journal.instance are for PostgreSQL",
         "add backend: postgresql, or remove them (an SQLite journal needs only path)");
  }
  if (j["durability"]) {
    const std::string d = scalar(file, j["durability"], "journal.durability");
    if (d == "process_crash") {
      c.durability = journal_durability_level::process_crash;
    } else if (d == "power_loss") {
      c.durability = journal_durability_level::power_loss;
    } else {
      fail(file, j["durability"], "journal.durability '" + d + "' is unknown",
           "use process_crash (survives a crash of the switch) or power_loss (fsync at every group commit)");
    }
  }
  if (j["key_env"]) {
    c.key_env = scalar(file, j["key_env"], "journal.key_env");
    if (c.key_env.empty()) fail(file, j["key_env"], "journal.key_env is empty", "name an environment variable");
  }
  if (j["key_file"]) c.key_file = detail::relative_to(file, scalar(file, j["key_file"], "journal.key_file"));
  if (j["queue_limit"]) c.queue_limit = number(file, j["queue_limit"], "journal.queue_limit", 16, 10'000'000);
  if (j["reversal_mti"]) {
    c.reversal_mti = scalar(file, j["reversal_mti"], "journal.reversal_mti");
    if (c.reversal_mti != "0400" && c.reversal_mti != "0420") {
      fail(file, j["reversal_mti"], "journal.reversal_mti '" + c.reversal_mti + "' is not a reversal MTI",
           "use 0400 (reversal request) or 0420 (reversal advice)");
    }
  }
  if (j["saf_retry_interval_ms"]) {
    c.saf_retry_interval_ms = static_cast<std::uint32_t>(
        number(file, j["saf_retry_interval_ms"], "journal.saf_retry_interval_ms", 100, max_ms));
  }
  if (j["saf_max_attempts"]) {
    c.saf_max_attempts =
        static_cast<std::uint32_t>(number(file, j["saf_max_attempts"], "journal.saf_max_attempts", 0, 1'000'000));
  }
  if (j["saf_expiry_s"]) {
    c.saf_expiry_s =
        static_cast<std::uint32_t>(number(file, j["saf_expiry_s"], "journal.saf_expiry_s", 0, 365ULL * 86400));
  }
  if (j["duplicate_window_s"]) {
    c.duplicate_window_s =
        static_cast<std::uint32_t>(number(file, j["duplicate_window_s"], "journal.duplicate_window_s", 0, 86400));
  }
  if (j["duplicate_max_entries"]) {
    c.duplicate_max_entries = static_cast<std::uint32_t>(
        number(file, j["duplicate_max_entries"], "journal.duplicate_max_entries", 1000, 100'000'000));
  }
  if (j["reversal_window_s"]) {
    c.reversal_window_s = static_cast<std::uint32_t>(
        number(file, j["reversal_window_s"], "journal.reversal_window_s", 60, 30ULL * 86400));
  }
  if (c.path.empty() && c.backend == journal_backend::sqlite) {
    fail(file, j, "journal has no path", "add path: journal.db (relative to this file), or remove the section");
  }
  return c;
}

std::string journal_config::where() const {
  return backend == journal_backend::postgresql ? "postgresql instance " + instance : path.string();
}

std::string_view to_string(journal_durability_level d) noexcept {
  return d == journal_durability_level::process_crash ? "process_crash" : "power_loss";
}

std::string_view to_string(group_policy p) noexcept {
  return p == group_policy::round_robin ? "round_robin" : "primary_backup";
}

switch_config parse_switch_config(const YAML::Node& root, const std::filesystem::path& file) {
  if (!root.IsMap()) {
    fail(file, root, "a switch config must be a map",
         "top-level keys: switch, listeners, links, link_groups, routes, hsm, journal, terminal_groups, metrics, "
         "logging");
  }
  check_keys(file, root, "",
             {"switch", "listeners", "links", "link_groups", "routes", "hsm", "journal", "terminal_groups", "metrics",
              "logging"});
  switch_config c;
  c.source = file;
  if (const YAML::Node s = root["switch"]) {
    if (!s.IsMap()) fail(file, s, "switch must be a map", "for example switch: {workers: 4}");
    check_keys(file, s, "switch", {"workers", "status_interval_ms", "shutdown_grace_ms", "log_level"});
    if (s["workers"]) c.workers = number(file, s["workers"], "switch.workers", 0, 1024);
    if (s["status_interval_ms"]) {
      c.status_interval_ms =
          static_cast<std::uint32_t>(number(file, s["status_interval_ms"], "switch.status_interval_ms", 0, max_ms));
    }
    if (s["shutdown_grace_ms"]) {
      c.shutdown_grace_ms =
          static_cast<std::uint32_t>(number(file, s["shutdown_grace_ms"], "switch.shutdown_grace_ms", 0, 600000));
    }
    if (s["log_level"]) {
      c.log_level = scalar(file, s["log_level"], "switch.log_level");
      static constexpr std::string_view levels[] = {"trace", "debug", "info", "warn", "error"};
      if (std::find(std::begin(levels), std::end(levels), c.log_level) == std::end(levels)) {
        fail(file, s["log_level"], "switch.log_level '" + c.log_level + "' is unknown",
             "use trace, debug, info, warn or error");
      }
    }
  }

  c.listeners =
      parse_list<listener_config>(file, root, "listeners", "listener",
                                  [&](const YAML::Node& n, std::size_t i) { return parse_listener(file, n, i); });
  if (c.listeners.empty()) {
    fail(file, root["listeners"] ? root["listeners"] : root, "no listeners",
         "add listeners: [{name: pos, port: 5000, spec: iso87-binary}]");
  }
  for (std::size_t i = 0; i < c.listeners.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto& a = c.listeners[i];
      const auto& b = c.listeners[j];
      if (a.port != 0 && a.port == b.port && a.address == b.address) {
        fail(file, root["listeners"][i]["port"],
             "listener '" + a.name + "' binds " + a.address + ":" + std::to_string(a.port) + " like listener '" +
                 b.name + "'",
             "give each listener its own port");
      }
    }
  }
  c.links = parse_list<host_link_config>(file, root, "links", "host link",
                                         [&](const YAML::Node& n, std::size_t i) { return parse_link(file, n, i); });
  c.groups = parse_list<link_group_config>(
      file, root, "link_groups", "link group",
      [&](const YAML::Node& n, std::size_t i) { return parse_group(file, n, i, c.links); });
  c.routes = parse_list<route_config>(file, root, "routes", "route", [&](const YAML::Node& n, std::size_t i) {
    return parse_route(file, n, i, c.groups, c.links);
  });
  c.terminal_groups = parse_list<terminal_group_config>(
      file, root, "terminal_groups", "terminal group",
      [&](const YAML::Node& n, std::size_t i) { return parse_terminal_group(file, n, i, c.listeners); });
  check_terminal_group_names(file, root, c);
  if (root["hsm"]) c.hsm = parse_hsm_config(root["hsm"], file);
  if (!c.hsm) {
    // PIN keys live in the HSM: naming one without an HSM is a dangling name.
    const auto needs_hsm = [&](const char* section, std::size_t i, const std::string& key) {
      if (key.empty()) return;
      fail(file, root[section][i]["pin_key"],
           std::string(section) + "[" + std::to_string(i) + "].pin_key '" + key + "' needs an HSM",
           "add an hsm: section holding the key");
    };
    for (std::size_t i = 0; i < c.listeners.size(); ++i) needs_hsm("listeners", i, c.listeners[i].pin_key);
    for (std::size_t i = 0; i < c.routes.size(); ++i) needs_hsm("routes", i, c.routes[i].pin_key);
    check_keys_need_hsm(file, root, c);
  }
  if (const YAML::Node j = root["journal"]) c.journal = parse_journal(file, j);
  if (root["metrics"]) c.metrics = detail::parse_metrics(file, root["metrics"]);
  if (root["logging"]) c.logging = detail::parse_logging(file, root["logging"]);
  return c;
}

switch_config parse_switch_config_text(std::string_view yaml, const std::filesystem::path& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw config_error(file.string() + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  return parse_switch_config(root, file);
}

switch_config load_switch_config(const std::filesystem::path& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw config_error(file.string() + ": cannot read the file");
  } catch (const YAML::Exception& e) {
    throw config_error(file.string() + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  return parse_switch_config(root, file);
}

}  // namespace eft::config
