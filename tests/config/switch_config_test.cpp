// The deployment config of eftswitch: typed values and defaults, and errors that name the file and
// line and say how to fix them (unknown keys, bad framings, dangling and duplicate names, ...).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "eft/config/switch.hpp"

namespace eft::config {
namespace {

const std::filesystem::path file = "/etc/eft/switch.yaml";

// A complete, valid config; tests edit a copy.
const std::string base = R"(switch:
  workers: 2
  status_interval_ms: 5000
listeners:
  - name: pos
    address: 127.0.0.1
    port: 5000
    framing: len2+tpdu
    spec: iso87-binary
    max_connections: 20000
    max_connections_per_address: 50
    idle_timeout_ms: 60000
    read_deadline_ms: 2000
links:
  - name: acq1-a
    addresses: [10.0.0.5:7000, "[::1]:7001"]
    spec: iso87-ascii
    reconnect_min_ms: 100
    reconnect_max_ms: 5000
    echo_interval_ms: 0
  - name: acq1-b
    addresses: host.example:7000
    spec: iso87-ascii
    sign_on: false
    match_key: 11,37,32
link_groups:
  - name: acquirer
    links: [acq1-a, acq1-b]
    policy: round_robin
routes:
  - name: visa
    match: {pan_prefixes: [4], mti: [0100, 0200], processing_code: [00, 01]}
    to: acquirer
    timeout_ms: 15000
  - name: default
    to: acquirer
    timeout_rc: "68"
journal:
  path: data/journal.db
)";

switch_config parse(const std::string& yaml) {
  return parse_switch_config_text(yaml, file);
}

std::string error_of(const std::string& yaml) {
  try {
    (void)parse(yaml);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(SwitchConfig, ReadsEverySection) {
  const auto c = parse(base);
  EXPECT_EQ(c.workers, 2U);
  EXPECT_EQ(c.status_interval_ms, 5000U);
  EXPECT_EQ(c.shutdown_grace_ms, 10000U);
  ASSERT_EQ(c.listeners.size(), 1U);
  const auto& l = c.listeners[0];
  EXPECT_EQ(l.name, "pos");
  EXPECT_EQ(l.address, "127.0.0.1");
  EXPECT_EQ(l.port, 5000);
  EXPECT_EQ(l.framing, "len2+tpdu");
  EXPECT_EQ(l.spec, "iso87-binary");
  EXPECT_EQ(l.max_connections, 20000U);
  EXPECT_EQ(l.max_connections_per_address, 50U);
  EXPECT_EQ(l.max_frame, 8192U);
  EXPECT_EQ(l.idle_timeout_ms, 60000U);
  EXPECT_EQ(l.read_deadline_ms, 2000U);
  EXPECT_EQ(l.line, 5);

  ASSERT_EQ(c.links.size(), 2U);
  const auto& a = c.links[0];
  ASSERT_EQ(a.addresses.size(), 2U);
  EXPECT_EQ(a.addresses[0].host, "10.0.0.5");
  EXPECT_EQ(a.addresses[0].port, 7000);
  EXPECT_EQ(a.addresses[1].host, "::1");
  EXPECT_EQ(a.addresses[1].port, 7001);
  EXPECT_EQ(a.framing, "len2");
  EXPECT_EQ(a.reconnect_min_ms, 100U);
  EXPECT_EQ(a.reconnect_max_ms, 5000U);
  EXPECT_EQ(a.echo_interval_ms, 0U);
  EXPECT_TRUE(a.sign_on);
  EXPECT_EQ(a.match_key, (std::vector<std::string>{"mti_class", "11", "41"}));
  const auto& b = c.links[1];
  EXPECT_EQ(b.addresses[0].host, "host.example");
  EXPECT_FALSE(b.sign_on);
  EXPECT_EQ(b.match_key, (std::vector<std::string>{"11", "37", "32"}));

  ASSERT_EQ(c.groups.size(), 1U);
  EXPECT_EQ(c.groups[0].policy, group_policy::round_robin);
  EXPECT_EQ(c.groups[0].links, (std::vector<std::string>{"acq1-a", "acq1-b"}));
  ASSERT_NE(c.group("acquirer"), nullptr);
  ASSERT_NE(c.link("acq1-b"), nullptr);
  EXPECT_EQ(c.link("nope"), nullptr);

  ASSERT_EQ(c.routes.size(), 2U);
  EXPECT_EQ(c.routes[0].pan_prefixes, (std::vector<std::string>{"4"}));
  EXPECT_EQ(c.routes[0].mtis, (std::vector<std::string>{"0100", "0200"}));
  EXPECT_EQ(c.routes[0].processing_codes, (std::vector<std::string>{"00", "01"}));
  EXPECT_EQ(c.routes[0].timeout_ms, 15000U);
  EXPECT_EQ(c.routes[0].timeout_rc, "91");
  EXPECT_EQ(c.routes[1].timeout_rc, "68");
  EXPECT_TRUE(c.routes[1].pan_prefixes.empty());
  EXPECT_EQ(c.routes[1].timeout_ms, 30000U);
  EXPECT_EQ(c.journal.path, std::filesystem::path("/etc/eft/data/journal.db"));
  EXPECT_FALSE(c.hsm.has_value());
}

TEST(SwitchConfig, HsmSectionIsTheSharedParser) {
  const auto c = parse(base + "hsm:\n  backend: software\n  key_file: keys.yaml\n");
  ASSERT_TRUE(c.hsm.has_value());
  EXPECT_EQ(c.hsm->key_file, std::filesystem::path("/etc/eft/keys.yaml"));
  EXPECT_EQ(error_of(base + "hsm:\n  backend: sofware\n  key_file: k\n"),
            "/etc/eft/switch.yaml:41: hsm.backend 'sofware' is unknown (use software or pkcs11)");
}

TEST(SwitchConfig, JournalSection) {
  const std::string j = "journal:\n  path: data/journal.db\n";
  const auto d = parse(base);
  EXPECT_EQ(d.journal.durability, journal_durability_level::power_loss);
  EXPECT_EQ(d.journal.key_env, "EFT_JOURNAL_KEY");
  EXPECT_EQ(d.journal.reversal_mti, "0400");
  EXPECT_EQ(d.journal.reversal_window_s, 86400U);
  EXPECT_EQ(d.journal.duplicate_max_entries, 200000U);
  const auto c =
      parse(replace(base, j,
                    j + "  durability: process_crash\n  key_file: journal.key\n  reversal_mti: 0420\n"
                        "  saf_retry_interval_ms: 5000\n  saf_max_attempts: 12\n  saf_expiry_s: 3600\n"
                        "  queue_limit: 1024\n  reversal_window_s: 172800\n  duplicate_max_entries: 3000000\n"));
  EXPECT_EQ(c.journal.reversal_window_s, 172800U);
  EXPECT_EQ(c.journal.duplicate_max_entries, 3000000U);
  EXPECT_EQ(c.journal.durability, journal_durability_level::process_crash);
  EXPECT_EQ(c.journal.key_file, std::filesystem::path("/etc/eft/journal.key"));
  EXPECT_EQ(c.journal.reversal_mti, "0420");
  EXPECT_EQ(c.journal.saf_retry_interval_ms, 5000U);
  EXPECT_EQ(c.journal.saf_max_attempts, 12U);
  EXPECT_EQ(c.journal.saf_expiry_s, 3600U);
  EXPECT_EQ(c.journal.queue_limit, 1024U);
  const std::string bad = error_of(replace(base, j, j + "  durability: fsync\n"));
  EXPECT_NE(bad.find("/etc/eft/switch.yaml:"), std::string::npos) << bad;
  EXPECT_NE(bad.find("journal.durability 'fsync' is unknown (use process_crash"), std::string::npos) << bad;
  EXPECT_NE(error_of(replace(base, j, j + "  reversal_mti: 0200\n")).find("use 0400 (reversal request) or 0420"),
            std::string::npos);
  const std::string short_window = error_of(replace(base, j, j + "  reversal_window_s: 10\n"));
  EXPECT_NE(short_window.find("/etc/eft/switch.yaml:"), std::string::npos) << short_window;
  EXPECT_NE(short_window.find("journal.reversal_window_s"), std::string::npos) << short_window;
  const std::string few = error_of(replace(base, j, j + "  duplicate_max_entries: 10\n"));
  EXPECT_NE(few.find("/etc/eft/switch.yaml:"), std::string::npos) << few;
  EXPECT_NE(few.find("journal.duplicate_max_entries"), std::string::npos) << few;
  EXPECT_NE(error_of(replace(base, j, "journal:\n  durability: power_loss\n")).find("journal has no path"),
            std::string::npos);
}

TEST(SwitchConfig, PostgresqlJournalNeedsAConninfoWithoutPasswordAndAnInstance) {
  const std::string j = "journal:\n  path: data/journal.db\n";
  EXPECT_EQ(parse(base).journal.backend, journal_backend::sqlite);
  const auto c = parse(replace(base, j,
                               "journal:\n  backend: postgresql\n  conninfo: host=db1 dbname=eft user=eftswitch\n"
                               "  instance: sw1\n  durability: process_crash\n"));
  EXPECT_EQ(c.journal.backend, journal_backend::postgresql);
  EXPECT_EQ(c.journal.conninfo, "host=db1 dbname=eft user=eftswitch");
  EXPECT_EQ(c.journal.instance, "sw1");
  EXPECT_TRUE(c.journal.enabled());
  EXPECT_EQ(c.journal.where(), "postgresql instance sw1");
  EXPECT_TRUE(c.journal.path.empty());
  const auto error = [&](const std::string& section) { return error_of(replace(base, j, section)); };
  for (const char* with_password : {"host=db1 dbname=eft password=s3cret", "host=db1 PASSWORD = s3cret",
                                    "postgresql://eft:s3cret@db1/eft", "postgres://db1/eft?password=s3cret"}) {
    const std::string e =
        error("journal:\n  backend: postgresql\n  conninfo: \"" + std::string(with_password) + "\"\n  instance: sw1\n");
    EXPECT_NE(e.find("/etc/eft/switch.yaml:"), std::string::npos) << e;
    EXPECT_NE(e.find("journal.conninfo holds a password"), std::string::npos) << e;
    EXPECT_NE(e.find("PGPASSWORD"), std::string::npos) << e;
    EXPECT_EQ(e.find("s3cret"), std::string::npos) << "the error repeats the password: " << e;
  }
  EXPECT_TRUE(parse(replace(base, j,
                            "journal:\n  backend: postgresql\n  conninfo: postgresql://eft@db1:5433/eft\n"
                            "  instance: sw1\n"))
                  .journal.enabled());
  EXPECT_NE(error("journal:\n  backend: postgresql\n  instance: sw1\n").find("journal.conninfo is missing"),
            std::string::npos);
  EXPECT_NE(error("journal:\n  backend: postgresql\n  conninfo: host=db1\n").find("journal.instance is missing"),
            std::string::npos);
  EXPECT_NE(error("journal:\n  backend: postgresql\n  conninfo: host=db1\n  instance: sw 1\n")
                .find("journal.instance 'sw 1' is not a usable name"),
            std::string::npos);
  EXPECT_NE(error("journal:\n  backend: postgresql\n  conninfo: host=db1\n  instance: sw1\n  path: j.db\n")
                .find("journal.path is for the SQLite backend"),
            std::string::npos);
  EXPECT_NE(error("journal:\n  path: j.db\n  instance: sw1\n").find("add backend: postgresql"), std::string::npos);
  const std::string unknown = error("journal:\n  backend: oracle\n");
  EXPECT_NE(unknown.find("/etc/eft/switch.yaml:"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("journal.backend 'oracle' is unknown (use sqlite"), std::string::npos) << unknown;
}

TEST(SwitchConfig, UnknownKeysAreRefusedWithTheAllowedOnes) {
  EXPECT_EQ(error_of(replace(base, "    read_deadline_ms: 2000\n", "    read_deadline: 2000\n")),
            "/etc/eft/switch.yaml:13: unknown key 'listeners[0].read_deadline' (allowed keys: name, address, port, "
            "framing, spec, max_connections, max_connections_per_address, max_frame, idle_timeout_ms, "
            "read_deadline_ms, pin_key, pin_format, pin_bdk, mac_key, mac_bdk, tls)");
  EXPECT_EQ(error_of("admin: {port: 9100}\n" + base),
            "/etc/eft/switch.yaml:1: unknown key 'admin' (allowed keys: switch, listeners, links, link_groups, "
            "routes, hsm, journal, terminal_groups, metrics, logging)");
  EXPECT_EQ(error_of(replace(base, "processing_code: [00, 01]", "pc: [00]")),
            "/etc/eft/switch.yaml:32: unknown key 'routes[0].match.pc' (allowed keys: pan_prefixes, mti, "
            "processing_code, bin_file, terminal_group, min_amount, max_amount)");
}

TEST(SwitchConfig, FramingsAndSpecsMustExist) {
  EXPECT_EQ(error_of(replace(base, "framing: len2+tpdu", "framing: len2tpdu")),
            "/etc/eft/switch.yaml:8: listeners[0].framing 'len2tpdu' is unknown (use len2, len2+tpdu, "
            "len2-inclusive, ascii4 or len4)");
  const std::string e = error_of(replace(base, "spec: iso87-binary", "spec: iso87-bin"));
  EXPECT_EQ(e.rfind("/etc/eft/switch.yaml:9: listeners[0].spec 'iso87-bin' is neither a built-in spec nor a readable "
                    "file (built-in specs: ",
                    0),
            0U)
      << e;
}

TEST(SwitchConfig, SpecFilesAreRelativeToTheConfigAndChecked) {
  const auto dir = std::filesystem::temp_directory_path() / ("eft-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "specs");
  { std::ofstream(dir / "specs" / "bad.yaml") << "name: bad\nfields:\n  2: {class: q, length: 19}\n"; }
  const auto cfg = dir / "switch.yaml";
  const std::string yaml = replace(base, "spec: iso87-binary", "spec: specs/bad.yaml");
  std::string e;
  try {
    (void)parse_switch_config_text(yaml, cfg);
  } catch (const config_error& x) {
    e = x.what();
  }
  EXPECT_EQ(e.rfind(cfg.string() + ":9: listeners[0].spec 'specs/bad.yaml' cannot be loaded: ", 0), 0U) << e;
  std::filesystem::remove_all(dir);
}

TEST(SwitchConfig, DanglingAndDuplicateNames) {
  EXPECT_EQ(error_of(replace(base, "    to: acquirer\n    timeout_ms", "    to: acquirer2\n    timeout_ms")),
            "/etc/eft/switch.yaml:33: routes[0].to 'acquirer2' is not a link group (defined groups: acquirer)");
  EXPECT_EQ(error_of(replace(base, "links: [acq1-a, acq1-b]", "links: [acq1-a, acq1-c]")),
            "/etc/eft/switch.yaml:28: link_groups[0].links names 'acq1-c', which is not a host link (defined links: "
            "acq1-a, acq1-b)");
  EXPECT_EQ(error_of(replace(base, "  - name: acq1-b", "  - name: acq1-a")),
            "/etc/eft/switch.yaml:21: duplicate host link name 'acq1-a' (each host link needs a name of its own)");
  EXPECT_EQ(error_of(replace(base, "  - name: default", "  - name: visa")),
            "/etc/eft/switch.yaml:35: duplicate route name 'visa' (each route needs a name of its own)");
  EXPECT_EQ(error_of(replace(base, "links: [acq1-a, acq1-b]", "links: [acq1-a, acq1-a]")),
            "/etc/eft/switch.yaml:28: link_groups[0].links lists 'acq1-a' twice");
}

TEST(SwitchConfig, ValuesOutOfRange) {
  EXPECT_EQ(error_of(replace(base, "port: 5000", "port: 70000")),
            "/etc/eft/switch.yaml:7: listeners[0].port '70000' is not a number from 0 to 65535");
  EXPECT_EQ(error_of(replace(base, "10.0.0.5:7000", "10.0.0.5")),
            "/etc/eft/switch.yaml:16: links[0].addresses[0] '10.0.0.5' is not host:port (for example 10.0.0.5:7000 or "
            "[::1]:7000)");
  EXPECT_EQ(error_of(replace(base, "reconnect_max_ms: 5000", "reconnect_max_ms: 50")),
            "/etc/eft/switch.yaml:19: links[0].reconnect_max_ms is below reconnect_min_ms (the backoff grows from "
            "reconnect_min_ms up to reconnect_max_ms)");
  EXPECT_EQ(error_of(replace(base, "policy: round_robin", "policy: random")),
            "/etc/eft/switch.yaml:29: link_groups[0].policy 'random' is unknown (use primary_backup or round_robin)");
  EXPECT_EQ(error_of(replace(base, "pan_prefixes: [4]", "pan_prefixes: [4x]")),
            "/etc/eft/switch.yaml:32: routes[0].match.pan_prefixes entry '4x' is not 1 to 19 digits (PAN prefixes are "
            "leading card number digits, e.g. [4, 51, 2221])");
  EXPECT_EQ(error_of(replace(base, "mti: [0100, 0200]", "mti: [200]")),
            "/etc/eft/switch.yaml:32: routes[0].match.mti entry '200' is not 4 digits (MTIs are 4 digits, e.g. [0100, "
            "0200])");
  EXPECT_EQ(error_of(replace(base, "timeout_rc: \"68\"", "timeout_rc: 9")),
            "/etc/eft/switch.yaml:37: routes[1].timeout_rc '9' is not a response code (two characters, e.g. \"91\" or "
            "\"68\" (quote it))");
  EXPECT_EQ(error_of(replace(base, "sign_on: false", "sign_on: no way")),
            "/etc/eft/switch.yaml:24: links[1].sign_on 'no way' is not true or false");
}

TEST(SwitchConfig, MatchKeysMustBeUsable) {
  EXPECT_EQ(error_of(replace(base, "match_key: 11,37,32", "match_key: mti_class,41")),
            "/etc/eft/switch.yaml:25: links[1].match_key has neither field 11 nor 37 (the switch makes 11 and 37 "
            "unique per link: one of them must be in the key)");
  EXPECT_EQ(error_of(replace(base, "match_key: 11,37,32", "match_key: 11,stan")),
            "/etc/eft/switch.yaml:25: links[1].match_key entry 'stan' is neither mti_class nor a field number (for "
            "example mti_class,11,41 or 11,37,32)");
}

TEST(SwitchConfig, PinKeysNeedAnHsmAndAKnownFormat) {
  const std::string with_keys =
      replace(replace(base, "    read_deadline_ms: 2000\n", "    read_deadline_ms: 2000\n    pin_key: tpk.pos\n"),
              "    timeout_ms: 15000\n", "    timeout_ms: 15000\n    pin_key: zpk.acq1\n    pin_format: iso3\n");
  EXPECT_EQ(error_of(with_keys),
            "/etc/eft/switch.yaml:14: listeners[0].pin_key 'tpk.pos' needs an HSM (add an hsm: section holding the "
            "key)");
  const auto c = parse(with_keys + "hsm: {key_file: keys.yaml}\n");
  EXPECT_EQ(c.listeners[0].pin_key, "tpk.pos");
  EXPECT_EQ(c.listeners[0].pin_format, "iso0");
  EXPECT_EQ(c.routes[0].pin_key, "zpk.acq1");
  EXPECT_EQ(c.routes[0].pin_format, "iso3");
  EXPECT_EQ(error_of(replace(with_keys, "pin_format: iso3", "pin_format: iso2") + "hsm: {key_file: keys.yaml}\n"),
            "/etc/eft/switch.yaml:37: routes[0].pin_format 'iso2' is unknown (use iso0, iso1, iso3 or iso4 (ISO "
            "9564-1 formats))");
}

// An ISO 9564 format 4 (AES) PIN block is 16 bytes; field 52 of every built-in dialect holds 8. A
// listener or route that would carry one is refused at its line, not on every PIN transaction.
TEST(SwitchConfig, FormatFourPinBlocksNeedASixteenByteField52) {
  const std::string hsm = "hsm: {key_file: keys.yaml}\n";
  const std::string listener_iso4 = replace(base, "    read_deadline_ms: 2000\n",
                                            "    read_deadline_ms: 2000\n    pin_key: tpk.pos\n    pin_format: iso4\n");
  EXPECT_EQ(error_of(listener_iso4 + hsm),
            "/etc/eft/switch.yaml:15: listeners[0].pin_format iso4 needs a 16-byte PIN block, but field 52 of spec "
            "'iso87-binary' holds 8 bytes (use a dialect whose field 52 holds 16 bytes (class b, length 16), or format "
            "iso0, iso1 or iso3)");
  const std::string route_iso4 =
      replace(base, "    timeout_ms: 15000\n", "    timeout_ms: 15000\n    pin_key: zpk.acq1\n    pin_format: iso4\n");
  EXPECT_EQ(error_of(route_iso4 + hsm),
            "/etc/eft/switch.yaml:36: routes[0].pin_format (to link acq1-a) iso4 needs a 16-byte PIN block, but field "
            "52 of spec 'iso87-ascii' holds 8 bytes (use a dialect whose field 52 holds 16 bytes (class b, length 16), "
            "or format iso0, iso1 or iso3)");

  // A dialect with room for it is accepted on both sides.
  const auto dir = std::filesystem::temp_directory_path() / ("eft-config-iso4-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "aes.yaml") << "name: aes\nfields:\n  2: {class: n, length: 19, prefix: LL}\n"
                                       "  11: {class: n, length: 6}\n  32: {class: n, length: 11, prefix: LL}\n"
                                       "  37: {class: an, length: 12}\n  39: {class: an, length: 2}\n"
                                       "  41: {class: ans, length: 8}\n  70: {class: n, length: 3}\n"
                                       "  52: {class: b, length: 16}\n";
  }
  const std::string both =
      replace(replace(replace(listener_iso4, "spec: iso87-binary", "spec: aes.yaml"), "    timeout_ms: 15000\n",
                      "    timeout_ms: 15000\n    pin_key: zpk.acq1\n    pin_format: iso4\n"),
              "    spec: iso87-ascii\n    reconnect", "    spec: aes.yaml\n    reconnect");
  const std::string both_links = replace(both, "    spec: iso87-ascii\n    sign_on", "    spec: aes.yaml\n    sign_on");
  const auto c = parse_switch_config_text(both_links + hsm, dir / "switch.yaml");
  EXPECT_EQ(c.listeners[0].pin_format, "iso4");
  EXPECT_EQ(c.routes[0].pin_format, "iso4");
  // One link of the route's group without room is enough to refuse it.
  std::string e;
  try {
    (void)parse_switch_config_text(both + hsm, dir / "switch.yaml");
  } catch (const config_error& x) {
    e = x.what();
  }
  EXPECT_NE(e.find("routes[0].pin_format (to link acq1-b) iso4 needs a 16-byte PIN block"), std::string::npos) << e;
  std::filesystem::remove_all(dir);
}

TEST(SwitchConfig, MissingPieces) {
  EXPECT_EQ(error_of("links: []\n"),
            "/etc/eft/switch.yaml:1: no listeners (add listeners: [{name: pos, port: 5000, spec: iso87-binary}])");
  EXPECT_EQ(error_of(replace(base, "    spec: iso87-binary\n", "")),
            "/etc/eft/switch.yaml:5: listeners[0] has no spec (add spec: iso87-binary (or a spec file))");
  EXPECT_EQ(error_of(replace(base, "  - name: pos\n", "  - port2: 1\n")),
            "/etc/eft/switch.yaml:5: unknown key 'listeners[0].port2' (allowed keys: name, address, port, framing, "
            "spec, max_connections, max_connections_per_address, max_frame, idle_timeout_ms, read_deadline_ms, "
            "pin_key, pin_format, pin_bdk, mac_key, mac_bdk, tls)");
  EXPECT_EQ(error_of("listeners: [\n"), "/etc/eft/switch.yaml:2: not valid YAML: end of sequence flow not found");
}

TEST(SwitchConfig, StandInSection) {
  const std::string with = replace(base, "    timeout_ms: 15000\n",
                                   "    timeout_ms: 15000\n"
                                   "    stand_in:\n"
                                   "      policy: approve\n"
                                   "      floor_limit: 5000\n"
                                   "      rc: \"05\"\n"
                                   "      breaker: {timeouts: 3, window_s: 20, open_s: 10}\n");
  const auto c = parse(with);
  ASSERT_TRUE(c.routes[0].stand_in.has_value());
  const stand_in_config& si = *c.routes[0].stand_in;
  EXPECT_EQ(si.policy, stand_in_policy::approve);
  EXPECT_EQ(si.floor_limit, 5000U);
  EXPECT_EQ(si.rc, "05");
  EXPECT_EQ(si.breaker.timeouts, 3U);
  EXPECT_EQ(si.breaker.window_s, 20U);
  EXPECT_EQ(si.breaker.open_s, 10U);
  EXPECT_EQ(si.line, 36);
  EXPECT_FALSE(c.routes[1].stand_in.has_value());

  const auto decline =
      parse(replace(base, "    timeout_ms: 15000\n", "    timeout_ms: 15000\n    stand_in: {policy: decline}\n"));
  EXPECT_EQ(decline.routes[0].stand_in->policy, stand_in_policy::decline);
  EXPECT_EQ(decline.routes[0].stand_in->rc, "91");
  EXPECT_EQ(decline.routes[0].stand_in->breaker.timeouts, 0U);

  EXPECT_EQ(error_of(replace(with, "policy: approve", "policy: maybe")),
            "/etc/eft/switch.yaml:36: routes[0].stand_in.policy 'maybe' is unknown (use decline or approve)");
  EXPECT_EQ(error_of(replace(with, "rc: \"05\"", "rc: \"00\"")),
            "/etc/eft/switch.yaml:38: routes[0].stand_in.rc '00' is not a decline response code (two characters other "
            "than \"00\", e.g. \"91\" or \"05\" (quote it))");
  EXPECT_NE(error_of(replace(with, "timeouts: 3", "timeouts: 0")).find("routes[0].stand_in.breaker.timeouts '0'"),
            std::string::npos);
  EXPECT_NE(error_of(replace(with, "open_s: 10", "open_s: 10, half: 1"))
                .find("unknown key 'routes[0].stand_in.breaker.half'"),
            std::string::npos);
}

TEST(SwitchConfig, StandInPinVerification) {
  const std::string hsm = "hsm:\n  backend: software\n  key_file: keys.yaml\n";
  const std::string pvv = replace(base, "    timeout_ms: 15000\n",
                                  "    timeout_ms: 15000\n"
                                  "    stand_in:\n"
                                  "      policy: approve\n"
                                  "      floor_limit: 5000\n"
                                  "      pin_verify: {method: visa_pvv, pvk: pvk.visa, pvki: 1}\n") +
                          hsm;
  const auto c = parse(pvv);
  ASSERT_TRUE(c.routes[0].stand_in->pin_verify.has_value());
  const pin_verify_config& v = *c.routes[0].stand_in->pin_verify;
  EXPECT_EQ(v.method, pin_verify_method::visa_pvv);
  EXPECT_EQ(v.pvk, "pvk.visa");
  EXPECT_EQ(v.pvki, std::optional<std::uint8_t>(1));
  EXPECT_TRUE(v.required);
  EXPECT_EQ(v.line, 38);

  const std::string ibm = replace(pvv, "{method: visa_pvv, pvk: pvk.visa, pvki: 1}",
                                  "{method: ibm3624, pvk: pvk.3624, decimalization: \"0123456789012345\", "
                                  "validation_data: 12NNNNN, offset_position: 2, offset_length: 6, required: false}");
  const pin_verify_config w = *parse(ibm).routes[0].stand_in->pin_verify;
  EXPECT_EQ(w.method, pin_verify_method::ibm3624);
  EXPECT_EQ(w.decimalization, "0123456789012345");
  EXPECT_EQ(w.validation_data, "12NNNNN");
  EXPECT_EQ(w.offset_position, 2U);
  EXPECT_EQ(w.offset_length, 6U);
  EXPECT_FALSE(w.required);

  EXPECT_EQ(error_of(replace(pvv, ", pvk: pvk.visa", "")),
            "/etc/eft/switch.yaml:38: routes[0].stand_in.pin_verify has no pvk (add pvk: <Visa PVV PIN verification "
            "key of the HSM, usage V2>)");
  EXPECT_EQ(error_of(replace(pvv, "visa_pvv", "cvv")),
            "/etc/eft/switch.yaml:38: routes[0].stand_in.pin_verify.method 'cvv' is unknown (use visa_pvv or ibm3624)");
  EXPECT_EQ(error_of(replace(ibm, "decimalization: \"0123456789012345\", ", "")),
            "/etc/eft/switch.yaml:38: routes[0].stand_in.pin_verify has no decimalization (add decimalization: "
            "\"0123456789012345\" (16 digits, quoted))");
  EXPECT_NE(error_of(replace(ibm, "12NNNNN", "N12NNNN")).find("validation_data 'N12NNNN' is not a PIN validation"),
            std::string::npos);
  EXPECT_NE(error_of(replace(ibm, "offset_length: 6", "offset_length: 3")).find("offset_length '3'"),
            std::string::npos);
  EXPECT_EQ(error_of(replace(pvv, "pvki: 1}", "pvki: 1, offset_position: 3}")),
            "/etc/eft/switch.yaml:38: routes[0].stand_in.pin_verify.offset_position is for method ibm3624 (remove "
            "it, or use ibm3624)");
  EXPECT_EQ(error_of(replace(replace(pvv, "policy: approve", "policy: decline"), "      floor_limit: 5000\n", "")),
            "/etc/eft/switch.yaml:37: routes[0].stand_in.pin_verify needs policy: approve (remove pin_verify, or "
            "approve under a floor_limit)");
  // The key lives in the HSM: naming one without an HSM is a dangling name.
  EXPECT_EQ(error_of(replace(pvv, hsm, "")),
            "/etc/eft/switch.yaml:38: routes[0].stand_in.pin_verify.pvk 'pvk.visa' needs an HSM (add an hsm: section "
            "holding the key)");
}

TEST(SwitchConfig, TheExampleConfigIsValid) {
  const auto c = load_switch_config(std::filesystem::path(EFT_SOURCE_DIR) / "config/examples/switch.yaml");
  EXPECT_EQ(c.listeners.size(), 1U);
  EXPECT_EQ(c.links.size(), 2U);
  EXPECT_EQ(c.routes[0].processing_codes, (std::vector<std::string>{"01"}));
  ASSERT_TRUE(c.routes[2].stand_in.has_value());
  EXPECT_EQ(c.routes[2].stand_in->floor_limit, 5000U);
}

TEST(SwitchConfig, LoadFromFile) {
  try {
    (void)load_switch_config("/nonexistent/switch.yaml");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/switch.yaml: cannot read the file");
  }
}

std::string with(std::string yaml, const std::string& from, const std::string& to) {
  yaml.replace(yaml.find(from), from.size(), to);
  return yaml;
}

TEST(SwitchConfig, RoutingCriteriaTerminalGroupsAndIssuer) {
  const auto dir = std::filesystem::temp_directory_path() / ("eft-config-bins-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "bins.txt") << "# ranges\n400000-400999\n51-55  # mc\n";
  std::string yaml = with(base, "    match: {pan_prefixes: [4], mti: [0100, 0200], processing_code: [00, 01]}\n",
                          "    match: {bin_file: bins.txt, terminal_group: [atm], min_amount: 1, max_amount: 50000}\n"
                          "    issuer: {imk: imk.visa, cryptogram_version: visa_18}\n");
  yaml +=
      "terminal_groups:\n  - {name: atm, listeners: [pos], terminal_ids: [\"ATM*\"]}\n"
      "hsm: {backend: software, key_file: keys.yaml}\n";
  const auto c = parse_switch_config_text(yaml, dir / "switch.yaml");
  const auto& r = c.routes[0];
  ASSERT_TRUE(r.bin_ranges);
  ASSERT_EQ(r.bin_ranges->size(), 2U);
  EXPECT_EQ((*r.bin_ranges)[0].low, 400000U);
  EXPECT_EQ((*r.bin_ranges)[0].high, 400999U);
  EXPECT_EQ((*r.bin_ranges)[1].digits, 2U);
  EXPECT_EQ(r.terminal_groups, (std::vector<std::string>{"atm"}));
  EXPECT_EQ(r.min_amount, 1U);
  EXPECT_EQ(r.max_amount, 50000U);
  ASSERT_TRUE(r.issuer);
  EXPECT_EQ(r.issuer->imk, "imk.visa");
  EXPECT_EQ(r.issuer->cryptogram_version, "visa_18");
  EXPECT_EQ(r.issuer->arqc_failure_rc, "05");
  ASSERT_EQ(c.terminal_groups.size(), 1U);
  EXPECT_EQ(c.terminal_groups[0].terminal_ids, (std::vector<std::string>{"ATM*"}));

  const auto err = [&](const std::string& y) {
    try {
      (void)parse_switch_config_text(y, dir / "switch.yaml");
    } catch (const config_error& e) {
      return std::string(e.what()).substr(dir.string().size() + 1);
    }
    return std::string();
  };
  EXPECT_EQ(err(with(yaml, "terminal_group: [atm]", "terminal_group: [kiosk]")),
            "switch.yaml:32: routes[0].match.terminal_group 'kiosk' is not a terminal group (defined terminal "
            "groups: atm)");
  EXPECT_EQ(err(with(yaml, "listeners: [pos]", "listeners: [atm]")),
            "switch.yaml:42: terminal_groups[0].listeners names 'atm', which is not a listener (defined listeners: "
            "pos)");
  EXPECT_EQ(err(with(yaml, "min_amount: 1", "min_amount: 60000")),
            "switch.yaml:32: routes[0].match.max_amount is below min_amount (amounts are in minor units of field 4: "
            "min_amount <= max_amount)");
  EXPECT_EQ(err(with(yaml, "bin_file: bins.txt", "bin_file: nope.txt")),
            "switch.yaml:32: routes[0].match.bin_file 'nope.txt' is not a readable file (BIN table files are "
            "relative to the config file)");
  EXPECT_EQ(err(with(yaml, "visa_18", "visa_99")).substr(0, 70),
            "switch.yaml:33: routes[0].issuer.cryptogram_version 'visa_99' is unkno");
  EXPECT_EQ(err(with(yaml, "hsm: {backend: software, key_file: keys.yaml}\n", "")),
            "switch.yaml:33: routes[0].issuer.imk 'imk.visa' needs an HSM (add an hsm: section holding the key)");
  EXPECT_EQ(err(with(yaml, "    idle_timeout_ms: 60000\n", "    pin_key: tpk.pos\n    pin_bdk: bdk.pos\n")),
            "switch.yaml:13: listeners[0] has both pin_key and pin_bdk (terminals encrypt PINs under a static key "
            "(pin_key) or DUKPT (pin_bdk), not both)");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eft::config
