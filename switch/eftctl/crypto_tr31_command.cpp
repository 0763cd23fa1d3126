// eftctl crypto tr31 unwrap | wrap: TR-31 (ANSI X9.143) key blocks, versions A, B and D, under a clear
// key block protection key, for testers and key ceremonies. Header rules, lengths and the MAC are
// checked by eft::crypto; every failure ends with exit status 1 and one line (crypto_cli's contract).
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crypto_cli.hpp"
#include "eft/crypto/kcv.hpp"
#include "eft/crypto/primitives.hpp"
#include "eft/crypto/tr31.hpp"

namespace eftctl {

namespace {

namespace ec = eft::crypto;
using crypto_cli::bad_input;

// A key typed by a person, into wiped memory; its length is the key block's to judge.
ec::secure_bytes secure_hex_arg(const std::string& option, const std::string& value) {
  auto r = ec::secure_from_hex(value);
  if (!r) throw bad_input{option + ": " + r.error().detail};
  if (r->empty()) throw bad_input{option + ": empty"};
  return std::move(r).value();
}

// KCV of the unwrapped key for the JSON form (X9.24-1 for TDES, CMAC for AES); none for HMAC keys.
std::string kcv_text(char algorithm, const ec::secure_bytes& key) {
  if (algorithm != 'T' && algorithm != 'A') return "";
  auto kcv = ec::key_check_value(algorithm == 'T' ? ec::cipher::tdes : ec::cipher::aes, key.view());
  return kcv ? ec::to_hex(*kcv) : "";
}

// ---------------------------------------------------------------------------------------------
// tr31 unwrap

struct unwrap_options {
  std::string kbpk;
  std::string block;
  bool json = false;
};

void run_unwrap(const unwrap_options& o) {
  if (o.kbpk.empty()) throw bad_input{"give the key block protection key with --kbpk HEX"};
  if (o.block.empty()) throw bad_input{"give the key block with --block TEXT"};
  const ec::secure_bytes kbpk = crypto_cli::key_arg("--kbpk", o.kbpk, {16, 24, 32});
  const ec::tr31_key k = crypto_cli::take(ec::tr31_unwrap(kbpk.view(), o.block));
  if (!o.json) {
    std::cout << ec::to_hex(k.key.view()) << '\n';
    return;
  }
  const auto& h = k.header;
  nlohmann::ordered_json j;
  j["key"] = ec::to_hex(k.key.view());
  if (const std::string kcv = kcv_text(h.algorithm, k.key); !kcv.empty()) j["kcv"] = kcv;
  j["version"] = std::string(1, h.version);
  j["length"] = o.block.substr(1, 4);
  j["usage"] = h.usage;
  j["algorithm"] = std::string(1, h.algorithm);
  j["mode_of_use"] = std::string(1, h.mode_of_use);
  j["key_version"] = h.key_version;
  j["exportability"] = std::string(1, h.exportability);
  j["optional_blocks"] = nlohmann::ordered_json::array();
  for (const auto& [id, data] : h.optional_blocks) j["optional_blocks"].push_back({{"id", id}, {"data", data}});
  std::cout << j.dump() << '\n';
}

void add_unwrap(CLI::App& tr31, int& exit_status) {
  auto o = std::make_shared<unwrap_options>();
  auto* cmd = tr31.add_subcommand("unwrap", "Check a key block's header and MAC and print the clear key");
  cmd->add_option("--kbpk", o->kbpk, "Key block protection key as hex: 16 or 24 bytes TDES (A, B), 16/24/32 AES (D)");
  cmd->add_option("--block", o->block, "The key block text");
  cmd->add_flag("--json", o->json, "Print a JSON object with the key, its KCV and the header fields");
  cmd->callback([o, &exit_status] { exit_status = crypto_cli::run([&] { run_unwrap(*o); }); });
}

// ---------------------------------------------------------------------------------------------
// tr31 wrap

struct wrap_options {
  std::string kbpk;
  std::string key;
  std::string header;
  std::string random;
  bool json = false;
};

void run_wrap(const wrap_options& o, const CLI::Option* random_given) {
  if (o.kbpk.empty()) throw bad_input{"give the key block protection key with --kbpk HEX"};
  if (o.key.empty()) throw bad_input{"give the key to wrap with --key HEX"};
  if (o.header.empty()) throw bad_input{"give the header with --header TEXT (e.g. D0000P0AE00E0000)"};
  const ec::secure_bytes kbpk = crypto_cli::key_arg("--kbpk", o.kbpk, {16, 24, 32});
  const ec::secure_bytes key = secure_hex_arg("--key", o.key);
  ec::bytes fill;
  if (random_given->count() != 0) {
    fill = crypto_cli::hex_arg("--random", o.random);
    if (fill.empty()) throw bad_input{"--random: empty (leave it out to draw the padding from the RNG)"};
  }
  // The length digits are the wrap's to compute: whatever was typed there is ignored.
  std::string text = o.header;
  if (text.size() >= 5) text.replace(1, 4, "0000");
  std::size_t used = 0;
  auto header = ec::tr31_parse_header(text, used);
  if (!header) throw bad_input{"--header: " + header.error().message()};
  if (used != text.size()) {
    throw bad_input{"--header: " + std::to_string(text.size() - used) +
                    " characters after the header and its optional blocks"};
  }
  const std::string block = crypto_cli::take(ec::tr31_wrap(kbpk.view(), *header, key.view(), fill));
  std::vector<std::pair<std::string, std::string>> out{{"key_block", block}};
  if (o.json) {
    if (const std::string kcv = kcv_text(header->algorithm, key); !kcv.empty()) out.emplace_back("kcv", kcv);
  }
  crypto_cli::print(o.json, out);
}

void add_wrap(CLI::App& tr31, int& exit_status) {
  auto o = std::make_shared<wrap_options>();
  auto* cmd = tr31.add_subcommand("wrap", "Wrap a clear key into a key block under a clear KBPK");
  cmd->add_option("--kbpk", o->kbpk, "Key block protection key as hex: 16 or 24 bytes TDES (A, B), 16/24/32 AES (D)");
  cmd->add_option("--key", o->key, "The key to wrap as hex");
  cmd->add_option("--header", o->header,
                  "The 16-character header and its optional blocks (the length digits are recomputed), "
                  "e.g. D0000P0AE00E0000 or B0000B0TX12S0100KS1800604B120F9292800000");
  auto* random = cmd->add_option("--random", o->random,
                                 "The padding as hex (default: RNG; 2 + key + padding must fill whole cipher blocks)");
  cmd->add_flag("--json", o->json, "Print a JSON object with the key block and the key's KCV");
  cmd->callback([o, random, &exit_status] { exit_status = crypto_cli::run([&] { run_wrap(*o, random); }); });
}

void add_tr31(CLI::App& crypto, int& exit_status) {
  auto* tr31 = crypto.add_subcommand("tr31", "TR-31 / X9.143 key blocks (versions A, B, D) under a clear KBPK");
  tr31->require_subcommand(1);
  add_unwrap(*tr31, exit_status);
  add_wrap(*tr31, exit_status);
}

const bool registered = crypto_cli::register_commands(add_tr31);

}  // namespace

}  // namespace eftctl
