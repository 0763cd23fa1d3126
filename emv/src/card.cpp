#include "eft/emv/card.hpp"

#include <array>

#include "eft/crypto/emv.hpp"
#include "internal.hpp"

namespace eft::emv {

namespace {

status bad(tag_t tag, std::string why) {
  return status::failure(errc::bad_value, tag, std::move(why));
}

// BCD of `digits` decimal digits of n, right-justified (format n).
result<bytes> bcd(tag_t tag, std::uint64_t n, std::size_t digits) {
  bytes out(digits / 2, 0);
  for (std::size_t i = out.size(); i > 0; --i) {
    const auto lo = n % 10;
    n /= 10;
    const auto hi = n % 10;
    n /= 10;
    out[i - 1] = static_cast<std::uint8_t>((hi << 4U) | lo);
  }
  if (n != 0) return bad(tag, "more than " + std::to_string(digits) + " digits");
  return out;
}

// BCD of a string of decimal digits (even count).
result<bytes> bcd_text(tag_t tag, std::string_view text, std::size_t digits) {
  if (text.size() != digits || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad(tag, std::to_string(digits) + " decimal digits expected");
  }
  bytes out(digits / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(((text[2 * i] - '0') << 4) | (text[2 * i + 1] - '0'));
  }
  return out;
}

// Nibbles of digits with 'D' kept as 0xD, padded with F to whole bytes (cn, track 2 equivalent).
bytes packed_digits(std::string_view text) {
  bytes out((text.size() + 1) / 2, 0xFF);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto nib = static_cast<std::uint8_t>(text[i] == 'D' ? 0xD : text[i] - '0');
    out[i / 2] = (i % 2 == 0) ? static_cast<std::uint8_t>((nib << 4U) | 0x0FU)
                              : static_cast<std::uint8_t>((out[i / 2] & 0xF0U) | nib);
  }
  return out;
}

bytes default_aid(cryptogram_version v) {
  switch (detail::iad_scheme(v)) {
    case card_scheme::visa:
      return {0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10};
    case card_scheme::mastercard:
      return {0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10};
    default:
      return {};
  }
}

// The clear issuer master key of the profile.
result<crypto::secure_bytes> card_key(const card_profile& card, const key_source& keys) {
  if (!card.imk.empty()) return card.imk.clone();
  if (card.imk_name.empty()) return status::failure(errc::crypto, 0, "the card profile has no issuer master key");
  if (!keys) return status::failure(errc::crypto, 0, "no key source to resolve " + card.imk_name);
  auto k = keys(card.imk_name);
  if (!k) return detail::crypto_failure(k.error());
  return std::move(*k);
}

bytes sized(const bytes& given, std::size_t n, std::initializer_list<std::uint8_t> fallback) {
  if (!given.empty()) return given;
  bytes out(fallback);
  out.resize(n, 0);
  return out;
}

}  // namespace

