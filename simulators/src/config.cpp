// Simulator configs: YAML -> typed structs, every error with file, line and a hint.
#include "eft/simulators/config.hpp"

#include <yaml-cpp/yaml.h>

#include <limits>

#include "eft/crypto/dukpt.hpp"
#include "eft/iso8583/spec.hpp"
#include "eft/simulators/terminal.hpp"
#include "yaml_util.hpp"

namespace eft::simulators {
namespace {

using config::detail::cat;
using config::detail::check_keys;
using config::detail::fail;
using config::detail::flag;
using config::detail::number;
using config::detail::scalar;
namespace fs = std::filesystem;

YAML::Node load_file(const fs::path& file) {
  try {
    return YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw config::config_error(file.string() + ": cannot be read (check the path)");
  } catch (const YAML::ParserException& e) {
    throw config::config_error(file.string() + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg +
                               " (fix the YAML syntax)");
  }
}

crypto::secure_bytes key_hex(const fs::path& file, const YAML::Node& n, const std::string& key,
                             std::initializer_list<std::size_t> sizes) {
  const std::string s = scalar(file, n, key);
  auto k = crypto::secure_from_hex(s);
  bool size_ok = false;
  if (k) {
    for (const auto z : sizes) size_ok = size_ok || k->size() == z;
  }
  if (!k || !size_ok) {
    std::string lens;
    for (const auto z : sizes) lens += (lens.empty() ? "" : " or ") + std::to_string(z * 2);
    fail(file, n, key + " is not a key of " + lens + " hex digits", "write the test key in hex");
  }
  return std::move(*k);
}

// Whether a value may appear in an error message: card data and PIN verification values never do
// (DESIGN.md: no PAN, track data, PIN, PVV or offset in an error).
enum class shown : bool { no, yes };

std::string digits(const fs::path& file, const YAML::Node& n, const std::string& key, std::size_t min, std::size_t max,
                   shown show = shown::yes) {
  const std::string s = scalar(file, n, key);
  if (!config::detail::all_digits(s) || s.size() < min || s.size() > max) {
    const std::string value = show == shown::yes ? " '" + s + "'" : std::string();
    fail(file, n, cat({key, value, " is not ", std::to_string(min), "-", std::to_string(max), " digits"}),
         "quote it so YAML keeps leading zeros");
  }
  return s;
}

std::uint64_t amount(const fs::path& file, const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(file, n, key);
  const auto v = parse_amount(s);
  if (!v) fail(file, n, key + " '" + s + "' is not an amount", "write major units with two decimals, e.g. 12.34");
  return *v;
}

// Field 39 of three characters: the spec answers with ISO 8583:1993 action codes.
bool has_action_codes(const iso8583::spec& spec) {
  const auto* f39 = spec.field(39);
  return f39 != nullptr && f39->length == 3;
}

// The edition a termsim target's requests follow (version: 1987 or 1993), checked against its spec:
// ISO 8583:1993 requests need its fields 12 (n 12), 24 (function code) and 56 (original data,
// subfields 1-3), and its answers a 3-digit field 39; a 1993 spec under 1987 requests would
// misread every answer.
void edition_fits_spec(const fs::path& file, const YAML::Node& n, const std::string& where, endpoint_config& e) {
  const auto spec = iso8583::load_spec(e.spec);
  if (n["version"]) {
    const std::string v = scalar(file, n["version"], where + ".version");
    if (v == "1987") {
      e.edition = iso_edition::v1987;
    } else if (v == "1993") {
      e.edition = iso_edition::v1993;
    } else {
      fail(file, n["version"], where + ".version '" + v + "' is unknown",
           "use 1987 (MTIs 0xxx) or 1993 (MTIs 1xxx, function and action codes)");
    }
  }
  const YAML::Node at = n["version"] ? n["version"] : n["spec"] ? n["spec"] : n;
  if (e.edition == iso_edition::v1987 && has_action_codes(*spec)) {
    fail(file, at,
         where + ": spec " + spec->name +
             " has a 3-digit field 39 (ISO 8583:1993 action codes), but the requests follow ISO 8583:1987",
         "add version: 1993 to " + where + ", or use an ISO 8583:1987 spec");
  }
  if (e.edition == iso_edition::v1993) {
    std::string missing;
    const auto* f12 = spec->field(12);
    if (f12 == nullptr || f12->length != 12) missing += ", 12 (local date and time, n 12)";
    if (spec->field(24) == nullptr) missing += ", 24 (function code)";
    if (!has_action_codes(*spec)) missing += ", 39 (action code, n 3)";
    const auto* f56 = spec->field(56);
    if (f56 == nullptr || f56->composite != iso8583::composite_kind::positional || f56->subfield(3) == nullptr)
      missing += ", 56 (original data elements, with subfields)";
    if (!missing.empty()) {
      fail(file, at,
           where + ": ISO 8583:1993 requests need spec fields that " + spec->name + " lacks: " + missing.substr(2),
           "use spec: iso93-ascii, or a spec file with the ISO 8583:1993 fields");
    }
  }
}

// `versioned`: the endpoint takes version: (termsim's target, whose requests follow one edition;
// hostsim answers each request in the edition of its MTI).
endpoint_config endpoint(const fs::path& file, const YAML::Node& n, const std::string& where, bool versioned) {
  if (versioned) {
    check_keys(file, n, where, {"address", "port", "framing", "spec", "max_frame", "tpdu", "version"});
  } else {
    check_keys(file, n, where, {"address", "port", "framing", "spec", "max_frame", "tpdu"});
  }
  endpoint_config e;
  if (n["address"]) e.address = scalar(file, n["address"], where + ".address");
  if (n["port"]) e.port = static_cast<std::uint16_t>(number(file, n["port"], where + ".port", 0, 65535));
  if (n["framing"]) {
    const std::string f = scalar(file, n["framing"], where + ".framing");
    const auto k = switch_core::parse_framing_kind(f);
    if (!k)
      fail(file, n["framing"], "framing '" + f + "' is unknown", "use len2, len2+tpdu, len2-inclusive, ascii4 or len4");
    e.framing = *k;
  }
  if (n["spec"]) {
    e.spec = scalar(file, n["spec"], where + ".spec");
    bool builtin = false;
    for (const auto& b : iso8583::builtin_spec_names()) builtin = builtin || b == e.spec;
    if (!builtin) e.spec = config::detail::relative_to(file, e.spec).string();
    try {
      (void)iso8583::load_spec(e.spec);
    } catch (const iso8583::spec_error& err) {
      fail(file, n["spec"], std::string("spec cannot be loaded: ") + err.what(),
           "name a built-in dialect or a spec file");
    }
  }
  if (n["max_frame"]) e.max_frame = number(file, n["max_frame"], where + ".max_frame", 16, 65535);
  if (n["tpdu"]) {
    const std::string t = scalar(file, n["tpdu"], where + ".tpdu");
    const auto b = crypto::from_hex(t);
    if (!b || b->size() != 5) fail(file, n["tpdu"], "tpdu '" + t + "' is not 10 hex digits", "e.g. 6000010000");
    switch_core::tpdu tp;
    std::copy(b->begin(), b->end(), tp.bytes.begin());
    e.tpdu = tp;
  }
  if (e.framing == switch_core::framing_kind::len2_tpdu && !e.tpdu) {
    e.tpdu = switch_core::tpdu{{0x60, 0x00, 0x01, 0x00, 0x00}};
  }
  if (versioned) edition_fits_spec(file, n, where, e);
  return e;
}

crypto::pin_block_format pin_format(const fs::path& file, const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(file, n, key);
  if (s == "iso0") return crypto::pin_block_format::iso0;
  if (s == "iso1") return crypto::pin_block_format::iso1;
  if (s == "iso3") return crypto::pin_block_format::iso3;
  if (s == "iso4") return crypto::pin_block_format::iso4;
  fail(file, n, key + " '" + s + "' is unknown", "use iso0, iso1, iso3 or iso4");
}

emv::cryptogram_version cvn(const fs::path& file, const YAML::Node& n, const std::string& key) {
  const auto v = number(file, n, key, 10, 22);
  switch (v) {
    case 10:
      return emv::cryptogram_version::visa_10;
    case 18:
      return emv::cryptogram_version::visa_18;
    case 22:
      return emv::cryptogram_version::visa_22;
    case 16:
      return emv::cryptogram_version::mastercard_16;
    case 17:
      return emv::cryptogram_version::mastercard_17;
    case 20:
      return emv::cryptogram_version::mastercard_20;
    case 21:
      return emv::cryptogram_version::mastercard_21;
    default:
      fail(file, n, key + " " + std::to_string(v) + " is not supported",
           "use 10, 18, 22 (Visa) or 16, 17, 20, 21 (Mastercard)");
  }
}

terminal_config terminal(const fs::path& file, const YAML::Node& n, const std::string& where) {
  check_keys(file, n, where, {"id", "merchant", "kind", "pin_key", "pin_format", "bdk", "ksn", "ksn_field", "mac_key"});
  terminal_config t;
  if (n["id"]) t.id = scalar(file, n["id"], where + ".id");
  if (t.id.empty() || t.id.size() > 8) fail(file, n["id"], where + ".id must be 1-8 characters");
  while (t.id.size() < 8) t.id += ' ';
  if (n["merchant"]) t.merchant = scalar(file, n["merchant"], where + ".merchant");
  if (t.merchant.empty() || t.merchant.size() > 15)
    fail(file, n["merchant"], where + ".merchant must be 1-15 characters");
  while (t.merchant.size() < 15) t.merchant += ' ';
  if (n["kind"]) {
    const std::string k = scalar(file, n["kind"], where + ".kind");
    if (k != "pos" && k != "atm") fail(file, n["kind"], "kind '" + k + "' is unknown", "use pos or atm");
    t.atm = k == "atm";
  }
  if (n["pin_key"] && n["bdk"])
    fail(file, n["bdk"], where + " has both pin_key and bdk", "a terminal uses a static TPK or DUKPT, not both");
  if (n["pin_key"]) t.pin_key = key_hex(file, n["pin_key"], where + ".pin_key", {16, 24});
  if (n["pin_format"]) t.pin_format = pin_format(file, n["pin_format"], where + ".pin_format");
  if (n["bdk"]) {
    if (!n["ksn"])
      fail(file, n["bdk"], where + " has a bdk but no ksn", "add the device's initial KSN (20 or 24 hex digits)");
    const std::string ksn = scalar(file, n["ksn"], where + ".ksn");
    const auto k = crypto::from_hex(ksn);
    if (!k || (k->size() != crypto::dukpt_tdes_ksn_size && k->size() != 12)) {
      fail(file, n["ksn"], where + ".ksn is not 20 (TDES) or 24 (AES) hex digits");
    }
    t.ksn = *k;
    if (t.ksn.size() == 12) {
      t.pin = pin_protection::dukpt_aes;
      t.pin_key = key_hex(file, n["bdk"], where + ".bdk", {16, 24, 32});
      t.pin_format = crypto::pin_block_format::iso4;
    } else {
      t.pin = pin_protection::dukpt_tdes;
      t.pin_key = key_hex(file, n["bdk"], where + ".bdk", {16});
    }
  }
  if (n["ksn_field"])
    t.ksn_field = static_cast<std::uint32_t>(number(file, n["ksn_field"], where + ".ksn_field", 2, 128));
  if (n["mac_key"]) t.mac_key = key_hex(file, n["mac_key"], where + ".mac_key", {16});
  return t;
}

card_config card(const fs::path& file, const YAML::Node& n, const std::string& where) {
  check_keys(file, n, where,
             {"pan", "expiry", "service_code", "discretionary", "pin", "chip", "cvn", "psn", "atc", "imk"});
  card_config c;
  if (!n["pan"]) fail(file, n, where + " has no pan", "add pan: \"...\" (12-19 digits)");
  c.pan = digits(file, n["pan"], where + ".pan", 12, 19, shown::no);
  if (n["expiry"]) c.expiry = digits(file, n["expiry"], where + ".expiry", 4, 4, shown::no);
  if (n["service_code"]) c.service_code = digits(file, n["service_code"], where + ".service_code", 3, 3);
  if (n["discretionary"]) {
    // Track 2 holds 37 characters: PAN, separator, expiry, service code, then this.
    const std::size_t room = 37 - c.pan.size() - 8;
    c.discretionary = digits(file, n["discretionary"], where + ".discretionary", 1, room, shown::no);
  }
  if (n["pin"]) c.pin = digits(file, n["pin"], where + ".pin", 4, 12, shown::no);
  if (n["chip"]) c.chip = flag(file, n["chip"], where + ".chip");
  if (n["cvn"]) c.cvn = cvn(file, n["cvn"], where + ".cvn");
  if (n["psn"]) c.psn = digits(file, n["psn"], where + ".psn", 2, 2);
  if (n["atc"]) c.atc = static_cast<std::uint16_t>(number(file, n["atc"], where + ".atc", 0, 65535));
  if (n["imk"]) c.imk = key_hex(file, n["imk"], where + ".imk", {16});
  if (c.chip && c.imk.empty())
    fail(file, n, where + " is a chip card without an imk", "add imk: (32 hex digits) or chip: false");
  return c;
}

std::optional<std::string> rc(const fs::path& file, const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(file, n, key);
  if (s.size() != 2) fail(file, n, key + " '" + s + "' is not a 2-character response code", "quote it: \"05\"");
  return s;
}

// The wait of a delay or late fault: its distribution and the parameters that distribution reads. A
// parameter the distribution does not read is refused rather than ignored: jitter_ms: 20 next to an
// exponential distribution promises a spread the draws would not have.
void fault_wait(const fs::path& file, const YAML::Node& n, const std::string& where, fault_rule& f) {
  const std::string action(to_string(f.action));
  if (n["distribution"]) {
    const std::string d = scalar(file, n["distribution"], where + ".distribution");
    const auto k = parse_delay_distribution(d);
    if (!k)
      fail(file, n["distribution"], where + ".distribution '" + d + "' is unknown",
           "use uniform, exponential, normal or lognormal");
    if (f.action != fault_action::delay && f.action != fault_action::late) {
      fail(file, n["distribution"], where + ".distribution applies to delay and late faults, not to " + action,
           "remove it, or use action: delay");
    }
    f.distribution = *k;
  }
  // A wait only delay and late faults make: on another action it would be silently meaningless.
  for (const char* key : {"delay_ms", "jitter_ms"}) {
    if (n[key] && f.action != fault_action::delay && f.action != fault_action::late) {
      fail(file, n[key], where + "." + key + " applies to delay and late faults, not to " + action,
           "remove it, or use action: delay");
    }
  }
  if (n["sigma"] && f.action != fault_action::delay && f.action != fault_action::late) {
    fail(file, n["sigma"], where + ".sigma applies to delay and late faults, not to " + action,
         "remove it, or use action: delay");
  }
  const std::string named = where + (f.distribution == delay_distribution::exponential ? " has an " : " has a ") +
                            std::string(to_string(f.distribution)) + " distribution";
  if (n["sigma"]) {
    if (f.distribution != delay_distribution::lognormal) {
      fail(file, n["sigma"], where + ".sigma is the shape of a lognormal distribution, but " + named,
           "add distribution: lognormal, or remove sigma");
    }
    const std::string v = scalar(file, n["sigma"], where + ".sigma");
    char* end = nullptr;
    f.sigma = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0' || !(f.sigma > 0 && f.sigma <= 10)) {
      fail(file, n["sigma"], where + ".sigma '" + v + "' is not a shape above 0 and at most 10",
           "the standard deviation of ln(delay), e.g. 0.5");
    }
  }
  const YAML::Node at_delay = n["delay_ms"] ? n["delay_ms"] : n;
  switch (f.distribution) {
    case delay_distribution::uniform:
      break;
    case delay_distribution::exponential:
      if (n["jitter_ms"]) {
        fail(file, n["jitter_ms"], where + ".jitter_ms has no part in an exponential distribution",
             "its mean delay_ms also sets its spread: remove jitter_ms, or use distribution: normal");
      }
      if (f.delay_ms == 0) fail(file, at_delay, named + " of mean 0", "set delay_ms above 0: the mean wait");
      break;
    case delay_distribution::normal:
      if (f.jitter_ms == 0) {
        fail(file, n["jitter_ms"] ? n["jitter_ms"] : n, named + " without a standard deviation",
             "set jitter_ms above 0: the standard deviation");
      }
      break;
    case delay_distribution::lognormal:
      if (n["jitter_ms"]) {
        fail(file, n["jitter_ms"], where + ".jitter_ms has no part in a lognormal distribution",
             "its spread is sigma: remove jitter_ms");
      }
      if (f.delay_ms == 0) fail(file, at_delay, named + " of median 0", "set delay_ms above 0: the median wait");
      if (!n["sigma"]) {
        fail(file, n["distribution"], named + " without sigma",
             "add sigma: the standard deviation of ln(delay); 0.5 puts p99 at about 3.2 x the median");
      }
      break;
  }
}

// What a garbage fault writes.
void fault_garbage(const fs::path& file, const YAML::Node& n, const std::string& where, fault_rule& f) {
  if (!n["garbage"]) return;
  const std::string g = scalar(file, n["garbage"], where + ".garbage");
  if (g == to_string(garbage_kind::body)) {
    f.garbage = garbage_kind::body;
  } else if (g == to_string(garbage_kind::framing)) {
    f.garbage = garbage_kind::framing;
  } else {
    fail(file, n["garbage"], where + ".garbage '" + g + "' is unknown",
         "use body (a junk message in a good frame) or framing (a bad length header, then the link closes)");
  }
  if (f.action != fault_action::garbage) {
    fail(file, n["garbage"], where + ".garbage applies to garbage faults, not to " + std::string(to_string(f.action)),
         "remove it, or use action: garbage");
  }
}

}  // namespace

