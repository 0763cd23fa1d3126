#include "eft/emv/decode.hpp"

#include <array>
#include <span>

#include "eft/emv/dictionary.hpp"

namespace eft::emv {

namespace {

// One bit of a bit-mapped value: byte 1-based, bit 8 (leftmost) to 1 as the EMV books number them.
struct bit_entry {
  std::uint8_t byte;
  std::uint8_t bit;
  std::string_view text;
};

std::string hex(byte_view v) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(v.size() * 2);
  for (auto b : v) {
    s += digits[b >> 4U];
    s += digits[b & 0xFU];
  }
  return s;
}

std::string position(std::size_t byte, unsigned bit) {
  return "byte " + std::to_string(byte) + " bit " + std::to_string(bit) + ": ";
}

// Lines for the set bits of `v` found in `table`; set bits not in the table and not in `skip` (bits
// decoded as multi-bit fields by the caller, per byte) are reported as RFU.
decoded_lines set_bits(byte_view v, std::span<const bit_entry> table, std::span<const std::uint8_t> skip = {}) {
  decoded_lines out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    for (unsigned bit = 8; bit >= 1; --bit) {
      const auto mask = static_cast<std::uint8_t>(1U << (bit - 1));
      if ((v[i] & mask) == 0) continue;
      if (i < skip.size() && (skip[i] & mask) != 0) continue;
      std::string_view text = "RFU bit set";
      for (const auto& e : table) {
        if (e.byte == i + 1 && e.bit == bit) text = e.text;
      }
      out.push_back(position(i + 1, bit) + std::string(text));
    }
  }
  return out;
}

status length_error(tag_t tag, std::size_t got, std::size_t want) {
  return status::failure(errc::bad_value, tag,
                         "length " + std::to_string(got) + ", expected " + std::to_string(want) + " bytes");
}

// EMV 4.4 Book 3 annex C5.
constexpr bit_entry tvr_bits[] = {
    {1, 8, "Offline data authentication was not performed"},
    {1, 7, "SDA failed"},
    {1, 6, "ICC data missing"},
    {1, 5, "Card appears on terminal exception file"},
    {1, 4, "DDA failed"},
    {1, 3, "CDA failed"},
    {1, 2, "SDA selected (EMV 4.3; RFU in 4.4)"},
    {2, 8, "ICC and terminal have different application versions"},
    {2, 7, "Expired application"},
    {2, 6, "Application not yet effective"},
    {2, 5, "Requested service not allowed for card product"},
    {2, 4, "New card"},
    {3, 8, "Cardholder verification was not successful"},
    {3, 7, "Unrecognised CVM"},
    {3, 6, "PIN Try Limit exceeded"},
    {3, 5, "PIN entry required and PIN pad not present or not working"},
    {3, 4, "PIN entry required, PIN pad present, but PIN was not entered"},
    {3, 3, "Online PIN entered"},
    {4, 8, "Transaction exceeds floor limit"},
    {4, 7, "Lower consecutive offline limit exceeded"},
    {4, 6, "Upper consecutive offline limit exceeded"},
    {4, 5, "Transaction selected randomly for online processing"},
    {4, 4, "Merchant forced transaction online"},
    {5, 8, "Default TDOL used"},
    {5, 7, "Issuer authentication failed"},
    {5, 6, "Script processing failed before final GENERATE AC"},
    {5, 5, "Script processing failed after final GENERATE AC"},
    {5, 4, "Relay resistance threshold exceeded"},
    {5, 3, "Relay resistance time limits exceeded"},
};

// Book 3 annex C6.
constexpr bit_entry tsi_bits[] = {
    {1, 8, "Offline data authentication was performed"}, {1, 7, "Cardholder verification was performed"},
    {1, 6, "Card risk management was performed"},        {1, 5, "Issuer authentication was performed"},
    {1, 4, "Terminal risk management was performed"},    {1, 3, "Script processing was performed"},
};

