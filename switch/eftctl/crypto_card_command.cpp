// eftctl crypto cvv | pvv | ibm3624-offset | arqc | arpc: clear-key calculators for card and PIN
// verification values and EMV cryptograms (card_verification.hpp, emv.hpp), for testers and issuer
// set-up. Every check happens in the command body so that malformed input always ends with exit
// status 1 and one line (crypto_cli's contract).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crypto_cli.hpp"
#include "eft/crypto/card_verification.hpp"
#include "eft/crypto/emv.hpp"

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

// The value of an option the command needs, or bad_input naming it.
const std::string& need(const CLI::Option* opt, const std::string& value, const char* how) {
  if (opt->count() == 0) throw bad_input{std::string("give ") + how};
  return value;
}

// Hex of an exact byte length.
ec::bytes sized_hex(const std::string& option, const std::string& value, std::size_t n, const char* what) {
  ec::bytes b = crypto_cli::hex_arg(option, value);
  if (b.size() != n) {
    throw bad_input{option + ": " + what + " is " + std::to_string(n) + " bytes; got " + std::to_string(b.size())};
  }
  return b;
}

// A small decimal number typed by the operator.
int number_arg(const std::string& option, const std::string& value, int min, int max) {
  if (value.empty() || value.size() > 3 || value.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(value) < min || std::stoi(value) > max) {
    throw bad_input{option + ": expected a number from " + std::to_string(min) + " to " + std::to_string(max)};
  }
  return std::stoi(value);
}

// ---------------------------------------------------------------------------------------------
// cvv

struct cvv_options {
  std::string cvk, pan, expiry, service_code;
  bool json = false;
};

struct cvv_given {
  const CLI::Option *cvk = nullptr, *pan = nullptr, *expiry = nullptr, *service_code = nullptr;
};

void run_cvv(const cvv_options& o, const cvv_given& g) {
  const auto cvk = crypto_cli::key_arg("--cvk", need(g.cvk, o.cvk, "the CVK pair with --cvk HEX"), {16});
  const auto pan = crypto_cli::digits_arg("--pan", need(g.pan, o.pan, "the PAN with --pan PAN"), 12, 19);
  const auto expiry =
      crypto_cli::digits_arg("--expiry", need(g.expiry, o.expiry, "the expiry with --expiry YYMM"), 4, 4);
  const auto sc = crypto_cli::digits_arg(
      "--service-code", need(g.service_code, o.service_code, "the service code with --service-code NNN"), 3, 3);
  const auto cvv = crypto_cli::take(ec::generate_cvv(cvk, pan, expiry, sc));
  const char* kind = sc == "000" ? "CVV2" : sc == "999" ? "iCVV" : "CVV";
  emit(o.json, {{"cvv", cvv}, {"kind", kind}});
}

void add_cvv(CLI::App& crypto, int& exit_status) {
  auto o = std::make_shared<cvv_options>();
  auto* cmd = crypto.add_subcommand("cvv", "Visa CVV method: CVV, CVV2 (service code 000), iCVV (service code 999)");
  cvv_given g;
  g.cvk = cmd->add_option("--cvk", o->cvk, "CVK pair as hex, key A then key B (16 bytes)");
  g.pan = cmd->add_option("--pan", o->pan, "Primary account number (12-19 digits)");
  g.expiry = cmd->add_option("--expiry", o->expiry, "Expiry date as on track 2, YYMM");
  g.service_code = cmd->add_option("--service-code", o->service_code, "Service code (3 digits; 000 CVV2, 999 iCVV)");
  cmd->add_flag("--json", o->json, "Print a JSON object");
  cmd->callback([o, g, &exit_status] { exit_status = crypto_cli::run([&] { run_cvv(*o, g); }); });
}

// ---------------------------------------------------------------------------------------------
// pvv

struct pvv_options {
  std::string pvk, pvki, pin, pan;
  bool json = false;
};

struct pvv_given {
  const CLI::Option *pvk = nullptr, *pvki = nullptr, *pin = nullptr, *pan = nullptr;
};