std::string_view to_string(txn_type t) noexcept {
  switch (t) {
    case txn_type::purchase:
      return "purchase";
    case txn_type::contactless:
      return "contactless";
    case txn_type::magstripe_fallback:
      return "magstripe_fallback";
    case txn_type::atm_withdrawal:
      return "atm_withdrawal";
    case txn_type::balance_inquiry:
      return "balance_inquiry";
    case txn_type::refund:
      return "refund";
    case txn_type::reversal:
      return "reversal";
  }
  return "?";
}

std::optional<txn_type> parse_txn_type(std::string_view name) noexcept {
  for (std::size_t i = 0; i < txn_type_count; ++i) {
    if (to_string(static_cast<txn_type>(i)) == name) return static_cast<txn_type>(i);
  }
  if (name == "withdrawal") return txn_type::atm_withdrawal;
  if (name == "balance") return txn_type::balance_inquiry;
  if (name == "fallback") return txn_type::magstripe_fallback;
  return std::nullopt;
}

std::string_view to_string(fault_action a) noexcept {
  switch (a) {
    case fault_action::delay:
      return "delay";
    case fault_action::no_answer:
      return "no_answer";
    case fault_action::duplicate:
      return "duplicate";
    case fault_action::late:
      return "late";
    case fault_action::disconnect:
      return "disconnect";
    case fault_action::garbage:
      return "garbage";
  }
  return "?";
}

