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
#include <memory>
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

/// TLS on a listener or a host link (OpenSSL through Asio). Paths are resolved relative to the config
/// file and checked readable when the config is loaded.
struct tls_config {
  std::filesystem::path cert_file;  ///< PEM certificate (chain) presented to the peer; required on listeners
  std::filesystem::path key_file;   ///< PEM private key of cert_file; required with cert_file
  std::filesystem::path ca_file;    ///< PEM CA bundle that peer certificates are verified against
  bool verify_peer = false;         ///< listeners: demand and verify a client certificate (mutual TLS);
                                    ///< links: verify the host's certificate against ca_file
  std::string server_name;          ///< links: SNI and the name checked in the host's certificate; empty: none
  int line = 0;                     ///< line of the tls: entry
};

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
  std::string pin_bdk;  ///< DUKPT BDK (HSM key name, usage B0) of field 52, KSN in field 53; excludes pin_key
  std::string mac_key;  ///< terminal MAC key (HSM key name, usage M3): ISO 9797-1 alg 3 over field 64/128
  std::string mac_bdk;  ///< DUKPT BDK whose MAC keys (KSN in field 53) check and make the MAC; excludes mac_key
  std::optional<tls_config> tls;  ///< absent: plain TCP
  int line = 0;                   ///< line of the entry in the config file
};

/// Terminals taken together for routing: those of the listed listeners and those whose terminal id
/// (field 41) is listed (an entry ending in '*' is a prefix).
struct terminal_group_config {
  std::string name;
  std::vector<std::string> listeners;     ///< listener names
  std::vector<std::string> terminal_ids;  ///< field 41 values, or prefixes ending in '*'
  int line = 0;
};

/// A range of leading PAN digits: PANs whose first `digits` digits, read as a number, lie in
/// [low, high]. A BIN prefix is a range with low == high.
struct bin_range {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  std::uint8_t digits = 0;  ///< 1-19
};

/// A route's circuit breaker: `timeouts` host timeouts within `window_s` open it for `open_s`; then
/// one request goes through (half-open): answered closes it, timed out opens it again.
struct breaker_config {
  std::uint32_t timeouts = 0;   ///< timeouts that open the breaker; 0: no breaker
  std::uint32_t window_s = 60;  ///< the timeouts counted are those of the last window_s seconds
  std::uint32_t open_s = 30;    ///< how long it stays open before a request is let through

  friend bool operator==(const breaker_config&, const breaker_config&) = default;
};

/// What the switch decides when a route's host is unavailable.
enum class stand_in_policy : std::uint8_t {
  decline,  ///< answer `rc` at once
  approve,  ///< approve up to the floor limit and queue a 0220 advice for the host (needs a journal)
};

/// How a stand-in approval checks the cardholder's PIN itself.
enum class pin_verify_method : std::uint8_t {
  visa_pvv,  ///< Visa PVV: PVKI (1 digit) and PVV (4 digits) first in the track 2 discretionary data
  ibm3624,   ///< IBM 3624 offset: at offset_position in the track 2 discretionary data
};

/// The stand-in's local PIN verification (the HSM decrypts the terminal's PIN block and checks it
/// against the PIN verification data on the card's track 2). A wrong PIN is declined with RC 55.
struct pin_verify_config {
  pin_verify_method method = pin_verify_method::visa_pvv;
  std::string pvk;                    ///< PIN verification key (HSM key name): usage V2 for visa_pvv, V1 for ibm3624
  bool required = true;               ///< a request without PIN block is declined with the stand-in rc; false: approved
  std::optional<std::uint8_t> pvki;   ///< visa_pvv: the PVKI of pvk; a card with another one is declined with rc
  std::string decimalization;         ///< ibm3624: decimalisation table, 16 decimal digits
  std::string validation_data;        ///< ibm3624: PIN validation data pattern: hex digits and one run of N
                                      ///< (the last account-number digits), right-padded with F to 16
  std::uint32_t offset_position = 0;  ///< ibm3624: index of the offset's first digit in the discretionary data
  std::uint32_t offset_length = 4;    ///< ibm3624: offset digits (4-12), all of them checked
  int line = 0;

  friend bool operator==(const pin_verify_config&, const pin_verify_config&) = default;
};

/// A route's stand-in: used while its link group has no ready link or its breaker is open.
struct stand_in_config {
  stand_in_policy policy = stand_in_policy::decline;
  std::uint64_t floor_limit = 0;  ///< approve: field 4 (minor units) at most this; above: declined with rc
  std::string rc = "91";          ///< response code of a stand-in decline
  breaker_config breaker;
  std::optional<pin_verify_config> pin_verify;  ///< approve: verify PINs locally before approving
  int line = 0;
};

