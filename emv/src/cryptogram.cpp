#include "eft/emv/cryptogram.hpp"

#include <array>

#include "eft/emv/dictionary.hpp"
#include "internal.hpp"

namespace eft::emv {

namespace detail {

card_scheme iad_scheme(cryptogram_version v) noexcept {
  switch (v) {
    case cryptogram_version::visa_10:
    case cryptogram_version::visa_18:
    case cryptogram_version::visa_22:
      return card_scheme::visa;
    case cryptogram_version::mastercard_16:
    case cryptogram_version::mastercard_17:
    case cryptogram_version::mastercard_20:
    case cryptogram_version::mastercard_21:
      return card_scheme::mastercard;
    case cryptogram_version::emv_csk:
      return card_scheme::ccd;
  }
  return card_scheme::unknown;
}

status crypto_failure(const crypto::failure& f) {
  return status::failure(errc::crypto, 0, f.message());
}

result<bytes> cryptogram_data(cryptogram_version v, byte_view terminal, byte_view aip, byte_view atc, byte_view iad) {
  const auto split = decode_iad(iad, iad_scheme(v));
  if (!split) return split.error();
  const auto layout_error = [&](std::string_view needs) {
    return status::failure(
        errc::unsupported, 0x9F10,
        std::string(version_name(v)) + " needs " + std::string(needs) + ", the IAD is " + std::string(split->layout));
  };
  bytes data(terminal.begin(), terminal.end());
  data.insert(data.end(), aip.begin(), aip.end());
  data.insert(data.end(), atc.begin(), atc.end());
  switch (v) {
    case cryptogram_version::visa_10:
      if (split->layout != "Visa format 0/1/3") return layout_error("an IAD of format 0/1/3");
      data.insert(data.end(), split->cvr.begin(), split->cvr.end());
      break;
    case cryptogram_version::visa_18:
    case cryptogram_version::visa_22:
    case cryptogram_version::emv_csk:
      data.insert(data.end(), iad.begin(), iad.end());
      break;
    case cryptogram_version::mastercard_16:
    case cryptogram_version::mastercard_20:
      data.insert(data.end(), split->cvr.begin(), split->cvr.end());
      break;
    case cryptogram_version::mastercard_17:
    case cryptogram_version::mastercard_21:
      data.insert(data.end(), split->cvr.begin(), split->cvr.end());
      data.insert(data.end(), split->counters.begin(), split->counters.end());
      break;
  }
  return data;
}

}  // namespace detail

namespace {

status wrong_length(tag_t tag, std::size_t got, std::size_t want) {
  return status::failure(errc::bad_value, tag,
                         "length " + std::to_string(got) + ", expected " + std::to_string(want) + " bytes");
}

// The one value of a tag the cryptogram needs, of an exact length.
result<byte_view> required(const tlv_tree& f55, tag_t tag, std::size_t length) {
  const auto* o = f55.find(tag);
  if (o == nullptr) return status::failure(errc::missing_tag, tag, "needed for the cryptogram");
  if (f55.count(tag) > 1) return status::failure(errc::repeated_tag, tag, "the cryptogram input would be ambiguous");
  if (o->value.size() != length) return wrong_length(tag, o->value.size(), length);
  return o->value;
}

}  // namespace

std::string_view version_name(cryptogram_version v) noexcept {
  switch (v) {
    case cryptogram_version::visa_10:
      return "Visa CVN 10";
    case cryptogram_version::visa_18:
      return "Visa CVN 18";
    case cryptogram_version::visa_22:
      return "Visa CVN 22";
    case cryptogram_version::mastercard_16:
      return "Mastercard CVN 16";
    case cryptogram_version::mastercard_17:
      return "Mastercard CVN 17";
    case cryptogram_version::mastercard_20:
      return "Mastercard CVN 20";
    case cryptogram_version::mastercard_21:
      return "Mastercard CVN 21";
    case cryptogram_version::emv_csk:
      return "EMV CSK (CCD CVN 5)";
  }
  return "unknown";
}

int hsm_cvn(cryptogram_version v) noexcept {
  switch (v) {
    case cryptogram_version::visa_10:
      return 10;
    case cryptogram_version::visa_18:
    case cryptogram_version::emv_csk:
      return 18;
    case cryptogram_version::visa_22:
      return 22;
    case cryptogram_version::mastercard_16:
      return 16;
    case cryptogram_version::mastercard_17:
      return 17;
    case cryptogram_version::mastercard_20:
      return 20;
    case cryptogram_version::mastercard_21:
      return 21;
  }
  return 0;
}

int arpc_method(cryptogram_version v) noexcept {
  switch (v) {
    case cryptogram_version::visa_18:
    case cryptogram_version::visa_22:
    case cryptogram_version::emv_csk:
      return 2;
    default:
      return 1;
  }
}

card_scheme scheme_of(cryptogram_version v) noexcept {
  return detail::iad_scheme(v);
}

result<cryptogram_version> detect_version(const tlv_tree& field55) {
  const auto iad = field55.value(0x9F10);
  if (!iad) return status::failure(errc::missing_tag, 0x9F10, "the cryptogram version is read from it");
  const auto split = decode_iad(*iad, scheme_of(field55));
  if (!split) return split.error();
  if (split->layout == "EMV CCD format A" && split->cvn_byte == 0xA5) return cryptogram_version::emv_csk;
  if (split->cvn) {
    switch (*split->cvn) {
      case 10:
        return cryptogram_version::visa_10;
      case 18:
        return cryptogram_version::visa_18;
      case 22:
        return cryptogram_version::visa_22;
      case 16:
        return cryptogram_version::mastercard_16;
      case 17:
        return cryptogram_version::mastercard_17;
      case 20:
        return cryptogram_version::mastercard_20;
      case 21:
        return cryptogram_version::mastercard_21;
      default:
        break;
    }
  }
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string cvn = {digits[split->cvn_byte >> 4U], digits[split->cvn_byte & 0xFU]};
  return status::failure(errc::unsupported, 0x9F10,
                         "cryptogram version " + cvn + " of " + std::string(split->layout) +
                             " (Visa 10, 18, 22; Mastercard 16, 17, 20, 21; CCD A5)");
}

result<arqc_input> assemble_arqc_input(const tlv_tree& field55, cryptogram_version version) {
  bytes terminal;
  terminal.reserve(29);
  for (const auto& item : detail::terminal_items) {
    if (item.tag == 0x9F03 && field55.find(0x9F03) == nullptr) {
      terminal.insert(terminal.end(), 6, 0);  // no amount other: the card read zeros
      continue;
    }
    auto v = required(field55, item.tag, item.length);
    if (!v) return v.error();
    terminal.insert(terminal.end(), v->begin(), v->end());
  }
  auto aip = required(field55, 0x82, 2);
  if (!aip) return aip.error();
  auto atc = required(field55, 0x9F36, 2);
  if (!atc) return atc.error();
  auto arqc = required(field55, 0x9F26, 8);
  if (!arqc) return arqc.error();
  const auto* iad = field55.find(0x9F10);
  if (iad == nullptr) return status::failure(errc::missing_tag, 0x9F10, "needed for the cryptogram");
  if (field55.count(0x9F10) > 1)
    return status::failure(errc::repeated_tag, 0x9F10, "the cryptogram input would be ambiguous");

  auto data = detail::cryptogram_data(version, terminal, *aip, *atc, iad->value);
  if (!data) return data.error();
  arqc_input in;
  in.version = version;
  in.data = std::move(*data);
  in.atc.assign(atc->begin(), atc->end());
  const auto un = field55.value(0x9F37);
  in.un.assign(un->begin(), un->end());
  in.arqc.assign(arqc->begin(), arqc->end());
  return in;
}

result<arqc_input> assemble_arqc_input(const tlv_tree& field55) {
  const auto v = detect_version(field55);
  if (!v) return v.error();
  return assemble_arqc_input(field55, *v);
}

bytes visa_csu(bool approved) {
  return {0x00, static_cast<std::uint8_t>(approved ? 0x80 : 0x00), 0x00, 0x00};
}

std::string psn_of(const tlv_tree& field55, std::optional<std::string_view> field23) {
  if (const auto v = field55.value(0x5F34); v && v->size() == 1 && (*v)[0] <= 0x99 && ((*v)[0] & 0xFU) <= 9) {
    return {static_cast<char>('0' + ((*v)[0] >> 4U)), static_cast<char>('0' + ((*v)[0] & 0xFU))};
  }
  if (field23 && field23->size() >= 2) {
    const auto last2 = field23->substr(field23->size() - 2);
    if (last2[0] >= '0' && last2[0] <= '9' && last2[1] >= '0' && last2[1] <= '9') return std::string(last2);
  }
  return "00";
}

result<bytes> build_response_field55(byte_view arpc, int method, const issuer_response& response) {
  bytes out;
  if (!arpc.empty()) {
    bytes iad91(arpc.begin(), arpc.end());
    if (method == 1) {
      if (arpc.size() != 8) return wrong_length(0x91, arpc.size(), 8);
      if (response.arc.size() != 2) {
        return status::failure(errc::bad_value, 0x91, "ARPC method 1 needs a 2-byte authorisation response code");
      }
      iad91.insert(iad91.end(), response.arc.begin(), response.arc.end());
    } else if (method == 2) {
      if (arpc.size() != 4) return wrong_length(0x91, arpc.size(), 4);
      if (response.csu.size() != 4 || response.proprietary_auth_data.size() > 8) {
        return status::failure(errc::bad_value, 0x91,
                               "ARPC method 2 needs a 4-byte CSU and at most 8 bytes of proprietary data");
      }
      iad91.insert(iad91.end(), response.csu.begin(), response.csu.end());
      iad91.insert(iad91.end(), response.proprietary_auth_data.begin(), response.proprietary_auth_data.end());
    } else {
      return status::failure(errc::unsupported, 0x91, "ARPC method " + std::to_string(method));
    }
    if (auto st = append_tlv(out, 0x91, iad91); !st) return st;
  }
  if (!response.issuer_scripts.empty()) {
    tlv_tree scripts;
    if (auto st = parse(response.issuer_scripts, scripts); !st) {
      st.detail = "in the issuer scripts";
      return st;
    }
    bool only_scripts = true;
    scripts.for_each_top([&](const tlv_object& o) { only_scripts = only_scripts && (o.tag == 0x71 || o.tag == 0x72); });
    if (!only_scripts) {
      return status::failure(errc::bad_value, 0, "issuer scripts must be 71 or 72 templates");
    }
    out.insert(out.end(), response.issuer_scripts.begin(), response.issuer_scripts.end());
  }
  return out;
}

result<arqc_verification> verify_and_respond(crypto::hsm& hsm, std::string_view imk_key, byte_view request_field55,
                                             std::string_view pan, std::string_view psn,
                                             const issuer_response& response,
                                             std::optional<cryptogram_version> version) {
  tlv_tree f55;
  if (auto st = parse(request_field55, f55); !st) return st;
  auto in = version ? assemble_arqc_input(f55, *version) : assemble_arqc_input(f55);
  if (!in) return in.error();

  crypto::arqc_check check;
  check.imk = std::string(imk_key);
  check.cvn = hsm_cvn(in->version);
  check.pan = std::string(pan);
  check.psn = std::string(psn);
  check.atc = in->atc;
  check.data = std::move(in->data);
  check.un = in->un;
  check.arqc = in->arqc;
  const int method = arpc_method(in->version);
  if (method == 1) {
    if (response.arc.size() != 2) {
      return status::failure(errc::bad_value, 0x91, "ARPC method 1 needs a 2-byte authorisation response code");
    }
    check.arc = response.arc;
  } else {
    if (response.csu.size() != 4) return status::failure(errc::bad_value, 0x91, "ARPC method 2 needs a 4-byte CSU");
    check.csu = response.csu;
    check.proprietary_auth_data = response.proprietary_auth_data;
  }
  auto checked = hsm.verify_arqc(check);
  if (!checked) return detail::crypto_failure(checked.error());

  arqc_verification out;
  out.valid = checked->valid;
  out.version = in->version;
  if (out.valid) out.arpc = std::move(checked->arpc);
  auto f55out = build_response_field55(out.arpc, method, response);
  if (!f55out) return f55out.error();
  out.response_field55 = std::move(*f55out);
  return out;
}

}  // namespace eft::emv