// Book 3 annex C1; byte 2 as the contactless books (C-2) use it.
constexpr bit_entry aip_bits[] = {
    {1, 7, "SDA supported"},
    {1, 6, "DDA supported"},
    {1, 5, "Cardholder verification is supported"},
    {1, 4, "Terminal risk management is to be performed"},
    {1, 3, "Issuer authentication is supported"},
    {1, 2, "On device cardholder verification is supported (contactless)"},
    {1, 1, "CDA supported"},
    {2, 8, "Reserved for the EMV contactless specifications (Mastercard: EMV mode is supported)"},
    {2, 1, "Relay resistance protocol is supported (Mastercard contactless)"},
};

// Book 4 annex A2.
constexpr bit_entry capability_bits[] = {
    {1, 8, "card data input: Manual key entry"},
    {1, 7, "card data input: Magnetic stripe"},
    {1, 6, "card data input: IC with contacts"},
    {2, 8, "CVM: Plaintext PIN for ICC verification"},
    {2, 7, "CVM: Enciphered PIN for online verification"},
    {2, 6, "CVM: Signature (paper)"},
    {2, 5, "CVM: Enciphered PIN for offline verification"},
    {2, 4, "CVM: No CVM required"},
    {3, 8, "security: SDA"},
    {3, 7, "security: DDA"},
    {3, 6, "security: Card capture"},
    {3, 4, "security: CDA"},
};

// VIS 1.5 appendix A, Card Verification Results (byte 1 is the length 03).
constexpr bit_entry visa_cvr_bits[] = {
    {2, 4, "Issuer authentication performed and failed"},
    {2, 3, "Offline PIN verification performed"},
    {2, 2, "Offline PIN verification failed"},
    {2, 1, "Unable to go online"},
    {3, 8, "Last online transaction not completed"},
    {3, 7, "PIN Try Limit exceeded"},
    {3, 6, "Exceeded velocity checking counters"},
    {3, 5, "New card"},
    {3, 4, "Issuer authentication failure on last online transaction"},
    {3, 3, "Issuer authentication not performed after online authorisation"},
    {3, 2, "Application blocked by card because PIN Try Limit exceeded"},
    {3, 1, "Offline static data authentication failed on last transaction and transaction declined offline"},
    {4, 4, "Issuer script processing failed"},
    {4, 3, "Offline dynamic data authentication failed on last transaction and transaction declined offline"},
    {4, 2, "Offline dynamic data authentication performed"},
};

// M/Chip 4 Card Verification Results (M/Chip 4 issuer guide, IAD table A.30).
constexpr bit_entry mchip_cvr_bits[] = {
    {1, 3, "Offline PIN verification performed"},
    {1, 2, "Offline encrypted PIN verification performed"},
    {1, 1, "Offline PIN verification successful"},
    {2, 8, "DDA returned"},
    {2, 7, "Combined DDA/AC generation returned in first GENERATE AC"},
    {2, 6, "Combined DDA/AC generation returned in second GENERATE AC"},
    {2, 5, "Issuer authentication performed"},
    {2, 4, "CIAC-default skipped on CAT3"},
    {4, 8, "Last online transaction not completed"},
    {4, 7, "Unable to go online"},
    {4, 6, "Offline PIN verification not performed"},
    {4, 5, "Offline PIN verification failed"},
    {4, 4, "PIN Try Limit exceeded"},
    {4, 3, "International transaction"},
    {4, 2, "Domestic transaction"},
    {4, 1, "Terminal erroneously considers offline PIN OK"},
    {5, 8, "Lower consecutive offline limit exceeded"},
    {5, 7, "Upper consecutive offline limit exceeded"},
    {5, 6, "Lower cumulative offline limit exceeded"},
    {5, 5, "Upper cumulative offline limit exceeded"},
    {5, 4, "Go online on next transaction was set"},
    {5, 3, "Issuer authentication failed"},
    {5, 2, "Script received"},
    {5, 1, "Script failed"},
    {6, 2, "Match found in additional check table"},
    {6, 1, "No match found in additional check table"},
};