result<bytes> card_iad(const card_profile& card) {
  bytes iad;
  switch (card.version) {
    case cryptogram_version::visa_10:
    case cryptogram_version::visa_18: {
      // VIS format 0/1/3: 06, DKI, CVN, CVR (03 and 3 bytes: second AC not requested, ARQC).
      const bytes cvr = sized(card.cvr, 4, {0x03, 0xA0, 0x00, 0x00});
      if (cvr.size() != 4 || cvr[0] != 0x03) return bad(0x9F10, "a Visa format 0/1/3 CVR is 4 bytes starting 03");
      iad = {0x06, card.dki, static_cast<std::uint8_t>(card.version == cryptogram_version::visa_10 ? 0x0A : 0x12)};
      iad.insert(iad.end(), cvr.begin(), cvr.end());
      break;
    }
    case cryptogram_version::visa_22: {
      // VIS 1.6 format 2: 1F, CVN 22, DKI, CVR (5), issuer-discretionary data (option id and 23 bytes).
      const bytes cvr = sized(card.cvr, 5, {0xA0});
      if (cvr.size() != 5) return bad(0x9F10, "a Visa format 2 CVR is 5 bytes");
      iad = {0x1F, 0x22, card.dki};
      iad.insert(iad.end(), cvr.begin(), cvr.end());
      iad.resize(32, 0x00);
      break;
    }
    case cryptogram_version::mastercard_16:
    case cryptogram_version::mastercard_17:
    case cryptogram_version::mastercard_20:
    case cryptogram_version::mastercard_21: {
      // M/Chip: KDI, CVN, CVR (6), DAC/IDN (2), counters (8).
      static constexpr std::array<std::uint8_t, 4> cvn = {0x10, 0x11, 0x14, 0x15};
      const auto index =
          static_cast<std::size_t>(card.version) - static_cast<std::size_t>(cryptogram_version::mastercard_16);
      const bytes cvr = sized(card.cvr, 6, {0xA0});
      const bytes counters = sized(card.counters, 8, {});
      if (cvr.size() != 6 || counters.size() != 8) return bad(0x9F10, "an M/Chip CVR is 6 bytes and its counters 8");
      iad = {card.dki, cvn[index]};
      iad.insert(iad.end(), cvr.begin(), cvr.end());
      iad.insert(iad.end(), {0x00, 0x00});
      iad.insert(iad.end(), counters.begin(), counters.end());
      break;
    }
    case cryptogram_version::emv_csk: {
      // Book 3 C7.2 format A: 0F, CCI A5, DKI, CVR (5), counters (8), 0F, IDD (15).
      const bytes cvr = sized(card.cvr, 5, {0xA0});
      const bytes counters = sized(card.counters, 8, {});
      if (cvr.size() != 5 || counters.size() != 8) return bad(0x9F10, "a CCD CVR is 5 bytes and its counters 8");
      iad = {0x0F, 0xA5, card.dki};
      iad.insert(iad.end(), cvr.begin(), cvr.end());
      iad.insert(iad.end(), counters.begin(), counters.end());
      iad.push_back(0x0F);
      iad.resize(32, 0x00);
      break;
    }
  }
  return iad;
}

result<bytes> generate_request_field55(const card_profile& card, const terminal_data& terminal,
                                       const key_source& keys) {
  auto amount = bcd(0x9F02, terminal.amount, 12);
  if (!amount) return amount.error();
  auto other = bcd(0x9F03, terminal.other_amount, 12);
  if (!other) return other.error();
  auto country = bcd(0x9F1A, terminal.country_code, 4);
  if (!country) return country.error();
  auto currency = bcd(0x5F2A, terminal.currency_code, 4);
  if (!currency) return currency.error();
  auto date = bcd_text(0x9A, terminal.date, 6);
  if (!date) return date.error();
  auto type = bcd_text(0x9C, terminal.transaction_type, 2);
  if (!type) return type.error();
  auto psn = bcd_text(0x5F34, card.psn, 2);
  if (!psn) return psn.error();
  if (terminal.tvr.size() != 5) return bad(0x95, "5 bytes");
  if (terminal.unpredictable_number.size() != 4) return bad(0x9F37, "4 bytes");
  if (terminal.terminal_capabilities.size() != 3) return bad(0x9F33, "3 bytes");
  if (terminal.cvm_results.size() != 3) return bad(0x9F34, "3 bytes");
  if (card.aip.size() != 2) return bad(0x82, "2 bytes");
  const bytes atc = {static_cast<std::uint8_t>(card.atc >> 8U), static_cast<std::uint8_t>(card.atc & 0xFFU)};
  auto iad = card_iad(card);
  if (!iad) return iad.error();

  // Book 2 8.1.1: the terminal data in order, then AIP, ATC and the version's IAD part.
  bytes term;
  for (const bytes* part : std::initializer_list<const bytes*>{&*amount, &*other, &*country, &terminal.tvr, &*currency,
                                                               &*date, &*type, &terminal.unpredictable_number}) {
    term.insert(term.end(), part->begin(), part->end());
  }
  auto data = detail::cryptogram_data(card.version, term, card.aip, atc, *iad);
  if (!data) return data.error();
  auto imk = card_key(card, keys);
  if (!imk) return imk.error();
  auto arqc = crypto::generate_arqc(hsm_cvn(card.version), imk->view(), card.pan, card.psn, atc, *data,
                                    terminal.unpredictable_number);
  if (!arqc) return detail::crypto_failure(arqc.error());

  bytes out;
  tlv_builder b(out);
  const std::uint8_t cid = 0x80;  // ARQC
  b.add(0x9F26, *arqc)
      .add(0x9F27, byte_view(&cid, 1))
      .add(0x9F10, *iad)
      .add(0x9F37, terminal.unpredictable_number)
      .add(0x9F36, atc)
      .add(0x95, terminal.tvr)
      .add(0x9A, *date)
      .add(0x9C, *type)
      .add(0x9F02, *amount)
      .add(0x5F2A, *currency)
      .add(0x82, card.aip)
      .add(0x9F1A, *country)
      .add(0x9F03, *other)
      .add(0x9F33, terminal.terminal_capabilities)
      .add(0x9F34, terminal.cvm_results)
      .add(0x9F35, *bcd(0x9F35, terminal.terminal_type % 100, 2));
  const bytes aid = card.aid.empty() ? default_aid(card.version) : card.aid;
  if (!aid.empty()) b.add(0x84, aid);
  b.add(0x5F34, *psn);
  if (card.include_card_data) {
    if (card.pan.size() < 12 || card.pan.size() > 19 || card.pan.find_first_not_of("0123456789") != std::string::npos) {
      return bad(0x5A, "a PAN is 12-19 digits");
    }
    auto expiry = bcd_text(0x5F24, card.expiry, 6);
    if (!expiry) return expiry.error();
    if (card.service_code.size() != 3 || card.service_code.find_first_not_of("0123456789") != std::string::npos) {
      return bad(0x57, "a service code is 3 digits");
    }
    b.add(0x5A, packed_digits(card.pan));
    b.add(0x5F24, *expiry);
    b.add(0x57, packed_digits(card.pan + "D" + card.expiry.substr(0, 4) + card.service_code + "00000"));
  }
  if (auto st = b.finish(); !st) return st;
  return out;
}

