#include "eft/simulators/terminal.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <unordered_map>

#include <cstring>
#include <ctime>

#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/mac.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/emv/card.hpp"
#include "eft/iso8583/codec.hpp"

namespace eft::simulators {
namespace {

std::string digits_of(std::uint64_t v, std::size_t width) {
  std::string s = std::to_string(v);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return s;
}

std::string_view as_text(const crypto::bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

struct clock_fields {
  std::string f7, f12, f13, emv_date, f12_1993;
};

clock_fields now_fields() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char b7[32], b12[16], b13[16], bd[16];
  std::snprintf(b7, sizeof b7, "%02d%02d%02d%02d%02d", (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100,
                tm.tm_min % 100, tm.tm_sec % 100);
  std::snprintf(b12, sizeof b12, "%02d%02d%02d", tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
  std::snprintf(b13, sizeof b13, "%02d%02d", (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
  std::snprintf(bd, sizeof bd, "%02d%02d%02d", tm.tm_year % 100, (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
  return {b7, b12, b13, bd, std::string(bd) + b12};
}

emv::card_profile profile_of(const card_config& c, std::uint16_t atc) {
  emv::card_profile p;
  p.pan = c.pan;
  p.psn = c.psn;
  p.version = c.cvn;
  p.imk = c.imk.clone();
  p.atc = atc;
  p.expiry = c.expiry + "31";
  p.service_code = c.service_code;
  return p;
}

std::string track2(const card_config& c) {
  return c.pan + "=" + c.expiry + c.service_code + c.discretionary;
}

// Sets a binary value (KSN) on a field of any class: raw bytes for b fields, hex digits for text
// fields; fixed-length fields are right-filled (zeros, or F for hex text as KSNs are written).
bool set_ksn(iso8583::message& m, std::uint32_t field, const crypto::bytes& ksn) {
  const auto* fs = m.dialect().field(field);
  if (fs == nullptr) return false;
  if (fs->cls == iso8583::field_class::b) {
    std::string v(as_text(ksn));
    if (fs->fixed() && v.size() < fs->length) v.append(fs->length - v.size(), '\0');
    return static_cast<bool>(m.set(field, v));
  }
  std::string v = crypto::to_hex(ksn);
  if (fs->fixed() && v.size() < fs->length)
    v.append(fs->length - v.size(), fs->cls == iso8583::field_class::n ? '0' : 'F');
  return static_cast<bool>(m.set(field, v));
}

// ISO 8583:1993 field 22, the point of service data code (an 12), for a terminal of this kind: card
// data input capability (5: ICC, with magnetic stripe), cardholder authentication capability (1:
// PIN), card capture capability (0: none), operating environment (1: on the card acceptor's
// premises, attended), cardholder present (0), card present (1), card data input mode (5: ICC, 2:
// magnetic stripe, 6: key entered), cardholder authentication method (1: PIN, 0: none), its entity
// (1: ICC or 3: authorising agent online, 0: none), card data output capability (3: ICC), terminal
// output capability (4: printing and display), PIN capture capability (C: twelve characters).
std::string pos_data_code_1993(txn_type type, bool pin) {
  const char input = type == txn_type::magstripe_fallback ? '2' : type == txn_type::refund ? '6' : '5';
  std::string code = "510101";
  code += input;
  code += pin ? "13" : "00";
  code += "34C";
  return code;
}

}  // namespace

std::string_view to_string(mismatch m) noexcept {
  switch (m) {
    case mismatch::mti:
      return "mti";
    case mismatch::stan:
      return "stan";
    case mismatch::rrn:
      return "rrn";
    case mismatch::terminal:
      return "terminal";
    case mismatch::amount:
      return "amount";
    case mismatch::arpc_missing:
      return "arpc_missing";
    case mismatch::arpc:
      return "arpc";
    case mismatch::mac_missing:
      return "mac_missing";
    case mismatch::mac:
      return "mac";
  }
  return "?";
}

std::string amount_field(std::uint64_t minor) {
  return digits_of(minor, 12);
}

std::string format_amount(std::uint64_t minor) {
  return std::to_string(minor / 100) + "." + digits_of(minor % 100, 2);
}

namespace {

// Where this run's STANs start. A real terminal keeps its STAN across power cycles; a simulator run
// starts from the clock instead, so that two runs a moment apart (a `send`, then a `load`) do not
// repeat a terminal's STAN and transmission time, which a switch rightly takes for a duplicate.
std::uint32_t run_stan_offset() {
  static const auto offset = static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() %
      999999);
  return offset;
}

// The 40 bits at the right of a TDES KSN: device id (top 19) and counter (bottom 21).
std::uint64_t tdes_ksn_tail(const crypto::bytes& ksn) {
  std::uint64_t v = 0;
  for (std::size_t i = 5; i < 10; ++i) v = v << 8 | ksn[i];
  return v;
}

void set_tdes_ksn_tail(crypto::bytes& ksn, std::uint64_t v) {
  for (std::size_t i = 10; i-- > 5;) {
    ksn[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

std::uint32_t be32(const crypto::bytes& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
         static_cast<std::uint32_t>(b[at + 2]) << 8 | b[at + 3];
}

void set_be32(crypto::bytes& b, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

// The KSN whose successor carries counter `start` (or the next valid counter after it).
crypto::bytes with_counter_before(crypto::bytes ksn, std::uint32_t start) {
  if (ksn.size() == crypto::dukpt_tdes_ksn_size) {
    set_tdes_ksn_tail(ksn, (tdes_ksn_tail(ksn) & ~std::uint64_t{crypto::dukpt_tdes_counter_mask}) | (start - 1));
  } else if (ksn.size() == crypto::dukpt_aes_ksn_size) {
    set_be32(ksn, 8, start - 1);
  }
  return ksn;
}

// A KSN without its counter: the device it names.
crypto::bytes device_of(crypto::bytes ksn) {
  if (ksn.size() == crypto::dukpt_tdes_ksn_size) {
    set_tdes_ksn_tail(ksn, tdes_ksn_tail(ksn) & ~std::uint64_t{crypto::dukpt_tdes_counter_mask});
  } else if (ksn.size() == crypto::dukpt_aes_ksn_size) {
    ksn.resize(crypto::dukpt_aes_initial_key_id_size);
  }
  return ksn;
}

}  // namespace

crypto::bytes device_ksn(const crypto::bytes& template_ksn, std::uint64_t copy) {
  crypto::bytes ksn = template_ksn;
  if (ksn.size() == crypto::dukpt_tdes_ksn_size) {
    constexpr std::uint64_t device_bits = 19;
    const std::uint64_t tail = tdes_ksn_tail(ksn);
    const std::uint64_t device = ((tail >> 21) + copy) & ((std::uint64_t{1} << device_bits) - 1);
    set_tdes_ksn_tail(ksn, device << 21 | (tail & crypto::dukpt_tdes_counter_mask));
  } else if (ksn.size() == crypto::dukpt_aes_ksn_size) {
    set_be32(ksn, 4, static_cast<std::uint32_t>(be32(ksn, 4) + copy));
  }
  return ksn;
}

std::string ksn_collision(const termsim_config& cfg, std::size_t connections) {
  const std::size_t templates = cfg.terminals.size();
  if (templates == 0) return {};
  std::map<crypto::bytes, std::size_t> owner;  // device -> first connection
  for (std::size_t i = 0; i < connections; ++i) {
    const auto& t = cfg.terminals[i % templates];
    if (t.pin == pin_protection::static_key) continue;
    const auto [at, fresh] = owner.emplace(device_of(device_ksn(t.ksn, i / templates)), i);
    if (fresh) continue;
    const std::size_t j = at->second;
    const std::size_t copies = (connections + templates - 1) / templates;
    return "connections " + std::to_string(j) + " (terminals[" + std::to_string(j % templates) + "]) and " +
           std::to_string(i) + " (terminals[" + std::to_string(i % templates) + "]) would be the same DUKPT device " +
           crypto::to_hex(device_of(device_ksn(t.ksn, i / templates))) +
           " (copy k of a template adds k to the device id of its KSN): give the templates' KSNs device ids at least " +
           std::to_string(copies) + " apart, or run fewer connections";
  }
  return {};
}

std::string ksn_counter_start_problem(const termsim_config& cfg, std::uint64_t counter) {
  for (std::size_t i = 0; i < cfg.terminals.size(); ++i) {
    const auto& t = cfg.terminals[i];
    if (t.pin == pin_protection::static_key) continue;
    const std::uint64_t last =
        t.pin == pin_protection::dukpt_tdes ? crypto::dukpt_tdes_last_counter : crypto::dukpt_aes_last_counter;
    if (counter == 0 || counter > last) {
      return "the KSN counter start " + std::to_string(counter) + " is outside 1-" + std::to_string(last) +
             ", the counters of terminals[" + std::to_string(i) + "] (" +
             (t.pin == pin_protection::dukpt_tdes ? "TDES" : "AES") + " DUKPT)";
    }
  }
  return {};
}

std::string describe_field(const iso8583::field_spec& f) {
  std::string d = std::string(iso8583::to_string(f.cls)) + " " + (f.fixed() ? "" : "..") + std::to_string(f.length);
  if (!f.fixed()) d += " (" + std::string(f.prefix_digits, 'L') + ")";
  return d;
}

namespace {

// The fields build_request() fills itself: a KSN there would overwrite them or be overwritten.
constexpr std::array<std::uint32_t, 22> request_fields = {2,  3,  4,  7,  11, 12, 13, 14, 22, 23, 24,
                                                          25, 35, 37, 41, 42, 49, 52, 55, 56, 64, 90};

// Why a trial message does not pack, without the "field N at offset M: " of the codec (the offset
// of a trial message means nothing to the reader); empty when it packs.
std::string packs(iso8583::message& m) {
  std::vector<std::byte> out;
  const auto st = iso8583::pack(m, out);
  if (st) return {};
  std::string why = st.message();
  if (const auto at = why.find(" at offset "); at != std::string::npos) {
    if (const auto colon = why.find(": ", at); colon != std::string::npos) why.erase(0, colon + 2);
  }
  return why;
}

// Why `field` of `spec` cannot carry KSNs of `size` bytes as set_ksn() writes them; empty when it can.
std::string ksn_field_problem(const iso8583::spec& spec, std::uint32_t field, std::size_t size) {
  if (std::find(request_fields.begin(), request_fields.end(), field) != request_fields.end())
    return "termsim's requests use field " + std::to_string(field) + " for something else";
  iso8583::message m(spec);
  m.set_mti("0200");
  // Hex digits A-F: a KSN's counter alone reaches them, so a digits-only field cannot carry KSNs.
  if (!set_ksn(m, field, crypto::bytes(size, 0xAB))) return "the spec has no field " + std::to_string(field);
  return packs(m);
}

}  // namespace

fit_problem pin_block_fit(const terminal_config& t, const iso8583::spec& spec) {
  if (t.pin_key.empty()) return {};
  const bool aes_block = t.pin == pin_protection::dukpt_aes || t.pin_format == crypto::pin_block_format::iso4;
  const std::size_t size = aes_block ? 16 : 8;
  const std::string blocks =
      std::string(aes_block ? "format 4 (AES)" : "TDES") + " PIN blocks are " + std::to_string(size) + " bytes";
  const auto* f = spec.field(52);
  if (f == nullptr)
    return {"spec " + spec.name + " has no field 52 for the PIN block",
            "use a spec with field 52 (b " + std::to_string(size) + ")"};
  iso8583::message m(spec);
  m.set_mti("0200");
  std::string why;
  if (!m.set(52, std::string(size, '\0'))) why = "it cannot be set";
  if (why.empty()) why = packs(m);
  if (why.empty()) return {};
  return {blocks + ", but field 52 of spec " + spec.name + " is " + describe_field(*f) + " (" + why + ")",
          "use a spec file whose field 52 holds " + std::to_string(size) + " bytes, e.g. b " + std::to_string(size) +
              (aes_block ? ", or TDES DUKPT (a 20-digit ksn)" : "")};
}

fit_problem ksn_fit(const terminal_config& t, const iso8583::spec& spec) {
  if (t.pin == pin_protection::static_key) return {};
  const std::size_t size = t.ksn.size();
  const std::string why = ksn_field_problem(spec, t.ksn_field, size);
  if (why.empty()) return {};
  const std::string need = std::to_string(size * 2) + " hex digits or " + std::to_string(size) + " bytes";
  std::string what = "its " + std::to_string(size * 2) + "-digit KSN does not fit ksn_field " +
                     std::to_string(t.ksn_field) + " of spec " + spec.name;
  if (const auto* f = spec.field(t.ksn_field)) what += ", " + describe_field(*f);
  what += " (" + why + (why.find("character") != std::string::npos ? ": a KSN is hex, 0-9 and A-F" : "") + ")";
  std::string fix = "set ksn_field to a field that holds " + need;
  for (const std::uint32_t c : {53U, 62U, 63U, 48U, 120U, 123U, 125U, 126U, 127U}) {
    if (c != t.ksn_field && ksn_field_problem(spec, c, size).empty()) {
      fix += ", e.g. field " + std::to_string(c) + ", " + describe_field(*spec.field(c));
      break;
    }
  }
  return {what, fix};
}

terminal_state::terminal_state(const terminal_config& t, std::size_t index, std::size_t templates,
                               std::uint32_t ksn_counter_start)
    : config_(&t),
      stan_(static_cast<std::uint32_t>((index * 7919 + run_stan_offset()) % 999999)),
      ksn_(device_ksn(t.ksn, index / (templates == 0 ? 1 : templates))) {
  if (ksn_counter_start > 0) ksn_ = with_counter_before(ksn_, ksn_counter_start);
  // The id's trailing digits count up per copy of the template: POS00001, POS00002, ...
  std::string base = t.id;
  while (!base.empty() && base.back() == ' ') base.pop_back();
  std::size_t digits_at = base.size();
  while (digits_at > 0 && base[digits_at - 1] >= '0' && base[digits_at - 1] <= '9') --digits_at;
  const std::size_t width = base.size() - digits_at;
  const std::uint64_t start = width == 0 ? 0 : std::stoull(base.substr(digits_at));
  const std::uint64_t n = start + index / (templates == 0 ? 1 : templates);
  if (width > 0 || index >= templates) {
    std::string num = std::to_string(n);
    const std::size_t room = 8 - digits_at;
    if (num.size() < width) num.insert(0, width - num.size(), '0');
    if (num.size() > room) num = num.substr(num.size() - room);
    id_ = base.substr(0, digits_at) + num;
  } else {
    id_ = base;
  }
  while (id_.size() < 8) id_ += ' ';
}

std::string terminal_id_collision(const termsim_config& cfg, std::size_t connections) {
  const std::size_t templates = cfg.terminals.size();
  if (templates == 0) return {};
  std::unordered_map<std::string, std::size_t> owner;  // id -> first connection
  owner.reserve(connections);
  for (std::size_t i = 0; i < connections; ++i) {
    const terminal_state term(cfg.terminals[i % templates], i, templates, 0);
    const auto [at, fresh] = owner.emplace(term.id(), i);
    if (fresh) continue;
    const std::size_t j = at->second;
    const std::size_t copies = (connections + templates - 1) / templates;
    std::string id = term.id();
    while (!id.empty() && id.back() == ' ') id.pop_back();
    return "connections " + std::to_string(j) + " (terminals[" + std::to_string(j % templates) + "]) and " +
           std::to_string(i) + " (terminals[" + std::to_string(i % templates) + "]) would both be terminal '" + id +
           "' (copy k of a template adds k to the trailing digits of its id): end each template id with digits that "
           "number " +
           std::to_string(copies) + " copies without meeting another template's, or run fewer connections";
  }
  return {};
}

std::string terminal_state::next_stan() {
  stan_ = stan_ % 999999 + 1;
  return digits_of(stan_, 6);
}

crypto::outcome<crypto::bytes> terminal_state::next_ksn() {
  auto next =
      ksn_.size() == crypto::dukpt_aes_ksn_size ? crypto::dukpt_aes_next_ksn(ksn_) : crypto::dukpt_tdes_next_ksn(ksn_);
  if (!next) return next.error();
  ksn_ = *next;
  return ksn_;
}

std::string terminal_rrn(std::string_view terminal_id, std::string_view stan) {
  // Terminal id digits and STAN keep it unique per terminal for reconciliation.
  std::uint64_t h = 0;
  for (const char c : terminal_id) h = h * 31 + static_cast<unsigned char>(c);
  return digits_of(h % 1000000, 6) + std::string(stan);
}

std::string build_request(const termsim_config& cfg, terminal_state& term, const card_config& card, txn_type type,
                          std::uint64_t amount, const txn_context* original, std::mt19937_64& rng, iso8583::message& m,
                          txn_context& ctx) {
  m.clear();
  ctx = txn_context{};
  ctx.type = type;
  ctx.card = &card;
  ctx.terminal_id = term.id();
  const auto now = now_fields();
  ++term.sequence;

  const bool v93 = cfg.target.edition == iso_edition::v1993;
  ctx.local_time = v93 ? now.f12_1993 : now.f12;
  if (type == txn_type::reversal) {
    if (original == nullptr) return "nothing to reverse";
    // ISO 8583:1987: a reversal request (0400) names its original in field 90. ISO 8583:1993: a
    // reversal advice (1420), function code 400 (full reversal), its original in field 56.
    ctx.mti = mti_of(cfg.target.edition, v93 ? "420" : "400");
    ctx.processing_code = original->processing_code;
    ctx.amount = original->amount;
    ctx.card = original->card;
    ctx.stan = term.next_stan();
    ctx.rrn = original->rrn;
    ctx.transmission_time = now.f7;
    m.set_mti(ctx.mti);
    m.set(2, original->card->pan);
    m.set(3, ctx.processing_code);
    m.set(4, ctx.amount);
    m.set(7, now.f7);
    m.set(11, ctx.stan);
    m.set(12, ctx.local_time);
    if (!v93) m.set(13, now.f13);
    m.set(14, original->card->expiry);
    m.set(22, v93 ? pos_data_code_1993(txn_type::purchase, true) : "051");
    if (v93) {
      m.set(24, "400");
    } else {
      m.set(25, "00");
    }
    m.set(37, ctx.rrn);
    m.set(41, term.id());
    m.set(42, term.config().merchant);
    m.set(49, cfg.currency);
    if (v93) {
      if (original->local_time.size() != 12)
        return "an ISO 8583:1993 reversal names its original's local date and time (field 12, 12 digits)";
      if (!m.set("56.1", original->mti) || !m.set("56.2", original->stan) || !m.set("56.3", original->local_time) ||
          !m.set("56.4", ""))
        return "the spec has no field 56 with subfields 1-4";
      return {};
    }
    const std::string f90 = original->mti + original->stan + original->transmission_time + std::string(22, '0');
    if (!m.set(90, f90)) return "the spec has no field 90";
    return {};
  }

  const bool chip = card.chip && type != txn_type::magstripe_fallback && type != txn_type::refund;
  const bool pin = type == txn_type::purchase || type == txn_type::magstripe_fallback ||
                   type == txn_type::atm_withdrawal || type == txn_type::balance_inquiry;
  std::string pc = "000000";
  std::string emv_type = "00";
  if (type == txn_type::atm_withdrawal) pc = "010000", emv_type = "01";
  if (type == txn_type::balance_inquiry) pc = "310000", emv_type = "31", amount = 0;
  if (type == txn_type::refund) pc = "200000", emv_type = "20";
  ctx.mti = mti_of(cfg.target.edition, "200");
  ctx.processing_code = pc;
  ctx.amount = amount_field(amount);
  ctx.stan = term.next_stan();
  ctx.transmission_time = now.f7;
  ctx.rrn = terminal_rrn(term.id(), ctx.stan);
  ctx.atc = static_cast<std::uint16_t>(card.atc + term.sequence);

  m.set_mti(ctx.mti);
  m.set(2, card.pan);
  m.set(3, pc);
  m.set(4, ctx.amount);
  m.set(7, now.f7);
  m.set(11, ctx.stan);
  m.set(12, ctx.local_time);
  if (!v93) m.set(13, now.f13);  // 1993's field 13 is the card's effective date
  m.set(14, card.expiry);
  if (v93) {
    m.set(22, pos_data_code_1993(type, pin));
  } else {
    const char* entry = type == txn_type::contactless          ? "071"
                        : type == txn_type::magstripe_fallback ? "801"
                        : type == txn_type::refund             ? "901"
                                                               : "051";
    m.set(22, std::string(entry).substr(0, 2) + (pin ? "1" : "2"));
  }
  if (chip) m.set(23, "0" + card.psn);
  if (v93) {
    m.set(24, "200");  // original financial request
  } else {
    m.set(25, "00");  // normal presentment (1993's field 25 is a message reason code)
  }
  m.set(35, track2(card));
  m.set(37, ctx.rrn);
  m.set(41, term.id());
  m.set(42, term.config().merchant);
  m.set(49, cfg.currency);

  if (pin) {
    const auto& t = term.config();
    if (t.pin_key.empty()) return "the terminal has no PIN key";
    crypto::outcome<crypto::bytes> block = crypto::bytes{};
    if (t.pin == pin_protection::static_key) {
      block = crypto::encrypt_pin(t.pin_format, crypto::cipher::tdes, t.pin_key.view(), card.pin, card.pan);
    } else {
      auto ksn = term.next_ksn();
      if (!ksn) return "DUKPT: " + ksn.error().message();
      if (t.pin == pin_protection::dukpt_tdes) {
        auto k = crypto::dukpt_tdes_key(t.pin_key.view(), *ksn, crypto::dukpt_tdes_usage::pin);
        if (!k) return "DUKPT: " + k.error().message();
        block = crypto::encrypt_pin(t.pin_format, crypto::cipher::tdes, k->view(), card.pin, card.pan);
      } else {
        auto k = crypto::dukpt_aes_key(t.pin_key.view(), *ksn, crypto::dukpt_aes_usage::pin_encryption,
                                       crypto::dukpt_aes_key_type::aes128);
        if (!k) return "DUKPT: " + k.error().message();
        block = crypto::encrypt_pin_block_iso4(k->view(), card.pin, card.pan);
      }
      if (!set_ksn(m, t.ksn_field, *ksn)) return "the KSN does not fit field " + std::to_string(t.ksn_field);
    }
    if (!block) return "PIN block: " + block.error().message();
    if (!m.set(52, as_text(*block))) return "the spec has no field 52";
  }

  if (chip) {
    emv::terminal_data td;
    td.amount = amount;
    td.currency_code = static_cast<std::uint16_t>(std::stoi(cfg.currency));
    td.country_code = td.currency_code;
    td.date = now.emv_date;
    td.transaction_type = emv_type;
    const auto un = rng();
    td.unpredictable_number = {static_cast<std::uint8_t>(un >> 24), static_cast<std::uint8_t>(un >> 16),
                               static_cast<std::uint8_t>(un >> 8), static_cast<std::uint8_t>(un)};
    td.cvm_results = pin ? crypto::bytes{0x42, 0x03, 0x00} : crypto::bytes{0x1F, 0x03, 0x02};
    if (term.config().atm) td.terminal_type = 0x14;
    auto f55 = emv::generate_request_field55(profile_of(card, ctx.atc), td);
    if (!f55) return "field 55: " + f55.error().message();
    ctx.field55 = std::move(*f55);
    if (!m.set(55, as_text(ctx.field55))) return "the spec has no field 55";
  }
  return {};
}

namespace {
// The MAC is the last field (ISO 8583:1987): 128 when the message has a secondary bitmap (a
// reversal's field 90), else 64; the switch's MAC stage picks it the same way.
std::uint32_t mac_field_of(const iso8583::message& m) {
  bool high = false;
  m.for_each_field([&](std::uint32_t f, const iso8583::message::node&) { high = high || f > 64; });
  return high ? 128U : 64U;
}
}  // namespace

std::optional<std::vector<std::byte>> pack_with_mac(const crypto::secure_bytes& mac_key, iso8583::message& msg,
                                                    std::string* error) {
  std::vector<std::byte> out;
  const std::uint32_t mac_field = mac_field_of(msg);
  if (!mac_key.empty() && !msg.set(mac_field, std::string(8, '\0'))) {
    if (error != nullptr) *error = "the spec has no field " + std::to_string(mac_field) + " for the MAC";
    return std::nullopt;
  }
  const auto st = iso8583::pack(msg, out);
  if (!st) {
    if (error != nullptr) *error = st.message();
    return std::nullopt;
  }
  if (!mac_key.empty()) {
    // The MAC field is the last one of the message; the MAC covers everything before it.
    const crypto::byte_view data{reinterpret_cast<const std::uint8_t*>(out.data()), out.size() - 8};
    const auto mac = crypto::compute_mac(crypto::mac_options{}, mac_key.view(), data);
    if (!mac) {
      if (error != nullptr) *error = mac.error().message();
      return std::nullopt;
    }
    std::memcpy(out.data() + out.size() - 8, mac->data(), 8);
    msg.set(mac_field, std::string_view(reinterpret_cast<const char*>(mac->data()), 8));
  }
  return out;
}

std::optional<std::vector<std::byte>> pack_request(const terminal_config& term, iso8583::message& msg,
                                                   std::string* error) {
  return pack_with_mac(term.mac_key, msg, error);
}

bool mac_matches(const crypto::secure_bytes& mac_key, const iso8583::message& msg, std::span<const std::byte> body) {
  const auto mac = msg.get(mac_field_of(msg));
  if (!mac || mac->size() != 8 || body.size() < 8) return false;
  const crypto::byte_view data{reinterpret_cast<const std::uint8_t*>(body.data()), body.size() - 8};
  const crypto::byte_view mv{reinterpret_cast<const std::uint8_t*>(mac->data()), 8};
  const auto ok = crypto::check_mac(crypto::mac_options{}, mac_key.view(), data, mv);
  return ok && *ok;
}

answer_check check_answer(const terminal_state& term, const txn_context& ctx, const iso8583::message& a,
                          std::span<const std::byte> body) {
  answer_check r;
  auto flag = [&r](mismatch m) { r.mismatches |= 1U << static_cast<unsigned>(m); };
  r.rc = std::string(a.get(39).value_or(""));
  std::string want = ctx.mti;
  want[2] = static_cast<char>(want[2] + 1);
  if (a.mti() != want) flag(mismatch::mti);
  if (a.get(11).value_or("") != ctx.stan) flag(mismatch::stan);
  if (!ctx.rrn.empty() && a.has(37) && a.get(37).value_or("") != ctx.rrn) flag(mismatch::rrn);
  if (a.has(41) && a.get(41).value_or("") != ctx.terminal_id) flag(mismatch::terminal);
  if (a.has(4) && ctx.type != txn_type::balance_inquiry && a.get(4).value_or("") != ctx.amount) flag(mismatch::amount);
  // Issuer authentication: an approved chip transaction must carry an ARPC the card accepts.
  if (!ctx.field55.empty() && ctx.card != nullptr) {
    const auto resp = a.get(55);
    if (!resp || resp->empty()) {
      if (approves(r.rc)) flag(mismatch::arpc_missing);
    } else {
      const crypto::byte_view rv{reinterpret_cast<const std::uint8_t*>(resp->data()), resp->size()};
      const auto ia = emv::check_issuer_response(profile_of(*ctx.card, ctx.atc), ctx.field55, rv);
      if (!ia) {
        if (approves(r.rc)) flag(mismatch::arpc_missing);
      } else if (!ia->valid) {
        flag(mismatch::arpc);
      }
    }
  }
  if (!term.config().mac_key.empty()) {
    if (!a.has(mac_field_of(a))) {
      flag(mismatch::mac_missing);
    } else if (!mac_matches(term.config().mac_key, a, body)) {
      flag(mismatch::mac);
    }
  }
  return r;
}

}  // namespace eft::simulators
