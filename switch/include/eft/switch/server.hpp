#pragma once
/// The switch process: worker threads, terminal listeners and sessions, host links and the pipeline,
/// built from one deployment config.
///
/// Thread per core: each worker thread runs its own io_context; each listener is bound once per
/// worker with SO_REUSEPORT, so the kernel spreads terminal connections and a session lives on one
/// thread for its whole life. Host links are spread over the workers (link i on worker i mod N);
/// sessions hand them requests through their executors.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "eft/config/switch.hpp"
#include "eft/crypto/hsm.hpp"
#include "eft/switch/counters.hpp"
#include "eft/switch/host_link.hpp"
#include "eft/switch/metrics.hpp"
#include "eft/switch/pipeline.hpp"

namespace eft::switch_core {
class saf_forwarder;
}

namespace eft::switch_core {

/// Raises the open-file soft limit to the hard limit. Returns the soft limit in force afterwards
/// (0 when it cannot be read).
std::size_t raise_open_file_limit() noexcept;

class switch_server {
 public:
  /// Loads the specs and builds links, groups, routes and the pipeline. With an HSM backend (the one
  /// cfg.hsm describes, opened by the caller), the HSM stages run (add_hsm_stages: KSN, MAC, PIN
  /// translation, ARQC/ARPC); every key the config names must be in that HSM with its usage
  /// (check_config_keys). Throws std::runtime_error (naming the config file and line) when something
  /// in the config cannot be used.
  explicit switch_server(config::switch_config cfg, std::shared_ptr<crypto::hsm> hsm = nullptr);
  /// Stops (see stop()) if still running.
  ~switch_server();
  switch_server(const switch_server&) = delete;
  switch_server& operator=(const switch_server&) = delete;

  /// Stages are added here, before start().
  switch_core::pipeline& pipeline() noexcept;

  /// Opens the journal when the config has one (throws journal_open_error when it is corrupt, locked
  /// by another process or of a newer schema; the file is left untouched) and queues the reversals
  /// of what an earlier run left in flight; raises the open-file limit, binds every listener on
  /// every worker (throws std::runtime_error when one cannot be bound), starts the worker threads,
  /// the host links and the SAF forwarder.
  void start();

  /// Graceful stop, from any thread but a worker: stop accepting and close idle terminal sessions;
  /// let in-flight transactions finish for up to shutdown_grace_ms; sign off and close the links
  /// (what is still pending is answered 91 and logged "reversal needed"); wait for the workers.
  /// Idempotent.
  void stop();

  /// The port a listener is bound to (useful with port 0); 0 when unknown or not started.
  std::uint16_t port(std::string_view listener) const;
  /// The host link of that name, or nullptr.
  host_link* link(std::string_view name) const;
  const switch_counters& counters() const noexcept;
  /// Terminal connections the open-file limit allows (set by start()).
  std::size_t connection_capacity() const noexcept;
  /// Worker threads in use.
  std::size_t workers() const noexcept;
  /// One line: counters, then each link's state and counters.
  std::string status() const;
  /// The journal (opened by start() when the config has a journal: section), or nullptr.
  switch_core::journal* journal() const noexcept;
  /// The SAF forwarder (started with the journal), or nullptr.
  const saf_forwarder* saf() const noexcept;

  /// Applies a reloaded config in place (any thread but a worker; one reload at a time): new routes
  /// for the transactions that start from now on, new listener limits and deadlines, a new
  /// shutdown_grace_ms. Connections and in-flight transactions are kept. A config that changes
  /// anything else (listeners' addresses, links, groups, keys, threads) is refused whole, as is one
  /// whose route pin keys the HSM does not hold: the returned reason names file and line. Empty: applied.
  std::string reload(const config::switch_config& next);
  /// Counts a reload refused before reload() was reached (a config file that does not load).
  void reload_refused() noexcept;
  /// The port of the admin HTTP endpoint (config metrics:), 0 without one or before start().
  std::uint16_t metrics_port() const noexcept;
  /// The metrics served on /metrics.
  const switch_metrics& metrics() const noexcept;

 private:
  struct impl;
  static void open_journal(impl& m);
  std::unique_ptr<impl> impl_;
};

}  // namespace eft::switch_core