/// What a route does as the card issuer (stand-in for chip cryptograms).
struct issuer_config {
  std::string imk;                     ///< issuer master key for application cryptograms (HSM key name, usage E0)
  std::string cryptogram_version;      ///< "auto" (from the IAD) or visa_10, visa_18, visa_22, mastercard_16, ...
  std::string arqc_failure_rc = "05";  ///< response code when the ARQC does not verify
  int line = 0;
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
  std::optional<tls_config> tls;  ///< absent: plain TCP
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
  std::vector<std::string> terminal_groups;   ///< names of terminal groups; empty: any terminal
  std::optional<std::uint64_t> min_amount;    ///< field 4 (minor units) at least this; no field 4 counts as 0
  std::optional<std::uint64_t> max_amount;    ///< field 4 at most this
  std::filesystem::path bin_file;             ///< the BIN table file its ranges came from (empty: none)
  /// BIN ranges of bin_file (shared: tables of 100,000+ ranges are not copied with the route).
  std::shared_ptr<const std::vector<bin_range>> bin_ranges;
  std::optional<issuer_config> issuer;      ///< verify ARQCs and return ARPCs for the cards it routes
  std::optional<stand_in_config> stand_in;  ///< without it, a route whose host is unavailable answers 91
  int line = 0;
};

/// How far a journal write goes before it counts as durable.
enum class journal_durability_level : std::uint8_t {
  process_crash,  ///< survives a crash of the switch process (SQLite synchronous=NORMAL in WAL mode)
  power_loss,     ///< survives power loss: fsync at every group commit (synchronous=FULL)
};

/// Where the journal is stored.
enum class journal_backend : std::uint8_t {
  sqlite,      ///< one file, one switch process (journal.path)
  postgresql,  ///< one database shared by several switch processes (journal.conninfo, journal.instance)
};

/// The transaction journal and the store-and-forward queue. The journal key (32 bytes, 64 hex
/// digits: PAN hashes and sealed SAF messages) is never in the config: only where to read it from;
/// nor is a database password (PGPASSWORD, ~/.pgpass or peer authentication provide it).
struct journal_config {
  journal_backend backend = journal_backend::sqlite;
  std::filesystem::path path;  ///< SQLite file, relative to the config file; empty (with sqlite): no journal
  std::string conninfo;        ///< PostgreSQL: libpq connection string or URI, without a password
  std::string instance;        ///< PostgreSQL: this switch process's name among those sharing the database
  journal_durability_level durability = journal_durability_level::power_loss;
  std::string key_env = "EFT_JOURNAL_KEY";       ///< environment variable holding the journal key
  std::filesystem::path key_file;                ///< or a file holding it, used when the variable is unset
  std::size_t queue_limit = 65536;               ///< writes waiting at most; then requests are answered 91
  std::string reversal_mti = "0400";             ///< 0400 (reversal request) or 0420 (reversal advice)
  std::uint32_t saf_retry_interval_ms = 30000;   ///< wait between two sends of the same SAF item
  std::uint32_t saf_max_attempts = 0;            ///< sends at most before the item expires; 0: no limit
  std::uint32_t saf_expiry_s = 86400;            ///< an item older than this expires (reported); 0: never
  std::uint32_t duplicate_window_s = 300;        ///< a request repeated within this gets the first answer; 0: off
  std::uint32_t duplicate_max_entries = 200000;  ///< requests remembered at most (about 0.5 KB each)
  /// A terminal may reverse (0400/0401) an original this long after its outcome is journaled; then the
  /// journal purges it and such a reversal gets RC 25.
  std::uint32_t reversal_window_s = 86400;
  int line = 0;

  /// Whether the deployment has a journal.
  bool enabled() const noexcept { return backend == journal_backend::postgresql || !path.empty(); }
  /// For logs and errors: the SQLite file, or "postgresql instance sw1" (never the conninfo).
  std::string where() const;
};

/// The config name of a durability level ("process_crash", "power_loss").
std::string_view to_string(journal_durability_level d) noexcept;
/// The admin HTTP endpoint: Prometheus metrics (/metrics), liveness (/health), readiness (/ready).
struct metrics_config {
  std::string address = "127.0.0.1";  ///< IP literal to bind
  std::uint16_t port = 9100;          ///< 0 takes an ephemeral port (tests); the bound port is logged
  int line = 0;
};

/// Where and how the switch logs.
struct logging_config {
  std::string format = "text";  ///< "text" (one readable line each) or "json" (one JSON object per line)
  std::filesystem::path file;   ///< relative to the config file; empty: standard error
  std::size_t queue = 32768;    ///< lines waiting for the logging thread; a full queue blocks the logger
};

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
  std::vector<terminal_group_config> terminal_groups;
  std::optional<hsm_config> hsm;  ///< absent: no HSM (no PIN or MAC stages)
  journal_config journal;
  std::optional<metrics_config> metrics;  ///< absent: no admin HTTP endpoint
  logging_config logging;

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

/// Reads a BIN table file: one range a line, "LOW-HIGH" (both of the same number of digits, 1-19,
/// LOW <= HIGH) or a single prefix "LOW"; blank lines and text after '#' are ignored. Throws
/// config_error naming the file and line.
std::vector<bin_range> load_bin_file(const std::filesystem::path& file);

/// The config name of a policy ("primary_backup", "round_robin").
std::string_view to_string(group_policy p) noexcept;

}  // namespace eft::config
