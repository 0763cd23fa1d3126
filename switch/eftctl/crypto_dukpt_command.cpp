// eftctl crypto dukpt pin | key | next-ksn: clear-key DUKPT calculators (TDES per ANSI X9.24-1:2009,
// AES per X9.24-3-2017) for testers and key injection. Every check happens in the command body so
// that malformed input always ends with exit status 1 and one line (crypto_cli's contract).
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto_cli.hpp"
#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/kcv.hpp"
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

// Options shared by every dukpt sub-command.
struct dukpt_common {
  std::string bdk;
  std::string ksn;
  bool aes = false;
  bool json = false;
};

struct common_given {
  const CLI::Option* bdk = nullptr;
  const CLI::Option* ksn = nullptr;
};

common_given add_common(CLI::App* cmd, dukpt_common& o, bool with_bdk) {
  common_given g;
  if (with_bdk) {
    g.bdk = cmd->add_option("--bdk", o.bdk, "Base derivation key as hex: 16 bytes TDES; 16, 24 or 32 bytes AES");
  }
  g.ksn = cmd->add_option("--ksn", o.ksn,
                          "Key serial number as hex: 10 bytes TDES; 12 bytes AES (initial key ID "
                          "+ counter)");
  cmd->add_flag("--aes", o.aes, "AES DUKPT (X9.24-3-2017) instead of TDES DUKPT (X9.24-1:2009)");
  cmd->add_flag("--json", o.json, "Print a JSON object");
  return g;
}

ec::bytes ksn_arg(const dukpt_common& o, const common_given& g) {
  if (g.ksn->count() == 0) throw bad_input{"give the key serial number with --ksn HEX"};
  ec::bytes ksn = crypto_cli::hex_arg("--ksn", o.ksn);
  const std::size_t want = o.aes ? ec::dukpt_aes_ksn_size : ec::dukpt_tdes_ksn_size;
  if (ksn.size() != want) {
    throw bad_input{"--ksn: " + std::string(o.aes ? "AES" : "TDES") + " DUKPT KSNs are " + std::to_string(want) +
                    " bytes; got " + std::to_string(ksn.size()) +
                    (o.aes                                  ? ""
                     : ksn.size() == ec::dukpt_aes_ksn_size ? " (add --aes for an AES KSN)"
                                                            : "")};
  }
  return ksn;
}

ec::secure_bytes bdk_arg(const dukpt_common& o, const common_given& g) {
  if (g.bdk->count() == 0) throw bad_input{"give the base derivation key with --bdk HEX"};
  if (o.aes) return crypto_cli::key_arg("--bdk", o.bdk, {16, 24, 32});
  return crypto_cli::key_arg("--bdk", o.bdk, {16});
}

ec::dukpt_aes_key_type key_type_arg(const std::string& value) {
  using t = ec::dukpt_aes_key_type;
  for (const t k : {t::tdes2, t::tdes3, t::aes128, t::aes192, t::aes256, t::hmac128, t::hmac192, t::hmac256}) {
    if (value == ec::to_string(k)) return k;
  }
  throw bad_input{"--key-type: expected tdes2, tdes3, aes128, aes192, aes256, hmac128, hmac192 or hmac256"};
}

std::string counter_text(std::uint32_t c, bool aes) {
  std::string hex = ec::to_hex(ec::bytes{static_cast<std::uint8_t>(c >> 24), static_cast<std::uint8_t>(c >> 16),
                                         static_cast<std::uint8_t>(c >> 8), static_cast<std::uint8_t>(c)});
  return aes ? hex : hex.substr(2);
}

// ---------------------------------------------------------------------------------------------
// dukpt pin

struct pin_options : dukpt_common {
  std::string pin;
  std::string pan;
  std::string random;
  std::string key_type;
};

struct pin_given : common_given {
  const CLI::Option* pin = nullptr;
  const CLI::Option* pan = nullptr;
  const CLI::Option* random = nullptr;
  const CLI::Option* key_type = nullptr;
};

