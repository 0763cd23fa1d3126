#include "crypto_cli.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>

#include "eft/config/hsm.hpp"

#include "commands.hpp"

namespace eftctl {

namespace crypto_cli {

namespace {
std::vector<registrar>& registry() {
  static std::vector<registrar> all;
  return all;
}
}  // namespace

bool register_commands(registrar r) {
  registry().push_back(std::move(r));
  return true;
}

const std::vector<registrar>& registrars() {
  return registry();
}

eft::crypto::bytes hex_arg(const std::string& option, const std::string& value) {
  auto r = eft::crypto::from_hex(value);
  if (!r) throw bad_input{option + ": " + r.error().detail};
  return std::move(r).value();
}

eft::crypto::secure_bytes key_arg(const std::string& option, const std::string& value,
                                  std::initializer_list<std::size_t> lengths) {
  auto r = eft::crypto::secure_from_hex(value);
  if (!r) throw bad_input{option + ": " + r.error().detail};
  for (auto n : lengths) {
    if (r->size() == n) return std::move(r).value();
  }
  std::string allowed;
  for (auto n : lengths) allowed += (allowed.empty() ? "" : ", ") + std::to_string(n);
  throw bad_input{option + ": key of " + std::to_string(r->size()) + " bytes; expected " + allowed + " bytes"};
}

std::string digits_arg(const std::string& option, const std::string& value, std::size_t min, std::size_t max) {
  if (value.size() < min || value.size() > max || value.find_first_not_of("0123456789") != std::string::npos) {
    throw bad_input{option + ": expected " + std::to_string(min) + (min == max ? "" : "-" + std::to_string(max)) +
                    " decimal digits"};
  }
  return value;
}

void print(bool json, const std::vector<std::pair<std::string, std::string>>& results) {
  if (json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& [k, v] : results) j[k] = v;
    std::cout << j.dump() << '\n';
    return;
  }
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i == 0) {
      std::cout << results[i].second << '\n';
    } else {
      std::cout << results[i].first << ": " << results[i].second << '\n';
    }
  }
}

int run(const std::function<void()>& body) {
  try {
    body();
    return 0;
  } catch (const bad_input& e) {
    std::cerr << "eftctl: " << e.reason << '\n';
    return 1;
  }
}

}  // namespace crypto_cli

std::string crypto_refusal() {
  const char* config = std::getenv("EFT_CONFIG");
  if (config == nullptr || *config == '\0') return {};
  try {
    if (eft::config::load_hsm_config(config).production) {
      return std::string("clear-key calculators are refused: the HSM of ") + config + " is marked production";
    }
  } catch (const eft::config::config_error& e) {
    return std::string("EFT_CONFIG: ") + e.what();
  }
  return {};
}

void add_crypto_command(CLI::App& app, int& exit_status) {
  auto* crypto = app.add_subcommand("crypto", "Clear-key calculators for testers and key ceremonies");
  crypto->require_subcommand(1);
  for (const auto& r : crypto_cli::registrars()) r(*crypto, exit_status);
}

}  // namespace eftctl