// EMV Book 3 annex C7.3, common core CVR (5 bytes).
constexpr bit_entry ccd_cvr_bits[] = {
    {1, 4, "CDA performed"},
    {1, 3, "Offline DDA performed"},
    {1, 2, "Issuer authentication not performed"},
    {1, 1, "Issuer authentication failed"},
    {2, 4, "Offline PIN verification performed"},
    {2, 3, "Offline PIN verification performed and PIN not successfully verified"},
    {2, 2, "PIN Try Limit exceeded"},
    {2, 1, "Last online transaction not completed"},
    {3, 8, "Lower offline transaction count limit exceeded"},
    {3, 7, "Upper offline transaction count limit exceeded"},
    {3, 6, "Lower cumulative offline amount limit exceeded"},
    {3, 5, "Upper cumulative offline amount limit exceeded"},
    {3, 4, "Issuer-discretionary bit 1"},
    {3, 3, "Issuer-discretionary bit 2"},
    {3, 2, "Issuer-discretionary bit 3"},
    {3, 1, "Issuer-discretionary bit 4"},
    {4, 4, "Issuer script processing failed on last transaction"},
    {4, 3, "Offline data authentication failed on previous transaction"},
    {4, 2, "Go online on next transaction was set"},
    {4, 1, "Unable to go online"},
};

std::string_view first_ac(unsigned v) {
  switch (v) {
    case 0:
      return "AAC";
    case 1:
      return "TC";
    case 2:
      return "ARQC";
    default:
      return "RFU";
  }
}
std::string_view second_ac(unsigned v) {
  switch (v) {
    case 0:
      return "AAC";
    case 1:
      return "TC";
    case 2:
      return "second GENERATE AC not requested";
    default:
      return "RFU";
  }
}

// The two AC-type fields the Visa, M/Chip and CCD CVRs share (bits 8-7 and 6-5 of one byte).
void ac_types(decoded_lines& out, std::size_t byte, std::uint8_t v) {
  out.push_back("byte " + std::to_string(byte) +
                " bits 8-7: AC returned in second GENERATE AC: " + std::string(second_ac(v >> 6U)));
  out.push_back("byte " + std::to_string(byte) +
                " bits 6-5: AC returned in first GENERATE AC: " + std::string(first_ac((v >> 4U) & 3U)));
}

void append(decoded_lines& out, decoded_lines more) {
  for (auto& l : more) out.push_back(std::move(l));
}

std::string digits_of(byte_view v) {
  std::string s = hex(v);
  return s;
}

// Value of BCD digits (format n) or nothing when a nibble is not a digit.
std::optional<std::uint64_t> bcd_value(byte_view v) {
  std::uint64_t n = 0;
  for (auto b : v) {
    if ((b >> 4U) > 9 || (b & 0xFU) > 9) return std::nullopt;
    n = n * 100 + static_cast<std::uint64_t>((b >> 4U) * 10U + (b & 0xFU));
  }
  return n;
}

}  // namespace

std::string_view scheme_name(card_scheme s) noexcept {
  switch (s) {
    case card_scheme::visa:
      return "Visa";
    case card_scheme::mastercard:
      return "Mastercard";
    case card_scheme::ccd:
      return "EMV CCD";
    case card_scheme::unknown:
      break;
  }
  return "unknown";
}

card_scheme scheme_of_aid(byte_view aid) noexcept {
  static constexpr std::array<std::uint8_t, 4> rid_prefix = {0xA0, 0x00, 0x00, 0x00};
  if (aid.size() < 5 || !std::equal(rid_prefix.begin(), rid_prefix.end(), aid.begin())) return card_scheme::unknown;
  if (aid[4] == 0x03) return card_scheme::visa;
  if (aid[4] == 0x04) return card_scheme::mastercard;
  return card_scheme::unknown;
}

card_scheme scheme_of(const tlv_tree& field55) noexcept {
  for (tag_t t : {tag_t{0x9F06}, tag_t{0x84}, tag_t{0x4F}}) {
    if (const auto v = field55.value(t)) return scheme_of_aid(*v);
  }
  return card_scheme::unknown;
}