void run_pin(const pin_options& o, const pin_given& g) {
  if (g.pin->count() == 0) throw bad_input{"give the PIN with --pin PIN"};
  if (g.pan->count() == 0) throw bad_input{"give the PAN with --pan PAN"};
  if (!o.aes && g.random->count() != 0) throw bad_input{"--random: only with --aes (format 0 has no random fill)"};
  if (!o.aes && g.key_type->count() != 0) throw bad_input{"--key-type: only with --aes"};
  const auto format = o.aes ? ec::pin_block_format::iso4 : ec::pin_block_format::iso0;
  const ec::bytes ksn = ksn_arg(o, g);
  const ec::secure_bytes bdk = bdk_arg(o, g);
  crypto_cli::digits_arg("--pin", o.pin, 4, 12);
  if (auto st = ec::check_pan(o.pan, format); !st) throw bad_input{"--pan: " + st.error().detail};

  std::string block;
  std::string counter;
  std::string key_type = "tdes2";
  if (o.aes) {
    ec::bytes fill;
    if (g.random->count() != 0) {
      fill = crypto_cli::hex_arg("--random", o.random);
      if (fill.size() != 8) throw bad_input{"--random: format 4 takes 8 bytes of random fill"};
    }
    // Default: a PIN key of the BDK's own AES type.
    const auto type =
        g.key_type->count() != 0 ? key_type_arg(o.key_type) : crypto_cli::take(ec::dukpt_aes_key_type_for(bdk.size()));
    if (type != ec::dukpt_aes_key_type::aes128 && type != ec::dukpt_aes_key_type::aes192 &&
        type != ec::dukpt_aes_key_type::aes256) {
      throw bad_input{"--key-type: a format 4 PIN key is aes128, aes192 or aes256"};
    }
    const auto key = crypto_cli::take(ec::dukpt_aes_key(bdk, ksn, ec::dukpt_aes_usage::pin_encryption, type));
    block = ec::to_hex(crypto_cli::take(ec::encrypt_pin(format, ec::cipher::aes, key, o.pin, o.pan, fill)));
    counter = counter_text(*ec::dukpt_aes_counter(ksn), true);
    key_type = std::string(ec::to_string(type));
  } else {
    const auto key = crypto_cli::take(ec::dukpt_tdes_key(bdk, ksn, ec::dukpt_tdes_usage::pin));
    block = ec::to_hex(crypto_cli::take(ec::encrypt_pin(format, ec::cipher::tdes, key, o.pin, o.pan)));
    counter = counter_text(*ec::dukpt_tdes_counter(ksn), false);
  }
  emit(o.json, {{"pin_block", block},
                {"format", o.aes ? "4" : "0"},
                {"dukpt", o.aes ? "aes" : "tdes"},
                {"key_type", key_type},
                {"ksn", ec::to_hex(ksn)},
                {"counter", counter}});
}

void add_pin(CLI::App& dukpt, int& exit_status) {
  auto o = std::make_shared<pin_options>();
  auto* cmd = dukpt.add_subcommand(
      "pin", "Encrypted PIN block under the DUKPT PIN key: TDES format 0, or AES format 4 with --aes");
  pin_given g{};
  static_cast<common_given&>(g) = add_common(cmd, *o, true);
  g.pin = cmd->add_option("--pin", o->pin, "The PIN, 4 to 12 digits (required)");
  g.pan = cmd->add_option("--pan", o->pan, "The PAN (required)");
  g.random = cmd->add_option("--random", o->random, "AES: the 8-byte random fill of format 4 as hex (default: RNG)");
  g.key_type = cmd->add_option("--key-type", o->key_type, "AES: aes128, aes192 or aes256 (default: the BDK's type)");
  cmd->callback([o, g, &exit_status] { exit_status = crypto_cli::run([&] { run_pin(*o, g); }); });
}

// ---------------------------------------------------------------------------------------------
// dukpt key

