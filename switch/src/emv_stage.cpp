// The issuer side of chip transactions for routes configured to act for the issuer: field 55 checks,
// ARQC verification before the request goes out, ARPC (tag 91) in the answer. The cryptogram work is
// the emv library's (emv::verify_and_respond) with the keys in the HSM.
#include <spdlog/spdlog.h>
#include <boost/asio/use_awaitable.hpp>

#include "eft/emv/cryptogram.hpp"
#include "eft/emv/field55.hpp"
#include "eft/switch/message_util.hpp"
#include "eft/switch/stages.hpp"

namespace eft::switch_core {

namespace {

namespace asio = boost::asio;

std::optional<emv::cryptogram_version> configured_version(std::string_view name) {
  using v = emv::cryptogram_version;
  static constexpr std::pair<std::string_view, v> names[] = {{"visa_10", v::visa_10},
                                                             {"visa_18", v::visa_18},
                                                             {"visa_22", v::visa_22},
                                                             {"mastercard_16", v::mastercard_16},
                                                             {"mastercard_17", v::mastercard_17},
                                                             {"mastercard_20", v::mastercard_20},
                                                             {"mastercard_21", v::mastercard_21},
                                                             {"emv_csk", v::emv_csk}};
  for (const auto& [n, x] : names) {
    if (n == name) return x;
  }
  return std::nullopt;  // "auto": from the IAD
}

const emv::field55_profile& profile_of(emv::cryptogram_version v) {
  switch (emv::scheme_of(v)) {
    case emv::card_scheme::visa:
      return emv::visa_request_profile();
    case emv::card_scheme::mastercard:
      return emv::mastercard_request_profile();
    default:
      return emv::emv_request_profile();
  }
}

// The HSM work of one ARQC (and ARPC): runs where async_hsm puts it and owns its inputs.
struct arqc_op {
  std::string imk;
  crypto::bytes field55;
  std::string pan;
  std::string psn;
  std::optional<emv::cryptogram_version> version;
  std::string rc;         // the host's response code; empty before the host answered
  crypto::bytes scripts;  // the host's 71/72 templates
  crypto::outcome<emv::arqc_verification> operator()(crypto::hsm& h) const {
    emv::issuer_response answer;
    const bool approved = rc == "00";
    const std::string arc = rc.size() == 2 ? rc : std::string("Z3");  // before the answer: any two characters
    answer.arc.assign(arc.begin(), arc.end());
    answer.issuer_scripts = scripts;
    // Method 2 versions answer with a card status update; method 1 ones with the ARC.
    emv::tlv_tree tree;
    std::optional<emv::cryptogram_version> use = version;
    if (!use && emv::parse(field55, tree)) {
      if (auto d = emv::detect_version(tree)) use = *d;
    }
    if (use && emv::arpc_method(*use) == 2) answer.csu = emv::visa_csu(approved);
    auto r = emv::verify_and_respond(h, imk, field55, pan, psn, answer, use);
    if (!r) return crypto::failure{crypto::errc::bad_format, r.error().message()};
    return std::move(*r);
  }
};

asio::awaitable<stage_result> check_arqc(crypto::async_hsm* hsm, switch_counters* counters, transaction* t) {
  if (t->route == nullptr || !t->route->issuer) co_return stage_result{};
  const auto f55 = t->request->get(55U);
  if (!f55) co_return stage_result{};
  const config::issuer_config& issuer = *t->route->issuer;
  const crypto::bytes raw(f55->begin(), f55->end());
  emv::tlv_tree tree;
  if (const emv::status st = emv::parse(raw, tree); !st) {
    spdlog::info("listener {}: field 55 of {} does not parse: {}; answering 30", t->listener, summary(*t->request),
                 st.message());
    co_return stage_result{"30"};
  }
  std::optional<emv::cryptogram_version> version = configured_version(issuer.cryptogram_version);
  if (!version) {
    const auto detected = emv::detect_version(tree);
    if (!detected) {
      spdlog::info("listener {}: field 55 of {}: {}; answering 30", t->listener, summary(*t->request),
                   detected.error().message());
      co_return stage_result{"30"};
    }
    version = *detected;
  }
  if (emv::status st = emv::check_request(tree, profile_of(*version)); !st) {
    spdlog::info("listener {}: field 55 of {}: {}; answering 30", t->listener, summary(*t->request), st.message());
    co_return stage_result{"30"};
  }
  if (emv::status st = emv::check_card_data(tree, *t->request); !st) {
    spdlog::info("listener {}: field 55 of {} does not agree with the card data: {}; answering 30", t->listener,
                 summary(*t->request), st.message());
    co_return stage_result{"30"};
  }
  const std::optional<std::string_view> f23 = t->request->get(23U);
  arqc_op op{issuer.imk, raw, pan_of(*t->request).value_or(std::string()), emv::psn_of(tree, f23), version, {}, {}};
  const crypto::outcome<emv::arqc_verification> r =
      co_await hsm->run<emv::arqc_verification>(std::move(op), asio::use_awaitable);
  if (!r) {
    spdlog::warn("listener {}: ARQC check of {} failed: {}; answering 96", t->listener, summary(*t->request),
                 r.error().message());
    co_return stage_result{"96"};
  }
  if (!r->valid) {
    counters->arqc_failures.add();
    spdlog::warn("listener {}: the ARQC of {} does not verify ({}); answering {}", t->listener, summary(*t->request),
                 emv::version_name(r->version), issuer.arqc_failure_rc);
    co_return stage_result{issuer.arqc_failure_rc};
  }
  co_return stage_result{};
}

asio::awaitable<stage_result> make_arpc(crypto::async_hsm* hsm, transaction* t) {
  if (t->route == nullptr || !t->route->issuer || !t->host_response || !t->response) co_return stage_result{};
  const auto f55 = t->request->get(55U);
  if (!f55) co_return stage_result{};
  const config::issuer_config& issuer = *t->route->issuer;
  const crypto::bytes raw(f55->begin(), f55->end());
  emv::tlv_tree tree;
  if (!emv::parse(raw, tree)) co_return stage_result{};
  // The host's own issuer scripts (71, 72) go to the card with the ARPC.
  crypto::bytes scripts;
  if (const auto host55 = t->host_response->get(55U)) {
    const crypto::bytes host_raw(host55->begin(), host55->end());
    emv::tlv_tree answer;
    if (emv::parse(host_raw, answer)) {
      for (const auto& o : answer) {
        if (o.depth == 0 && (o.tag == 0x71 || o.tag == 0x72)) (void)emv::append_tlv(scripts, o.tag, o.value);
      }
    }
  }
  const std::string rc(t->response->get(39U).value_or("96"));
  const std::optional<std::string_view> f23 = t->request->get(23U);
  arqc_op op{issuer.imk,
             raw,
             pan_of(*t->request).value_or(std::string()),
             emv::psn_of(tree, f23),
             configured_version(issuer.cryptogram_version),
             rc,
             std::move(scripts)};
  const crypto::outcome<emv::arqc_verification> r =
      co_await hsm->run<emv::arqc_verification>(std::move(op), asio::use_awaitable);
  if (!r || !r->valid) {
    spdlog::warn("listener {}: no ARPC for {}: {}", t->listener, summary(*t->response),
                 r ? "the ARQC does not verify" : r.error().message());
    co_return stage_result{};
  }
  const auto& out = r->response_field55;
  (void)t->response->set(55U, std::string_view(reinterpret_cast<const char*>(out.data()), out.size()));
  co_return stage_result{};
}

}  // namespace

stage_fn make_arqc_stage(crypto::async_hsm& hsm, switch_counters& counters) {
  crypto::async_hsm* h = &hsm;
  switch_counters* c = &counters;
  return [h, c](transaction* t) { return check_arqc(h, c, t); };
}

stage_fn make_arpc_stage(crypto::async_hsm& hsm) {
  crypto::async_hsm* h = &hsm;
  return [h](transaction* t) { return make_arpc(h, t); };
}

}  // namespace eft::switch_core