result<decoded_lines> decode_tvr(byte_view tvr) {
  if (tvr.size() != 5) return length_error(0x95, tvr.size(), 5);
  static constexpr std::array<std::uint8_t, 5> skip = {0, 0, 0, 0, 0x03};
  auto out = set_bits(tvr, tvr_bits, skip);
  switch (tvr[4] & 0x03U) {
    case 1:
      out.emplace_back("byte 5 bits 2-1: Relay resistance protocol not performed");
      break;
    case 2:
      out.emplace_back("byte 5 bits 2-1: Relay resistance protocol performed");
      break;
    case 3:
      out.emplace_back("byte 5 bits 2-1: RFU value 11");
      break;
    default:  // 00: relay resistance not supported, nothing to say
      break;
  }
  return out;
}

result<decoded_lines> decode_tsi(byte_view tsi) {
  if (tsi.size() != 2) return length_error(0x9B, tsi.size(), 2);
  return set_bits(tsi, tsi_bits);
}

result<decoded_lines> decode_aip(byte_view aip) {
  if (aip.size() != 2) return length_error(0x82, aip.size(), 2);
  return set_bits(aip, aip_bits);
}

result<decoded_lines> decode_terminal_capabilities(byte_view caps) {
  if (caps.size() != 3) return length_error(0x9F33, caps.size(), 3);
  return set_bits(caps, capability_bits);
}

result<cvm_results> decode_cvm_results(byte_view value) {
  if (value.size() != 3) return length_error(0x9F34, value.size(), 3);
  cvm_results r;
  r.method = value[0] & 0x3FU;
  r.apply_next_if_failed = (value[0] & 0x40U) != 0;
  r.condition = value[1];
  r.result = value[2];
  // Book 3 C3, table 39 (CVM codes).
  switch (r.method) {
    case 0x00:
      r.method_name = "Fail CVM processing";
      break;
    case 0x01:
      r.method_name = "Plaintext PIN verification performed by ICC";
      break;
    case 0x02:
      r.method_name = "Enciphered PIN verified online";
      break;
    case 0x03:
      r.method_name = "Plaintext PIN verification performed by ICC and signature (paper)";
      break;
    case 0x04:
      r.method_name = "Enciphered PIN verification performed by ICC";
      break;
    case 0x05:
      r.method_name = "Enciphered PIN verification performed by ICC and signature (paper)";
      break;
    case 0x1E:
      r.method_name = "Signature (paper)";
      break;
    case 0x1F:
      r.method_name = "No CVM required";
      break;
    case 0x3F:
      r.method_name = "No CVM performed";
      break;
    default:
      r.method_name = (r.method >= 0x20 && r.method <= 0x2F) ? "Reserved for use by the individual payment systems"
                      : (r.method >= 0x30)                   ? "Reserved for use by the issuer"
                                                             : "RFU";
      break;
  }
  // Book 3 C3, table 40 (CVM condition codes).
  static constexpr std::array<std::string_view, 10> conditions = {
      "Always",
      "If unattended cash",
      "If not unattended cash and not manual cash and not purchase with cashback",
      "If terminal supports the CVM",
      "If manual cash",
      "If purchase with cashback",
      "If transaction is in the application currency and is under X value",
      "If transaction is in the application currency and is over X value",
      "If transaction is in the application currency and is under Y value",
      "If transaction is in the application currency and is over Y value",
  };
  r.condition_name = r.condition < conditions.size() ? conditions[r.condition]
                     : r.condition >= 0x80           ? "Reserved for use by individual payment systems"
                                                     : "RFU";
  // Book 4 A4.
  r.result_name = r.result == 0 ? "Unknown" : r.result == 1 ? "Failed" : r.result == 2 ? "Successful" : "RFU";
  return r;
}