void run_pvv(const pvv_options& o, const pvv_given& g) {
  const auto pvk = crypto_cli::key_arg("--pvk", need(g.pvk, o.pvk, "the PVK pair with --pvk HEX"), {16, 24});
  const int pvki = number_arg("--pvki", need(g.pvki, o.pvki, "the PVK index with --pvki N"), 0, 9);
  const auto pin = crypto_cli::digits_arg("--pin", need(g.pin, o.pin, "the PIN with --pin PIN"), 4, 12);
  const auto pan = crypto_cli::digits_arg("--pan", need(g.pan, o.pan, "the PAN with --pan PAN"), 12, 19);
  emit(o.json, {{"pvv", crypto_cli::take(ec::generate_pvv(pvk, pvki, pin, pan))}, {"pvki", std::to_string(pvki)}});
}

void add_pvv(CLI::App& crypto, int& exit_status) {
  auto o = std::make_shared<pvv_options>();
  auto* cmd = crypto.add_subcommand("pvv", "Visa PIN verification value (4 digits)");
  pvv_given g;
  g.pvk = cmd->add_option("--pvk", o->pvk, "PVK pair as hex (16 or 24 bytes)");
  g.pvki = cmd->add_option("--pvki", o->pvki, "PVK index, one digit (0-9)");
  g.pin = cmd->add_option("--pin", o->pin, "The PIN (4-12 digits; its first 4 enter the PVV)");
  g.pan = cmd->add_option("--pan", o->pan, "Primary account number (12-19 digits)");
  cmd->add_flag("--json", o->json, "Print a JSON object");
  cmd->callback([o, g, &exit_status] { exit_status = crypto_cli::run([&] { run_pvv(*o, g); }); });
}

// ---------------------------------------------------------------------------------------------
// ibm3624-offset

struct ibm_options {
  std::string pvk, decimalization, validation_data, pin, check_length, pan;
  bool json = false;
};

struct ibm_given {
  const CLI::Option *pvk = nullptr, *decimalization = nullptr, *validation_data = nullptr, *pin = nullptr,
                    *check_length = nullptr, *pan = nullptr;
};

void run_ibm(const ibm_options& o, const ibm_given& g) {
  const auto pvk = crypto_cli::key_arg("--pvk", need(g.pvk, o.pvk, "the PVK with --pvk HEX"), {8, 16, 24});
  const std::string& table =
      need(g.decimalization, o.decimalization, "the decimalization table with --decimalization HEX");
  if (table.size() != 16 || table.find_first_not_of("0123456789") != std::string::npos) {
    throw bad_input{"--decimalization: expected 16 decimal digits"};
  }
  std::string vd = need(g.validation_data, o.validation_data, "the validation data with --validation-data HEX");
  if (g.pan->count() != 0) {
    // N's in the validation data mark where the account-number digits go.
    const auto pan = crypto_cli::digits_arg("--pan", o.pan, 12, 19);
    vd = crypto_cli::take(ec::ibm3624_validation_data(vd, pan));
  } else if (vd.size() != 16 || vd.find_first_not_of("0123456789ABCDEFabcdef") != std::string::npos) {
    throw bad_input{"--validation-data: expected 16 hex digits (or a pattern with N and --pan PAN)"};
  }
  const auto pin = crypto_cli::digits_arg("--pin", need(g.pin, o.pin, "the PIN with --pin PIN"), 4, 12);
  const std::size_t check =
      g.check_length->count() == 0
          ? 0
          : static_cast<std::size_t>(number_arg("--check-length", o.check_length, 4, static_cast<int>(pin.size())));
  const auto offset = crypto_cli::take(ec::ibm3624_offset(pvk, table, vd, pin, check));
  emit(o.json, {{"offset", offset}, {"validation_data", vd}});
}

