#include "eft/emv/field55.hpp"

#include <array>
#include <string>

#include "eft/emv/dictionary.hpp"
#include "eft/iso8583/mask.hpp"
#include "eft/iso8583/message.hpp"
#include "eft/iso8583/track2.hpp"

namespace eft::emv {

namespace {

// Book 2 8.1.1 (recommended minimum set of data objects) with the cryptogram, CID and IAD.
constexpr std::array<tag_t, 13> emv_required = {0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95,  0x9A,
                                                0x9C,   0x9F02, 0x5F2A, 0x82,   0x9F1A, 0x9F03};
constexpr std::array<tag_t, 12> visa_required = {0x9F26, 0x9F10, 0x9F37, 0x9F36, 0x95,   0x9A,
                                                 0x9C,   0x9F02, 0x5F2A, 0x82,   0x9F1A, 0x9F03};
constexpr std::array<tag_t, 15> mastercard_required = {0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95,   0x9A,  0x9C,
                                                       0x9F02, 0x5F2A, 0x82,   0x9F1A, 0x9F03, 0x9F33, 0x9F34};

const field55_profile emv_profile{"emv", emv_required};
const field55_profile visa_profile{"visa", visa_required};
const field55_profile mastercard_profile{"mastercard", mastercard_required};

// Every object the dictionary knows must be well formed.
status check_known_values(const tlv_tree& field55) {
  for (const auto& o : field55) {
    if (const auto* info = find_tag(o.tag)) {
      if (auto st = check_value(*info, o.value); !st) {
        st.offset = o.offset;
        return st;
      }
    }
  }
  return {};
}

// Track 2 (equivalent) data split at its separator. Never leaves this file.
struct track2 {
  std::string pan;
  std::string expiry;
  std::string service_code;
};

// From the nibbles of tag 57 (Book 3 annex A1: PAN, separator 'D', YYMM, service code,
// discretionary data, 'F' padding to whole bytes).
std::optional<track2> track2_of_57(byte_view v) {
  std::string chars;
  chars.reserve(v.size() * 2);
  for (auto b : v) {
    for (unsigned nib : {static_cast<unsigned>(b >> 4U), static_cast<unsigned>(b & 0xFU)}) {
      if (nib <= 9) {
        chars += static_cast<char>('0' + nib);
      } else if (nib == 0xD) {
        chars += 'D';
      } else if (nib == 0xF) {
        chars += 'F';
      } else {
        return std::nullopt;
      }
    }
  }
  while (!chars.empty() && chars.back() == 'F') chars.pop_back();
  const auto sep = chars.find('D');
  if (sep == std::string::npos || sep == 0 || sep > 19 || chars.size() < sep + 8 ||
      chars.find_first_not_of("0123456789", sep + 1) != std::string::npos) {
    return std::nullopt;
  }
  return track2{chars.substr(0, sep), chars.substr(sep + 1, 4), chars.substr(sep + 5, 3)};
}

// From field 35 as the message holds it (iso8583::parse_track2).
std::optional<track2> track2_of_field35(std::string_view s) {
  const auto t = iso8583::parse_track2(s);
  if (!t) return std::nullopt;
  return track2{std::string(t->pan), std::string(t->expiry), std::string(t->service_code)};
}

status mismatch(tag_t tag, std::string what) {
  return status::failure(errc::mismatch, tag, std::move(what));
}

}  // namespace

const field55_profile& emv_request_profile() noexcept {
  return emv_profile;
}
const field55_profile& visa_request_profile() noexcept {
  return visa_profile;
}
const field55_profile& mastercard_request_profile() noexcept {
  return mastercard_profile;
}

const field55_profile* find_profile(std::string_view name) noexcept {
  for (const auto* p : {&emv_profile, &visa_profile, &mastercard_profile}) {
    if (p->name == name) return p;
  }
  return nullptr;
}

status check_request(const tlv_tree& field55, const field55_profile& profile) {
  for (tag_t tag : profile.required) {
    const std::size_t n = field55.count(tag);
    if (n == 0)
      return status::failure(errc::missing_tag, tag, "required by the " + std::string(profile.name) + " profile");
    if (n > 1) {
      auto st = status::failure(errc::repeated_tag, tag, std::to_string(n) + " times");
      return st;
    }
  }
  return check_known_values(field55);
}

status check_response(const tlv_tree& field55) {
  if (field55.count(0x91) > 1) return status::failure(errc::repeated_tag, 0x91, "one issuer authentication data");
  for (const auto& o : field55) {
    if ((o.tag == 0x71 || o.tag == 0x72) && !o.constructed) {
      return status::failure(errc::bad_value, o.tag, "an issuer script template is constructed");
    }
  }
  return check_known_values(field55);
}

result<std::string> pan_of_5a(byte_view value) {
  const auto* info = find_tag(0x5A);
  if (auto st = check_value(*info, value); !st) return st;
  std::string pan;
  for (auto b : value) {
    for (unsigned nib : {static_cast<unsigned>(b >> 4U), static_cast<unsigned>(b & 0xFU)}) {
      if (nib == 0xF) return pan;
      pan += static_cast<char>('0' + nib);
    }
  }
  return pan;
}

status check_card_data(const tlv_tree& field55, std::optional<std::string_view> field2,
                       std::optional<std::string_view> field35) {
  std::optional<std::string> pan5a;
  if (const auto v = field55.value(0x5A)) {
    auto pan = pan_of_5a(*v);
    if (!pan) return pan.error();
    pan5a = std::move(*pan);
  }
  std::optional<track2> t57;
  if (const auto v = field55.value(0x57)) {
    t57 = track2_of_57(*v);
    if (!t57) return status::failure(errc::bad_value, 0x57, "not track 2 equivalent data (PAN, D, YYMM, service code)");
  }
  if (pan5a && field2 && *pan5a != *field2) {
    return mismatch(0x5A, "PAN " + iso8583::mask_pan(*pan5a) + " differs from field 2 " + iso8583::mask_pan(*field2));
  }
  if (pan5a && t57 && *pan5a != t57->pan) {
    return mismatch(0x57, "PAN " + iso8583::mask_pan(t57->pan) + " differs from 5A " + iso8583::mask_pan(*pan5a));
  }
  if (t57 && field35) {
    const auto t35 = track2_of_field35(*field35);
    if (!t35) return mismatch(0x57, "field 35 is not track 2 data to compare with");
    if (t57->pan != t35->pan) {
      return mismatch(0x57,
                      "PAN " + iso8583::mask_pan(t57->pan) + " differs from field 35 " + iso8583::mask_pan(t35->pan));
    }
    if (t57->expiry != t35->expiry) return mismatch(0x57, "expiry date differs from field 35");
    if (t57->service_code != t35->service_code) return mismatch(0x57, "service code differs from field 35");
  }
  if (t57 && field2 && t57->pan != *field2) {
    return mismatch(0x57, "PAN " + iso8583::mask_pan(t57->pan) + " differs from field 2 " + iso8583::mask_pan(*field2));
  }
  return {};
}

status check_card_data(const tlv_tree& field55, const iso8583::message& msg) {
  return check_card_data(field55, msg.get(2), msg.get(35));
}

}  // namespace eft::emv
