#pragma once
/// The deployment config of the `eftswitch` daemon: worker threads, terminal listeners, host links,
/// link groups, routes, the HSM and the journal. One YAML file per deployment; every value is checked
/// here, at start-up, so the running switch never meets a dangling name or an impossible limit.
///
/// Errors are config_error exceptions naming file and line, what is wrong and how to fix it:
/// "switch.yaml:14: routes[0].to 'visa' is not a link group (defined groups: acquirer)".

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eft/config/error.hpp"
#include "eft/config/hsm.hpp"

namespace YAML {
class Node;
}

namespace eft::config {

/// Framing names as written in configs; the same names as switch_core's parse_framing_kind()
/// (switch/include/eft/switch/framing.hpp). A test checks that both lists agree.
inline constexpr std::string_view framing_names[] = {"len2", "len2+tpdu", "len2-inclusive", "ascii4", "len4"};

/// A terminal-facing TCP listener.
struct listener_config {
  std::string name;
  std::string address = "0.0.0.0";      ///< IPv4 or IPv6 literal to bind
  std::uint16_t port = 0;               ///< 0 takes an ephemeral port (tests)
  std::string framing = "len2";         ///< one of framing_names
  std::string spec;                     ///< terminal-side dialect: built-in name or absolute path of a YAML spec
  std::size_t max_connections = 10000;  ///< terminal connections held at most (all workers)
  std::size_t max_connections_per_address = 0;  ///< per source IP address; 0: no limit
  std::size_t max_frame = 8192;                 ///< largest message accepted, bytes
  std::uint32_t idle_timeout_ms = 300000;       ///< close a connection silent this long; 0: never
  std::uint32_t read_deadline_ms = 5000;        ///< a started frame must be complete within this; 0: none
  std::string pin_key;                          ///< terminal PIN key (HSM key name) of field 52; empty: none
  std::string pin_format = "iso0";              ///< PIN block format the terminals send: iso0, iso1, iso3, iso4
  int line = 0;                                 ///< line of the entry in the config file
};

/// One address of a host link.
struct link_address {
  std::string host;  ///< IP literal or host name
  std::uint16_t port = 0;
};

/// An outbound persistent connection to an acquirer or issuer host.
struct host_link_config {
  std::string name;
  std::vector<link_address> addresses;  ///< tried in order on each (re)connection
  std::string framing = "len2";         ///< one of framing_names
  std::string spec;                     ///< host-side dialect: built-in name or absolute path
  std::size_t max_frame = 8192;         ///< largest message accepted from the host, bytes
  std::uint32_t connect_timeout_ms = 3000;
  std::uint32_t reconnect_min_ms = 500;     ///< first backoff after a failed connection
  std::uint32_t reconnect_max_ms = 30000;   ///< backoff cap (doubling, with jitter)
  std::uint32_t echo_interval_ms = 30000;   ///< echo test (0800 NMI 301) after this much silence; 0: never
  std::uint32_t network_timeout_ms = 5000;  ///< wait for an 0810 to sign-on, echo or sign-off
  bool sign_on = true;                      ///< send 0800 NMI 001 after connecting; traffic only after 0810 RC 00
  /// Fields matching a host answer to its request: "mti_class" (MTI digits 1-2) or field numbers.
  std::vector<std::string> match_key = {"mti_class", "11", "41"};
  int line = 0;
};

/// How a group spreads requests over its links.
enum class group_policy : std::uint8_t {
  primary_backup,  ///< the first ready link in the listed order
  round_robin,     ///< ready links in turn
};

/// Several links to one host; up while any of its links is ready.
struct link_group_config {
  std::string name;
  std::vector<std::string> links;  ///< names of host links, each defined under links:
  group_policy policy = group_policy::primary_backup;
  int line = 0;
};

/// Where transactions go. A route matches when each criterion given matches (an empty list matches
/// everything); among matching routes the longest matching PAN prefix wins, then the first listed.
struct route_config {
  std::string name;
  std::vector<std::string> pan_prefixes;      ///< leading PAN digits (BINs), 1-19 digits each
  std::vector<std::string> mtis;              ///< exact MTIs ("0100", "0200")
  std::vector<std::string> processing_codes;  ///< leading digits of field 3, 1-6 each ("00", "01", "31")
  std::string group;                          ///< link group to send to
  std::uint32_t timeout_ms = 30000;           ///< host answer deadline
  std::string timeout_rc = "91";              ///< response code to the terminal when the host is late
  std::string pin_key;                        ///< zone PIN key (HSM key name) toward the host; empty: none
  std::string pin_format = "iso0";            ///< PIN block format the host takes: iso0, iso1, iso3, iso4
  int line = 0;
};

/// How far a journal write goes before it counts as durable.
enum class journal_durability_level : std::uint8_t {
  process_crash,  ///< survives a crash of the switch process (SQLite synchronous=NORMAL in WAL mode)
  power_loss,     ///< survives power loss: fsync at every group commit (synchronous=FULL)
};

/// The transaction journal and the store-and-forward queue. The journal key (32 bytes, 64 hex
/// digits: PAN hashes and sealed SAF messages) is never in the config: only where to read it from.
struct journal_config {
  std::filesystem::path path;  ///< SQLite file, relative to the config file; empty: no journal
  journal_durability_level durability = journal_durability_level::power_loss;
  std::string key_env = "EFT_JOURNAL_KEY";      ///< environment variable holding the journal key
  std::filesystem::path key_file;               ///< or a file holding it, used when the variable is unset
  std::size_t queue_limit = 65536;              ///< writes waiting at most; then requests are answered 91
  std::string reversal_mti = "0400";            ///< 0400 (reversal request) or 0420 (reversal advice)
  std::uint32_t saf_retry_interval_ms = 30000;  ///< wait between two sends of the same SAF item
  std::uint32_t saf_max_attempts = 0;           ///< sends at most before the item expires; 0: no limit
  std::uint32_t saf_expiry_s = 86400;           ///< an item older than this expires (reported); 0: never
  std::uint32_t duplicate_window_s = 300;       ///< a request repeated within this gets the first answer; 0: off
  int line = 0;
};

/// The config name of a durability level ("process_crash", "power_loss").
std::string_view to_string(journal_durability_level d) noexcept;

/// A whole deployment.
struct switch_config {
  std::filesystem::path source;              ///< the config file
  std::size_t workers = 0;                   ///< I/O threads; 0: one per hardware thread
  std::uint32_t status_interval_ms = 10000;  ///< status log line period; 0: never
  std::uint32_t shutdown_grace_ms = 10000;   ///< at SIGTERM, in-flight transactions get this long
  std::string log_level = "info";            ///< trace, debug, info, warn, error
  std::vector<listener_config> listeners;
  std::vector<host_link_config> links;
  std::vector<link_group_config> groups;
  std::vector<route_config> routes;
  std::optional<hsm_config> hsm;  ///< absent: no HSM (no PIN or MAC stages)
  journal_config journal;

  /// The link group of that name, or nullptr.
  const link_group_config* group(std::string_view name) const noexcept;
  /// The host link of that name, or nullptr.
  const host_link_config* link(std::string_view name) const noexcept;
};

/// Reads a deployment config from its parsed YAML root; `file` names the source in errors and anchors
/// relative paths. Spec names are resolved (built-in, else a file relative to `file`) and loaded to
/// check them. Throws config_error naming file and line.
switch_config parse_switch_config(const YAML::Node& root, const std::filesystem::path& file);

/// Same, from YAML text (tests, eftctl). Throws config_error.
switch_config parse_switch_config_text(std::string_view yaml, const std::filesystem::path& file);

/// Reads a deployment config file. Throws config_error.
switch_config load_switch_config(const std::filesystem::path& file);

/// The config name of a policy ("primary_backup", "round_robin").
std::string_view to_string(group_policy p) noexcept;

}  // namespace eft::config