cryptogram_info decode_cid(std::uint8_t cid) noexcept {
  cryptogram_info c;
  switch (cid >> 6U) {
    case 0:
      c.type = cryptogram_type::aac;
      c.type_name = "AAC (transaction declined)";
      break;
    case 1:
      c.type = cryptogram_type::tc;
      c.type_name = "TC (transaction approved)";
      break;
    case 2:
      c.type = cryptogram_type::arqc;
      c.type_name = "ARQC (online authorisation requested)";
      break;
    default:
      c.type = cryptogram_type::rfu;
      c.type_name = "RFU";
      break;
  }
  c.payment_system_bits = static_cast<std::uint8_t>((cid >> 4U) & 3U);
  c.advice_required = (cid & 0x08U) != 0;
  c.reason = cid & 0x07U;
  switch (c.reason) {
    case 0:
      c.reason_name = "No information given";
      break;
    case 1:
      c.reason_name = "Service not allowed";
      break;
    case 2:
      c.reason_name = "PIN Try Limit exceeded";
      break;
    case 3:
      c.reason_name = "Issuer authentication failed";
      break;
    default:
      c.reason_name = "RFU";
      break;
  }
  return c;
}

result<cryptogram_info> decode_cid(byte_view value) {
  if (value.size() != 1) return length_error(0x9F27, value.size(), 1);
  return decode_cid(value[0]);
}

result<iad_info> decode_iad(byte_view iad, card_scheme scheme) {
  const auto too_short = [&](std::string_view layout, std::size_t need) {
    return status::failure(
        errc::bad_value, 0x9F10,
        std::string(layout) + " needs at least " + std::to_string(need) + " bytes, got " + std::to_string(iad.size()));
  };
  const auto visa_like = [&]() { return iad.size() >= 1 && (iad[0] == 0x06 || iad[0] == 0x1F); };
  const auto ccd_like = [&]() { return iad.size() >= 2 && iad[0] == 0x0F && (iad[1] >> 4U) == 0xA; };
  const auto mchip_like = [&]() {
    return iad.size() >= 18 && (iad[1] == 0x10 || iad[1] == 0x11 || iad[1] == 0x14 || iad[1] == 0x15);
  };
  if (scheme == card_scheme::unknown) {
    scheme = ccd_like()     ? card_scheme::ccd
             : visa_like()  ? card_scheme::visa
             : mchip_like() ? card_scheme::mastercard
                            : card_scheme::unknown;
  } else if (scheme != card_scheme::ccd && ccd_like() && !(scheme == card_scheme::mastercard && mchip_like())) {
    scheme = card_scheme::ccd;  // CCD cards exist under every RID
  }

  iad_info r;
  r.scheme = scheme;
  switch (scheme) {
    case card_scheme::visa:
      if (!iad.empty() && iad[0] == 0x1F) {
        // VIS 1.6 format 2: length 1F, CVN, DKI, CVR (5), IDD (option id first).
        r.layout = "Visa format 2";
        if (iad.size() < 8) return too_short(r.layout, 8);
        r.cvn_byte = iad[1];
        r.dki = iad[2];
        r.cvr = iad.subspan(3, 5);
        r.issuer_discretionary = iad.subspan(8);
        if (r.cvn_byte == 0x22) r.cvn = 22;
      } else {
        // VIS formats 0/1/3: length 06, DKI, CVN, CVR (4, its own length byte first), optional IDD
        // length and IDD.
        r.layout = "Visa format 0/1/3";
        if (iad.size() < 7) return too_short(r.layout, 7);
        r.dki = iad[1];
        r.cvn_byte = iad[2];
        r.cvr = iad.subspan(3, 4);
        if (iad.size() > 7) {
          const std::size_t idd_length = iad[7];
          const std::size_t available = iad.size() - 8;
          r.issuer_discretionary = iad.subspan(8, std::min(idd_length, available));
          r.rest = iad.subspan(8 + r.issuer_discretionary.size());
        }
        if (r.cvn_byte == 0x0A) r.cvn = 10;
        if (r.cvn_byte == 0x12) r.cvn = 18;
      }
      return r;
    case card_scheme::mastercard:
      // M/Chip 4 and Advance: KDI, CVN, CVR (6), DAC/IDN (2), counters (8), then Advance additions.
      r.layout = "M/Chip";
      if (iad.size() < 18) return too_short(r.layout, 18);
      r.dki = iad[0];
      r.cvn_byte = iad[1];
      r.cvr = iad.subspan(2, 6);
      r.dac = iad.subspan(8, 2);
      r.counters = iad.subspan(10, 8);
      r.rest = iad.subspan(18);
      switch (r.cvn_byte) {
        case 0x10:
          r.cvn = 16;
          break;
        case 0x11:
          r.cvn = 17;
          break;
        case 0x14:
          r.cvn = 20;
          break;
        case 0x15:
          r.cvn = 21;
          break;
        default:
          break;
      }
      return r;
    case card_scheme::ccd:
      // Book 3 C7.2 format A: length 0F, CCI, DKI, CVR (5), counters (8), length 0F, IDD (15).
      r.layout = "EMV CCD format A";
      if (iad.size() < 16) return too_short(r.layout, 16);
      r.cvn_byte = iad[1];
      r.dki = iad[2];
      r.cvr = iad.subspan(3, 5);
      r.counters = iad.subspan(8, 8);
      if (iad.size() > 16) {
        const std::size_t idd_length = iad[16];
        r.issuer_discretionary = iad.subspan(17, std::min<std::size_t>(idd_length, iad.size() - 17));
        r.rest = iad.subspan(17 + r.issuer_discretionary.size());
      }
      return r;
    case card_scheme::unknown:
      break;
  }
  return status::failure(errc::unsupported, 0x9F10, "issuer application data of an unknown layout");
}