std::string_view to_string(delay_distribution d) noexcept {
  switch (d) {
    case delay_distribution::uniform:
      return "uniform";
    case delay_distribution::exponential:
      return "exponential";
    case delay_distribution::normal:
      return "normal";
    case delay_distribution::lognormal:
      return "lognormal";
  }
  return "?";
}

std::optional<delay_distribution> parse_delay_distribution(std::string_view name) noexcept {
  for (const auto d : {delay_distribution::uniform, delay_distribution::exponential, delay_distribution::normal,
                       delay_distribution::lognormal}) {
    if (to_string(d) == name) return d;
  }
  return std::nullopt;
}

std::string_view to_string(garbage_kind g) noexcept {
  switch (g) {
    case garbage_kind::body:
      return "body";
    case garbage_kind::framing:
      return "framing";
  }
  return "?";
}

std::optional<std::uint64_t> parse_amount(std::string_view s) noexcept {
  if (s.empty() || s.size() > 13) return std::nullopt;
  const auto dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  std::string_view cents = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && (cents.empty() || cents.size() > 2))) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  std::uint64_t minor = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    const char c = i < cents.size() ? cents[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    minor = minor * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v * 100 + minor;
}

termsim_config load_termsim_config(const fs::path& file) {
  const YAML::Node root = load_file(file);
  termsim_config c;
  c.file = file;
  if (!root.IsMap()) fail(file, root, "a termsim config is a map", "start with target:, terminals:, cards:");
  check_keys(file, root, "", {"target", "timeout_ms", "terminals", "cards", "mix", "amount", "currency"});
  if (!root["target"])
    fail(file, root,
         "no target:", "add target: {address: 127.0.0.1, port: 5000, framing: len2+tpdu, spec: iso87-binary}");
  c.target = endpoint(file, root["target"], "target", true);
  if (c.target.port == 0) fail(file, root["target"], "target.port is missing or 0", "the port of the switch or host");
  if (root["timeout_ms"])
    c.timeout_ms = static_cast<std::uint32_t>(number(file, root["timeout_ms"], "timeout_ms", 1, 600000));
  if (!root["terminals"] || !root["terminals"].IsSequence() || root["terminals"].size() == 0) {
    fail(file, root["terminals"] ? root["terminals"] : root, "terminals: must list at least one terminal",
         "- {id: POS00001, merchant: SHOP1, pin_key: ...}");
  }
  // The target's spec must carry every terminal's PIN block and KSN: refused here rather than in
  // every transaction of a run.
  const auto spec = iso8583::load_spec(c.target.spec);
  for (std::size_t i = 0; i < root["terminals"].size(); ++i) {
    const YAML::Node n = root["terminals"][i];
    const std::string where = "terminals[" + std::to_string(i) + "]";
    c.terminals.push_back(terminal(file, n, where));
    if (const auto p = pin_block_fit(c.terminals.back(), *spec))
      fail(file, n["bdk"] ? n["bdk"] : n["pin_format"] ? n["pin_format"] : n, where + ": " + p.what, p.fix);
    if (const auto p = ksn_fit(c.terminals.back(), *spec))
      fail(file, n["ksn_field"] ? n["ksn_field"] : n["ksn"], where + ": " + p.what, p.fix);
  }
  if (!root["cards"] || !root["cards"].IsSequence() || root["cards"].size() == 0) {
    fail(file, root["cards"] ? root["cards"] : root, "cards: must list at least one card",
         "- {pan: \"4761739001010010\", pin: \"1234\", imk: ...}");
  }
  for (std::size_t i = 0; i < root["cards"].size(); ++i) {
    c.cards.push_back(card(file, root["cards"][i], "cards[" + std::to_string(i) + "]"));
  }
  c.mix.fill(0);
  if (root["mix"]) {
    const YAML::Node m = root["mix"];
    if (!m.IsMap())
      fail(file, m, "mix: is a map of transaction type to weight", "e.g. mix: {purchase: 60, atm_withdrawal: 40}");
    for (const auto& kv : m) {
      const std::string k = kv.first.Scalar();
      const auto t = parse_txn_type(k);
      if (!t) {
        fail(file, kv.first, "mix type '" + k + "' is unknown",
             "use purchase, contactless, magstripe_fallback, atm_withdrawal, balance_inquiry, refund or reversal");
      }
      c.mix[static_cast<std::size_t>(*t)] = static_cast<std::uint32_t>(number(file, kv.second, "mix." + k, 0, 1000000));
    }
  } else {
    c.mix[static_cast<std::size_t>(txn_type::purchase)] = 1;
  }
  if (root["amount"]) {
    const YAML::Node a = root["amount"];
    check_keys(file, a, "amount", {"min", "max"});
    if (a["min"]) c.amount_min = amount(file, a["min"], "amount.min");
    if (a["max"]) c.amount_max = amount(file, a["max"], "amount.max");
    if (c.amount_max < c.amount_min) fail(file, a, "amount.max is below amount.min");
  }
  if (root["currency"]) c.currency = digits(file, root["currency"], "currency", 3, 3);
  return c;
}