void add_ibm(CLI::App& crypto, int& exit_status) {
  auto o = std::make_shared<ibm_options>();
  auto* cmd = crypto.add_subcommand("ibm3624-offset", "IBM 3624 PIN offset of a customer-selected PIN");
  ibm_given g;
  g.pvk = cmd->add_option("--pvk", o->pvk, "PIN verification key as hex (8, 16 or 24 bytes)");
  g.decimalization = cmd->add_option("--decimalization", o->decimalization, "Decimalization table (16 digits)");
  g.validation_data = cmd->add_option("--validation-data", o->validation_data,
                                      "Validation data, 16 hex digits (with --pan: a pattern where N's take the "
                                      "account number's last digits, right-padded with F)");
  g.pin = cmd->add_option("--pin", o->pin, "The customer-selected PIN (4-12 digits)");
  g.check_length = cmd->add_option("--check-length", o->check_length,
                                   "Number of rightmost PIN digits the offset covers (default: the PIN length)");
  g.pan = cmd->add_option("--pan", o->pan, "PAN whose account number fills the N's of --validation-data");
  cmd->add_flag("--json", o->json, "Print a JSON object");
  cmd->callback([o, g, &exit_status] { exit_status = crypto_cli::run([&] { run_ibm(*o, g); }); });
}

// ---------------------------------------------------------------------------------------------
// arqc and arpc

struct emv_options {
  std::string cvn, imk, pan, psn, atc, data, un, arqc, arc, csu, pad;
  bool json = false;
};

struct emv_given {
  const CLI::Option *cvn = nullptr, *imk = nullptr, *pan = nullptr, *psn = nullptr, *atc = nullptr, *data = nullptr,
                    *un = nullptr, *arqc = nullptr, *arc = nullptr, *csu = nullptr, *pad = nullptr;
};

// The card inputs both commands share.
struct card_inputs {
  int cvn = 0;
  ec::cvn_profile profile;
  ec::secure_bytes imk;
  std::string pan, psn;
  ec::bytes atc, un;
};

card_inputs card_args(const emv_options& o, const emv_given& g) {
  card_inputs c;
  c.cvn = number_arg("--cvn", need(g.cvn, o.cvn, "the cryptogram version number with --cvn N"), 0, 255);
  c.profile = crypto_cli::take(ec::emv_cvn_profile(c.cvn));
  c.imk = crypto_cli::key_arg("--imk", need(g.imk, o.imk, "the issuer master key with --imk HEX"), {16});
  c.pan = crypto_cli::digits_arg("--pan", need(g.pan, o.pan, "the PAN with --pan PAN"), 12, 19);
  c.psn = crypto_cli::digits_arg("--psn", need(g.psn, o.psn, "the PAN sequence number with --psn NN"), 2, 2);
  c.atc = sized_hex("--atc", need(g.atc, o.atc, "the ATC with --atc HEX"), 2, "the ATC");
  if (g.un->count() != 0) {
    c.un = sized_hex("--un", o.un, 4, "the unpredictable number");
  } else if (c.profile.ac_key == ec::emv_session_key::mastercard) {
    throw bad_input{"CVN " + std::to_string(c.cvn) +
                    " derives its session key from the unpredictable number: give --un HEX"};
  }
  return c;
}

void run_arqc(const emv_options& o, const emv_given& g) {
  const card_inputs c = card_args(o, g);
  const ec::bytes data = crypto_cli::hex_arg("--data", need(g.data, o.data, "the cryptogram input with --data HEX"));
  if (data.empty() || data.size() > 1024) throw bad_input{"--data: the cryptogram input is 1 to 1024 bytes"};
  const auto arqc = crypto_cli::take(ec::generate_arqc(c.cvn, c.imk, c.pan, c.psn, c.atc, data, c.un));
  emit(o.json, {{"arqc", ec::to_hex(arqc)}, {"cvn", std::to_string(c.cvn)}});
}