decoded_lines decode_cvr(const iad_info& iad) {
  decoded_lines out;
  const byte_view cvr = iad.cvr;
  if (iad.layout == "Visa format 0/1/3" && cvr.size() == 4) {
    out.push_back("byte 1: CVR length " + std::to_string(cvr[0]));
    ac_types(out, 2, cvr[1]);
    static constexpr std::array<std::uint8_t, 4> skip = {0xFF, 0xF0, 0x00, 0xF0};
    append(out, set_bits(cvr, visa_cvr_bits, skip));
    out.push_back("byte 4 bits 8-5: issuer script commands processed on last transaction: " +
                  std::to_string(cvr[3] >> 4U));
  } else if (iad.layout == "M/Chip" && cvr.size() == 6) {
    ac_types(out, 1, cvr[0]);
    static constexpr std::array<std::uint8_t, 6> skip = {0xF0, 0x00, 0xFF, 0x00, 0x00, 0x00};
    append(out, set_bits(cvr, mchip_cvr_bits, skip));
    out.push_back("byte 3 bits 8-5: right nibble of the script counter: " + std::to_string(cvr[2] >> 4U));
    out.push_back("byte 3 bits 4-1: right nibble of the PIN try counter: " + std::to_string(cvr[2] & 0xFU));
  } else if (iad.layout == "EMV CCD format A" && cvr.size() == 5) {
    ac_types(out, 1, cvr[0]);
    static constexpr std::array<std::uint8_t, 5> skip = {0xF0, 0xF0, 0x00, 0xF0, 0x00};
    append(out, set_bits(cvr, ccd_cvr_bits, skip));
    out.push_back("byte 2 bits 8-5: low nibble of the PIN try counter: " + std::to_string(cvr[1] >> 4U));
    out.push_back("byte 4 bits 8-5: secured issuer script commands processed on last transaction: " +
                  std::to_string(cvr[3] >> 4U));
  } else if (!cvr.empty()) {
    out.push_back("CVR " + hex(cvr));
  }
  return out;
}