hostsim_config load_hostsim_config(const fs::path& file) {
  const YAML::Node root = load_file(file);
  hostsim_config c;
  c.file = file;
  if (!root.IsMap()) fail(file, root, "a hostsim config is a map", "start with listeners:");
  check_keys(file, root, "", {"hostsim", "listeners", "keys", "cards", "rules", "faults"});
  if (const YAML::Node h = root["hostsim"]) {
    check_keys(file, h, "hostsim", {"threads", "record", "record_transactions", "fault_seed"});
    if (h["threads"]) c.threads = static_cast<std::uint32_t>(number(file, h["threads"], "hostsim.threads", 1, 64));
    if (h["record"]) c.record = config::detail::relative_to(file, scalar(file, h["record"], "hostsim.record"));
    if (h["record_transactions"])
      c.record_transactions = flag(file, h["record_transactions"], "hostsim.record_transactions");
    if (h["fault_seed"])
      c.fault_seed = number(file, h["fault_seed"], "hostsim.fault_seed", 0, std::numeric_limits<std::uint64_t>::max());
  }
  const YAML::Node ls = root["listeners"];
  if (!ls || !ls.IsSequence() || ls.size() == 0) {
    fail(file, ls ? ls : root, "listeners: must list at least one listener",
         "- {port: 7000, framing: len2, spec: iso87-ascii}");
  }
  for (std::size_t i = 0; i < ls.size(); ++i)
    c.listeners.push_back(endpoint(file, ls[i], "listeners[" + std::to_string(i) + "]", false));
  // A listener whose spec has ISO 8583:1993 action codes answers 1xxx requests with them: every
  // response code the rules name needs one.
  bool action_codes = false;
  for (const auto& l : c.listeners) action_codes = action_codes || has_action_codes(*iso8583::load_spec(l.spec));
  const auto answerable = [&](const YAML::Node& n, const std::string& key, const std::string& code) {
    if (action_codes && !action_code_for(code))
      fail(file, n, key + " '" + code + "' has no ISO 8583:1993 action code in hostsim's table",
           "use one of " + response_codes_with_action_codes());
  };
  if (const YAML::Node k = root["keys"]) {
    check_keys(file, k, "keys",
               {"zpk", "pin_format", "pvk", "pvki", "ibm3624_pvk", "decimalization", "validation_data", "imk", "bdk",
                "aes_bdk", "mac_key", "ksn_field"});
    if (k["zpk"]) c.zpk = key_hex(file, k["zpk"], "keys.zpk", {16, 24, 32});
    if (k["pin_format"]) c.pin_format = pin_format(file, k["pin_format"], "keys.pin_format");
    if (k["pvk"]) c.pvk = key_hex(file, k["pvk"], "keys.pvk", {16, 24});
    if (k["pvki"]) c.pvki = static_cast<int>(number(file, k["pvki"], "keys.pvki", 0, 9));
    if (k["ibm3624_pvk"]) c.ibm3624_pvk = key_hex(file, k["ibm3624_pvk"], "keys.ibm3624_pvk", {8, 16, 24});
    if (k["decimalization"])
      c.decimalization = digits(file, k["decimalization"], "keys.decimalization", 16, 16, shown::no);
    if (k["validation_data"]) c.validation_data = scalar(file, k["validation_data"], "keys.validation_data");
    if (k["imk"]) c.imk = key_hex(file, k["imk"], "keys.imk", {16});
    if (k["bdk"]) c.bdk = key_hex(file, k["bdk"], "keys.bdk", {16});
    if (k["aes_bdk"]) c.aes_bdk = key_hex(file, k["aes_bdk"], "keys.aes_bdk", {16, 24, 32});
    if (k["mac_key"]) c.mac_key = key_hex(file, k["mac_key"], "keys.mac_key", {16});
    if (k["ksn_field"])
      c.ksn_field = static_cast<std::uint32_t>(number(file, k["ksn_field"], "keys.ksn_field", 2, 128));
  }
  if (const YAML::Node cs = root["cards"]) {
    if (!cs.IsSequence()) fail(file, cs, "cards: is a list", "- {pan: \"...\", pvv: \"1234\", balance: 500.00}");
    for (std::size_t i = 0; i < cs.size(); ++i) {
      const std::string where = "cards[" + std::to_string(i) + "]";
      const YAML::Node n = cs[i];
      check_keys(file, n, where, {"pan", "pvv", "offset", "decline", "balance", "limit"});
      issuer_card ic;
      if (!n["pan"]) fail(file, n, where + " has no pan", "add pan: \"...\"");
      ic.pan = digits(file, n["pan"], where + ".pan", 12, 19, shown::no);
      if (n["pvv"]) ic.pvv = digits(file, n["pvv"], where + ".pvv", 4, 4, shown::no);
      if (n["offset"]) ic.offset = digits(file, n["offset"], where + ".offset", 4, 12, shown::no);
      if (!ic.pvv.empty() && c.pvk.empty())
        fail(file, n["pvv"], where + " has a pvv but keys.pvk is not set", "add keys.pvk");
      if (!ic.offset.empty() && c.ibm3624_pvk.empty())
        fail(file, n["offset"], where + " has an offset but keys.ibm3624_pvk is not set", "add keys.ibm3624_pvk");
      if (n["decline"]) {
        ic.decline = rc(file, n["decline"], where + ".decline");
        answerable(n["decline"], where + ".decline", *ic.decline);
      }
      if (n["balance"]) ic.balance = static_cast<std::int64_t>(amount(file, n["balance"], where + ".balance"));
      if (n["limit"]) ic.limit = amount(file, n["limit"], where + ".limit");
      c.cards.push_back(std::move(ic));
    }
  }
  if (const YAML::Node r = root["rules"]) {
    check_keys(file, r, "rules", {"unknown_card", "limit"});
    if (r["unknown_card"]) {
      c.unknown_card_rc = *rc(file, r["unknown_card"], "rules.unknown_card");
      answerable(r["unknown_card"], "rules.unknown_card", c.unknown_card_rc);
    }
    if (r["limit"]) c.limit = amount(file, r["limit"], "rules.limit");
  }
  if (const YAML::Node fs_ = root["faults"]) {
    if (!fs_.IsSequence()) fail(file, fs_, "faults: is a list", "- {action: delay, delay_ms: 100, rate: 0.1}");
    for (std::size_t i = 0; i < fs_.size(); ++i) {
      const std::string where = "faults[" + std::to_string(i) + "]";
      const YAML::Node n = fs_[i];
      check_keys(
          file, n, where,
          {"action", "rate", "mti", "pan", "amount", "delay_ms", "jitter_ms", "distribution", "sigma", "garbage"});
      fault_rule f;
      if (!n["action"])
        fail(file, n, where + " has no action", "use delay, no_answer, duplicate, late, disconnect or garbage");
      const std::string a = scalar(file, n["action"], where + ".action");
      bool known = false;
      for (int k = 0; k <= static_cast<int>(fault_action::garbage); ++k) {
        if (to_string(static_cast<fault_action>(k)) == a) {
          f.action = static_cast<fault_action>(k);
          known = true;
        }
      }
      if (!known)
        fail(file, n["action"], "action '" + a + "' is unknown",
             "use delay, no_answer, duplicate, late, disconnect or garbage");
      if (n["rate"]) {
        const std::string r = scalar(file, n["rate"], where + ".rate");
        char* end = nullptr;
        f.rate = std::strtod(r.c_str(), &end);
        if (end == r.c_str() || *end != '\0' || !(f.rate >= 0 && f.rate <= 1))  // NaN too
          fail(file, n["rate"], where + ".rate '" + r + "' is not a probability", "a number from 0 to 1");
      }
      if (n["mti"]) f.mti = config::detail::list(file, n["mti"], where + ".mti");
      if (n["pan"]) f.pan = digits(file, n["pan"], where + ".pan", 12, 19, shown::no);
      if (n["amount"]) f.amount = amount(file, n["amount"], where + ".amount");
      if (n["delay_ms"]) {
        f.delay_ms =
            static_cast<std::uint32_t>(number(file, n["delay_ms"], where + ".delay_ms", 0, max_fault_delay_ms));
      }
      if (n["jitter_ms"]) {
        f.jitter_ms =
            static_cast<std::uint32_t>(number(file, n["jitter_ms"], where + ".jitter_ms", 0, max_fault_delay_ms));
      }
      if (f.action == fault_action::late && f.delay_ms == 0) f.delay_ms = 30000;
      fault_wait(file, n, where, f);
      fault_garbage(file, n, where, f);
      c.faults.push_back(std::move(f));
    }
  }
  return c;
}

}  // namespace eft::simulators
