// eftswitch: the switch daemon. `eftswitch --config FILE` runs it until SIGINT or SIGTERM;
// `eftswitch --config FILE --check` validates the config and exits.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "eft/config/switch.hpp"
#include "eft/switch/hsm_backend.hpp"
#include "eft/switch/logging.hpp"
#include "eft/switch/malloc_tuning.hpp"
#include "eft/switch/server.hpp"

namespace {

// The HSM backend the config describes, or null without an hsm: section. Throws std::runtime_error.
std::shared_ptr<eft::crypto::hsm> open_hsm(const eft::config::switch_config& cfg) {
  if (!cfg.hsm) return nullptr;
  auto h = eft::switch_core::open_hsm_backend(*cfg.hsm);
  if (!h) throw std::runtime_error(cfg.source.string() + ": HSM (" + cfg.hsm->backend + "): " + h.error().message());
  return *h;
}

// SIGHUP: re-reads and validates the whole config file; the running switch takes the new routes and
// limits, or keeps its config when the file is bad or changes what needs a restart.
void reload(eft::switch_core::switch_server& server, const std::string& config_file) {
  eft::config::switch_config next;
  try {
    next = eft::config::load_switch_config(config_file);
  } catch (const eft::config::config_error& e) {
    server.reload_refused();
    spdlog::error("SIGHUP: reload refused, the running config stays: {}", e.what());
    return;
  }
  if (const std::string why = server.reload(next); !why.empty()) {
    spdlog::error("SIGHUP: reload refused, the running config stays: {}", why);
    return;
  }
  spdlog::info("SIGHUP: reloaded {}: {} routes", config_file, next.routes.size());
}

}  // namespace

static int run(int argc, char** argv) {
  CLI::App app{"eftswitch: the EFT transaction switch daemon"};
  std::string config_file;
  std::string check_file;
  bool check = false;
  app.add_option("--config", config_file, "deployment config (YAML)");
  app.add_flag("--check", check, "validate the config, the specs, BIN tables and HSM keys it names, then exit");
  app.add_option("--check-config", check_file, "same as --config FILE --check");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "eftswitch: " << e.what() << " (see --help)\n";
    return 1;
  }
  if (!check_file.empty()) {
    config_file = check_file;
    check = true;
  }
  if (config_file.empty()) {
    std::cerr << "eftswitch: --config FILE or --check-config FILE is required (see --help)\n";
    return 1;
  }

  eft::config::switch_config cfg;
  try {
    cfg = eft::config::load_switch_config(config_file);
  } catch (const eft::config::config_error& e) {
    std::cerr << "eftswitch: " << e.what() << '\n';
    return 1;
  }
  if (check) {
    // Everything start-up checks but binding: specs, the HSM and its PIN keys.
    try {
      const eft::switch_core::switch_server dry_run(cfg, open_hsm(cfg));
    } catch (const std::exception& e) {
      std::cerr << "eftswitch: " << e.what() << '\n';
      return 1;
    }
    std::cout << config_file << ": OK (" << cfg.listeners.size() << " listeners, " << cfg.links.size() << " links, "
              << cfg.groups.size() << " link groups, " << cfg.routes.size() << " routes)\n";
    return 0;
  }

  // Signals are taken by this thread only (sigwait below): the workers inherit the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    eft::switch_core::set_up_logging(cfg.logging, cfg.log_level);
  } catch (const std::exception& e) {
    std::cerr << "eftswitch: logging: " << e.what() << '\n';
    return 1;
  }
  if (const char* tunables = std::getenv("GLIBC_TUNABLES"); tunables != nullptr) {
    spdlog::info("malloc: GLIBC_TUNABLES={}", tunables);
  }
  try {
    auto hsm = open_hsm(cfg);
    eft::switch_core::switch_server server(std::move(cfg), std::move(hsm));
    server.start();
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        reload(server, config_file);
        continue;
      }
      spdlog::info("{}: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    server.stop();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    spdlog::shutdown();  // the queued lines first
    std::cerr << "eftswitch: " << e.what() << '\n';
    return 1;
  }
  spdlog::shutdown();
  return 0;
}

int main(int argc, char** argv) {
  eft::switch_core::restart_with_malloc_tuning(argv);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "eftswitch: " << e.what() << '\n';
    return 2;
  }
}