result<issuer_authentication> check_issuer_response(const card_profile& card, byte_view request_field55,
                                                    byte_view response_field55, const key_source& keys) {
  tlv_tree request;
  if (auto st = parse(request_field55, request); !st) return st;
  tlv_tree response;
  if (auto st = parse(response_field55, response); !st) return st;
  const auto arqc = request.value(0x9F26);
  const auto atc = request.value(0x9F36);
  const auto un = request.value(0x9F37);
  if (!arqc || !atc || !un)
    return status::failure(errc::missing_tag, !arqc ? 0x9F26U : !atc ? 0x9F36U : 0x9F37U, "in the request");
  const auto* iad91 = response.find_top(0x91);
  if (iad91 == nullptr) return status::failure(errc::missing_tag, 0x91, "no issuer authentication data");

  issuer_authentication out;
  response.for_each_top([&](const tlv_object& o) { out.scripts += (o.tag == 0x71 || o.tag == 0x72) ? 1 : 0; });
  auto imk = card_key(card, keys);
  if (!imk) return imk.error();
  const byte_view v = iad91->value;
  const int cvn = hsm_cvn(card.version);
  crypto::outcome<bytes> expected = crypto::errc::bad_input;
  byte_view got;
  if (arpc_method(card.version) == 1) {
    if (v.size() != 10) return bad(0x91, "ARPC method 1: 8-byte ARPC and 2-byte ARC expected");
    out.arc.assign(v.begin() + 8, v.end());
    got = v.first(8);
    expected = crypto::generate_arpc_method1(cvn, imk->view(), card.pan, card.psn, *atc, *arqc, out.arc, *un);
  } else {
    if (v.size() < 8 || v.size() > 16) return bad(0x91, "ARPC method 2: 4-byte ARPC, 4-byte CSU, up to 8 bytes more");
    out.csu.assign(v.begin() + 4, v.begin() + 8);
    got = v.first(4);
    expected = crypto::generate_arpc_method2(cvn, imk->view(), card.pan, card.psn, *atc, *arqc, out.csu, v.subspan(8));
  }
  if (!expected) return detail::crypto_failure(expected.error());
  out.valid = crypto::equal_ct(*expected, got);
  return out;
}

}  // namespace eft::emv
