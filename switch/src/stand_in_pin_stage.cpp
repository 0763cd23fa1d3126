// The stand-in's local PIN verification: while the host is unavailable, the switch checks the PIN
// itself (inside the HSM) before it approves for the issuer.
#include <spdlog/spdlog.h>
#include <boost/asio/use_awaitable.hpp>

#include "eft/crypto/card_verification.hpp"
#include "eft/switch/message_util.hpp"
#include "eft/switch/stages.hpp"

namespace eft::switch_core {

namespace {

// The HSM operation, as a named function object: it runs on the HSM pool and must own its inputs.
struct stand_in_pin_check {
  crypto::pin_source from;
  crypto::bytes block;
  std::string pan;
  config::pin_verify_method method = config::pin_verify_method::visa_pvv;
  crypto::pvv_check pvv;
  crypto::ibm3624_check ibm3624;
  crypto::outcome<bool> operator()(crypto::hsm& h) const {
    if (method == config::pin_verify_method::visa_pvv) return h.verify_pin_pvv(from, block, pan, pvv);
    return h.verify_pin_ibm3624(from, block, pan, ibm3624);
  }
};

boost::asio::awaitable<stage_result> verify_stand_in_pin(crypto::async_hsm* hsm, transaction* t) {
  if (t->route == nullptr || !t->route->stand_in || !t->route->stand_in->pin_verify) co_return stage_result{};
  const config::stand_in_config& si = *t->route->stand_in;
  const config::pin_verify_config& v = *si.pin_verify;
  const iso8583::message& req = *t->request;
  const auto block = req.get(52U);
  if (!block) {
    if (!v.required) co_return stage_result{};
    spdlog::info("listener {}: route {} verifies PINs in stand-in and {} has no PIN block; answering {}", t->listener,
                 t->route->name, summary(req), si.rc);
    co_return stage_result{si.rc};
  }
  const config::listener_config* l = t->source;
  const bool dukpt = l != nullptr && !l->pin_bdk.empty();
  if (l == nullptr || (l->pin_key.empty() && !dukpt)) {
    spdlog::warn("listener {}: {} carries a PIN block but the listener has no PIN key; answering 96", t->listener,
                 summary(req));
    co_return stage_result{"96"};
  }
  const auto track = req.get(35U);
  const auto data = track ? pin_verification_data_of(v, *track) : std::nullopt;
  std::string pan = pan_of(req).value_or(std::string());
  stand_in_pin_check op;
  op.method = v.method;
  if (data && v.method == config::pin_verify_method::visa_pvv) {
    op.pvv = crypto::pvv_check{v.pvk, data->pvki, data->value};
  } else if (data) {
    auto vd = crypto::ibm3624_validation_data(v.validation_data, pan);
    if (vd) op.ibm3624 = crypto::ibm3624_check{v.pvk, v.decimalization, std::move(*vd), data->value, v.offset_length};
  }
  if (!data || (v.method == config::pin_verify_method::ibm3624 && op.ibm3624.validation_data.empty())) {
    spdlog::info("listener {}: {} has no usable PIN verification data on track 2 (field 35) for route {}; answering {}",
                 t->listener, summary(req), t->route->name, si.rc);
    co_return stage_result{si.rc};
  }
  op.from = crypto::pin_source{dukpt ? l->pin_bdk : l->pin_key, crypto::bytes(t->ksn.begin(), t->ksn.end()),
                               pin_format_of(l->pin_format)};
  op.block.assign(block->begin(), block->end());
  op.pan = std::move(pan);
  const crypto::outcome<bool> ok = co_await hsm->run<bool>(std::move(op), boost::asio::use_awaitable);
  if (!ok) {
    spdlog::warn("listener {}: stand-in PIN verification for {} failed: {}; answering 96", t->listener, summary(req),
                 ok.error().message());
    co_return stage_result{"96"};
  }
  if (!*ok) {
    spdlog::info("listener {}: stand-in for route {}: the PIN of {} does not verify; answering {}", t->listener,
                 t->route->name, summary(req), wrong_pin_rc);
    co_return stage_result{std::string(wrong_pin_rc)};
  }
  co_return stage_result{};
}

}  // namespace

stage_fn make_stand_in_pin_stage(crypto::async_hsm& hsm) {
  crypto::async_hsm* h = &hsm;
  return [h](transaction* t) { return verify_stand_in_pin(h, t); };
}

}  // namespace eft::switch_core
