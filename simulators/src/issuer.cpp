#include "eft/simulators/issuer.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "eft/crypto/card_verification.hpp"
#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/emv.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/emv/cryptogram.hpp"
#include "eft/emv/tlv.hpp"
#include "eft/iso8583/json.hpp"
#include "eft/iso8583/mask.hpp"
#include "eft/simulators/terminal.hpp"

namespace eft::simulators {
namespace {

constexpr std::size_t max_samples = 5;

crypto::byte_view bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
std::string_view text_of(const crypto::bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string pan_of(const iso8583::message& m) {
  if (const auto p = m.get(2)) return std::string(*p);
  if (const auto t = m.get(35)) {
    const auto sep = t->find_first_of("=D");
    return std::string(t->substr(0, sep));
  }
  return {};
}

// Fields an answer repeats from its request (ISO 8583:1987 response rules, "ME" fields).
constexpr std::uint32_t echoed[] = {2, 3, 4, 7, 11, 12, 13, 15, 24, 25, 32, 33, 37, 41, 42, 49, 90, 95};

void echo_fields(const iso8583::message& req, iso8583::message& ans) {
  for (const auto f : echoed) {
    if (const auto v = req.get(f); v && ans.dialect().field(f) != nullptr) ans.set(f, *v);
  }
}

std::string response_mti(std::string_view mti) {
  std::string r(mti);
  r[2] = static_cast<char>(r[2] + 1);
  if (r[3] == '1') r[3] = '0';  // the answer to a repeat is the plain answer (0421 -> 0430)
  return r;
}

// A double in (0, 1), from 53 bits of the generator: never 0, whose logarithm is taken.
double open_unit(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
}

// A standard normal deviate by Box-Muller. The second deviate of the pair is not kept: each draw
// then takes two generator outputs whatever came before it.
double standard_normal(std::mt19937_64& rng) {
  const double u1 = open_unit(rng);
  const double u2 = open_unit(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint32_t whole_ms(double ms) {
  if (!(ms > 0)) return 0;
  if (ms >= max_fault_delay_ms) return max_fault_delay_ms;
  return static_cast<std::uint32_t>(std::lround(ms));
}

}  // namespace

std::string_view fault_name(fault_action action, garbage_kind garbage) noexcept {
  if (action == fault_action::garbage && garbage == garbage_kind::framing) return "garbage_framing";
  return to_string(action);
}

std::uint32_t draw_fault_delay(const fault_rule& rule, std::mt19937_64& rng) {
  const double mean = rule.delay_ms;
  switch (rule.distribution) {
    case delay_distribution::uniform: {
      std::uint64_t ms = rule.delay_ms;
      if (rule.jitter_ms > 0) ms += rng() % (rule.jitter_ms + 1ULL);
      return static_cast<std::uint32_t>(std::min<std::uint64_t>(ms, max_fault_delay_ms));
    }
    case delay_distribution::exponential:
      return whole_ms(-mean * std::log(open_unit(rng)));  // inverse of the CDF 1 - exp(-x / mean)
    case delay_distribution::normal:
      return whole_ms(mean + rule.jitter_ms * standard_normal(rng));
    case delay_distribution::lognormal:
      return whole_ms(mean * std::exp(rule.sigma * standard_normal(rng)));  // ln(delay) ~ N(ln(median), sigma)
  }
  return rule.delay_ms;
}

issuer::issuer(const hostsim_config& cfg) : cfg_(cfg), rng_(cfg.fault_seed) {
  for (const auto& c : cfg_.cards) cards_[c.pan] = card_state{&c, c.balance};
}

void issuer::note_malformed(std::string_view kind, std::string_view masked_sample) {
  const std::lock_guard lock(mutex_);
  ++malformed_[std::string(kind)];
  if (samples_.size() < max_samples) samples_.push_back(std::string(kind) + ": " + std::string(masked_sample));
}

void issuer::note_answer_sent(std::string_view answer_key, bool copy) {
  const std::lock_guard lock(mutex_);
  if (copy) {
    ++duplicates_sent_;
  } else {
    ++answered_[std::string(answer_key)];
  }
}

void issuer::note_answer_withheld(std::string_view why) {
  const std::lock_guard lock(mutex_);
  ++withheld_[std::string(why)];
}

void issuer::note_connection() {
  const std::lock_guard lock(mutex_);
  ++counters_["connections"];
}

std::optional<std::uint64_t> issuer::amount_of(const iso8583::message& req) const {
  const auto a = req.get(4);
  if (!a) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : *a) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// Returns "" when the PIN is right (or not checked), else the RC to answer.
std::string issuer::verify_pin(const iso8583::message& req, const std::string& pan, const card_state* cs) {
  const auto block = req.get(52);
  if (!block) return {};
  crypto::outcome<crypto::clear_pin> pin = crypto::failure{crypto::errc::unknown_key, "no PIN key"};
  const auto ksn_value = req.get(cfg_.ksn_field);
  if (ksn_value && (!cfg_.bdk.empty() || !cfg_.aes_bdk.empty())) {
    // DUKPT: the KSN is raw bytes in a binary field, hex digits in a text field (padding after it).
    const auto* fs = req.dialect().field(cfg_.ksn_field);
    crypto::bytes ksn;
    if (fs != nullptr && fs->cls == iso8583::field_class::b) {
      ksn.assign(ksn_value->begin(), ksn_value->end());
    } else if (auto h = crypto::from_hex(ksn_value->substr(0, ksn_value->size() & ~std::size_t{1}))) {
      ksn = std::move(*h);
    }
    const std::size_t size = cfg_.aes_bdk.empty() ? crypto::dukpt_tdes_ksn_size : crypto::dukpt_aes_ksn_size;
    if (ksn.size() >= size) {
      ksn.resize(size);
      if (cfg_.aes_bdk.empty()) {
        if (auto k = crypto::dukpt_tdes_key(cfg_.bdk.view(), ksn, crypto::dukpt_tdes_usage::pin)) {
          pin = crypto::decrypt_pin(crypto::pin_block_format::iso0, crypto::cipher::tdes, k->view(), bytes_of(*block),
                                    pan);
        }
      } else if (auto k = crypto::dukpt_aes_key(cfg_.aes_bdk.view(), ksn, crypto::dukpt_aes_usage::pin_encryption,
                                                crypto::dukpt_aes_key_type::aes128)) {
        pin = crypto::decrypt_pin_block_iso4(k->view(), bytes_of(*block), pan);
      }
    }
  } else if (!cfg_.zpk.empty()) {
    const auto c = cfg_.pin_format == crypto::pin_block_format::iso4 ? crypto::cipher::aes : crypto::cipher::tdes;
    pin = crypto::decrypt_pin(cfg_.pin_format, c, cfg_.zpk.view(), bytes_of(*block), pan);
  } else {
    ++counters_["pin_not_checked"];
    return {};
  }
  if (!pin) {
    ++counters_["pin_block_errors"];
    return "55";
  }
  const std::string_view clear{reinterpret_cast<const char*>(pin->data()), pin->size()};
  if (cs == nullptr || cs->card == nullptr || (cs->card->pvv.empty() && cs->card->offset.empty())) {
    ++counters_["pin_not_checked"];
    return {};
  }
  crypto::outcome<bool> ok = false;
  if (!cs->card->pvv.empty()) {
    ok = crypto::verify_pvv(cfg_.pvk.view(), cfg_.pvki, clear, pan, cs->card->pvv);
  } else {
    const auto vd = crypto::ibm3624_validation_data(cfg_.validation_data, pan);
    if (!vd) {
      ++counters_["pin_errors"];
      return "55";
    }
    ok = crypto::verify_ibm3624_offset(cfg_.ibm3624_pvk.view(), cfg_.decimalization, *vd, clear, cs->card->offset);
  }
  if (ok && *ok) {
    ++counters_["pin_verified"];
    return {};
  }
  ++counters_["pin_wrong"];
  return "55";
}

std::optional<std::vector<std::byte>> issuer::pack_answer(iso8583::message& ans, std::string* error) const {
  return pack_with_mac(cfg_.mac_key, ans, error);
}

host_decision issuer::handle(const iso8583::message& req, iso8583::message& ans, std::span<const std::byte> body) {
  ans.clear();
  host_decision d;
  const std::string mti(req.mti());
  const std::lock_guard lock(mutex_);
  ++received_[mti];

  const std::string pan = pan_of(req);
  const auto amount = amount_of(req);
  // The edition from the MTI's version digit: ISO 8583:1993 requests (1xxx) are answered with its
  // action codes, and name a reversal's original in field 56 instead of 90.
  const auto edition = edition_of_mti(mti);
  const bool v93 = edition == iso_edition::v1993;
  const std::string cf = edition ? mti.substr(1) : std::string();  // class and function
  const bool network = cf.size() == 3 && cf[0] == '8' && (cf[1] == '0' || cf[1] == '2');
  const bool financial = cf == "100" || cf == "101" || cf == "200" || cf == "201";
  const bool reversal = cf == "400" || cf == "401" || cf == "420" || cf == "421";
  const bool advice = cf == "220" || cf == "221" || cf == "120" || cf == "121";
  if (!network && !financial && !reversal && !advice) {
    ++malformed_["unexpected_mti"];
    if (samples_.size() < max_samples) samples_.push_back("unexpected_mti: " + iso8583::to_json(req).dump());
    return d;
  }

  // Faults are decided before the answer: they apply to any matching request that is answered.
  for (const auto& f : cfg_.faults) {
    if (!f.mti.empty() && std::find(f.mti.begin(), f.mti.end(), mti) == f.mti.end()) continue;
    if (!f.pan.empty() && f.pan != pan) continue;
    if (f.amount && amount != f.amount) continue;
    if (f.rate < 1.0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng_) >= f.rate) continue;
    d.fault = f.action;
    d.garbage = f.garbage;
    d.delay_ms = draw_fault_delay(f, rng_);
    ++faults_[std::string(fault_name(f.action, f.garbage))];
    break;
  }

  // With a MAC key every request but network management must carry a valid MAC: a reversal or an
  // advice with a forged MAC must not move a balance any more than an authorisation may.
  std::optional<bool> mac_ok;
  if (!network && !cfg_.mac_key.empty() && !body.empty()) {
    mac_ok = mac_matches(cfg_.mac_key, req, body);
    ++counters_[*mac_ok ? "mac_verified" : "mac_wrong"];
  }

  ans.set_mti(response_mti(mti));
  echo_fields(req, ans);
  std::string rc = "00";

  if (network && v93) {
    // ISO 8583:1993 names the network function in field 24 (echoed): 801 sign-on, 802 sign-off,
    // 831 echo test.
    const auto fc = req.get(24).value_or("");
    ++counters_[fc == "801" ? "sign_on" : fc == "802" ? "sign_off" : fc == "831" ? "echo" : "network_other"];
  } else if (network) {
    if (const auto v = req.get(70)) ans.set(70, *v);
    const auto nmi = req.get(70).value_or("");
    ++counters_[nmi == "001" ? "sign_on" : nmi == "002" ? "sign_off" : nmi == "301" ? "echo" : "network_other"];
  } else if (reversal && mac_ok == false) {
    rc = "63";
  } else if (reversal) {
    // The original: same terminal and original STAN (field 90.2, or 56.2 in ISO 8583:1993), else
    // the last one of the same card and amount (a switch in between rewrites STANs toward the host).
    std::optional<std::size_t> found;
    std::optional<std::string_view> original_stan;
    if (const auto f90 = req.get(90); !v93 && f90 && f90->size() >= 10) original_stan = f90->substr(4, 6);
    if (v93) original_stan = req.get(std::string_view("56.2"));
    if (original_stan) {
      const auto it = approved_by_key_.find(std::string(req.get(41).value_or("")) + "|" + std::string(*original_stan));
      if (it != approved_by_key_.end() && !approved_[it->second].reversed) found = it->second;
    }
    if (!found && amount) {
      const auto it = approved_by_key_.find(pan + "|" + std::to_string(*amount));
      if (it != approved_by_key_.end() && !approved_[it->second].reversed) found = it->second;
    }
    if (found) {
      auto& o = approved_[*found];
      o.reversed = true;
      if (auto c = cards_.find(o.pan); c != cards_.end() && c->second.balance) *c->second.balance -= o.amount;
      ++counters_["reversals_applied"];
    } else {
      ++counters_["reversals_unmatched"];
    }
  } else {
    const std::string pc(req.get(3).value_or("000000"));
    const std::string kind = pc.substr(0, 2);
    const std::uint64_t amt = amount.value_or(0);
    auto cit = cards_.find(pan);
    card_state* cs = cit == cards_.end() ? nullptr : &cit->second;

    // ARQC first: its validity decides the answer, and the ARPC carries the final RC.
    std::optional<emv::arqc_input> arqc;
    std::string psn;
    const auto f55 = req.get(55);
    if (f55 && !f55->empty() && !cfg_.imk.empty()) {
      emv::tlv_tree tree;
      if (!emv::parse(bytes_of(*f55), tree)) {
        ++counters_["arqc_errors"];
        rc = "05";
      } else if (auto in = emv::assemble_arqc_input(tree); !in) {
        ++counters_["arqc_errors"];
        rc = "05";
      } else {
        psn = emv::psn_of(tree, req.get(23));
        const auto ok = crypto::verify_arqc(emv::hsm_cvn(in->version), cfg_.imk.view(), pan, psn, in->atc, in->data,
                                            in->arqc, in->un);
        if (ok && *ok) {
          ++counters_["arqc_verified"];
          arqc = std::move(*in);
        } else {
          ++counters_["arqc_wrong"];
          rc = "05";
        }
      }
    }

    if (rc == "00" && mac_ok == false) rc = "63";
    if (rc == "00") {
      if (cs == nullptr) {
        rc = cfg_.unknown_card_rc;
      } else if (cs->card->decline) {
        rc = *cs->card->decline;
      }
    }
    if (rc == "00" && !advice) {
      if (auto p = verify_pin(req, pan, cs); !p.empty()) rc = p;
    }
    if (rc == "00" && kind != "31" && kind != "20") {
      const auto limit = cs != nullptr && cs->card->limit ? cs->card->limit : cfg_.limit;
      if (limit && amt > *limit) rc = "61";
    }
    std::int64_t effect = 0;
    if (kind == "00" || kind == "01" || kind == "09") effect = -static_cast<std::int64_t>(amt);
    if (kind == "20") effect = static_cast<std::int64_t>(amt);
    if (rc == "00" && cs != nullptr && cs->balance && effect < 0 && *cs->balance + effect < 0 && !advice) rc = "51";
    if (rc == "00" || (advice && mac_ok != false)) {
      if (cs != nullptr && cs->balance) *cs->balance += effect;
      if (effect != 0) {
        approved_.push_back(approved{pan, effect, false});
        const auto idx = approved_.size() - 1;
        approved_by_key_[std::string(req.get(41).value_or("")) + "|" + std::string(req.get(11).value_or(""))] = idx;
        approved_by_key_[pan + "|" + std::to_string(amt)] = idx;
      }
    }
    if (rc == "00" && !advice) {
      char code[8];
      auth_code_ = auth_code_ % 999999 + 1;
      std::snprintf(code, sizeof code, "%06u", auth_code_);
      ans.set(38, code);
    }
    if (rc == "00" && kind == "31" && cs != nullptr && ans.dialect().field(54) != nullptr) {
      const std::int64_t bal = cs->balance.value_or(99999999);
      char f54[32];
      std::snprintf(f54, sizeof f54, "0002%.3s%c%012lld", std::string(req.get(49).value_or("978")).c_str(),
                    bal < 0 ? 'D' : 'C', static_cast<long long>(bal < 0 ? -bal : bal));
      ans.set(54, f54);
    }
    if (arqc) {
      const int cvn = emv::hsm_cvn(arqc->version);
      const int method = emv::arpc_method(arqc->version);
      emv::issuer_response ir;
      crypto::outcome<crypto::bytes> arpc = crypto::bytes{};
      if (method == 1) {
        ir.arc = {static_cast<std::uint8_t>(rc[0]), static_cast<std::uint8_t>(rc[1])};
        arpc = crypto::generate_arpc_method1(cvn, cfg_.imk.view(), pan, psn, arqc->atc, arqc->arqc, ir.arc, arqc->un);
      } else {
        ir.csu = emv::visa_csu(rc == "00");
        arpc = crypto::generate_arpc_method2(cvn, cfg_.imk.view(), pan, psn, arqc->atc, arqc->arqc, ir.csu);
      }
      if (arpc) {
        if (auto r55 = emv::build_response_field55(*arpc, method, ir); r55) ans.set(55, text_of(*r55));
      }
    }
  }

  // ISO 8583:1993: the action code of the decision; a reversal or network request is accepted with
  // 400 or 800, refused as the authorisation would be.
  if (v93) {
    if (network && rc == "00") {
      rc = "800";
    } else if (reversal && rc == "00") {
      rc = "400";
    } else {
      rc = std::string(action_code_for(rc).value_or("909"));
    }
  }
  ans.set(39, rc);
  d.answer_key = std::string(ans.mti()) + "/" + rc;
  if (cfg_.record_transactions && !network) {
    transactions_.push_back({{"mti", mti},
                             {"stan", std::string(req.get(11).value_or(""))},
                             {"rrn", std::string(req.get(37).value_or(""))},
                             {"terminal", std::string(req.get(41).value_or(""))},
                             {"pan", iso8583::mask_pan(pan)},
                             {"amount", std::string(req.get(4).value_or(""))},
                             {"rc", rc}});
    // What a reconciliation needs beyond the keys: the transmission time (duplicate check), the
    // original data of a reversal and the fault that changed how (or whether) it was answered.
    auto& t = transactions_.back();
    t["transmission"] = std::string(req.get(7).value_or(""));
    if (const auto f90 = req.get(90)) t["original"] = std::string(*f90);
    if (v93 && req.has(56)) {
      std::string original;
      for (const char* sub : {"56.1", "56.2", "56.3", "56.4"}) original += req.get(std::string_view(sub)).value_or("");
      t["original"] = original;
    }
    t["fault"] = d.fault ? std::string(fault_name(*d.fault, d.garbage)) : std::string();
  }
  d.answer =
      d.fault != fault_action::no_answer && d.fault != fault_action::disconnect && d.fault != fault_action::garbage;
  if (!d.answer) ++withheld_[std::string(fault_name(*d.fault, d.garbage))];
  return d;
}

nlohmann::ordered_json issuer::record() const {
  const std::lock_guard lock(mutex_);
  nlohmann::ordered_json j;
  auto obj = [](const std::map<std::string, std::uint64_t>& m) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (const auto& [k, v] : m) o[k] = v;
    return o;
  };
  const auto total = [](const std::map<std::string, std::uint64_t>& m) {
    std::uint64_t n = 0;
    for (const auto& [k, v] : m) n += v;
    return n;
  };
  j["received_total"] = total(received_);
  j["answered_total"] = total(answered_);
  j["duplicates_sent"] = duplicates_sent_;
  j["withheld_total"] = total(withheld_);
  j["received"] = obj(received_);
  j["answered"] = obj(answered_);
  j["withheld"] = obj(withheld_);
  j["counters"] = obj(counters_);
  j["faults"] = obj(faults_);
  j["malformed"] = obj(malformed_);
  j["malformed_samples"] = samples_;
  if (cfg_.record_transactions) j["transactions"] = transactions_;
  return j;
}

}  // namespace eft::simulators