decoded_lines describe(tag_t tag, byte_view value, card_scheme scheme) {
  const auto* info = find_tag(tag);
  if (info != nullptr && info->sensitivity != tag_sensitivity::none) return {};
  const auto lines_or_error = [](result<decoded_lines> r) {
    return r ? std::move(*r) : decoded_lines{r.error().message()};
  };
  switch (tag) {
    case 0x95:
      return lines_or_error(decode_tvr(value));
    case 0x9B:
      return lines_or_error(decode_tsi(value));
    case 0x82:
      return lines_or_error(decode_aip(value));
    case 0x9F33:
      return lines_or_error(decode_terminal_capabilities(value));
    case 0x9F34: {
      const auto r = decode_cvm_results(value);
      if (!r) return {r.error().message()};
      return {"CVM performed: " + std::string(r->method_name) +
                  (r->apply_next_if_failed ? " (apply next rule if failed)" : ""),
              "condition: " + std::string(r->condition_name), "result: " + std::string(r->result_name)};
    }
    case 0x9F27: {
      const auto r = decode_cid(value);
      if (!r) return {r.error().message()};
      decoded_lines out = {std::string(r->type_name)};
      if (r->payment_system_bits != 0) {
        out.push_back("payment system-specific cryptogram bits " + std::to_string(r->payment_system_bits));
      }
      out.push_back(r->advice_required ? "advice required" : "no advice required");
      out.push_back("reason: " + std::string(r->reason_name));
      return out;
    }
    case 0x9F10: {
      const auto r = decode_iad(value, scheme);
      if (!r) return {r.error().message()};
      decoded_lines out = {std::string(scheme_name(r->scheme)) + ", " + std::string(r->layout)};
      if (r->dki) out.push_back("derivation key index " + hex(byte_view(&*r->dki, 1)));
      out.push_back("cryptogram version number " + hex(byte_view(&r->cvn_byte, 1)) +
                    (r->cvn                                                   ? " (CVN " + std::to_string(*r->cvn) + ")"
                     : r->layout == "EMV CCD format A" && r->cvn_byte == 0xA5 ? " (EMV common session key, CCD CVN 5)"
                                                                              : " (not supported for ARQC checks)"));
      out.push_back("card verification results " + hex(r->cvr));
      for (auto& l : decode_cvr(*r)) out.push_back("  " + l);
      if (!r->dac.empty()) out.push_back("DAC / ICC dynamic number " + hex(r->dac));
      if (!r->counters.empty()) out.push_back("counters " + hex(r->counters));
      if (!r->issuer_discretionary.empty()) out.push_back("issuer discretionary data " + hex(r->issuer_discretionary));
      if (!r->rest.empty()) out.push_back("further data " + hex(r->rest));
      return out;
    }
    case 0x9A:
    case 0x5F24:
    case 0x5F25:
      if (value.size() == 3 && bcd_value(value)) {
        const std::string d = digits_of(value);
        return {"20" + d.substr(0, 2) + "-" + d.substr(2, 2) + "-" + d.substr(4, 2)};
      }
      break;
    case 0x9F21:
      if (value.size() == 3 && bcd_value(value)) {
        const std::string d = digits_of(value);
        return {d.substr(0, 2) + ":" + d.substr(2, 2) + ":" + d.substr(4, 2)};
      }
      break;
    case 0x9F02:
    case 0x9F03:
      if (const auto v = bcd_value(value)) return {"amount " + std::to_string(*v) + " (minor units)"};
      break;
    case 0x5F2A:
    case 0x9F42:
      if (value.size() == 2 && bcd_value(value)) return {"currency " + digits_of(value).substr(1)};
      break;
    case 0x9F1A:
    case 0x5F28:
      if (value.size() == 2 && bcd_value(value)) return {"country " + digits_of(value).substr(1)};
      break;
    case 0x9C:
      if (value.size() == 1) {
        const std::string d = digits_of(value);
        std::string_view what = d == "00"   ? "goods and services"
                                : d == "01" ? "cash"
                                : d == "09" ? "goods with cash back"
                                : d == "20" ? "refund"
                                : d == "30" ? "available funds inquiry"
                                : d == "31" ? "balance inquiry"
                                            : "";
        if (!what.empty()) return {"transaction type " + d + ": " + std::string(what)};
      }
      break;
    default:
      break;
  }
  if (info != nullptr && (info->format == tag_format::an || info->format == tag_format::ans) &&
      check_value(*info, value)) {
    return {"\"" + std::string(value.begin(), value.end()) + "\""};
  }
  return {};
}

}  // namespace eft::emv