struct key_options : dukpt_common {
  std::string usage;
  std::string key_type;
};

struct key_given : common_given {
  const CLI::Option* usage = nullptr;
  const CLI::Option* key_type = nullptr;
};

std::optional<ec::dukpt_tdes_usage> tdes_usage(const std::string& name) {
  using u = ec::dukpt_tdes_usage;
  for (const u x :
       {u::ipek, u::transaction, u::pin, u::mac_request, u::mac_response, u::data_request, u::data_response}) {
    if (name == ec::to_string(x)) return x;
  }
  return std::nullopt;
}

// AES usages by their X9.24-3 names, plus the request/response names of the TDES usages: a request
// travels from the device (MAC generation, data encrypt), a response to it (MAC verification, data
// decrypt).
std::optional<ec::dukpt_aes_usage> aes_usage(const std::string& name) {
  using u = ec::dukpt_aes_usage;
  if (name == "mac-request") return u::mac_generation;
  if (name == "mac-response") return u::mac_verification;
  if (name == "data-request") return u::data_encrypt;
  if (name == "data-response") return u::data_decrypt;
  for (const u x : {u::key_encryption, u::pin_encryption, u::mac_generation, u::mac_verification, u::mac_both,
                    u::data_encrypt, u::data_decrypt, u::data_both}) {
    if (name == ec::to_string(x)) return x;
  }
  return std::nullopt;
}

// KCV of a derived key, when it is a TDES or AES key (HMAC keys have none).
std::string kcv_of(ec::cipher c, const ec::secure_bytes& key) {
  auto kcv = ec::key_check_value(c, key);
  return kcv ? ec::to_hex(*kcv) : "";
}

void run_key(const key_options& o, const key_given& g) {
  if (g.usage->count() == 0) throw bad_input{"give the key's usage with --usage"};
  if (!o.aes && g.key_type->count() != 0) throw bad_input{"--key-type: only with --aes"};
  const ec::bytes ksn = ksn_arg(o, g);
  const ec::secure_bytes bdk = bdk_arg(o, g);
  results r;
  if (!o.aes) {
    const auto usage = tdes_usage(o.usage);
    if (!usage) {
      throw bad_input{
          "--usage: expected ipek, transaction, pin, mac-request, mac-response, data-request or "
          "data-response"};
    }
    const auto key = crypto_cli::take(ec::dukpt_tdes_key(bdk, ksn, *usage));
    r = {{"key", ec::to_hex(key)}, {"usage", std::string(ec::to_string(*usage))},
         {"key_type", "tdes2"},    {"kcv", kcv_of(ec::cipher::tdes, key)},
         {"ksn", ec::to_hex(ksn)}, {"counter", counter_text(*ec::dukpt_tdes_counter(ksn), false)}};
  } else if (o.usage == "ipek" || o.usage == "initial-key" || o.usage == "derivation") {
    if (g.key_type->count() != 0) throw bad_input{"--key-type: the " + o.usage + " key has the BDK's type"};
    const auto type = crypto_cli::take(ec::dukpt_aes_key_type_for(bdk.size()));
    auto key = crypto_cli::take(ec::dukpt_aes_initial_key(bdk, ksn));
    if (o.usage == "derivation") key = crypto_cli::take(ec::dukpt_aes_derivation_key(key, ksn));
    r = {{"key", ec::to_hex(key)},
         {"usage", o.usage == "derivation" ? "derivation" : "initial-key"},
         {"key_type", std::string(ec::to_string(type))},
         {"kcv", kcv_of(ec::cipher::aes, key)},
         {"ksn", ec::to_hex(ksn)},
         {"counter", counter_text(*ec::dukpt_aes_counter(ksn), true)}};
  } else {
    const auto usage = aes_usage(o.usage);
    if (!usage) {
      throw bad_input{
          "--usage: expected ipek, derivation, pin, mac-request, mac-response, data-request, "
          "data-response, key-encryption, mac-generation, mac-verification, mac-both, data-encrypt, "
          "data-decrypt or data-both"};
    }
    const auto type =
        g.key_type->count() != 0 ? key_type_arg(o.key_type) : crypto_cli::take(ec::dukpt_aes_key_type_for(bdk.size()));
    const auto key = crypto_cli::take(ec::dukpt_aes_key(bdk, ksn, *usage, type));
    std::string kcv;
    if (type == ec::dukpt_aes_key_type::tdes2 || type == ec::dukpt_aes_key_type::tdes3) {
      kcv = kcv_of(ec::cipher::tdes, key);
    } else if (type == ec::dukpt_aes_key_type::aes128 || type == ec::dukpt_aes_key_type::aes192 ||
               type == ec::dukpt_aes_key_type::aes256) {
      kcv = kcv_of(ec::cipher::aes, key);
    }
    r = {{"key", ec::to_hex(key)},
         {"usage", std::string(ec::to_string(*usage))},
         {"key_type", std::string(ec::to_string(type))}};
    if (!kcv.empty()) r.emplace_back("kcv", kcv);
    r.emplace_back("ksn", ec::to_hex(ksn));
    r.emplace_back("counter", counter_text(*ec::dukpt_aes_counter(ksn), true));
  }
  emit(o.json, std::move(r));
}

