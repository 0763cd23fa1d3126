// eftctl config check: validates a deployment config without starting anything, with the same
// checks as `eftswitch --check-config`: the YAML, every value and name, the specs and BIN tables it
// includes, and (when its HSM can be opened here) every key it names, with its usage.
#include <iostream>
#include <memory>
#include <stdexcept>

#include "commands.hpp"
#include "eft/config/switch.hpp"
#include "eft/switch/hsm_backend.hpp"
#include "eft/switch/stages.hpp"

namespace eftctl {

namespace {

// The HSM of the config, or null with the reason it could not be opened.
std::shared_ptr<eft::crypto::hsm> open_hsm(const eft::config::hsm_config& c, std::string& why) {
  auto h = eft::switch_core::open_hsm_backend(c);
  if (h) return *h;
  why = h.error().message();
  return nullptr;
}

std::size_t key_names(const eft::config::switch_config& c) {
  std::size_t n = 0;
  for (const auto& l : c.listeners) {
    n += !l.pin_key.empty() + !l.pin_bdk.empty() + !l.mac_key.empty() + !l.mac_bdk.empty();
  }
  for (const auto& r : c.routes) {
    n += !r.pin_key.empty() + (r.issuer ? 1 : 0) + (r.stand_in && r.stand_in->pin_verify ? 1 : 0);
  }
  return n;
}

int check(const std::string& file) {
  eft::config::switch_config cfg;
  try {
    cfg = eft::config::load_switch_config(file);
  } catch (const eft::config::config_error& e) {
    std::cerr << "eftctl: " << e.what() << '\n';
    return 1;
  }
  std::size_t ranges = 0;
  for (const auto& r : cfg.routes) ranges += r.bin_ranges ? r.bin_ranges->size() : 0;
  std::string keys = "no HSM keys named";
  if (const std::size_t n = key_names(cfg); n > 0 && cfg.hsm) {
    std::string why;
    const auto hsm = open_hsm(*cfg.hsm, why);
    if (!hsm) {
      std::cerr << "eftctl: warning: " << file << ": the HSM cannot be opened here (" << why << "); its " << n
                << " key names are not checked\n";
      keys = "HSM keys not checked";
    } else {
      try {
        (void)eft::switch_core::check_config_keys(cfg, hsm.get());
      } catch (const std::runtime_error& e) {
        std::cerr << "eftctl: " << e.what() << '\n';
        return 1;
      }
      keys = std::to_string(n) + " HSM keys checked";
    }
  }
  std::cout << file << ": OK (" << cfg.listeners.size() << " listeners, " << cfg.links.size() << " links, "
            << cfg.groups.size() << " link groups, " << cfg.routes.size() << " routes, " << ranges << " BIN ranges, "
            << keys << ")\n";
  return 0;
}

}  // namespace

void add_config_command(CLI::App& app, int& exit_status) {
  auto* config = app.add_subcommand("config", "Deployment configs");
  config->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* chk = config->add_subcommand("check", "Validate a switch config (values, names, specs, BIN tables, HSM keys)");
  chk->add_option("FILE", *file, "the switch config (YAML)")->required();
  chk->callback([file, &exit_status] { exit_status = check(*file); });
}

}  // namespace eftctl
