// The KSN and MAC stages: DUKPT key serial numbers from field 53, MAC verification of requests and
// MAC generation of answers through the HSM. The MAC input rule is written in stages.hpp and
// docs/switch.md.
#include <spdlog/spdlog.h>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "eft/iso8583/codec.hpp"
#include "eft/switch/message_util.hpp"
#include "eft/switch/stages.hpp"

namespace eft::switch_core {

namespace {

namespace asio = boost::asio;

bool uses_mac(const config::listener_config* l) {
  return l != nullptr && (!l->mac_key.empty() || !l->mac_bdk.empty());
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The MAC field of a message: 128 when present (or wanted, for an answer with fields above 64), else 64.
std::uint32_t mac_field_of(const iso8583::message& m) {
  bool high = false;
  m.for_each_field([&](std::uint32_t f, const iso8583::message::node&) { high = high || f > 64; });
  return high ? 128U : 64U;
}

// How many bytes the MAC field takes at the end of `packed`: its value raw (binary fields) or in hex
// (hex-encoded fields); 0 when the packed message does not end with it (it is not the last field).
std::size_t mac_tail(std::span<const std::uint8_t> packed, std::string_view mac) {
  if (mac.empty()) return 0;
  if (packed.size() >= mac.size() &&
      std::equal(mac.begin(), mac.end(), packed.end() - static_cast<std::ptrdiff_t>(mac.size()),
                 [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; })) {
    return mac.size();
  }
  const std::size_t hex = mac.size() * 2;
  if (packed.size() < hex) return 0;
  const auto* p = packed.data() + packed.size() - hex;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    const int hi = hex_value(static_cast<char>(p[2 * i]));
    const int lo = hex_value(static_cast<char>(p[2 * i + 1]));
    if (hi < 0 || lo < 0 || ((hi << 4) | lo) != static_cast<std::uint8_t>(mac[i])) return 0;
  }
  return hex;
}

crypto::mac_spec mac_spec_of(const config::listener_config& l, const std::vector<std::uint8_t>& ksn, bool response) {
  crypto::mac_spec s;
  s.length = 8;
  s.padding = 1;
  if (l.mac_bdk.empty()) {
    s.key = l.mac_key;
    s.algorithm = crypto::mac_algorithm::iso9797_1_alg3;
    return s;
  }
  s.key = l.mac_bdk;
  s.ksn.assign(ksn.begin(), ksn.end());
  s.dukpt_response = response;
  // X9.24-1 TDES DUKPT MACs with the retail MAC; X9.24-3 AES DUKPT keys are AES keys: CMAC.
  s.algorithm = ksn.size() == 12 ? crypto::mac_algorithm::cmac : crypto::mac_algorithm::iso9797_1_alg3;
  return s;
}

// The HSM operations, as named function objects: they may run on the HSM pool and own their inputs.
struct mac_check {
  crypto::mac_spec spec;
  crypto::bytes data;
  crypto::bytes mac;
  crypto::outcome<bool> operator()(crypto::hsm& h) const { return h.verify_mac(spec, data, mac); }
};
struct mac_make {
  crypto::mac_spec spec;
  crypto::bytes data;
  crypto::outcome<crypto::bytes> operator()(crypto::hsm& h) const { return h.generate_mac(spec, data); }
};

asio::awaitable<stage_result> read_ksn(const ksn_sizes* sizes, transaction* t) {
  const auto size = sizes->find(t->listener);
  if (size == sizes->end()) co_return stage_result{};
  const auto value = t->request->get(53U);
  if (!value) co_return stage_result{};
  const std::size_t n = size->second;
  const iso8583::field_spec* f = t->request->dialect().field(53U);
  const bool binary = f != nullptr && f->cls == iso8583::field_class::b;
  t->ksn.clear();
  if (binary && value->size() >= n) {
    t->ksn.assign(value->begin(), value->begin() + static_cast<std::ptrdiff_t>(n));
  } else if (!binary && value->size() >= 2 * n) {
    for (std::size_t i = 0; i < n; ++i) {
      const int hi = hex_value((*value)[2 * i]);
      const int lo = hex_value((*value)[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        t->ksn.clear();
        break;
      }
      t->ksn.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
    }
  }
  if (t->ksn.size() != n) {
    t->ksn.clear();
    spdlog::info("listener {}: field 53 of {} holds no {}-byte KSN; answering 30", t->listener, summary(*t->request),
                 n);
    co_return stage_result{"30"};
  }
  t->request->unset(53U);
  co_return stage_result{};
}

asio::awaitable<stage_result> verify_mac(crypto::async_hsm* hsm, switch_counters* counters, transaction* t) {
  const config::listener_config* l = t->source;
  if (!uses_mac(l)) co_return stage_result{};
  const std::uint32_t field = t->request->has(128U) ? 128U : 64U;
  const std::string_view mac = t->request->get(field).value_or(std::string_view());
  const std::size_t tail = mac_tail(t->request_bytes, mac);
  if (mac.size() != 8 || tail == 0 || (!l->mac_bdk.empty() && t->ksn.empty())) {
    counters->mac_failures.add();
    spdlog::warn("listener {}: {} has no usable MAC in field {} (it must be the last field{}); answering {}",
                 t->listener, summary(*t->request), field, l->mac_bdk.empty() ? "" : ", with a KSN in field 53",
                 mac_failure_rc);
    co_return stage_result{std::string(mac_failure_rc)};
  }
  mac_check op{mac_spec_of(*l, t->ksn, false),
               crypto::bytes(t->request_bytes.begin(), t->request_bytes.end() - static_cast<std::ptrdiff_t>(tail)),
               crypto::bytes(mac.begin(), mac.end())};
  const crypto::outcome<bool> ok = co_await hsm->run<bool>(std::move(op), asio::use_awaitable);
  if (!ok) {
    spdlog::warn("listener {}: MAC verification of {} failed in the HSM: {}; answering 96", t->listener,
                 summary(*t->request), ok.error().message());
    co_return stage_result{"96"};
  }
  if (!*ok) {
    counters->mac_failures.add();
    spdlog::warn("listener {}: wrong MAC on {}; answering {}", t->listener, summary(*t->request), mac_failure_rc);
    co_return stage_result{std::string(mac_failure_rc)};
  }
  t->request->unset(64U);
  t->request->unset(128U);
  co_return stage_result{};
}

asio::awaitable<stage_result> generate_mac(crypto::async_hsm* hsm, transaction* t) {
  const config::listener_config* l = t->source;
  if (!uses_mac(l) || !t->response) co_return stage_result{};
  iso8583::message& out = *t->response;
  out.unset(64U);
  out.unset(128U);
  if (!l->mac_bdk.empty() && t->ksn.empty()) co_return stage_result{};  // no KSN, no response key
  const std::uint32_t field = mac_field_of(out);
  (void)out.set(field, std::string_view("\0\0\0\0\0\0\0\0", 8));
  std::vector<std::byte> packed;
  if (const iso8583::status st = iso8583::pack(out, packed); !st) {
    out.unset(field);
    co_return stage_result{};  // the session answers 96 for an answer that does not pack
  }
  const auto bytes = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(packed.data()), packed.size());
  const std::size_t tail = mac_tail(bytes, std::string_view("\0\0\0\0\0\0\0\0", 8));
  if (tail == 0) {
    out.unset(field);
    spdlog::warn("listener {}: the MAC field {} is not the last of the answer {}; sent without MAC", t->listener, field,
                 summary(out));
    co_return stage_result{};
  }
  mac_make op{mac_spec_of(*l, t->ksn, true),
              crypto::bytes(bytes.begin(), bytes.end() - static_cast<std::ptrdiff_t>(tail))};
  const crypto::outcome<crypto::bytes> mac = co_await hsm->run<crypto::bytes>(std::move(op), asio::use_awaitable);
  if (!mac || mac->size() != 8) {
    out.unset(field);
    spdlog::warn("listener {}: MAC generation for {} failed: {}; sent without MAC", t->listener, summary(out),
                 mac ? "wrong length" : mac.error().message());
    co_return stage_result{};
  }
  (void)out.set(field, std::string_view(reinterpret_cast<const char*>(mac->data()), mac->size()));
  co_return stage_result{};
}

}  // namespace

stage_fn make_ksn_stage(const std::shared_ptr<const ksn_sizes>& sizes) {
  return [sizes](transaction* t) { return read_ksn(sizes.get(), t); };
}

stage_fn make_mac_verify_stage(crypto::async_hsm& hsm, switch_counters& counters) {
  crypto::async_hsm* h = &hsm;
  switch_counters* c = &counters;
  return [h, c](transaction* t) { return verify_mac(h, c, t); };
}

stage_fn make_mac_generate_stage(crypto::async_hsm& hsm) {
  crypto::async_hsm* h = &hsm;
  return [h](transaction* t) { return generate_mac(h, t); };
}

}  // namespace eft::switch_core