void run_arpc(const emv_options& o, const emv_given& g) {
  const card_inputs c = card_args(o, g);
  const ec::bytes arqc = sized_hex("--arqc", need(g.arqc, o.arqc, "the ARQC with --arqc HEX"), 8, "the ARQC");
  const bool by_arc = g.arc->count() != 0;
  const bool by_csu = g.csu->count() != 0;
  if (by_arc == by_csu) throw bad_input{"give either --arc HEX (ARPC method 1) or --csu HEX (method 2)"};
  if (by_arc && g.pad->count() != 0) throw bad_input{"--pad goes with --csu (ARPC method 2)"};
  const int method = by_arc ? 1 : 2;
  if (method != c.profile.arpc_method) {
    throw bad_input{"CVN " + std::to_string(c.cvn) + " uses ARPC method " + std::to_string(c.profile.arpc_method) +
                    (c.profile.arpc_method == 1 ? ": give --arc HEX" : ": give --csu HEX")};
  }
  ec::bytes arpc;
  if (by_arc) {
    const ec::bytes arc = sized_hex("--arc", o.arc, 2, "the authorisation response code");
    arpc = crypto_cli::take(ec::generate_arpc_method1(c.cvn, c.imk, c.pan, c.psn, c.atc, arqc, arc, c.un));
  } else {
    const ec::bytes csu = sized_hex("--csu", o.csu, 4, "the card status update");
    const ec::bytes pad = g.pad->count() == 0 ? ec::bytes{} : crypto_cli::hex_arg("--pad", o.pad);
    if (pad.size() > 8) throw bad_input{"--pad: proprietary authentication data is at most 8 bytes"};
    arpc = crypto_cli::take(ec::generate_arpc_method2(c.cvn, c.imk, c.pan, c.psn, c.atc, arqc, csu, pad));
  }
  emit(o.json, {{"arpc", ec::to_hex(arpc)}, {"method", std::to_string(method)}, {"cvn", std::to_string(c.cvn)}});
}

void add_card_options(CLI::App* cmd, emv_options& o, emv_given& g) {
  g.cvn = cmd->add_option("--cvn", o.cvn, "Cryptogram version number: Visa 10, 18, 22; Mastercard 16, 17, 20, 21");
  g.imk = cmd->add_option("--imk", o.imk, "Issuer master key for application cryptograms as hex (16 bytes)");
  g.pan = cmd->add_option("--pan", o.pan, "Application PAN (12-19 digits)");
  g.psn = cmd->add_option("--psn", o.psn, "PAN sequence number (2 digits)");
  g.atc = cmd->add_option("--atc", o.atc, "Application transaction counter as hex (2 bytes)");
  g.un = cmd->add_option("--un", o.un, "Unpredictable number as hex (4 bytes; Mastercard CVN 16 and 17)");
  cmd->add_flag("--json", o.json, "Print a JSON object");
}

void add_arqc(CLI::App& crypto, int& exit_status) {
  auto o = std::make_shared<emv_options>();
  auto g = std::make_shared<emv_given>();
  auto* cmd = crypto.add_subcommand("arqc", "EMV application cryptogram (ARQC) from the issuer master key");
  add_card_options(cmd, *o, *g);
  g->data = cmd->add_option("--data", o->data,
                            "The complete cryptogram input before padding, as hex (for CVN 18 and 22 it ends with "
                            "the issuer application data)");
  cmd->callback([o, g, &exit_status] { exit_status = crypto_cli::run([&] { run_arqc(*o, *g); }); });
}

void add_arpc(CLI::App& crypto, int& exit_status) {
  auto o = std::make_shared<emv_options>();
  auto g = std::make_shared<emv_given>();
  auto* cmd = crypto.add_subcommand("arpc", "EMV authorisation response cryptogram (ARPC method 1 or 2 per CVN)");
  add_card_options(cmd, *o, *g);
  g->arqc = cmd->add_option("--arqc", o->arqc, "The ARQC the card sent, as hex (8 bytes)");
  g->arc = cmd->add_option("--arc", o->arc, "Authorisation response code as hex (2 bytes): ARPC method 1");
  g->csu = cmd->add_option("--csu", o->csu, "Card status update as hex (4 bytes): ARPC method 2");
  g->pad = cmd->add_option("--pad", o->pad, "Proprietary authentication data as hex (0-8 bytes), with --csu");
  cmd->callback([o, g, &exit_status] { exit_status = crypto_cli::run([&] { run_arpc(*o, *g); }); });
}

const bool registered = crypto_cli::register_commands([](CLI::App& crypto, int& exit_status) {
  add_cvv(crypto, exit_status);
  add_pvv(crypto, exit_status);
  add_ibm(crypto, exit_status);
  add_arqc(crypto, exit_status);
  add_arpc(crypto, exit_status);
});

}  // namespace

}  // namespace eftctl
