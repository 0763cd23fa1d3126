// Start-up checks of the key names in a deployment config against the HSM, and the order of the HSM
// stages. A key of the wrong usage is found here, at start-up or --check-config, not per message.
#include <fmt/format.h>

#include <stdexcept>

#include "eft/switch/stages.hpp"

namespace eft::switch_core {

namespace {

std::string where(const config::switch_config& c, int line) {
  return line > 0 ? fmt::format("{}:{}", c.source.string(), line) : c.source.string();
}

struct named_key {
  std::string_view what;  // "pin_key"
  std::string name;
  int line;
  std::string_view usage;        // TR-31 usage wanted
  std::string_view description;  // "a PIN key"
  std::string listener;          // DUKPT listeners: whose KSN size this gives
};

}  // namespace

ksn_sizes check_config_keys(const config::switch_config& cfg, crypto::hsm* hsm) {
  std::vector<named_key> keys;
  for (const auto& l : cfg.listeners) {
    if (!l.pin_key.empty()) keys.push_back({"pin_key", l.pin_key, l.line, "P0", "a PIN key", {}});
    if (!l.pin_bdk.empty()) keys.push_back({"pin_bdk", l.pin_bdk, l.line, "B0", "a DUKPT BDK", l.name});
    if (!l.mac_key.empty()) keys.push_back({"mac_key", l.mac_key, l.line, "M3", "an ISO 9797-1 alg 3 MAC key", {}});
    if (!l.mac_bdk.empty()) keys.push_back({"mac_bdk", l.mac_bdk, l.line, "B0", "a DUKPT BDK", l.name});
  }
  for (const auto& r : cfg.routes) {
    if (!r.pin_key.empty()) keys.push_back({"pin_key", r.pin_key, r.line, "P0", "a PIN key", {}});
    if (r.issuer) {
      keys.push_back({"issuer.imk", r.issuer->imk, r.issuer->line, "E0", "an issuer master key for ACs", {}});
    }
    if (r.stand_in && r.stand_in->pin_verify) {
      const config::pin_verify_config& v = *r.stand_in->pin_verify;
      if (v.method == config::pin_verify_method::visa_pvv) {
        keys.push_back({"stand_in.pin_verify.pvk", v.pvk, v.line, "V2", "a Visa PVV PIN verification key", {}});
      } else {
        keys.push_back({"stand_in.pin_verify.pvk", v.pvk, v.line, "V1", "an IBM 3624 PIN verification key", {}});
      }
    }
  }
  ksn_sizes sizes;
  if (keys.empty()) return sizes;
  if (hsm == nullptr) {
    throw std::runtime_error(fmt::format("{}: {} '{}' needs an HSM, and none is open", where(cfg, keys[0].line),
                                         keys[0].what, keys[0].name));
  }
  for (const auto& k : keys) {
    const auto info = hsm->describe_key(k.name);
    if (!info) {
      throw std::runtime_error(fmt::format("{}: {} '{}': {} (list the HSM's keys with eftctl keys list --config {})",
                                           where(cfg, k.line), k.what, k.name, info.error().message(),
                                           cfg.source.string()));
    }
    if (info->header.usage != k.usage) {
      throw std::runtime_error(fmt::format("{}: {} '{}' is a key of usage {}, not {} ({})", where(cfg, k.line), k.what,
                                           k.name, info->header.usage, k.description, k.usage));
    }
    if (!k.listener.empty()) {
      const std::size_t n = info->header.algorithm == 'A' ? 12 : 10;
      const auto [it, fresh] = sizes.emplace(k.listener, n);
      if (!fresh && it->second != n) {
        throw std::runtime_error(fmt::format("{}: pin_bdk and mac_bdk of listener {} are TDES and AES BDKs",
                                             where(cfg, k.line), k.listener));
      }
    }
  }
  return sizes;
}

void add_hsm_stages(pipeline& p, crypto::async_hsm& hsm, switch_counters& counters, ksn_sizes sizes) {
  p.add_stage(stage_point::received, "ksn", make_ksn_stage(std::make_shared<const ksn_sizes>(std::move(sizes))));
  p.add_stage(stage_point::received, "mac-verify", make_mac_verify_stage(hsm, counters));
  p.add_stage(stage_point::routed, "pin-translate", make_pin_translation_stage(hsm));
  p.add_stage(stage_point::routed, "arqc-verify", make_arqc_stage(hsm, counters));
  p.add_stage(stage_point::answered, "arpc", make_arpc_stage(hsm));
  p.add_stage(stage_point::answered, "mac-generate", make_mac_generate_stage(hsm));
  p.add_stage(stage_point::stand_in, "stand-in-pin-verify", make_stand_in_pin_stage(hsm));
}

}  // namespace eft::switch_core
