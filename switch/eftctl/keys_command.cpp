// eftctl keys: list, generate, import and export keys of the HSM named in a deployment config.
// Listing shows names, usage, algorithm and check values, never key material.
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "crypto_cli.hpp"
#include "eft/config/hsm.hpp"
#include "eft/switch/hsm_backend.hpp"

namespace eftctl {

namespace {

using crypto_cli::bad_input;
using crypto_cli::take;

std::shared_ptr<eft::crypto::hsm> open_hsm(const std::string& config_file) {
  eft::config::hsm_config c;
  try {
    c = eft::config::load_hsm_config(config_file);
  } catch (const eft::config::config_error& e) {
    throw bad_input{e.what()};
  }
  return take(eft::switch_core::open_hsm_backend(c));
}

struct header_options {
  std::string usage;
  std::string algorithm = "T";
  std::string mode = "B";
  std::string key_version = "00";
  bool exportable = false;

  eft::crypto::tr31_header header() const {
    if (usage.size() != 2) throw bad_input{"--usage: a two-character TR-31 key usage such as P0, M3, K0, B0"};
    if (algorithm.size() != 1 || mode.size() != 1 || key_version.size() != 2) {
      throw bad_input{"--algorithm and --mode are one character, --key-version two"};
    }
    eft::crypto::tr31_header h;
    h.usage = usage;
    h.algorithm = algorithm[0];
    h.mode_of_use = mode[0];
    h.key_version = key_version;
    h.exportability = exportable ? 'E' : 'N';
    return h;
  }
  void add(CLI::App* cmd) {
    cmd->add_option("--usage", usage, "TR-31 key usage (P0 PIN, M0-M8 MAC, K0 KEK, B0 BDK, E0 EMV, C0 CVK, V1/V2 PVK)")
        ->required();
    cmd->add_option("--algorithm", algorithm, "T (TDES), A (AES), H (HMAC)");
    cmd->add_option("--mode", mode, "TR-31 mode of use (B, E, D, C, G, V, X, N)");
    cmd->add_option("--key-version", key_version, "two-character key version");
    cmd->add_flag("--exportable", exportable, "allow export under a KEK");
  }
};

// The key check value first: without --json, commands print that one value.
std::vector<std::pair<std::string, std::string>> describe(const eft::crypto::key_info& k) {
  return {{"kcv", k.kcv},
          {"name", k.name},
          {"usage", k.header.usage},
          {"algorithm", std::string(1, k.header.algorithm)},
          {"mode_of_use", std::string(1, k.header.mode_of_use)},
          {"length", std::to_string(k.length)},
          {"exportability", std::string(1, k.header.exportability)}};
}

}  // namespace

void add_keys_command(CLI::App& app, int& exit_status) {
  auto* keys = app.add_subcommand("keys", "Keys of the HSM named in a deployment config");
  keys->require_subcommand(1);
  auto config = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  const auto common = [&](CLI::App* cmd) {
    cmd->add_option("--config", *config, "deployment config file with an hsm: section")->required();
    cmd->add_flag("--json", *json, "print JSON");
  };

  auto* list = keys->add_subcommand("list", "Name, usage, algorithm and check value of every key");
  common(list);
  list->callback([config, json, &exit_status] {
    exit_status = crypto_cli::run([&] {
      auto all = take(open_hsm(*config)->list_keys());
      if (*json) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& k : all) {
          nlohmann::ordered_json o;
          for (const auto& [name, value] : describe(k)) o[name] = value;
          out.push_back(o);
        }
        std::cout << out.dump() << '\n';
        return;
      }
      for (const auto& k : all) {
        std::cout << k.name << "  " << k.header.usage << ' ' << k.header.algorithm << ' ' << k.header.mode_of_use << ' '
                  << k.header.exportability << "  " << k.length * 8 << " bits  KCV " << k.kcv << '\n';
      }
    });
  });

  auto gen = std::make_shared<header_options>();
  auto name = std::make_shared<std::string>();
  auto length = std::make_shared<std::size_t>(16);
  auto* generate = keys->add_subcommand("generate", "Generate a random key in the HSM");
  common(generate);
  generate->add_option("--name", *name, "key name, e.g. zpk.acquirer1")->required();
  generate->add_option("--length", *length, "key length in bytes (TDES 16 or 24, AES 16/24/32)");
  gen->add(generate);
  generate->callback([config, json, gen, name, length, &exit_status] {
    exit_status = crypto_cli::run([&] {
      auto info = take(open_hsm(*config)->generate_key(*name, gen->header(), *length));
      if (*json) {
        crypto_cli::print(true, describe(info));
      } else {
        crypto_cli::print(false, {{"kcv", info.kcv}});
      }
    });
  });

  auto imp = std::make_shared<header_options>();
  auto kek = std::make_shared<std::string>();
  auto block = std::make_shared<std::string>();
  auto components = std::make_shared<std::vector<std::string>>();
  auto kcv = std::make_shared<std::string>();
  auto* import =
      keys->add_subcommand("import", "Import a key from a TR-31 block under a KEK, or from clear components");
  common(import);
  import->add_option("--name", *name, "name of the new key")->required();
  import->add_option("--kek", *kek, "name of the key encryption key the block is wrapped under");
  import->add_option("--block", *block, "TR-31 key block");
  import->add_option("--component", *components, "clear key component in hex (repeat for each)");
  import->add_option("--kcv", *kcv, "expected check value of the combined key");
  import->add_option("--usage", imp->usage, "TR-31 key usage (components only)");
  import->add_option("--algorithm", imp->algorithm, "T (TDES), A (AES), H (HMAC)");
  import->add_option("--mode", imp->mode, "TR-31 mode of use");
  import->add_flag("--exportable", imp->exportable, "allow export under a KEK");
  import->callback([config, json, imp, name, kek, block, components, kcv, &exit_status] {
    exit_status = crypto_cli::run([&] {
      auto h = open_hsm(*config);
  eft::crypto::key_info info;
  if (!block->empty()) {
    if (kek->empty()) throw bad_input{"--block needs --kek"};
    info = take(h->import_key(*name, *kek, *block));
  } else if (!components->empty()) {
    std::vector<eft::crypto::secure_bytes> parts;
    for (const auto& c : *components) parts.push_back(crypto_cli::key_arg("--component", c, {8, 16, 24, 32}));
    info = take(h->import_components(*name, imp->header(), parts, *kcv));
  } else {
    throw bad_input{"give --kek and --block, or --component (one or more)"};
  }
  if (*json) {
    crypto_cli::print(true, describe(info));
  } else {
    crypto_cli::print(false, {{"kcv", info.kcv}});
  }
});
}  // namespace eftctl
);

auto* exp = keys->add_subcommand("export", "Export a key as a TR-31 block under a KEK");
common(exp);
exp->add_option("--name", *name, "key to export (must be exportable)")->required();
exp->add_option("--kek", *kek, "key encryption key to wrap it under")->required();
exp->callback([config, json, name, kek, &exit_status] {
  exit_status = crypto_cli::run([&] {
    const auto out = take(open_hsm(*config)->export_key(*name, *kek));
    crypto_cli::print(*json, {{"block", out}});
  });
});
}

}  // namespace eftctl
