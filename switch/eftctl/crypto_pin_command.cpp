// eftctl crypto kcv | pin-block | mac: clear-key calculators for key check values, ISO 9564-1 PIN
// blocks and MACs. Every check happens in the command body so that malformed input always ends
// with exit status 1 and one line (crypto_cli's contract), never with a CLI11 usage dump.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crypto_cli.hpp"
#include "eft/crypto/kcv.hpp"
#include "eft/crypto/mac.hpp"
#include "eft/crypto/pin_block.hpp"

namespace eftctl {

namespace {

namespace ec = eft::crypto;
using crypto_cli::bad_input;
using results = std::vector<std::pair<std::string, std::string>>;

// The first pair alone in text mode (one line); every pair with --json.
void emit(bool json, results r) {
  if (!json) r.resize(1);
  crypto_cli::print(json, r);
}

std::size_t length_arg(const std::string& option, const std::string& value) {
  const std::string digits = crypto_cli::digits_arg(option, value, 1, 3);
  return std::stoul(digits);
}

ec::secure_bytes any_key_arg(const std::string& option, const std::string& value) {
  auto r = ec::secure_from_hex(value);
  if (!r) throw bad_input{option + ": " + r.error().detail};
  return std::move(r).value();
}

// ---------------------------------------------------------------------------------------------
// kcv

struct kcv_options {
  std::string key;
  std::string algo = "tdes";
  std::string length;
  bool legacy = false;
  bool json = false;
};

void run_kcv(const kcv_options& o, const CLI::Option* key, const CLI::Option* length) {
  if (key->count() == 0) throw bad_input{"give the key with --key HEX"};
  ec::cipher c = ec::cipher::tdes;
  ec::secure_bytes k;
  if (o.algo == "tdes") {
    k = crypto_cli::key_arg("--key", o.key, {8, 16, 24});
    if (k.size() == 8) c = ec::cipher::des;
  } else if (o.algo == "aes") {
    k = crypto_cli::key_arg("--key", o.key, {16, 24, 32});
    c = ec::cipher::aes;
  } else {
    throw bad_input{"--algo: expected tdes or aes"};
  }
  const std::size_t n = length->count() != 0 ? length_arg("--length", o.length) : 0;
  if (length->count() != 0 && n == 0) throw bad_input{"--length: at least 1 byte"};
  const auto method = o.legacy ? ec::kcv_method::legacy_ecb : ec::kcv_method::standard;
  const auto kcv = crypto_cli::take(ec::key_check_value(c, k, method, n));
  emit(o.json, {{"kcv", ec::to_hex(kcv)},
                {"algorithm", c == ec::cipher::des ? "des" : o.algo},
                {"method", c != ec::cipher::aes ? "E(0)"
                           : o.legacy           ? "AES-ECB(0) legacy"
                                                : "CMAC(0)"}});
}

void add_kcv(CLI::App& crypto, int& exit_status) {
  auto o = std::make_shared<kcv_options>();
  auto* cmd = crypto.add_subcommand("kcv", "Key check value: TDES E(0), 3 bytes; AES CMAC(0), 5 bytes");
  auto* key = cmd->add_option("--key", o->key, "The clear key as hex (required)");
  cmd->add_option("--algo", o->algo, "tdes (8-, 16- or 24-byte key; default) or aes (16, 24 or 32 bytes)");
  cmd->add_flag("--legacy", o->legacy, "AES: first bytes of AES-ECB(0) instead of CMAC(0)");
  auto* length = cmd->add_option("--length", o->length, "Check value length in bytes (default 3 TDES, 5 AES)");
  cmd->add_flag("--json", o->json, "Print a JSON object");
  cmd->callback([o, key, length, &exit_status] { exit_status = crypto_cli::run([&] { run_kcv(*o, key, length); }); });
}

// ---------------------------------------------------------------------------------------------
// pin-block

struct pin_block_options {
  std::string format;
  std::string pin;
  std::string pan;
  std::string key;
  std::string random;
  bool json = false;
};

struct pin_block_given {
  const CLI::Option* format;
  const CLI::Option* pin;
  const CLI::Option* pan;
  const CLI::Option* key;
  const CLI::Option* random;
};

void run_pin_block(const pin_block_options& o, const pin_block_given& given) {
  if (given.format->count() == 0) throw bad_input{"give the format with --format 0|1|3|4"};
  ec::pin_block_format f = ec::pin_block_format::iso0;
  if (o.format == "0") {
    f = ec::pin_block_format::iso0;
  } else if (o.format == "1") {
    f = ec::pin_block_format::iso1;
  } else if (o.format == "3") {
    f = ec::pin_block_format::iso3;
  } else if (o.format == "4") {
    f = ec::pin_block_format::iso4;
  } else {
    throw bad_input{"--format: expected 0, 1, 3 or 4"};
  }
  if (given.pin->count() == 0) throw bad_input{"give the PIN with --pin PIN"};
  if (given.pan->count() == 0 && f != ec::pin_block_format::iso1) throw bad_input{"give the PAN with --pan PAN"};
  crypto_cli::digits_arg("--pin", o.pin, 4, 12);
  if (f != ec::pin_block_format::iso1) {
    if (auto st = ec::check_pan(o.pan, f); !st) throw bad_input{"--pan: " + st.error().detail};
  }
  const ec::bytes fill = given.random->count() != 0 ? crypto_cli::hex_arg("--random", o.random) : ec::bytes{};
  if (given.random->count() != 0 && fill.empty()) throw bad_input{"--random: empty"};
  if (f == ec::pin_block_format::iso0 && !fill.empty()) throw bad_input{"--random: format 0 has no random fill"};

  std::string block;
  bool encrypted = false;
  if (f == ec::pin_block_format::iso4) {
    if (given.key->count() == 0) throw bad_input{"format 4 needs the AES PIN key: --key HEX"};
    if (!fill.empty() && fill.size() != 8) throw bad_input{"--random: format 4 takes 8 bytes of random fill"};
    const auto key = crypto_cli::key_arg("--key", o.key, {16, 24, 32});
    block = ec::to_hex(crypto_cli::take(ec::encrypt_pin_block_iso4(key, o.pin, o.pan, fill)));
    encrypted = true;
  } else if (given.key->count() != 0) {
    const auto key = crypto_cli::key_arg("--key", o.key, {16, 24});
    block = ec::to_hex(crypto_cli::take(ec::encrypt_pin(f, ec::cipher::tdes, key, o.pin, o.pan, fill)));
    encrypted = true;
  } else {
    const auto clear = crypto_cli::take(ec::make_pin_block(f, o.pin, o.pan, fill));
    block = ec::to_hex(clear);
  }
  emit(o.json, {{"pin_block", block}, {"format", o.format}, {"kind", encrypted ? "encrypted" : "clear"}});
}

void add_pin_block(CLI::App& crypto, int& exit_status) {
  auto o = std::make_shared<pin_block_options>();
  auto* cmd = crypto.add_subcommand(
      "pin-block", "ISO 9564-1 PIN block: clear block of format 0, 1 or 3, or encrypted with --key (format 4: AES)");
  pin_block_given given{};
  given.format = cmd->add_option("--format", o->format, "0, 1, 3 or 4 (required)");
  given.pin = cmd->add_option("--pin", o->pin, "The PIN, 4 to 12 digits (required)");
  given.pan = cmd->add_option("--pan", o->pan, "The PAN (required except for format 1)");
  given.key =
      cmd->add_option("--key", o->key, "PIN key as hex: AES for format 4 (required), TDES for 0/1/3 (optional)");
  given.random = cmd->add_option("--random", o->random, "Random fill as hex: nibbles for formats 1/3, 8 bytes for 4");
  cmd->add_flag("--json", o->json, "Print a JSON object");
  cmd->callback([o, given, &exit_status] { exit_status = crypto_cli::run([&] { run_pin_block(*o, given); }); });
}

// ---------------------------------------------------------------------------------------------
// mac

struct mac_cli_options {
  std::string algo;
  std::string key;
  std::string data;
  std::string padding;
  std::string cipher;
  std::string length;
  bool json = false;
};

struct mac_given {
  const CLI::Option* algo;
  const CLI::Option* key;
  const CLI::Option* data;
  const CLI::Option* padding;
  const CLI::Option* cipher;
  const CLI::Option* length;
};

ec::cipher cipher_arg(const std::string& value) {
  if (value == "des") return ec::cipher::des;
  if (value == "tdes") return ec::cipher::tdes;
  if (value == "aes") return ec::cipher::aes;
  throw bad_input{"--cipher: expected des, tdes or aes"};
}

void run_mac(const mac_cli_options& o, const mac_given& given) {
  if (given.algo->count() == 0) throw bad_input{"give the algorithm with --algo"};
  if (given.key->count() == 0) throw bad_input{"give the key with --key HEX"};
  if (given.data->count() == 0) throw bad_input{"give the data with --data HEX"};
  ec::mac_options m;
  if (o.algo == "iso9797-1-alg1") {
    m.scheme = ec::mac_scheme::iso9797_1_alg1;
  } else if (o.algo == "iso9797-1-alg3") {
    m.scheme = ec::mac_scheme::iso9797_1_alg3;
  } else if (o.algo == "cmac") {
    m.scheme = ec::mac_scheme::cmac;
  } else if (o.algo == "hmac-sha256") {
    m.scheme = ec::mac_scheme::hmac_sha256;
  } else {
    throw bad_input{"--algo: expected iso9797-1-alg1, iso9797-1-alg3, cmac or hmac-sha256"};
  }
  const auto key = any_key_arg("--key", o.key);
  const auto data = crypto_cli::hex_arg("--data", o.data);

  const bool block_mac = m.scheme == ec::mac_scheme::iso9797_1_alg1 || m.scheme == ec::mac_scheme::iso9797_1_alg3;
  if (given.padding->count() != 0) {
    if (!block_mac) throw bad_input{"--padding: applies to iso9797-1-alg1 and iso9797-1-alg3 only"};
    if (o.padding == "1") {
      m.padding = ec::mac_padding::method1;
    } else if (o.padding == "2") {
      m.padding = ec::mac_padding::method2;
    } else {
      throw bad_input{"--padding: expected 1 or 2"};
    }
  }
  switch (m.scheme) {
    case ec::mac_scheme::iso9797_1_alg1:
      m.block_cipher =
          given.cipher->count() != 0 ? cipher_arg(o.cipher) : (key.size() == 8 ? ec::cipher::des : ec::cipher::tdes);
      break;
    case ec::mac_scheme::iso9797_1_alg3:
      m.block_cipher = given.cipher->count() != 0 ? cipher_arg(o.cipher) : ec::cipher::des;
      if (m.block_cipher == ec::cipher::aes) throw bad_input{"--cipher: iso9797-1-alg3 is the DES retail MAC"};
      break;
    case ec::mac_scheme::cmac:
      m.block_cipher = given.cipher->count() != 0 ? cipher_arg(o.cipher) : ec::cipher::aes;
      break;
    case ec::mac_scheme::hmac_sha256:
      if (given.cipher->count() != 0) throw bad_input{"--cipher: does not apply to hmac-sha256"};
      break;
  }
  if (given.length->count() != 0) {
    m.length = length_arg("--length", o.length);
    if (m.length == 0) throw bad_input{"--length: at least 4 bytes"};
  }
  const auto mac = crypto_cli::take(ec::compute_mac(m, key, data));
  emit(o.json, {{"mac", ec::to_hex(mac)}, {"algorithm", o.algo}, {"length", std::to_string(mac.size())}});
}

void add_mac(CLI::App& crypto, int& exit_status) {
  auto o = std::make_shared<mac_cli_options>();
  auto* cmd = crypto.add_subcommand("mac", "MAC: ISO 9797-1 algorithms 1 and 3, CMAC, HMAC-SHA256");
  mac_given given{};
  given.algo = cmd->add_option("--algo", o->algo, "iso9797-1-alg1, iso9797-1-alg3, cmac or hmac-sha256 (required)");
  given.key = cmd->add_option("--key", o->key, "The clear key as hex (required)");
  given.data = cmd->add_option("--data", o->data, "The data as hex (required; may be empty)");
  given.padding = cmd->add_option("--padding", o->padding, "ISO 9797-1 padding method 1 (default) or 2");
  given.cipher = cmd->add_option(
      "--cipher", o->cipher, "alg1: tdes (default; des for an 8-byte key) or aes; cmac: aes (default), tdes or des");
  given.length = cmd->add_option("--length", o->length, "MAC length in bytes (default 8 for DES/TDES, else full)");
  cmd->add_flag("--json", o->json, "Print a JSON object");
  cmd->callback([o, given, &exit_status] { exit_status = crypto_cli::run([&] { run_mac(*o, given); }); });
}

const bool registered = crypto_cli::register_commands([](CLI::App& crypto, int& exit_status) {
  add_kcv(crypto, exit_status);
  add_pin_block(crypto, exit_status);
  add_mac(crypto, exit_status);
});

}  // namespace

}  // namespace eftctl
