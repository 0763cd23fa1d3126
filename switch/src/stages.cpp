#include "eft/switch/stages.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/use_awaitable.hpp>

#include "eft/switch/message_util.hpp"

namespace eft::switch_core {

namespace {

// The HSM operation, as a named function object: it runs on the HSM pool and must own its inputs.
struct pin_translation {
  crypto::pin_source from;
  crypto::bytes block;
  crypto::pin_destination to;
  std::string pan;
  crypto::outcome<crypto::bytes> operator()(crypto::hsm& h) const { return h.translate_pin(from, block, to, pan); }
};

boost::asio::awaitable<stage_result> translate_pin(crypto::async_hsm* hsm, transaction* t) {
  const auto block = t->host_request->get(52U);
  if (!block) co_return stage_result{};
  const config::listener_config* l = t->source;
  const bool dukpt = l != nullptr && !l->pin_bdk.empty();
  if (l == nullptr || (l->pin_key.empty() && !dukpt) || t->route->pin_key.empty()) {
    spdlog::warn("listener {}: {} carries a PIN block but {} has no PIN key; answering 96", t->listener,
                 summary(*t->request),
                 l == nullptr || (l->pin_key.empty() && !dukpt) ? "the listener" : "route " + t->route->name);
    co_return stage_result{"96"};
  }
  if (dukpt && t->ksn.empty()) {
    spdlog::info("listener {}: {} carries a DUKPT PIN block without KSN in field 53; answering 30", t->listener,
                 summary(*t->request));
    co_return stage_result{"30"};
  }
  pin_translation op{crypto::pin_source{dukpt ? l->pin_bdk : l->pin_key, crypto::bytes(t->ksn.begin(), t->ksn.end()),
                                        pin_format_of(l->pin_format)},
                     crypto::bytes(block->begin(), block->end()),
                     crypto::pin_destination{t->route->pin_key, pin_format_of(t->route->pin_format)},
                     pan_of(*t->request).value_or(std::string())};
  const crypto::outcome<crypto::bytes> out =
      co_await hsm->run<crypto::bytes>(std::move(op), boost::asio::use_awaitable);
  if (!out) {
    spdlog::warn("listener {}: PIN translation for {} failed: {}; answering 96", t->listener, summary(*t->request),
                 out.error().message());
    co_return stage_result{"96"};
  }
  (void)t->host_request->set(52U, std::string_view(reinterpret_cast<const char*>(out->data()), out->size()));
  co_return stage_result{};
}

}  // namespace

crypto::pin_block_format pin_format_of(std::string_view name) noexcept {
  if (name == "iso1") return crypto::pin_block_format::iso1;
  if (name == "iso3") return crypto::pin_block_format::iso3;
  if (name == "iso4") return crypto::pin_block_format::iso4;
  return crypto::pin_block_format::iso0;
}

stage_fn make_pin_translation_stage(crypto::async_hsm& hsm) {
  crypto::async_hsm* h = &hsm;
  return [h](transaction* t) { return translate_pin(h, t); };
}

}  // namespace eft::switch_core