void add_key(CLI::App& dukpt, int& exit_status) {
  auto o = std::make_shared<key_options>();
  auto* cmd = dukpt.add_subcommand("key", "Print a DUKPT key: IPEK / initial key, or a working key for the KSN");
  key_given g{};
  static_cast<common_given&>(g) = add_common(cmd, *o, true);
  g.usage = cmd->add_option("--usage", o->usage,
                            "ipek, pin, mac-request, mac-response, data-request, data-response (required); "
                            "TDES also transaction; AES also derivation, key-encryption, mac-generation, "
                            "mac-verification, mac-both, data-encrypt, data-decrypt, data-both");
  g.key_type = cmd->add_option("--key-type", o->key_type,
                               "AES working key type: tdes2, tdes3, aes128, aes192, aes256, hmac128, hmac192, "
                               "hmac256 (default: the BDK's type)");
  cmd->callback([o, g, &exit_status] { exit_status = crypto_cli::run([&] { run_key(*o, g); }); });
}

// ---------------------------------------------------------------------------------------------
// dukpt next-ksn

void run_next_ksn(const dukpt_common& o, const common_given& g) {
  const ec::bytes ksn = ksn_arg(o, g);
  const auto next = crypto_cli::take(o.aes ? ec::dukpt_aes_next_ksn(ksn) : ec::dukpt_tdes_next_ksn(ksn));
  const auto counter = o.aes ? *ec::dukpt_aes_counter(next) : *ec::dukpt_tdes_counter(next);
  emit(o.json, {{"ksn", ec::to_hex(next)}, {"counter", counter_text(counter, o.aes)}});
}

void add_next_ksn(CLI::App& dukpt, int& exit_status) {
  auto o = std::make_shared<dukpt_common>();
  auto* cmd = dukpt.add_subcommand(
      "next-ksn", "The KSN a device uses next (skips counters with more than 10 one-bits TDES, 16 AES)");
  const common_given g = add_common(cmd, *o, false);
  cmd->callback([o, g, &exit_status] { exit_status = crypto_cli::run([&] { run_next_ksn(*o, g); }); });
}

const bool registered = crypto_cli::register_commands([](CLI::App& crypto, int& exit_status) {
  auto* dukpt = crypto.add_subcommand("dukpt", "DUKPT keys and PIN blocks (TDES X9.24-1:2009, AES X9.24-3-2017)");
  dukpt->require_subcommand(1);
  add_pin(*dukpt, exit_status);
  add_key(*dukpt, exit_status);
  add_next_ksn(*dukpt, exit_status);
});

}  // namespace

}  // namespace eftctl
